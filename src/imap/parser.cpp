// Incremental IMAP response parser (RFC 3501 §7, §9 formal syntax).
//
// Two stages. Framing (in feed()) finds where each response ends: lines end in LF (CRLF on the
// wire; a bare LF is tolerated), and a line ending in "{n}", "{n+}" or "~{n}" is followed by n
// literal bytes that are skipped without looking at them (RFC 3501 §4.3), after which the
// response continues. Framing keeps its position between feeds, so every byte is examined once.
// Tokenising (in next()) then runs over one complete frame, where literal lengths are known.
#include <algorithm>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "crm/core/utf8.hpp"
#include "crm/imap/protocol.hpp"

namespace crm::imap {

Error protocol_error(std::string detail) {
    return Error{"imap.protocol", std::move(detail), ErrorScope::Account, Retry::Backoff};
}

// ---- Value / Response -------------------------------------------------------------------

Value Value::atom(std::string text) {
    Value v;
    v.kind = Kind::Atom;
    v.bytes = std::move(text);
    return v;
}

Value Value::num(std::uint64_t n) {
    Value v;
    v.kind = Kind::Number;
    v.number = n;
    return v;
}

Value Value::string(std::string bytes_in, bool is_literal) {
    Value v;
    v.kind = Kind::String;
    v.bytes = std::move(bytes_in);
    v.literal = is_literal;
    return v;
}

Value Value::make_list(std::vector<Value> items) {
    Value v;
    v.kind = Kind::List;
    v.list = std::move(items);
    return v;
}

std::optional<std::string_view> Value::as_text() const {
    if (kind == Kind::Atom || kind == Kind::String)
        return std::string_view(bytes);
    return std::nullopt;
}

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal without overflow; nullopt when empty, non-digit or > UINT64_MAX.
std::optional<std::uint64_t> to_u64(std::string_view s) {
    if (!all_digits(s))
        return std::nullopt;
    std::uint64_t n = 0;
    for (char c : s) {
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n > (UINT64_MAX - d) / 10)
            return std::nullopt;
        n = n * 10 + d;
    }
    return n;
}

void escape_into(std::string& out, std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f && c != '\\')
            out += c;
        else if (c == '\\')
            out += "\\\\";
        else
            out += fmt::format("\\x{:02x}", u);
    }
}

} // namespace

std::optional<std::uint64_t> Value::as_number() const {
    if (kind == Kind::Number)
        return number;
    if (kind == Kind::Atom || kind == Kind::String)
        return to_u64(bytes);
    return std::nullopt;
}

bool Value::is_atom(std::string_view upper_keyword) const {
    return kind == Kind::Atom && ascii_iequals(bytes, upper_keyword);
}

bool Value::operator==(const Value& o) const {
    return kind == o.kind && number == o.number && bytes == o.bytes && literal == o.literal &&
           list == o.list;
}

bool Response::is_status() const {
    if (kind == Kind::Tagged)
        return true;
    if (kind != Kind::Untagged)
        return false;
    const auto& k = status_or_keyword;
    return k == "OK" || k == "NO" || k == "BAD" || k == "BYE" || k == "PREAUTH";
}

std::optional<std::uint64_t> Response::code_number() const {
    if (code_args.empty())
        return std::nullopt;
    return code_args.front().as_number();
}

std::string debug_string(const Value& v) {
    switch (v.kind) {
    case Value::Kind::Nil:
        return "NIL";
    case Value::Kind::Number:
        return std::to_string(v.number);
    case Value::Kind::Atom:
        return "atom:" + v.bytes;
    case Value::Kind::String: {
        std::string out = v.literal ? "lit\"" : "\"";
        escape_into(out, v.bytes);
        return out + "\"";
    }
    case Value::Kind::List: {
        std::string out = "(";
        for (std::size_t i = 0; i < v.list.size(); ++i) {
            if (i)
                out += ' ';
            out += debug_string(v.list[i]);
        }
        return out + ")";
    }
    }
    return "?";
}

std::string debug_string(const Response& r) {
    std::string out;
    switch (r.kind) {
    case Response::Kind::Tagged:
        out = "tagged[" + r.tag + "]";
        break;
    case Response::Kind::Untagged:
        out = "untagged";
        break;
    case Response::Kind::Continuation:
        out = "continuation";
        break;
    }
    if (r.number)
        out += fmt::format(" #{}", *r.number);
    out += " " + r.status_or_keyword;
    if (!r.code_atom.empty()) {
        out += " [" + r.code_atom;
        for (const auto& a : r.code_args)
            out += " " + debug_string(a);
        out += "]";
    }
    out += " text=\"";
    escape_into(out, r.text);
    out += "\" data={";
    for (std::size_t i = 0; i < r.data.size(); ++i) {
        if (i)
            out += ' ';
        out += debug_string(r.data[i]);
    }
    return out + "}";
}

