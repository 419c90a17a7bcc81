#pragma once
// The CRM database as the front-ends see it: one connection's worth of ports (a unit of work
// and the repositories that share it). The store implements it (store::open_backend); the use
// cases in app and the HTTP API take it; nothing outside the store knows SQL or SQLite. One
// thread at a time: the HTTP API keeps a small pool, one per request.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/activity.hpp"
#include "crm/core/compose.hpp"
#include "crm/core/crm_records.hpp"
#include "crm/core/followups.hpp"
#include "crm/core/outbox.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/quarantine.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/core/search.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/core/throttle.hpp"
#include "crm/core/unit_of_work.hpp"

namespace crm {

// What /metrics reports from the database.
struct MetricsSnapshot {
    std::int64_t messages = 0;  // canonical messages stored
    std::int64_t raw_bytes = 0; // their raw sizes
    struct Account {
        std::string name, state;
        std::optional<std::int64_t> last_success_at;
        std::int64_t messages_synced = 0;
        std::int64_t backfill_pending = 0; // older mail still to fetch
        std::int64_t initial_done = 0, initial_total = 0;
        // Quarantined messages not dropped: still retried, and given up on.
        std::int64_t quarantine_retrying = 0, quarantine_given_up = 0;
    };
    std::vector<Account> accounts;                            // by name
    std::vector<std::pair<std::string, std::int64_t>> outbox; // replies per state, by state
};

class MetricsQueries {
  public:
    virtual ~MetricsQueries() = default;
    virtual Result<MetricsSnapshot> metrics_snapshot() = 0;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual UnitOfWork& work() = 0;
    virtual ReadModel& reads() = 0;
    virtual OperatorReads& operator_reads() = 0;
    virtual ThreadEdits& edits() = 0;
    virtual Logins& logins() = 0;
    virtual Outbox& outbox() = 0;
    virtual MetricsQueries& metrics() = 0;
    virtual CrmRecords& crm() = 0;
    virtual Search& search() = 0;
    virtual Followups& followups() = 0;
    virtual ActivityReads& activity() = 0;
    virtual ComposeStore& compose() = 0;
    virtual QuarantineAdmin& quarantine() = 0;
    // What the daemon's ingest and IMAP sync need, on the same connection.
    virtual MailStore& mail() = 0;
    virtual ThreadIndex& threads() = 0;
    virtual SyncState& sync() = 0;
    virtual SeenMirror& seen() = 0;
    // What re-sorting reads (with mail()'s lookups and place()).
    virtual ResortStore& resort() = 0;
    // The login throttle's buckets when they are shared through the database (several workers:
    // PostgreSQL); nullptr when the HTTP server keeps them in its memory (SQLite, one daemon).
    virtual ThrottleBuckets* throttle_buckets() { return nullptr; }
    // Before a request on a pooled connection: see the latest commits (a long-lived connection
    // would otherwise keep reading an old snapshot).
    virtual void refresh() noexcept = 0;
};

using BackendOpener = std::function<Result<std::unique_ptr<Backend>>()>;

} // namespace crm
