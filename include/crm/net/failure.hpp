#pragma once
// libcurl's failures in libcurl-free terms, and the one map from them to crm::Error codes, shared
// by net::Connection::open (IMAP) and net::smtp_transfer (SMTP).

#include <string>
#include <string_view>

#include "crm/core/result.hpp"

namespace crm::net {

// What went wrong in a libcurl connection or transfer.
enum class FailureKind {
    Dns,            // the host name does not resolve
    Connect,        // connection refused / unreachable
    Timeout,        // a connect or total timeout expired
    Tls,            // handshake, certificate, host name or CA file problem
    StartTls,       // the server did not upgrade to TLS though it was required
    LoginDenied,    // libcurl's SASL login was refused or impossible
    ConnectionLost, // a send or receive failed, or the server closed the connection
    Other,          // anything else (protocol errors, aborted by a callback ...)
};

struct Failure {
    FailureKind kind = FailureKind::Other;
    std::string text; // libcurl's words for it (its error buffer, else its code's description)
};

// How failure_error() words the failures whose meaning depends on what was being done.
struct FailureWording {
    std::string timed_out = "timed out";
    std::string connection_lost = "connection lost during login";
    std::string login_denied = "login rejected";
    std::string server_said; // the server's last line, appended to Other failures when known
};

// The error for `f`, scope Account, detail "<where>: <what>: <f.text>":
//   Dns -> net.dns, Connect -> net.tcp, Timeout -> net.timeout, ConnectionLost -> net.tcp,
//   Other -> net.protocol                                                     retry Backoff
//   Tls -> net.tls, StartTls -> net.starttls, LoginDenied -> net.auth         retry NeedsConfig
[[nodiscard]] Error failure_error(const Failure& f, std::string_view where,
                                  const FailureWording& wording = {});

} // namespace crm::net
