#pragma once
// The CRM database as crm-maild opens it, by [database]: the connections the daemon works on
// and the opener the HTTP API pools, behind core's Backend, so that nothing else in the daemon
// knows which database it is.
//   SQLite (path): one syncing daemon per database (store::DaemonLock, held while this lives),
//     migrations applied at start, a writer connection whose WAL is checkpointed by a thread of
//     its own.
//   PostgreSQL (url): one of several workers. Migrations are applied under the advisory lock
//     (workers starting together take turns) and the schema must then be exactly this binary's;
//     the worker registers and gets its account leases (pg::Leases), whose fence every sync
//     write of the loop and writer connections checks. The HTTP API's connections are not
//     fenced: a person's write is not a sync write.

#include <memory>
#include <optional>
#include <string>

#include "crm/core/backend.hpp"
#include "crm/core/result.hpp"
#include "crm/pg/leases.hpp"
#include "crm/settings/config.hpp"
#include "crm/store/daemon_lock.hpp"

namespace crm::daemon {

struct DaemonDatabase {
    // Where, for messages: the SQLite path, or the URL without its password.
    std::string display;
    // The database password (PostgreSQL), for the log's scrubber; empty otherwise.
    std::string secret;
    // The event loop's connection (sync bookkeeping, outbox, read marks).
    std::unique_ptr<Backend> loop;
    // The connection sync batches are committed on, by the sink's writer thread.
    std::unique_ptr<Backend> writer;
    // A connection for a request of the HTTP API: a person's write waits for a sync batch
    // rather than failing.
    BackendOpener api;
    // A connection for the daemon's other threads (metrics, a resync over the API).
    BackendOpener plain;
    std::optional<store::DaemonLock> lock; // SQLite
    std::unique_ptr<pg::Leases> leases;    // PostgreSQL
};

// Errors name the database (the path) and what failed; the daemon exits before READY=1.
// `max_accounts` is this worker's cap on a shared database.
[[nodiscard]] Result<DaemonDatabase> open_daemon_database(const settings::DatabaseConfig& cfg,
                                                          std::optional<int> max_accounts);

} // namespace crm::daemon
