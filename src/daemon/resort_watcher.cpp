// The CRM change watcher (see resort_watcher.hpp).
#include "resort_watcher.hpp"

#include <fmt/format.h>

namespace crm::daemon {

ResortWatcher::ResortWatcher(BackendOpener open, LogSink log, app::ResortOptions options,
                             std::chrono::milliseconds every, const Clock& clock)
    : open_(std::move(open)), log_(std::move(log)), options_(std::move(options)), every_(every),
      clock_(clock) {
    options_.stop = &stopping_;
}

void ResortWatcher::start() {
    if (!thread_.joinable())
        thread_ = std::thread([this] { run(); });
}

void ResortWatcher::stop() {
    stopping_ = true;
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
}

void ResortWatcher::run() {
    std::unique_ptr<Backend> backend;
    std::unique_lock lock(mu_);
    while (!stop_) {
        lock.unlock();
        if (!backend) {
            if (auto b = open_(); b)
                backend = std::move(*b);
            else
                log_(LogLevel::Error, {}, "resort",
                     "cannot open the database to watch the CRM: " + b.error().to_string());
        }
        if (backend) {
            backend->refresh();
            check(*backend);
            for (auto& chore : chores_)
                chore(*backend);
        }
        lock.lock();
        cv_.wait_for(lock, every_, [this] { return stop_; });
    }
}

void ResortWatcher::check(Backend& b) {
    // Several daemons on one database: one of them re-sorts.
    auto leader = b.resort().resort_leader();
    if (!leader) {
        log_(LogLevel::Error, {}, "resort",
             "cannot ask whether to lead the re-sorting: " + leader.error().to_string());
        return;
    }
    if (!*leader)
        return;
    auto now_fp = b.resort().crm_fingerprint();
    if (!now_fp) {
        log_(LogLevel::Error, {}, "resort",
             "cannot read the CRM's records: " + now_fp.error().to_string());
        return;
    }
    if (fingerprint_ == *now_fp || clock_.now() < retry_at_)
        return;
    const std::int64_t started = clock_.now();
    // On a change, the unsorted queue and every automatic link (a new customer in the CRM can
    // make a thread linked to another deal contested); at start, the queue only (whether the
    // CRM changed while the daemon was down is not known, and the links were decided on the CRM
    // as it was then).
    const bool at_start = !looked_;
    auto r = app::resort(b, ResortScope{true, !at_start, std::nullopt}, started, options_);
    if (!r) { // tried again a minute later
        log_(LogLevel::Error, {}, "resort",
             "deciding threads again failed: " + r.error().to_string());
        retry_at_ = clock_.now() + 60;
        return;
    }
    const app::ResortReport& all = *r;
    for (const auto& [thread, why] : all.failed)
        log_(LogLevel::Error, {}, "resort",
             fmt::format("thread {} was not decided again: {}", thread, why.to_string()));
    for (const auto& c : all.changes)
        log_(LogLevel::Info, {}, "resort",
             fmt::format("thread {}: {} -> {}{}: {}", c.thread,
                         c.from ? fmt::format("deal {}", *c.from) : std::string("unsorted"),
                         c.to ? fmt::format("deal {}", *c.to) : std::string("unsorted"),
                         c.held ? " (held for a person)" : "", c.reason));
    log_(all.changes.empty() ? LogLevel::Debug : LogLevel::Info, {}, "resort",
         fmt::format("{}: {} thread(s) decided again, {} changed in {} s",
                     at_start ? "start" : "the CRM changed", all.examined, all.changes.size(),
                     clock_.now() - started));
    looked_ = true;
    // A pass cut short by the stop, or with threads that failed, is run again a minute later.
    if (!all.stopped && all.failed.empty())
        fingerprint_ = std::move(*now_fp);
    else
        retry_at_ = clock_.now() + 60;
}

} // namespace crm::daemon
