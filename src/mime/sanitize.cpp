// HTML sanitiser: gumbo builds the HTML5 tree (the browser's algorithm), an allowlist walk writes
// out what may stay, and the result is parsed again until it no longer changes, so that a parser
// following the HTML Standard builds from the output the same tree that was checked.
//
// Design notes:
//  - Document mode after a leading "<body>", not fragment parsing: gumbo 0.10.1's fragment mode
//    never leaves SVG/MathML content for breakout tags such as <p> or <img> (a parser difference
//    from browsers); its document mode follows the HTML Standard. Only <body>'s children are
//    written out.
//  - Memory comes from a tracked allocator and is released in one loop: gumbo_destroy_output
//    recurses once per tree level, and the adoption agency can build trees far deeper than the
//    stack of open elements.
//  - html_exceeds_parser_limits (html_guard.cpp) bounds gumbo's quadratic behaviour on deep
//    nesting and on tags with many attributes; markup it rejects is shown as plain text.

#include "crm/mime/sanitize.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <gumbo.h>

#include "crm/core/html_escape.hpp"
#include "internal.hpp"

namespace crm::mime {
namespace {

// gumbo's stack of open elements plus active formatting elements beyond which the input is shown
// as text; gumbo's maintained fork uses 400 as its default max_tree_depth.
constexpr std::size_t kMaxParserNesting = 400;
// Attributes on one tag beyond which the input is shown as text (gumbo checks duplicates in
// quadratic time; real mail has a handful).
constexpr std::size_t kMaxAttributes = 128;
// Re-parses of the output allowed to reach a fixed point (two are needed only for trees that no
// serialisation reproduces, such as nested <a> from foster parenting).
constexpr int kMaxVerifyPasses = 3;
constexpr std::size_t kMaxWarnings = 50;

// ---- memory ---------------------------------------------------------------------------------

// Every gumbo allocation carries a list node, so the whole parse is freed without walking the tree.
struct alignas(std::max_align_t) AllocHeader {
    AllocHeader *prev;
    AllocHeader *next;
};

class Arena {
  public:
    Arena() { head_.prev = head_.next = &head_; }
    Arena(const Arena &) = delete;
    Arena &operator=(const Arena &) = delete;
    ~Arena() {
        AllocHeader *h = head_.next;
        while (h != &head_) {
            AllocHeader *next = h->next;
            std::free(h);
            h = next;
        }
    }
    static void *allocate(void *userdata, std::size_t size) {
        auto *arena = static_cast<Arena *>(userdata);
        void *raw = std::malloc(sizeof(AllocHeader) + size);
        if (raw == nullptr)
            std::abort(); // gumbo does not check for NULL: out of memory ends the process
        auto *h = static_cast<AllocHeader *>(raw);
        h->prev = &arena->head_;
        h->next = arena->head_.next;
        arena->head_.next->prev = h;
        arena->head_.next = h;
        return h + 1;
    }
    static void deallocate(void *, void *p) {
        if (p == nullptr)
            return;
        AllocHeader *h = static_cast<AllocHeader *>(p) - 1;
        h->prev->next = h->next;
        h->next->prev = h->prev;
        std::free(h);
    }

  private:
    AllocHeader head_{};
};

// ---- small helpers --------------------------------------------------------------------------

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}
bool iequals_prefix(std::string_view s, std::string_view lower_prefix) {
    if (s.size() < lower_prefix.size())
        return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i)
        if (ascii_lower(s[i]) != lower_prefix[i])
            return false;
    return true;
}

// ---- URLs -----------------------------------------------------------------------------------

struct Url {
    std::string scheme; // lower case; empty for a relative reference
    std::string text;   // cleaned, with the scheme in lower case
};

