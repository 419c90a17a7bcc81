#pragma once
// The SQLite database: connection with WAL, foreign keys and busy timeout; forward-only,
// checksummed migrations embedded in the binary (schema/NNNN_name.sql); RAII transactions.
// A Database is used from one thread at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/result.hpp"

namespace crm::store {

struct Migration {
    int version = 0;
    std::string name;
    std::string checksum; // SHA-256 of the file, computed at build time
    std::string sql;
};

// The migrations this binary knows, ascending.
[[nodiscard]] const std::vector<Migration>& known_migrations();
[[nodiscard]] int schema_version(); // highest known version (kSchemaVersion)

struct AppliedMigration {
    int version = 0;
    std::string name;
    std::string checksum;
    std::int64_t applied_at = 0;
};

struct SchemaStatus {
    int database_version = 0; // highest applied
    int binary_version = 0;   // highest known
    std::vector<AppliedMigration> applied;
    std::vector<int> pending;
    std::vector<std::string> problems; // checksum mismatches, unknown versions
    std::string journal_mode;
};

struct OpenOptions {
    bool create = true;
    int busy_timeout_ms = 5000;
    // false: this connection never checkpoints the WAL after its commits (another one does,
    // see checkpoint_in_background), so a commit never turns into a copy of the whole log.
    bool autocheckpoint = true;
};

class Database {
  public:
    // Opens (and creates) the database file and sets the pragmas. Errors: "db.open".
    static Result<std::unique_ptr<Database>> open(const std::string& path, OpenOptions opts = {});
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Applies every pending migration, each in its own transaction, recording it in
    // schema_migrations. Refuses a database newer than this binary ("db.too_new") or one whose
    // applied files differ from ours ("db.checksum"). Returns the versions applied.
    Result<std::vector<int>> migrate();
    Result<SchemaStatus> status();
    // Ok when the schema is exactly what this binary expects (after migrate()).
    Result<void> require_current();

    const std::string& path() const;

    // Resets every cached statement: a statement stepped once and left unreset keeps a read
    // snapshot open, so a long-lived connection would keep seeing old data. Call between
    // requests on pooled connections.
    void release_snapshots() noexcept;

    // Bulk loading: when no other connection has the database open, switch to a rollback
    // journal so appended pages are written once (WAL writes them twice: log, then checkpoint).
    // Returns false (and stays in WAL) when others are connected. end_bulk() returns to WAL.
    bool begin_bulk();
    void end_bulk();

    // Moves WAL checkpoints off this connection's thread: from now on a background thread with
    // its own connection copies committed pages from the WAL into the database file (a passive
    // checkpoint, which never blocks this writer or readers) whenever a commit leaves at least
    // `wal_pages` pages in the WAL, instead of the committing thread doing it inline. The WAL
    // still rewinds once a checkpoint has caught up; the thread also checkpoints every 30 s for
    // connections opened with autocheckpoint = false. For the daemon, whose event loop commits
    // every sync batch. Errors: "db.open" when the second connection cannot be opened.
    Result<void> checkpoint_in_background(int wal_pages = 1000);

    // RAII transaction: rolls back unless commit() succeeded. BEGIN IMMEDIATE, so writers
    // queue on the busy timeout instead of failing on upgrade.
    class Transaction {
      public:
        explicit Transaction(Database& db);
        ~Transaction();
        Transaction(const Transaction&) = delete;
        Transaction& operator=(const Transaction&) = delete;
        Result<void> commit();

      private:
        Database& db_;
        bool done_ = false;
    };

    // RAII savepoint inside a transaction: rolls back to itself unless released, so one
    // message's partial writes never survive its failure while the batch goes on.
    class Savepoint {
      public:
        explicit Savepoint(Database& db);
        ~Savepoint();
        Savepoint(const Savepoint&) = delete;
        Savepoint& operator=(const Savepoint&) = delete;
        Result<void> release();

      private:
        Database& db_;
        bool done_ = false;
    };

    struct Impl;
    Impl& impl() { return *impl_; }

  private:
    explicit Database(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace crm::store
