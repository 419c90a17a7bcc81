// A linear pre-scan that bounds the work gumbo 0.10.1 will do on an HTML input. Each tag's
// attributes are checked for duplicates against all earlier ones (40,000 attributes on one tag:
// 13 s), so tags with too many attributes are refused. And gumbo has no nesting limit; "has an
// element in scope" checks, "any other end tag" and the is-open test of reconstructing the active
// formatting elements walk its stack of open elements for most tokens, so 100,000 nested <div>s
// take 29 s and a 4,000-deep stack costs a second per MB of text after it (measured here). Browsers
// cap the tree depth (Blink at 512); gumbo's maintained fork has max_tree_depth (default 400),
// which Debian 12's 0.10.1 lacks.
//
// The scan simulates the tokenizer and a simplified tree builder and keeps an estimate, meant to
// be from above, of gumbo's stack depth plus its list of active formatting elements. It is built
// to pop an element only where gumbo pops it too, erring towards keeping it open:
//  - end tags and implied closes (p, li, dd/dt, table parts, headings, options) pop only what the
//    HTML Standard's in-body / in-table rules pop, and stop at every element that could block them
//    (scope boundaries, special elements, select, foreign and raw-text elements);
//  - formatting elements stay counted in the active list until their own end tag; a misnested end
//    tag (adoption agency with a furthest block) changes nothing in the estimate;
//  - where tokenizing depends on state gumbo may have and the scan may not know (inside select,
//    SVG/MathML, or a raw-text element the scan kept as an element), the scan assumes nothing:
//    raw-text elements become elements that no other end tag can pop through, and tags found
//    inside comments, CDATA, bogus comments and quoted attribute values count as opened
//    elements that are never closed.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <gumbo.h>

#include "internal.hpp"

