#pragma once
// Showing a stored message to a person: its HTML made safe to display and its attachments'
// bytes. The HTTP API serves these; the rules (what is sanitised, how cid: images resolve, how an
// attachment kept inside the raw message is found again) are here.

#include <optional>
#include <string>
#include <string_view>

#include "crm/core/backend.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm::app {

struct DisplayHtml {
    std::string html;
    int remote_images = 0; // remote images in the original (blocked unless asked for)
};

// A message's HTML as shown: sanitised (mime::sanitize_html), cid: images resolved to the
// message's own inline attachments (`attachment_url`), remote images blocked unless `images`.
// The caller has checked the message is the viewer's to see.
DisplayHtml display_html(ReadModel& reads, MessageRowId message, std::string_view html,
                         bool images);

// Attachment `position` of a message the viewer may see, with its content. nullopt: no such
// message (for this viewer) or attachment. Errors: "attachment.missing" when the stored message
// has no part with the attachment's SHA-256 any more; the store's.
Result<std::optional<AttachmentData>> attachment(Backend& b, const Viewer& v, MessageRowId message,
                                                 int position);

// Where the page fetches an inline attachment (a cid: image) of a message.
std::string attachment_url(MessageRowId message, int position);

} // namespace crm::app
