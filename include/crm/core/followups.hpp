#pragma once
// Follow-ups (issue 20): the conversations on a salesperson's open deals that wait for someone.
//  - awaiting their reply: our newest message is `awaiting_days` business days old (Monday to
//    Friday, UTC) and nothing a person outside the team wrote came after it;
//  - needs our answer: their newest message is `answer_hours` hours old and we sent nothing
//    after it.
// Automatic messages (bounces, out-of-office answers) and bulk mail never count as the
// customer's message (threads.last_in_at, schema/0020). The periods have defaults in the config
// ([followups]); a deal may set its own. A person may snooze a thread until a time: it leaves
// their list until then. The port is implemented by each store; due_followups() is pure.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

inline constexpr int kMinAwaitingDays = 1, kMaxAwaitingDays = 60;
inline constexpr int kMinAnswerHours = 1, kMaxAnswerHours = 720;
// How far ahead a snooze may reach.
inline constexpr std::int64_t kMaxSnoozeSeconds = 366LL * 24 * 3600;

struct FollowupPolicy {
    int awaiting_days = 3; // business days
    int answer_hours = 24;
};

// A deal's own periods (unset: the policy's).
struct DealFollowupSettings {
    std::optional<int> awaiting_days, answer_hours;
};

// A thread on one of the user's open deals whose last word may be overdue (the store's
// pre-selection by calendar time; due_followups decides).
struct FollowupCandidate {
    ThreadId thread = 0;
    std::string subject;
    DealId deal = 0;
    std::string deal_name;
    std::optional<std::int64_t> last_in_at, last_out_at;
    DealFollowupSettings settings;
    std::optional<std::int64_t> snoozed_until;
};

enum class FollowupKind { AwaitingReply, NeedsAnswer };

[[nodiscard]] constexpr std::string_view followup_kind_name(FollowupKind k) {
    return k == FollowupKind::AwaitingReply ? "awaiting_reply" : "needs_answer";
}

struct Followup {
    ThreadId thread = 0;
    std::string subject;
    DealId deal = 0;
    std::string deal_name;
    FollowupKind kind = FollowupKind::AwaitingReply;
    std::int64_t since = 0;  // the message waited on: ours (awaiting) or theirs (needs answer)
    std::int64_t due_at = 0; // when it became due
};

// 0 = Monday .. 6 = Sunday, of the UTC day holding `t`.
[[nodiscard]] int utc_weekday(std::int64_t t);

// "YYYY-MM-DD" of the UTC day holding `t`.
[[nodiscard]] std::string utc_day(std::int64_t t);

// The time `days` business days (Monday to Friday, UTC) after `t`: a message sent on Friday
// is one business day old on Monday at the same time.
[[nodiscard]] std::int64_t add_business_days(std::int64_t t, int days);

// The candidates due at `now` and not snoozed past it, most overdue first.
[[nodiscard]] std::vector<Followup> due_followups(std::span<const FollowupCandidate> candidates,
                                                  const FollowupPolicy& policy, std::int64_t now);

// Whether a setting is in range; the message names the field and the range.
[[nodiscard]] Result<void> check_followup_settings(const DealFollowupSettings& s);

class Followups {
  public:
    virtual ~Followups() = default;
    // Threads on the open deals `user` owns, not snoozed past `now`, whose newest outgoing
    // message is from before
    // `out_before` with nothing from the customer after it, or whose newest incoming message is
    // from before `in_before` with nothing of ours after it. At most `limit`, oldest first.
    virtual Result<std::vector<FollowupCandidate>> candidates(UserId user, std::int64_t now,
                                                              std::int64_t out_before,
                                                              std::int64_t in_before,
                                                              std::size_t limit) = 0;
    // The shortest periods any of the user's open deals sets (for the pre-selection).
    virtual Result<DealFollowupSettings> shortest_settings(UserId user) = 0;
    virtual Result<DealFollowupSettings> deal_settings(DealId deal) = 0;
    virtual Result<void> set_deal_settings(DealId deal, const DealFollowupSettings& s,
                                           std::optional<UserId> by, std::int64_t now) = 0;
    // `until` nullopt: the snooze is lifted.
    virtual Result<void> snooze(UserId user, ThreadId thread, std::optional<std::int64_t> until,
                                std::int64_t now) = 0;
    // Users that own an open deal (crm-mailctl followups lists each one's).
    virtual Result<std::vector<UserId>> deal_owners() = 0;
    // Claims the daily reminder of `user` for `day` (YYYY-MM-DD, UTC) with the Message-ID it
    // will go out with: false when it was claimed already (by this worker or another). Then
    // record_reminder_outbox names the outbox entry, in the same transaction.
    virtual Result<bool> claim_reminder(UserId user, const std::string& day,
                                        const std::string& message_id, std::int64_t items,
                                        std::int64_t now) = 0;
    virtual Result<void> record_reminder_outbox(UserId user, const std::string& day,
                                                std::int64_t outbox_id) = 0;
};

} // namespace crm
