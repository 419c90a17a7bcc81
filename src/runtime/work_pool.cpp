#include "crm/runtime/work_pool.hpp"

#include <algorithm>
#include <exception>

#include <sys/resource.h>
#include <unistd.h>

namespace crm::runtime {

struct WorkPool::Job {
    std::function<void(std::size_t)> fn;
    std::size_t count = 0;
    std::size_t next = 0;     // next index to hand out (under the pool's mutex)
    std::size_t finished = 0; // calls returned (under the pool's mutex)
    std::exception_ptr error;
    std::promise<void> done;
};

WorkPool::WorkPool(unsigned threads, int nice) {
    threads = std::max(1u, threads);
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i)
        threads_.emplace_back([this, nice] { work(nice); });
}

WorkPool::~WorkPool() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
        t.join();
}

WaitingFuture WorkPool::run(std::size_t count, std::function<void(std::size_t)> fn) {
    auto job = std::make_shared<Job>();
    job->fn = std::move(fn);
    job->count = count;
    WaitingFuture f(job->done.get_future());
    if (count == 0) {
        job->done.set_value();
        return f;
    }
    {
        std::lock_guard lock(mu_);
        jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
    return f;
}

void WorkPool::work(int nice) {
    // Linux: a thread id names that thread alone. Raising one's own nice value is always
    // permitted; if it fails anyway the pool only loses its politeness.
    if (nice != 0)
        (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty())
            return; // stopping, and nothing left to do
        auto job = jobs_.front();
        const std::size_t i = job->next++;
        if (job->next == job->count)
            jobs_.pop_front(); // every index handed out; the last callers finish it
        lock.unlock();
        std::exception_ptr error;
        try {
            job->fn(i);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        if (error && !job->error)
            job->error = error;
        if (++job->finished == job->count) {
            if (job->error)
                job->done.set_exception(job->error);
            else
                job->done.set_value();
        }
    }
}

} // namespace crm::runtime
