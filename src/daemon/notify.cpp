#include "notify.hpp"

#include <cstdint>
#include <string>

#include <systemd/sd-daemon.h>

namespace crm::daemon {

void notify(std::string_view state) {
    const std::string s(state);
    (void)sd_notify(0, s.c_str());
}

std::optional<std::chrono::microseconds> watchdog_ping_interval() {
    std::uint64_t usec = 0;
    // > 0: enabled for this PID (WATCHDOG_USEC set, WATCHDOG_PID absent or ours).
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::nullopt;
    return std::chrono::microseconds(static_cast<std::int64_t>(usec / 2));
}

} // namespace crm::daemon
