#pragma once
// The core's Backend over one SQLite connection: the unit of work, the read model, the thread
// edits, the logins, the outbox and the metrics queries, all on that connection.

#include <memory>
#include <string>

#include "crm/core/backend.hpp"
#include "crm/store/activity.hpp"
#include "crm/store/compose.hpp"
#include "crm/store/database.hpp"
#include "crm/store/followups.hpp"
#include "crm/store/outbox.hpp"
#include "crm/store/search.hpp"
#include "crm/store/store.hpp"
#include "crm/store/sync_store.hpp"
#include "crm/store/web_store.hpp"

namespace crm::store {

// Transactions (BEGIN IMMEDIATE) and savepoints on a borrowed connection.
class Work final : public UnitOfWork {
  public:
    explicit Work(Database& db) : db_(db) {}
    Result<void> transaction(const std::function<Result<void>()>& body) override;
    Result<void> savepoint(const std::function<Result<void>()>& body) override;

  private:
    Database& db_;
};

class SqliteBackend final : public Backend, public ThreadEdits, public MetricsQueries {
  public:
    explicit SqliteBackend(std::unique_ptr<Database> db);
    // Borrows `db`, which must outlive this.
    explicit SqliteBackend(Database& db);

    UnitOfWork& work() override { return work_; }
    ReadModel& reads() override { return web_; }
    OperatorReads& operator_reads() override { return store_; }
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
    void refresh() noexcept override { db_.release_snapshots(); }

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

    Database& database() { return db_; }

  private:
    std::unique_ptr<Database> owned_;
    Database& db_;
    Work work_;
    Store store_;
    SyncStore sync_;
    WebStore web_;
    OutboxStore outbox_;
    SearchStore search_;
    FollowupStore followups_;
    ActivityStore activity_;
    ComposeSqlite compose_;
};

// Opens a connection to the database at `path` (which must be migrated) for each call.
[[nodiscard]] BackendOpener backend_opener(std::string path, OpenOptions opts = {});

} // namespace crm::store
