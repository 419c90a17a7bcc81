#include "crm/store/backend.hpp"

#include "crm/store/sync_store.hpp"
#include "guard.hpp"
#include "impl.hpp"
#include "rows.hpp"

namespace crm::store {

Result<void> Work::transaction(const std::function<Result<void>()>& body) {
    try {
        Database::Transaction tx(db_);
        auto r = body();
        if (!r)
            return r; // rolled back by tx
        return tx.commit();
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("transaction", e));
    }
}

Result<void> Work::savepoint(const std::function<Result<void>()>& body) {
    try {
        Database::Savepoint sp(db_);
        auto r = body();
        if (!r)
            return r; // rolled back to the savepoint by sp
        return sp.release();
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("savepoint", e));
    }
}

SqliteBackend::SqliteBackend(std::unique_ptr<Database> db)
    : owned_(std::move(db)), db_(*owned_), work_(db_), store_(db_), sync_(db_), web_(db_),
      outbox_(db_), search_(db_), followups_(db_), activity_(db_), compose_(db_) {}

SqliteBackend::SqliteBackend(Database& db)
    : db_(db), work_(db_), store_(db_), sync_(db_), web_(db_), outbox_(db_), search_(db_),
      followups_(db_), activity_(db_), compose_(db_) {}

Result<void> SqliteBackend::link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                                        std::int64_t now) {
    return store_.link_thread(thread, deal, by, now);
}

Result<void> SqliteBackend::unlink_thread(ThreadId thread, std::int64_t now) {
    return store_.unlink_thread(thread, now);
}

Result<SplitResult>
SqliteBackend::split_message(MessageRowId message, std::optional<UserId> by, std::int64_t now,
                             const std::optional<std::vector<MessageRowId>>& movable) {
    return store_.split_message(message, by, now, movable);
}

Result<std::vector<MessageRowId>> SqliteBackend::messages_with_id(std::string_view message_id) {
    return store_.messages_with_id(message_id);
}

Result<std::int64_t> SqliteBackend::set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                      const std::vector<AccountId>& mirror,
                                                      std::int64_t now) {
    return web_.set_thread_unread(v, thread, unread, mirror, now);
}

Result<std::int64_t> SqliteBackend::set_message_unread(const Viewer& v, MessageRowId message,
                                                       bool unread,
                                                       const std::vector<AccountId>& mirror,
                                                       std::int64_t now) {
    return web_.set_message_unread(v, message, unread, mirror, now);
}

Result<MetricsSnapshot> SqliteBackend::metrics_snapshot() {
    return guard("reading the metrics", [&]() -> Result<MetricsSnapshot> {
        auto& d = db_.impl();
        MetricsSnapshot m;
        auto& tot = d.stmt("SELECT count(*), coalesce(sum(raw_size), 0) FROM messages");
        tot.executeStep();
        m.messages = tot.getColumn(0).getInt64();
        m.raw_bytes = tot.getColumn(1).getInt64();
        tot.reset();
        auto& acc =
            d.stmt(std::string("SELECT a.name, a.state, a.last_success_at, a.messages_synced, "
                               "a.backfill_pending, a.initial_done, a.initial_total, "
                               "coalesce(qs.retrying, 0), coalesce(qs.given_up, 0) FROM "
                               "accounts a LEFT JOIN (SELECT m.account_id, count(*) "
                               "FILTER (WHERE q.attempts < :attempts) AS retrying, count(*) "
                               "FILTER (WHERE q.attempts >= :attempts) AS given_up FROM "
                               "quarantine q JOIN mailboxes m ON m.id = q.mailbox_id "
                               "WHERE q.dropped_at IS NULL AND ") +
                   kQuarantineNotStored +
                   " GROUP BY m.account_id) qs ON qs.account_id = a.id ORDER BY "
                   "a.name");
        acc.bind(":attempts", kQuarantineAttempts);
        while (acc.executeStep()) {
            MetricsSnapshot::Account a;
            a.name = acc.getColumn(0).getString();
            a.state = acc.getColumn(1).getString();
            if (!acc.getColumn(2).isNull())
                a.last_success_at = acc.getColumn(2).getInt64();
            a.messages_synced = acc.getColumn(3).getInt64();
            a.backfill_pending = acc.getColumn(4).getInt64();
            a.initial_done = acc.getColumn(5).getInt64();
            a.initial_total = acc.getColumn(6).getInt64();
            a.quarantine_retrying = acc.getColumn(7).getInt64();
            a.quarantine_given_up = acc.getColumn(8).getInt64();
            m.accounts.push_back(std::move(a));
        }
        acc.reset();
        auto& ob = d.stmt("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state");
        while (ob.executeStep())
            m.outbox.emplace_back(ob.getColumn(0).getString(), ob.getColumn(1).getInt64());
        ob.reset();
        return m;
    });
}

Result<std::vector<AccountRow>> WebStore::accounts() {
    return SyncStore(db_).accounts();
}

BackendOpener backend_opener(std::string path, OpenOptions opts) {
    return [path = std::move(path), opts]() -> Result<std::unique_ptr<Backend>> {
        auto db = Database::open(path, opts);
        if (!db)
            return std::unexpected(db.error());
        return std::make_unique<SqliteBackend>(std::move(*db));
    };
}

} // namespace crm::store