// ---- tokeniser over one complete frame ------------------------------------------------

namespace {

// Excerpt of the line containing `at`, starting at `line_start` (never inside a literal: the
// tokeniser moves line_start past each literal), escaped, at most 80 bytes.
std::string excerpt(std::string_view frame, std::size_t line_start, std::size_t at) {
    std::size_t from = line_start;
    if (at > from + 60)
        from = at - 40;
    std::size_t end = frame.find('\n', std::max(from, line_start));
    if (end == std::string_view::npos)
        end = frame.size();
    end = std::min(end, from + 80);
    std::string out;
    escape_into(out, frame.substr(from, end - from));
    return out;
}

bool is_status_word(std::string_view u) {
    return u == "OK" || u == "NO" || u == "BAD" || u == "BYE" || u == "PREAUTH";
}

class Tokenizer {
  public:
    Tokenizer(std::string_view frame, std::uint64_t stream_offset, const ParserLimits& limits)
        : s_(frame), base_(stream_offset), limits_(limits) {}

    Result<Response> parse() {
        Response r;
        if (peek() == '+') {
            r.kind = Response::Kind::Continuation;
            ++i_;
            if (peek() == ' ')
                ++i_;
            if (auto ok = resp_text(r, /*leading_space=*/false); !ok)
                return std::unexpected(ok.error());
        } else if (peek() == '*') {
            r.kind = Response::Kind::Untagged;
            ++i_;
            if (auto ok = expect_sp("after '*'"); !ok)
                return std::unexpected(ok.error());
            std::string word = bare_word();
            if (word.empty())
                return err("expected keyword or number after '* '");
            if (all_digits(word)) {
                r.number = to_u64(word);
                if (!r.number)
                    return err("message number out of range");
                if (auto ok = expect_sp("after message number"); !ok)
                    return std::unexpected(ok.error());
                word = bare_word();
                if (word.empty())
                    return err("expected keyword after message number");
            }
            r.status_or_keyword = ascii_upper(word);
            if (!r.number && is_status_word(r.status_or_keyword)) {
                if (auto ok = resp_text(r, true); !ok)
                    return std::unexpected(ok.error());
            } else if (auto ok = data_until_eol(r.data); !ok) {
                return std::unexpected(ok.error());
            }
        } else {
            r.kind = Response::Kind::Tagged;
            r.tag = bare_word();
            if (r.tag.empty())
                return err("expected tag, '*' or '+'");
            if (auto ok = expect_sp("after tag"); !ok)
                return std::unexpected(ok.error());
            r.status_or_keyword = ascii_upper(bare_word());
            if (r.status_or_keyword != "OK" && r.status_or_keyword != "NO" &&
                r.status_or_keyword != "BAD")
                return err("expected OK, NO or BAD after tag");
            if (auto ok = resp_text(r, true); !ok)
                return std::unexpected(ok.error());
        }
        if (auto ok = eol(); !ok)
            return std::unexpected(ok.error());
        if (i_ != s_.size())
            return err("data after end of response");
        return r;
    }

  private:
    using Status = Result<void>;

    [[nodiscard]] char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
    [[nodiscard]] bool at_eol() const {
        return i_ >= s_.size() || s_[i_] == '\n' || (s_[i_] == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n');
    }

    std::unexpected<Error> err(std::string_view what) const {
        return std::unexpected(protocol_error(fmt::format("{} at offset {} in line \"{}\"", what,
                                                          base_ + i_, excerpt(s_, line_, i_))));
    }

    Status expect_sp(std::string_view where) {
        if (peek() != ' ')
            return err(fmt::format("expected SP {}", where));
        while (peek() == ' ')
            ++i_;
        return {};
    }

    Status eol() {
        if (i_ < s_.size() && s_[i_] == '\r')
            ++i_;
        if (i_ < s_.size() && s_[i_] == '\n') {
            ++i_;
            line_ = i_;
            return {};
        }
        return err("expected CRLF");
    }

    // Tag or keyword: up to SP / CRLF / NUL / paren / bracket / quote.
    std::string bare_word() {
        const std::size_t b = i_;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == ' ' || c == '\r' || c == '\n' || c == '\0' || c == '(' || c == ')' ||
                c == '[' || c == ']' || c == '"' || c == '{')
                break;
            ++i_;
        }
        return std::string(s_.substr(b, i_ - b));
    }

