#pragma once
// HTML e-mail → HTML safe to show. Allow-list over the HTML5 parse tree (gumbo builds the tree a
// browser builds, so there is no parser differential to exploit): only known text and layout
// elements and attributes survive; URLs only http(s)/mailto links, images from cid: parts (via
// the caller), data:image or, when asked, remote http(s); CSS only listed properties without
// url()/expression/escapes. Everything else is dropped (script, style, forms, frames, objects,
// SVG/MathML with their content) or unwrapped (unknown elements keep their text). Pure.
//
// This is one fence of three: the page also shows the result in a sandboxed iframe without
// scripts, served with a strict Content-Security-Policy.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::mime {

struct SanitizeOptions {
    // false: <img src="http(s)://..."> is dropped (and counted in remote_images).
    bool allow_remote_images = false;
    // cid: references (without "cid:" and angle brackets) -> URL to use instead; nullopt or
    // unset: the image is dropped.
    std::function<std::optional<std::string>(std::string_view cid)> resolve_cid;
    std::size_t max_input_bytes = 8u << 20; // larger input is truncated, with a warning
    int max_depth = 256;                    // deeper elements are unwrapped, with a warning
    std::size_t max_data_url_bytes = 2u << 20;
};

struct SanitizedHtml {
    std::string html;       // a body fragment, UTF-8, well-formed
    int remote_images = 0;  // remote <img> seen (dropped unless allow_remote_images)
    std::vector<std::string> warnings;
};

SanitizedHtml sanitize_html(std::string_view html, const SanitizeOptions& options = {});

// For tests and fuzzing: parses `fragment` as the body of a document, the way a browser would,
// and names the first construct the sanitiser must never let through (a script-capable element,
// an event handler attribute, a URL with another scheme, CSS with url()/expression, ...);
// nullopt when there is none.
std::optional<std::string> unsafe_html_construct(std::string_view fragment,
                                                 bool allow_remote_images = false);

} // namespace crm::mime
