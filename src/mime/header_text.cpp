// Header-level parsers: encoded words, address lists, message-id lists.

#include <string>
#include <utility>

#include "crm/core/base64.hpp"
#include "internal.hpp"

namespace crm::mime {
namespace {

// RFC 5322 §2.2.3 unfolding: a line break followed by WSP is removed (the WSP stays). A line
// break not followed by WSP ends the field: with `stop_at_field_end` the rest is dropped (it
// is another field or the body), otherwise it becomes a space. NULs are dropped.
std::string unfold(std::string_view raw, bool stop_at_field_end = false) {
    std::string out;
    out.reserve(raw.size());
    std::size_t i = 0;
    while (i < raw.size()) {
        // Copy the run up to the next CR, LF or NUL in one go.
        std::size_t j = i;
        while (j < raw.size() && raw[j] != '\r' && raw[j] != '\n' && raw[j] != '\0')
            ++j;
        out.append(raw.data() + i, j - i);
        if (j == raw.size())
            break;
        i = j + 1;
        if (raw[j] == '\0')
            continue;
        if (raw[j] == '\r' && i < raw.size() && raw[i] == '\n')
            ++i;
        const bool folded = i < raw.size() && (raw[i] == ' ' || raw[i] == '\t');
        if (!folded) {
            if (stop_at_field_end && i < raw.size())
                break;
            out.push_back(' ');
        }
    }
    return out;
}

bool is_atext(unsigned char c) {
    if (c >= 0x80)
        return true; // RFC 6532: UTF-8 in addresses
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
        return true;
    default:
        return false;
    }
}

bool valid_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    char prev = 0;
    for (const char c : s) {
        if (c == '.') {
            if (prev == '.')
                return false;
        } else if (!is_atext(static_cast<unsigned char>(c))) {
            return false;
        }
        prev = c;
    }
    return true;
}

bool valid_quoted_local(std::string_view s) {
    if (s.size() < 2 || s.front() != '"' || s.back() != '"')
        return false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\\') {
            if (i + 2 >= s.size())
                return false;
            ++i;
        } else if (c == '"' || c < 0x20 || c == 0x7F) {
            return false;
        }
    }
    return true;
}

bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 255)
        return false;
    if (d.front() == '[') {
        if (d.back() != ']' || d.size() < 3)
            return false;
        for (std::size_t i = 1; i + 1 < d.size(); ++i) {
            const auto c = static_cast<unsigned char>(d[i]);
            if (c == '[' || c == ']' || c == '\\' || c <= 0x20 || c == 0x7F)
                return false;
        }
        return true;
    }
    std::size_t start = 0;
    while (start <= d.size()) {
        std::size_t dot = d.find('.', start);
        if (dot == std::string_view::npos)
            dot = d.size();
        const std::string_view label = d.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (const char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            const bool ok = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok)
                return false;
        }
        start = dot + 1;
        if (dot == d.size())
            break;
    }
    return true;
}

} // namespace

namespace detail {

namespace {

// RFC 2047 §4.2 Q encoding.
void decode_q(std::string_view in, std::string &out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '_') {
            out.push_back(' ');
        } else if (c == '=' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
                   hex_value(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
}

// RFC 2047 §4.1 B encoding; each word is decoded on its own (its own padding), non-alphabet
// characters are skipped.
void decode_b(std::string_view in, std::string &out) {
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : in) {
        if (c == '=')
            break;
        const int v = crm::base64_value(c);
        if (v < 0)
            continue;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFFU));
        }
    }
}

struct EncodedWord {
    std::size_t end = 0; // index after "?="
    std::string_view charset;
    char encoding = 0;
    std::string_view text;
};

// Finds "?=" at or after a position; the answer is cached so that a header full of "=?"
// openers without closers is scanned once, not once per opener (linear, not quadratic).
class CloseFinder {
  public:
    explicit CloseFinder(std::string_view s) : s_(s) {}
    std::size_t next(std::size_t from) {
        if (!(have_ && from >= searched_from_ &&
              (found_ == std::string_view::npos || from <= found_))) {
            searched_from_ = from;
            found_ = s_.find("?=", from);
            have_ = true;
        }
        return found_;
    }

  private:
    std::string_view s_;
    std::size_t searched_from_ = 0;
    std::size_t found_ = std::string_view::npos;
    bool have_ = false;
};

