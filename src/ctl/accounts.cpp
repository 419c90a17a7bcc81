// crm-mailctl config check, accounts status / list.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/pg/url.hpp"
#include "crm/settings/config.hpp"

namespace crm::ctl {

namespace json = boost::json;

namespace {

std::string ago(std::optional<std::int64_t> t, std::int64_t now) {
    if (!t)
        return "never";
    auto d = now - *t;
    if (d < 0)
        d = 0;
    if (d < 120)
        return fmt::format("{}s ago", d);
    if (d < 7200)
        return fmt::format("{}m ago", d / 60);
    if (d < 172800)
        return fmt::format("{}h ago", d / 3600);
    return fmt::format("{}d ago", d / 86400);
}

std::string duration(double s) {
    auto t = static_cast<std::int64_t>(s + 0.5);
    if (t < 120)
        return fmt::format("{}s", t);
    if (t < 7200)
        return fmt::format("{}m{:02}s", t / 60, t % 60);
    if (t < 172800)
        return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
    return fmt::format("{}d{:02}h", t / 86400, (t % 86400) / 3600);
}

// Messages per second of the running initial sync, from its start (migration 0004) to the last
// progress report; nullopt until two reports are apart in time.
std::optional<double> initial_rate(const AccountRow& r) {
    if (!r.initial_started_at || r.updated_at <= *r.initial_started_at ||
        r.initial_done <= r.initial_started_done)
        return std::nullopt;
    return static_cast<double>(r.initial_done - r.initial_started_done) /
           static_cast<double>(r.updated_at - *r.initial_started_at);
}

std::optional<double> initial_eta(const AccountRow& r) {
    auto rate = initial_rate(r);
    if (!rate || r.initial_total <= r.initial_done)
        return std::nullopt;
    return static_cast<double>(r.initial_total - r.initial_done) / *rate;
}

} // namespace

int cmd_config_check(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--quiet"});
    if (a.positionals().size() > 1)
        throw UsageError{"expected at most one FILE"};
    std::string path = a.positionals().empty() ? ctx.config_path : a.positionals()[0];
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fmt::print(stderr, "{}: cannot read: {}\n", path, std::strerror(errno));
        return kRuntime;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    auto out = settings::parse_config(ss.str(), path);
    std::size_t errors = 0, warnings = 0;
    for (const auto& p : out.problems) {
        fmt::print(stderr, "{}\n", settings::format_problem(p));
        (p.warning ? warnings : errors)++;
    }
    if (!out.ok()) {
        fmt::print(stderr, "{}: {} error(s), {} warning(s)\n", path, errors, warnings);
        return kRuntime;
    }
    if (!a.has("--quiet"))
        fmt::print("{}: ok: {} account(s), database {}{}\n", path, out.config->accounts.size(),
                   out.config->database.postgresql()
                       ? pg::redact_url(out.config->database.url) + " (PostgreSQL)"
                       : out.config->database.path,
                   warnings ? fmt::format(", {} warning(s)", warnings) : std::string());
    return kOk;
}

int cmd_accounts_status(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    if (a.positionals().size() > 1)
        throw UsageError{"expected at most one account NAME"};
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    const auto now = ctx.clock->now();
    auto rows = db->sync().accounts();
    if (!rows)
        return print_error(rows.error());
    std::vector<AccountRow> shown;
    for (auto& r : *rows)
        if (a.positionals().empty() || r.name == a.positionals()[0])
            shown.push_back(std::move(r));
    if (!a.positionals().empty() && shown.empty()) {
        fmt::print(stderr, "crm-mailctl: no account named {}\n", a.positionals()[0]);
        return kRuntime;
    }
    if (a.has("--json")) {
        json::array arr;
        for (const auto& r : shown) {
            json::object o;
            o["name"] = r.name;
            o["address"] = r.address;
            o["host"] = r.imap_host;
            o["enabled"] = r.enabled;
            o["state"] = health_name(r.state);
            o["last_success_at"] = r.last_success_at ? json::value(*r.last_success_at) : nullptr;
            o["last_error_at"] = r.last_error_at ? json::value(*r.last_error_at) : nullptr;
            o["last_error_class"] = r.last_error_class;
            o["last_error"] = r.last_error;
            o["messages_synced"] = r.messages;
            o["mailboxes"] = r.mailboxes;
            o["initial_sync_done"] = r.initial_done;
            o["initial_sync_total"] = r.initial_total;
            auto rate = initial_rate(r);
            auto eta = initial_eta(r);
            o["initial_sync_rate"] = rate ? json::value(*rate) : nullptr;
            o["initial_sync_eta_seconds"] = eta ? json::value(*eta) : nullptr;
            o["backfill_pending"] = r.backfill_pending;
            arr.push_back(o);
        }
        fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    // The config's view: accounts crm-maild has not registered yet, or no longer syncs.
    std::vector<std::string> configured;
    if (std::ifstream in(ctx.config_path, std::ios::binary); in) {
        std::ostringstream ss;
        ss << in.rdbuf();
        if (auto out = settings::parse_config(ss.str(), ctx.config_path); out.ok())
            for (const auto& acc : out.config->accounts)
                configured.push_back(acc.name);
    }
    auto in_db = [&](const std::string& n) {
        return std::any_of(shown.begin(), shown.end(),
                           [&](const AccountRow& r) { return r.name == n; });
    };
    if (shown.empty() && (configured.empty() || !a.positionals().empty())) {
        fmt::print("no accounts yet (crm-maild registers the accounts of its config)\n");
        return kOk;
    }
    for (const auto& r : shown) {
        fmt::print("{} <{}> on {}: {}{}\n", r.name, r.address, r.imap_host, health_name(r.state),
                   r.enabled ? "" : " (disabled)");
        fmt::print("  last success: {}   messages synced: {}   mailboxes: {}\n",
                   ago(r.last_success_at, now), r.messages, r.mailboxes);
        if (r.initial_total > 0 && r.initial_done < r.initial_total) {
            auto rate = initial_rate(r);
            auto eta = initial_eta(r);
            fmt::print(
                "  initial sync: {} of {} ({:.0f}%){}{}\n", r.initial_done, r.initial_total,
                100.0 * static_cast<double>(r.initial_done) / static_cast<double>(r.initial_total),
                rate ? fmt::format(", {:.1f} msg/s", *rate) : std::string(", rate: measuring"),
                eta ? fmt::format(", ETA {} (as of {})", duration(*eta), ago(r.updated_at, now))
                    : std::string());
        }
        if (r.backfill_pending > 0)
            fmt::print("  backfill: {} older message(s) still to fetch, a part each pass after "
                       "new mail\n",
                       r.backfill_pending);
        if (!r.last_error_class.empty())
            fmt::print("  last error ({}): {}: {}\n", ago(r.last_error_at, now), r.last_error_class,
                       printable(r.last_error)); // a server's words
        if (!configured.empty() &&
            std::find(configured.begin(), configured.end(), r.name) == configured.end())
            fmt::print("  not in {} (no longer synced after a reload)\n", ctx.config_path);
    }
    if (a.positionals().empty())
        for (const auto& n : configured)
            if (!in_db(n))
                fmt::print("{}: in {}, not registered by crm-maild yet (systemctl reload "
                           "crm-maild)\n",
                           n, ctx.config_path);
    return kOk;
}

} // namespace crm::ctl
