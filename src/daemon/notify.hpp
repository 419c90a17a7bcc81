#pragma once
// The service manager protocol (sd_notify(3)): READY=1, RELOADING=1, STOPPING=1, STATUS= and
// watchdog pings. Every call is a no-op when the daemon does not run under systemd
// (NOTIFY_SOCKET unset), so foreground runs and tests behave the same.

#include <chrono>
#include <optional>
#include <string_view>

namespace crm::daemon {

// Sends one or more newline-separated "KEY=VALUE" assignments. Failures are ignored: the
// manager's view is advisory, the daemon keeps running without it.
void notify(std::string_view state);

// The interval at which WATCHDOG=1 must be sent (half of WatchdogSec=, as sd_watchdog_enabled(3)
// recommends), or nullopt when the watchdog is off for this process.
[[nodiscard]] std::optional<std::chrono::microseconds> watchdog_ping_interval();

} // namespace crm::daemon