// Parses "=?charset?E?text?=" at `pos`; false if it is not a well-formed encoded word.
bool parse_encoded_word(std::string_view s, std::size_t pos, CloseFinder &closer, EncodedWord &w) {
    if (s.compare(pos, 2, "=?") != 0)
        return false;
    // The charset (with an optional *language) is short: look for its '?' in a small window.
    const std::size_t q1 = s.substr(0, std::min(s.size(), pos + 2 + 80)).find('?', pos + 2);
    if (q1 == std::string_view::npos || q1 == pos + 2 || q1 + 2 >= s.size() || s[q1 + 2] != '?')
        return false;
    const char enc = s[q1 + 1];
    if (enc != 'b' && enc != 'B' && enc != 'q' && enc != 'Q')
        return false;
    const std::size_t end = closer.next(q1 + 3);
    if (end == std::string_view::npos)
        return false;
    w.charset = s.substr(pos + 2, q1 - pos - 2);
    // RFC 2231 §5: charset*language
    if (const std::size_t star = w.charset.find('*'); star != std::string_view::npos)
        w.charset = w.charset.substr(0, star);
    for (const char c : w.charset)
        if (c == ' ' || c == '\t')
            return false;
    w.encoding = enc == 'b' || enc == 'B' ? 'B' : 'Q';
    w.text = s.substr(q1 + 3, end - q1 - 3);
    w.end = end + 2;
    return true;
}

} // namespace

std::string decode_rfc2047(std::string_view raw, const std::vector<std::string> &fallbacks) {
    std::string out;
    out.reserve(raw.size());
    // Fast paths: most fields are ASCII without encoded words (only folded, e.g. Received).
    bool breaks = false;
    bool eight_bit = false;
    for (const char c : raw) {
        if (c == '\r' || c == '\n' || c == '\0')
            breaks = true;
        else if ((static_cast<unsigned char>(c) & 0x80U) != 0)
            eight_bit = true;
    }
    if (raw.find("=?") == std::string_view::npos) {
        if (!eight_bit)
            return breaks ? unfold(raw) : std::string(raw);
        return to_utf8(breaks ? unfold(raw) : std::string(raw), "", fallbacks);
    }
    const std::string text = unfold(raw);
    const std::string_view s(text);
    std::string plain; // pending raw text between encoded words
    std::string bytes; // decoded bytes of a run of same-charset encoded words
    std::string_view run_charset;
    auto flush_plain = [&] {
        if (plain.empty())
            return;
        out += to_utf8(plain, "", fallbacks);
        plain.clear();
    };
    auto flush_run = [&] {
        if (run_charset.empty())
            return;
        out += to_utf8(bytes, run_charset, fallbacks);
        bytes.clear();
        run_charset = {};
    };
    CloseFinder closer(s);
    std::size_t i = 0;
    while (i < s.size()) {
        EncodedWord w;
        if (s[i] == '=' && parse_encoded_word(s, i, closer, w)) {
            // RFC 2047 §6.2: whitespace between adjacent encoded words is not displayed.
            bool only_ws = true;
            for (const char c : plain)
                if (c != ' ' && c != '\t') {
                    only_ws = false;
                    break;
                }
            if (!run_charset.empty() && only_ws)
                plain.clear();
            if (!plain.empty()) {
                flush_run();
                flush_plain();
            }
            if (!run_charset.empty() && !ascii_iequals(run_charset, w.charset))
                flush_run();
            run_charset = w.charset;
            if (w.encoding == 'B')
                decode_b(w.text, bytes);
            else
                decode_q(w.text, bytes);
            i = w.end;
            continue;
        }
        plain.push_back(s[i]);
        ++i;
    }
    flush_run();
    flush_plain();
    return out;
}

bool is_plausible_addr_spec(std::string_view addr) {
    // The local part may be a quoted string containing '@': split at the last '@'.
    const std::size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == addr.size())
        return false;
    const std::string_view local = addr.substr(0, at);
    const std::string_view domain = addr.substr(at + 1);
    if (local.size() > 64) // RFC 5321 §4.5.3.1.1
        return false;
    const bool local_ok = local.front() == '"' ? valid_quoted_local(local) : valid_dot_atom(local);
    return local_ok && valid_domain(domain);
}

