// HTML sanitiser over gumbo's HTML5 parse tree (see sanitize.hpp).
#include "crm/mime/sanitize.hpp"

#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>
#include <gumbo.h>

namespace crm::mime {

namespace {

using namespace std::string_view_literals;

// Elements removed together with everything inside them.
constexpr std::array kDropWithContent{
    "script"sv,   "style"sv,    "iframe"sv,  "frame"sv,    "frameset"sv, "object"sv,
    "embed"sv,    "applet"sv,   "noscript"sv, "noembed"sv, "noframes"sv, "template"sv,
    "title"sv,    "meta"sv,     "link"sv,    "base"sv,     "textarea"sv, "select"sv,
    "option"sv,   "optgroup"sv, "button"sv,  "input"sv,    "datalist"sv, "keygen"sv,
    "output"sv,   "progress"sv, "meter"sv,   "canvas"sv,   "audio"sv,    "video"sv,
    "source"sv,   "track"sv,    "param"sv,   "xmp"sv,      "plaintext"sv, "listing"sv,
    "head"sv,     "picture"sv,  "portal"sv,  "slot"sv,     "dialog"sv,   "menu"sv,
    "math"sv,     "svg"sv,      "image"sv,   "isindex"sv,  "marquee"sv,  "bgsound"sv};

// Elements kept (with filtered attributes). Anything else is unwrapped: its children stay.
constexpr std::array kAllowed{
    "a"sv,       "abbr"sv,   "address"sv, "article"sv,    "aside"sv,  "b"sv,     "bdi"sv,
    "bdo"sv,     "big"sv,    "blockquote"sv, "br"sv,      "caption"sv, "center"sv, "cite"sv,
    "code"sv,    "col"sv,    "colgroup"sv, "dd"sv,        "del"sv,    "details"sv, "dfn"sv,
    "div"sv,     "dl"sv,     "dt"sv,      "em"sv,         "figcaption"sv, "figure"sv, "font"sv,
    "footer"sv,  "h1"sv,     "h2"sv,      "h3"sv,         "h4"sv,     "h5"sv,    "h6"sv,
    "header"sv,  "hr"sv,     "i"sv,       "img"sv,        "ins"sv,    "kbd"sv,   "li"sv,
    "main"sv,    "mark"sv,   "nav"sv,     "ol"sv,         "p"sv,      "pre"sv,   "q"sv,
    "s"sv,       "samp"sv,   "section"sv, "small"sv,      "span"sv,   "strike"sv, "strong"sv,
    "sub"sv,     "summary"sv, "sup"sv,    "table"sv,      "tbody"sv,  "td"sv,    "tfoot"sv,
    "th"sv,      "thead"sv,  "time"sv,    "tr"sv,         "tt"sv,     "u"sv,     "ul"sv,
    "var"sv,     "wbr"sv};

constexpr std::array kVoid{"br"sv, "hr"sv, "img"sv, "wbr"sv, "col"sv};

// Attributes with their own checks below; any other attribute is dropped.
constexpr std::array kTextAttrs{"title"sv, "alt"sv, "lang"sv, "abbr"sv};
constexpr std::array kNumberAttrs{"width"sv,   "height"sv,  "border"sv, "cellpadding"sv,
                                  "cellspacing"sv, "colspan"sv, "rowspan"sv, "size"sv,
                                  "start"sv,   "span"sv,    "hspace"sv, "vspace"sv};

// CSS properties kept in style attributes.
constexpr std::array kCssProperties{
    "color"sv, "background-color"sv, "font"sv, "font-family"sv, "font-size"sv, "font-style"sv,
    "font-weight"sv, "font-variant"sv, "text-align"sv, "text-decoration"sv, "text-indent"sv,
    "text-transform"sv, "line-height"sv, "letter-spacing"sv, "word-spacing"sv, "white-space"sv,
    "vertical-align"sv, "direction"sv, "margin"sv, "margin-top"sv, "margin-right"sv,
    "margin-bottom"sv, "margin-left"sv, "padding"sv, "padding-top"sv, "padding-right"sv,
    "padding-bottom"sv, "padding-left"sv, "border"sv, "border-top"sv, "border-right"sv,
    "border-bottom"sv, "border-left"sv, "border-color"sv, "border-style"sv, "border-width"sv,
    "border-collapse"sv, "border-spacing"sv, "border-radius"sv, "width"sv, "height"sv,
    "max-width"sv, "min-width"sv, "max-height"sv, "min-height"sv, "display"sv,
    "list-style-type"sv, "table-layout"sv, "text-overflow"sv, "overflow-wrap"sv,
    "word-break"sv, "float"sv, "clear"sv};
constexpr std::array kDisplayValues{"block"sv, "inline"sv, "inline-block"sv, "none"sv,
                                    "table"sv, "table-row"sv, "table-cell"sv, "list-item"sv};

template <std::size_t N> bool in(const std::array<std::string_view, N>& set, std::string_view v) {
    return std::find(set.begin(), set.end(), v) != set.end();
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& ch : out)
        if (ch >= 'A' && ch <= 'Z')
            ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

bool ascii_space_or_control(unsigned char ch) { return ch <= 0x20 || ch == 0x7f; }

// What a browser would take as the URL's scheme: leading/trailing C0 controls and spaces
// stripped, tabs and newlines removed anywhere (WHATWG URL parsing), then letters up to ':'.
// Empty: relative URL (or no scheme).
struct ParsedUrl {
    std::string cleaned; // without the removed characters
    std::string scheme;  // lower case
};

ParsedUrl parse_url(std::string_view raw) {
    std::size_t b = 0, e = raw.size();
    while (b < e && ascii_space_or_control(static_cast<unsigned char>(raw[b])))
        ++b;
    while (e > b && ascii_space_or_control(static_cast<unsigned char>(raw[e - 1])))
        --e;
    ParsedUrl u;
    for (char ch : raw.substr(b, e - b))
        if (ch != '\t' && ch != '\n' && ch != '\r')
            u.cleaned += ch;
    for (std::size_t i = 0; i < u.cleaned.size(); ++i) {
        const char ch = u.cleaned[i];
        const bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        const bool other = (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' || ch == '.';
        if (ch == ':' && i > 0) {
            u.scheme = lower(u.cleaned.substr(0, i));
            break;
        }
        if (!(alpha || (i > 0 && other)))
            break;
    }
    return u;
}

bool data_image(std::string_view url) {
    const auto l = lower(url.substr(0, 32));
    for (auto prefix : {"data:image/png;base64,"sv, "data:image/gif;base64,"sv,
                        "data:image/jpeg;base64,"sv, "data:image/webp;base64,"sv})
        if (l.starts_with(prefix)) {
            // Base64 only after the prefix: nothing a parser could read as markup or CSS.
            return std::all_of(url.begin() + static_cast<std::ptrdiff_t>(prefix.size()), url.end(),
                               [](char ch) {
                                   return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                                          (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
                                          ch == '=';
                               });
        }
    return false;
}

bool number_like(std::string_view v) {
    if (v.empty() || v.size() > 12)
        return false;
    std::size_t i = 0;
    while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
        ++i;
    if (i == 0)
        return false;
    auto rest = v.substr(i);
    return rest.empty() || rest == "%" || rest == "px" || rest == "*";
}

bool color_like(std::string_view v) {
    if (v.empty() || v.size() > 24)
        return false;
    return std::all_of(v.begin(), v.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '#';
    });
}

bool face_like(std::string_view v) {
    if (v.empty() || v.size() > 200)
        return false;
    return std::all_of(v.begin(), v.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == ' ' || ch == ',' || ch == '-' || ch == '_' || ch == '\'' || ch == '"';
    });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && ascii_space_or_control(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && ascii_space_or_control(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

// A CSS value we keep: plain tokens, colours, lengths, and the colour functions. No url(),
// expression(), escapes, comments, at-rules or markup characters.
bool css_value_ok(std::string_view prop, std::string_view v) {
    if (v.empty() || v.size() > 300)
        return false;
    const auto l = lower(v);
    for (auto bad : {"url"sv, "expression"sv, "javascript"sv, "vbscript"sv, "behavior"sv,
                     "binding"sv, "import"sv, "image"sv, "var("sv, "attr("sv, "env("sv})
        if (l.find(bad) != std::string::npos)
            return false;
    for (char ch : l) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ' ' ||
                        ch == '#' || ch == '%' || ch == '.' || ch == ',' || ch == '-' ||
                        ch == '+' || ch == '!' || ch == '"' || ch == '\'' || ch == '/' ||
                        ch == '(' || ch == ')' || ch == '_' || static_cast<unsigned char>(ch) >= 0x80;
        if (!ok)
            return false;
    }
    // Parentheses only as rgb()/rgba()/hsl()/hsla(), never nested.
    for (std::size_t p = l.find('('); p != std::string::npos; p = l.find('(', p + 1)) {
        std::size_t s = p;
        while (s > 0 && l[s - 1] >= 'a' && l[s - 1] <= 'z')
            --s;
        const auto fn = std::string_view(l).substr(s, p - s);
        if (fn != "rgb" && fn != "rgba" && fn != "hsl" && fn != "hsla")
            return false;
        const auto close = l.find(')', p);
        if (close == std::string::npos || l.find('(', p + 1) < close)
            return false;
    }
    if (l.find(')') != std::string::npos && l.find('(') == std::string::npos)
        return false;
    if (prop == "display") {
        auto d = std::string(trim(l));
        if (d.ends_with("!important"))
            d = std::string(trim(std::string_view(d).substr(0, d.size() - 10)));
        return in(kDisplayValues, d);
    }
    return true;
}

// Filters a style attribute declaration by declaration; "" when nothing is left.
std::string filter_style(std::string_view style) {
    std::string out;
    std::size_t i = 0;
    while (i <= style.size()) {
        auto semi = style.find(';', i);
        if (semi == std::string_view::npos)
            semi = style.size();
        auto decl = style.substr(i, semi - i);
        i = semi + 1;
        auto colon = decl.find(':');
        if (colon == std::string_view::npos)
            continue;
        const auto prop = lower(trim(decl.substr(0, colon)));
        const auto value = trim(decl.substr(colon + 1));
        if (!in(kCssProperties, prop) || !css_value_ok(prop, value))
            continue;
        if (!out.empty())
            out += "; ";
        out += prop;
        out += ": ";
        out += value;
    }
    return out;
}

void escape_text(std::string& out, std::string_view s) {
    for (char ch : s) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\0': break;
        default: out += ch;
        }
    }
}

void escape_attr(std::string& out, std::string_view s) {
    for (char ch : s) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\0': break;
        default: out += ch;
        }
    }
}