// As a browser's URL parser before scheme detection (WHATWG URL): strip leading and trailing C0
// controls and spaces, remove every tab and newline. Other controls left inside: rejected.
std::optional<Url> clean_url(std::string_view raw) {
    std::string s;
    s.reserve(raw.size());
    for (const char c : raw)
        if (c != '\t' && c != '\n' && c != '\r')
            s.push_back(c);
    std::size_t b = 0;
    std::size_t e = s.size();
    while (b < e && static_cast<unsigned char>(s[b]) <= 0x20)
        ++b;
    while (e > b && static_cast<unsigned char>(s[e - 1]) <= 0x20)
        --e;
    s = s.substr(b, e - b);
    for (const char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            return std::nullopt;
    Url u;
    std::size_t k = 0;
    if (!s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        k = 1;
        while (k < s.size() &&
               ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
                (s[k] >= '0' && s[k] <= '9') || s[k] == '+' || s[k] == '-' || s[k] == '.'))
            ++k;
        if (k < s.size() && s[k] == ':') {
            for (std::size_t i = 0; i < k; ++i)
                u.scheme.push_back(ascii_lower(s[i]));
            u.text = u.scheme + s.substr(k);
            return u;
        }
    }
    u.text = std::move(s);
    return u;
}

// data:image/(png|gif|jpeg|webp);base64,<base64>: raster images only (SVG can carry script).
std::optional<std::string> data_image(std::string_view url) {
    static constexpr auto kTypes = std::to_array<std::string_view>({"png", "gif", "jpeg", "webp"});
    if (!iequals_prefix(url, "data:image/"))
        return std::nullopt;
    for (const std::string_view type : kTypes) {
        const std::string prefix = "data:image/" + std::string(type) + ";base64,";
        if (!iequals_prefix(url, prefix))
            continue;
        const std::string_view payload = url.substr(prefix.size());
        if (payload.empty())
            return std::nullopt;
        for (const char c : payload)
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '='))
                return std::nullopt;
        return prefix + std::string(payload);
    }
    return std::nullopt;
}

// RFC 2392: the cid URL is the Content-ID's addr-spec, %-encoded; brackets are tolerated.
std::string content_id_of(std::string_view rest) {
    if (!rest.empty() && rest.front() == '<')
        rest.remove_prefix(1);
    if (!rest.empty() && rest.back() == '>')
        rest.remove_suffix(1);
    std::string out;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 2 < rest.size() && detail::hex_value(rest[i + 1]) >= 0 &&
            detail::hex_value(rest[i + 2]) >= 0) {
            out.push_back(static_cast<char>(detail::hex_value(rest[i + 1]) * 16 +
                                            detail::hex_value(rest[i + 2])));
            i += 2;
        } else {
            out.push_back(rest[i]);
        }
    }
    return out;
}

// ---- CSS ------------------------------------------------------------------------------------

bool allowed_property(std::string_view p) {
    static constexpr auto kExact = std::to_array<std::string_view>(
        {"color", "background-color", "text-align", "line-height", "width", "height", "max-width",
         "min-width", "vertical-align", "white-space", "display", "letter-spacing",
         "list-style-type", "text-transform", "direction"});
    for (const auto e : kExact)
        if (p == e)
            return true;
    static constexpr auto kFamilies =
        std::to_array<std::string_view>({"font", "margin", "padding", "border", "text-decoration"});
    for (const auto f : kFamilies)
        if (p == f || (p.starts_with(f) && p.size() > f.size() && p[f.size()] == '-'))
            return !p.starts_with("border-image"); // border-image-source fetches images
    return false;
}

// Counts url(http...), url(https...) and url(//...) in a lower-cased value.
int remote_urls(std::string_view v) {
    int n = 0;
    std::size_t at = 0;
    while ((at = v.find("url(", at)) != std::string_view::npos) {
        at += 4;
        std::size_t k = at;
        while (k < v.size() && (is_ws(v[k]) || v[k] == '"' || v[k] == '\''))
            ++k;
        const std::string_view rest = v.substr(k);
        if (rest.starts_with("http:") || rest.starts_with("https:") || rest.starts_with("//"))
            ++n;
    }
    return n;
}

// A font size (alone, or the first size in a "font" shorthand) under 4px, in any absolute or
// relative unit that makes it that small: 0, 0.1em, 2px, 1pt, 0%...
bool hides_text(std::string_view v) {
    std::size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && (v[i] == ' ' || v[i] == '/'))
            ++i;
        std::size_t j = i;
        while (j < v.size() && v[j] != ' ' && v[j] != '/')
            ++j;
        const std::string_view word = v.substr(i, j - i);
        i = j;
        if (word.empty() || !((word[0] >= '0' && word[0] <= '9') || word[0] == '.'))
            continue; // a keyword (bold, italic, small...) or a family name
        std::size_t k = 0;
        while (k < word.size() && ((word[k] >= '0' && word[k] <= '9') || word[k] == '.'))
            ++k;
        double n = 0;
        try {
            n = std::stod(std::string(word.substr(0, k)));
        } catch (const std::exception &) {
            return true; // "." alone: not a size anyone writes
        }
        const std::string_view unit = word.substr(k);
        if (unit.empty() || unit == "px")
            return n < 4;
        if (unit == "pt")
            return n < 3;
        if (unit == "em" || unit == "rem")
            return n < 0.3;
        if (unit == "%")
            return n < 30;
        return n == 0; // other units: only zero is known to hide
    }
    return false;
}

