// Beast stays in this one translation unit (it compiles slowly).
#include "crm/http/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace crm::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAcceptRetryMin = std::chrono::milliseconds(50);
constexpr auto kAcceptRetryMax = std::chrono::seconds(1);
// How long the header of a connection past max_connections may take to arrive.
constexpr auto kRefuseTimeout = std::chrono::seconds(5);

} // namespace

// Handlers hold a plain Impl*: stop() joins the threads before the Impl goes away, and the
// io_context (a member) destroys pending handlers with it, so no ownership cycle keeps it alive.
// The counters are declared before the io_context: connections destroyed with its handlers
// still give back their slot and bytes.
struct Server::Impl {
    Impl(Api& a, ServerOptions o)
        : api(a), options(std::move(o)), acceptor(io), accept_timer(io),
          work(asio::make_work_guard(io)),
          pool(static_cast<std::size_t>(std::max(1, options.worker_threads))) {}
    Api& api;
    ServerOptions options;
    std::atomic<int> connections{0}; // admitted
    std::atomic<int> refusing{0};    // past max_connections, being answered 503
    std::atomic<std::size_t> body_bytes{0};
    // steady_clock ticks of the first failed accept of the current episode; 0: accepting.
    std::atomic<std::chrono::steady_clock::rep> failing_since{0};
    asio::io_context io;
    tcp::acceptor acceptor;
    asio::steady_timer accept_timer;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    asio::thread_pool pool;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;
    std::atomic<bool> stopped = false;
    // The accept loop's own state: one accept or timer at a time, so no lock.
    int accept_failures = 0;
    std::chrono::milliseconds accept_delay{0};

    void log(LogLevel level, std::string_view message) const {
        if (options.log)
            options.log(level, {}, "http", message);
    }

    // Reserves `n` bytes of the body budget; false when they would exceed it.
    bool reserve_body(std::size_t n) {
        const auto max = options.max_body_bytes_in_flight;
        auto cur = body_bytes.load();
        do {
            if (cur > max || n > max - cur)
                return false;
        } while (!body_bytes.compare_exchange_weak(cur, cur + n));
        return true;
    }

    struct Conn : std::enable_shared_from_this<Conn> {
        Conn(tcp::socket s, Impl* srv, bool admit)
            : stream(std::move(s)), server(srv), admitted(admit) {}
        ~Conn() {
            release_body();
            (admitted ? server->connections : server->refusing).fetch_sub(1);
        }
        Conn(const Conn&) = delete;
        Conn& operator=(const Conn&) = delete;
        beast::tcp_stream stream;
        beast::flat_buffer buf;
        std::optional<bh::request_parser<bh::string_body>> parser;
        bh::response<bh::string_body> res;
        Impl* server;
        bool admitted;            // false: past max_connections, answered 503
        std::size_t reserved = 0; // bytes of the body budget held by this request
        std::size_t limit = 0;    // the largest body this request may have

        void release_body() {
            server->body_bytes.fetch_sub(reserved);
            reserved = 0;
        }

        void read() {
            parser.emplace();
            parser->header_limit(16 * 1024);
            // No limit while the header is read: Beast would refuse a Content-Length past it
            // before on_header could tell which limit this request has.
            parser->body_limit(boost::none);
            if (admitted)
                stream.expires_after(std::chrono::seconds(30));
            else
                stream.expires_after(kRefuseTimeout);
            bh::async_read_header(stream, buf, *parser,
                                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                      self->on_header(ec);
                                  });
        }

        // The header is in: refuse now, or reserve the body's bytes before they are read (the
        // string body allocates the whole Content-Length at once).
        void on_header(beast::error_code ec) {
            if (ec)
                return on_read(ec);
            if (!admitted)
                return refuse("too many connections: try again shortly");
            // A mail with attachments may be larger than any other request (Api::body_limit),
            // for a logged-in user only: the session or token is checked on the worker pool
            // before such a body is read, so nobody can take the body budget without one.
            const auto& head = parser->get();
            const std::size_t large = server->api.body_limit(head.method_string(), head.target());
            if (large <= server->options.body_limit ||
                (head.find(bh::field::cookie) == head.end() &&
                 head.find(bh::field::authorization) == head.end()))
                return read_body(server->options.body_limit);
            Request who;
            who.method = std::string(head.method_string());
            who.target = std::string(head.target());
            for (const auto& f : head)
                if (f.name() == bh::field::cookie || f.name() == bh::field::authorization)
                    who.headers.emplace_back(f.name() == bh::field::cookie ? "cookie"
                                                                           : "authorization",
                                             std::string(f.value()));
            asio::post(server->pool, [self = shared_from_this(), who = std::move(who), large] {
                const bool ok = self->server->api.authenticated(who);
                asio::post(self->stream.get_executor(), [self, ok, large] {
                    self->read_body(ok ? large : self->server->options.body_limit, !ok);
                });
            });
        }

