#pragma once
// A std::future<void> that waits in its destructor, as std::async's futures do: for work on
// another thread that refers to the caller's data (a batch being parsed), so that the data can
// never be destroyed under it on an early return.

#include <future>
#include <utility>

namespace crm {

class WaitingFuture {
  public:
    WaitingFuture() = default;
    explicit WaitingFuture(std::future<void> f) : f_(std::move(f)) {}
    WaitingFuture(WaitingFuture&&) noexcept = default;
    WaitingFuture& operator=(WaitingFuture&& other) noexcept {
        wait();
        f_ = std::move(other.f_);
        return *this;
    }
    WaitingFuture(const WaitingFuture&) = delete;
    WaitingFuture& operator=(const WaitingFuture&) = delete;
    ~WaitingFuture() { wait(); }

    // Waits and rethrows what the work threw; afterwards there is nothing left to wait for.
    void get() { f_.get(); }
    void wait() const {
        if (f_.valid())
            f_.wait();
    }
    bool valid() const { return f_.valid(); }

  private:
    std::future<void> f_;
};

} // namespace crm