struct GumboDeleter {
    void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};
using GumboPtr = std::unique_ptr<GumboOutput, GumboDeleter>;

GumboPtr parse(std::string_view html) {
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0; // we do not read the error list: do not build it
    return GumboPtr(gumbo_parse_with_options(&opts, html.data(), html.size()));
}

std::string tag_name(const GumboElement& e) {
    if (e.tag != GUMBO_TAG_UNKNOWN)
        return gumbo_normalized_tagname(e.tag);
    GumboStringPiece p = e.original_tag;
    gumbo_tag_from_original_text(&p);
    return lower(std::string_view(p.data, p.length));
}

class Sanitizer {
  public:
    Sanitizer(const SanitizeOptions& o, SanitizedHtml& out) : o_(o), out_(out) {}

    void children(const GumboVector& kids, int depth) {
        for (unsigned i = 0; i < kids.length; ++i)
            node(*static_cast<const GumboNode*>(kids.data[i]), depth);
    }

    void node(const GumboNode& n, int depth) {
        switch (n.type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_WHITESPACE:
        case GUMBO_NODE_CDATA: escape_text(out_.html, n.v.text.text); return;
        case GUMBO_NODE_COMMENT: return;
        case GUMBO_NODE_DOCUMENT: children(n.v.document.children, depth); return;
        case GUMBO_NODE_TEMPLATE: return;
        case GUMBO_NODE_ELEMENT: element(n.v.element, depth); return;
        }
    }