namespace crm::mime::detail {
namespace {

enum Flag : std::uint8_t {
    kForeign = 1,  // SVG or MathML element
    kBoundary = 2, // scope boundary: no end tag but its own pops through it
    kRawtext = 4,  // raw-text capable element kept as an element (tokenizing is uncertain inside)
    kSelect = 8,
    kSpecial = 16, // "special" category: stops "any other end tag" and formatting end tags
    kMarker = 32,  // pushes a marker on the list of active formatting elements
};

struct Entry {
    GumboTag tag;
    std::uint64_t hash; // of the name, for elements gumbo does not know
    std::uint8_t flags;
};

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr auto kFormatting = std::to_array<GumboTag>(
    {GUMBO_TAG_A, GUMBO_TAG_B, GUMBO_TAG_BIG, GUMBO_TAG_CODE, GUMBO_TAG_EM, GUMBO_TAG_FONT,
     GUMBO_TAG_I, GUMBO_TAG_NOBR, GUMBO_TAG_S, GUMBO_TAG_SMALL, GUMBO_TAG_STRIKE, GUMBO_TAG_STRONG,
     GUMBO_TAG_TT, GUMBO_TAG_U});
// Elements gumbo never pushes (or pushes and pops at once) in body. menuitem and isindex are
// left out on purpose: counting them as opened errs on the safe side.
constexpr auto kVoid = std::to_array<GumboTag>(
    {GUMBO_TAG_AREA,   GUMBO_TAG_BASE,   GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_BR,
     GUMBO_TAG_COL,    GUMBO_TAG_EMBED,  GUMBO_TAG_HR,       GUMBO_TAG_IMG,     GUMBO_TAG_IMAGE,
     GUMBO_TAG_INPUT,  GUMBO_TAG_KEYGEN, GUMBO_TAG_LINK,     GUMBO_TAG_META,    GUMBO_TAG_PARAM,
     GUMBO_TAG_SOURCE, GUMBO_TAG_TRACK,  GUMBO_TAG_WBR,      GUMBO_TAG_FRAME,   GUMBO_TAG_HTML,
     GUMBO_TAG_BODY});
constexpr auto kBoundaries = std::to_array<GumboTag>(
    {GUMBO_TAG_HTML, GUMBO_TAG_TABLE, GUMBO_TAG_TD, GUMBO_TAG_TH, GUMBO_TAG_CAPTION,
     GUMBO_TAG_APPLET, GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT, GUMBO_TAG_TEMPLATE, GUMBO_TAG_BUTTON});
constexpr auto kMarkers =
    std::to_array<GumboTag>({GUMBO_TAG_TD, GUMBO_TAG_TH, GUMBO_TAG_CAPTION, GUMBO_TAG_APPLET,
                             GUMBO_TAG_MARQUEE, GUMBO_TAG_OBJECT, GUMBO_TAG_TEMPLATE});
constexpr auto kRawtextTags = std::to_array<GumboTag>(
    {GUMBO_TAG_SCRIPT, GUMBO_TAG_STYLE, GUMBO_TAG_XMP, GUMBO_TAG_IFRAME, GUMBO_TAG_NOEMBED,
     GUMBO_TAG_NOFRAMES, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TITLE, GUMBO_TAG_PLAINTEXT});
constexpr auto kTableParts = std::to_array<GumboTag>(
    {GUMBO_TAG_TABLE, GUMBO_TAG_TBODY, GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT, GUMBO_TAG_TR, GUMBO_TAG_TD,
     GUMBO_TAG_TH, GUMBO_TAG_CAPTION, GUMBO_TAG_COLGROUP});
constexpr auto kHeadings = std::to_array<GumboTag>(
    {GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5, GUMBO_TAG_H6});
// Start tags that close an open p element in button scope (table only in no-quirks mode: left
// out, as keeping the p open errs on the safe side).
constexpr auto kClosesP = std::to_array<GumboTag>(
    {GUMBO_TAG_ADDRESS, GUMBO_TAG_ARTICLE,   GUMBO_TAG_ASIDE,      GUMBO_TAG_BLOCKQUOTE,
     GUMBO_TAG_CENTER,  GUMBO_TAG_DETAILS,   GUMBO_TAG_DIR,        GUMBO_TAG_DIV,
     GUMBO_TAG_DL,      GUMBO_TAG_FIELDSET,  GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
     GUMBO_TAG_FOOTER,  GUMBO_TAG_HEADER,    GUMBO_TAG_HGROUP,     GUMBO_TAG_MAIN,
     GUMBO_TAG_MENU,    GUMBO_TAG_NAV,       GUMBO_TAG_OL,         GUMBO_TAG_P,
     GUMBO_TAG_SECTION, GUMBO_TAG_SUMMARY,   GUMBO_TAG_UL,         GUMBO_TAG_H1,
     GUMBO_TAG_H2,      GUMBO_TAG_H3,        GUMBO_TAG_H4,         GUMBO_TAG_H5,
     GUMBO_TAG_H6,      GUMBO_TAG_PRE,       GUMBO_TAG_LISTING,    GUMBO_TAG_FORM,
     GUMBO_TAG_XMP,     GUMBO_TAG_PLAINTEXT, GUMBO_TAG_LI});
// HTML Standard "special" category (HTML namespace) plus the foreign integration points.
// clang-format off
constexpr auto kSpecialTags = std::to_array<GumboTag>({
    GUMBO_TAG_ADDRESS, GUMBO_TAG_APPLET, GUMBO_TAG_AREA, GUMBO_TAG_ARTICLE, GUMBO_TAG_ASIDE,
    GUMBO_TAG_BASE, GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND, GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,
    GUMBO_TAG_BR, GUMBO_TAG_BUTTON, GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER, GUMBO_TAG_COL,
    GUMBO_TAG_COLGROUP, GUMBO_TAG_DD, GUMBO_TAG_DETAILS, GUMBO_TAG_DIR, GUMBO_TAG_DIV,
    GUMBO_TAG_DL, GUMBO_TAG_DT, GUMBO_TAG_EMBED, GUMBO_TAG_FIELDSET, GUMBO_TAG_FIGCAPTION,
    GUMBO_TAG_FIGURE, GUMBO_TAG_FOOTER, GUMBO_TAG_FORM, GUMBO_TAG_FRAME, GUMBO_TAG_FRAMESET,
    GUMBO_TAG_H1, GUMBO_TAG_H2, GUMBO_TAG_H3, GUMBO_TAG_H4, GUMBO_TAG_H5, GUMBO_TAG_H6,
    GUMBO_TAG_HEAD, GUMBO_TAG_HEADER, GUMBO_TAG_HGROUP, GUMBO_TAG_HR, GUMBO_TAG_HTML,
    GUMBO_TAG_IFRAME, GUMBO_TAG_IMG, GUMBO_TAG_INPUT, GUMBO_TAG_ISINDEX, GUMBO_TAG_LI,
    GUMBO_TAG_LINK, GUMBO_TAG_LISTING, GUMBO_TAG_MAIN, GUMBO_TAG_MARQUEE, GUMBO_TAG_MENU,
    GUMBO_TAG_MENUITEM, GUMBO_TAG_META, GUMBO_TAG_NAV, GUMBO_TAG_NOEMBED, GUMBO_TAG_NOFRAMES,
    GUMBO_TAG_NOSCRIPT, GUMBO_TAG_OBJECT, GUMBO_TAG_OL, GUMBO_TAG_P, GUMBO_TAG_PARAM,
    GUMBO_TAG_PLAINTEXT, GUMBO_TAG_PRE, GUMBO_TAG_SCRIPT, GUMBO_TAG_SECTION, GUMBO_TAG_SELECT,
    GUMBO_TAG_SOURCE, GUMBO_TAG_STYLE, GUMBO_TAG_SUMMARY, GUMBO_TAG_TABLE, GUMBO_TAG_TBODY,
    GUMBO_TAG_TD, GUMBO_TAG_TEMPLATE, GUMBO_TAG_TEXTAREA, GUMBO_TAG_TFOOT, GUMBO_TAG_TH,
    GUMBO_TAG_THEAD, GUMBO_TAG_TITLE, GUMBO_TAG_TR, GUMBO_TAG_TRACK, GUMBO_TAG_UL, GUMBO_TAG_WBR,
    GUMBO_TAG_XMP, GUMBO_TAG_MI, GUMBO_TAG_FOREIGNOBJECT, GUMBO_TAG_DESC});
// clang-format on
// Start tags that leave SVG/MathML content (HTML Standard 13.2.6.5; gumbo 0.10.1 agrees in
// document mode). font is left out: it breaks out only with color, face or size.
constexpr auto kBreakout = std::to_array<GumboTag>(
    {GUMBO_TAG_B,      GUMBO_TAG_BIG,    GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BODY,  GUMBO_TAG_BR,
     GUMBO_TAG_CENTER, GUMBO_TAG_CODE,   GUMBO_TAG_DD,         GUMBO_TAG_DIV,   GUMBO_TAG_DL,
     GUMBO_TAG_DT,     GUMBO_TAG_EM,     GUMBO_TAG_EMBED,      GUMBO_TAG_H1,    GUMBO_TAG_H2,
     GUMBO_TAG_H3,     GUMBO_TAG_H4,     GUMBO_TAG_H5,         GUMBO_TAG_H6,    GUMBO_TAG_HEAD,
     GUMBO_TAG_HR,     GUMBO_TAG_I,      GUMBO_TAG_IMG,        GUMBO_TAG_LI,    GUMBO_TAG_LISTING,
     GUMBO_TAG_MENU,   GUMBO_TAG_META,   GUMBO_TAG_NOBR,       GUMBO_TAG_OL,    GUMBO_TAG_P,
     GUMBO_TAG_PRE,    GUMBO_TAG_RUBY,   GUMBO_TAG_S,          GUMBO_TAG_SMALL, GUMBO_TAG_SPAN,
     GUMBO_TAG_STRONG, GUMBO_TAG_STRIKE, GUMBO_TAG_SUB,        GUMBO_TAG_SUP,   GUMBO_TAG_TABLE,
     GUMBO_TAG_TT,     GUMBO_TAG_U,      GUMBO_TAG_UL,         GUMBO_TAG_VAR});

enum Class : std::uint16_t {
    kIsFormatting = 1,
    kIsVoid = 2,
    kIsBoundary = 4,
    kIsMarker = 8,
    kIsRawtext = 16,
    kIsTablePart = 32,
    kIsHeading = 64,
    kIsClosesP = 128,
    kIsSpecial = 256,
    kIsBreakout = 512,
};

// Per-tag classes, built once (a function-local static: thread-safe initialisation).
std::uint16_t classes(GumboTag t) {
    static const auto table = [] {
        std::array<std::uint16_t, GUMBO_TAG_LAST + 1> c{};
        const auto mark = [&c](const auto &set, std::uint16_t bit) {
            for (const GumboTag x : set)
                c[x] = static_cast<std::uint16_t>(c[x] | bit);
        };
        mark(kFormatting, kIsFormatting);
        mark(kVoid, kIsVoid);
        mark(kBoundaries, kIsBoundary);
        mark(kMarkers, kIsMarker);
        mark(kRawtextTags, kIsRawtext);
        mark(kTableParts, kIsTablePart);
        mark(kHeadings, kIsHeading);
        mark(kClosesP, kIsClosesP);
        mark(kSpecialTags, kIsSpecial);
        mark(kBreakout, kIsBreakout);
        return c;
    }();
    return t <= GUMBO_TAG_LAST ? table[t] : 0;
}
bool is(GumboTag t, Class c) {
    return (classes(t) & c) != 0;
}

struct Tag {
    GumboTag tag = GUMBO_TAG_UNKNOWN;
    std::uint64_t hash = 0;
    bool end = false;
    bool self_closing = false;
    std::size_t next = 0; // index after the tag (or the input size when it never ends)
    bool complete = false;
    std::size_t attributes = 0;
};

class Scan {
  public:
    Scan(std::string_view s, std::size_t limit, std::size_t max_attributes)
        : s_(s), limit_(limit), max_attributes_(max_attributes) {}

