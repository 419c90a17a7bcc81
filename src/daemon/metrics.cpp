// Beast stays in this one translation unit (it compiles slowly).
#include "metrics.hpp"

#include <chrono>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <SQLiteCpp/SQLiteCpp.h>

#include "../store/impl.hpp"

namespace crm::daemon {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

} // namespace

std::string render_metrics(store::Database& db, const Counters& counters) {
    std::string out;
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    try {
        auto& d = db.impl();
        auto& tot = d.stmt("SELECT count(*), coalesce(sum(raw_size), 0) FROM messages");
        tot.executeStep();
        out += "# HELP crm_messages_ingested_total Canonical messages stored.\n"
               "# TYPE crm_messages_ingested_total counter\n";
        out += fmt::format("crm_messages_ingested_total {}\n", tot.getColumn(0).getInt64());
        out += "# HELP crm_bytes_ingested_total Raw bytes of the stored messages.\n"
               "# TYPE crm_bytes_ingested_total counter\n";
        out += fmt::format("crm_bytes_ingested_total {}\n", tot.getColumn(1).getInt64());
        tot.reset();
        out += "# HELP crm_account_state Sync state of each account (1 for the current state).\n"
               "# TYPE crm_account_state gauge\n";
        std::string last, lag, synced;
        auto& acc = d.stmt("SELECT name, state, last_success_at, messages_synced FROM accounts "
                           "ORDER BY name");
        while (acc.executeStep()) {
            auto name = label(acc.getColumn(0).getString());
            out += fmt::format("crm_account_state{{account=\"{}\",state=\"{}\"}} 1\n", name,
                               label(acc.getColumn(1).getString()));
            if (!acc.getColumn(2).isNull()) {
                auto t = acc.getColumn(2).getInt64();
                last += fmt::format("crm_account_last_success_timestamp_seconds{{account=\"{}\"}} "
                                    "{}\n", name, t);
                lag += fmt::format("crm_account_sync_lag_seconds{{account=\"{}\"}} {}\n", name,
                                   std::max<std::int64_t>(0, now - t));
            }
            synced += fmt::format("crm_account_messages_synced_total{{account=\"{}\"}} {}\n", name,
                                  acc.getColumn(3).getInt64());
        }
        acc.reset();
        out += "# HELP crm_account_last_success_timestamp_seconds Last complete sync pass.\n"
               "# TYPE crm_account_last_success_timestamp_seconds gauge\n" + last;
        out += "# HELP crm_account_sync_lag_seconds Seconds since the last complete sync pass.\n"
               "# TYPE crm_account_sync_lag_seconds gauge\n" + lag;
        out += "# HELP crm_account_messages_synced_total New messages stored per account.\n"
               "# TYPE crm_account_messages_synced_total counter\n" + synced;
        out += "# HELP crm_outbox_replies Replies in the outbox by state.\n"
               "# TYPE crm_outbox_replies gauge\n";
        std::int64_t depth = 0;
        auto& ob = d.stmt("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state");
        while (ob.executeStep()) {
            auto st = ob.getColumn(0).getString();
            auto n = ob.getColumn(1).getInt64();
            if (st == "queued" || st == "sending")
                depth += n;
            out += fmt::format("crm_outbox_replies{{state=\"{}\"}} {}\n", label(st), n);
        }
        ob.reset();
        out += "# HELP crm_outbox_depth Replies waiting to be sent (queued or sending).\n"
               "# TYPE crm_outbox_depth gauge\n";
        out += fmt::format("crm_outbox_depth {}\n", depth);
    } catch (const std::exception& e) {
        out += fmt::format("# database unavailable: {}\n", label(e.what()));
    }
    out += "# HELP crm_sync_errors_total Account sync errors since start, by class.\n"
           "# TYPE crm_sync_errors_total counter\n";
    for (const auto& [cls, n] : counters.errors_by_class)
        out += fmt::format("crm_sync_errors_total{{class=\"{}\"}} {}\n", label(cls), n);
    out += "# HELP crm_send_results_total Reply sending outcomes since start.\n"
           "# TYPE crm_send_results_total counter\n";
    for (const auto& [res, n] : counters.send_results)
        out += fmt::format("crm_send_results_total{{result=\"{}\"}} {}\n", label(res), n);
    return out;
}

