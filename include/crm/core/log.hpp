#pragma once
// Structured log lines: one line per event with its account and mailbox. The sink (stderr,
// journald priorities) belongs to the daemon; the core only formats. Never pass secrets.

#include <functional>
#include <string>
#include <string_view>

namespace crm {

enum class LogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 };

struct LogContext {
    std::string_view account;
    std::string_view mailbox;
};

using LogSink = std::function<void(LogLevel, const LogContext&, std::string_view event,
                                   std::string_view message)>;

} // namespace crm
