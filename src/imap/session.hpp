#pragma once
// One IMAP session over a libcurl connect-only connection, driven by Boost.Asio readiness waits
// on the io_context's thread. Private to the imap module.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "crm/core/result.hpp"
#include "crm/imap/command.hpp"
#include "crm/imap/protocol.hpp"
#include "crm/imap/responses.hpp"
#include "crm/net/transport.hpp"

namespace crm::imap {

namespace asio = boost::asio;

// Called with each untagged response of a command; the response is not used afterwards, so a
// handler may move its data out (take_fetch).
using UntaggedHandler = std::function<void(Response&)>;

struct SessionLimits {
    std::chrono::seconds command_timeout{120}; // no progress for this long: connection is dead
    std::chrono::seconds command_deadline{1800}; // a whole command, however it trickles
    ParserLimits parser;
};

// What the sync pipeline needs from a connection: commands (built by CommandBuilder, tagged
// here), pipelining, IDLE and capabilities. CurlSession talks to a server; the unit tests
// (tests/unit/imap) script one. Every call runs on the io_context's thread.
class Session {
  public:
    virtual ~Session() = default;

    // Sends `command` (tagged here) and reads until its tagged response. Untagged responses go
    // to `on_untagged`. A NO/BAD is returned as the tagged Response (check status); transport
    // and protocol failures, and a command the builder refuses ("imap.arg"), are errors.
    virtual asio::awaitable<Result<Response>> run(const CommandBuilder& command,
                                                  const UntaggedHandler& on_untagged = {}) = 0;

    // Pipelining (RFC 3501 §5.5): send() writes a command and returns its tag; collect() reads
    // until that tag's response. Commands must be collected in the order they were sent. A
    // command with a synchronising literal cannot be pipelined ("imap.arg").
    virtual asio::awaitable<Result<std::string>> send(const CommandBuilder& command) = 0;
    virtual asio::awaitable<Result<Response>> collect(const std::string& tag,
                                                      const UntaggedHandler& on_untagged = {}) = 0;

    // IDLE (RFC 2177) until an untagged response arrives or `max` passes, then DONE.
    // Returns true when the server reported something.
    virtual asio::awaitable<Result<bool>> idle(std::chrono::seconds max,
                                               const UntaggedHandler& on_untagged) = 0;

    [[nodiscard]] virtual bool has(const std::string& cap) const = 0;
    // Extensions the server confirmed with "* ENABLED" (RFC 5161), e.g. QRESYNC: from then on
    // it sends VANISHED instead of EXPUNGE (RFC 7162 §3.2.10).
    [[nodiscard]] bool enabled(const std::string& ext) const { return enabled_.contains(ext); }
    void note_enabled(const std::string& ext) { enabled_.insert(ext); }

  private:
    std::set<std::string> enabled_;

  public:
    // Bytes exchanged so far (for the constant-bytes poll benchmark).
    [[nodiscard]] virtual std::uint64_t bytes_in() const = 0;
    [[nodiscard]] virtual std::uint64_t bytes_out() const = 0;
    // Interrupts any wait (used on shutdown): pending operations fail with "imap.cancelled".
    virtual void cancel() = 0;
};

// A Session over a libcurl connect-only connection.
class CurlSession final : public Session {
  public:
    // Connects and logs in on `pool` (libcurl blocks), then continues on `exec`'s thread.
    static asio::awaitable<Result<std::unique_ptr<CurlSession>>> open(asio::any_io_executor exec,
                                                                      asio::thread_pool& pool,
                                                                      net::Endpoint ep,
                                                                      SessionLimits limits = {});
    ~CurlSession() override;

    // A command with synchronising literals (APPEND) waits for each "+" continuation; a
    // tagged answer instead (e.g. NO [TRYCREATE]) ends it early and is returned.
    asio::awaitable<Result<Response>> run(const CommandBuilder& command,
                                          const UntaggedHandler& on_untagged = {}) override;
    asio::awaitable<Result<std::string>> send(const CommandBuilder& command) override;
    asio::awaitable<Result<Response>> collect(const std::string& tag,
                                              const UntaggedHandler& on_untagged = {}) override;
    asio::awaitable<Result<bool>> idle(std::chrono::seconds max,
                                       const UntaggedHandler& on_untagged) override;

    [[nodiscard]] const std::set<std::string>& capabilities() const { return caps_; }
    [[nodiscard]] bool has(const std::string& cap) const override { return caps_.contains(cap); }
    [[nodiscard]] std::uint64_t bytes_in() const override { return bytes_in_; }
    [[nodiscard]] std::uint64_t bytes_out() const override { return bytes_out_; }
    void cancel() override;

  private:
    CurlSession(asio::any_io_executor exec, std::unique_ptr<net::Connection> conn, int fd,
                SessionLimits limits);
    asio::awaitable<Result<void>> write_all(std::string data);
    asio::awaitable<Result<Response>> read_response();
    // Reads until the server's "+" continuation (RFC 3501 §7.5), passing untagged responses on
    // (BYE is an error). A tagged response instead means the command was refused: returned.
    asio::awaitable<Result<std::optional<Response>>>
    await_continuation(const UntaggedHandler& on_untagged);
    asio::awaitable<Result<void>> wait(asio::posix::stream_descriptor::wait_type what);

    std::unique_ptr<net::Connection> conn_;
    asio::posix::stream_descriptor sd_;
    asio::steady_timer timer_;
    SessionLimits limits_;
    ResponseParser parser_;
    Tagger tagger_;
    std::set<std::string> caps_;
    std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
    bool cancelled_ = false;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
};

} // namespace crm::imap
