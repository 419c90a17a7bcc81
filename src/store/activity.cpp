#include "crm/store/activity.hpp"

#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

// A message a person wrote: ours, or the customer's that is neither automatic nor bulk.
constexpr const char* kWritten = "(m.auto_kind = '' AND (m.direction = 'out' OR m.is_bulk = 0))";

std::vector<ActivityMessage> read_all(SQLite::Statement& q) {
    std::vector<ActivityMessage> out;
    while (q.executeStep()) {
        ActivityMessage m;
        m.thread = q.getColumn(0).getInt64();
        m.at = q.getColumn(1).getInt64();
        m.outgoing = q.getColumn(2).getInt() != 0;
        m.deal = q.getColumn(3).getInt64();
        m.owner = opt_col(q.getColumn(4));
        out.push_back(m);
    }
    q.reset();
    return out;
}

} // namespace

Result<std::vector<ActivityMessage>> ActivityStore::deal_messages(DealId deal) {
    return guard("reading a deal's activity", [&]() -> Result<std::vector<ActivityMessage>> {
        auto& q = db_.impl().stmt(
            std::string("SELECT m.thread_id, coalesce(m.date, m.received_at), m.direction = "
                        "'out', td.deal_id, d.owner_id FROM thread_deals td JOIN deals d ON d.id = "
                        "td.deal_id JOIN messages m ON m.thread_id = td.thread_id WHERE "
                        "td.deal_id = ? AND ") +
            kWritten);
        q.bind(1, deal);
        return read_all(q);
    });
}

Result<std::vector<ActivityMessage>>
ActivityStore::owner_messages(std::optional<UserId> owner, std::int64_t from, std::int64_t to) {
    return guard("reading the activity report", [&]() -> Result<std::vector<ActivityMessage>> {
        auto& q = db_.impl().stmt(
            std::string("SELECT m.thread_id, coalesce(m.date, m.received_at) AS at, m.direction "
                        "= 'out', td.deal_id, d.owner_id FROM deals d JOIN thread_deals td ON "
                        "td.deal_id = d.id JOIN messages m ON m.thread_id = td.thread_id WHERE "
                        "d.owner_id IS NOT NULL AND (:owner IS NULL OR d.owner_id = :owner) AND "
                        "coalesce(m.date, m.received_at) >= :from AND coalesce(m.date, "
                        "m.received_at) < :to AND ") +
            kWritten);
        if (owner)
            q.bind(":owner", *owner);
        q.bind(":from", from);
        q.bind(":to", to);
        return read_all(q);
    });
}

} // namespace crm::store
