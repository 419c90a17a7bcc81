#include "crm/pg/backend.hpp"

namespace crm::pg {

PgBackend::PgBackend(Connection c, std::shared_ptr<const LeaseFence> fence, Connector reconnect)
    : conn_(std::move(c)), reconnect_(std::move(reconnect)), work_(conn_), reconnecting_(*this),
      store_(conn_, fence), sync_(conn_, fence), web_(conn_), outbox_(conn_, fence),
      followups_(conn_), activity_(conn_), compose_(conn_), throttle_(conn_) {}

BackendOpener PgBackend::opener(std::string url, ConnectOptions opts,
                                std::shared_ptr<const LeaseFence> fence) {
    return [url = std::move(url), opts = std::move(opts),
            fence = std::move(fence)]() -> Result<std::unique_ptr<Backend>> {
        auto c = Connection::connect(url, opts);
        if (!c)
            return std::unexpected(c.error());
        Connector again = [url, opts] { return Connection::connect(url, opts); };
        return std::make_unique<PgBackend>(std::move(*c), fence, std::move(again));
    };
}

Result<void> PgBackend::ensure_connected() {
    if (conn_.ok() || !reconnect_)
        return {};
    auto c = reconnect_();
    if (!c)
        return std::unexpected(c.error());
    // The parts borrow conn_ by reference: replacing what it holds reconnects them all.
    conn_ = std::move(*c);
    return {};
}

Result<void> PgBackend::Reconnecting::transaction(const std::function<Result<void>()>& body) {
    if (auto r = b_.ensure_connected(); !r)
        return r;
    auto r = b_.work_.transaction(body);
    // After the commit, outside any transaction (ANALYZE would hold its lock until the end).
    if (r && b_.store_.statistics_due())
        (void)b_.store_.refresh_statistics(); // best effort: autovacuum does it later anyway
    return r;
}

Result<void> PgBackend::Reconnecting::savepoint(const std::function<Result<void>()>& body) {
    return b_.work_.savepoint(body);
}

Result<void> PgBackend::link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                                    std::int64_t now) {
    return store_.link_thread(thread, deal, by, now);
}

Result<void> PgBackend::unlink_thread(ThreadId thread, std::int64_t now) {
    return store_.unlink_thread(thread, now);
}

Result<SplitResult>
PgBackend::split_message(MessageRowId message, std::optional<UserId> by, std::int64_t now,
                         const std::optional<std::vector<MessageRowId>>& movable) {
    return store_.split_message(message, by, now, movable);
}

Result<std::vector<MessageRowId>> PgBackend::messages_with_id(std::string_view message_id) {
    return store_.messages_with_id(message_id);
}

Result<std::int64_t> PgBackend::set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                  const std::vector<AccountId>& mirror,
                                                  std::int64_t now) {
    return web_.set_thread_unread(v, thread, unread, mirror, now);
}

Result<std::int64_t> PgBackend::set_message_unread(const Viewer& v, MessageRowId message,
                                                   bool unread,
                                                   const std::vector<AccountId>& mirror,
                                                   std::int64_t now) {
    return web_.set_message_unread(v, message, unread, mirror, now);
}

Result<MetricsSnapshot> PgBackend::metrics_snapshot() {
    return pg::metrics_snapshot(conn_);
}

} // namespace crm::pg