// style="..." -> the allowed declarations, "prop: value; prop: value". Values that could load
// anything (url() and its CSS Values 4 twin src(), image functions), run anything or escape the
// declaration are dropped whole.
std::string filter_style(std::string_view style, int &remote) {
    static constexpr auto kBanned = std::to_array<std::string_view>(
        {"url(", "src(", "expression", "\\", "@", "<", ">", "javascript:", "vbscript:",
         "behavior", "-moz-binding", "/*", "*/", "{", "}", "image-set", "image(", "cross-fade"});
    std::string out;
    std::size_t pos = 0;
    while (pos <= style.size()) {
        std::size_t semi = style.find(';', pos);
        if (semi == std::string_view::npos)
            semi = style.size();
        const std::string_view decl = style.substr(pos, semi - pos);
        pos = semi + 1;
        const std::size_t colon = decl.find(':');
        if (colon == std::string_view::npos)
            continue;
        const std::string prop = detail::ascii_lower(detail::trim(decl.substr(0, colon)));
        // Collapse white space (tab, newline, form feed) so the output is stable.
        std::string value;
        bool space = false;
        for (const char c : detail::trim(decl.substr(colon + 1))) {
            if (is_ws(c)) {
                space = true;
                continue;
            }
            if (space && !value.empty())
                value.push_back(' ');
            space = false;
            value.push_back(c);
        }
        const std::string lv = detail::ascii_lower(value);
        remote += remote_urls(lv);
        if (prop.empty() || value.empty() || !allowed_property(prop))
            continue;
        bool ok = true;
        for (const char c : prop)
            ok = ok && ((c >= 'a' && c <= 'z') || c == '-');
        // In the property too: the families allow any "border-..." name, and a made-up one such
        // as "border-moz-binding" must not carry a banned word through (found by sanitize_fuzz).
        for (const auto b : kBanned)
            ok = ok && lv.find(b) == std::string::npos && prop.find(b) == std::string::npos;
        std::size_t dq = 0;
        std::size_t sq = 0;
        for (const char c : value) {
            ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != 0x7F;
            dq += c == '"' ? 1 : 0;
            sq += c == '\'' ? 1 : 0;
        }
        ok = ok && dq % 2 == 0 && sq % 2 == 0;
        std::string_view plain = lv;
        if (plain.ends_with("!important"))
            plain = detail::trim(plain.substr(0, plain.size() - 10));
        // Nothing may hide text from the reader that the text view would show (a phishing mail
        // hides the real sender or a disclaimer): display is never "none", and no font is made
        // too small to read.
        if (ok && prop == "display")
            ok = plain == "block" || plain == "inline" || plain == "inline-block" ||
                 plain.starts_with("table");
        if (ok && (prop == "font-size" || prop == "font"))
            ok = !hides_text(plain);
        if (!ok)
            continue;
        if (!out.empty())
            out += "; ";
        out += prop;
        out += ": ";
        out += value;
    }
    return out;
}

// ---- element and attribute policy -----------------------------------------------------------

enum class Policy : std::uint8_t { Unwrap, Keep, Drop };