// GMime decodes display names strictly and word by word, so a character split across two
// B words becomes "??". Encoded-word runs outside comments and angle brackets are replaced by
// their (loosely, jointly) decoded text, as a quoted string, before GMime parses the list.
std::string predecode_phrases(std::string_view v, const std::vector<std::string> &fallbacks) {
    std::string out;
    out.reserve(v.size());
    CloseFinder closer(v);
    bool quote = false;
    int comment = 0;
    bool angle = false;
    auto escaped = [](std::string_view text, std::string &dst) {
        for (const char c : text) {
            if (c == '"' || c == '\\')
                dst.push_back('\\');
            dst.push_back(c);
        }
    };
    std::size_t i = 0;
    while (i < v.size()) {
        const char c = v[i];
        EncodedWord w;
        if (comment == 0 && !angle && c == '=' && parse_encoded_word(v, i, closer, w)) {
            // The run: encoded words separated by blanks only.
            std::size_t end = w.end;
            for (;;) {
                std::size_t k = end;
                while (k < v.size() && (v[k] == ' ' || v[k] == '\t'))
                    ++k;
                EncodedWord next;
                if (k < v.size() && v[k] == '=' && parse_encoded_word(v, k, closer, next))
                    end = next.end;
                else
                    break;
            }
            const std::string text = decode_rfc2047(v.substr(i, end - i), fallbacks);
            if (!quote)
                out.push_back('"');
            escaped(text, out);
            if (!quote)
                out.push_back('"');
            i = end;
            continue;
        }
        out.push_back(c);
        ++i;
        if (quote) {
            if (c == '\\' && i < v.size())
                out.push_back(v[i++]);
            else if (c == '"')
                quote = false;
        } else if (comment > 0) {
            if (c == '\\' && i < v.size())
                out.push_back(v[i++]);
            else if (c == '(')
                ++comment;
            else if (c == ')')
                --comment;
        } else if (c == '"') {
            quote = true;
        } else if (c == '(') {
            comment = 1;
        } else if (c == '<') {
            angle = true;
        } else if (c == '>') {
            angle = false;
        }
    }
    return out;
}

std::vector<Address> parse_addresses(GMimeParserOptions *options, std::string_view value,
                                     std::vector<std::string> *warnings, std::string_view where,
                                     const std::vector<std::string> &fallbacks) {
    std::string v = unfold(value, true);
    if (trim(v).empty())
        return {};
    if (std::string safe; defuse_address_value(v, safe)) // GMime recursion per group level
        v = std::move(safe);
    if (v.find("=?") != std::string::npos)
        v = predecode_phrases(v, fallbacks);
    if (blank_unclosed_comments(v) > 0 && warnings != nullptr && warnings->size() < 200)
        warnings->push_back("address: comment never closed in " + std::string(where) +
                            ", its '(' read as a space");
    GPtr<InternetAddressList> list(internet_address_list_parse(options, v.c_str()));
    if (!list) {
        if (warnings != nullptr && warnings->size() < 200) {
            std::string w = "address: unreadable address list '" +
                            std::string(trim(v).substr(0, 80)) + "' in " + std::string(where);
            repair_utf8(w);
            warnings->push_back(std::move(w));
        }
        return {};
    }
    return flatten_addresses(list.get(), warnings, where, fallbacks);
}

std::string finish_decoding(std::string s, const std::vector<std::string> &fallbacks) {
    const std::size_t open = s.find("=?");
    if (open == std::string::npos || s.find("?=", open + 2) == std::string::npos)
        return s;
    return decode_rfc2047(s, fallbacks);
}

