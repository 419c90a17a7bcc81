// The checker behind unsafe_html_construct (see sanitize.hpp): an independent second reading of
// sanitiser output, for the unit tests, the XSS corpus and the fuzzers.
#include <algorithm>
#include <array>
#include <memory>

#include <fmt/format.h>
#include <gumbo.h>

#include "crm/mime/sanitize.hpp"
#include "internal.hpp"

namespace crm::mime {

namespace {

using namespace std::string_view_literals;
using detail::ascii_lower;

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


template <std::size_t N> bool in(const std::array<std::string_view, N>& set, std::string_view v) {
    return std::find(set.begin(), set.end(), v) != set.end();
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
            u.scheme = ascii_lower(u.cleaned.substr(0, i));
            break;
        }
        if (!(alpha || (i > 0 && other)))
            break;
    }
    return u;
}

bool data_image(std::string_view url) {
    const auto l = ascii_lower(url.substr(0, 32));
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


struct GumboDeleter {
    void operator()(GumboOutput* o) const { gumbo_destroy_output(&kGumboDefaultOptions, o); }
};
using GumboPtr = std::unique_ptr<GumboOutput, GumboDeleter>;

GumboPtr parse_document(std::string_view html) {
    GumboOptions opts = kGumboDefaultOptions;
    opts.max_errors = 0; // we do not read the error list: do not build it
    return GumboPtr(gumbo_parse_with_options(&opts, html.data(), html.size()));
}

std::string tag_name(const GumboElement& e) {
    if (e.tag != GUMBO_TAG_UNKNOWN)
        return gumbo_normalized_tagname(e.tag);
    GumboStringPiece p = e.original_tag;
    gumbo_tag_from_original_text(&p);
    return ascii_lower(std::string_view(p.data, p.length));
}


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
            const std::string an = ascii_lower(a.name);
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
                const auto l = ascii_lower(a.value);
                // What can load or run from CSS: url()/image()/image-set()/src(), IE's
                // expression() and behaviour, Firefox's -moz-binding, at-rules, escapes.
                for (auto bad : {"url("sv, "image("sv, "image-set("sv, "src("sv, "expression("sv,
                                 "javascript:"sv, "\\"sv, "@"sv, "behavior"sv, "-moz-binding"sv})
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

std::optional<std::string> unsafe_html_construct(std::string_view fragment,
                                                 bool allow_remote_images) {
    const std::string doc = "<!DOCTYPE html><html><head></head><body>" + std::string(fragment) +
                            "</body></html>";
    auto parsed = parse_document(doc);
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
