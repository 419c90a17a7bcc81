#pragma once
// The core's Backend over one PostgreSQL connection: the unit of work, the read model, the thread
// edits, the logins, the outbox, the metrics queries, the CRM records, and what the daemon's
// ingest and sync need, all on that connection. Mirrors store::SqliteBackend.
//
// A connection the server dropped (a restart, a network cut) is opened again at the start of the
// next unit of work or refresh(); the statement that found it dropped failed with "pg.connection"
// (Backoff), so the caller's retry (the sync's backoff, the next HTTP request) gets the new one.
// With a LeaseFence (a daemon worker's loop and writer connections) every sync write checks the
// lease; without one (crm-mailctl, the HTTP API) nothing is fenced.

#include <functional>
#include <memory>

#include "crm/core/backend.hpp"
#include "crm/pg/activity.hpp"
#include "crm/pg/compose.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/followups.hpp"
#include "crm/pg/lease_fence.hpp"
#include "crm/pg/outbox.hpp"
#include "crm/pg/store.hpp"
#include "crm/pg/sync_store.hpp"
#include "crm/pg/throttle.hpp"
#include "crm/pg/web_store.hpp"
#include "crm/pg/work.hpp"

namespace crm::pg {

class PgBackend final : public Backend, public ThreadEdits, public MetricsQueries {
  public:
    using Connector = std::function<Result<Connection>()>;

    // `reconnect` opens a new connection like `c` (null: a dropped connection stays dropped).
    PgBackend(Connection c, std::shared_ptr<const LeaseFence> fence = nullptr,
              Connector reconnect = nullptr);
    PgBackend(const PgBackend&) = delete;
    PgBackend& operator=(const PgBackend&) = delete;

    // Opens a connection to `url` for each call (the HTTP API's pool, crm-mailctl).
    [[nodiscard]] static BackendOpener opener(std::string url, ConnectOptions opts,
                                              std::shared_ptr<const LeaseFence> fence = nullptr);

    UnitOfWork& work() override { return reconnecting_; }
    ReadModel& reads() override { return web_; }
    OperatorReads& operator_reads() override { return web_; }
    ThreadEdits& edits() override { return *this; }
    Logins& logins() override { return web_; }
    Outbox& outbox() override { return outbox_; }
    MetricsQueries& metrics() override { return *this; }
    CrmRecords& crm() override { return store_; }
    Search& search() override { return search_; }
    Followups& followups() override { return followups_; }
    ActivityReads& activity() override { return activity_; }
    ComposeStore& compose() override { return compose_; }
    QuarantineAdmin& quarantine() override { return sync_; }
    MailStore& mail() override { return store_; }
    ThreadIndex& threads() override { return store_; }
    SyncState& sync() override { return sync_; }
    SeenMirror& seen() override { return web_; }
    ResortStore& resort() override { return store_; }
    // Shared by every worker: a load balancer spreading the attempts does not multiply the limits.
    ThrottleBuckets* throttle_buckets() override { return &throttle_; }
    // READ COMMITTED sees every commit: nothing to release. Reconnects a dropped connection.
    void refresh() noexcept override { (void)ensure_connected(); }

    // ThreadEdits
    Result<void> link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                             std::int64_t now) override;
    Result<void> unlink_thread(ThreadId thread, std::int64_t now) override;
    Result<SplitResult>
    split_message(MessageRowId message, std::optional<UserId> by, std::int64_t now,
                  const std::optional<std::vector<MessageRowId>>& movable = {}) override;
    Result<std::vector<MessageRowId>> messages_with_id(std::string_view message_id) override;
    Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                           const std::vector<AccountId>& mirror_accounts,
                                           std::int64_t now) override;
    Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message, bool unread,
                                            const std::vector<AccountId>& mirror_accounts,
                                            std::int64_t now) override;

    // MetricsQueries
    Result<MetricsSnapshot> metrics_snapshot() override;

    Connection& connection() { return conn_; }

  private:
    // Opens the connection again when the server dropped it.
    Result<void> ensure_connected();

    class Reconnecting final : public UnitOfWork {
      public:
        explicit Reconnecting(PgBackend& b) : b_(b) {}
        Result<void> transaction(const std::function<Result<void>()>& body) override;
        Result<void> savepoint(const std::function<Result<void>()>& body) override;

      private:
        PgBackend& b_;
    };

    Connection conn_; // first: the parts below borrow it
    Connector reconnect_;
    PgWork work_;
    Reconnecting reconnecting_;
    PgStore store_;
    PgSyncState sync_;
    PgWebStore web_;
    PgOutbox outbox_;
    PgFollowups followups_;
    PgActivity activity_;
    PgCompose compose_;
    PgThrottle throttle_;
    // Full-text search is SQLite's for now (issue 19: PostgreSQL's comes with issue 17): a
    // search here says so instead of returning nothing.
    class NoSearch final : public Search {
      public:
        Result<SearchPage> search(const Viewer&, const SearchQuery&, std::size_t,
                                  std::size_t) override {
            return fail("search.unavailable",
                        "full-text search is not available on the PostgreSQL backend yet; the "
                        "embedded SQLite database has it");
        }
        Result<std::int64_t> reindex() override {
            return fail("search.unavailable",
                        "the PostgreSQL backend has no full-text index to rebuild");
        }
    } search_;
};

} // namespace crm::pg
