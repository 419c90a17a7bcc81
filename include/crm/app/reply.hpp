#pragma once
// Planning a reply (pure): recipients (reply, reply-all, chosen), subject with exactly one "Re:",
// In-Reply-To/References, and our own Message-ID carrying the deal token. The caller queues the
// plan in the outbox; the daemon composes and sends it.

#include <optional>
#include <string>
#include <vector>

#include "crm/core/backend.hpp"
#include "crm/core/compose.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/result.hpp"

namespace crm::app {

struct ReplyParentInfo {
    std::string message_id, subject;
    std::vector<std::string> references, in_reply_to;
    std::vector<Address> from, reply_to, to, cc;
    std::optional<DealId> deal;
    std::string suspicious; // why its sender looks spoofed: then it supplies no recipient
};

struct ReplyChoice {
    bool all = false;               // reply-all: the other external participants too
    std::vector<std::string> to;    // explicit recipients replace the computed To
    std::vector<std::string> cc, bcc;
};

struct ReplyPlan {
    std::vector<Address> to, cc, bcc;
    std::string subject, in_reply_to, message_id;
    std::vector<std::string> references;
    std::string mode; // reply | reply-all | custom
};

// `own`: canonical addresses of the team and the sending account (never replied to).
// `random_hex`: unpredictable part of the Message-ID (the caller's randomness, >= 16 chars).
// Errors (scope Message): "reply.invalid.to", ".cc" or ".bcc" for an address of the caller's
// lists with CR/LF/NUL or otherwise not an addr-spec (naming it); "reply.invalid" for no
// recipient left, such an address among the parent's, or a parent field with CR/LF/NUL.
Result<ReplyPlan> plan_reply(const ReplyParentInfo& parent, const ReplyChoice& choice,
                             const std::string& account_address,
                             const std::vector<std::string>& own, const std::string& random_hex);

// The canonical form of a recipient, or "reply.invalid.<field>" ("reply.invalid" for an empty
// field) naming it when it holds CR, LF or NUL or is not a usable envelope address.
Result<std::string> checked_recipient(const Address& a, std::string_view field);

// The right-hand side of the Message-IDs an account's mail gets: its address's domain
// ("crm-mail.invalid" for an address without one).
std::string message_id_domain(const std::string& account_address);

// "crm.<deal>.<random>@<domain of the account>": our Message-IDs name the deal, so an answer
// finds it even when its subject changed or its References were trimmed. Deal 0: no deal.
std::string make_message_id(std::optional<DealId> deal, const std::string& account_address,
                            const std::string& random_hex);

// A reply a person asks for, from the thread view (parent by row id) or crm-mailctl (parent by
// Message-ID, attachments).
struct ReplyRequest {
    ThreadId thread = 0;
    std::optional<MessageRowId> parent;           // a message of the thread
    std::optional<std::string> parent_message_id; // or one with this Message-ID (no <>)
    // The account to send from, by name; none: the IMAP account the parent came in through.
    std::optional<std::string> account;
    ReplyChoice choice;
    std::string text_body, html_body;
    std::vector<OutboxAttachment> attachments;
    std::vector<std::string> attachment_contents; // index-aligned with attachments
    bool quote = false;     // quote the message answered under the text (and in HTML)
    bool signature = false; // add the sender's signature (app/compose.hpp)
};

struct QueuedReply {
    std::int64_t id = 0;
    OutboxRow row;
    SendingAccount account;
};

// QueueReply: checks the request against what the viewer may see and send from, plans it
// (plan_reply) and queues it in the outbox in one transaction; the daemon sends it.
//   The thread must be visible to the viewer ("thread.not_found").
//   Someone with a user (v.user != 0) sends only from their own accounts
//   ("reply.account_not_yours"); the operator (crm-mailctl) from any.
//   Without a parent, a salesperson answers the newest message they see (by arrival, never
//   the sender's Date), never one of another salesperson's; an admin the thread's newest.
// Errors: "reply.account_unknown", "reply.no_account", "reply.parent_not_in_thread",
//   The attachments are checked against `limits` (app::check_attachments). With `quote` the
//   text (and an HTML alternative, unless the request brings its own) gets the original quoted
//   under it, and with `signature` the signature of the person sending (the account owner's
//   for the operator).
// Errors: "reply.account_unknown", "reply.no_account", "reply.parent_not_in_thread",
// "reply.no_parent", plan_reply's "reply.invalid*", check_attachments', the store's.
Result<QueuedReply> queue_reply(Backend& b, const Viewer& v, ReplyRequest request,
                                const std::string& random_hex, std::int64_t now,
                                const ComposeLimits& limits = {});

} // namespace crm::app
