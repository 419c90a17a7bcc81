// crm-mailctl quarantine list|show|retry|drop (issue 19): the messages the sync could not store.
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/core/quarantine.hpp"
#include "crm/http/api.hpp"

namespace crm::ctl {

namespace {

QuarantineKey key_argument(const std::vector<std::string>& pos) {
    expect_args(pos, 1, "the id of a quarantined message (MAILBOX:UIDVALIDITY:UID, as listed)");
    auto key = parse_quarantine_id(pos.front());
    if (!key)
        throw UsageError{fmt::format("{} is not a quarantine id (MAILBOX:UIDVALIDITY:UID, as "
                                     "`quarantine list` prints it)",
                                     printable(pos.front()))};
    return *key;
}

void print_entry(const QuarantineEntry& e) {
    fmt::print("{:<16} {:<10} {:<20} {:>8} {:>3} {:<9} {}\n", quarantine_id(e.key),
               printable(e.account), printable(e.mailbox), e.key.uid, e.attempts,
               e.given_up() ? "given up" : "retrying", printable(e.reason));
}

} // namespace

int cmd_quarantine_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--account"}, {"--json"});
    expect_args(a.positionals(), 0, "no positional arguments");
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    auto list = backend->quarantine().quarantine_list(a.value("--account"));
    if (!list)
        return print_error(list.error());
    if (a.has("--json")) {
        fmt::print("{}\n", http::quarantine_json(*list));
        return kOk;
    }
    fmt::print("{:<16} {:<10} {:<20} {:>8} {:>3} {:<9} {}\n", "ID", "ACCOUNT", "MAILBOX", "UID",
               "TRY", "STATE", "LAST REASON");
    for (const auto& e : *list)
        print_entry(e);
    fmt::print("{} quarantined message{}\n", list->size(), list->size() == 1 ? "" : "s");
    return kOk;
}

int cmd_quarantine_show(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    const auto key = key_argument(a.positionals());
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    auto e = backend->quarantine().quarantine_entry(key);
    if (!e)
        return print_error(e.error());
    if (!*e) {
        fmt::print(stderr, "crm-mailctl: no quarantined message {}\n", quarantine_id(key));
        return kRuntime;
    }
    const auto& q = **e;
    fmt::print("id:            {}\naccount:       {}\nmailbox:       {} (UIDVALIDITY {}, UID {})\n"
               "attempts:      {} ({})\nfirst failed:  {}\nlast failed:   {}\nlast reason:   {}\n",
               quarantine_id(q.key), printable(q.account), printable(q.mailbox), q.key.uid_validity,
               q.key.uid, q.attempts,
               q.given_up() ? "given up: not fetched again until retried" : "still retried",
               fmt_date(q.first_failed_at), fmt_date(q.last_failed_at), printable(q.reason));
    return kOk;
}

namespace {

int act(Context& ctx, const std::vector<std::string>& args, bool retry) {
    Args a(args, {}, {});
    const auto key = key_argument(a.positionals());
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    auto& qa = backend->quarantine();
    auto done = retry ? qa.quarantine_retry(key) : qa.quarantine_drop(key, ctx.clock->now());
    if (!done)
        return print_error(done.error());
    if (!*done) {
        fmt::print(stderr, "crm-mailctl: no quarantined message {}\n", quarantine_id(key));
        return kRuntime;
    }
    fmt::print("{}: {}\n", quarantine_id(key),
               retry ? "released; crm-maild fetches it again at the account's next pass"
                     : "dropped; it is never fetched again");
    return kOk;
}

} // namespace

int cmd_quarantine_retry(Context& ctx, const std::vector<std::string>& args) {
    return act(ctx, args, true);
}

int cmd_quarantine_drop(Context& ctx, const std::vector<std::string>& args) {
    return act(ctx, args, false);
}

} // namespace crm::ctl
