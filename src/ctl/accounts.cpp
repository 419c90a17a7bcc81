// crm-mailctl config check, accounts status / list.
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/settings/config.hpp"
#include "crm/store/sync_store.hpp"

namespace crm::ctl {

namespace json = boost::json;

namespace {

std::string ago(std::optional<std::int64_t> t) {
    if (!t)
        return "never";
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
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

} // namespace

int cmd_config_check(Context&, const std::vector<std::string>& args) {
    Args a(args, {}, {"--quiet"});
    if (a.positionals().size() > 1)
        throw UsageError{"expected at most one FILE"};
    std::string path = a.positionals().empty() ? std::string("/etc/crm-mail/crm-mail.toml")
                                               : a.positionals()[0];
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
                   out.config->database.path,
                   warnings ? fmt::format(", {} warning(s)", warnings) : std::string());
    return kOk;
}

int cmd_accounts_status(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    if (a.positionals().size() > 1)
        throw UsageError{"expected at most one account NAME"};
    if (!ctx.open())
        return kRuntime;
    store::SyncStore sync(*ctx.db);
    auto rows = sync.accounts();
    if (!rows)
        return print_error(rows.error());
    std::vector<store::AccountRow> shown;
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
            o["state"] = r.state;
            o["last_success_at"] = r.last_success_at ? json::value(*r.last_success_at) : nullptr;
            o["last_error_at"] = r.last_error_at ? json::value(*r.last_error_at) : nullptr;
            o["last_error_class"] = r.last_error_class;
            o["last_error"] = r.last_error;
            o["messages_synced"] = r.messages;
            o["mailboxes"] = r.mailboxes;
            o["initial_sync_done"] = r.initial_done;
            o["initial_sync_total"] = r.initial_total;
            arr.push_back(o);
        }
        fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    if (shown.empty()) {
        fmt::print("no accounts yet (crm-maild registers the accounts of its config)\n");
        return kOk;
    }
    for (const auto& r : shown) {
        fmt::print("{} <{}> on {}: {}{}\n", r.name, r.address, r.imap_host, r.state,
                   r.enabled ? "" : " (disabled)");
        fmt::print("  last success: {}   messages synced: {}   mailboxes: {}\n",
                   ago(r.last_success_at), r.messages, r.mailboxes);
        if (r.initial_total > 0 && r.initial_done < r.initial_total)
            fmt::print("  initial sync: {} of {} ({:.0f}%)\n", r.initial_done, r.initial_total,
                       100.0 * static_cast<double>(r.initial_done) /
                           static_cast<double>(r.initial_total));
        if (!r.last_error_class.empty())
            fmt::print("  last error ({}): {}: {}\n", ago(r.last_error_at), r.last_error_class,
                       r.last_error);
    }
    return kOk;
}

} // namespace crm::ctl