    bool exceeds() {
        std::size_t i = 0;
        while (i < s_.size() && !over_) {
            const void *hit = std::memchr(s_.data() + i, '<', s_.size() - i);
            if (hit == nullptr)
                break;
            i = static_cast<std::size_t>(static_cast<const char *>(hit) - s_.data());
            i = markup(i);
        }
        return over_;
    }

  private:
    bool uncertain() const {
        return selects_ > 0 || rawtexts_ > 0 ||
               (!stack_.empty() && (stack_.back().flags & kForeign));
    }
    void check() {
        // +4: html, head/body and a transient implied colgroup or tbody are not simulated.
        if (stack_.size() + afe_.size() + phantom_ + 4 > limit_)
            over_ = true;
    }

    // Handles the markup at s_[i] == '<'; returns where to continue.
    std::size_t markup(std::size_t i) {
        const std::string_view s = s_;
        const std::size_t n = s.size();
        if (s.substr(i, 4) == "<!--") {
            std::size_t end = s.find("-->", i + 2);
            end = end == std::string_view::npos ? n : end + 3;
            // "--!>" ends a comment too; looked for only before "-->" to stay linear.
            const std::size_t bang = s.substr(0, end).find("--!>", i + 4);
            if (bang != std::string_view::npos && bang + 4 < end)
                end = bang + 4;
            return region(i + 4, end);
        }
        if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
            // DOCTYPE, bogus comments and (in foreign content) CDATA sections.
            const bool cdata = uncertain() && s.substr(i, 9) == "<![CDATA[";
            std::size_t end = s.find(cdata ? "]]>" : ">", i + 2);
            end = end == std::string_view::npos ? n : end + (cdata ? 3 : 1);
            return region(i + 2, end);
        }
        if (i + 1 < n && s[i + 1] == '/' && (i + 2 >= n || !is_alpha(s[i + 2]))) {
            if (i + 2 < n && s[i + 2] == '>')
                return i + 3;
            std::size_t end = s.find('>', i + 2);
            end = end == std::string_view::npos ? n : end + 1;
            return region(i + 2, end);
        }
        const bool end_tag = i + 1 < n && s[i + 1] == '/';
        if (i + 1 >= n || !(is_alpha(s[i + 1]) || end_tag))
            return i + 1;
        const Tag t = tag(i + (end_tag ? 2 : 1), end_tag);
        if (t.attributes > max_attributes_) {
            over_ = true; // gumbo's duplicate-attribute check is quadratic per tag
            return n;
        }
        if (!t.complete)
            return n; // EOF in a tag: gumbo drops it
        if (t.end)
            end_tag_token(t);
        else
            start_tag_token(t);
        check();
        if (!t.end && !uncertain() && is(t.tag, kIsRawtext) && !over_)
            return rawtext(t.tag, t.next);
        return t.next;
    }

