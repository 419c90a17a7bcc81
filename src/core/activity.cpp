#include "crm/core/activity.hpp"

#include <algorithm>

namespace crm {

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWeek = 7 * kDay;

} // namespace

std::int64_t week_start(std::int64_t t) {
    std::int64_t day = t / kDay;
    if (t % kDay < 0)
        --day;
    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday = 0).
    const std::int64_t weekday = ((day + 3) % 7 + 7) % 7;
    return (day - weekday) * kDay;
}

ActivityFigures activity_figures(std::span<const ActivityMessage> messages, std::int64_t from,
                                 std::int64_t to, std::int64_t now, const FollowupPolicy& policy,
                                 const DealFollowupSettings& settings) {
    ActivityFigures f;
    const std::int64_t first_week = week_start(from);
    for (std::int64_t w = first_week; w < to; w += kWeek)
        f.weeks.push_back({w, 0, 0});
    const auto in_range = [&](std::int64_t t) { return t >= from && t < to; };

    std::vector<ActivityMessage> sorted(messages.begin(), messages.end());
    std::sort(sorted.begin(), sorted.end(), [](const ActivityMessage& a, const ActivityMessage& b) {
        return a.thread != b.thread ? a.thread < b.thread : a.at < b.at;
    });
    std::int64_t response_total = 0;
    std::optional<std::int64_t> first_turn; // the earliest turn in the range
    std::vector<FollowupCandidate> threads;
    for (std::size_t i = 0; i < sorted.size();) {
        const ThreadId thread = sorted[i].thread;
        FollowupCandidate c;
        c.thread = thread;
        c.settings = settings;
        std::optional<std::int64_t> turn; // the start of the customer's unanswered turn
        for (; i < sorted.size() && sorted[i].thread == thread; ++i) {
            const auto& m = sorted[i];
            f.last_contact = std::max(f.last_contact.value_or(m.at), m.at);
            if (in_range(m.at)) {
                (m.outgoing ? f.out : f.in) += 1;
                const auto w = static_cast<std::size_t>((week_start(m.at) - first_week) / kWeek);
                if (w < f.weeks.size())
                    (m.outgoing ? f.weeks[w].out : f.weeks[w].in) += 1;
            }
            if (m.outgoing) {
                c.last_out_at = m.at;
                if (turn && in_range(*turn)) {
                    const std::int64_t took = m.at - *turn;
                    ++f.responses;
                    response_total += took;
                    if (!first_turn || *turn < *first_turn) {
                        first_turn = *turn;
                        f.first_response_seconds = took;
                    }
                }
                turn.reset();
            } else {
                c.last_in_at = m.at;
                if (!turn)
                    turn = m.at;
            }
        }
        // A turn still waiting: the earliest turn may be this one, unanswered.
        if (turn && in_range(*turn) && (!first_turn || *turn < *first_turn)) {
            first_turn = *turn;
            f.first_response_seconds.reset();
        }
        threads.push_back(std::move(c));
    }
    if (f.responses > 0)
        f.average_response_seconds = response_total / f.responses;
    f.open_followups = static_cast<std::int64_t>(due_followups(threads, policy, now).size());
    return f;
}

} // namespace crm
