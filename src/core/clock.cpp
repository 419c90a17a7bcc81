#include "crm/core/clock.hpp"

#include <chrono>

namespace crm {

namespace {

class SystemClock final : public Clock {
  public:
    [[nodiscard]] std::int64_t now() const override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

} // namespace

const Clock& system_clock() {
    static const SystemClock clock;
    return clock;
}

} // namespace crm