    // resp-text = ["[" resp-text-code "]" SP] text. `leading_space`: a SP separates it from
    // the status word (lenient: "A1 OK\r\n" without text is accepted).
    Status resp_text(Response& r, bool leading_space) {
        if (leading_space) {
            if (at_eol())
                return {};
            if (auto ok = expect_sp("before response text"); !ok)
                return ok;
        }
        if (peek() == '[') {
            ++i_;
            const std::size_t b = i_;
            while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != ']' && s_[i_] != '\r' &&
                   s_[i_] != '\n' && s_[i_] != '\0')
                ++i_;
            r.code_atom = ascii_upper(s_.substr(b, i_ - b));
            if (r.code_atom.empty())
                return err("empty response code");
            if (peek() == ' ') {
                const std::size_t args_start = i_;
                const std::size_t items_before = items_;
                if (auto ok = code_args(r.code_args); !ok) {
                    // Lenient: free-form arguments (REFERRAL URLs, vendor codes with odd
                    // punctuation) are kept as one raw atom up to the closing bracket.
                    i_ = args_start;
                    items_ = items_before;
                    r.code_args.clear();
                    while (peek() == ' ')
                        ++i_;
                    const std::size_t rb = i_;
                    while (i_ < s_.size() && s_[i_] != ']' && s_[i_] != '\r' && s_[i_] != '\n' &&
                           s_[i_] != '\0') {
                        // Structure that did not parse (unbalanced parens, broken quotes) is
                        // an error, not free-form text.
                        if (s_[i_] == '(' || s_[i_] == ')' || s_[i_] == '"')
                            return err("malformed response code arguments");
                        ++i_;
                    }
                    r.code_args.push_back(Value::atom(std::string(s_.substr(rb, i_ - rb))));
                }
            }
            if (peek() != ']')
                return err("unterminated response code");
            ++i_;
            if (peek() == ' ')
                ++i_;
        }
        const std::size_t b = i_;
        while (i_ < s_.size() && s_[i_] != '\r' && s_[i_] != '\n') {
            if (s_[i_] == '\0')
                return err("NUL in response text");
            ++i_;
        }
        r.text = std::string(s_.substr(b, i_ - b));
        return {};
    }

    Status code_args(std::vector<Value>& out) {
        while (true) {
            while (peek() == ' ')
                ++i_;
            if (peek() == ']')
                return {};
            if (at_eol())
                return err("unterminated response code");
            auto v = value(0, /*in_code=*/true);
            if (!v)
                return std::unexpected(v.error());
            out.push_back(std::move(*v));
        }
    }

    Status data_until_eol(std::vector<Value>& out) {
        while (!at_eol()) {
            if (peek() == ')')
                return err("unbalanced ')'");
            if (auto ok = expect_sp("between values"); !ok)
                return ok;
            if (at_eol())
                break; // trailing space, seen from several servers
            auto v = value(0, false);
            if (!v)
                return std::unexpected(v.error());
            out.push_back(std::move(*v));
        }
        return {};
    }

    Result<Value> value(std::size_t depth, bool in_code) {
        if (++items_ > limits_.max_items)
            return err("too many items in response");
        const char c = peek();
        if (c == '(')
            return list(depth, in_code);
        if (c == '"')
            return quoted();
        if (c == '{' || (c == '~' && i_ + 1 < s_.size() && s_[i_ + 1] == '{'))
            return literal();
        if (c == ')')
            return err("unbalanced ')'");
        if (c == '\0' && i_ < s_.size())
            return err("NUL in line");
        return atom(in_code);
    }

    Result<Value> list(std::size_t depth, bool in_code) {
        if (depth + 1 > limits_.max_depth)
            return err("lists nested too deeply");
        ++i_; // '('
        Value v = Value::make_list({});
        while (true) {
            while (peek() == ' ')
                ++i_;
            if (i_ < s_.size() && s_[i_] == ')') {
                ++i_;
                return v;
            }
            if (at_eol())
                return err("unbalanced '(' (line ended inside a list)");
            if (in_code && peek() == ']')
                return err("unbalanced '(' in response code");
            auto item = value(depth + 1, in_code);
            if (!item)
                return item;
            v.list.push_back(std::move(*item));
            // Items are separated by SP; ")" may follow directly, and so may "(" (RFC 3501
            // body-type-mpart = 1*body SP media-subtype: nested bodies are not separated).
            if (peek() != ' ' && peek() != ')' && peek() != '(' && !at_eol())
                return err("expected SP or ')' in list");
        }
    }

    Result<Value> quoted() {
        ++i_; // '"'
        std::string out;
        while (true) {
            if (i_ >= s_.size())
                return err("unterminated quoted string");
            const char c = s_[i_];
            if (c == '"') {
                ++i_;
                return Value::string(std::move(out));
            }
            if (c == '\r' || c == '\n')
                return err("unterminated quoted string");
            if (c == '\0')
                return err("NUL in quoted string");
            if (c == '\\') {
                // RFC 3501 quoted-specials; lenient: any other escaped char is taken literally.
                if (i_ + 1 >= s_.size() || s_[i_ + 1] == '\r' || s_[i_ + 1] == '\n' ||
                    s_[i_ + 1] == '\0')
                    return err("bad escape in quoted string");
                out += s_[i_ + 1];
                i_ += 2;
                continue;
            }
            out += c;
            ++i_;
        }
    }

    Result<Value> literal() {
        if (s_[i_] == '~')
            ++i_; // literal8 (RFC 3516)
        ++i_;     // '{'
        const std::size_t b = i_;
        while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
            ++i_;
        const auto n = to_u64(s_.substr(b, i_ - b));
        if (!n)
            return err("bad literal length");
        if (peek() == '+')
            ++i_; // non-synchronising (RFC 7888), lenient in responses
        if (peek() != '}')
            return err("bad literal marker");
        ++i_;
        if (!at_eol() || i_ >= s_.size())
            return err("literal marker not at end of line");
        if (auto ok = eol(); !ok)
            return std::unexpected(ok.error());
        // Framing already checked limits and that the bytes are present.
        if (*n > s_.size() - i_)
            return err("literal truncated");
        const auto len = static_cast<std::size_t>(*n);
        Value v = Value::string(std::string(s_.substr(i_, len)), true);
        i_ += len;
        line_ = i_; // excerpts never reach back into literal bytes
        return v;
    }

    Result<Value> atom(bool in_code) {
        const std::size_t b = i_;
        std::size_t brackets = 0;
        while (i_ < s_.size()) {
            const char c = s_[i_];
            if (c == '\r' || c == '\n')
                break;
            if (c == '\0')
                return err("NUL in line");
            if (brackets > 0) {
                // Inside a fetch section spec "BODY[HEADER.FIELDS (FROM TO)]": anything to "]".
                if (c == '[')
                    ++brackets;
                else if (c == ']')
                    --brackets;
                ++i_;
                continue;
            }
            if (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{')
                break;
            if (c == ']' && in_code)
                break;
            if (c == '[')
                ++brackets;
            ++i_;
        }
        if (brackets > 0)
            return err("unbalanced '[' in atom");
        const std::string_view text = s_.substr(b, i_ - b);
        if (text.empty())
            return err("unexpected character");
        // A leading zero keeps the spelling (mailbox "007"); as_number() still reads it.
        if (auto n = to_u64(text); n && (text.size() == 1 || text.front() != '0'))
            return Value::num(*n);
        if (ascii_iequals(text, "NIL"))
            return Value::nil();
        return Value::atom(std::string(text));
    }

    std::string_view s_;
    std::uint64_t base_;
    const ParserLimits& limits_;
    std::size_t i_ = 0;
    std::size_t line_ = 0;
    std::size_t items_ = 0;
};

// Recognises a literal marker at the end of a line [b, e) (CR already stripped): "{n}",
// "{n+}", "~{n}". Returns the digits, or nullopt when the line does not end in a marker.
std::optional<std::string_view> literal_marker(std::string_view line) {
    if (line.empty() || line.back() != '}')
        return std::nullopt;
    std::size_t j = line.size() - 1; // at '}'
    if (j > 0 && line[j - 1] == '+')
        --j;
    const std::size_t digits_end = j;
    while (j > 0 && line[j - 1] >= '0' && line[j - 1] <= '9')
        --j;
    if (j == 0 || line[j - 1] != '{')
        return std::nullopt;
    return line.substr(j, digits_end - j);
}

} // namespace

