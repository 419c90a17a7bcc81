// The PostgreSQL migration runner against a real server, with migration sets of the tests' own
// (schema/postgresql/ is written separately).

#include <atomic>
#include <barrier>
#include <map>
#include <thread>

#include "crm/pg/migrate.hpp"
#include "pg_test_support.hpp"

namespace crm::pg {
namespace {

using test::PgTest;

// A migration whose checksum stands for its text (the runner only compares checksums).
Migration m(int version, std::string name, std::string sql) {
    std::string checksum = fmt::format("{:064x}", std::hash<std::string>{}(sql));
    return Migration{version, std::move(name), std::move(checksum), std::move(sql)};
}

std::vector<Migration> base_set() {
    return {
        m(1, "accounts", "CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL);"),
        m(2, "seed",
          "INSERT INTO accounts (name) VALUES ('first');\n"
          "INSERT INTO accounts (name) VALUES ('second');"),
    };
}

TEST_F(PgTest, MigrateAppliesOnceThenIsANoOp) {
    const auto set = base_set();
    auto first = migrate(db(), set);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(*first, (std::vector<int>{1, 2}));
    auto second = migrate(db(), set);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_TRUE(second->empty());
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM accounts"), 2);
    EXPECT_TRUE(require_current(db(), set));

    auto st = schema_status(db(), set);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->database_version, 2);
    EXPECT_EQ(st->binary_version, 2);
    EXPECT_TRUE(st->pending.empty());
    EXPECT_TRUE(st->problems.empty());
    ASSERT_EQ(st->applied.size(), 2u);
    EXPECT_EQ(st->applied[1].name, "seed");
    EXPECT_EQ(st->applied[1].checksum, set[1].checksum);
    EXPECT_GT(st->applied[1].applied_at, 1700000000);

    // A later binary with one more file applies just that one.
    auto next = set;
    next.push_back(m(3, "more", "ALTER TABLE accounts ADD COLUMN note text;"));
    auto third = migrate(db(), next);
    ASSERT_TRUE(third) << third.error().to_string();
    EXPECT_EQ(*third, std::vector<int>{3});
}

TEST_F(PgTest, EditedMigrationIsRefused) {
    auto set = base_set();
    ASSERT_TRUE(migrate(db(), set));
    set[1] = m(2, "seed", "INSERT INTO accounts (name) VALUES ('edited');");
    const std::string applied_sum = base_set()[1].checksum;
    auto r = migrate(db(), set);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.checksum");
    EXPECT_EQ(r.error().retry, Retry::NeedsConfig);
    const std::string& d = r.error().detail;
    EXPECT_NE(d.find(db().url()), std::string::npos) << d;
    EXPECT_NE(d.find("schema/postgresql/0002_seed.sql"), std::string::npos) << d;
    EXPECT_NE(d.find(applied_sum), std::string::npos) << d;
    EXPECT_NE(d.find(set[1].checksum), std::string::npos) << d;
    EXPECT_EQ(require_current(db(), set).error().code, "db.checksum");
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM accounts"), 2) << "nothing re-run";
}

TEST_F(PgTest, NewerDatabaseIsRefused) {
    auto newer = base_set();
    newer.push_back(m(3, "future", "CREATE TABLE future (id int);"));
    ASSERT_TRUE(migrate(db(), newer));
    const auto older = base_set();
    auto r = migrate(db(), older);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.too_new");
    const std::string& d = r.error().detail;
    EXPECT_NE(d.find(db().url()), std::string::npos) << d;
    EXPECT_NE(d.find("schema version 3 (0003_future)"), std::string::npos) << d;
    EXPECT_NE(d.find("knows up to 2"), std::string::npos) << d;
    EXPECT_EQ(require_current(db(), older).error().code, "db.too_new");
}

TEST_F(PgTest, OutdatedDatabaseIsReportedByRequireCurrent) {
    auto set = base_set();
    ASSERT_TRUE(migrate(db(), std::span<const Migration>(set).first(1)));
    auto r = require_current(db(), set);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.outdated");
    EXPECT_NE(r.error().detail.find("schema version 1, this binary needs 2"), std::string::npos)
        << r.error().detail;
}

TEST_F(PgTest, FailedMigrationLeavesNothingOfItself) {
    auto set = base_set();
    set.push_back(m(3, "broken", "CREATE TABLE half (id int);\nSELECT 1 / 0;"));
    auto r = migrate(db(), set);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.migrate");
    EXPECT_NE(r.error().detail.find("schema/postgresql/0003_broken.sql"), std::string::npos)
        << r.error().detail;
    EXPECT_NE(r.error().detail.find("division by zero"), std::string::npos) << r.error().detail;
    EXPECT_FALSE(value<bool>("SELECT to_regclass('half') IS NOT NULL"));
    EXPECT_EQ(value<std::int64_t>("SELECT max(version) FROM schema_migrations"), 2);
}

TEST_F(PgTest, NoTransactionMigrationRunsConcurrentIndexBuilds) {
    auto set = base_set();
    const std::string cic = "CREATE INDEX CONCURRENTLY accounts_name ON accounts (name);";
    // Without the marker, PostgreSQL refuses: the file would run inside a transaction.
    auto without = set;
    without.push_back(m(3, "index", cic));
    auto refused = migrate(db(), without);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("cannot run inside a transaction block"),
              std::string::npos)
        << refused.error().detail;

