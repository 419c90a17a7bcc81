#pragma once
// Which messages a split moves (ThreadEdits::split_message): the same rule for every store. Pure.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"

namespace crm {

// One message of the thread being split: its row, Message-ID and the ids it references
// (References, then In-Reply-To).
struct SplitCandidate {
    MessageRowId id = 0;
    std::string message_id;
    std::vector<std::string> refs;
};

struct SplitPlan {
    std::vector<MessageRowId> moved; // the chosen message first, then its replies
    std::set<std::string> moved_ids; // their Message-IDs (their thread keys move too)
};

// The chosen message, then every message referencing a moved one (directly or through another
// moved message), until nothing changes. `movable`: when given, only these may move; a reply
// outside it stays, and so do the replies to it.
[[nodiscard]] SplitPlan plan_split(const std::vector<SplitCandidate>& thread, MessageRowId chosen,
                                   const std::optional<std::vector<MessageRowId>>& movable);

} // namespace crm