// ---- ResponseParser ---------------------------------------------------------------------

ResponseParser::ResponseParser(ParserLimits limits) : limits_(limits) {}

void ResponseParser::feed(std::string_view bytes) {
    if (error_)
        return; // the connection is dead; do not buffer more
    buf_.append(bytes);
    frame();
}

void ResponseParser::fail_framing(std::string what, std::size_t at) {
    // Excerpt from the current line start, which is never inside a literal.
    const std::string_view view(buf_);
    std::string ex;
    escape_into(ex, view.substr(line_start_, std::min<std::size_t>(80, at - line_start_)));
    error_ = protocol_error(fmt::format("{} at offset {} in line \"{}\"", what, consumed_ + at, ex));
    // Drop the unframed bytes: earlier complete frames stay deliverable.
    buf_.resize(frame_start_);
    buf_.shrink_to_fit();
    scan_ = line_start_ = frame_start_;
}

void ResponseParser::frame() {
    const std::string_view view(buf_);
    while (true) {
        if (in_literal_) {
            const std::uint64_t avail = view.size() - scan_;
            const std::uint64_t take = std::min(avail, literal_left_);
            scan_ += static_cast<std::size_t>(take);
            literal_left_ -= take;
            if (literal_left_ > 0)
                return;
            in_literal_ = false;
            line_start_ = scan_;
            continue;
        }
        const void* nl = std::memchr(view.data() + scan_, '\n', view.size() - scan_);
        if (nl == nullptr) {
            scan_ = view.size();
            if (scan_ - line_start_ > limits_.max_line_length)
                fail_framing(fmt::format("line longer than {} bytes without CRLF",
                                         limits_.max_line_length),
                             scan_);
            return;
        }
        const auto lf = static_cast<std::size_t>(static_cast<const char*>(nl) - view.data());
        std::string_view line = view.substr(line_start_, lf - line_start_);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.size() > limits_.max_line_length) {
            fail_framing(fmt::format("line longer than {} bytes", limits_.max_line_length), lf);
            return;
        }
        const std::size_t next_line = lf + 1;
        if (const auto digits = literal_marker(line)) {
            const auto n = to_u64(*digits);
            if (!n) {
                fail_framing(digits->empty() ? "empty literal length" : "literal length overflow",
                             lf);
                return;
            }
            if (*n > limits_.max_literal_size) {
                fail_framing(fmt::format("literal of {} bytes exceeds limit {}", *n,
                                         limits_.max_literal_size),
                             lf);
                return;
            }
            if (++literals_in_frame_ > limits_.max_items) {
                fail_framing("too many literals in one response", lf);
                return;
            }
            const std::uint64_t so_far = next_line - frame_start_;
            if (so_far + *n > limits_.max_response_size) {
                fail_framing(fmt::format("response larger than {} bytes",
                                         limits_.max_response_size),
                             lf);
                return;
            }
            in_literal_ = true;
            literal_left_ = *n;
            scan_ = next_line;
            continue;
        }
        if (next_line - frame_start_ > limits_.max_response_size) {
            fail_framing(fmt::format("response larger than {} bytes", limits_.max_response_size),
                         lf);
            return;
        }
        frames_.push_back(next_line - frame_start_);
        frame_start_ = line_start_ = scan_ = next_line;
        literals_in_frame_ = 0;
    }
}

