#pragma once
// "Test connection": connects and logs in to an account's IMAP or SMTP server exactly as the
// daemon does, and says at which step it failed. Shared by crm-mailctl accounts test and the
// admin API.

#include <chrono>
#include <string>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"
#include "crm/settings/config.hpp"

namespace crm::runtime {

struct ServerCheck {
    bool ok = false;
    std::string step;    // config | dns | tcp | tls | auth | protocol | done
    std::string where;   // "imap host:port (tls=...) as user"
    std::string detail;  // what happened; never a secret
    std::string code;    // the error code ("net.tls", ...), empty when ok
    [[nodiscard]] std::string message() const { return where + ": " + detail; }
};

// The endpoint the daemon connects to for `s` (secrets resolved, an OAuth2 access token
// fetched). `proto`: "imap" or "smtp". On failure `step` (when given) says which: "config" (a
// secret or token source that cannot be read) or "auth" (the token endpoint refused).
[[nodiscard]] Result<net::Endpoint> server_endpoint(const char* proto,
                                                    const settings::ServerConfig& s,
                                                    std::chrono::seconds timeout,
                                                    std::string* step = nullptr);

// Blocking (runs on a worker thread in the daemon). `proto`: "imap" or "smtp".
ServerCheck check_server(const char* proto, const settings::ServerConfig& s,
                         std::chrono::seconds timeout);

} // namespace crm::runtime
