// A small linear-time HTML to text converter. It never builds a tree, so deeply nested or
// unbalanced markup costs nothing extra; every input byte is looked at a bounded number of times.

#include <array>
#include <cstring>
#include <string>

#include "internal.hpp"

namespace crm::mime {
namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == ':';
}

// Entities and numeric references may name NUL, a surrogate or a value past U+10FFFF: those
// become U+FFFD (HTML Living Standard, numeric character reference end state).
void append_char(std::string& out, std::uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    append_utf8(out, char32_t{cp});
}

struct Entity {
    const char *name;
    std::uint32_t cp;
};
constexpr std::array<Entity, 40> kEntities{{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},       {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},    {"copy", 0xA9},     {"reg", 0xAE},     {"trade", 0x2122}, {"hellip", 0x2026},
    {"mdash", 0x2014}, {"ndash", 0x2013},  {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"sbquo", 0x201A},  {"bdquo", 0x201E}, {"bull", 0x2022},  {"middot", 0xB7},
    {"euro", 0x20AC},  {"pound", 0xA3},    {"yen", 0xA5},     {"cent", 0xA2},    {"laquo", 0xAB},
    {"raquo", 0xBB},   {"deg", 0xB0},      {"times", 0xD7},   {"divide", 0xF7},  {"sect", 0xA7},
    {"para", 0xB6},    {"iexcl", 0xA1},    {"iquest", 0xBF},  {"shy", 0xAD},     {"zwnj", 0x200C},
    {"zwj", 0x200D},   {"thinsp", 0x2009}, {"ensp", 0x2002},  {"emsp", 0x2003},  {"rarr", 0x2192},
}};

// HTML 4 names of U+00C0..U+00FF, in code point order.
constexpr std::array<const char *, 64> kLatin1{{
    "Agrave", "Aacute", "Acirc",  "Atilde", "Auml",   "Aring",  "AElig", "Ccedil",
    "Egrave", "Eacute", "Ecirc",  "Euml",   "Igrave", "Iacute", "Icirc", "Iuml",
    "ETH",    "Ntilde", "Ograve", "Oacute", "Ocirc",  "Otilde", "Ouml",  "times",
    "Oslash", "Ugrave", "Uacute", "Ucirc",  "Uuml",   "Yacute", "THORN", "szlig",
    "agrave", "aacute", "acirc",  "atilde", "auml",   "aring",  "aelig", "ccedil",
    "egrave", "eacute", "ecirc",  "euml",   "igrave", "iacute", "icirc", "iuml",
    "eth",    "ntilde", "ograve", "oacute", "ocirc",  "otilde", "ouml",  "divide",
    "oslash", "ugrave", "uacute", "ucirc",  "uuml",   "yacute", "thorn", "yuml",
}};

// Output builder that collapses whitespace: runs of blanks become one space, block breaks
// become at most one blank line, and no line starts or ends with a space.
class Out {
  public:
    explicit Out(std::size_t hint) { s_.reserve(hint); }
    void text(char c) {
        if (is_ws(c)) {
            pending_space_ = true;
            return;
        }
        flush_space();
        s_.push_back(c);
        newlines_ = 0;
    }
    void raw(std::string_view t) {
        flush_space();
        s_.append(t);
        newlines_ = 0;
    }
    void cp(std::uint32_t c) {
        if (c == 0xA0 || c == 0x2002 || c == 0x2003 || c == 0x2009) {
            pending_space_ = true;
            return;
        }
        if (c == 0xAD || c == 0x200C || c == 0x200D)
            return;
        flush_space();
        append_char(s_, c);
        newlines_ = 0;
    }
    void newline(int max_run) {
        pending_space_ = false;
        if (s_.empty())
            return;
        while (newlines_ < max_run) {
            s_.push_back('\n');
            ++newlines_;
        }
    }
    std::string take() {
        while (!s_.empty() && (s_.back() == '\n' || s_.back() == ' '))
            s_.pop_back();
        return std::move(s_);
    }