void ResponseParser::compact() {
    // Erasing only once at least half the buffer is consumed keeps the total copying linear.
    if (head_ == 0)
        return;
    if (head_ != buf_.size() && (head_ < 64 * 1024 || head_ < buf_.size() / 2))
        return;
    buf_.erase(0, head_);
    consumed_ += head_;
    frame_start_ -= head_;
    line_start_ -= head_;
    scan_ -= head_;
    head_ = 0;
}

Result<std::optional<Response>> ResponseParser::next() {
    if (!frames_.empty()) {
        const std::size_t len = frames_.front();
        frames_.pop_front();
        Tokenizer t(std::string_view(buf_).substr(head_, len), consumed_ + head_, limits_);
        auto r = t.parse();
        head_ += len;
        if (!r) {
            // Sticky: the stream position is lost, nothing after this can be trusted.
            frames_.clear();
            buf_.clear();
            buf_.shrink_to_fit();
            head_ = frame_start_ = line_start_ = scan_ = 0;
            in_literal_ = false;
            error_ = r.error();
            return std::unexpected(r.error());
        }
        compact();
        return std::optional<Response>(std::move(*r));
    }
    if (error_) {
        return std::unexpected(*error_);
    }
    compact();
    return std::optional<Response>{};
}

} // namespace crm::imap
