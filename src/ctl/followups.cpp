// crm-mailctl followups (issue 20): each salesperson's "follow up today" list, as the page and
// GET /api/v1/followups give it.

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/app/followups.hpp"
#include "crm/core/utf8.hpp"

namespace crm::ctl {

namespace json = boost::json;

int cmd_followups(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--user"}, {"--json"});
    if (!a.positionals().empty())
        throw UsageError{"expected no arguments"};
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    const auto cfg = config_followups(ctx.config_path).value_or(settings::FollowupsConfig{});
    const FollowupPolicy policy{cfg.awaiting_days, cfg.answer_hours};
    std::vector<UserId> users;
    if (auto u = a.value("--user")) {
        const auto user = crm_user(*backend, *u, "followups");
        if (!user)
            return kRuntime;
        users.push_back(user->id);
    } else {
        auto owners = backend->followups().deal_owners();
        if (!owners)
            return print_error(owners.error());
        users = std::move(*owners);
    }
    const std::int64_t now = ctx.clock->now();
    json::array out;
    for (const UserId user : users) {
        auto list = app::list_followups(backend->followups(), user, policy, now);
        if (!list)
            return print_error(list.error());
        if (a.has("--json")) {
            json::array items;
            for (const auto& f : list->items)
                items.push_back(json::object{{"thread_id", f.thread},
                                             {"subject", f.subject},
                                             {"deal_id", f.deal},
                                             {"deal", f.deal_name},
                                             {"kind", std::string(followup_kind_name(f.kind))},
                                             {"since", f.since},
                                             {"due_at", f.due_at}});
            out.push_back(json::object{{"user_id", user},
                                       {"followups", std::move(items)},
                                       {"truncated", list->truncated}});
            continue;
        }
        fmt::print("user {}: {} follow-up{}{}\n", user, list->items.size(),
                   list->items.size() == 1 ? "" : "s", list->truncated ? " (more not shown)" : "");
        for (const auto& f : list->items)
            fmt::print("  {:<14} thread {:<6} since {}  {}  [{}: {}]\n",
                       f.kind == FollowupKind::AwaitingReply ? "awaiting-reply" : "needs-answer",
                       f.thread, fmt_date(f.since), printable(f.subject), f.deal,
                       printable(f.deal_name));
    }
    if (a.has("--json"))
        fmt::print("{}\n", json::serialize(out));
    return kOk;
}

} // namespace crm::ctl
