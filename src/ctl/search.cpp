// crm-mailctl search and db reindex (issue 19).

#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/app/search.hpp"
#include "crm/core/search_query.hpp"
#include "crm/core/utf8.hpp"
#include "crm/http/api.hpp"

namespace crm::ctl {

int cmd_search(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--user", "--limit", "--cursor"}, {"--json"});
    expect_args(a.positionals(), 1, "the query, in quotes for the shell");
    const std::string& text = a.positionals().front();
    auto q = parse_search_query(text);
    if (!q) {
        // The query with a caret under the character that is wrong.
        fmt::print(stderr, "crm-mailctl search: at character {}: {}\n  {}\n  {:>{}}\n",
                   q.error().position, q.error().message, printable(text), "^", q.error().position);
        return kUsage;
    }
    std::size_t limit = app::kSearchPageDefault;
    if (auto l = a.value("--limit"))
        limit = static_cast<std::size_t>(parse_id("--limit", *l));
    if (limit > app::kSearchPageMax)
        throw UsageError{fmt::format("--limit: at most {}", app::kSearchPageMax)};
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    Viewer viewer = kOperator;
    if (auto u = a.value("--user")) {
        // As that CRM user would see it on the page.
        const auto user = crm_user(*backend, *u, "search");
        if (!user)
            return kRuntime;
        viewer = Viewer{user->id, user->role == Role::Admin};
    }
    auto r = app::search(*backend, viewer, *q, text, a.value("--cursor").value_or(""), limit);
    if (!r)
        return print_error(r.error());
    if (a.has("--json")) {
        fmt::print("{}\n", http::search_result_json(*r));
        return kOk;
    }
    for (const auto& h : r->page.hits) {
        std::string snippet;
        for (const auto& part : h.snippet)
            snippet += part.hit ? "[" + part.text + "]" : part.text;
        fmt::print("{:>7} thread {:<6} {}  {}  {}\n", h.message, h.thread,
                   fmt_date(h.date.value_or(h.received_at)),
                   printable(h.from_name.empty() ? h.from_address : h.from_name),
                   printable(h.subject));
        if (h.deal)
            fmt::print("        deal {} {}\n", *h.deal, printable(h.deal_name));
        if (!snippet.empty())
            fmt::print("        {}\n", printable(snippet));
    }
    fmt::print("{} of {}{} hit{}", r->page.hits.size(), r->page.total,
               r->page.total_capped ? "+" : "", r->page.total == 1 ? "" : "s");
    if (r->next_cursor)
        fmt::print("; more: --cursor {}", *r->next_cursor);
    fmt::print("\n");
    return kOk;
}

int cmd_db_reindex(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 0, "no arguments");
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    Result<std::int64_t> n = 0;
    if (auto r = backend->work().transaction([&]() -> Result<void> {
            n = backend->search().reindex();
            return n ? Result<void>{} : std::unexpected(n.error());
        });
        !r)
        return print_error(r.error());
    fmt::print("search index rebuilt: {} messages\n", *n);
    return kOk;
}

} // namespace crm::ctl
