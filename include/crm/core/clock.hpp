#pragma once
// Where "now" comes from. The binaries read the system's clock through system_clock(); tests
// give a ManualClock they set and step. Every wall-clock read of the project (timestamps stored
// in the database, session expiry, lag, retry times) goes through a Clock it was given.
// Durations measured on one host (timeouts, rates) use std::chrono::steady_clock directly.

#include <atomic>
#include <cstdint>

namespace crm {

class Clock {
  public:
    virtual ~Clock() = default;
    // Unix time in seconds. Thread-safe.
    [[nodiscard]] virtual std::int64_t now() const = 0;
};

// The system's wall clock (std::chrono::system_clock), shared by the whole process.
[[nodiscard]] const Clock& system_clock();

// A clock that stands still until told otherwise (tests).
class ManualClock final : public Clock {
  public:
    explicit ManualClock(std::int64_t t = 0) : t_(t) {}
    [[nodiscard]] std::int64_t now() const override { return t_.load(); }
    void set(std::int64_t t) { t_.store(t); }
    void advance(std::int64_t seconds) { t_.fetch_add(seconds); }

  private:
    std::atomic<std::int64_t> t_;
};

} // namespace crm