constexpr auto kKeep = std::to_array<GumboTag>(
    {GUMBO_TAG_A,       GUMBO_TAG_ABBR,     GUMBO_TAG_ADDRESS,    GUMBO_TAG_ARTICLE,
     GUMBO_TAG_ASIDE,   GUMBO_TAG_B,        GUMBO_TAG_BLOCKQUOTE, GUMBO_TAG_BR,
     GUMBO_TAG_CAPTION, GUMBO_TAG_CENTER,   GUMBO_TAG_CITE,       GUMBO_TAG_CODE,
     GUMBO_TAG_COL,     GUMBO_TAG_COLGROUP, GUMBO_TAG_DD,         GUMBO_TAG_DEL,
     GUMBO_TAG_DETAILS, GUMBO_TAG_DFN,      GUMBO_TAG_DIV,        GUMBO_TAG_DL,
     GUMBO_TAG_DT,      GUMBO_TAG_EM,       GUMBO_TAG_FIGCAPTION, GUMBO_TAG_FIGURE,
     GUMBO_TAG_FONT,    GUMBO_TAG_FOOTER,   GUMBO_TAG_H1,         GUMBO_TAG_H2,
     GUMBO_TAG_H3,      GUMBO_TAG_H4,       GUMBO_TAG_H5,         GUMBO_TAG_H6,
     GUMBO_TAG_HEADER,  GUMBO_TAG_HR,       GUMBO_TAG_I,          GUMBO_TAG_IMG,
     GUMBO_TAG_INS,     GUMBO_TAG_KBD,      GUMBO_TAG_LI,         GUMBO_TAG_MAIN,
     GUMBO_TAG_MARK,    GUMBO_TAG_NAV,      GUMBO_TAG_OL,         GUMBO_TAG_P,
     GUMBO_TAG_PRE,     GUMBO_TAG_Q,        GUMBO_TAG_S,          GUMBO_TAG_SAMP,
     GUMBO_TAG_SECTION, GUMBO_TAG_SMALL,    GUMBO_TAG_SPAN,       GUMBO_TAG_STRIKE,
     GUMBO_TAG_STRONG,  GUMBO_TAG_SUB,      GUMBO_TAG_SUMMARY,    GUMBO_TAG_SUP,
     GUMBO_TAG_TABLE,   GUMBO_TAG_TBODY,    GUMBO_TAG_TD,         GUMBO_TAG_TFOOT,
     GUMBO_TAG_TH,      GUMBO_TAG_THEAD,    GUMBO_TAG_TR,         GUMBO_TAG_TT,
     GUMBO_TAG_U,       GUMBO_TAG_UL,       GUMBO_TAG_VAR,        GUMBO_TAG_WBR});
// Dropped with their content: active content, frames, head elements, form controls, media,
// foreign content. Everything else not kept (unknown elements, form, label, xmp, ...) is
// unwrapped.
constexpr auto kDrop = std::to_array<GumboTag>(
    {GUMBO_TAG_SCRIPT,   GUMBO_TAG_STYLE,    GUMBO_TAG_IFRAME,   GUMBO_TAG_FRAME,
     GUMBO_TAG_FRAMESET, GUMBO_TAG_OBJECT,   GUMBO_TAG_EMBED,    GUMBO_TAG_APPLET,
     GUMBO_TAG_PARAM,    GUMBO_TAG_NOSCRIPT, GUMBO_TAG_NOEMBED,  GUMBO_TAG_NOFRAMES,
     GUMBO_TAG_TEMPLATE, GUMBO_TAG_HEAD,     GUMBO_TAG_TITLE,    GUMBO_TAG_META,
     GUMBO_TAG_LINK,     GUMBO_TAG_BASE,     GUMBO_TAG_BASEFONT, GUMBO_TAG_BGSOUND,
     GUMBO_TAG_INPUT,    GUMBO_TAG_BUTTON,   GUMBO_TAG_SELECT,   GUMBO_TAG_OPTION,
     GUMBO_TAG_OPTGROUP, GUMBO_TAG_DATALIST, GUMBO_TAG_TEXTAREA, GUMBO_TAG_KEYGEN,
     GUMBO_TAG_OUTPUT,   GUMBO_TAG_PROGRESS, GUMBO_TAG_METER,    GUMBO_TAG_ISINDEX,
     GUMBO_TAG_MENUITEM, GUMBO_TAG_AUDIO,    GUMBO_TAG_VIDEO,    GUMBO_TAG_SOURCE,
     GUMBO_TAG_TRACK,    GUMBO_TAG_CANVAS,   GUMBO_TAG_MAP,      GUMBO_TAG_AREA,
     GUMBO_TAG_SVG,      GUMBO_TAG_MATH,     GUMBO_TAG_IMAGE,    GUMBO_TAG_NEXTID});