    // A stretch whose tokenizing may differ between the scan and gumbo. In certain mode it is
    // skipped as the tokenizer would; otherwise every tag-like thing inside counts as opened.
    std::size_t region(std::size_t from, std::size_t to) {
        if (uncertain())
            phantoms(from, to);
        return to;
    }
    void phantoms(std::size_t from, std::size_t to) {
        for (std::size_t k = from; k + 1 < to && !over_; ++k) {
            if (s_[k] != '<' || !is_alpha(s_[k + 1]))
                continue;
            std::size_t e = k + 1;
            while (e < to && !is_ws(s_[e]) && s_[e] != '/' && s_[e] != '>')
                ++e;
            const GumboTag tag = tag_of(k + 1, e);
            if (is(tag, kIsRawtext) || tag == GUMBO_TAG_SELECT || tag == GUMBO_TAG_SVG ||
                tag == GUMBO_TAG_MATH)
                push(tag, 0, kBoundary | kSpecial | flags_of(tag));
            else
                ++phantom_;
            check();
            k = e - 1;
        }
    }

    GumboTag tag_of(std::size_t from, std::size_t to) {
        name_.clear();
        for (std::size_t k = from; k < to && name_.size() < 32; ++k)
            name_.push_back(ascii_lower(s_[k]));
        if (to - from >= 32)
            return GUMBO_TAG_UNKNOWN;
        return gumbo_tagn_enum(name_.data(), static_cast<unsigned>(name_.size()));
    }

