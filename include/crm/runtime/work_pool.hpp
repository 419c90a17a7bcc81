#pragma once
// A fixed set of worker threads for the daemon's pure, CPU-bound work (MIME parsing of fetched
// batches). Threads live as long as the pool: creating two threads per batch cost more than the
// parsing of small batches (thread stacks and malloc arenas mapped and unmapped, with a TLB
// shootdown on the other core each time).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "crm/core/waiting_future.hpp"

namespace crm::runtime {

class WorkPool {
  public:
    // `nice` > 0 runs the workers at a lower priority than the rest of the process (see
    // DaemonSink: they have slack, the thread that stores is the one everything waits for).
    explicit WorkPool(unsigned threads, int nice = 0);
    ~WorkPool(); // finishes the queued work, then joins
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    // Runs fn(0) .. fn(count - 1) on the workers, in any order and concurrently; the future is
    // ready once every call has returned (with the first exception thrown, if any), and waits
    // for that when destroyed, so what fn refers to may live as long as the future.
    WaitingFuture run(std::size_t count, std::function<void(std::size_t)> fn);

    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

  private:
    struct Job;
    void work(int nice);

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::shared_ptr<Job>> jobs_;
    bool stop_ = false;
    std::vector<std::thread> threads_;
};

} // namespace crm::runtime
