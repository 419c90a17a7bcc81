#pragma once
// Re-sorts stored threads when the CRM's records change (issue 19): a thread of its own compares
// the CRM's fingerprint (ResortStore::crm_fingerprint) every few seconds, whoever changed the
// records (crm-mailctl, the CRM application writing SQL), and on a change decides again the
// unsorted queue's threads and the automatic links (app::resort). At start it decides the queue
// again (the CRM may have learnt customers while the daemon was down). On its own connection
// and thread, so the sync and the HTTP API never wait for a pass. Other periodic work on the
// database (the daily follow-up reminder) rides along as chores, run after each look.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "crm/app/resort.hpp"
#include "crm/core/backend.hpp"
#include "crm/core/clock.hpp"
#include "crm/core/log.hpp"

namespace crm::daemon {

class ResortWatcher {
  public:
    ResortWatcher(BackendOpener open, LogSink log, app::ResortOptions options,
                  std::chrono::milliseconds every = std::chrono::seconds(3),
                  const Clock& clock = system_clock());
    ResortWatcher(const ResortWatcher&) = delete;
    ResortWatcher& operator=(const ResortWatcher&) = delete;
    ~ResortWatcher() { stop(); }

    // Adds work run on this thread after each look (before start()).
    void add_chore(std::function<void(Backend&)> chore) { chores_.push_back(std::move(chore)); }
    void start();
    void stop();

  private:
    void run();
    // One look at the fingerprint, and a pass when it changed.
    void check(Backend& b);

    BackendOpener open_;
    LogSink log_;
    app::ResortOptions options_;
    std::chrono::milliseconds every_;
    const Clock& clock_;
    std::optional<std::string> fingerprint_; // as of the last pass that decided every thread
    bool looked_ = false;                    // the pass at start is done
    std::int64_t retry_at_ = 0;              // after a failed pass: not before this
    std::vector<std::function<void(Backend&)>> chores_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::atomic<bool> stopping_{false}; // read by a pass between threads
};

} // namespace crm::daemon
