// The parts of the pg module that need no server: redacting URLs, the SQLSTATE map, and reading
// migration files.

#include <gtest/gtest.h>

#include "crm/pg/errors.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/url.hpp"

namespace crm::pg {
namespace {

struct RedactCase {
    const char* url;
    const char* shown;
    const char* secret; // must not appear in the result
};

TEST(RedactUrl, DropsThePasswordAndKeepsTheRest) {
    const RedactCase cases[] = {
        {"postgresql://crm:s3cret@db.example:5432/crm?sslmode=require",
         "postgresql://crm@db.example:5432/crm?sslmode=require", "s3cret"},
        {"postgres://crm:s3cret@db/crm", "postgres://crm@db/crm", "s3cret"},
        {"postgresql://crm@db/crm", "postgresql://crm@db/crm", nullptr},
        {"postgresql://crm:p%40ss%2Fw@db/crm", "postgresql://crm@db/crm", "p%40ss"},
        // A raw '?' or ':' in the password is user info to libpq (it stops at '@' or '/').
        {"postgresql://crm:pa?ss:wd@db/crm", "postgresql://crm@db/crm", "pa?ss"},
        // A raw '/' is not, but it is still a password.
        {"postgresql://crm:pa/ssw@db/crm", "postgresql://crm@db/crm", "ssw"},
        {"postgresql://crm:@db/crm", "postgresql://crm@db/crm", nullptr},
        {"postgresql://db/crm?user=crm&password=s3cret&sslmode=require",
         "postgresql://db/crm?user=crm&sslmode=require", "s3cret"},
        {"postgresql://db/crm?password=s3cret", "postgresql://db/crm", "s3cret"},
        {"postgresql://db/crm?sslpassword=s3cret&user=x", "postgresql://db/crm?user=x", "s3cret"},
        {"postgresql:///?service=crm-test", "postgresql:///?service=crm-test", nullptr},
        {"postgresql://crm@/crm?host=/run/pg&port=5433",
         "postgresql://crm@/crm?host=/run/pg&port=5433", nullptr},
        {"host=db user=crm password=s3cret dbname=crm", "host=db user=crm dbname=crm", "s3cret"},
        {"host=db password = 's3 cr\\'et' dbname=crm", "host=db dbname=crm", "s3 cr"},
        {"host=db password", "(an unreadable connection string)", "password"},
        {"host=db password='s3cret", "(an unreadable connection string)", "s3cret"},
        {"crm", "crm", nullptr},
    };
    for (const auto& c : cases) {
        const std::string shown = redact_url(c.url);
        EXPECT_EQ(shown, c.shown) << c.url;
        if (c.secret) {
            EXPECT_EQ(shown.find(c.secret), std::string::npos) << c.url;
        }
    }
}

TEST(RedactUrl, ScrubSecretMasksEveryOccurrence) {
    EXPECT_EQ(scrub_secret("a pw b pw", "pw"), "a *** b ***");
    EXPECT_EQ(scrub_secret("nothing", ""), "nothing");
    EXPECT_EQ(scrub_secret("***x", "x"), "******");
}

TEST(ErrorForSqlstate, MapsClassesToScopes) {
    struct Case {
        const char* state;
        const char* code;
        ErrorScope scope;
        Retry retry;
    };
    const Case cases[] = {
        {"23505", "pg.constraint", ErrorScope::Message, Retry::Backoff},
        {"23502", "pg.constraint", ErrorScope::Message, Retry::Backoff},
        {"22001", "pg.data", ErrorScope::Message, Retry::Backoff},
        {"22021", "pg.data", ErrorScope::Message, Retry::Backoff},
        {"40001", "pg.retry", ErrorScope::Mailbox, Retry::Now},
        {"40P01", "pg.retry", ErrorScope::Mailbox, Retry::Now},
        {"57014", "pg.timeout", ErrorScope::Mailbox, Retry::Backoff},
        {"08006", "pg.connection", ErrorScope::Fatal, Retry::Backoff},
        {"57P01", "pg.connection", ErrorScope::Fatal, Retry::Backoff},
        {"", "pg.connection", ErrorScope::Fatal, Retry::Backoff},
        {"28P01", "pg.auth", ErrorScope::Fatal, Retry::NeedsConfig},
        {"42P01", "pg.query", ErrorScope::Fatal, Retry::Never},
        {"53100", "pg.query", ErrorScope::Fatal, Retry::Backoff},
    };
    for (const auto& c : cases) {
        const Error e = error_for_sqlstate(c.state, "detail");
        EXPECT_EQ(e.code, c.code) << c.state;
        EXPECT_EQ(e.scope, c.scope) << c.state;
        EXPECT_EQ(e.retry, c.retry) << c.state;
        EXPECT_EQ(e.detail, "detail");
    }
}

TEST(ErrorForSqlstate, SqlstateOfReadsTheTag) {
    EXPECT_EQ(sqlstate_of(Error{"pg.constraint", "x on y: dup [SQLSTATE 23505]; more"}), "23505");
    EXPECT_EQ(sqlstate_of(Error{"pg.connection", "x on y: gone"}), "");
}

TEST(SplitStatements, SplitsOnlyAtTopLevelSemicolons) {
    struct Case {
        const char* sql;
        std::vector<std::string> statements;
    };
    const Case cases[] = {
        {"SELECT 1; SELECT 2;", {"SELECT 1", "SELECT 2"}},
        {"SELECT 'a;b'; SELECT 'it''s;'", {"SELECT 'a;b'", "SELECT 'it''s;'"}},
        {"SELECT E'a\\';b'; SELECT 2", {"SELECT E'a\\';b'", "SELECT 2"}},
        {"SELECT \"x;\"\"y\" FROM t; SELECT 2", {"SELECT \"x;\"\"y\" FROM t", "SELECT 2"}},
        {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2",
         {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "SELECT 2"}},
        {"DO $body$ BEGIN PERFORM 1; END $body$; SELECT $1",
         {"DO $body$ BEGIN PERFORM 1; END $body$", "SELECT $1"}},
        {"-- a; comment\nSELECT 1; /* b; /* nested; */ c; */ SELECT 2; -- tail;",
         {"-- a; comment\nSELECT 1", "/* b; /* nested; */ c; */ SELECT 2"}},
        {"  ;; -- only comments\n", {}},
    };
    for (const auto& c : cases)
        EXPECT_EQ(split_statements(c.sql), c.statements) << c.sql;
}

TEST(Migrations, NoTransactionMarkerIsTheFirstLineOnly) {
    EXPECT_TRUE(runs_outside_transaction({1, "a", "", "-- crm-mail: no-transaction\nCREATE ..."}));
    EXPECT_TRUE(runs_outside_transaction({1, "a", "", "-- crm-mail: no-transaction\r\nX"}));
    EXPECT_FALSE(
        runs_outside_transaction({1, "a", "", "CREATE ...;\n-- crm-mail: no-transaction"}));
    EXPECT_FALSE(runs_outside_transaction({1, "a", "", "-- crm-mail: no-transactions\n"}));
    EXPECT_EQ(migration_file({7, "add_index", "", ""}), "schema/postgresql/0007_add_index.sql");
}

TEST(Migrations, EmbeddedListIsAscending) {
    const auto& all = known_migrations();
    for (std::size_t i = 1; i < all.size(); ++i)
        EXPECT_LT(all[i - 1].version, all[i].version);
    EXPECT_EQ(schema_version(), all.empty() ? 0 : all.back().version);
    for (const auto& m : all)
        EXPECT_EQ(m.checksum.size(), 64u) << migration_file(m);
}

} // namespace
} // namespace crm::pg
