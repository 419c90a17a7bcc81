#pragma once
// Planning a reply (pure): recipients (reply, reply-all, chosen), subject with exactly one "Re:",
// In-Reply-To/References, and our own Message-ID carrying the deal token. The caller queues the
// plan in the outbox; the daemon composes and sends it.

#include <optional>
#include <string>
#include <vector>

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

// "crm.<deal>.<random>@<domain of the account>": our Message-IDs name the deal, so an answer
// finds it even when its subject changed or its References were trimmed. Deal 0: no deal.
std::string make_message_id(std::optional<DealId> deal, const std::string& account_address,
                            const std::string& random_hex);

} // namespace crm::app
