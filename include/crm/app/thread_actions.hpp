#pragma once
// What a person does to threads, once for every front-end (the HTTP API for salespeople and
// admins, crm-mailctl for the operator, who asks as Viewer{0, true}). The rules of who may do
// what are here:
//   a salesperson changes a thread's deal only when the whole thread is theirs to see: linking
//   would show them another salesperson's mail, unlinking would take it from another's deal;
//   a salesperson splits off only the messages they see;
//   everyone reads and marks only what they may see.
// Each change is one transaction. Errors name what and where; their codes are what the
// front-ends map (HTTP statuses): "thread.not_found", "message.not_found" (404),
// "thread.shared", "thread.split_whole" (409), "deal.unknown" (the deal does not exist or is not
// the viewer's: 422 on deal_id), and the store's errors.

#include <cstdint>
#include <optional>
#include <vector>

#include "crm/core/backend.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm::app {

// Links `thread` to `deal` by hand (the sorter never overrides it).
Result<void> link_thread(Backend& b, const Viewer& v, ThreadId thread, DealId deal,
                         std::int64_t now);
// Unlinks it: the thread waits in the unsorted queue, held for a person.
Result<void> unlink_thread(Backend& b, const Viewer& v, ThreadId thread, std::int64_t now);
// "Not part of this conversation" (ThreadEdits::split_message).
Result<SplitResult> split_message(Backend& b, const Viewer& v, MessageRowId message,
                                  std::int64_t now);

// A thread (every message of it the viewer sees) or one message.
struct ReadTarget {
    enum class Kind { Thread, Message } kind = Kind::Thread;
    std::int64_t id = 0;
};
// Marks it read or unread; for locations in `mirror_accounts` the \Seen change is queued for
// the daemon to mirror to the server. Returns the thread it belongs to.
Result<ThreadId> mark_read(Backend& b, const Viewer& v, ReadTarget target, bool unread,
                           const std::vector<AccountId>& mirror_accounts, std::int64_t now);

} // namespace crm::app