std::vector<Address> flatten_addresses(InternetAddressList *list,
                                       std::vector<std::string> *warnings, std::string_view where,
                                       const std::vector<std::string> &fallbacks) {
    std::vector<Address> out;
    if (list == nullptr)
        return out;
    auto warn = [&](std::string what) {
        if (warnings == nullptr || warnings->size() >= 200)
            return;
        what += " in ";
        what += where;
        repair_utf8(what);
        warnings->push_back(std::move(what));
    };
    // Groups are flattened (RFC 5322 §3.4 group syntax); they do not nest, but walk with an
    // explicit stack and a small depth bound anyway rather than recursing on untrusted input.
    struct Frame {
        InternetAddressList *list;
        int index;
    };
    std::vector<Frame> stack{{list, 0}};
    while (!stack.empty()) {
        Frame &f = stack.back();
        if (f.index >= internet_address_list_length(f.list)) {
            stack.pop_back();
            continue;
        }
        InternetAddress *ia = internet_address_list_get_address(f.list, f.index++);
        if (ia == nullptr)
            continue;
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            auto *members =
                internet_address_group_get_members(reinterpret_cast<InternetAddressGroup *>(ia));
            if (members != nullptr && stack.size() < 8)
                stack.push_back({members, 0});
            continue;
        }
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        const char *name = internet_address_get_name(ia);
        const char *addr =
            internet_address_mailbox_get_addr(reinterpret_cast<InternetAddressMailbox *>(ia));
        Address a;
        if (name != nullptr) {
            // Blank runs (from folding or joined phrase words) become one space.
            const std::string decoded = finish_decoding(name, fallbacks);
            for (const char c : trim(decoded)) {
                const bool blank = c == ' ' || c == '\t';
                if (blank && !a.name.empty() && a.name.back() == ' ')
                    continue;
                a.name.push_back(blank ? ' ' : c);
            }
        }
        a.address = addr != nullptr ? std::string(trim(addr)) : std::string();
        repair_utf8(a.name);
        repair_utf8(a.address);
        const std::size_t at = a.address.rfind('@');
        if (a.address.empty() || at == std::string::npos || at == 0 || at + 1 == a.address.size()) {
            warn("address: no usable mailbox in '" +
                 std::string(a.address.empty() ? a.name : a.address).substr(0, 80) + "'");
            continue;
        }
        if (!is_plausible_addr_spec(a.address))
            warn("address: questionable addr-spec '" + a.address.substr(0, 80) + "'");
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace detail

std::vector<Address> parse_address_list(std::string_view value,
                                        std::vector<std::string> *warnings) {
    try {
        init();
        detail::WarningSink sink;
        sink.out = warnings;
        auto opts = detail::make_options(ParseLimits{}, warnings != nullptr ? &sink : nullptr);
        return detail::parse_addresses(opts.get(), value, warnings, "address list",
                                       ParseLimits{}.fallback_charsets);
    } catch (...) {
        if (warnings != nullptr)
            warnings->emplace_back("address: out of memory");
        return {};
    }
}

std::string decode_header_text(std::string_view raw, const ParseLimits &limits) {
    try {
        init(); // GMime's charset aliases; keeps the gconv modules loaded
        return detail::decode_rfc2047(raw, limits.fallback_charsets);
    } catch (...) {
        return {};
    }
}

std::vector<std::string> parse_message_ids(std::string_view value) {
    std::vector<std::string> ids;
    try {
        std::vector<std::string> bare; // tokens outside brackets, kept when they look like ids
        std::size_t bare_tokens = 0;
        std::size_t i = 0;
        const std::size_t n = value.size();
        auto is_space = [](char c) {
            return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == ';';
        };
        auto add = [&](std::string id) {
            detail::repair_utf8(id);
            if (!id.empty())
                ids.push_back(std::move(id));
        };
        while (i < n) {
            const char c = value[i];
            if (is_space(c)) {
                ++i;
            } else if (c == '(') {
                // RFC 5322 §3.2.2 comment, nested, with quoted-pairs; unterminated runs to the end.
                int level = 0;
                while (i < n) {
                    if (value[i] == '\\') {
                        i += 2;
                        continue;
                    }
                    if (value[i] == '(')
                        ++level;
                    else if (value[i] == ')' && --level == 0) {
                        ++i;
                        break;
                    }
                    ++i;
                }
            } else if (c == '<') {
                ++i;
                std::string id;
                while (i < n && value[i] != '>' && value[i] != '<') {
                    const char d = value[i++];
                    // Folding whitespace inside brackets is not part of the id.
                    if (d != ' ' && d != '\t' && d != '\r' && d != '\n' && d != '\0')
                        id.push_back(d);
                }
                if (i < n && value[i] == '>')
                    ++i;
                add(std::move(id));
            } else if (c == '"') {
                // A quoted string is junk here ("Your message of ..."), skip it whole.
                ++i;
                while (i < n && value[i] != '"') {
                    if (value[i] == '\\')
                        ++i;
                    ++i;
                }
                ++i;
            } else {
                const std::size_t start = i;
                while (i < n && !is_space(value[i]) && value[i] != '<' && value[i] != '(')
                    ++i;
                std::string tok(value.substr(start, i - start));
                ++bare_tokens;
                if (tok.find('@') != std::string::npos && tok.front() != '@' && tok.back() != '@') {
                    while (!tok.empty() && (tok.back() == '>' || tok.back() == '.'))
                        tok.pop_back();
                    detail::repair_utf8(tok);
                    ids.push_back(std::move(tok));
                } else {
                    bare.push_back(std::move(tok));
                }
            }
        }
        // A lone token without brackets and without '@' ("Message-ID: 12345"): still an id.
        if (ids.empty() && bare_tokens == 1 && bare.size() == 1)
            add(std::move(bare.front()));
    } catch (...) {
        // Out of memory: return what was collected.
    }
    return ids;
}

} // namespace crm::mime
