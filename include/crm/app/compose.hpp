#pragma once
// Composing from the CRM (issue 20, part 1): a new mail on a deal, and what every mail a person
// writes gets before it is queued: attachments checked against the limits, their signature, and
// the quoted original of the message answered (text, and its sanitised HTML). The daemon sends
// what is queued (crm/app/reply.hpp for replies).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/app/reply.hpp"
#include "crm/core/backend.hpp"
#include "crm/core/compose.hpp"
#include "crm/core/outbox.hpp"
#include "crm/core/read_model.hpp"

namespace crm::app {

// Each attachment's file name (not empty, at most 255 bytes, header text as
// mime::check_header_value takes it: no CR/LF/NUL or other control, UTF-8; not "." or "..", no
// "/" or "\"), content type (type "/" subtype) and size against `limits`.
// Errors (scope Message): "compose.invalid.attachments" naming the file and what is wrong;
// "compose.too_large" naming the file (or the total) and the limit.
Result<void> check_attachments(const std::vector<OutboxAttachment>& attachments,
                               const std::vector<std::string>& contents,
                               const ComposeLimits& limits);

// The text body as sent: what the person wrote, their signature under a "-- " line (RFC 3676
// §4.3), then the quoted original ("On DATE, NAME <ADDRESS> wrote:" and its lines after "> ").
// `quoted`: the message answered, when the person asked to quote it.
std::string compose_text(std::string_view written, std::string_view signature,
                         const MessageView* quoted);

// The HTML alternative: the same, with the original's HTML sanitised (mime::sanitize_html:
// remote images removed) inside a <blockquote type="cite">, or its text when it has no HTML.
// Everything the person wrote is escaped.
std::string compose_html(std::string_view written, std::string_view signature,
                         const MessageView& quoted);

// The signature of `user` when `wanted` ("" otherwise, or when they set none).
Result<std::string> signature_of(Backend& b, std::optional<UserId> user, bool wanted);

// The key of the draft a person (not the operator) kept for this mail: "thread-ID", "deal-ID".
std::optional<std::string> draft_key_of(const Viewer& v, std::string_view kind, std::int64_t id);

// Queues q.row (state "queued") with its attachments' contents (each filed under the SHA-256 of
// its content) and, in the same transaction,
// ends the user's `draft`: a mail queued never leaves its draft behind. Sets q.id and q.row.id.
Result<void> queue(Backend& b, QueuedReply& q, const std::vector<std::string>& contents,
                   const std::optional<std::string>& draft, std::int64_t now);

// A new mail on a deal, from the CRM.
struct NewMailRequest {
    DealId deal = 0;
    std::string account; // the account to send from, by name (required)
    std::vector<std::string> to, cc, bcc;
    std::string subject;
    std::string text_body;
    std::vector<OutboxAttachment> attachments;
    std::vector<std::string> attachment_contents; // index-aligned with attachments
    bool signature = true;                        // add the sender's signature
};

// QueueNewMail: checks the request against what the viewer may see and send from and queues it
// in the outbox, with a Message-ID naming the deal (make_message_id), so that answers and the
// copy filed in Sent find the deal. A salesperson sends only from their own accounts; the
// operator (v.user == 0) from any, signed with the account owner's signature.
// Errors: "deal.not_found" (not visible to the viewer), "reply.account_unknown",
// "reply.account_not_yours", "reply.invalid.to|cc|bcc" (a bad address, naming it),
// "reply.invalid" (no recipient), "compose.invalid.subject", check_attachments', the store's.
Result<QueuedReply> queue_new_mail(Backend& b, const Viewer& v, NewMailRequest request,
                                   const ComposeLimits& limits, const std::string& random_hex,
                                   std::int64_t now);

} // namespace crm::app
