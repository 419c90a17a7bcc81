#pragma once
// The follow-up list of one salesperson (crm/core/followups.hpp), for the API and crm-mailctl:
// the store pre-selects by calendar time, due_followups() decides by business days and hours.

#include <cstddef>
#include <cstdint>
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

} // namespace crm::app
