// /metrics in Prometheus text format 0.0.4 (served by the http module's server).
#include "metrics.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

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

std::string render_metrics(MetricsQueries& db, const Counters& counters, std::int64_t now) {
    std::string out;
    if (auto m = db.metrics_snapshot(); !m) {
        out += fmt::format("# database unavailable: {}\n", label(m.error().detail));
    } else {
        out += "# HELP crm_messages_ingested_total Canonical messages stored.\n"
               "# TYPE crm_messages_ingested_total counter\n";
        out += fmt::format("crm_messages_ingested_total {}\n", m->messages);
        out += "# HELP crm_bytes_ingested_total Raw bytes of the stored messages.\n"
               "# TYPE crm_bytes_ingested_total counter\n";
        out += fmt::format("crm_bytes_ingested_total {}\n", m->raw_bytes);
        out += "# HELP crm_account_state Sync state of each account (1 for the current state).\n"
               "# TYPE crm_account_state gauge\n";
        std::string last, lag, synced, backfill, initial, quarantine;
        for (const auto& a : m->accounts) {
            auto name = label(a.name);
            out += fmt::format("crm_account_state{{account=\"{}\",state=\"{}\"}} 1\n", name,
                               label(a.state));
            if (a.last_success_at) {
                last += fmt::format("crm_account_last_success_timestamp_seconds{{account=\"{}\"}} "
                                    "{}\n",
                                    name, *a.last_success_at);
                lag += fmt::format("crm_account_sync_lag_seconds{{account=\"{}\"}} {}\n", name,
                                   std::max<std::int64_t>(0, now - *a.last_success_at));
            }
            synced += fmt::format("crm_account_messages_synced_total{{account=\"{}\"}} {}\n", name,
                                  a.messages_synced);
            backfill += fmt::format("crm_account_backfill_pending_messages{{account=\"{}\"}} {}\n",
                                    name, a.backfill_pending);
            quarantine += fmt::format(
                "crm_account_quarantined_messages{{account=\"{}\",state=\"retrying\"}} {}\n"
                "crm_account_quarantined_messages{{account=\"{}\",state=\"given_up\"}} {}\n",
                name, a.quarantine_retrying, name, a.quarantine_given_up);
            initial += fmt::format("crm_account_initial_sync_messages{{account=\"{}\",part="
                                   "\"done\"}} {}\ncrm_account_initial_sync_messages{{account="
                                   "\"{}\",part=\"total\"}} {}\n",
                                   name, a.initial_done, name, a.initial_total);
        }
        out += "# HELP crm_account_last_success_timestamp_seconds Last complete sync pass.\n"
               "# TYPE crm_account_last_success_timestamp_seconds gauge\n" + last;
        out += "# HELP crm_account_sync_lag_seconds Seconds since the last complete sync pass.\n"
               "# TYPE crm_account_sync_lag_seconds gauge\n" + lag;
        out += "# HELP crm_account_messages_synced_total New messages stored per account.\n"
               "# TYPE crm_account_messages_synced_total counter\n" + synced;
        out += "# HELP crm_account_backfill_pending_messages Older messages the backfill still "
               "has to fetch.\n# TYPE crm_account_backfill_pending_messages gauge\n" +
               backfill;
        out += "# HELP crm_account_quarantined_messages Messages that could not be stored and "
               "are not dropped: still retried, or given up on (crm-mailctl quarantine).\n"
               "# TYPE crm_account_quarantined_messages gauge\n" +
               quarantine;
        out += "# HELP crm_account_initial_sync_messages Initial sync and backfill progress.\n"
               "# TYPE crm_account_initial_sync_messages gauge\n" +
               initial;
        out += "# HELP crm_outbox_replies Replies in the outbox by state.\n"
               "# TYPE crm_outbox_replies gauge\n";
        std::int64_t depth = 0;
        for (const auto& [st, n] : m->outbox) {
            if (st == "queued" || st == "sending")
                depth += n;
            out += fmt::format("crm_outbox_replies{{state=\"{}\"}} {}\n", label(st), n);
        }
        out += "# HELP crm_outbox_depth Replies waiting to be sent (queued or sending).\n"
               "# TYPE crm_outbox_depth gauge\n";
        out += fmt::format("crm_outbox_depth {}\n", depth);
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
