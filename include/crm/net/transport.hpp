#pragma once
// A connected, TLS-protected, authenticated byte stream to an IMAP (or SMTP) server, made by
// libcurl in CONNECT_ONLY mode: libcurl does TCP, TLS (certificates and host names verified) and
// STARTTLS; for SMTP also SASL with a pinned mechanism. The IMAP login (mechanism chosen from the
// server's CAPABILITY after TLS) and the protocol after it are ours.
// libcurl types never appear here (pimpl).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "crm/core/result.hpp"

namespace crm::net {

enum class Tls { Implicit, StartTls, None };
enum class Auth { Password, XOAuth2 };

struct Endpoint {
    std::string scheme = "imap"; // "imap" or "smtp"
    std::string host;
    std::uint16_t port = 993;
    Tls tls = Tls::Implicit;
    bool allow_insecure = false; // Tls::None is refused unless set AND the host is loopback
    std::string ca_file;         // extra trust anchor (PEM), optional
    std::string username;
    Auth auth = Auth::Password;
    std::string secret; // password or bearer token; never logged
    std::chrono::milliseconds connect_timeout{30'000};
};

// True for 127.0.0.0/8, ::1 and "localhost".
[[nodiscard]] bool is_loopback_host(const std::string& host);

// Error codes returned by Connection::open, each with scope Account:
//   net.config  - the endpoint is not allowed (plaintext off loopback ...)   retry NeedsConfig
//   net.dns     - the host name does not resolve                             retry Backoff
//   net.tcp     - connection refused / unreachable                           retry Backoff
//   net.timeout - connect, TLS or login took longer than connect_timeout     retry Backoff
//   net.tls     - TLS failed; detail has the certificate problem             retry NeedsConfig
//   net.starttls- the server did not upgrade to TLS (incl. PREAUTH on a STARTTLS port)
//   net.auth    - the server rejected the credentials                        retry NeedsConfig
//   net.mechanism - IMAP: no login mechanism usable with these credentials is
//                 offered; detail names what the server offers              retry NeedsConfig
//   net.protocol- anything else the server did wrong during login            retry Backoff
class Connection {
  public:
    // Blocking (bounded by connect_timeout): connect, TLS, greeting, login.
    static Result<std::unique_ptr<Connection>> open(const Endpoint& ep);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Non-blocking. Returns bytes sent (0 when the socket would block).
    Result<std::size_t> send_some(std::span<const char> data);
    // Non-blocking. Returns bytes received, 0 when nothing is available now (wait for the
    // socket to become readable); "net.closed" when the peer closed the connection.
    // TLS may hold decrypted bytes the socket does not show: drain until 0 before waiting.
    Result<std::size_t> recv_some(std::span<char> buffer);
    // The socket, for readiness waits only (do not read or write it directly, never close it).
    [[nodiscard]] int native_socket() const;
    [[nodiscard]] bool encrypted() const;

  private:
    struct Impl;
    explicit Connection(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace crm::net
