// Pipeline mode and COPY FROM STDIN against a real server.

#include "crm/pg/copy.hpp"
#include "crm/pg/errors.hpp"
#include "crm/pg/pipeline.hpp"
#include "pg_test_support.hpp"

namespace crm::pg {
namespace {

using test::PgTest;

TEST_F(PgTest, PipelineOfNInsertsGivesNResults) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id bigserial PRIMARY KEY, n int NOT NULL, "
                                    "body bytea)"));
    constexpr int kN = 500;
    auto p = Pipeline::enter(db());
    ASSERT_TRUE(p) << p.error().to_string();
    for (int i = 0; i < kN; ++i) {
        std::string body(static_cast<std::size_t>(i % 7), '\0');
        ASSERT_TRUE(
            p->add("INSERT INTO t (n, body) VALUES ($1, $2) RETURNING n", i, Param::bytea(body)));
    }
    EXPECT_EQ(p->pending(), static_cast<std::size_t>(kN));
    auto results = p->sync();
    ASSERT_TRUE(results) << results.error().to_string();
    ASSERT_EQ(results->size(), static_cast<std::size_t>(kN));
    for (int i = 0; i < kN; ++i)
        EXPECT_EQ(*(*results)[static_cast<std::size_t>(i)].get<std::int32_t>(0, 0), i);
    EXPECT_EQ(p->pending(), 0u);
    EXPECT_FALSE(p->failed_index());

    // A second batch on the same pipeline.
    ASSERT_TRUE(p->add("SELECT count(*) FROM t"));
    auto again = p->sync();
    ASSERT_TRUE(again);
    EXPECT_EQ(*(*again)[0].get<std::int64_t>(0, 0), kN);
}

TEST_F(PgTest, PipelineErrorNamesTheStatementAndKeepsNothing) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    {
        auto p = Pipeline::enter(db());
        ASSERT_TRUE(p);
        // Statement 6 repeats the id of statement 2.
        for (int id : {0, 1, 2, 3, 4, 5, 2, 7, 8, 9})
            ASSERT_TRUE(p->add("INSERT INTO t VALUES ($1)", id));
        // exec() cannot run while the connection is in pipeline mode.
        auto sync_call = db().exec("SELECT 1");
        ASSERT_FALSE(sync_call);
        EXPECT_EQ(sync_call.error().code, "pg.query");

        auto results = p->sync();
        ASSERT_FALSE(results);
        EXPECT_EQ(results.error().code, "pg.constraint");
        EXPECT_EQ(results.error().scope, ErrorScope::Message);
        EXPECT_EQ(sqlstate_of(results.error()), "23505");
        EXPECT_NE(results.error().detail.find("pipeline statement 6 (from 0) of 10"),
                  std::string::npos)
            << results.error().detail;
        ASSERT_EQ(p->failed_index(), 6u);

        // The pipeline goes on after the failure.
        ASSERT_TRUE(p->add("INSERT INTO t VALUES (100)"));
        auto ok = p->sync();
        ASSERT_TRUE(ok) << ok.error().to_string();
        EXPECT_FALSE(p->failed_index());
    }
    // Back to normal mode: the failed batch left nothing behind (one implicit transaction).
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 1);
}

TEST_F(PgTest, LongPipelineWithLargeAnswersDoesNotDeadlock) {
    // 20,000 answers of 1 KB (20 MB) fill the socket buffers both ways long before the sync: the
    // pipeline must read while it writes.
    constexpr int kN = 20000;
    auto p = Pipeline::enter(db());
    ASSERT_TRUE(p);
    for (int i = 0; i < kN; ++i)
        ASSERT_TRUE(p->add("SELECT $1::int, repeat('x', 1024)", i));
    auto results = p->sync();
    ASSERT_TRUE(results) << results.error().to_string();
    ASSERT_EQ(results->size(), static_cast<std::size_t>(kN));
    EXPECT_EQ(*results->back().get<std::int32_t>(0, 0), kN - 1);
    EXPECT_EQ(results->back().get<std::string>(0, 1)->size(), 1024u);
}

TEST_F(PgTest, UnsyncedStatementsAreDrainedWhenThePipelineEnds) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int)"));
    {
        auto p = Pipeline::enter(db());
        ASSERT_TRUE(p);
        ASSERT_TRUE(p->add("INSERT INTO t VALUES (1)"));
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 1);
}

TEST_F(PgTest, CopyTenThousandRows) {
    ASSERT_TRUE(db().execute_script(
        "CREATE TABLE rows (id bigint PRIMARY KEY, name text NOT NULL, data bytea, note text, "
        "score float8)"));
    constexpr int kRows = 10000;
    auto name_of = [](int i) {
        // Every character COPY's text format must escape.
        return fmt::format("row {}\twith tab\nnewline\r\\backslash \\N not null ✓", i);
    };
    auto data_of = [](int i) {
        std::string d(static_cast<std::size_t>(i % 300), '\0');
        for (std::size_t k = 0; k < d.size(); ++k)
            d[k] = static_cast<char>((k * 7 + static_cast<std::size_t>(i)) & 0xff);
        return d;
    };
    auto copy = CopyIn::begin(db(), "COPY rows (id, name, data, note, score) FROM STDIN");
    ASSERT_TRUE(copy) << copy.error().to_string();
    for (int i = 0; i < kRows; ++i) {
        const std::string data = data_of(i);
        std::optional<std::string> note;
        if (i % 3 == 0)
            note = "third";
        ASSERT_TRUE(copy->row(i, name_of(i), Param::bytea(data), note, i * 0.5));
    }
    auto copied = copy->finish();
    ASSERT_TRUE(copied) << copied.error().to_string();
    EXPECT_EQ(*copied, kRows);

    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM rows"), kRows);
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM rows WHERE note IS NULL"), kRows * 2 / 3);
    for (int i : {0, 1, 2, 299, 4321, kRows - 1}) {
        auto r = db().exec("SELECT name, data, note, score FROM rows WHERE id = $1", i);
        ASSERT_TRUE(r);
        ASSERT_EQ(r->rows(), 1);
        EXPECT_EQ(*r->get<std::string>(0, 0), name_of(i));
        EXPECT_TRUE(r->get<Bytea>(0, 1)->bytes == data_of(i)) << i;
        EXPECT_EQ(r->is_null(0, 2), i % 3 != 0);
        EXPECT_EQ(*r->get<double>(0, 3), i * 0.5);
    }
}

TEST_F(PgTest, CopyWithABadRowKeepsNoRow) {
    ASSERT_TRUE(db().execute_script("CREATE TABLE t (id int PRIMARY KEY)"));
    {
        auto copy = CopyIn::begin(db(), "COPY t (id) FROM STDIN");
        ASSERT_TRUE(copy);
        for (int id : {1, 2, 3, 2, 5})
            ASSERT_TRUE(copy->row(id));
        auto done = copy->finish();
        ASSERT_FALSE(done);
        EXPECT_EQ(done.error().code, "pg.constraint");
        EXPECT_EQ(done.error().scope, ErrorScope::Message);
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0);
    {
        // Abandoned before finish(): cancelled, nothing kept, the connection usable again.
        auto copy = CopyIn::begin(db(), "COPY t (id) FROM STDIN");
        ASSERT_TRUE(copy);
        ASSERT_TRUE(copy->row(10));
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0);
    auto not_copy = CopyIn::begin(db(), "INSERT INTO t VALUES (1)");
    ASSERT_FALSE(not_copy);
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM t"), 0) << "the statement must not run";
}

} // namespace
} // namespace crm::pg
