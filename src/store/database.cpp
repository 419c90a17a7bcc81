#include "crm/store/database.hpp"

#include <chrono>
#include <map>

#include <sqlite3.h>

#include "checkpointer.hpp"
#include "crm/core/clock.hpp"
#include "impl.hpp"
#include "search_tokenizer.hpp"

namespace crm::store {

namespace {

void ensure_migrations_table(SQLite::Database& db) {
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
            " applied_at INTEGER NOT NULL)");
}

std::vector<AppliedMigration> read_applied(SQLite::Database& db) {
    std::vector<AppliedMigration> out;
    SQLite::Statement q(db, "SELECT version, name, checksum, applied_at FROM schema_migrations "
                            "ORDER BY version");
    while (q.executeStep())
        out.push_back({q.getColumn(0).getInt(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getInt64()});
    return out;
}

} // namespace

int schema_version() {
    const auto& all = known_migrations();
    return all.empty() ? 0 : all.back().version;
}

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

const std::string& Database::path() const { return impl_->path; }

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenOptions opts) {
    // Before SQLite's first use in the process: no global memory statistics, which take a
    // process-wide mutex around every allocation SQLite makes (and the sync's writer, its
    // checkpointer and the HTTP API allocate at once). Nothing here reads them. SQLITE_MISUSE
    // if SQLite was already initialised: then it keeps counting, which is only slower.
    static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)memstatus_off;
    try {
        int flags = SQLite::OPEN_READWRITE | SQLite::OPEN_FULLMUTEX;
        if (opts.create)
            flags |= SQLite::OPEN_CREATE;
        auto impl = std::make_unique<Impl>(path, flags);
        impl->db.setBusyTimeout(opts.busy_timeout_ms);
        // The full-text index's tokenizer (schema/0014): before anything touches the index.
        if (!register_search_tokenizer(impl->db.getHandle()))
            return fail("db.open",
                        "cannot open database " + path +
                            ": this SQLite has no FTS5 (full-text search), which crm-mail needs",
                        ErrorScope::Fatal, Retry::NeedsConfig);
        impl->db.exec("PRAGMA foreign_keys = ON");
        // Larger pages suit the raw messages and bodies we keep (only effective when the file
        // is created); a 32 MB page cache keeps the indexes hot during imports.
        impl->db.exec("PRAGMA page_size = 8192");
        impl->db.exec("PRAGMA cache_size = -32768");
        impl->db.exec("PRAGMA temp_store = MEMORY");
        // WAL: readers (the CRM application, the HTTP API) never block the syncing writer.
        SQLite::Statement wal(impl->db, "PRAGMA journal_mode = WAL");
        wal.executeStep();
        impl->db.exec("PRAGMA synchronous = NORMAL");
        if (!opts.autocheckpoint)
            impl->db.exec("PRAGMA wal_autocheckpoint = 0");
        return std::unique_ptr<Database>(new Database(std::move(impl)));
    } catch (const std::exception& e) {
        return fail("db.open", "cannot open database " + path + ": " + e.what(), ErrorScope::Fatal,
                    Retry::NeedsConfig);
    }
}

bool Database::begin_bulk() {
    try {
        SQLite::Statement q(impl_->db, "PRAGMA journal_mode = DELETE");
        return q.executeStep() && q.getColumn(0).getString() == "delete";
    } catch (const std::exception&) {
        return false; // busy: another connection is open; WAL stays
    }
}

void Database::end_bulk() {
    try {
        // Finalize cached statements first: a pending read would keep the journal mode.
        impl_->cache.clear();
        SQLite::Statement q(impl_->db, "PRAGMA journal_mode = WAL");
        q.executeStep();
    } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): the next open sets WAL
    }
}

Result<SchemaStatus> Database::status() {
    try {
        auto& db = impl_->db;
        SchemaStatus s;
        s.binary_version = schema_version();
        {
            SQLite::Statement jm(db, "PRAGMA journal_mode");
            if (jm.executeStep())
                s.journal_mode = jm.getColumn(0).getString();
        }
        if (db.tableExists("schema_migrations"))
            s.applied = read_applied(db);
        std::map<int, const Migration*> known;
        for (const auto& m : known_migrations())
            known[m.version] = &m;
        for (const auto& a : s.applied) {
            s.database_version = std::max(s.database_version, a.version);
            auto it = known.find(a.version);
            if (it == known.end())
                s.problems.push_back(fmt::format(
                    "migration {} ({}) is applied but unknown to this binary (database is newer)",
                    a.version, a.name));
            else if (it->second->checksum != a.checksum)
                s.problems.push_back(fmt::format(
                    "migration {} ({}) was applied with checksum {} but this binary has {}",
                    a.version, a.name, a.checksum, it->second->checksum));
        }
        for (const auto& [v, m] : known) {
            bool applied = false;
            for (const auto& a : s.applied)
                applied = applied || a.version == v;
            if (!applied)
                s.pending.push_back(v);
        }
        return s;
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("reading schema status of " + impl_->path, e));
    }
}

