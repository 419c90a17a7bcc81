#pragma once
// HTTP/1.1 over Boost.Beast for an Api: its own io_context and threads, so the thread view stays
// responsive while the daemon's sync loop commits batches. Requests are read on the I/O thread
// and handled on a small worker pool (a login's Argon2 or a connection test never stalls other
// requests). Limits: 16 KiB of headers, 2 MiB of body, 30 s per read, keep-alive.
//
// Overload: past max_connections open connections a new one is answered 503 (Retry-After, the
// API's JSON error) once its request header has arrived (at most kMaxRefusing such at a time,
// 5 s each; beyond that it is closed at once). A request whose body would take the bytes reserved
// for bodies being read or handled past max_body_bytes_in_flight is answered 503 before its body is
// read (a chunked body counts as body_limit). A failing accept (out of file descriptors) is
// retried after 50 ms, doubling to 1 s, and logged once when it starts and once when it ends.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "crm/core/log.hpp"
#include "crm/core/result.hpp"
#include "crm/http/api.hpp"

namespace crm::http {

// Connections past max_connections being answered 503 at once (each holds a file descriptor).
inline constexpr int kMaxRefusing = 64;

struct ServerOptions {
    int io_threads = 1;
    int worker_threads = 4;
    std::size_t body_limit = kMaxRequestBody;
    int max_connections = 256;
    std::size_t max_body_bytes_in_flight = 64u << 20;
    LogSink log; // accept failures and recoveries (event "http"); may be empty
};

class Server {
  public:
    explicit Server(Api& api, ServerOptions options = {});
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, listens and starts the threads. Errors: "http.bind" naming the address.
    Result<void> start(const std::string& address, std::uint16_t port);
    // Stops accepting, closes connections, joins the threads. Idempotent.
    void stop();
    [[nodiscard]] std::uint16_t port() const;
    // How long accept has been failing without a success in between; zero while it works (and
    // before start). Thread-safe: the daemon's watchdog reads it from its own loop.
    [[nodiscard]] std::chrono::steady_clock::duration accept_failing_for() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace crm::http
