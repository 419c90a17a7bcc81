// crm-mailctl resort [--deal N | --all] (issue 19): the sorter decides stored threads again after
// the CRM's records changed, and prints what changed.
#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/app/resort.hpp"
#include "crm/runtime/ingest_options.hpp"

namespace crm::ctl {

namespace json = boost::json;

namespace {

std::string filing(const std::optional<DealId>& deal) {
    return deal ? fmt::format("deal {}", *deal) : std::string("unsorted");
}

} // namespace

int cmd_resort(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--deal"}, {"--all", "--json"});
    expect_args(a.positionals(), 0, "no positional arguments");
    if (a.has("--deal") && a.has("--all"))
        throw UsageError{"--deal and --all exclude each other"};
    ResortScope scope;
    if (auto d = a.value("--deal")) {
        scope.linked = true;
        scope.deal = parse_id("--deal", *d);
    } else if (a.has("--all")) {
        scope.linked = true;
    }
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    if (scope.deal) {
        auto ex = backend->operator_reads().deal_exists(*scope.deal);
        if (!ex)
            return print_error(ex.error());
        if (!*ex) {
            fmt::print(stderr, "crm-mailctl: deal {} does not exist\n", *scope.deal);
            return kRuntime;
        }
    }
    // The daemon's [matching] settings when its config is readable and valid (as import).
    const auto opts = runtime::ingest_options(
        config_matching(ctx.config_path).value_or(settings::MatchingConfig{}));
    auto report = app::resort(*backend, scope, ctx.clock->now(),
                              app::ResortOptions{opts.sorting, opts.addresses});
    if (!report)
        return print_error(report.error());
    if (a.has("--json")) {
        json::array changes;
        for (const auto& c : report->changes)
            changes.push_back(
                json::object{{"thread", c.thread},
                             {"from", c.from ? json::value(*c.from) : json::value(nullptr)},
                             {"to", c.to ? json::value(*c.to) : json::value(nullptr)},
                             {"held", c.held},
                             {"reason", c.reason}});
        json::array failed;
        for (const auto& [thread, why] : report->failed)
            failed.push_back(json::object{{"thread", thread}, {"error", why.to_string()}});
        fmt::print("{}\n",
                   json::serialize(json::object{
                       {"examined", report->examined}, {"changes", changes}, {"failed", failed}}));
        return report->failed.empty() ? kOk : kRuntime;
    }
    for (const auto& c : report->changes)
        fmt::print("thread {}: {} -> {}{}: {}\n", c.thread, filing(c.from), filing(c.to),
                   c.held ? " (held for a person)" : "", printable(c.reason));
    for (const auto& [thread, why] : report->failed)
        fmt::print(stderr, "crm-mailctl: thread {} was not decided again: {}\n", thread,
                   why.to_string());
    fmt::print("{} thread{} decided again, {} changed\n", report->examined,
               report->examined == 1 ? "" : "s", report->changes.size());
    return report->failed.empty() ? kOk : kRuntime;
}

} // namespace crm::ctl
