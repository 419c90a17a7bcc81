#include "session.hpp"

#include <unistd.h>

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace crm::imap {

namespace {
// A plain function, not a capturing lambda: GCC 12 mishandles lambda captures of coroutines
// passed to co_spawn (the captures are destroyed twice).
asio::awaitable<Result<std::unique_ptr<net::Connection>>> connect_blocking(net::Endpoint ep) {
    co_return net::Connection::open(ep);
}

Error imap_error(std::string code, std::string detail, Retry retry = Retry::Backoff) {
    return Error{std::move(code), std::move(detail), ErrorScope::Account, retry};
}
} // namespace

CurlSession::CurlSession(asio::any_io_executor exec, std::unique_ptr<net::Connection> conn, int fd,
                         SessionLimits limits)
    : conn_(std::move(conn)), sd_(exec, fd), timer_(exec), limits_(limits), parser_(limits.parser) {
}

CurlSession::~CurlSession() {
    boost::system::error_code ec;
    sd_.cancel(ec);
    sd_.close(ec); // closes our dup; libcurl closes its own socket
}

void CurlSession::cancel() {
    cancelled_ = true;
    boost::system::error_code ec;
    sd_.cancel(ec);
    timer_.cancel();
}

asio::awaitable<Result<std::unique_ptr<CurlSession>>> CurlSession::open(asio::any_io_executor exec,
                                                                        asio::thread_pool& pool,
                                                                        net::Endpoint ep,
                                                                        SessionLimits limits) {
    // libcurl's connect, TLS handshake and SASL login block: run them on the pool.
    auto conn = co_await asio::co_spawn(pool.get_executor(), connect_blocking(std::move(ep)),
                                        asio::use_awaitable);
    if (!conn)
        co_return std::unexpected(conn.error());
    int fd = ::dup((*conn)->native_socket());
    if (fd < 0)
        co_return std::unexpected(imap_error("imap.fd", "dup() of the socket failed"));
    std::unique_ptr<CurlSession> s(new CurlSession(exec, std::move(*conn), fd, limits));
    auto caps = co_await s->run(CommandBuilder("CAPABILITY"));
    if (!caps)
        co_return std::unexpected(caps.error());
    if (caps->status_or_keyword != "OK")
        co_return std::unexpected(imap_error("imap.protocol", "CAPABILITY failed: " + caps->text));
    co_return s;
}

asio::awaitable<Result<void>> CurlSession::wait(asio::posix::stream_descriptor::wait_type what) {
    using namespace asio::experimental::awaitable_operators;
    if (cancelled_)
        co_return std::unexpected(imap_error("imap.cancelled", "shutting down", Retry::Now));
    auto now = std::chrono::steady_clock::now();
    auto expiry = now + limits_.command_timeout;
    bool total = false;
    if (deadline_ && *deadline_ < expiry) {
        expiry = *deadline_;
        total = true;
    }
    timer_.expires_at(expiry);
    auto r = co_await (sd_.async_wait(what, asio::as_tuple(asio::use_awaitable)) ||
                       timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (cancelled_)
        co_return std::unexpected(imap_error("imap.cancelled", "shutting down", Retry::Now));
    if (r.index() == 1)
        co_return std::unexpected(imap_error(
            "imap.timeout",
            total ? fmt::format("the server took longer than {}s to answer one command",
                                limits_.command_deadline.count())
                  : fmt::format("no progress from the server for {}s",
                                limits_.command_timeout.count())));
    auto [ec] = std::get<0>(r);
    if (ec)
        co_return std::unexpected(imap_error("imap.io", "socket wait failed: " + ec.message()));
    co_return Result<void>{};
}

asio::awaitable<Result<void>> CurlSession::write_all(std::string data) {
    std::size_t off = 0;
    while (off < data.size()) {
        auto n = conn_->send_some(std::span<const char>(data.data() + off, data.size() - off));
        if (!n)
            co_return std::unexpected(n.error());
        if (*n == 0) {
            auto w = co_await wait(asio::posix::stream_descriptor::wait_write);
            if (!w)
                co_return std::unexpected(w.error());
            continue;
        }
        off += *n;
        bytes_out_ += *n;
    }
    co_return Result<void>{};
}

asio::awaitable<Result<Response>> CurlSession::read_response() {
    std::array<char, 64 * 1024> buf; // filled by recv_some before use: no zeroing
    for (;;) {
        auto next = parser_.next();
        if (!next)
            co_return std::unexpected(next.error());
        if (*next)
            co_return std::move(**next);
        // Drain what TLS already decrypted before waiting on the socket.
        auto n = conn_->recv_some(buf);
        if (!n)
            co_return std::unexpected(n.error());
        if (*n > 0) {
            bytes_in_ += *n;
            parser_.feed(std::string_view(buf.data(), *n));
            continue;
        }
        auto w = co_await wait(asio::posix::stream_descriptor::wait_read);
        if (!w)
            co_return std::unexpected(w.error());
    }
}

asio::awaitable<Result<std::string>> CurlSession::send(const CommandBuilder& command) {
    std::string tag = tagger_.next();
    auto built = command.build(tag);
    if (!built)
        co_return std::unexpected(built.error());
    if (built->parts.size() != 1)
        co_return std::unexpected(
            imap_error("imap.arg", "a command with a synchronising literal cannot be pipelined",
                       Retry::Never));
    auto w = co_await write_all(std::move(built->parts.front()));
    if (!w)
        co_return std::unexpected(w.error());
    co_return tag;
}

asio::awaitable<Result<Response>> CurlSession::collect(const std::string& tag,
                                                       const UntaggedHandler& on_untagged) {
    deadline_ = std::chrono::steady_clock::now() + limits_.command_deadline;
    struct Clear {
        std::optional<std::chrono::steady_clock::time_point>& d;
        ~Clear() { d.reset(); }
    } clear{deadline_};
    for (;;) {
        auto r = co_await read_response();
        if (!r)
            co_return std::unexpected(r.error());
        if (r->kind == Response::Kind::Tagged) {
            if (r->tag != tag)
                co_return std::unexpected(
                    imap_error("imap.protocol", "tagged response for unknown tag " + r->tag));
            if (auto c = parse_capabilities(*r))
                caps_.insert(c->atoms.begin(), c->atoms.end());
            co_return std::move(*r);
        }
        if (r->kind == Response::Kind::Untagged) {
            if (r->status_or_keyword == "BYE")
                co_return std::unexpected(imap_error("imap.bye", "server said BYE: " + r->text));
            if (auto c = parse_capabilities(*r))
                caps_.insert(c->atoms.begin(), c->atoms.end());
            if (on_untagged)
                on_untagged(*r);
        }
        // Continuation requests are not expected for commands without literals: ignore.
    }
}

asio::awaitable<Result<std::optional<Response>>>
CurlSession::await_continuation(const UntaggedHandler& on_untagged) {
    for (;;) {
        auto r = co_await read_response();
        if (!r)
            co_return std::unexpected(r.error());
        if (r->kind == Response::Kind::Continuation)
            co_return std::nullopt;
        if (r->kind == Response::Kind::Tagged)
            co_return std::optional<Response>(std::move(*r));
        if (r->status_or_keyword == "BYE")
            co_return std::unexpected(imap_error("imap.bye", "server said BYE: " + r->text));
        if (on_untagged)
            on_untagged(*r);
    }
}

asio::awaitable<Result<Response>> CurlSession::run(const CommandBuilder& command,
                                                   const UntaggedHandler& on_untagged) {
    std::string tag = tagger_.next();
    auto built = command.build(tag);
    if (!built)
        co_return std::unexpected(built.error());
    deadline_ = std::chrono::steady_clock::now() + limits_.command_deadline;
    struct Clear {
        std::optional<std::chrono::steady_clock::time_point>& d;
        ~Clear() { d.reset(); }
    } clear{deadline_};
    // RFC 3501 §7.5: every part but the last ends with a synchronising literal's "{n}": the
    // server must answer "+" before the literal's bytes (the next part) go out.
    for (std::size_t k = 0; k + 1 < built->parts.size(); ++k) {
        auto w = co_await write_all(std::move(built->parts[k]));
        if (!w)
            co_return std::unexpected(w.error());
        auto refused = co_await await_continuation(on_untagged);
        if (!refused)
            co_return std::unexpected(refused.error());
        if (*refused)
            co_return std::move(**refused); // refused before the literal (e.g. NO [TRYCREATE])
    }
    auto w = co_await write_all(std::move(built->parts.back()));
    if (!w)
        co_return std::unexpected(w.error());
    co_return co_await collect(tag, on_untagged);
}

asio::awaitable<Result<bool>> CurlSession::idle(std::chrono::seconds max,
                                                const UntaggedHandler& on_untagged) {
    std::string tag = tagger_.next();
    auto built = CommandBuilder("IDLE").build(tag);
    if (!built)
        co_return std::unexpected(built.error());
    auto w = co_await write_all(built->joined());
    if (!w)
        co_return std::unexpected(w.error());
    // Wait for the continuation. News sent before it (e.g. "* 5 EXISTS" for mail that arrived
    // meanwhile) counts like news during IDLE: DONE goes out at once.
    bool notified = false;
    auto refused = co_await await_continuation([&](Response& u) {
        if (on_untagged)
            on_untagged(u);
        notified = true;
    });
    if (!refused)
        co_return std::unexpected(refused.error());
    if (*refused)
        co_return std::unexpected(imap_error("imap.protocol", "IDLE refused: " + (*refused)->text));
    auto saved = limits_.command_timeout;
    limits_.command_timeout = max;
    while (!notified) {
        auto next = parser_.next();
        if (!next) {
            limits_.command_timeout = saved;
            co_return std::unexpected(next.error());
        }
        if (*next) {
            Response& r = **next;
            if (r.kind == Response::Kind::Untagged) {
                if (r.status_or_keyword == "BYE") {
                    limits_.command_timeout = saved;
                    co_return std::unexpected(imap_error("imap.bye", "server said BYE: " + r.text));
                }
                if (on_untagged)
                    on_untagged(r);
                notified = true;
                break;
            }
            continue;
        }
        std::array<char, 16 * 1024> buf{};
        auto n = conn_->recv_some(buf);
        if (!n) {
            limits_.command_timeout = saved;
            co_return std::unexpected(n.error());
        }
        if (*n > 0) {
            bytes_in_ += *n;
            parser_.feed(std::string_view(buf.data(), *n));
            continue;
        }
        auto wr = co_await wait(asio::posix::stream_descriptor::wait_read);
        if (!wr) {
            if (wr.error().code == "imap.timeout")
                break; // the IDLE period is over
            limits_.command_timeout = saved;
            co_return std::unexpected(wr.error());
        }
    }
    limits_.command_timeout = saved;
    auto d = co_await write_all("DONE\r\n");
    if (!d)
        co_return std::unexpected(d.error());
    auto done = co_await collect(tag, [&](Response& u) {
        if (on_untagged)
            on_untagged(u);
        notified = true;
    });
    if (!done)
        co_return std::unexpected(done.error());
    co_return notified;
}

} // namespace crm::imap
