#pragma once
// HTTP/1.1 over Boost.Beast for an Api: its own io_context and threads, so the thread view stays
// responsive while the daemon's sync loop commits batches. Requests are read on the I/O thread
// and handled on a small worker pool (a login's Argon2 or a connection test never stalls other
// requests). Limits: 16 KiB of headers, 2 MiB of body, 30 s per read, keep-alive.

#include <cstdint>
#include <memory>
#include <string>

#include "crm/core/result.hpp"
#include "crm/http/api.hpp"

namespace crm::http {

struct ServerOptions {
    int io_threads = 1;
    int worker_threads = 4;
    std::size_t body_limit = 2u << 20;
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

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace crm::http