  private:
    void element(const GumboElement& e, int depth) {
        if (e.tag_namespace != GUMBO_NAMESPACE_HTML)
            return; // SVG and MathML, with everything inside
        const auto name = tag_name(e);
        if (in(kDropWithContent, name))
            return;
        if (!in(kAllowed, name) || depth >= o_.max_depth) {
            if (depth >= o_.max_depth && !depth_warned_) {
                out_.warnings.push_back(
                    fmt::format("HTML nested deeper than {} elements: flattened", o_.max_depth));
                depth_warned_ = true;
            }
            children(e.children, depth);
            return;
        }
        std::string attrs;
        bool keep = true;
        for (unsigned i = 0; i < e.attributes.length; ++i)
            attribute(name, *static_cast<const GumboAttribute*>(e.attributes.data[i]), attrs,
                      keep);
        if (!keep)
            return; // an image without a usable source
        if (name == "a" && attrs.find(" href=") != std::string::npos)
            attrs += " target=\"_blank\" rel=\"noopener noreferrer\"";
        out_.html += '<';
        out_.html += name;
        out_.html += attrs;
        out_.html += '>';
        if (in(kVoid, name))
            return;
        if (name == "pre")
            out_.html += '\n'; // the parser drops one newline right after <pre>
        children(e.children, depth + 1);
        out_.html += "</";
        out_.html += name;
        out_.html += '>';
    }

