#include "crm/core/thread_split.hpp"

#include <algorithm>

namespace crm {

SplitPlan plan_split(const std::vector<SplitCandidate>& thread, MessageRowId chosen,
                     const std::optional<std::vector<MessageRowId>>& movable) {
    SplitPlan out;
    for (const SplitCandidate& r : thread)
        if (r.id == chosen) {
            out.moved_ids.insert(r.message_id);
            out.moved.push_back(r.id);
        }
    for (bool grew = true; grew;) {
        grew = false;
        for (const SplitCandidate& r : thread) {
            if (std::find(out.moved.begin(), out.moved.end(), r.id) != out.moved.end())
                continue;
            if (movable && std::find(movable->begin(), movable->end(), r.id) == movable->end())
                continue;
            if (std::any_of(r.refs.begin(), r.refs.end(),
                            [&](const std::string& x) { return out.moved_ids.contains(x); })) {
                out.moved_ids.insert(r.message_id);
                out.moved.push_back(r.id);
                grew = true;
            }
        }
    }
    return out;
}

} // namespace crm
