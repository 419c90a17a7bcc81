// Pre-parse defusing of inputs that make GMime 3.2 itself misbehave (found by testing it):
//  - nested group syntax in address fields ("To: a:a:a:...:b@c") recurses once per ':' in
//    GMime's address parser: ~50,000 levels overflow an 8 MB stack (a crash, not a warning);
//  - thousands of Content-Type / Content-Disposition parameters are handled in quadratic time
//    (40,000 parameters: 6 s).
//  - a comment that never closes after an address leaks memory in GMime 3.2.13 (internal.hpp,
//    blank_unclosed_comments).
// Only such pathological fields are changed, in place and byte for byte (offsets stay valid):
// group colons beyond a small depth become spaces, parameters beyond a cap are blanked, and so
// is the '(' of a comment that never closes.

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "internal.hpp"

namespace crm::mime::detail {
namespace {

constexpr int kMaxGroupDepth = 8;           // RFC 5322 groups do not nest at all
constexpr std::size_t kMaxParameters = 500; // RFC 2231 continuations need a few dozen at most

constexpr std::size_t kLongestName = 19; // "content-disposition"

enum class Kind { None, Address, Params };

Kind kind_of(std::string_view name) {
    static constexpr std::array<std::string_view, 12> kAddress = {
        "from",        "sender",        "reply-to",  "to",        "cc",         "bcc",
        "resent-from", "resent-sender", "resent-to", "resent-cc", "resent-bcc", "resent-reply-to"};
    for (const auto n : kAddress)
        if (ascii_iequals(name, n))
            return Kind::Address;
    if (ascii_iequals(name, "content-type") || ascii_iequals(name, "content-disposition"))
        return Kind::Params;
    return Kind::None;
}

struct FieldState {
    Kind kind = Kind::None;
    bool quote = false;
    bool escape = false;
    int comment = 0;
    bool angle = false;
    int depth = 0;
    std::size_t params = 0;
    bool blank_rest = false;
};

// Scans one line's bytes [from, to) of a field; records byte positions to blank.
void scan(std::string_view s, std::size_t from, std::size_t to, FieldState &st,
          std::vector<std::size_t> &blank) {
    for (std::size_t i = from; i < to; ++i) {
        const char c = s[i];
        if (c == '\r' || c == '\n')
            continue;
        if (st.blank_rest) {
            blank.push_back(i);
            continue;
        }
        if (st.escape) {
            st.escape = false;
            continue;
        }
        if ((st.quote || st.comment > 0) && c == '\\') {
            st.escape = true;
            continue;
        }
        if (st.quote) {
            st.quote = c != '"';
            continue;
        }
        if (c == '(') {
            ++st.comment;
            continue;
        }
        if (st.comment > 0) {
            if (c == ')')
                --st.comment;
            continue;
        }
        if (c == '"') {
            st.quote = true;
            continue;
        }
        if (st.kind == Kind::Address) {
            if (c == '<')
                st.angle = true;
            else if (c == '>')
                st.angle = false;
            else if (c == ':' && !st.angle) {
                if (st.depth >= kMaxGroupDepth)
                    blank.push_back(i);
                else
                    ++st.depth;
            } else if (c == ';' && !st.angle && st.depth > 0) {
                --st.depth;
            }
        } else if (st.kind == Kind::Params && c == ';') {
            if (++st.params > kMaxParameters) {
                st.blank_rest = true;
                blank.push_back(i);
            }
        }
    }
}

// Appends the position of every '(' in [from, to) whose comment, read as GMime's
// g_mime_skip_comment() reads one (comments nest, a backslash takes the next byte whatever it
// is, quotes mean nothing inside), does not close before `to` or a NUL (GMime reads C strings).
// Which '(' GMime takes for a comment depends on its own reading of quotes and literals, which
// differs from RFC 5322 in loose mode (an unmatched '"' is skipped); so every '(' is checked.
// Linear time: a comment scan, wherever it starts, keeps in step with one scan of the whole
// range that lets every backslash take the next byte (a '(' is never a backslash, so the byte
// after it starts fresh in both). With depth[i] that scan's running count after byte i, the
// comment opened at p closes exactly when a later depth[i] reaches depth[p] - 1.
void find_unclosed_comments(std::string_view s, std::size_t from, std::size_t to,
                            std::vector<std::size_t>& out) {
    while (from < to) {
        std::size_t end = s.find('\0', from);
        end = end == std::string_view::npos || end > to ? to : end;
        if (s.substr(from, end - from).find('(') != std::string_view::npos) {
            std::vector<long> depth(end - from);
            long d = 0;
            bool escaped = false;
            for (std::size_t i = from; i < end; ++i) {
                const char c = s[i];
                if (escaped)
                    escaped = false;
                else if (c == '\\')
                    escaped = true;
                else if (c == '(')
                    ++d;
                else if (c == ')')
                    --d;
                depth[i - from] = d;
            }
            const std::size_t first = out.size();
            long lowest_later = std::numeric_limits<long>::max();
            for (std::size_t i = end; i-- > from;) {
                if (s[i] == '(' && lowest_later > depth[i - from] - 1)
                    out.push_back(i);
                lowest_later = std::min(lowest_later, depth[i - from]);
            }
            std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
        }
        from = end + 1;
    }
}

// The parameter `name` of a Content-Type value (token or quoted string, no RFC 2231), or "".
std::string_view parameter(std::string_view value, std::string_view name) {
    std::size_t at = 0;
    while ((at = value.find(';', at)) != std::string_view::npos) {
        std::size_t k = ++at;
        while (k < value.size() &&
               (value[k] == ' ' || value[k] == '\t' || value[k] == '\r' || value[k] == '\n'))
            ++k;
        if (value.size() - k < name.size() || !ascii_iequals(value.substr(k, name.size()), name))
            continue;
        k += name.size();
        while (k < value.size() && (value[k] == ' ' || value[k] == '\t'))
            ++k;
        if (k >= value.size() || value[k] != '=')
            continue;
        ++k;
        while (k < value.size() && (value[k] == ' ' || value[k] == '\t'))
            ++k;
        if (k < value.size() && value[k] == '"') {
            const std::size_t close = value.find('"', k + 1);
            return close == std::string_view::npos ? std::string_view{}
                                                   : value.substr(k + 1, close - k - 1);
        }
        std::size_t e = k;
        while (e < value.size() && value[e] != ';' && value[e] > ' ')
            ++e;
        return value.substr(k, e - k);
    }
    return {};
}

// Where GMime reads header fields: the message's header, each part's header (after a boundary
// line) and the header of an attached message (the body of a message/* part, or of a part of a
// multipart/digest without a Content-Type). Body text is not a header even where a line looks
// like a field ("To: Team (EMEA" in a forwarded text), and is left byte for byte.
class HeaderBlocks {
  public:
    [[nodiscard]] bool in_header() const { return in_header_; }