    void put(std::string& attrs, std::string_view name, std::string_view value) {
        attrs += ' ';
        attrs += name;
        attrs += "=\"";
        escape_attr(attrs, value);
        attrs += '"';
    }

    void attribute(const std::string& tag, const GumboAttribute& a, std::string& attrs,
                   bool& keep) {
        if (a.attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
            return;
        const std::string_view name = a.name;
        const std::string_view value = a.value;
        if (in(kTextAttrs, name)) {
            put(attrs, name, value.substr(0, 1000));
        } else if (in(kNumberAttrs, name)) {
            if (number_like(trim(value)))
                put(attrs, name, trim(value));
        } else if (name == "color" || name == "bgcolor") {
            if (color_like(trim(value)))
                put(attrs, name, trim(value));
        } else if (name == "face") {
            if (face_like(value))
                put(attrs, name, value);
        } else if (name == "align" || name == "valign") {
            const auto v = lower(trim(value));
            if (v == "left" || v == "right" || v == "center" || v == "justify" || v == "top" ||
                v == "middle" || v == "bottom" || v == "baseline")
                put(attrs, name, v);
        } else if (name == "dir") {
            const auto v = lower(trim(value));
            if (v == "ltr" || v == "rtl" || v == "auto")
                put(attrs, name, v);
        } else if (name == "type" && (tag == "ol" || tag == "ul" || tag == "li")) {
            const auto v = trim(value);
            if (v == "1" || v == "a" || v == "A" || v == "i" || v == "I" || v == "disc" ||
                v == "circle" || v == "square")
                put(attrs, name, v);
        } else if (name == "nowrap" || name == "open" || name == "reversed") {
            put(attrs, name, "");
        } else if (name == "style") {
            auto css = filter_style(value);
            if (!css.empty())
                put(attrs, name, css);
        } else if (name == "href" && tag == "a") {
            const auto u = parse_url(value);
            if (u.scheme == "http" || u.scheme == "https" || u.scheme == "mailto")
                put(attrs, name, u.cleaned);
        } else if (name == "src" && tag == "img") {
            image_source(value, attrs, keep);
        }
    }

    void image_source(std::string_view value, std::string& attrs, bool& keep) {
        const auto u = parse_url(value);
        if (u.scheme == "http" || u.scheme == "https") {
            ++out_.remote_images;
            if (o_.allow_remote_images)
                return put(attrs, "src", u.cleaned);
        } else if (u.scheme == "cid" && o_.resolve_cid) {
            std::string_view cid = std::string_view(u.cleaned).substr(4);
            if (cid.size() >= 2 && cid.front() == '<' && cid.back() == '>')
                cid = cid.substr(1, cid.size() - 2);
            if (auto url = o_.resolve_cid(cid)) {
                const auto r = parse_url(*url);
                // Only same-origin paths or http(s) from the resolver.
                if ((r.scheme.empty() && url->starts_with('/') && !url->starts_with("//")) ||
                    r.scheme == "https" || r.scheme == "http")
                    return put(attrs, "src", *url);
            }
        } else if (u.scheme == "data" && u.cleaned.size() <= o_.max_data_url_bytes &&
                   data_image(u.cleaned)) {
            return put(attrs, "src", u.cleaned);
        }
        keep = false;
    }

    const SanitizeOptions& o_;
    SanitizedHtml& out_;
    bool depth_warned_ = false;
};

// --- the checker

std::optional<std::string> check(const GumboNode& n, bool remote_ok) {
    if (n.type != GUMBO_NODE_ELEMENT && n.type != GUMBO_NODE_DOCUMENT &&
        n.type != GUMBO_NODE_TEMPLATE)
        return std::nullopt;
    if (n.type == GUMBO_NODE_TEMPLATE)
        return "a template element";
    const GumboVector* kids = nullptr;
    if (n.type == GUMBO_NODE_DOCUMENT) {
        kids = &n.v.document.children;
    } else {
        const auto& e = n.v.element;
        const auto name = tag_name(e);
        if (e.tag_namespace != GUMBO_NAMESPACE_HTML)
            return "a foreign (SVG/MathML) element <" + name + ">";
        const bool structural = name == "html" || name == "head" || name == "body";
        if (!structural && !in(kAllowed, name))
            return "element <" + name + ">";
        for (unsigned i = 0; i < e.attributes.length; ++i) {
            const auto& a = *static_cast<const GumboAttribute*>(e.attributes.data[i]);
            const std::string an = lower(a.name);
            if (an.starts_with("on"))
                return "event handler " + an + " on <" + name + ">";
            if (an == "href" || an == "src" || an == "action" || an == "formaction" ||
                an == "background" || an == "srcset" || an == "xlink:href" || an == "poster" ||
                an == "data") {
                const auto u = parse_url(a.value);
                const bool ok = (an == "href" && (u.scheme == "http" || u.scheme == "https" ||
                                                  u.scheme == "mailto")) ||
                                (an == "src" && (data_image(u.cleaned) ||
                                                 (u.scheme.empty() && u.cleaned.starts_with('/') &&
                                                  !u.cleaned.starts_with("//")) ||
                                                 (remote_ok && (u.scheme == "http" ||
                                                                u.scheme == "https"))));
                if (!ok)
                    return fmt::format("{}=\"{}\" on <{}>", an, a.value, name);
            }
            if (an == "style") {
                const auto l = lower(a.value);
                for (auto bad : {"url"sv, "expression"sv, "javascript"sv, "\\"sv, "@"sv,
                                 "behavior"sv, "binding"sv})
                    if (l.find(bad) != std::string::npos)
                        return fmt::format("style=\"{}\" on <{}>", a.value, name);
            }
        }
        kids = &e.children;
    }
    for (unsigned i = 0; i < kids->length; ++i)
        if (auto p = check(*static_cast<const GumboNode*>(kids->data[i]), remote_ok))
            return p;
    return std::nullopt;
}

} // namespace