    static std::uint8_t flags_of(GumboTag t) {
        std::uint8_t f = 0;
        if (is(t, kIsRawtext))
            f |= kRawtext | kBoundary;
        if (t == GUMBO_TAG_SELECT)
            f |= kSelect | kBoundary;
        return f;
    }

    // Reads a tag from its name at s_[from]; quoted attribute values are honoured as gumbo's
    // tokenizer does (in uncertain mode their content is also scanned for tags).
    Tag tag(std::size_t from, bool end_tag) {
        Tag t;
        t.end = end_tag;
        const std::string_view s = s_;
        const std::size_t n = s.size();
        std::size_t k = from;
        while (k < n && !is_ws(s[k]) && s[k] != '/' && s[k] != '>')
            ++k;
        t.tag = tag_of(from, k);
        if (t.tag == GUMBO_TAG_UNKNOWN) {
            std::uint64_t h = 1469598103934665603ULL;
            for (std::size_t j = from; j < k; ++j)
                h = (h ^ static_cast<unsigned char>(ascii_lower(s[j]))) * 1099511628211ULL;
            t.hash = h;
        }
        enum class St { BeforeName, Name, AfterName, BeforeValue, Unquoted };
        St st = St::BeforeName;
        while (k < n) {
            const char c = s[k];
            if (st == St::BeforeValue && (c == '"' || c == '\'')) {
                const std::size_t close = s.find(c, k + 1);
                const std::size_t stop = close == std::string_view::npos ? n : close;
                if (uncertain())
                    phantoms(k + 1, stop);
                if (close == std::string_view::npos)
                    return t;
                k = close + 1;
                st = St::BeforeName; // after-quoted: anything but '>' and '/' starts a name
                continue;
            }
            if (c == '>') {
                t.complete = true;
                t.next = k + 1;
                return t;
            }
            if (c == '/' && st != St::Unquoted && st != St::BeforeValue) {
                t.self_closing = k + 1 < n && s[k + 1] == '>';
                st = St::BeforeName;
                ++k;
                continue;
            }
            t.self_closing = false;
            switch (st) {
            case St::BeforeName:
                if (!is_ws(c)) {
                    st = St::Name;
                    ++t.attributes;
                }
                break;
            case St::Name:
                if (is_ws(c))
                    st = St::AfterName;
                else if (c == '=')
                    st = St::BeforeValue;
                break;
            case St::AfterName:
                if (c == '=') {
                    st = St::BeforeValue;
                } else if (!is_ws(c)) {
                    st = St::Name;
                    ++t.attributes;
                }
                break;
            case St::BeforeValue:
                if (!is_ws(c))
                    st = St::Unquoted;
                break;
            case St::Unquoted:
                if (is_ws(c))
                    st = St::BeforeName;
                break;
            }
            ++k;
        }
        return t;
    }

