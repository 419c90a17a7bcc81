#pragma once
// Activity per deal and per salesperson (issue 20): messages in and out per week, how fast we
// answer, the last contact and the open follow-ups. Counted from the mail a person wrote: our
// messages (direction out) and the customer's (direction in, not automatic, not bulk).
// Automatic messages (bounces, out-of-office answers) and bulk mail are left out.
//
// A response is our first message in a thread after a turn of the customer's (one or more of
// their messages in a row): its time is from the first message of the turn to ours. The first
// response is that of the deal's first turn. Weeks start on Monday, 00:00 UTC.
//
// The port reads the messages; the figures are computed here (pure).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crm/core/followups.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

// One message a person wrote, as the activity figures need it.
struct ActivityMessage {
    ThreadId thread = 0;
    std::int64_t at = 0; // Date, else when it arrived
    bool outgoing = false;
    DealId deal = 0;
    std::optional<UserId> owner; // the deal's owner (reports)
};

struct WeekCount {
    std::int64_t week = 0; // Monday 00:00 UTC
    std::int64_t in = 0, out = 0;
};

struct ActivityFigures {
    std::vector<WeekCount> weeks; // each week of the range, oldest first
    std::int64_t in = 0, out = 0; // in the range
    std::int64_t responses = 0;   // customer turns answered
    std::optional<std::int64_t> first_response_seconds;
    std::optional<std::int64_t> average_response_seconds;
    std::optional<std::int64_t> last_contact; // the newest message, either way
    std::int64_t open_followups = 0;
};

// The Monday 00:00 UTC of the week holding `t`.
[[nodiscard]] std::int64_t week_start(std::int64_t t);

// The figures of `messages` (any order; several threads) for [from, to): the weeks from the one
// holding `from` to the one holding `to - 1`. Responses count a turn that starts in the range.
// Open follow-ups: the threads due at `now` under `policy` and `settings` (snoozes, which are each
// user's own, are not applied).
[[nodiscard]] ActivityFigures activity_figures(std::span<const ActivityMessage> messages,
                                               std::int64_t from, std::int64_t to, std::int64_t now,
                                               const FollowupPolicy& policy,
                                               const DealFollowupSettings& settings);

class ActivityReads {
  public:
    virtual ~ActivityReads() = default;
    // Every message a person wrote in the threads linked to `deal`.
    virtual Result<std::vector<ActivityMessage>> deal_messages(DealId deal) = 0;
    // The messages a person wrote in threads linked to a deal with an owner, from `from` to
    // `to` (exclusive), for the activity report; `owner` set: that user's deals only.
    virtual Result<std::vector<ActivityMessage>>
    owner_messages(std::optional<UserId> owner, std::int64_t from, std::int64_t to) = 0;
};

} // namespace crm
