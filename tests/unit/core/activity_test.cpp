// Activity figures (issue 20): weeks, customer turns and our responses, last contact, follow-ups.
#include "crm/core/activity.hpp"

#include <gtest/gtest.h>

namespace crm {
namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kHour = 3600;
// Monday 2026-11-23 00:00 UTC.
constexpr std::int64_t kMonday = 1795392000;

ActivityMessage msg(ThreadId t, std::int64_t at, bool out) {
    return ActivityMessage{t, at, out, 7, std::nullopt};
}

TEST(Activity, WeekStartsOnMondayUtc) {
    EXPECT_EQ(week_start(kMonday), kMonday);
    EXPECT_EQ(week_start(kMonday + 6 * kDay + 23 * kHour), kMonday);
    EXPECT_EQ(week_start(kMonday - 1), kMonday - 7 * kDay);
    EXPECT_EQ(week_start(0), -3 * kDay); // 1970-01-01 was a Thursday
}

TEST(Activity, WeeksTurnsResponsesAndLastContact) {
    const std::int64_t from = kMonday, to = kMonday + 14 * kDay;
    const std::vector<ActivityMessage> m{
        // Thread 1: two customer messages (one turn), our answer 5 hours after the first.
        msg(1, kMonday + 9 * kHour, false),
        msg(1, kMonday + 10 * kHour, false),
        msg(1, kMonday + 14 * kHour, true),
        // Then their next turn in week 2, answered after 2 hours.
        msg(1, kMonday + 8 * kDay, false),
        msg(1, kMonday + 8 * kDay + 2 * kHour, true),
        // Thread 2: we write first, they answer, we do not answer that (yet).
        msg(2, kMonday + 2 * kDay, true),
        msg(2, kMonday + 3 * kDay, false),
        // Before the range: counted nowhere, but it is a contact.
        msg(3, kMonday - kDay, false),
    };
    const auto f = activity_figures(m, from, to, to, FollowupPolicy{3, 24}, {});
    ASSERT_EQ(f.weeks.size(), 2u);
    EXPECT_EQ(f.weeks[0].week, kMonday);
    EXPECT_EQ(f.weeks[0].in, 3);
    EXPECT_EQ(f.weeks[0].out, 2);
    EXPECT_EQ(f.weeks[1].in, 1);
    EXPECT_EQ(f.weeks[1].out, 1);
    EXPECT_EQ(f.in, 4);
    EXPECT_EQ(f.out, 3);
    EXPECT_EQ(f.responses, 2);
    EXPECT_EQ(f.first_response_seconds, std::optional<std::int64_t>(5 * kHour));
    EXPECT_EQ(f.average_response_seconds, std::optional<std::int64_t>((5 + 2) * kHour / 2));
    EXPECT_EQ(f.last_contact, std::optional<std::int64_t>(kMonday + 8 * kDay + 2 * kHour));
    // Thread 1 awaits their reply (ours of week 2's Tuesday is 3 business days old by Friday),
    // thread 2 waits for our answer since Thursday, thread 3's customer since the Sunday before.
    EXPECT_EQ(f.open_followups, 3);
}

TEST(Activity, AnUnansweredFirstTurnHasNoFirstResponse) {
    const std::vector<ActivityMessage> m{msg(1, kMonday + kHour, false),
                                         msg(2, kMonday + 2 * kHour, false),
                                         msg(2, kMonday + 3 * kHour, true)};
    const auto f = activity_figures(m, kMonday, kMonday + 7 * kDay, kMonday + kDay, {}, {});
    EXPECT_EQ(f.first_response_seconds, std::nullopt);
    EXPECT_EQ(f.average_response_seconds, std::optional<std::int64_t>(kHour));
    EXPECT_EQ(f.responses, 1);
}

TEST(Activity, NoMailIsEmptyWeeks) {
    const auto f = activity_figures({}, kMonday, kMonday + 21 * kDay, kMonday, {}, {});
    ASSERT_EQ(f.weeks.size(), 3u);
    EXPECT_EQ(f.weeks[2].week, kMonday + 14 * kDay);
    EXPECT_EQ(f.in + f.out + f.responses + f.open_followups, 0);
    EXPECT_FALSE(f.last_contact);
}

} // namespace
} // namespace crm
