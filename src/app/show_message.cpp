#include "crm/app/show_message.hpp"

#include <fmt/format.h>

#include "crm/mime/parse.hpp"
#include "crm/mime/sanitize.hpp"

namespace crm::app {

std::string attachment_url(MessageRowId message, int position) {
    return fmt::format("/api/v1/messages/{}/attachments/{}?inline=1", message, position);
}

DisplayHtml display_html(ReadModel& reads, MessageRowId message, std::string_view html,
                         bool images) {
    mime::SanitizeOptions opts;
    opts.allow_remote_images = images;
    opts.resolve_cid = [&](std::string_view cid) -> std::optional<std::string> {
        auto pos = reads.attachment_by_cid(message, std::string(cid));
        if (!pos || !*pos)
            return std::nullopt; // an unknown (or unreadable) part shows as a broken image
        return attachment_url(message, **pos);
    };
    auto clean = mime::sanitize_html(html, opts);
    return DisplayHtml{std::move(clean.html), clean.remote_images};
}

Result<std::optional<AttachmentData>> attachment(Backend& b, const Viewer& v, MessageRowId message,
                                                 int position) {
    auto thread = b.reads().message_thread(v, message);
    if (!thread)
        return std::unexpected(thread.error());
    if (!*thread)
        return std::nullopt;
    auto a = b.reads().attachment(message, position);
    if (!a || !*a || !(*a)->in_raw_message)
        return a;
    // Stored once, inside the raw message: decode that part again, checked by its hash.
    auto& data = **a;
    auto bytes =
        mime::attachment_content(data.bytes, static_cast<std::size_t>(position), data.sha256);
    if (!bytes)
        return fail("attachment.missing",
                    fmt::format("attachment {} of message {}: no part of the stored message has "
                                "its SHA-256 {}",
                                position, message, data.sha256));
    data.bytes = std::move(*bytes);
    data.in_raw_message = false;
    return a;
}

} // namespace crm::app