    set.push_back(m(3, "index",
                    "-- crm-mail: no-transaction\n"
                    "-- A failed build leaves an invalid index: drop it before building again.\n"
                    "DROP INDEX CONCURRENTLY IF EXISTS accounts_name;\n" +
                        cic +
                        "\nCREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_id_name ON "
                        "accounts (id, name);"));
    auto r = migrate(db(), set);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, (std::vector<int>{3}));
    EXPECT_EQ(value<std::int64_t>(
                  "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE "
                  "c.relname IN ('accounts_name', 'accounts_id_name') AND c.relnamespace = "
                  "current_schema()::regnamespace AND i.indisvalid"),
              2);
    EXPECT_TRUE(require_current(db(), set));
}

TEST_F(PgTest, ConcurrentMigratorsApplyEachVersionExactlyOnce) {
    // Not idempotent on purpose: a second run of 1 or 2 would fail, and 3's counter would be 2.
    const std::vector<Migration> set = {
        m(1, "table", "CREATE TABLE runs (version int NOT NULL);"),
        m(2, "slow", "INSERT INTO runs VALUES (2); SELECT pg_sleep(0.3);"),
        m(3, "index",
          "-- crm-mail: no-transaction\nINSERT INTO runs VALUES (3);\n"
          "CREATE INDEX CONCURRENTLY runs_version ON runs (version);"),
        m(4, "last", "INSERT INTO runs VALUES (4);"),
    };
    constexpr int kWorkers = 4;
    std::vector<Connection> conns;
    for (int i = 0; i < kWorkers; ++i) {
        auto c = connect();
        ASSERT_TRUE(c) << c.error().to_string();
        conns.push_back(std::move(*c));
    }
    std::barrier start(kWorkers);
    std::vector<Result<std::vector<int>>> results(kWorkers, std::vector<int>{});
    std::vector<std::thread> threads;
    for (int i = 0; i < kWorkers; ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            results[static_cast<std::size_t>(i)] = migrate(conns[static_cast<std::size_t>(i)], set);
        });
    for (auto& t : threads)
        t.join();
    std::map<int, int> times_applied;
    for (const auto& r : results) {
        ASSERT_TRUE(r) << r.error().to_string();
        for (int v : *r)
            ++times_applied[v];
    }
    EXPECT_EQ(times_applied, (std::map<int, int>{{1, 1}, {2, 1}, {3, 1}, {4, 1}}));
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM schema_migrations"), 4);
    auto r = db().exec("SELECT string_agg(version::text, ',' ORDER BY version) FROM runs");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->get<std::string>(0, 0), "2,3,4");
}

TEST_F(PgTest, MigrateWaitsForTheAdvisoryLock) {
    auto holder = connect();
    ASSERT_TRUE(holder);
    // Taken as migrate() takes it, by polling: another test process may be migrating right now,
    // and a session blocked inside pg_advisory_lock() would deadlock with its CREATE INDEX
    // CONCURRENTLY, which waits for every open transaction (the server then cancels this one).
    bool locked = false;
    for (int i = 0; i < 1200 && !locked; ++i) {
        auto r = holder->exec("SELECT pg_try_advisory_lock($1)", kMigrationLockKey);
        ASSERT_TRUE(r) << r.error().to_string();
        locked = *r->get<bool>(0, 0);
        if (!locked)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(locked) << "another migrator held the lock for a minute";
    std::atomic<bool> done{false};
    Result<std::vector<int>> result = std::vector<int>{};
    const auto set = base_set();
    std::thread t([&] {
        result = migrate(db(), set);
        done = true;
    });
    // Generous: the migrator must still be waiting well after it would have finished.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_FALSE(done.load()) << "migrate() ran while another session held the lock";
    ASSERT_TRUE(holder->exec("SELECT pg_advisory_unlock($1)", kMigrationLockKey));
    t.join();
    ASSERT_TRUE(result) << result.error().to_string();
    EXPECT_EQ(*result, (std::vector<int>{1, 2}));
    // And it let go of the lock when it finished (asked of pg_locks by its pid: another test
    // process may be migrating in the same database right now).
    auto held =
        holder->exec("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1",
                     db().backend_pid());
    ASSERT_TRUE(held) << held.error().to_string();
    EXPECT_EQ(*held->get<std::int64_t>(0, 0), 0);
}

TEST_F(PgTest, AnotherApplicationsMigrationsTableIsRefused) {
    // Rails keeps schema_migrations(version varchar) in the same database.
    ASSERT_TRUE(
        db().execute_script("CREATE TABLE schema_migrations (version varchar PRIMARY KEY)"));
    auto r = migrate(db(), base_set());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.migrate");
    EXPECT_NE(r.error().detail.find("is not crm-mail's"), std::string::npos) << r.error().detail;
}

TEST_F(PgTest, EmbeddedMigrationsApplyToAnEmptySchema) {
    // schema/postgresql/ may hold no file yet: then this applies nothing and is current at 0.
    auto r = migrate(db());
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->size(), known_migrations().size());
    EXPECT_TRUE(require_current(db()));
    auto st = schema_status(db());
    ASSERT_TRUE(st);
    EXPECT_EQ(st->database_version, schema_version());
}

} // namespace
} // namespace crm::pg
