#pragma once
// The follow-up list of one salesperson (crm/core/followups.hpp), for the API and crm-mailctl:
// the store pre-selects by calendar time, due_followups() decides by business days and hours.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "crm/core/backend.hpp"
#include "crm/core/followups.hpp"

namespace crm::app {

// The most a list holds; `truncated` says when there were more.
inline constexpr std::size_t kFollowupLimit = 500;

struct FollowupList {
    std::vector<Followup> items;
    bool truncated = false;
};

[[nodiscard]] Result<FollowupList> list_followups(Followups& store, UserId user,
                                                  const FollowupPolicy& policy, std::int64_t now);

// The daily reminder mail ([followups] daily_reminder_hour): a salesperson's follow-up list, sent
// through their own account to its own address.
struct ReminderText {
    std::string subject, body;
};

// Pure. Each conversation: its kind, how long it has waited, the deal, the subject and, with
// `page_url` (the page's origin, [http] public_url), a link to it.
[[nodiscard]] ReminderText reminder_text(const FollowupList& list, std::int64_t now,
                                         const std::string& page_url);

// Whether the daily reminder is due at `now`: on one of `days` ("mon".."sun", UTC) from `hour`
// (UTC) on.
[[nodiscard]] bool reminder_due(std::int64_t now, int hour, const std::vector<std::string>& days);

// QueueFollowupReminders: for each owner of an open deal who has an account in `accounts` (user
// -> the name of the account their reminder goes out from) and something due, claims today's
// reminder (followup_reminders: once a day whichever worker asks) and queues it in the outbox, in
// one transaction per user. A Message-ID "crm-reminder.<day>.<random>@<domain>"; its copies are
// stored on no deal and not in the unsorted queue (app::Ingestor). Returns how many were queued;
// a failure for one user does not stop the others, and the first is returned after them.
[[nodiscard]] Result<int> queue_followup_reminders(Backend& b,
                                                   const std::map<UserId, std::string>& accounts,
                                                   const FollowupPolicy& policy,
                                                   const std::string& page_url, std::int64_t now,
                                                   const std::function<std::string()>& random_hex);

} // namespace crm::app
