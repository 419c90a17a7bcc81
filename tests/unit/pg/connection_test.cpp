// Connection, statements, typed results, transactions and savepoints against a real server.

#include <limits>
#include <random>

#include "crm/pg/errors.hpp"
#include "crm/pg/pipeline.hpp"
#include "crm/pg/url.hpp"
#include "pg_test_support.hpp"

namespace crm::pg {
namespace {

using test::PgTest;

// The test server's address over TCP, as a URL with `password` in it.
std::string tcp_url_with_password(Connection& c, std::string_view password) {
    auto r = c.exec("SELECT host(inet_server_addr()), inet_server_port(), current_user, "
                    "current_database()");
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r)
        return {};
    return fmt::format("postgresql://{}:{}@{}:{}/{}", *r->get<std::string>(0, 2), password,
                       *r->get<std::string>(0, 0), *r->get<std::int32_t>(0, 1),
                       *r->get<std::string>(0, 3));
}

TEST_F(PgTest, WrongPasswordNamesTheUrlButNeverThePassword) {
    constexpr std::string_view kWrong = "Wr0ng-Secret-4711";
    const std::string url = tcp_url_with_password(db(), kWrong);
    ASSERT_FALSE(url.empty());
    const std::string shown = redact_url(url);
    ASSERT_EQ(shown.find(kWrong), std::string::npos);

    auto c = Connection::connect(url);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "pg.auth");
    EXPECT_EQ(c.error().retry, Retry::NeedsConfig);
    EXPECT_NE(c.error().detail.find(shown), std::string::npos) << c.error().detail;
    EXPECT_NE(c.error().detail.find("password authentication failed"), std::string::npos)
        << c.error().detail;
    EXPECT_EQ(c.error().detail.find(kWrong), std::string::npos) << c.error().detail;

    // The same password given through the options (password_file, password_env) instead.
    ConnectOptions opts;
    opts.password = std::string(kWrong);
    auto c2 = Connection::connect(shown, opts);
    ASSERT_FALSE(c2);
    EXPECT_EQ(c2.error().code, "pg.auth");
    EXPECT_EQ(c2.error().detail.find(kWrong), std::string::npos) << c2.error().detail;
}

TEST_F(PgTest, MalformedUrlDoesNotQuoteThePassword) {
    // libpq quotes the bad percent-encoded part in its message: here, the password.
    auto c = Connection::connect("postgresql://crm:bad%zzsecret@127.0.0.1:1/crm");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "pg.url");
    EXPECT_NE(c.error().detail.find("postgresql://crm@127.0.0.1:1/crm"), std::string::npos)
        << c.error().detail;
    EXPECT_EQ(c.error().detail.find("zzsecret"), std::string::npos) << c.error().detail;
}

TEST_F(PgTest, UnreachableServerIsAConnectErrorToRetry) {
    ConnectOptions opts;
    opts.connect_timeout = std::chrono::seconds(2);
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    auto c = Connection::connect("postgresql://crm:pw-never-shown@127.0.0.1:1/crm", opts);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "pg.connect");
    EXPECT_EQ(c.error().retry, Retry::Backoff);
    EXPECT_NE(c.error().detail.find("postgresql://crm@127.0.0.1:1/crm"), std::string::npos)
        << c.error().detail;
    EXPECT_EQ(c.error().detail.find("pw-never-shown"), std::string::npos);
}