Policy policy_of(GumboTag t) {
    static const auto table = [] {
        std::array<Policy, GUMBO_TAG_LAST + 1> p{}; // Unwrap
        for (const GumboTag k : kKeep)
            p[k] = Policy::Keep;
        for (const GumboTag d : kDrop)
            p[d] = Policy::Drop;
        return p;
    }();
    return t <= GUMBO_TAG_LAST ? table[t] : Policy::Unwrap;
}

bool void_element(GumboTag t) {
    return t == GUMBO_TAG_BR || t == GUMBO_TAG_HR || t == GUMBO_TAG_IMG || t == GUMBO_TAG_WBR ||
           t == GUMBO_TAG_COL;
}

// Presentational attributes kept as they are (values are only escaped).
bool plain_attribute(std::string_view name, GumboTag t) {
    static constexpr auto kPlain = std::to_array<std::string_view>(
        {"align", "valign", "bgcolor", "color", "face", "size", "width", "height", "border",
         "cellpadding", "cellspacing", "colspan", "rowspan", "dir", "lang", "title", "alt"});
    for (const auto p : kPlain)
        if (name == p)
            return true;
    if (name == "start")
        return t == GUMBO_TAG_OL;
    if (name == "type")
        return t == GUMBO_TAG_OL || t == GUMBO_TAG_UL || t == GUMBO_TAG_LI;
    return false;
}

const GumboAttribute *find_attribute(const GumboElement &e, std::string_view name) {
    for (unsigned i = 0; i < e.attributes.length; ++i) {
        const auto *a = static_cast<const GumboAttribute *>(e.attributes.data[i]);
        if (name == a->name)
            return a;
    }
    return nullptr;
}

// ---- one pass -------------------------------------------------------------------------------

struct Pass {
    const SanitizeOptions &opts;
    bool verify; // re-parse of our own output: src values were checked already, nothing counted
    std::string out;
    int remote = 0;
    std::vector<std::string> warnings;
    bool flattened = false;

    void warn(std::string w) {
        if (verify)
            return;
        if (warnings.size() < kMaxWarnings)
            warnings.push_back(std::move(w));
        else if (warnings.size() == kMaxWarnings)
            warnings.emplace_back("html: further warnings left out");
    }

    // img src -> the URL to write, or nullopt to drop the image.
    std::optional<std::string> image_src(std::string_view raw) {
        const auto u = clean_url(raw);
        if (!u)
            return std::nullopt;
        if (verify)
            return u->text;
        if (u->scheme.empty() && u->text.starts_with("//")) {
            // Scheme-relative: a remote image on whatever host; written with https when allowed.
            ++remote;
            if (opts.allow_remote_images)
                return "https:" + u->text;
            return std::nullopt;
        }
        if (u->scheme == "http" || u->scheme == "https") {
            ++remote;
            if (opts.allow_remote_images)
                return u->text;
            return std::nullopt;
        }
        if (u->scheme == "data")
            return data_image(u->text);
        if (u->scheme == "cid") {
            const std::string id = content_id_of(std::string_view(u->text).substr(4));
            std::optional<std::string> resolved;
            if (opts.resolve_cid)
                resolved = opts.resolve_cid(id);
            if (!resolved) {
                warn("html: unresolved cid: image " + id);
                return std::nullopt;
            }
            const auto r = clean_url(*resolved);
            if (r && (r->scheme == "http" || r->scheme == "https"))
                return r->text;
            // The resolver's own same-origin path (the attachment's URL on this server): the
            // frame's CSP allows img-src 'self'. Never a scheme-relative "//host".
            if (r && r->scheme.empty() && r->text.starts_with('/') && !r->text.starts_with("//"))
                return r->text;
            if (r && r->scheme == "data")
                return data_image(r->text);
            warn("html: cid: image " + id + " resolved to an unusable URL");
            return std::nullopt;
        }
        return std::nullopt;
    }

    static std::optional<std::string> link_href(std::string_view raw) {
        const auto u = clean_url(raw);
        if (u && (u->scheme == "http" || u->scheme == "https" || u->scheme == "mailto"))
            return u->text;
        return std::nullopt;
    }

    void attribute(std::string_view name, std::string_view value) {
        out.push_back(' ');
        out += name;
        out += "=\"";
        append_html_escaped(out, value);
        out.push_back('"');
    }

