// Follow-ups (issue 20): business days and which conversations are due.
#include "crm/core/followups.hpp"

#include <gtest/gtest.h>

namespace crm {
namespace {

// 2026-11-27 was a Friday; 10:00 UTC.
constexpr std::int64_t kFriday = 1795773600;
constexpr std::int64_t kDay = 86400;

TEST(BusinessDays, WeekendsDoNotCount) {
    EXPECT_EQ(add_business_days(kFriday, 1), kFriday + 3 * kDay);        // Monday
    EXPECT_EQ(add_business_days(kFriday, 3), kFriday + 5 * kDay);        // Wednesday
    EXPECT_EQ(add_business_days(kFriday, 5), kFriday + 7 * kDay);        // next Friday
    EXPECT_EQ(add_business_days(kFriday + kDay, 1), kFriday + 3 * kDay); // Saturday -> Monday
    EXPECT_EQ(add_business_days(kFriday + kDay, 5), kFriday + 7 * kDay); // Saturday -> Friday
    EXPECT_EQ(add_business_days(kFriday - 4 * kDay, 4), kFriday);        // Monday -> Friday
    EXPECT_EQ(add_business_days(kFriday, 10), kFriday + 14 * kDay);
    EXPECT_EQ(add_business_days(kFriday, 0), kFriday);
}

FollowupCandidate candidate(ThreadId t, std::optional<std::int64_t> in,
                            std::optional<std::int64_t> out) {
    FollowupCandidate c;
    c.thread = t;
    c.subject = "S" + std::to_string(t);
    c.deal = 7;
    c.deal_name = "Fleet";
    c.last_in_at = in;
    c.last_out_at = out;
    return c;
}

TEST(DueFollowups, OursLastAwaitsTheirsLastNeedsAnswerEachAfterItsPeriod) {
    const FollowupPolicy policy{3, 24};
    const std::int64_t now = kFriday + 5 * kDay; // Wednesday 10:00
    std::vector<FollowupCandidate> c{
        candidate(1, kFriday - kDay, kFriday),          // ours on Friday: due Wednesday 10:00
        candidate(2, kFriday - kDay, kFriday + 3600),   // ours an hour later: not yet
        candidate(3, now - 25 * 3600, now - 30 * 3600), // theirs 25 h ago, after ours
        candidate(4, now - 23 * 3600, std::nullopt),    // theirs 23 h ago: not yet
        candidate(5, std::nullopt, std::nullopt),       // nothing
        candidate(6, now - 2 * kDay, now - 2 * kDay),   // a tie: neither is last
    };
    const auto due = due_followups(c, policy, now);
    ASSERT_EQ(due.size(), 2u);
    // Most overdue first: theirs was due an hour ago, ours is due now.
    EXPECT_EQ(due[0].thread, 3);
    EXPECT_EQ(due[0].kind, FollowupKind::NeedsAnswer);
    EXPECT_EQ(due[0].due_at, now - 3600);
    EXPECT_EQ(followup_kind_name(due[0].kind), "needs_answer");
    EXPECT_EQ(due[1].thread, 1);
    EXPECT_EQ(due[1].kind, FollowupKind::AwaitingReply);
    EXPECT_EQ(due[1].since, kFriday);
    EXPECT_EQ(due[1].due_at, now);
}

TEST(DueFollowups, ADealsOwnPeriodsAndSnoozes) {
    const FollowupPolicy policy{3, 24};
    const std::int64_t now = kFriday + 3 * kDay; // Monday 10:00
    auto quick = candidate(1, std::nullopt, kFriday);
    quick.settings.awaiting_days = 1; // due Monday 10:00
    auto slow = candidate(2, now - 30 * 3600, std::nullopt);
    slow.settings.answer_hours = 48; // theirs 30 h ago: not yet
    auto snoozed = candidate(3, now - 50 * 3600, std::nullopt);
    snoozed.snoozed_until = now + 3600;
    auto woke = candidate(4, now - 50 * 3600, std::nullopt);
    woke.snoozed_until = now - 1;
    const std::vector<FollowupCandidate> c{quick, slow, snoozed, woke};
    const auto due = due_followups(c, policy, now);
    ASSERT_EQ(due.size(), 2u);
    EXPECT_EQ(due[0].thread, 4);
    EXPECT_EQ(due[1].thread, 1);
}

TEST(FollowupSettings, OutOfRangeNamesTheField) {
    EXPECT_TRUE(check_followup_settings({1, 720}));
    EXPECT_TRUE(check_followup_settings({std::nullopt, std::nullopt}));
    auto days = check_followup_settings({0, std::nullopt});
    ASSERT_FALSE(days);
    EXPECT_EQ(days.error().code, "followups.range");
    EXPECT_TRUE(days.error().detail.starts_with("awaiting_days: 0"));
    auto hours = check_followup_settings({std::nullopt, 721});
    ASSERT_FALSE(hours);
    EXPECT_TRUE(hours.error().detail.starts_with("answer_hours: 721"));
}

} // namespace
} // namespace crm