TEST_F(PgTest, ParametersRoundTrip) {
    const std::string text = "tab\there \"quoted\" back\\slash 'single' Grüße ✓";
    auto r = db().exec("SELECT $1::bigint, $2::bigint, $3::float8, $4::text, $5::bool, $6::int, "
                       "$7::text, $8::float8",
                       std::numeric_limits<std::int64_t>::min(),
                       std::numeric_limits<std::int64_t>::max(), 0.1, text, true, 42, std::string(),
                       -1.5e300);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->rows(), 1);
    EXPECT_EQ(*r->get<std::int64_t>(0, 0), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(*r->get<std::int64_t>(0, 1), std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(*r->get<double>(0, 2), 0.1); // exact: the shortest text that reads back the same
    EXPECT_EQ(*r->get<std::string>(0, 3), text);
    EXPECT_TRUE(*r->get<bool>(0, 4));
    EXPECT_EQ(*r->get<std::int32_t>(0, 5), 42);
    EXPECT_FALSE(r->is_null(0, 6)); // an empty string is not NULL
    EXPECT_EQ(*r->get<std::string>(0, 6), "");
    EXPECT_EQ(*r->get<double>(0, 7), -1.5e300);
    EXPECT_EQ(*r->column("int8"), 0);
}

// libpq reads text parameters as C strings, ignoring their lengths: a borrowed view into a larger
// buffer must still send exactly its own bytes, and a NUL inside one is refused, never cut short.
TEST_F(PgTest, TextParametersSendExactlyTheirBytesAndRefuseNul) {
    const std::string buffer = "alpha-beta-gamma";
    const std::string_view middle = std::string_view(buffer).substr(6, 4); // "beta", no NUL after
    auto r = db().exec("SELECT $1::text, length($1::text)", middle);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r->get<std::string>(0, 0), "beta");
    EXPECT_EQ(*r->get<std::int64_t>(0, 1), 4);

    const std::string with_nul("ab\0cd", 5);
    auto refused = db().exec("SELECT $1::text", std::string_view(with_nul));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "pg.data");
    EXPECT_NE(refused.error().detail.find("$1 contains a NUL byte"), std::string::npos)
        << refused.error().detail;
    EXPECT_EQ(refused.error().scope, ErrorScope::Message);
    // The connection is fine afterwards: nothing was sent.
    EXPECT_EQ(value<std::int64_t>("SELECT 1"), 1);
}

TEST_F(PgTest, ByteaRoundTripsAnyBytes) {
    ASSERT_TRUE(
        db().execute_script("CREATE TABLE blobs (id int PRIMARY KEY, data bytea NOT NULL)"));
    std::string all_bytes;
    for (int i = 0; i < 256; ++i)
        all_bytes += static_cast<char>(i);
    std::string nuls("\0a\0\0b\0", 6);
    std::string big(1024 * 1024, '\0');
    std::mt19937 rng(17);
    for (auto& ch : big)
        ch = static_cast<char>(rng() & 0xff);
    const std::string* values[] = {&all_bytes, &nuls, &big};
    for (int i = 0; i < 3; ++i) {
        auto ins = db().exec("INSERT INTO blobs VALUES ($1, $2)", i, Param::bytea(*values[i]));
        ASSERT_TRUE(ins) << ins.error().to_string();
        EXPECT_EQ(ins->affected(), 1);
    }
    auto r = db().exec("SELECT id, data, length(data) FROM blobs ORDER BY id");
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->rows(), 3);
    for (int i = 0; i < 3; ++i) {
        // The server stored every byte (a NUL did not end the value)...
        EXPECT_EQ(*r->get<std::int32_t>(i, 2), static_cast<std::int32_t>(values[i]->size()));
        // ...and we read them back unchanged.
        auto data = r->get<Bytea>(i, 1);
        ASSERT_TRUE(data) << data.error().to_string();
        EXPECT_TRUE(data->bytes == *values[i]) << "row " << i;
    }
    // bytea is not text: reading it as a string would give its hex form.
    auto as_text = r->get<std::string>(0, 1);
    ASSERT_FALSE(as_text);
    EXPECT_EQ(as_text.error().code, "pg.type");
}

TEST_F(PgTest, NullsAreOptionalsAndNamedErrors) {
    std::optional<std::string> none;
    std::optional<std::int64_t> seven = 7;
    auto r = db().exec("SELECT NULL::bigint AS missing, $1::text AS none, $2::bigint AS seven, "
                       "$3::text AS explicit_null",
                       none, seven, std::nullopt);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(r->is_null(0, 0));
    EXPECT_TRUE(r->is_null(0, 1));
    EXPECT_TRUE(r->is_null(0, 3));
    EXPECT_EQ(*r->get<std::optional<std::int64_t>>(0, 0), std::nullopt);
    EXPECT_EQ(*r->get<std::optional<std::string>>(0, 1), std::nullopt);
    EXPECT_EQ(*r->get<std::optional<std::int64_t>>(0, 2), 7);
    auto missing = r->get<std::int64_t>(0, 0);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "pg.null");
    EXPECT_NE(missing.error().detail.find("column 0 (missing) is NULL"), std::string::npos)
        << missing.error().detail;
    // NULL is checked after the type: a NULL text is still not an int64.
    EXPECT_EQ(r->get<std::optional<std::int64_t>>(0, 1).error().code, "pg.type");
}

