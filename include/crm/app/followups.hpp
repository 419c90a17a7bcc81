#pragma once
// The follow-up list of one salesperson (crm/core/followups.hpp), for the API, crm-mailctl and
// the daily reminder mail: the store pre-selects by calendar time, due_followups() decides by
// business days and hours.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// The text of the daily reminder mail: one line per follow-up, with a link to its thread when
// `base_url` (the page's public URL) is known.
[[nodiscard]] std::string reminder_text(std::string_view name, const FollowupList& list,
                                        std::string_view base_url, std::int64_t now);

} // namespace crm::app
