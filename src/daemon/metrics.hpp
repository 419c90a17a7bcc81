#pragma once
// /metrics (Prometheus text format 0.0.4): figures from the database and in-process counters.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "crm/core/backend.hpp"

namespace crm::daemon {

// In-process counters the database does not keep.
struct Counters {
    std::map<std::string, std::uint64_t> errors_by_class; // account errors by class
    std::map<std::string, std::uint64_t> send_results;    // outbox outcomes (sent, failed, ...)
};

// Renders /metrics from the database's figures (MetricsQueries) and the counters; `now` (Unix
// seconds) for the sync lag.
std::string render_metrics(MetricsQueries& db, const Counters& counters, std::int64_t now);

} // namespace crm::daemon