TEST_F(PgTest, TypeMismatchAndBoundsAreErrors) {
    auto r = db().exec("SELECT 'abc'::text, 1.5::float8, 3000000000::bigint");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->get<std::int64_t>(0, 0).error().code, "pg.type");
    EXPECT_EQ(r->get<Bytea>(0, 0).error().code, "pg.type");
    EXPECT_EQ(r->get<std::int64_t>(0, 1).error().code, "pg.type");
    EXPECT_EQ(r->get<bool>(0, 2).error().code, "pg.type");
    EXPECT_EQ(r->get<std::int32_t>(0, 2).error().code, "pg.type"); // int8 is not an int32 column
    EXPECT_EQ(r->get<std::string>(1, 0).error().code, "pg.column");
    EXPECT_EQ(r->get<std::string>(0, 3).error().code, "pg.column");
    EXPECT_EQ(r->column("nope").error().code, "pg.column");
    EXPECT_EQ(*r->get<std::string>(0, 1), "1.5"); // any non-bytea column has a text form
}

TEST_F(PgTest, TransactionRollsBackOnScopeExit) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx) << tx.error().to_string();
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (1)"));
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0);
    {
        auto tx = Transaction::begin(db(), Isolation::Serializable);
        ASSERT_TRUE(tx);
        // Not nested: its ROLLBACK would end this one too.
        auto nested = Transaction::begin(db());
        ASSERT_FALSE(nested);
        EXPECT_NE(nested.error().detail.find("already open"), std::string::npos);
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (2)"));
        ASSERT_TRUE(tx->commit());
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 1);
}

TEST_F(PgTest, TransactionWithAFailedStatementCannotCommit) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db().exec("INSERT INTO t VALUES ($1)", 1));
    auto dup = db().exec("INSERT INTO t VALUES ($1)", 1);
    ASSERT_FALSE(dup);
    // PostgreSQL turns this COMMIT into a ROLLBACK without an error of its own.
    auto done = tx->commit();
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, "pg.aborted");
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0);

    // in_transaction rolls back when its function fails.
    auto r = in_transaction(db(), [&]() -> Result<int> {
        if (auto ins = db().exec("INSERT INTO t VALUES (5)"); !ins)
            return std::unexpected(ins.error());
        return fail("test.stop", "changed my mind");
    });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "test.stop");
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0);
}

TEST_F(PgTest, SavepointRollbackKeepsTheOuterTransaction) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ASSERT_TRUE(db().exec("INSERT INTO t VALUES (1)"));
    {
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp) << sp.error().to_string();
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (2)"));
        auto dup = db().exec("INSERT INTO t VALUES (1)");
        ASSERT_FALSE(dup);
        // The transaction is aborted now; RELEASE fails and the savepoint stays to be rolled back.
        EXPECT_FALSE(sp->release());
    } // ~Savepoint: ROLLBACK TO, which clears the failure (and undoes the 2)
    {
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (3)"));
        ASSERT_TRUE(sp->release());
    }
    ASSERT_TRUE(db().exec("INSERT INTO t VALUES (4)")) << "the outer transaction goes on";
    ASSERT_TRUE(tx->commit());
    auto r = db().exec("SELECT string_agg(id::text, ',' ORDER BY id) FROM t");
    ASSERT_TRUE(r);
    EXPECT_EQ(*r->get<std::string>(0, 0), "1,3,4");
}

// The statements of this session prepared by crm-mail (Connection names them crm_p<n>).
std::int64_t prepared_on_server(Connection& c) {
    auto r = c.exec("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'crm\\_p%'");
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? *r->get<std::int64_t>(0, 0) : -1;
}

TEST_F(PgTest, StatementsArePreparedOncePerConnectionAndUtilityStatementsNever) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY, v text)"));
    const std::int64_t before = prepared_on_server(db()); // counts its own statement too
    const std::size_t kept = db().prepared_count();
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES ($1::int, $2)", i, "x"));
    EXPECT_EQ(db().prepared_count(), kept + 1);
    EXPECT_EQ(prepared_on_server(db()), before + 1);
    // Utility statements run unprepared.
    ASSERT_TRUE(db().exec("SET application_name = 'crm-test'"));
    ASSERT_TRUE(db().exec("ANALYZE t"));
    EXPECT_EQ(db().prepared_count(), kept + 1);
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 3);
    // A bytea parameter makes another statement than the same text with a text one.
    ASSERT_TRUE(db().exec("SELECT length($1)", Param::bytea(std::string("a\0b", 3))));
    ASSERT_TRUE(db().exec("SELECT length($1)", "ab"));
    EXPECT_EQ(db().prepared_count(), kept + 4);
}

