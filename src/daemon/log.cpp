#include "log.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace crm::daemon {

Logger::Logger(LogLevel max_level)
    : max_(max_level), journal_(std::getenv("JOURNAL_STREAM") != nullptr) {}

void Logger::add_secret(const std::string& s) {
    std::lock_guard lock(mu_);
    if (s.size() >= 4 && std::find(secrets_.begin(), secrets_.end(), s) == secrets_.end())
        secrets_.push_back(s); // every SIGHUP resolves the secrets again
}

void Logger::write(LogLevel level, const LogContext& ctx, std::string_view event,
                   std::string_view msg) {
    if (static_cast<int>(level) > static_cast<int>(max_))
        return;
    const char* name = level == LogLevel::Error     ? "error"
                       : level == LogLevel::Warning ? "warning"
                       : level == LogLevel::Info    ? "info"
                                                    : "debug";
    std::string line;
    if (journal_)
        line = fmt::format("<{}>", static_cast<int>(level));
    else {
        std::time_t t = std::time(nullptr);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[32];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ ", &tm);
        line = buf;
    }
    line += name;
    if (!ctx.account.empty())
        line += fmt::format(" account={}", ctx.account);
    if (!ctx.mailbox.empty())
        line += fmt::format(" mailbox=\"{}\"", ctx.mailbox);
    line += fmt::format(" event={}: {}", event, msg);
    std::lock_guard lock(mu_);
    for (const auto& s : secrets_)
        for (auto pos = line.find(s); pos != std::string::npos; pos = line.find(s, pos))
            line.replace(pos, s.size(), "***");
    // One line, and no terminal control sequences from a mail or a request (ESC, BEL, DEL...).
    for (auto& c : line)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

LogSink Logger::sink() {
    return [this](LogLevel l, const LogContext& c, std::string_view e, std::string_view m) {
        write(l, c, e, m);
    };
}

} // namespace crm::daemon
