#pragma once
// HTML e-mail body -> a safe HTML fragment for display. Pure: no I/O, no globals, thread-safe.
//
// Allowlist design: the input is parsed by an HTML5 tree builder (gumbo, the same algorithm as
// browsers), and only allowed elements and attributes of that tree are written out again, with
// text and attribute values escaped and attributes always double-quoted. The result is then
// parsed again and must come out unchanged (a fixed point), so that what an HTML5 parser builds
// from it is what was checked here. Markup that does not settle, nests deeper than the parser
// can afford (about 400 levels) or has a tag with over 128 attributes is shown as plain text.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::mime {

struct SanitizeOptions {
    // false: <img src="http(s)://..."> (or "//host/...") loses the image (its alt text is kept);
    // either way it is counted in remote_images. CSS url(...) is always removed; remote ones are
    // counted too.
    bool allow_remote_images = false;
    // Maps a cid: reference (without "cid:", angle brackets and %-escapes, RFC 2392) to the URL to
    // show instead: an http(s) URL (trusted: never blocked or counted as remote) or a
    // data:image/(png|gif|jpeg|webp);base64 URL. Unset, nullopt or any other URL: the image is
    // dropped (alt text kept). Called once per reference, on the calling thread.
    std::function<std::optional<std::string>(std::string_view cid)> resolve_cid;
    // Larger input is cut (on a UTF-8 boundary) with a warning.
    std::size_t max_input_bytes = 8u << 20;
    // Elements nested deeper are flattened (their text is kept) with a warning.
    int max_depth = 256;
};

struct SanitizedHtml {
    // A body fragment (no <html>/<head>/<body>), valid UTF-8, every element closed, safe to put
    // into a document served with a strict CSP (no scripts, event handlers, frames, forms, SVG,
    // MathML, style sheets or URLs other than http, https, mailto and data:image).
    std::string html;
    // Remote image references seen: <img src="http(s)..."> and CSS url(http(s)...).
    int remote_images = 0;
    // "html: ..." notes about what could not be kept as it was (truncation, flattening, ...).
    std::vector<std::string> warnings;
};

// Never throws and never fails. Idempotent for the same options:
// sanitize_html(sanitize_html(x, o).html, o).html == sanitize_html(x, o).html, except that a
// resolved cid: image whose URL is http(s) is treated as a remote image by the second call, and
// that an output longer than max_input_bytes (escaping and link attributes make it grow) is cut
// by the second call.
//
// Elements kept: a abbr address article aside b blockquote br caption center cite code col
// colgroup dd del details dfn div dl dt em figcaption figure font footer h1-h6 header hr i img ins
// kbd li main mark nav ol p pre q s samp section small span strike strong sub summary sup table
// tbody td tfoot th thead tr tt u ul var wbr. Dropped with their content: script, style, iframe,
// frame(set), object, embed, applet, noscript, noembed, noframes, template, head elements, form
// controls (input, button, select, option, textarea, ...), media, svg and math. Any other element
// is unwrapped (its content kept), and so is an <a> without a usable href. Attributes kept: align
// valign bgcolor color face size width height border cellpadding cellspacing colspan rowspan dir
// lang title alt, start (ol), type (ol, ul, li), style (declarations filtered), href (a: http,
// https, mailto; links get target="_blank" rel="noopener noreferrer") and src (img). Comments,
// doctype and processing instructions go. Only out of memory inside gumbo ends the process.
[[nodiscard]] SanitizedHtml sanitize_html(std::string_view html, const SanitizeOptions &opts = {});

// For tests and fuzzing: parses `fragment` as the body of a document, the way a browser would,
// and names the first construct the sanitiser must never let through (a script-capable element,
// an event handler attribute, a URL with another scheme, CSS with url()/expression, ...);
// nullopt when there is none. Recursive: for sanitiser output and test inputs, not for raw mail.
std::optional<std::string> unsafe_html_construct(std::string_view fragment,
                                                 bool allow_remote_images = false);

} // namespace crm::mime
