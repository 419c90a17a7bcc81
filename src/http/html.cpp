// A message's HTML as its own document for the sandboxed iframe, and attachment downloads.
#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "crm/app/show_message.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

// The frame's document: no script at all, images only from us (inline parts) or, when the
// reader asked, from anywhere; the sandbox repeats the iframe's attribute for direct visits.
std::string frame_csp(bool remote_images) {
    return fmt::format("default-src 'none'; img-src 'self' data:{}; style-src 'unsafe-inline'; "
                       "font-src 'none'; connect-src 'none'; media-src 'none'; "
                       "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; "
                       "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox",
                       remote_images ? " https: http:" : "");
}

bool safe_token(std::string_view s) {
    if (s.empty() || s.size() > 100)
        return false;
    for (char ch : s)
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '+' ||
              ch == '-' || ch == '/'))
            return false;
    return std::count(s.begin(), s.end(), '/') == 1;
}

// The type we serve a download as: the declared one unless a browser could run it.
std::string served_type(const std::string& declared) {
    if (!safe_token(declared))
        return "application/octet-stream";
    for (const char* bad : {"html", "xml", "svg", "javascript", "ecmascript", "xhtml"})
        if (declared.find(bad) != std::string::npos)
            return "application/octet-stream";
    return declared;
}

bool inline_image(const std::string& t) {
    return t == "image/png" || t == "image/jpeg" || t == "image/gif" || t == "image/webp";
}

// Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 8187).
std::string disposition(const char* kind, const std::string& filename) {
    std::string ascii, pct;
    for (char raw : filename) {
        const auto ch = static_cast<unsigned char>(raw);
        ascii += (ch >= 0x20 && ch < 0x7f && raw != '"' && raw != '\\' && raw != '/') ? raw : '_';
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '.' || ch == '-' || ch == '_')
            pct += raw;
        else
            pct += fmt::format("%{:02X}", ch);
    }
    if (ascii.empty())
        return kind;
    return fmt::format("{}; filename=\"{}\"; filename*=UTF-8''{}", kind, ascii, pct);
}

void message_html(Ctx& c, MessageRowId id) {
    auto& ws = c.backend.reads();
    if (!ok_or_500(ws.message_thread(c.viewer(), id)))
        not_found(fmt::format("message {}", id));
    const bool images = c.query.contains("images") && c.query["images"] == "1";
    auto body = ok_or_500(ws.message_html(id));
    auto clean = safe_html(c, id, body.content_hash, body.html, images);
    c.res.status = 200;
    c.res.set("Content-Type", "text/html; charset=utf-8");
    c.res.set("Content-Security-Policy", frame_csp(images));
    c.res.set("X-Frame-Options", "SAMEORIGIN");
    c.res.set("Cache-Control", "private, no-store"); // mail stays out of every cache
    c.res.body = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                 "<meta name=\"referrer\" content=\"no-referrer\">"
                 "<style>html,body{margin:0;padding:0}body{font:14px/1.5 system-ui,-apple-system,"
                 "'Segoe UI',Roboto,sans-serif;color:#1f2328;padding:4px 2px;overflow-wrap:"
                 "anywhere}img{max-width:100%;height:auto}table{max-width:100%}"
                 "blockquote{margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid #d0d7de;"
                 "color:#57606a}</style></head><body>" +
                 clean->html + "</body></html>";
}

void attachment(Ctx& c, MessageRowId id, const std::string& pos_text) {
    int pos = -1;
    auto r = std::from_chars(pos_text.data(), pos_text.data() + pos_text.size(), pos);
    if (r.ec != std::errc() || r.ptr != pos_text.data() + pos_text.size() || pos < 0) {
        if (!ok_or_500(c.backend.reads().message_thread(c.viewer(), id)))
            not_found(fmt::format("message {}", id));
        not_found("attachment " + pos_text);
    }
    auto a = ok_or_500(app::attachment(c.backend, c.viewer(), id, pos));
    if (!a) {
        if (!ok_or_500(c.backend.reads().message_thread(c.viewer(), id)))
            not_found(fmt::format("message {}", id));
        not_found(fmt::format("attachment {} of message {}", pos, id));
    }
    const bool show_inline = c.query.contains("inline") && c.query["inline"] == "1" &&
                             inline_image(a->content_type);
    c.res.status = 200;
    c.res.set("Content-Type", show_inline ? a->content_type : served_type(a->content_type));
    c.res.set("Content-Disposition",
              disposition(show_inline ? "inline" : "attachment", a->filename));
    c.res.set("Content-Security-Policy", "default-src 'none'; sandbox");
    c.res.set("Cache-Control", "private, no-store");
    c.res.body = std::move(a->bytes);
}

} // namespace

std::shared_ptr<const SafeHtml> safe_html(Ctx& c, MessageRowId id, const std::string& content_hash,
                                          const std::string& html, bool images) {
    auto make = [&] {
        auto clean = app::display_html(c.backend.reads(), id, html, images);
        return SafeHtml{std::move(clean.html), clean.remote_images};
    };
    if (!c.html_cache)
        return std::make_shared<const SafeHtml>(make());
    return c.html_cache->get(
        fmt::format("{}/{}/{}/{}", id, content_hash, html.size(), images ? 1 : 0), make);
}

bool route_html(Ctx& c) {
    const auto& s = c.seg;
    if (s.size() < 3 || s[0] != "messages")
        return false;
    if (s.size() == 3 && s[2] == "html") {
        if (c.req.method != "GET" && c.req.method != "HEAD")
            throw_error(405, "method_not_allowed", "use GET on " + c.path);
        message_html(c, id_segment(s[1], "message"));
        return true;
    }
    if (s.size() == 4 && s[2] == "attachments") {
        if (c.req.method != "GET" && c.req.method != "HEAD")
            throw_error(405, "method_not_allowed", "use GET on " + c.path);
        attachment(c, id_segment(s[1], "message"), s[3]);
        return true;
    }
    return false;
}

} // namespace crm::http