    // A line that is not a folded continuation; `line` excludes the line break.
    void line(std::string_view line) {
        if (line.empty()) {
            if (in_header_)
                in_header_ = message_next_;
            message_next_ = false;
            return;
        }
        if (line.size() > 2 && line[0] == '-' && line[1] == '-') {
            for (const auto& b : boundaries_)
                if (line.substr(2, b.size()) == b) {
                    const bool closing = line.substr(2 + b.size(), 2) == "--";
                    in_header_ = !closing;
                    message_next_ = digest_ && !closing;
                    return;
                }
        }
    }

    // A Content-Type field of the current header, its whole (folded) value.
    void content_type(std::string_view value) {
        std::size_t k = 0;
        while (k < value.size() && (value[k] == ' ' || value[k] == '\t'))
            ++k;
        const auto type = value.substr(k);
        message_next_ = type.size() >= 8 && ascii_iequals(type.substr(0, 8), "message/");
        if (type.size() >= 16 && ascii_iequals(type.substr(0, 16), "multipart/digest"))
            digest_ = true;
        const auto b = parameter(value, "boundary");
        if (!b.empty() && boundaries_.size() < kMaxBoundaries)
            boundaries_.emplace_back(b);
    }

  private:
    static constexpr std::size_t kMaxBoundaries = 64; // as many as a message may nest parts
    std::vector<std::string> boundaries_;
    bool in_header_ = true;
    bool message_next_ = false; // the body after this header is a message with its own header
    bool digest_ = false;
};

std::vector<std::size_t> find_blanks(std::string_view s) {
    std::vector<std::size_t> blank;
    FieldState st;
    HeaderBlocks blocks;
    // The header field being read, when it is an address field or Content-Type of a header
    // block: its value's bytes [field_from, field_to), folded lines included.
    std::size_t field_from = 0;
    std::size_t field_to = 0;
    bool content_type = false;
    auto finish_field = [&] {
        if (field_to > field_from) {
            if (content_type)
                blocks.content_type(s.substr(field_from, field_to - field_from));
            else
                find_unclosed_comments(s, field_from, field_to, blank);
        }
        field_from = field_to = 0;
        content_type = false;
    };
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find('\n', pos);
        end = end == std::string_view::npos ? s.size() : end + 1;
        const char first = s[pos];
        if (first == ' ' || first == '\t') {
            if (st.kind != Kind::None)
                scan(s, pos, end, st, blank); // folded continuation of the current field
            if (field_to > 0)
                field_to = end;
            pos = end;
            continue;
        }
        finish_field();
        st = FieldState{};
        std::size_t text_end = end;
        while (text_end > pos && (s[text_end - 1] == '\n' || s[text_end - 1] == '\r'))
            --text_end;
        blocks.line(s.substr(pos, text_end - pos));
        // Every name kind_of() knows starts with one of these letters: most body lines
        // (base64, text) are passed over after one byte.
        const char c0 = ascii_lower(first);
        if (c0 != 'f' && c0 != 's' && c0 != 'r' && c0 != 't' && c0 != 'c' && c0 != 'b') {
            pos = end;
            continue;
        }
        // "Name:" at a line start, anywhere (nested messages and part headers included); GMime
        // allows blanks between the name and the ':'.
        std::size_t k = pos;
        // The longest name kind_of() knows is 19 bytes ("content-disposition"): looking
        // further (base64 body lines) cannot find a field it would act on.
        while (k < end && k - pos < kLongestName + 1 && s[k] != ':' && s[k] > ' ' && s[k] < 127)
            ++k;
        const std::size_t name_end = k;
        while (k < end && k - pos < kLongestName + 8 && (s[k] == ' ' || s[k] == '\t'))
            ++k;
        if (k < end && s[k] == ':' && name_end > pos) {
            const auto name = s.substr(pos, name_end - pos);
            st.kind = kind_of(name);
            if (st.kind != Kind::None)
                scan(s, k + 1, end, st, blank);
            if (blocks.in_header() &&
                (st.kind == Kind::Address || ascii_iequals(name, "content-type"))) {
                field_from = k + 1;
                field_to = end;
                content_type = st.kind != Kind::Address;
            }
        }
        pos = end;
    }
    finish_field();
    return blank;
}

} // namespace

bool defuse(std::string_view in, std::string &out) {
    const auto blank = find_blanks(in);
    if (blank.empty())
        return false;
    out.assign(in);
    for (const std::size_t i : blank)
        out[i] = ' ';
    return true;
}

std::size_t blank_unclosed_comments(std::string& s) {
    std::vector<std::size_t> opens;
    find_unclosed_comments(s, 0, s.size(), opens);
    for (const std::size_t i : opens)
        s[i] = ' ';
    return opens.size();
}

bool defuse_address_value(std::string_view in, std::string &out) {
    std::vector<std::size_t> blank;
    FieldState st;
    st.kind = Kind::Address;
    scan(in, 0, in.size(), st, blank);
    if (blank.empty())
        return false;
    out.assign(in);
    for (const std::size_t i : blank)
        out[i] = ' ';
    return true;
}

} // namespace crm::mime::detail
