#include <gtest/gtest.h>

#include "crm/app/followups.hpp"

namespace crm::app {
namespace {

// Mon 7 Dec 2026 06:30 UTC.
constexpr std::int64_t kMonday = 1796625000;

TEST(Reminder, DueFromItsHourOnItsDays) {
    const std::vector<std::string> weekdays{"mon", "tue", "wed", "thu", "fri"};
    EXPECT_EQ(utc_day(kMonday), "2026-12-07");
    EXPECT_FALSE(reminder_due(kMonday, 7, weekdays)) << "06:30 is before 07:00";
    EXPECT_TRUE(reminder_due(kMonday + 1800, 7, weekdays)) << "07:00";
    EXPECT_TRUE(reminder_due(kMonday + 17 * 3600, 7, weekdays)) << "23:30 still that day";
    EXPECT_FALSE(reminder_due(kMonday - 2 * 86400 + 3600, 7, weekdays)) << "Saturday";
    EXPECT_TRUE(reminder_due(kMonday - 2 * 86400 + 3600, 7, {"sat"}));
    EXPECT_FALSE(reminder_due(kMonday + 86400 + 3600, 7, {"mon"})) << "Tuesday";
    EXPECT_EQ(utc_day(0), "1970-01-01");
    EXPECT_TRUE(reminder_due(0, 0, {"thu"})) << "1970-01-01 was a Thursday";
}

TEST(Reminder, TextListsEachConversationWithItsLinkAndKeepsLinesWhole) {
    FollowupList list;
    list.items.push_back({11, "Offer\r\nBcc: evil@example.com", 7, "Acme renewal",
                          FollowupKind::NeedsAnswer, kMonday - 30 * 3600, kMonday - 6 * 3600});
    list.items.push_back(
        {12, "", 8, "Globex pilot", FollowupKind::AwaitingReply, kMonday - 5 * 86400, kMonday});
    const auto t = reminder_text(list, kMonday, "https://crm.example.com");
    EXPECT_EQ(t.subject, "Follow up today: 2 conversations");
    EXPECT_NE(t.body.find("2 conversations on your open deals wait for someone today: 1 for our "
                          "answer, 1 for the customer's."),
              std::string::npos)
        << t.body;
    EXPECT_NE(t.body.find("Needs our answer:\n- Offer  Bcc: evil@example.com (deal: Acme renewal), "
                          "waiting 30 hours\n  https://crm.example.com/#/threads/11\n"),
              std::string::npos)
        << t.body;
    EXPECT_NE(t.body.find("Awaiting their reply:\n- (no subject) (deal: Globex pilot), waiting 5 "
                          "days\n  https://crm.example.com/#/threads/12\n"),
              std::string::npos)
        << t.body;
    EXPECT_LT(t.body.find("Needs our answer:"), t.body.find("Awaiting their reply:"));
    const auto one = reminder_text({{list.items[0]}, false}, kMonday, "");
    EXPECT_EQ(one.subject, "Follow up today: 1 conversation");
    EXPECT_EQ(one.body.find("#/threads/"), std::string::npos) << "no page address: no links";
}

} // namespace
} // namespace crm::app
