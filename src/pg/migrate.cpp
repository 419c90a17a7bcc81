#include "crm/pg/migrate.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <thread>

#include "native.hpp"

namespace crm::pg {

namespace {

// applied_at is the database's clock, like the leases that will be timed by it (issue 17).
constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT "
    "NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())";

bool is_ident(char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

Error migrate_error(std::string detail) {
    return Error{"db.migrate", std::move(detail), ErrorScope::Fatal, Retry::Never};
}

Result<void> check_known(std::span<const Migration> known) {
    for (std::size_t i = 1; i < known.size(); ++i)
        if (known[i].version <= known[i - 1].version)
            return std::unexpected(
                migrate_error(fmt::format("migrations out of order: {} after {}",
                                          migration_file(known[i]), migration_file(known[i - 1]))));
    return {};
}

// Whether schema_migrations exists in the search_path; an error when it exists but is another
// application's (Rails, for one, keeps a schema_migrations(version) of its own).
Result<bool> migrations_table(Connection& c) {
    auto r = c.exec("SELECT to_regclass('schema_migrations') IS NOT NULL, (SELECT count(*) FROM "
                    "pg_attribute WHERE attrelid = to_regclass('schema_migrations') AND attname = "
                    "ANY ('{version,name,checksum,applied_at}'::name[]) AND NOT attisdropped)");
    if (!r)
        return std::unexpected(r.error());
    auto exists = r->get<bool>(0, 0);
    auto columns = r->get<std::int64_t>(0, 1);
    if (!exists || !columns)
        return std::unexpected(!exists ? exists.error() : columns.error());
    if (*exists && *columns != 4)
        return std::unexpected(migrate_error(fmt::format(
            "{}: the table schema_migrations in the search_path is not crm-mail's (it lacks "
            "version, name, checksum or applied_at): give crm-mail a schema of its own "
            "(options=-csearch_path=... in the URL)",
            c.url())));
    return *exists;
}

Result<std::vector<AppliedMigration>> read_applied(Connection& c) {
    auto r = c.exec("SELECT version, name, checksum, extract(epoch FROM applied_at)::bigint FROM "
                    "schema_migrations ORDER BY version");
    if (!r)
        return std::unexpected(r.error());
    std::vector<AppliedMigration> out;
    for (int i = 0; i < r->rows(); ++i) {
        auto version = r->get<std::int32_t>(i, 0);
        auto name = r->get<std::string>(i, 1);
        auto checksum = r->get<std::string>(i, 2);
        auto at = r->get<std::int64_t>(i, 3);
        if (!version || !name || !checksum || !at)
            return std::unexpected(!version    ? version.error()
                                   : !name     ? name.error()
                                   : !checksum ? checksum.error()
                                               : at.error());
        out.push_back({*version, std::move(*name), std::move(*checksum), *at});
    }
    return out;
}

// The session-level advisory lock of migrate(), taken by polling pg_try_advisory_lock rather than
// by a blocking pg_advisory_lock: a session blocked in pg_advisory_lock is inside a statement and
// holds a snapshot, and CREATE INDEX CONCURRENTLY in the lock holder's no-transaction migration
// waits for every older snapshot to end, so the two would wait for each other until the deadlock
// detector killed one. Between two tries a waiting session holds nothing.
class MigrationLock {
  public:
    static Result<MigrationLock> take(Connection& c) {
        const auto deadline = std::chrono::steady_clock::now() + kMigrationLockWait;
        for (;;) {
            auto r = c.exec("SELECT pg_try_advisory_lock($1)", kMigrationLockKey);
            if (!r)
                return std::unexpected(r.error());
            auto got = r->get<bool>(0, 0);
            if (!got)
                return std::unexpected(got.error());
            if (*got)
                return MigrationLock(c);
            if (std::chrono::steady_clock::now() >= deadline)
                return std::unexpected(migrate_error(
                    fmt::format("another process has held the migration lock on {} for more than "
                                "{} s (backend pid {}): is a migration stuck?",
                                c.url(), kMigrationLockWait.count(), holder(c))));
            std::this_thread::sleep_for(kMigrationLockPoll);
        }
    }
    MigrationLock(MigrationLock&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    MigrationLock& operator=(MigrationLock&&) = delete;
    ~MigrationLock() {
        // A lost connection has released it already.
        if (c_ && c_->ok())
            (void)c_->exec("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    }

  private:
    explicit MigrationLock(Connection& c) : c_(&c) {}
    // The pid of the session holding the lock, for the message ("?" when unknown). A bigint key
    // shows in pg_locks as classid (high half), objid (low half) and objsubid 1.
    static std::string holder(Connection& c) {
        auto r = c.exec("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                        "classid::bigint = ($1 >> 32) AND objid::bigint = ($1 & 4294967295) AND "
                        "objsubid = 1 LIMIT 1",
                        kMigrationLockKey);
        if (!r || r->rows() == 0)
            return "?";
        auto pid = r->get<std::int32_t>(0, 0);
        return pid ? std::to_string(*pid) : "?";
    }
    Connection* c_;
};

Result<void> record(Connection& c, const Migration& m) {
    auto r = c.exec("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version, m.name, m.checksum);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<void> apply_in_transaction(Connection& c, const Migration& m) {
    return in_transaction(c, [&]() -> Result<void> {
        if (auto r = c.execute_script(m.sql); !r)
            return r;
        return record(c, m);
    });
}

// One statement at a time, each its own implicit transaction: a multi-statement string is one
// implicit transaction too, and CREATE INDEX CONCURRENTLY refuses to run inside any.
Result<void> apply_outside_transaction(Connection& c, const Migration& m) {
    for (const auto& statement : split_statements(m.sql))
        if (auto r = c.execute_script(statement); !r)
            return r;
    return record(c, m);
}

Error too_new(const Connection& c, const SchemaStatus& st) {
    std::string newest;
    for (const auto& a : st.applied)
        if (a.version == st.database_version)
            newest = fmt::format("{:04}_{}", a.version, a.name);
    return Error{"db.too_new",
                 fmt::format("database {} has schema version {} ({}), this binary knows up to {}; "
                             "upgrade crm-mail",
                             c.url(), st.database_version, newest, st.binary_version),
                 ErrorScope::Fatal, Retry::NeedsConfig};
}

// The status, refused when this binary must not touch the database: it is newer, or an applied
// file differs from ours.
Result<SchemaStatus> usable_status(Connection& c, std::span<const Migration> known) {
    auto st = schema_status(c, known);
    if (!st)
        return st;
    if (st->database_version > st->binary_version)
        return std::unexpected(too_new(c, *st));
    if (!st->problems.empty())
        return fail("db.checksum", c.url() + ": " + st->problems.front(), ErrorScope::Fatal,
                    Retry::NeedsConfig);
    return st;
}

} // namespace

int schema_version(std::span<const Migration> known) {
    return known.empty() ? 0 : known.back().version;
}

bool runs_outside_transaction(const Migration& m) {
    std::string_view first = std::string_view(m.sql).substr(0, m.sql.find('\n'));
    if (first.ends_with('\r'))
        first.remove_suffix(1);
    return trim(first) == kNoTransactionMarker;
}

std::string migration_file(const Migration& m) {
    return fmt::format("schema/postgresql/{:04}_{}.sql", m.version, m.name);
}

std::vector<std::string> split_statements(std::string_view sql) {
    std::vector<std::string> out;
    const std::size_t n = sql.size();
    std::size_t start = 0, i = 0;
    bool code = false; // the current statement has more than blanks and comments
    while (i < n) {
        const char ch = sql[i];
        const char next = i + 1 < n ? sql[i + 1] : '\0';
        if (ch == '-' && next == '-') {
            i = sql.find('\n', i);
            i = i == std::string_view::npos ? n : i;
        } else if (ch == '/' && next == '*') { // block comments nest in PostgreSQL
            int depth = 1;
            for (i += 2; i < n && depth > 0;) {
                if (sql.substr(i, 2) == "/*")
                    ++depth, i += 2;
                else if (sql.substr(i, 2) == "*/")
                    --depth, i += 2;
                else
                    ++i;
            }
        } else if (ch == '\'' || ch == '"') {
            // E'...' takes backslash escapes; '' (or "") inside is the quote itself.
            const bool escapes = ch == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                 (i < 2 || !is_ident(sql[i - 2]));
            for (++i; i < n; ++i) {
                if (escapes && sql[i] == '\\') {
                    ++i;
                } else if (sql[i] == ch) {
                    if (i + 1 < n && sql[i + 1] == ch)
                        ++i;
                    else
                        break;
                }
            }
            ++i;
            code = true;
        } else if (ch == '$' && (i == 0 || !(is_ident(sql[i - 1]) || sql[i - 1] == '$'))) {
            // $tag$ ... $tag$ (a function body); $1 is a parameter, not a quote.
            std::size_t j = i + 1;
            if (j < n && std::isdigit(static_cast<unsigned char>(sql[j])) == 0)
                while (j < n && is_ident(sql[j]))
                    ++j;
            if (j < n && sql[j] == '$') {
                const std::string_view delimiter = sql.substr(i, j - i + 1);
                const std::size_t end = sql.find(delimiter, j + 1);
                i = end == std::string_view::npos ? n : end + delimiter.size();
            } else {
                i = j;
            }
            code = true;
        } else if (ch == ';') {
            if (code)
                out.emplace_back(trim(sql.substr(start, i - start)));
            start = ++i;
            code = false;
        } else {
            code = code || std::isspace(static_cast<unsigned char>(ch)) == 0;
            ++i;
        }
    }
    if (code)
        out.emplace_back(trim(sql.substr(start)));
    return out;
}

Result<SchemaStatus> schema_status(Connection& c, std::span<const Migration> known) {
    if (auto k = check_known(known); !k)
        return std::unexpected(k.error());
    SchemaStatus s;
    s.binary_version = schema_version(known);
    auto exists = migrations_table(c);
    if (!exists)
        return std::unexpected(exists.error());
    if (*exists) {
        auto applied = read_applied(c);
        if (!applied)
            return std::unexpected(applied.error());
        s.applied = std::move(*applied);
    }
    std::map<int, const Migration*> by_version;
    for (const auto& m : known)
        by_version[m.version] = &m;
    for (const auto& a : s.applied) {
        s.database_version = std::max(s.database_version, a.version);
        auto it = by_version.find(a.version);
        if (it == by_version.end())
            s.problems.push_back(fmt::format(
                "migration {} ({:04}_{}) is applied but unknown to this binary (database is newer)",
                a.version, a.version, a.name));
        else if (it->second->checksum != a.checksum)
            s.problems.push_back(fmt::format(
                "migration {} ({}) was applied with checksum {} but this binary has {}; never "
                "edit an applied file, add a new one",
                a.version, migration_file(*it->second), a.checksum, it->second->checksum));
    }
    for (const auto& m : known) {
        bool applied = false;
        for (const auto& a : s.applied)
            applied = applied || a.version == m.version;
        if (!applied)
            s.pending.push_back(m.version);
    }
    return s;
}

Result<std::vector<int>> migrate(Connection& c, std::span<const Migration> known) {
    if (auto k = check_known(known); !k)
        return std::unexpected(k.error());
    auto lock = MigrationLock::take(c);
    if (!lock)
        return std::unexpected(lock.error());
    // Read under the lock: what another process applied while we waited is no longer pending.
    auto st = usable_status(c, known);
    if (!st)
        return std::unexpected(st.error());
    if (auto t = c.exec(kCreateTable); !t)
        return std::unexpected(t.error());
    std::vector<int> applied;
    for (const auto& m : known) {
        if (std::find(st->pending.begin(), st->pending.end(), m.version) == st->pending.end())
            continue;
        const bool outside = runs_outside_transaction(m);
        auto r = outside ? apply_outside_transaction(c, m) : apply_in_transaction(c, m);
        if (!r)
            return std::unexpected(migrate_error(fmt::format(
                "migration {} failed: {}{}", migration_file(m), r.error().detail,
                outside ? "; it runs outside a transaction, so its statements before the failing "
                          "one stay applied, and the next migrate runs it again from its start"
                        : "; nothing of it was applied")));
        applied.push_back(m.version);
    }
    return applied;
}

Result<void> require_current(Connection& c, std::span<const Migration> known) {
    auto st = usable_status(c, known);
    if (!st)
        return std::unexpected(st.error());
    if (!st->pending.empty())
        return fail("db.outdated",
                    fmt::format("database {} is at schema version {}, this binary needs {}: run "
                                "`crm-mailctl db migrate`",
                                c.url(), st->database_version, st->binary_version),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    return {};
}

} // namespace crm::pg