    // Skips raw text / RCDATA / script data up to the element's end tag (gumbo pushes and pops
    // the element around it). PLAINTEXT never ends.
    std::size_t rawtext(GumboTag tag, std::size_t from) {
        const std::string_view s = s_;
        const std::size_t n = s.size();
        if (tag == GUMBO_TAG_PLAINTEXT)
            return n;
        const char *name = gumbo_normalized_tagname(tag);
        const std::string_view nm(name);
        const auto end_tag_at = [&](std::size_t k, bool closing) {
            const std::size_t start = k + (closing ? 2 : 1);
            if (start + nm.size() >= n)
                return false;
            for (std::size_t j = 0; j < nm.size(); ++j)
                if (ascii_lower(s[start + j]) != nm[j])
                    return false;
            const char after = s[start + nm.size()];
            return is_ws(after) || after == '/' || after == '>';
        };
        // Script data escape states (HTML Standard 13.2.5.4 - 13.2.5.31): "<!--" escapes, and
        // "<script" inside an escaped run makes "</script>" not end the element.
        enum class Esc { None, Escaped, Double };
        Esc esc = Esc::None;
        int dashes = 0;
        for (std::size_t k = from; k < n; ++k) {
            const char c = s[k];
            if (c == '-') {
                ++dashes;
                continue;
            }
            if (c == '>' && dashes >= 2 && esc != Esc::None)
                esc = Esc::None;
            dashes = 0;
            if (c != '<' || k + 1 >= n)
                continue;
            if (s[k + 1] == '/' && end_tag_at(k, true)) {
                if (tag != GUMBO_TAG_SCRIPT || esc != Esc::Double) {
                    const Tag t = this->tag(k + 2, true);
                    return t.complete ? t.next : n;
                }
                esc = Esc::Escaped;
                continue;
            }
            if (tag != GUMBO_TAG_SCRIPT)
                continue;
            if (esc == Esc::None && s.substr(k, 4) == "<!--") {
                esc = Esc::Escaped;
                dashes = 2;
                k += 3;
            } else if (esc == Esc::Escaped && end_tag_at(k, false)) {
                esc = Esc::Double;
            }
        }
        return n;
    }

    void push(GumboTag tag, std::uint64_t hash, std::uint8_t flags) {
        stack_.push_back({tag, hash, flags});
        if (flags & kRawtext)
            ++rawtexts_;
        if (flags & kSelect)
            ++selects_;
        if (flags & kMarker)
            afe_.push_back(GUMBO_TAG_LAST);
    }
    void pop_to(std::size_t index) { // pops entries index.. top
        while (stack_.size() > index) {
            const Entry e = stack_.back();
            stack_.pop_back();
            if (e.flags & kRawtext)
                --rawtexts_;
            if (e.flags & kSelect)
                --selects_;
            if (e.flags & kMarker) {
                while (!afe_.empty() && afe_.back() != GUMBO_TAG_LAST)
                    afe_.pop_back();
                if (!afe_.empty())
                    afe_.pop_back();
            }
        }
    }
    static bool blocks(const Entry &e) { return (e.flags & (kBoundary | kForeign)) != 0; }
    static bool matches(const Entry &e, const Tag &t) {
        if (is(t.tag, kIsHeading))
            return is(e.tag, kIsHeading) && !(e.flags & kForeign);
        return e.tag == t.tag && e.hash == t.hash && !(e.flags & kForeign);
    }

    // Walks down from the current node for an element `pred` accepts; pops it and everything
    // above it unless something on the way could stop gumbo first. Returns true when it popped.
    template <class Pred, class Stop> bool close(Pred pred, Stop stop) {
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const Entry &e = stack_[k];
            if (pred(e)) {
                pop_to(k);
                return true;
            }
            if (stop(e))
                return false;
        }
        return false;
    }
    bool close_tag(GumboTag tag, std::uint8_t extra_stop) {
        return close([tag](const Entry &e) { return e.tag == tag && !(e.flags & kForeign); },
                     [extra_stop](const Entry &e) { return blocks(e) || (e.flags & extra_stop); });
    }
    void close_p() { close_tag(GUMBO_TAG_P, 0); }

    // Table-scope walk: only html, table and template (and the uncertain kinds) stop it.
    template <class Pred> bool close_in_table_scope(Pred pred, bool table_stops) {
        return close(pred, [table_stops](const Entry &e) {
            return e.tag == GUMBO_TAG_HTML || e.tag == GUMBO_TAG_TEMPLATE ||
                   (table_stops && e.tag == GUMBO_TAG_TABLE) ||
                   (e.flags & (kForeign | kRawtext | kSelect));
        });
    }

