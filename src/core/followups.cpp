#include "crm/core/followups.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace crm {

namespace {

constexpr std::int64_t kDay = 24 * 3600;

} // namespace

// 1970-01-01 was a Thursday.
int utc_weekday(std::int64_t t) {
    std::int64_t days = t / kDay;
    if (t % kDay < 0)
        --days;
    return static_cast<int>(((days + 3) % 7 + 7) % 7);
}

std::string utc_day(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

std::int64_t add_business_days(std::int64_t t, int days) {
    // Day by day: each weekday reached counts one (days is at most kMaxAwaitingDays).
    std::int64_t at = t;
    for (int left = days; left > 0;) {
        at += kDay;
        if (utc_weekday(at) < 5)
            --left;
    }
    return at;
}

std::vector<Followup> due_followups(std::span<const FollowupCandidate> candidates,
                                    const FollowupPolicy& policy, std::int64_t now) {
    std::vector<Followup> out;
    for (const auto& c : candidates) {
        if (c.snoozed_until && *c.snoozed_until > now)
            continue;
        const bool ours_last = c.last_out_at && (!c.last_in_at || *c.last_out_at > *c.last_in_at);
        const bool theirs_last = c.last_in_at && (!c.last_out_at || *c.last_in_at > *c.last_out_at);
        Followup f{c.thread, c.subject, c.deal, c.deal_name, FollowupKind::AwaitingReply, 0, 0};
        if (ours_last) {
            f.since = *c.last_out_at;
            f.due_at =
                add_business_days(f.since, c.settings.awaiting_days.value_or(policy.awaiting_days));
        } else if (theirs_last) {
            f.kind = FollowupKind::NeedsAnswer;
            f.since = *c.last_in_at;
            f.due_at = f.since + static_cast<std::int64_t>(
                                     c.settings.answer_hours.value_or(policy.answer_hours)) *
                                     3600;
        } else {
            continue;
        }
        if (f.due_at <= now)
            out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const Followup& a, const Followup& b) {
        return a.due_at != b.due_at ? a.due_at < b.due_at : a.thread < b.thread;
    });
    return out;
}

Result<void> check_followup_settings(const DealFollowupSettings& s) {
    if (s.awaiting_days &&
        (*s.awaiting_days < kMinAwaitingDays || *s.awaiting_days > kMaxAwaitingDays))
        return fail("followups.range",
                    fmt::format("awaiting_days: {} is out of range ({}..{} business days)",
                                *s.awaiting_days, kMinAwaitingDays, kMaxAwaitingDays));
    if (s.answer_hours && (*s.answer_hours < kMinAnswerHours || *s.answer_hours > kMaxAnswerHours))
        return fail("followups.range",
                    fmt::format("answer_hours: {} is out of range ({}..{} hours)", *s.answer_hours,
                                kMinAnswerHours, kMaxAnswerHours));
    return {};
}

} // namespace crm