Result<std::vector<int>> Database::migrate() {
    auto st = status();
    if (!st)
        return std::unexpected(st.error());
    if (st->database_version > st->binary_version)
        return fail("db.too_new",
                    fmt::format("database {} has schema version {}, this binary knows up to {}; "
                                "upgrade crm-mail",
                                impl_->path, st->database_version, st->binary_version),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    if (!st->problems.empty())
        return fail("db.checksum", impl_->path + ": " + st->problems.front(), ErrorScope::Fatal,
                    Retry::NeedsConfig);
    std::vector<int> applied;
    try {
        auto& db = impl_->db;
        ensure_migrations_table(db);
        for (const auto& m : known_migrations()) {
            bool pending = false;
            for (int v : st->pending)
                pending = pending || v == m.version;
            if (!pending)
                continue;
            SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
            // Another process may have applied it while we waited for the write lock.
            SQLite::Statement again(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
            again.bind(1, m.version);
            if (again.executeStep())
                continue;
            try {
                db.exec(m.sql);
            } catch (const std::exception& e) {
                return fail("db.migrate",
                            fmt::format("migration {:04}_{} failed: {}", m.version, m.name,
                                        e.what()),
                            ErrorScope::Fatal, Retry::Never);
            }
            SQLite::Statement rec(db, "INSERT INTO schema_migrations (version, name, checksum, "
                                      "applied_at) VALUES (?, ?, ?, ?)");
            rec.bind(1, m.version);
            rec.bind(2, m.name);
            rec.bind(3, m.checksum);
            rec.bind(4, system_clock().now());
            rec.exec();
            tx.commit();
            applied.push_back(m.version);
        }
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("migrating " + impl_->path, e));
    }
    return applied;
}

Result<void> Database::require_current() {
    auto st = status();
    if (!st)
        return std::unexpected(st.error());
    if (st->database_version > st->binary_version)
        return fail("db.too_new",
                    fmt::format("database {} has schema version {}, this binary knows up to {}",
                                impl_->path, st->database_version, st->binary_version),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    if (!st->problems.empty())
        return fail("db.checksum", impl_->path + ": " + st->problems.front(), ErrorScope::Fatal,
                    Retry::NeedsConfig);
    if (!st->pending.empty())
        return fail("db.outdated",
                    fmt::format("database {} is at schema version {}, run `crm-mailctl db migrate`",
                                impl_->path, st->database_version),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    return {};
}

void Database::release_snapshots() noexcept {
    // tryReset: a statement whose last step failed reports that error again on reset; here it
    // only has to end its read, never throw.
    for (auto& [sql, stmt] : impl_->cache)
        (void)stmt->tryReset();
}

Database::Transaction::Transaction(Database& db) : db_(db) {
    // A cached statement stepped once and left unreset keeps a read snapshot open; in WAL mode
    // a write from such a stale snapshot fails with SQLITE_BUSY_SNAPSHOT ("database is locked")
    // as soon as another process (crm-mailctl, the CRM app) has written. Release them all first.
    db_.release_snapshots();
    if (db_.impl_->checkpointer)
        db_.impl_->checkpointer->before_write();
    db_.impl_->db.exec("BEGIN IMMEDIATE");
}

Database::Transaction::~Transaction() {
    if (!done_) {
        try {
            db_.impl_->db.exec("ROLLBACK");
        } catch (...) { // NOLINT(bugprone-empty-catch): nothing to do in a destructor
        }
    }
}

Result<void> Database::Transaction::commit() {
    try {
        db_.impl_->db.exec("COMMIT");
        done_ = true;
        return {};
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("commit", e));
    }
}

Database::Savepoint::Savepoint(Database& db) : db_(db) { db_.impl_->db.exec("SAVEPOINT crm_item"); }

Database::Savepoint::~Savepoint() {
    if (!done_) {
        try {
            db_.impl_->db.exec("ROLLBACK TO crm_item");
            db_.impl_->db.exec("RELEASE crm_item");
        } catch (...) { // NOLINT(bugprone-empty-catch): nothing to do in a destructor
        }
    }
}

Result<void> Database::Savepoint::release() {
    try {
        db_.impl_->db.exec("RELEASE crm_item");
        done_ = true;
        return {};
    } catch (const std::exception& e) {
        return std::unexpected(sql_error("release savepoint", e));
    }
}

} // namespace crm::store