    // Writes the start tag of a kept element; false when the element is to be unwrapped instead.
    bool start_tag(const GumboElement &e, const std::string *img_src = nullptr) {
        std::string href;
        if (e.tag == GUMBO_TAG_A) {
            const GumboAttribute *h = find_attribute(e, "href");
            const auto u = h != nullptr ? link_href(h->value) : std::nullopt;
            if (!u)
                return false; // no usable link: keep the text only
            href = *u;
        }
        out.push_back('<');
        out += gumbo_normalized_tagname(e.tag);
        for (unsigned i = 0; i < e.attributes.length; ++i) {
            const auto *a = static_cast<const GumboAttribute *>(e.attributes.data[i]);
            const std::string_view name = a->name;
            if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
                continue;
            if (name == "href" && e.tag == GUMBO_TAG_A) {
                attribute(name, href);
            } else if (name == "src" && e.tag == GUMBO_TAG_IMG) {
                if (img_src != nullptr)
                    attribute(name, *img_src);
            } else if (name == "style") {
                const std::string css = filter_style(a->value, remote);
                if (!css.empty())
                    attribute(name, css);
            } else if (plain_attribute(name, e.tag)) {
                attribute(name, a->value);
            }
        }
        if (e.tag == GUMBO_TAG_A) {
            attribute("target", "_blank");
            attribute("rel", "noopener noreferrer");
        }
        out.push_back('>');
        return true;
    }

    struct Frame {
        const GumboNode *node;
        unsigned next = 0;
        bool emitted = false; // end tag to write
        bool flatten = false; // descendants are flattened
    };

    void walk(const GumboNode *body) {
        std::vector<Frame> stack;
        stack.push_back({body, 0, false, false});
        int depth = 0; // emitted elements open
        const int max_depth = opts.max_depth < 1 ? 1 : opts.max_depth;
        while (!stack.empty()) {
            Frame &f = stack.back();
            const GumboVector &children = f.node->v.element.children;
            if (f.next >= children.length) {
                if (f.emitted) {
                    out += "</";
                    out += gumbo_normalized_tagname(f.node->v.element.tag);
                    out.push_back('>');
                    --depth;
                }
                stack.pop_back();
                continue;
            }
            const auto *child = static_cast<const GumboNode *>(children.data[f.next++]);
            const bool flatten = f.flatten;
            switch (child->type) {
            case GUMBO_NODE_TEXT:
            case GUMBO_NODE_WHITESPACE:
                append_html_escaped(out, child->v.text.text);
                continue;
            case GUMBO_NODE_ELEMENT:
            case GUMBO_NODE_TEMPLATE:
                break;
            default: // comments, CDATA
                continue;
            }
            const GumboElement &e = child->v.element;
            if (e.tag_namespace != GUMBO_NAMESPACE_HTML)
                continue; // SVG and MathML: dropped with their content
            const Policy p = policy_of(e.tag);
            if (p == Policy::Drop)
                continue;
            if (e.tag == GUMBO_TAG_IMG) {
                image(e, flatten || depth >= max_depth);
                continue;
            }
            bool emit = p == Policy::Keep && !flatten;
            // A table needs four levels (table, tbody, tr, td) so that no part of it is lost.
            const int needs = e.tag == GUMBO_TAG_TABLE ? 4 : 1;
            bool flatten_children = flatten;
            if (emit && depth + needs > max_depth) {
                if (!flattened)
                    warn("html: elements nested deeper than " + std::to_string(max_depth) +
                         " levels flattened");
                flattened = true;
                emit = false;
                flatten_children = true;
            }
            if (emit && void_element(e.tag)) {
                start_tag(e);
                continue;
            }
            if (emit)
                emit = start_tag(e);
            else if (void_element(e.tag))
                continue;
            if (emit) {
                ++depth;
                // The parser drops a newline right after <pre>: write one more so that a
                // leading newline of the content survives a re-parse.
                if (e.tag == GUMBO_TAG_PRE && e.children.length > 0) {
                    const auto *first = static_cast<const GumboNode *>(e.children.data[0]);
                    if ((first->type == GUMBO_NODE_TEXT || first->type == GUMBO_NODE_WHITESPACE) &&
                        first->v.text.text[0] == '\n')
                        out.push_back('\n');
                }
            }
            stack.push_back({child, 0, emit, flatten_children});
        }
    }

