#include "crm/pg/activity.hpp"

#include "web_support.hpp"

namespace crm::pg {

using detail::Cells;
using detail::run;

namespace {

constexpr std::string_view kWritten =
    "(m.auto_kind = '' AND (m.direction = 'out' OR m.is_bulk = 0))";

Result<std::vector<ActivityMessage>> read_all(const ResultSet& rs) {
    std::vector<ActivityMessage> out;
    out.reserve(static_cast<std::size_t>(rs.rows()));
    for (int i = 0; i < rs.rows(); ++i) {
        Cells c(rs, i);
        ActivityMessage m;
        m.thread = c.get<std::int64_t>(0);
        m.at = c.get<std::int64_t>(1);
        m.outgoing = c.get<bool>(2);
        m.deal = c.get<std::int64_t>(3);
        m.owner = c.get<std::optional<std::int64_t>>(4);
        if (c.error())
            return std::unexpected(*c.error());
        out.push_back(m);
    }
    return out;
}

} // namespace

Result<std::vector<ActivityMessage>> PgActivity::deal_messages(DealId deal) {
    auto r = run(c_, "reading a deal's activity",
                 std::string("SELECT m.thread_id, coalesce(m.date, m.received_at), m.direction = "
                             "'out', td.deal_id, d.owner_id FROM thread_deals td JOIN deals d ON "
                             "d.id = td.deal_id JOIN messages m ON m.thread_id = td.thread_id "
                             "WHERE td.deal_id = $1::bigint AND ") +
                     std::string(kWritten),
                 deal);
    if (!r)
        return std::unexpected(r.error());
    return read_all(*r);
}

Result<std::vector<ActivityMessage>>
PgActivity::owner_messages(std::optional<UserId> owner, std::int64_t from, std::int64_t to) {
    auto r = run(c_, "reading the activity report",
                 std::string("SELECT m.thread_id, coalesce(m.date, m.received_at), m.direction = "
                             "'out', td.deal_id, d.owner_id FROM deals d JOIN thread_deals td ON "
                             "td.deal_id = d.id JOIN messages m ON m.thread_id = td.thread_id "
                             "WHERE d.owner_id IS NOT NULL AND ($1::bigint IS NULL OR d.owner_id "
                             "= $1::bigint) AND coalesce(m.date, m.received_at) >= $2::bigint AND "
                             "coalesce(m.date, m.received_at) < $3::bigint AND ") +
                     std::string(kWritten),
                 owner, from, to);
    if (!r)
        return std::unexpected(r.error());
    return read_all(*r);
}

} // namespace crm::pg