TEST_F(PgTest, AFailedPreparationIsNotKeptAndPreparedStatementsOutliveARollback) {
    auto missing = db().exec("SELECT count(*) FROM later");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().detail.find("later"), std::string::npos) << missing.error().detail;
    ASSERT_TRUE(db().execute_script("CREATE TABLE later (id int)"));
    // Prepared again, now that the table exists (a kept name would fail "does not exist").
    auto now = db().exec("SELECT count(*) FROM later");
    ASSERT_TRUE(now) << now.error().to_string();
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db().exec("INSERT INTO later VALUES ($1::int)", 1));
    } // rolled back: the statement prepared inside stays prepared (a session object)
    auto again = db().exec("INSERT INTO later VALUES ($1::int)", 2);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(value<std::int64_t>("SELECT sum(id) FROM later"), 2);
}

TEST_F(PgTest, SavepointsTravelWithTheNextStatement) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    {
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        EXPECT_EQ(db().deferred().size(), 1U) << "SAVEPOINT waits for the next statement";
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (1)"));
        EXPECT_TRUE(db().deferred().empty());
        ASSERT_TRUE(sp->release());
        EXPECT_EQ(db().deferred().size(), 1U) << "RELEASE waits too";
    }
    {
        // Nothing ran inside: neither SAVEPOINT nor RELEASE is ever sent.
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        ASSERT_TRUE(sp->release());
        EXPECT_EQ(db().deferred().size(), 1U) << "only the first savepoint's RELEASE waits";
    }
    {
        // Rolled back before anything ran inside: forgotten, nothing sent.
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        ASSERT_TRUE(sp->rollback());
        EXPECT_EQ(db().deferred().size(), 1U);
    }
    {
        // Rolled back after a failure inside: the outer transaction goes on.
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (2)"));
        {
            auto inner = Savepoint::begin(db());
            ASSERT_TRUE(inner);
            ASSERT_FALSE(db().exec("INSERT INTO t VALUES (1)"));
        } // ~inner: ROLLBACK TO inner
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (3)"));
        ASSERT_TRUE(sp->rollback()); // undoes 2 and 3
    }
    // A pipeline sends the waiting statements first and answers only for its own.
    {
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        auto p = Pipeline::enter(db());
        ASSERT_TRUE(p);
        ASSERT_TRUE(p->add("INSERT INTO t VALUES (4)"));
        ASSERT_TRUE(p->add("INSERT INTO t VALUES (5)"));
        auto r = p->sync();
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->size(), 2U);
    }
    // ~sp above rolled 4 and 5 back (it was not released); the commit sends what waits.
    ASSERT_TRUE(tx->commit());
    EXPECT_TRUE(db().deferred().empty());
    EXPECT_EQ(value<std::string>("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1");
}

TEST_F(PgTest, AWaitingWriteGoesWithTheNextStatementOrWithItsSavepointsRelease) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    auto deferred_insert = [&](int id) {
        std::vector<Param> ps;
        ps.emplace_back(id);
        db().defer("INSERT INTO t VALUES ($1::int)", std::move(ps));
    };
    deferred_insert(1);
    EXPECT_TRUE(db().write_deferred());
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 1) << "sent ahead of the SELECT";
    EXPECT_FALSE(db().write_deferred());
    {
        // A failing write inside a savepoint: its RELEASE sends it and reports the failure, and
        // the savepoint rolls back.
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (2)"));
        deferred_insert(1); // duplicate key
        auto released = sp->release();
        ASSERT_FALSE(released);
        EXPECT_EQ(released.error().code, "pg.constraint") << released.error().to_string();
    } // ~Savepoint: ROLLBACK TO (undoes the 2)
    {
        // The next statement fails with a waiting write's failure.
        auto sp = Savepoint::begin(db());
        ASSERT_TRUE(sp);
        deferred_insert(1);
        auto next = db().exec("SELECT 1");
        ASSERT_FALSE(next);
        EXPECT_EQ(next.error().code, "pg.constraint") << next.error().to_string();
    }
    deferred_insert(3);
    ASSERT_TRUE(tx->commit()) << "COMMIT sends what waits";
    EXPECT_EQ(value<std::string>("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,3");
}