  private:
    void flush_space() {
        if (pending_space_ && !s_.empty() && s_.back() != '\n')
            s_.push_back(' ');
        pending_space_ = false;
    }
    std::string s_;
    bool pending_space_ = false;
    int newlines_ = 0;
};

bool name_is(std::string_view name, const char *const *list) {
    for (; *list != nullptr; ++list)
        if (name == *list)
            return true;
    return false;
}

constexpr const char *kSkipContent[] = {"script",   "style",  "head", "title", "template",
                                        "noscript", "object", "svg",  nullptr};
constexpr const char *kParagraph[] = {
    "p",        "div",     "table",  "ul",     "ol",    "dl",     "blockquote",
    "pre",      "h1",      "h2",     "h3",     "h4",    "h5",     "h6",
    "section",  "article", "header", "footer", "form",  "hr",     "address",
    "fieldset", "center",  "main",   "nav",    "aside", "figure", nullptr};
constexpr const char *kLine[] = {"br", "li", "tr", "dt", "dd", "caption", "option", nullptr};
constexpr const char *kCell[] = {"td", "th", nullptr};

// Case-insensitive search for "</name" starting at `from`; npos if absent. Linear.
std::size_t find_close_tag(std::string_view html, std::size_t from, std::string_view name) {
    while (from < html.size()) {
        const void *hit = std::memchr(html.data() + from, '<', html.size() - from);
        if (hit == nullptr)
            return std::string_view::npos;
        const auto lt = static_cast<std::size_t>(static_cast<const char *>(hit) - html.data());
        if (lt + 1 + name.size() < html.size() && html[lt + 1] == '/') {
            bool eq = true;
            for (std::size_t k = 0; k < name.size(); ++k)
                if (lower(html[lt + 2 + k]) != name[k]) {
                    eq = false;
                    break;
                }
            if (eq && !is_name_char(html[lt + 2 + name.size()]))
                return lt;
        }
        from = lt + 1;
    }
    return std::string_view::npos;
}

// Decodes the entity starting at html[i] == '&'; returns the index after it, or i+1 with a
// literal '&' when it is not an entity.
std::size_t entity(std::string_view html, std::size_t i, Out &out) {
    const std::size_t max_end = std::min(html.size(), i + 12);
    std::size_t j = i + 1;
    if (j < max_end && html[j] == '#') {
        ++j;
        const bool hex = j < max_end && (html[j] == 'x' || html[j] == 'X');
        if (hex)
            ++j;
        std::uint32_t cp = 0;
        const std::size_t digits_start = j;
        while (j < max_end) {
            const char c = html[j];
            std::uint32_t d = 0;
            if (c >= '0' && c <= '9')
                d = static_cast<std::uint32_t>(c - '0');
            else if (hex && c >= 'a' && c <= 'f')
                d = static_cast<std::uint32_t>(c - 'a' + 10);
            else if (hex && c >= 'A' && c <= 'F')
                d = static_cast<std::uint32_t>(c - 'A' + 10);
            else
                break;
            cp = cp * (hex ? 16U : 10U) + d;
            if (cp > 0x10FFFF)
                cp = 0x110000; // saturate; becomes U+FFFD
            ++j;
        }
        if (j == digits_start) {
            out.text('&');
            return i + 1;
        }
        if (j < html.size() && html[j] == ';')
            ++j;
        // Windows-1252 C1 range used as code points by broken generators.
        if (cp == 0x92)
            cp = 0x2019;
        else if (cp == 0x93)
            cp = 0x201C;
        else if (cp == 0x94)
            cp = 0x201D;
        else if (cp == 0x96)
            cp = 0x2013;
        else if (cp == 0x97)
            cp = 0x2014;
        out.cp(cp);
        return j;
    }
    while (j < max_end &&
           ((html[j] >= 'a' && html[j] <= 'z') || (html[j] >= 'A' && html[j] <= 'Z') ||
            (html[j] >= '0' && html[j] <= '9')))
        ++j;
    const std::string_view name = html.substr(i + 1, j - i - 1);
    for (std::size_t k = 0; k < kLatin1.size(); ++k) {
        if (name == kLatin1[k]) {
            if (j < html.size() && html[j] == ';')
                ++j;
            out.cp(static_cast<std::uint32_t>(0xC0 + k));
            return j;
        }
    }
    for (const auto &e : kEntities) {
        if (name == e.name) {
            if (j < html.size() && html[j] == ';')
                ++j;
            out.cp(e.cp);
            return j;
        }
    }
    out.text('&');
    return i + 1;
}

} // namespace