struct MetricsServer::Impl : std::enable_shared_from_this<MetricsServer::Impl> {
    Impl(boost::asio::io_context& io_, store::Database& db_, const Counters& c)
        : io(io_), acceptor(io_), db(db_), counters(c) {}
    boost::asio::io_context& io;
    tcp::acceptor acceptor;
    store::Database& db;
    const Counters& counters;
    std::uint16_t port = 0;

    void accept() {
        auto self = shared_from_this();
        acceptor.async_accept([self](beast::error_code ec, tcp::socket sock) {
            if (ec)
                return; // closed on shutdown
            self->serve(std::move(sock));
            self->accept();
        });
    }

    void serve(tcp::socket sock) {
        struct Conn {
            beast::tcp_stream stream;
            beast::flat_buffer buf;
            http::request<http::string_body> req;
            http::response<http::string_body> res;
            explicit Conn(tcp::socket s) : stream(std::move(s)) {}
        };
        auto c = std::make_shared<Conn>(std::move(sock));
        auto self = shared_from_this();
        c->stream.expires_after(std::chrono::seconds(10));
        http::async_read(c->stream, c->buf, c->req, [self, c](beast::error_code ec, std::size_t) {
            if (ec)
                return;
            auto& res = c->res;
            res.version(c->req.version());
            res.keep_alive(false);
            res.set(http::field::server, "crm-maild");
            res.set(http::field::cache_control, "no-store");
            const std::string target(c->req.target());
            if (c->req.method() != http::verb::get && c->req.method() != http::verb::head) {
                res.result(http::status::method_not_allowed);
                res.set(http::field::content_type, "application/json");
                res.body() = R"({"error":{"code":"method_not_allowed","message":"GET only"}})";
            } else if (target == "/healthz") {
                res.result(http::status::ok);
                res.set(http::field::content_type, "application/json");
                res.body() = R"({"status":"ok"})";
            } else if (target == "/metrics") {
                res.result(http::status::ok);
                res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
                res.body() = render_metrics(self->db, self->counters);
            } else {
                res.result(http::status::not_found);
                res.set(http::field::content_type, "application/json");
                res.body() = R"({"error":{"code":"not_found","message":"no such path"}})";
            }
            res.prepare_payload();
            http::async_write(c->stream, res, [c](beast::error_code, std::size_t) {
                beast::error_code ignored;
                c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            });
        });
    }
};

MetricsServer::MetricsServer(boost::asio::io_context& io, store::Database& db,
                             const Counters& counters)
    : impl_(std::make_shared<Impl>(io, db, counters)) {}

MetricsServer::~MetricsServer() { stop(); }

Result<void> MetricsServer::start(const std::string& address, std::uint16_t port) {
    beast::error_code ec;
    auto addr = boost::asio::ip::make_address(address, ec);
    if (ec)
        return fail("http.bind", "http.bind: '" + address + "' is not an IP address",
                    ErrorScope::Fatal, Retry::NeedsConfig);
    tcp::endpoint ep(addr, port);
    auto& a = impl_->acceptor;
    if (a.open(ep.protocol(), ec); ec)
        return fail("http.bind", fmt::format("cannot open {}:{}: {}", address, port, ec.message()),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (a.bind(ep, ec); ec)
        return fail("http.bind", fmt::format("cannot bind {}:{}: {}", address, port, ec.message()),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    if (a.listen(64, ec); ec)
        return fail("http.bind", fmt::format("cannot listen on {}:{}: {}", address, port,
                                             ec.message()),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    impl_->port = a.local_endpoint().port();
    impl_->accept();
    return {};
}

void MetricsServer::stop() {
    beast::error_code ec;
    impl_->acceptor.close(ec);
}

std::uint16_t MetricsServer::port() const { return impl_->port; }

} // namespace crm::daemon