SanitizedHtml sanitize_html(std::string_view html, const SanitizeOptions& options) {
    SanitizedHtml out;
    if (html.size() > options.max_input_bytes) {
        auto cut = options.max_input_bytes;
        while (cut > 0 && (static_cast<unsigned char>(html[cut]) & 0xC0) == 0x80)
            --cut; // not inside a UTF-8 sequence
        html = html.substr(0, cut);
        out.warnings.push_back(
            fmt::format("HTML body over {} bytes: truncated", options.max_input_bytes));
    }
    auto doc = parse(html);
    if (!doc) {
        out.warnings.emplace_back("the HTML could not be parsed");
        return out;
    }
    Sanitizer s(options, out);
    // The body's content; the head holds nothing we show (title, meta, style, base).
    const GumboNode* root = doc->root;
    if (root && root->type == GUMBO_NODE_ELEMENT) {
        const auto& kids = root->v.element.children;
        for (unsigned i = 0; i < kids.length; ++i) {
            const auto* k = static_cast<const GumboNode*>(kids.data[i]);
            if (k->type == GUMBO_NODE_ELEMENT && k->v.element.tag == GUMBO_TAG_BODY)
                s.children(k->v.element.children, 0);
        }
    }
    // Leading whitespace would be dropped by the next parse (before <body>): drop it now, so
    // sanitising twice gives the same text.
    const auto first = out.html.find_first_not_of(" \t\n\r\f");
    out.html.erase(0, first == std::string::npos ? out.html.size() : first);
    return out;
}

std::optional<std::string> unsafe_html_construct(std::string_view fragment,
                                                 bool allow_remote_images) {
    const std::string doc = "<!DOCTYPE html><html><head></head><body>" + std::string(fragment) +
                            "</body></html>";
    auto parsed = parse(doc);
    if (!parsed)
        return "unparsable";
    // The fragment must stay in the body: nothing of it may end up in the head.
    const GumboNode* root = parsed->root;
    const auto& kids = root->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
        const auto* k = static_cast<const GumboNode*>(kids.data[i]);
        if (k->type == GUMBO_NODE_ELEMENT && k->v.element.tag == GUMBO_TAG_HEAD &&
            k->v.element.children.length > 0)
            return "content in the head";
    }
    return check(*parsed->document, allow_remote_images);
}

} // namespace crm::mime
