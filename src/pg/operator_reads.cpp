// OperatorReads on PostgreSQL: crm-mailctl's listings (src/store/queries.cpp's, translated).
#include "crm/core/exports.hpp"
#include "crm/pg/web_store.hpp"
#include "store_values.hpp"
#include "web_support.hpp"

namespace crm::pg {

namespace {

// An operator on the host sees everything, as an admin does.
constexpr Viewer kOperator{.user = 0, .admin = true};

} // namespace

// list_threads is in web_store.cpp, beside the web page's thread lists it shares its query with.

Result<std::optional<ThreadSummary>> PgWebStore::thread(ThreadId id) {
    return thread(kOperator, id);
}

Result<std::vector<MessageView>> PgWebStore::thread_messages(ThreadId id) {
    return thread_messages(kOperator, id);
}

Result<std::optional<std::string>> PgWebStore::raw_message(MessageRowId id) {
    return detail::read_raw_message(c_, id);
}

Result<std::vector<DealSummary>> PgWebStore::deals() {
    auto r = detail::run(c_, "listing deals",
                         "SELECT d.id, d.name, d.stage, d.status, count(t.id), "
                         "coalesce(sum(t.message_count), 0)::bigint, "
                         "coalesce(sum(t.unread_count), 0)::bigint FROM deals d LEFT JOIN "
                         "thread_deals td ON td.deal_id = d.id LEFT JOIN threads t ON t.id = "
                         "td.thread_id GROUP BY d.id ORDER BY d.id");
    if (!r)
        return std::unexpected(r.error());
    std::vector<DealSummary> out;
    for (int i = 0; i < r->rows(); ++i) {
        detail::Cells c(*r, i);
        DealSummary d;
        d.id = c.get<std::int64_t>(0);
        d.name = c.get<std::string>(1);
        d.stage = c.get<std::string>(2);
        d.status = c.get<std::string>(3);
        d.threads = c.get<std::int64_t>(4);
        d.messages = c.get<std::int64_t>(5);
        d.unread = c.get<std::int64_t>(6);
        if (c.error())
            return std::unexpected(*c.error());
        out.push_back(std::move(d));
    }
    return out;
}

Result<bool> PgWebStore::deal_exists(DealId id) {
    auto r = detail::run(c_, "looking up a deal", "SELECT 1 FROM deals WHERE id = $1::bigint", id);
    if (!r)
        return std::unexpected(r.error());
    return r->rows() > 0;
}

Result<std::vector<std::string>> PgWebStore::export_threads() {
    auto r =
        detail::run(c_, "exporting threads", "SELECT DISTINCT thread_id, message_id FROM messages");
    if (!r)
        return std::unexpected(r.error());
    std::vector<std::pair<ThreadId, std::string>> rows;
    rows.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        detail::Cells c(*r, i);
        auto thread = c.get<std::int64_t>(0);
        auto id = c.get<std::string>(1);
        if (c.error())
            return std::unexpected(*c.error());
        rows.emplace_back(thread, std::move(id));
    }
    return exports::thread_lines(rows);
}

Result<std::vector<std::string>> PgWebStore::export_deal_links() {
    auto r = detail::run(
        c_, "exporting deal links",
        "SELECT m.message_id, td.deal_id, coalesce(td.manual, 0), m.sort_reason, "
        "coalesce(u.reason, '') FROM messages m LEFT JOIN thread_deals td ON td.thread_id = "
        "m.thread_id LEFT JOIN unsorted u ON u.thread_id = m.thread_id");
    if (!r)
        return std::unexpected(r.error());
    std::vector<std::string> lines;
    lines.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        detail::Cells c(*r, i);
        auto id = c.get<std::string>(0);
        auto deal = c.get<std::optional<std::int64_t>>(1);
        const bool manual = c.flag(2);
        auto sort_reason = c.get<std::string>(3);
        auto queue_reason = c.get<std::string>(4);
        if (c.error())
            return std::unexpected(*c.error());
        lines.push_back(exports::deal_link_line(id, deal, manual, sort_reason, queue_reason));
    }
    exports::sort_unique(lines);
    return lines;
}

Result<Counts> PgWebStore::counts() {
    auto r = detail::run(c_, "counting",
                         "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM threads), "
                         "(SELECT count(*) FROM thread_deals), (SELECT count(*) FROM unsorted)");
    if (!r)
        return std::unexpected(r.error());
    detail::Cells c(*r, 0);
    Counts out{c.get<std::int64_t>(0), c.get<std::int64_t>(1), c.get<std::int64_t>(2),
               c.get<std::int64_t>(3)};
    if (c.error())
        return std::unexpected(*c.error());
    return out;
}

} // namespace crm::pg
