#pragma once
// The daemon's small HTTP endpoint (Boost.Beast on the daemon's io_context, loopback by
// default): GET /healthz and GET /metrics (Prometheus text format 0.0.4). The CRM thread view
// API comes with its own issue; this serves operations only.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "crm/core/result.hpp"
#include "crm/store/database.hpp"

namespace crm::daemon {

// In-process counters the database does not keep.
struct Counters {
    std::map<std::string, std::uint64_t> errors_by_class; // account errors by class
    std::map<std::string, std::uint64_t> send_results;    // outbox outcomes (sent, failed, ...)
};

// Renders /metrics from the database and the counters. Pure formatting over store reads.
std::string render_metrics(store::Database& db, const Counters& counters);

class MetricsServer {
  public:
    MetricsServer(boost::asio::io_context& io, store::Database& db, const Counters& counters);
    ~MetricsServer();
    // Binds and starts accepting. Errors: "http.bind" naming the address.
    Result<void> start(const std::string& address, std::uint16_t port);
    void stop();
    [[nodiscard]] std::uint16_t port() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace crm::daemon
