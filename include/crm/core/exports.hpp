#pragma once
// The line formats of `crm-mailctl export threads` and `export deal-links` (OperatorReads), the
// same whichever database the rows come from: the evaluation scripts compare them byte for byte.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"

namespace crm::exports {

// Per thread its Message-IDs, sorted and without repeats, space separated; the lines sorted
// byte by byte.
inline std::vector<std::string>
thread_lines(const std::vector<std::pair<ThreadId, std::string>>& rows) {
    std::map<ThreadId, std::vector<std::string>> by_thread;
    for (const auto& [thread, id] : rows)
        by_thread[thread].push_back(id);
    std::vector<std::string> lines;
    for (auto& [thread, ids] : by_thread) {
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        std::string line;
        for (const auto& id : ids) {
            if (!line.empty())
                line += ' ';
            line += id;
        }
        lines.push_back(std::move(line));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

// "<message-id>\t<deal id|unsorted>\t<reason>": a linked message's reason is its sort reason (or
// "manual link"); an unsorted one's is its sort reason, else its thread's queue reason.
inline std::string deal_link_line(const std::string& message_id, std::optional<DealId> deal,
                                  bool manual, const std::string& sort_reason,
                                  const std::string& queue_reason) {
    if (!deal)
        return message_id + "\tunsorted\t" + (sort_reason.empty() ? queue_reason : sort_reason);
    return message_id + '\t' + std::to_string(*deal) + '\t' +
           (manual ? std::string("manual link") : sort_reason);
}

// Sorted, without repeats.
inline void sort_unique(std::vector<std::string>& lines) {
    std::sort(lines.begin(), lines.end());
    lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
}

} // namespace crm::exports
