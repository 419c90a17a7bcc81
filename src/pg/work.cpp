// UnitOfWork and the metrics queries on PostgreSQL (see work.hpp).
#include "crm/pg/work.hpp"

#include <exception>

#include "web_support.hpp"

namespace crm::pg {

namespace {

// The body's exception as the port describes it: an error of the store, scope Account.
Error thrown(std::string_view where, const std::exception& e) {
    return Error{"pg.exception", fmt::format("{}: the unit of work threw: {}", where, e.what()),
                 ErrorScope::Account, Retry::Backoff};
}

Result<void> call(const std::function<Result<void>()>& body, std::string_view where) {
    try {
        return body();
    } catch (const std::exception& e) {
        return std::unexpected(thrown(where, e));
    }
}

} // namespace

Result<void> PgWork::transaction(const std::function<Result<void>()>& body) {
    auto tx = Transaction::begin(c_);
    if (!tx)
        return std::unexpected(detail::doing("transaction", tx.error()));
    auto r = call(body, "transaction");
    if (!r)
        return r; // ~Transaction rolls back
    return tx->commit();
}

Result<void> PgWork::savepoint(const std::function<Result<void>()>& body) {
    if (!detail::in_transaction(c_))
        return transaction(body);
    auto sp = Savepoint::begin(c_);
    if (!sp)
        return std::unexpected(detail::doing("savepoint", sp.error()));
    auto r = call(body, "savepoint");
    if (!r)
        return r; // ~Savepoint rolls back to it, and the transaction goes on
    return sp->release();
}

Result<MetricsSnapshot> metrics_snapshot(Connection& c) {
    constexpr std::string_view what = "reading the metrics";
    MetricsSnapshot m;
    auto tot =
        detail::run(c, what, "SELECT count(*), coalesce(sum(raw_size), 0)::bigint FROM messages");
    if (!tot)
        return std::unexpected(tot.error());
    {
        detail::Cells t(*tot, 0);
        m.messages = t.get<std::int64_t>(0);
        m.raw_bytes = t.get<std::int64_t>(1); // sum(bigint) is numeric: cast back in SQL
        if (t.error())
            return std::unexpected(*t.error());
    }
    auto acc =
        detail::run(c, what,
                    std::string("SELECT a.name, a.state, a.last_success_at, a.messages_synced, "
                                "a.backfill_pending, a.initial_done, a.initial_total, "
                                "coalesce(qs.retrying, 0), coalesce(qs.given_up, 0) FROM "
                                "accounts a LEFT JOIN (SELECT m.account_id, count(*) "
                                "FILTER (WHERE q.attempts < $1::bigint) AS retrying, count(*) "
                                "FILTER (WHERE q.attempts >= $1::bigint) AS given_up FROM "
                                "quarantine q JOIN mailboxes m ON m.id = q.mailbox_id "
                                "WHERE q.dropped_at IS NULL AND ") +
                        detail::kQuarantineNotStored +
                        " GROUP BY m.account_id) qs ON qs.account_id = a.id ORDER BY "
                        "a.name",
                    kQuarantineAttempts);
    if (!acc)
        return std::unexpected(acc.error());
    for (int i = 0; i < acc->rows(); ++i) {
        detail::Cells a(*acc, i);
        MetricsSnapshot::Account row;
        row.name = a.get<std::string>(0);
        row.state = a.get<std::string>(1);
        row.last_success_at = a.get<std::optional<std::int64_t>>(2);
        row.messages_synced = a.get<std::int64_t>(3);
        row.backfill_pending = a.get<std::int64_t>(4);
        row.initial_done = a.get<std::int64_t>(5);
        row.initial_total = a.get<std::int64_t>(6);
        row.quarantine_retrying = a.get<std::int64_t>(7);
        row.quarantine_given_up = a.get<std::int64_t>(8);
        if (a.error())
            return std::unexpected(*a.error());
        m.accounts.push_back(std::move(row));
    }
    auto ob =
        detail::run(c, what, "SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state");
    if (!ob)
        return std::unexpected(ob.error());
    for (int i = 0; i < ob->rows(); ++i) {
        detail::Cells o(*ob, i);
        auto state = o.get<std::string>(0);
        auto n = o.get<std::int64_t>(1);
        if (o.error())
            return std::unexpected(*o.error());
        m.outbox.emplace_back(std::move(state), n);
    }
    return m;
}

} // namespace crm::pg
