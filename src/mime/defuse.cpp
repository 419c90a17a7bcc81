// Pre-parse defusing of inputs that make GMime 3.2 itself misbehave (found by testing it):
//  - nested group syntax in address fields ("To: a:a:a:...:b@c") recurses once per ':' in
//    GMime's address parser: ~50,000 levels overflow an 8 MB stack (a crash, not a warning);
//  - thousands of Content-Type / Content-Disposition parameters are handled in quadratic time
//    (40,000 parameters: 6 s).
// Only such pathological fields are changed, in place and byte for byte (offsets stay valid):
// group colons beyond a small depth become spaces, parameters beyond a cap are blanked.

#include <array>
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

std::vector<std::size_t> find_blanks(std::string_view s) {
    std::vector<std::size_t> blank;
    FieldState st;
    std::size_t pos = 0;
    while (pos < s.size()) {
        std::size_t end = s.find('\n', pos);
        end = end == std::string_view::npos ? s.size() : end + 1;
        const char first = s[pos];
        if (first == ' ' || first == '\t') {
            if (st.kind != Kind::None)
                scan(s, pos, end, st, blank); // folded continuation of the current field
        } else {
            st = FieldState{};
            // Every name kind_of() knows starts with one of these letters: most body lines
            // (base64, text) are passed over after one byte.
            const char c0 = ascii_lower(first);
            if (c0 != 'f' && c0 != 's' && c0 != 'r' && c0 != 't' && c0 != 'c' && c0 != 'b') {
                pos = end;
                continue;
            }
            // "Name:" at a line start, anywhere (nested messages and part headers included).
            std::size_t k = pos;
            // The longest name kind_of() knows is 19 bytes ("content-disposition"): looking
            // further (base64 body lines) cannot find a field it would act on.
            while (k < end && k - pos < kLongestName + 1 && s[k] != ':' && s[k] > ' ' &&
                   s[k] < 127)
                ++k;
            if (k < end && s[k] == ':' && k > pos) {
                st.kind = kind_of(s.substr(pos, k - pos));
                if (st.kind != Kind::None)
                    scan(s, k + 1, end, st, blank);
            }
        }
        pos = end;
    }
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