    void image(const GumboElement &e, bool flatten) {
        const GumboAttribute *src = find_attribute(e, "src");
        const auto url = src != nullptr ? image_src(src->value) : std::nullopt;
        if (url && !flatten) {
            start_tag(e, &*url);
            return;
        }
        if (const GumboAttribute *alt = find_attribute(e, "alt"))
            append_html_escaped(out, alt->value);
    }
};

struct PassResult {
    std::string html;
    int remote = 0;
    std::vector<std::string> warnings;
};

PassResult run_pass(std::string_view html, const SanitizeOptions &opts, bool verify);

// The text of `html` with line breaks, for markup that cannot be shown as HTML. One parse of it
// makes it a fixed point (gumbo replaces control characters, for one).
std::string text_fallback(std::string_view html, const SanitizeOptions &opts) {
    const std::string text = html_to_text(html);
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (const char c : text) {
        if (c == '\n')
            out += "<br>\n";
        else
            append_html_escaped(out, std::string_view(&c, 1));
    }
    return run_pass(out, opts, true).html;
}

PassResult run_pass(std::string_view html, const SanitizeOptions &opts, bool verify) {
    Arena arena;
    GumboOptions go = kGumboDefaultOptions;
    go.allocator = &Arena::allocate;
    go.deallocator = &Arena::deallocate;
    go.userdata = &arena;
    go.max_errors = 0; // errors are not used: do not collect them
    // Parsed after an explicit <body>: everything lands in the body as in a browser's body (a
    // <noscript>, <style> or <title> first in the input too), a later DOCTYPE cannot change the
    // quirks mode between the first parse and the re-parses, and <frameset> is ignored.
    std::string doc;
    doc.reserve(html.size() + 6);
    doc += "<body>";
    doc += html;
    const GumboOutput *output = gumbo_parse_with_options(&go, doc.data(), doc.size());
    Pass pass{opts, verify, {}, 0, {}, false};
    pass.out.reserve(html.size());
    const GumboNode *root = output->root;
    for (unsigned i = 0; i < root->v.element.children.length; ++i) {
        const auto *c = static_cast<const GumboNode *>(root->v.element.children.data[i]);
        if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == GUMBO_TAG_BODY) {
            pass.walk(c);
            break;
        }
    }
    // Leading white space would be dropped by the next parse (it precedes <body>).
    std::size_t lead = 0;
    while (lead < pass.out.size() && is_ws(pass.out[lead]))
        ++lead;
    pass.out.erase(0, lead);
    return {std::move(pass.out), pass.remote, std::move(pass.warnings)};
}

} // namespace

SanitizedHtml sanitize_html(std::string_view html, const SanitizeOptions &opts) {
    SanitizedHtml result;
    try {
        std::string input(html);
        if (input.size() > opts.max_input_bytes) {
            detail::truncate_utf8(input, opts.max_input_bytes);
            result.warnings.push_back("html: input truncated to " + std::to_string(input.size()) +
                                      " bytes");
        }
        detail::repair_utf8(input); // gumbo wants UTF-8; NULs become U+FFFD too
        if (detail::html_exceeds_parser_limits(input, kMaxParserNesting, kMaxAttributes)) {
            result.warnings.push_back(
                "html: markup nested deeper than " + std::to_string(kMaxParserNesting) +
                " levels or a tag with over " + std::to_string(kMaxAttributes) +
                " attributes; shown as plain text");
            result.html = text_fallback(input, opts);
            return result;
        }
        PassResult first = run_pass(input, opts, false);
        result.remote_images = first.remote;
        for (auto &w : first.warnings)
            result.warnings.push_back(std::move(w));
        // The output must parse back into itself: otherwise a browser would build a different
        // tree from it than the one checked here.
        std::string current = std::move(first.html);
        for (int i = 0; i < kMaxVerifyPasses; ++i) {
            if (detail::html_exceeds_parser_limits(current, kMaxParserNesting, kMaxAttributes))
                break;
            PassResult again = run_pass(current, opts, true);
            if (again.html == current) {
                result.html = std::move(current);
                return result;
            }
            current = std::move(again.html);
        }
        result.warnings.push_back("html: markup did not settle on re-parsing; shown as plain text");
        result.html = text_fallback(input, opts);
        return result;
    } catch (...) {
        result.html.clear();
        result.warnings.push_back("html: out of memory; body left out");
        return result;
    }
}

} // namespace crm::mime
