// /metrics in Prometheus text format 0.0.4 (served by the http module's server).
#include "metrics.hpp"

#include <chrono>

#include <fmt/format.h>
#include <SQLiteCpp/SQLiteCpp.h>

#include "../store/impl.hpp"

namespace crm::daemon {

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

} // namespace crm::daemon