// A waiting write whose check fails on the client only ("if_no_row": the server sees no error)
// inside a savepoint: the savepoint's RELEASE reports it before the RELEASE goes out, so the
// savepoint is still there to roll back and the transaction goes on; at COMMIT, the check fails
// the commit and the transaction stays open for its rollback.
TEST_F(PgTest, AWaitingWritesRowCheckFailsItsSavepointOrItsCommitNotTheTransaction) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    auto none = [&](int id) {
        std::vector<Param> ps;
        ps.emplace_back(id);
        db().defer("INSERT INTO t SELECT $1::int WHERE false RETURNING id", std::move(ps),
                   Error{"test.no_row", "no row", ErrorScope::Message, Retry::Now});
    };
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        {
            auto sp = Savepoint::begin(db());
            ASSERT_TRUE(sp);
            ASSERT_TRUE(db().exec("INSERT INTO t VALUES (2)"));
            none(5);
            auto released = sp->release();
            ASSERT_FALSE(released);
            EXPECT_EQ(released.error().code, "test.no_row");
        } // ~Savepoint: ROLLBACK TO (undoes the 2)
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (3)")) << "the transaction goes on";
        ASSERT_TRUE(tx->commit());
    }
    EXPECT_EQ(value<std::string>("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "3");
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        ASSERT_TRUE(db().exec("INSERT INTO t VALUES (4)"));
        none(6);
        auto committed = tx->commit();
        ASSERT_FALSE(committed);
        EXPECT_EQ(committed.error().code, "test.no_row");
    } // ~Transaction: ROLLBACK (undoes the 4)
    EXPECT_EQ(value<std::string>("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "3");
    EXPECT_TRUE(Transaction::begin(db())) << "no transaction left open on the connection";
}

TEST_F(PgTest, AWaitingSavepointFailsWithTheStatementItPrecedes) {
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ASSERT_FALSE(db().exec("SELECT 1/0"));
    // The transaction has failed: the savepoint cannot open, and the statement it went ahead of
    // reports that.
    auto sp = Savepoint::begin(db());
    ASSERT_TRUE(sp);
    auto r = db().exec("SELECT 1");
    ASSERT_FALSE(r);
    EXPECT_EQ(sqlstate_of(r.error()), "25P02");
    EXPECT_NE(r.error().detail.find("SAVEPOINT"), std::string::npos) << r.error().detail;
}

TEST_F(PgTest, ConstraintViolationIsScopedToTheMessage) {
    ASSERT_TRUE(db().execute_script(
        "CREATE TABLE messages (id int PRIMARY KEY, message_id text NOT NULL CONSTRAINT "
        "messages_message_id_key UNIQUE, size int CHECK (size >= 0))"));
    ASSERT_TRUE(db().exec("INSERT INTO messages VALUES (1, $1, 10)", "<a@example.org>"));
    auto dup = db().exec("INSERT INTO messages VALUES (2, $1, 10)", "<a@example.org>");
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, "pg.constraint");
    EXPECT_EQ(dup.error().scope, ErrorScope::Message);
    EXPECT_EQ(sqlstate_of(dup.error()), "23505");
    EXPECT_NE(dup.error().detail.find("constraint messages_message_id_key"), std::string::npos)
        << dup.error().detail;
    EXPECT_NE(dup.error().detail.find(db().url()), std::string::npos) << dup.error().detail;
    EXPECT_NE(dup.error().detail.find("INSERT INTO messages"), std::string::npos);
    // The DETAIL line quotes the row's values (mail): it is left out.
    EXPECT_EQ(dup.error().detail.find("a@example.org"), std::string::npos) << dup.error().detail;

    auto null = db().exec("INSERT INTO messages VALUES (3, NULL, 1)");
    ASSERT_FALSE(null);
    EXPECT_EQ(sqlstate_of(null.error()), "23502");
    EXPECT_EQ(null.error().scope, ErrorScope::Message);
    auto check = db().exec("INSERT INTO messages VALUES (4, 'b', -1)");
    ASSERT_FALSE(check);
    EXPECT_EQ(sqlstate_of(check.error()), "23514");
    EXPECT_EQ(check.error().scope, ErrorScope::Message);
    auto too_big = db().exec("INSERT INTO messages VALUES (5, 'c', $1)", 1LL << 40);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code, "pg.data");
    EXPECT_EQ(too_big.error().scope, ErrorScope::Message);
}

TEST_F(PgTest, SyntaxErrorIsABugNotRetried) {
    auto r = db().exec("SELEC 1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "pg.query");
    EXPECT_EQ(r.error().retry, Retry::Never);
    EXPECT_EQ(sqlstate_of(r.error()), "42601");
}

TEST_F(PgTest, LostConnectionAsksForAReconnect) {
    auto victim = connect();
    ASSERT_TRUE(victim) << victim.error().to_string();
    ASSERT_TRUE(db().exec("SELECT pg_terminate_backend($1)", victim->backend_pid()));
    auto r = victim->exec("SELECT 1");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "pg.connection");
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_FALSE(victim->ok());
    EXPECT_TRUE(db().ok());
}

} // namespace
} // namespace crm::pg
