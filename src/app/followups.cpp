#include "crm/app/followups.hpp"

#include <algorithm>

namespace crm::app {

Result<FollowupList> list_followups(Followups& store, UserId user, const FollowupPolicy& policy,
                                    std::int64_t now) {
    // The pre-selection's cutoffs: the shortest period any of the user's deals sets, in calendar
    // time (N business days are at least N calendar days).
    auto shortest = store.shortest_settings(user);
    if (!shortest)
        return std::unexpected(shortest.error());
    const int days =
        std::min(policy.awaiting_days, shortest->awaiting_days.value_or(kMaxAwaitingDays));
    const int hours =
        std::min(policy.answer_hours, shortest->answer_hours.value_or(kMaxAnswerHours));
    auto candidates =
        store.candidates(user, now, now - static_cast<std::int64_t>(days) * 86400,
                         now - static_cast<std::int64_t>(hours) * 3600, kFollowupLimit + 1);
    if (!candidates)
        return std::unexpected(candidates.error());
    FollowupList out;
    if (candidates->size() > kFollowupLimit) {
        candidates->resize(kFollowupLimit);
        out.truncated = true;
    }
    out.items = due_followups(*candidates, policy, now);
    return out;
}

} // namespace crm::app