    bool in_table() const {
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const Entry &e = stack_[k];
            if (e.flags & kForeign)
                continue;
            if (e.tag == GUMBO_TAG_TABLE)
                return true;
            if (e.tag == GUMBO_TAG_TEMPLATE || e.tag == GUMBO_TAG_HTML)
                return false;
        }
        return false;
    }

    std::size_t last_marker() const {
        for (std::size_t k = afe_.size(); k-- > 0;)
            if (afe_[k] == GUMBO_TAG_LAST)
                return k + 1;
        return 0;
    }

    // Formatting end tag: the adoption agency's effect on the estimate. Returns false when the
    // element is not in the list, so the tag is an ordinary end tag.
    bool formatting_end(GumboTag tag) {
        std::size_t a = afe_.size();
        for (std::size_t k = afe_.size(); k-- > last_marker();)
            if (afe_[k] == tag) {
                a = k;
                break;
            }
        if (a == afe_.size())
            return false;
        bool special_above = false;
        for (std::size_t k = stack_.size(); k-- > 0;) {
            const Entry &e = stack_[k];
            if (e.tag == tag && !(e.flags & kForeign)) {
                if (!special_above) { // no furthest block: pop it and what is above it
                    pop_to(k);
                    afe_.erase(afe_.begin() + static_cast<std::ptrdiff_t>(a));
                }
                return true;
            }
            if (blocks(e))
                return true; // not in scope: ignored
            if (e.flags & kSpecial)
                special_above = true;
        }
        afe_.erase(afe_.begin() + static_cast<std::ptrdiff_t>(a)); // not open: removed from list
        return true;
    }

    void end_tag_token(const Tag &t) {
        if (stack_.empty())
            return;
        if (stack_.back().flags & kForeign) {
            // Foreign content: pops the nearest foreign element of that name, if no HTML element
            // comes first (then gumbo uses the HTML rules; assuming nothing errs on the safe side).
            for (std::size_t k = stack_.size(); k-- > 0;) {
                const Entry &e = stack_[k];
                if (!(e.flags & kForeign) || (e.flags & (kRawtext | kSelect)))
                    return;
                if (e.tag == t.tag && e.hash == t.hash) {
                    pop_to(k);
                    return;
                }
            }
            return;
        }
        const GumboTag tag = t.tag;
        if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_HEAD ||
            tag == GUMBO_TAG_BR)
            return;
        if (is(tag, kIsTablePart)) {
            close_in_table_scope([&t](const Entry &e) { return matches(e, t); },
                                 tag != GUMBO_TAG_TABLE);
            return;
        }
        if (is(tag, kIsFormatting) && formatting_end(tag))
            return;
        if (tag == GUMBO_TAG_FORM) {
            // Removes the form element alone; what is above it stays open.
            for (std::size_t k = stack_.size(); k-- > 0;) {
                if (stack_[k].tag == GUMBO_TAG_FORM && !(stack_[k].flags & kForeign)) {
                    stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(k));
                    return;
                }
                if (blocks(stack_[k]))
                    return;
            }
            return;
        }
        const bool special = is(tag, kIsSpecial);
        close([&t](const Entry &e) { return matches(e, t); },
              [special, tag](const Entry &e) {
                  return blocks(e) || (!special && (e.flags & kSpecial)) ||
                         (tag == GUMBO_TAG_LI && (e.tag == GUMBO_TAG_OL || e.tag == GUMBO_TAG_UL));
              });
    }

    void start_tag_token(const Tag &t) {
        const GumboTag tag = t.tag;
        if (!stack_.empty() && (stack_.back().flags & kForeign) && !is(tag, kIsBreakout)) {
            if (!t.self_closing)
                push(tag, t.hash, static_cast<std::uint8_t>(kForeign | flags_of(tag)));
            return;
        }
        if (tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH) {
            if (!t.self_closing)
                push(tag, 0, kForeign);
            return;
        }
        if (is(tag, kIsVoid) || tag == GUMBO_TAG_HEAD || tag == GUMBO_TAG_FRAMESET)
            return;
        // Outside a table, in body, gumbo ignores table-part start tags; treating them as in a
        // table would let <tr> "close" formatting elements nested below it.
        if (is(tag, kIsTablePart) && tag != GUMBO_TAG_TABLE && !in_table())
            return;
        if (is(tag, kIsClosesP))
            close_p();
        switch (tag) {
        case GUMBO_TAG_LI:
        case GUMBO_TAG_DD:
        case GUMBO_TAG_DT: {
            const bool li = tag == GUMBO_TAG_LI;
            close(
                [li](const Entry &e) {
                    return li ? e.tag == GUMBO_TAG_LI
                              : (e.tag == GUMBO_TAG_DD || e.tag == GUMBO_TAG_DT);
                },
                [](const Entry &e) {
                    return blocks(e) || ((e.flags & kSpecial) && e.tag != GUMBO_TAG_ADDRESS &&
                                         e.tag != GUMBO_TAG_DIV && e.tag != GUMBO_TAG_P);
                });
            if (!li)
                close_p();
            break;
        }
        case GUMBO_TAG_OPTION:
        case GUMBO_TAG_OPTGROUP:
            if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_OPTION)
                pop_to(stack_.size() - 1);
            break;
        case GUMBO_TAG_BUTTON:
            close_tag(GUMBO_TAG_BUTTON, 0);
            break;
        case GUMBO_TAG_A:
        case GUMBO_TAG_NOBR:
            formatting_end(tag);
            break;
        case GUMBO_TAG_TABLE:
            if (!stack_.empty() && is(stack_.back().tag, kIsTablePart) &&
                stack_.back().tag != GUMBO_TAG_TD && stack_.back().tag != GUMBO_TAG_TH &&
                stack_.back().tag != GUMBO_TAG_CAPTION)
                close_in_table_scope([](const Entry &e) { return e.tag == GUMBO_TAG_TABLE; },
                                     false);
            break;
        case GUMBO_TAG_TBODY:
        case GUMBO_TAG_THEAD:
        case GUMBO_TAG_TFOOT:
            close_in_table_scope(
                [](const Entry &e) {
                    return e.tag == GUMBO_TAG_TBODY || e.tag == GUMBO_TAG_THEAD ||
                           e.tag == GUMBO_TAG_TFOOT;
                },
                true);
            break;
        case GUMBO_TAG_TR:
            close_in_table_scope([](const Entry &e) { return e.tag == GUMBO_TAG_TR; }, true);
            if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_TABLE)
                push(GUMBO_TAG_TBODY, 0, kSpecial);
            break;
        case GUMBO_TAG_TD:
        case GUMBO_TAG_TH:
            close([](const Entry &e) { return e.tag == GUMBO_TAG_TD || e.tag == GUMBO_TAG_TH; },
                  [](const Entry &e) {
                      return e.tag == GUMBO_TAG_TR || e.tag == GUMBO_TAG_TABLE ||
                             e.tag == GUMBO_TAG_HTML || e.tag == GUMBO_TAG_TEMPLATE ||
                             (e.flags & (kForeign | kRawtext | kSelect));
                  });
            if (!stack_.empty() && stack_.back().tag == GUMBO_TAG_TABLE)
                push(GUMBO_TAG_TBODY, 0, kSpecial);
            if (!stack_.empty() &&
                (stack_.back().tag == GUMBO_TAG_TBODY || stack_.back().tag == GUMBO_TAG_THEAD ||
                 stack_.back().tag == GUMBO_TAG_TFOOT))
                push(GUMBO_TAG_TR, 0, kSpecial);
            break;
        default:
            if (is(tag, kIsHeading) && !stack_.empty() && is(stack_.back().tag, kIsHeading))
                pop_to(stack_.size() - 1);
            break;
        }
        if (!uncertain() && is(tag, kIsRawtext))
            return; // raw text: gumbo pops the element at its end tag (see rawtext())
        std::uint8_t flags = flags_of(tag);
        if (is(tag, kIsSpecial))
            flags |= kSpecial;
        if (is(tag, kIsBoundary))
            flags |= kBoundary;
        if (is(tag, kIsMarker))
            flags |= kMarker;
        push(tag, t.hash, flags);
        if (is(tag, kIsFormatting))
            afe_.push_back(tag);
    }

    std::string_view s_;
    std::size_t limit_;
    std::size_t max_attributes_;
    std::vector<Entry> stack_;
    std::vector<GumboTag> afe_; // GUMBO_TAG_LAST is a marker
    std::size_t phantom_ = 0;
    int rawtexts_ = 0;
    int selects_ = 0;
    bool over_ = false;
    std::string name_;
};

} // namespace

bool html_exceeds_parser_limits(std::string_view html, std::size_t max_nesting,
                                std::size_t max_attributes) {
    Scan scan(html, max_nesting, max_attributes);
    return scan.exceeds();
}

} // namespace crm::mime::detail
