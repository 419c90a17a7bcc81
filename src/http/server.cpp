// Beast stays in this one translation unit (it compiles slowly).
#include "crm/http/server.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
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

// Handlers hold a plain Impl*: stop() joins the threads before the Impl goes away, and the
// io_context (a member) destroys pending handlers with it, so no ownership cycle keeps it alive.
struct Server::Impl {
    Impl(Api& a, ServerOptions o)
        : api(a), options(o), acceptor(io), work(asio::make_work_guard(io)),
          pool(static_cast<std::size_t>(std::max(1, o.worker_threads))) {}
    Api& api;
    ServerOptions options;
    asio::io_context io;
    tcp::acceptor acceptor;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    asio::thread_pool pool;
    std::vector<std::thread> threads;
    std::uint16_t port = 0;
    bool stopped = false;

    struct Conn : std::enable_shared_from_this<Conn> {
        Conn(tcp::socket s, Impl* srv) : stream(std::move(s)), server(srv) {}
        beast::tcp_stream stream;
        beast::flat_buffer buf;
        std::optional<bh::request_parser<bh::string_body>> parser;
        bh::response<bh::string_body> res;
        Impl* server;

        void read() {
            parser.emplace();
            parser->header_limit(16 * 1024);
            parser->body_limit(server->options.body_limit);
            stream.expires_after(std::chrono::seconds(30));
            bh::async_read(stream, buf, *parser,
                           [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_read(ec);
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
                res = {};
                res.version(11);
                res.result(too_large ? bh::status::payload_too_large : bh::status::bad_request);
                res.set(bh::field::content_type, "application/json; charset=utf-8");
                res.body() = fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})",
                                         too_large ? "too_large" : "invalid",
                                         too_large ? "the request is too large"
                                                   : "malformed HTTP request");
                res.keep_alive(false);
                res.prepare_payload();
                return write();
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
        acceptor.async_accept(asio::make_strand(io),
                              [this](beast::error_code ec, tcp::socket s) {
                                  if (ec)
                                      return; // closed on shutdown
                                  std::make_shared<Conn>(std::move(s), this)->read();
                                  accept();
                              });
    }
};

Server::Server(Api& api, ServerOptions options)
    : impl_(std::make_unique<Impl>(api, options)) {}

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

} // namespace crm::http
