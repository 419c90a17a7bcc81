#pragma once
// The daemon's log sink: one line per event on stderr, "level account=.. mailbox=.. event: text",
// with sd-daemon priority prefixes ("<6>") when stderr goes to the journal, and every configured
// secret redacted from the text.

#include <mutex>
#include <string>
#include <vector>

#include "crm/core/log.hpp"

namespace crm::daemon {

class Logger {
  public:
    explicit Logger(LogLevel max_level);
    void set_level(LogLevel l) { max_ = l; }
    // Secrets to scrub from every line (values shorter than 4 bytes are ignored).
    void add_secret(const std::string& s);
    void write(LogLevel level, const LogContext& ctx, std::string_view event, std::string_view msg);
    LogSink sink();

  private:
    LogLevel max_;
    bool journal_;
    std::mutex mu_;
    std::vector<std::string> secrets_;
};

} // namespace crm::daemon
