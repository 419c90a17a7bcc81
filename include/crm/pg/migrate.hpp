#pragma once
// Forward-only, checksummed migrations for PostgreSQL (schema/postgresql/NNNN_name.sql), the
// counterpart of store's runner for SQLite (crm/store/database.hpp), with the same messages and
// error codes ("db.too_new", "db.checksum", "db.outdated", "db.migrate").
//
// - Each file runs in its own transaction and is recorded in the same transaction in
//   schema_migrations(version, name, checksum, applied_at).
// - A file whose first line is exactly kNoTransactionMarker runs outside a transaction, one
//   statement at a time (CREATE INDEX CONCURRENTLY cannot run in one), and is recorded after its
//   last statement. Such a file must be safe to run again after a failure part way (IF NOT EXISTS;
//   DROP INDEX CONCURRENTLY IF EXISTS before CREATE INDEX CONCURRENTLY, since a failed build
//   leaves an invalid index behind).
// - migrate() holds a session advisory lock (kMigrationLockKey) from reading the status to the
//   last file, so daemons and crm-mailctl started together apply each file exactly once.

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

struct Migration {
    int version = 0;
    std::string name;
    std::string checksum; // SHA-256 of the file, computed at build time
    std::string sql;
};

inline constexpr std::string_view kNoTransactionMarker = "-- crm-mail: no-transaction";

// The key of pg_advisory_lock(bigint) taken by migrate(): "crm-mail" in ASCII, so that it does
// not collide with the small integers other applications sharing the database tend to use.
inline constexpr std::int64_t kMigrationLockKey = 0x63726d2d6d61696c;
// How long migrate() waits for another process's migration before giving up, and how often it
// asks in the meantime (see migrate.cpp: it polls rather than blocks).
inline constexpr std::chrono::seconds kMigrationLockWait{600};
inline constexpr std::chrono::milliseconds kMigrationLockPoll{100};

// The migrations embedded in this binary from schema/postgresql/, ascending; empty when there are
// none.
[[nodiscard]] const std::vector<Migration>& known_migrations();
// The highest version in `known` (0 for none).
[[nodiscard]] int schema_version(std::span<const Migration> known = known_migrations());
// True when the file's first line is kNoTransactionMarker.
[[nodiscard]] bool runs_outside_transaction(const Migration& m);
// The file a migration came from, for messages: "schema/postgresql/0003_name.sql".
[[nodiscard]] std::string migration_file(const Migration& m);
// Splits a script into its statements at top-level ';' (outside quotes, dollar quotes and
// comments); empty statements are dropped.
[[nodiscard]] std::vector<std::string> split_statements(std::string_view sql);

struct AppliedMigration {
    int version = 0;
    std::string name;
    std::string checksum;
    std::int64_t applied_at = 0; // Unix seconds, the database's clock
};

struct SchemaStatus {
    int database_version = 0; // highest applied
    int binary_version = 0;   // highest known
    std::vector<AppliedMigration> applied;
    std::vector<int> pending;
    std::vector<std::string> problems; // checksum mismatches, unknown versions
};

// What is applied and what is pending, read from schema_migrations (in the connection's
// search_path) without taking the lock. Errors: "db.migrate" when schema_migrations exists but
// is not crm-mail's (another application's table of that name), and those of Connection::exec.
[[nodiscard]] Result<SchemaStatus>
schema_status(Connection& c, std::span<const Migration> known = known_migrations());

// Applies every pending migration of `known` (ascending), under the advisory lock. Refuses a
// database newer than `known` ("db.too_new") or whose applied files differ from them
// ("db.checksum"), naming the URL, the versions and the file. Returns the versions it applied
// (none when another process applied them first). Errors: "db.migrate" (a file failed: nothing
// of it is kept, except for no-transaction files; or the lock was held past kMigrationLockWait).
Result<std::vector<int>> migrate(Connection& c,
                                 std::span<const Migration> known = known_migrations());

// Ok when the schema is exactly `known` (after migrate()): what a daemon checks before it starts.
// Errors: "db.too_new", "db.checksum", "db.outdated".
Result<void> require_current(Connection& c, std::span<const Migration> known = known_migrations());

} // namespace crm::pg