        // Reads the body of at most `max` bytes: a larger Content-Length is answered 413 at once,
        // naming the limit; its bytes are reserved first (503 past max_body_bytes_in_flight). The
        // time allowed grows with the size (30 s, and one more per 128 KiB).
        // `unknown_user`: the credentials of a mail request did not check out; a body too large
        // for an anonymous request is then a 401 (log in again), not a 413.
        void read_body(std::size_t max, bool unknown_user = false) {
            limit = max;
            parser->body_limit(static_cast<std::uint64_t>(max));
            const auto length = parser->content_length();
            if (unknown_user && ((length && *length > max) || parser->chunked()))
                return answer_error(bh::status::unauthorized, "auth.required",
                                    "log in first: the session or API token is unknown or "
                                    "expired");
            if (length && *length > max)
                return answer_error(
                    bh::status::payload_too_large, "too_large",
                    fmt::format("the request body is larger than {} bytes, the most this request "
                                "may have",
                                max));
            const std::size_t need = parser->chunked() ? max
                                     : length          ? static_cast<std::size_t>(*length)
                                                       : 0;
            if (need > 0 && !server->reserve_body(need))
                return refuse("too many request bodies in flight: try again shortly");
            reserved = need;
            stream.expires_after(std::chrono::seconds(30) +
                                 std::chrono::seconds(need / (128 * 1024)));
            bh::async_read(stream, buf, *parser,
                           [self = shared_from_this()](beast::error_code ec2, std::size_t) {
                               self->on_read(ec2);
                           });
        }

        void on_read(beast::error_code ec) {
            if (ec == bh::error::end_of_stream || ec == beast::error::timeout ||
                ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
                ec == asio::error::eof)
                return close();
            if (ec) {
                // Malformed request, too large: answer once, then close.
                const bool too_large = ec == bh::error::body_limit ||
                                       ec == bh::error::header_limit;
                const std::string what =
                    ec == bh::error::body_limit
                        ? fmt::format("the request body is larger than {} bytes, the most this "
                                      "request may have",
                                      limit)
                        : std::string(too_large ? "the request header is too large"
                                                : "malformed HTTP request");
                return answer_error(too_large ? bh::status::payload_too_large
                                              : bh::status::bad_request,
                                    too_large ? "too_large" : "invalid", what);
            }
            auto req = parser->release();
            Request r;
            r.method = std::string(req.method_string());
            r.target = std::string(req.target());
            for (const auto& f : req) {
                std::string name(f.name_string());
                for (auto& ch : name)
                    if (ch >= 'A' && ch <= 'Z')
                        ch = static_cast<char>(ch - 'A' + 'a');
                r.headers.emplace_back(std::move(name), std::string(f.value()));
            }
            r.body = std::move(req.body());
            beast::error_code pe;
            auto peer = stream.socket().remote_endpoint(pe);
            r.peer = pe ? std::string() : peer.address().to_string();
            const bool keep = req.keep_alive();
            const unsigned version = req.version();
            const bool head = req.method() == bh::verb::head;
            // Handled on the worker pool; the answer goes back through the stream's strand.
            asio::post(server->pool, [self = shared_from_this(), r = std::move(r), keep, version,
                                      head]() mutable {
                Response out;
                try {
                    out = self->server->api.handle(r);
                } catch (const std::exception& e) { // handle() catches; this is the last fence
                    out = Response{};
                    out.status = 500;
                    out.set("Content-Type", "application/json; charset=utf-8");
                    out.body = R"({"error":{"code":"internal","message":"internal error"}})";
                }
                asio::post(self->stream.get_executor(),
                           [self, out = std::move(out), keep, version, head]() mutable {
                               self->respond(std::move(out), keep, version, head);
                           });
            });
        }

        void respond(Response out, bool keep, unsigned version, bool head) {
            release_body(); // handled: the request and its body are gone
            res = {};
            res.version(version);
            res.result(static_cast<unsigned>(out.status));
            res.set(bh::field::server, "crm-maild");
            for (auto& [k, v] : out.headers)
                res.insert(k, v);
            res.keep_alive(keep && !server->stopped);
            const auto size = out.body.size();
            if (!head)
                res.body() = std::move(out.body);
            res.prepare_payload();
            if (head)
                res.content_length(size);
            write();
        }