std::string html_to_text(std::string_view html) {
    try {
        Out out(html.size() / 2 + 16);
        std::size_t i = 0;
        const std::size_t n = html.size();
        std::string name;
        bool no_head_close = false;
        while (i < n) {
            const char c = html[i];
            if (c == '&') {
                i = entity(html, i, out);
                continue;
            }
            if (c != '<') {
                // Copy a run of plain text up to the next markup character.
                std::size_t j = i;
                while (j < n && html[j] != '<' && html[j] != '&')
                    ++j;
                for (std::size_t k = i; k < j; ++k)
                    out.text(html[k]);
                i = j;
                continue;
            }
            // Markup. Comments: skip to "-->" (or the end).
            if (html.substr(i, 4) == "<!--") {
                const std::size_t end = html.find("-->", i + 4);
                i = end == std::string_view::npos ? n : end + 3;
                continue;
            }
            std::size_t j = i + 1;
            const bool closing = j < n && html[j] == '/';
            if (closing)
                ++j;
            if (j >= n || !(is_name_char(html[j]) || html[j] == '!' || html[j] == '?')) {
                out.text('<'); // a bare '<' in text
                ++i;
                continue;
            }
            name.clear();
            while (j < n && is_name_char(html[j]) && name.size() < 16)
                name.push_back(lower(html[j++]));
            // The tag ends at the first '>' (quotes in attributes are not honoured: keeps the
            // scan linear for unterminated quotes, at the price of rare '>' in attributes).
            const void *gt = std::memchr(html.data() + j, '>', n - j);
            const std::size_t tag_end =
                gt == nullptr
                    ? n
                    : static_cast<std::size_t>(static_cast<const char *>(gt) - html.data()) + 1;
            i = tag_end;
            if (closing) {
                if (name_is(name, kParagraph))
                    out.newline(2);
                else if (name_is(name, kLine))
                    out.newline(1);
                else if (name_is(name, kCell))
                    out.text(' ');
                continue;
            }
            if (name_is(name, kSkipContent)) {
                // Once a search for </head> failed, later ones would too: skip them, or a page
                // of unclosed <head> tags would be quadratic.
                if (name == "head" && no_head_close)
                    continue;
                const std::size_t close = find_close_tag(html, i, name);
                if (close == std::string_view::npos && name == "head")
                    no_head_close = true;
                if (close == std::string_view::npos) {
                    // An unclosed <head> is common in broken mail: keep going (its script,
                    // style and title are skipped one by one). Unclosed script/style eat the rest,
                    // as in a browser.
                    if (name != "head")
                        i = n;
                } else {
                    const void *g2 = std::memchr(html.data() + close, '>', n - close);
                    i = g2 == nullptr ? n
                                      : static_cast<std::size_t>(static_cast<const char *>(g2) -
                                                                 html.data()) +
                                            1;
                }
                continue;
            }
            if (name_is(name, kParagraph)) {
                out.newline(2);
            } else if (name == "li") {
                out.newline(1);
                out.raw("- ");
            } else if (name_is(name, kLine)) {
                out.newline(1);
            } else if (name_is(name, kCell)) {
                out.text(' ');
            }
        }
        std::string s = out.take();
        detail::repair_utf8(s);
        return s;
    } catch (...) {
        return {};
    }
}

} // namespace crm::mime
