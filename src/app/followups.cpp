#include "crm/app/followups.hpp"

#include <algorithm>

#include <fmt/format.h>

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

std::string reminder_text(std::string_view name, const FollowupList& list,
                          std::string_view base_url, std::int64_t now) {
    std::string out =
        fmt::format("Hello {},\n\n{} conversation{} on your deals wait{} for a follow-up "
                    "today.\n\n",
                    name, list.items.size(), list.items.size() == 1 ? "" : "s",
                    list.items.size() == 1 ? "s" : "");
    for (const auto& f : list.items) {
        const auto waited = now - f.since;
        const std::string age = waited >= 2 * 86400 ? fmt::format("{} days", waited / 86400)
                                                    : fmt::format("{} hours", waited / 3600);
        out += fmt::format(
            "- {}: \"{}\" ({}), {}\n",
            f.kind == FollowupKind::AwaitingReply ? "Awaiting their reply" : "Needs your answer",
            f.subject.empty() ? "(no subject)" : f.subject, f.deal_name,
            f.kind == FollowupKind::AwaitingReply ? "our last message " + age + " ago"
                                                  : "their message " + age + " ago");
        if (!base_url.empty())
            out += fmt::format("  {}/#/threads/{}\n", base_url, f.thread);
    }
    if (list.truncated)
        out += "\n(More are waiting than this mail lists.)\n";
    out += "\n-- \ncrm-mail follow-up reminder\n";
    return out;
}

} // namespace crm::app