        // An error the server answers itself, as the API's JSON error; then the connection closes.
        void answer_error(bh::status status, std::string_view code, std::string_view message) {
            res = {};
            res.version(11);
            res.result(status);
            res.set(bh::field::server, "crm-maild");
            res.set(bh::field::content_type, "application/json; charset=utf-8");
            if (status == bh::status::service_unavailable)
                res.set(bh::field::retry_after, "1");
            res.body() =
                fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
            res.keep_alive(false);
            res.prepare_payload();
            write();
        }

        // 503 before the body is read; the client may send the request again.
        void refuse(std::string_view message) {
            answer_error(bh::status::service_unavailable, "unavailable", message);
        }

        void write() {
            stream.expires_after(std::chrono::seconds(30));
            bh::async_write(stream, res,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (ec)
                                    return self->close();
                                if (!self->res.keep_alive())
                                    return self->close();
                                self->read();
                            });
        }

        void close() {
            beast::error_code ignored;
            stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            stream.socket().close(ignored);
        }
    };

    void accept() {
        acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket s) {
            if (ec == asio::error::operation_aborted || stopped)
                return; // closed on shutdown
            if (ec == asio::error::connection_aborted)
                return accept(); // the client gave up while queued: nothing is wrong here
            if (ec)
                return accept_failed(ec);
            accept_succeeded();
            admit(std::move(s));
            accept();
        });
    }

    // EMFILE, ENFILE, ENOBUFS...: the listening socket is fine and the condition passes (the
    // connections being served close). Try again after a pause; one log line per episode.
    void accept_failed(beast::error_code ec) {
        if (accept_failures++ == 0) {
            failing_since = std::chrono::steady_clock::now().time_since_epoch().count();
            accept_delay = kAcceptRetryMin;
            log(LogLevel::Error,
                fmt::format("cannot accept connections: {} ({} connections open): retrying "
                            "after {} ms, backing off to {} ms, until it works",
                            ec.message(), connections.load() + refusing.load(),
                            kAcceptRetryMin.count(),
                            std::chrono::milliseconds(kAcceptRetryMax).count()));
        } else {
            accept_delay = std::min<std::chrono::milliseconds>(accept_delay * 2, kAcceptRetryMax);
        }
        accept_timer.expires_after(accept_delay);
        accept_timer.async_wait([this](beast::error_code e) {
            if (!e && !stopped)
                accept();
        });
    }

    void accept_succeeded() {
        if (accept_failures == 0)
            return;
        const auto since = std::chrono::steady_clock::time_point(
            std::chrono::steady_clock::duration(failing_since.load()));
        log(LogLevel::Info,
            fmt::format("accepting connections again after {} failed attempts in {} ms",
                        accept_failures,
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - since)
                            .count()));
        accept_failures = 0;
        failing_since = 0;
    }

    // Only this loop adds connections, so checking and counting need no lock.
    void admit(tcp::socket s) {
        if (connections.load() < options.max_connections) {
            ++connections;
            std::make_shared<Conn>(std::move(s), this, true)->read();
        } else if (refusing.load() < kMaxRefusing) {
            ++refusing;
            std::make_shared<Conn>(std::move(s), this, false)->read();
        } // else: closed at once (the socket's destructor)
    }
};

Server::Server(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}

Server::~Server() { stop(); }

Result<void> Server::start(const std::string& address, std::uint16_t port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec)
        return fail("http.bind", "http.bind: '" + address + "' is not an IP address",
                    ErrorScope::Fatal, Retry::NeedsConfig);
    tcp::endpoint ep(addr, port);
    auto& a = impl_->acceptor;
    auto failed = [&](const char* what) {
        return fail("http.bind", fmt::format("cannot {} {}:{}: {}", what, address, port,
                                             ec.message()),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    };
    if (a.open(ep.protocol(), ec); ec)
        return failed("open");
    a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (a.bind(ep, ec); ec)
        return failed("bind");
    if (a.listen(128, ec); ec)
        return failed("listen on");
    impl_->port = a.local_endpoint().port();
    impl_->api.set_port(impl_->port);
    impl_->accept();
    for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i)
        impl_->threads.emplace_back([impl = impl_.get()] { impl->io.run(); });
    return {};
}

void Server::stop() {
    if (impl_->stopped)
        return;
    impl_->stopped = true;
    impl_->work.reset();
    impl_->pool.join(); // requests in progress finish
    impl_->io.stop();
    for (auto& t : impl_->threads)
        if (t.joinable())
            t.join();
    beast::error_code ec;
    impl_->acceptor.close(ec); // no thread runs the io_context any more
}

std::uint16_t Server::port() const { return impl_->port; }

std::chrono::steady_clock::duration Server::accept_failing_for() const {
    const auto since = impl_->failing_since.load();
    if (since == 0)
        return {};
    return std::chrono::steady_clock::now().time_since_epoch() -
           std::chrono::steady_clock::duration(since);
}

} // namespace crm::http
