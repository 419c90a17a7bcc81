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

Session::Session(asio::any_io_executor exec, std::unique_ptr<net::Connection> conn, int fd,
                 SessionLimits limits)
    : conn_(std::move(conn)), sd_(exec, fd), timer_(exec), limits_(limits),
      parser_(limits.parser) {}

Session::~Session() {
    boost::system::error_code ec;
    sd_.cancel(ec);
    sd_.close(ec); // closes our dup; libcurl closes its own socket
}

void Session::cancel() {
    cancelled_ = true;
    boost::system::error_code ec;
    sd_.cancel(ec);
    timer_.cancel();
}

asio::awaitable<Result<std::unique_ptr<Session>>>
Session::open(asio::any_io_executor exec, asio::thread_pool& pool, net::Endpoint ep,
              SessionLimits limits) {
    // libcurl's connect, TLS handshake and SASL login block: run them on the pool.
    auto conn = co_await asio::co_spawn(pool.get_executor(), connect_blocking(std::move(ep)),
                                        asio::use_awaitable);
    if (!conn)
        co_return std::unexpected(conn.error());
    int fd = ::dup((*conn)->native_socket());
    if (fd < 0)
        co_return std::unexpected(imap_error("imap.fd", "dup() of the socket failed"));
    std::unique_ptr<Session> s(new Session(exec, std::move(*conn), fd, limits));
    auto caps = co_await s->run("CAPABILITY");
    if (!caps)
        co_return std::unexpected(caps.error());
    if (caps->status_or_keyword != "OK")
        co_return std::unexpected(imap_error("imap.protocol", "CAPABILITY failed: " + caps->text));
    co_return s;
}

asio::awaitable<Result<void>> Session::wait(asio::posix::stream_descriptor::wait_type what) {
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

asio::awaitable<Result<void>> Session::write_all(std::string data) {
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

asio::awaitable<Result<Response>> Session::read_response() {
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

asio::awaitable<Result<std::string>> Session::send(const std::string& command) {
    for (char c : command)
        if (c == '\r' || c == '\n' || c == '\0')
            co_return std::unexpected(
                imap_error("imap.arg", "command contains CR, LF or NUL", Retry::Never));
    std::string tag = tagger_.next();
    auto w = co_await write_all(tag + " " + command + "\r\n");
    if (!w)
        co_return std::unexpected(w.error());
    co_return tag;
}

asio::awaitable<Result<Response>> Session::collect(const std::string& tag,
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

asio::awaitable<Result<Response>> Session::run(const std::string& command,
                                               const UntaggedHandler& on_untagged) {
    auto tag = co_await send(command);
    if (!tag)
        co_return std::unexpected(tag.error());
    co_return co_await collect(*tag, on_untagged);
}

asio::awaitable<Result<Response>> Session::run_with_literal(const std::string& head,
                                                            std::string_view literal,
                                                            const UntaggedHandler& on_untagged) {
    for (char c : head)
        if (c == '\r' || c == '\n' || c == '\0')
            co_return std::unexpected(
                imap_error("imap.arg", "command contains CR, LF or NUL", Retry::Never));
    std::string tag = tagger_.next();
    deadline_ = std::chrono::steady_clock::now() + limits_.command_deadline;
    struct Clear {
        std::optional<std::chrono::steady_clock::time_point>& d;
        ~Clear() { d.reset(); }
    } clear{deadline_};
    auto w = co_await write_all(fmt::format("{} {} {{{}}}\r\n", tag, head, literal.size()));
    if (!w)
        co_return std::unexpected(w.error());
    for (;;) {
        auto r = co_await read_response();
        if (!r)
            co_return std::unexpected(r.error());
        if (r->kind == Response::Kind::Continuation)
            break;
        if (r->kind == Response::Kind::Tagged)
            co_return std::move(*r); // refused before the literal (e.g. NO [TRYCREATE])
        if (r->status_or_keyword == "BYE")
            co_return std::unexpected(imap_error("imap.bye", "server said BYE: " + r->text));
        if (on_untagged)
            on_untagged(*r);
    }
    auto body = co_await write_all(std::string(literal) + "\r\n");
    if (!body)
        co_return std::unexpected(body.error());
    co_return co_await collect(tag, on_untagged);
}

asio::awaitable<Result<bool>> Session::idle(std::chrono::seconds max,
                                            const UntaggedHandler& on_untagged) {
    std::string tag = tagger_.next();
    auto w = co_await write_all(tag + " IDLE\r\n");
    if (!w)
        co_return std::unexpected(w.error());
    // Wait for the continuation. News sent before it (e.g. "* 5 EXISTS" for mail that arrived
    // meanwhile) counts like news during IDLE: DONE goes out at once.
    bool notified = false;
    for (;;) {
        auto r = co_await read_response();
        if (!r)
            co_return std::unexpected(r.error());
        if (r->kind == Response::Kind::Continuation)
            break;
        if (r->kind == Response::Kind::Tagged)
            co_return std::unexpected(imap_error("imap.protocol", "IDLE refused: " + r->text));
        if (r->status_or_keyword == "BYE")
            co_return std::unexpected(imap_error("imap.bye", "server said BYE: " + r->text));
        if (r->kind == Response::Kind::Untagged) {
            if (on_untagged)
                on_untagged(*r);
            notified = true;
        }
    }
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
