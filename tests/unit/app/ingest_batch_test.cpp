// IngestBatch over a real store: one transaction per batch; a message refused for its own data
// fails alone (isolated, the rest kept), a failure of the batch as a whole stores nothing, and
// a message that keeps failing is quarantined after kQuarantineAfter attempts.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <unistd.h>

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "crm/app/ingest_batch.hpp"
#include "crm/mime/parse.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"

namespace crm::app {
namespace {

std::string mail(int n) {
    return fmt::format("From: Hank <hank@globex.example>\r\nTo: alice@sales.example\r\n"
                       "Subject: Quote {0}\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n"
                       "Message-ID: <m{0}@globex.example>\r\n\r\nBody {0}\r\n",
                       n);
}

// Counts failures per item, as the daemon's quarantine table does per UID.
class CountingLog final : public FailureLog {
  public:
    Result<std::int64_t> record_failure(std::size_t index, const Error& why,
                                        std::int64_t) override {
        last_error = why;
        return ++attempts[index];
    }
    std::map<std::size_t, std::int64_t> attempts;
    Error last_error;
};

class IngestBatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        path = std::filesystem::temp_directory_path() /
               fmt::format("crm_ingest_batch_test_{}.db", ::getpid());
        remove_files();
        auto d = store::Database::open(path.string());
        ASSERT_TRUE(d);
        db = std::move(*d);
        ASSERT_TRUE(db->migrate());
        s = std::make_unique<store::Store>(*db);
        work = std::make_unique<store::Work>(*db);
        ingestor = std::make_unique<Ingestor>(*s, *s);
        for (int i = 1; i <= 5; ++i) {
            raws.push_back(mail(i));
            parsed.push_back(mime::parse(raws.back()));
        }
        for (std::size_t i = 0; i < raws.size(); ++i) {
            BatchItem item;
            item.source.raw = raws[i];
            item.source.where.source = fmt::format("file/{}", i);
            item.parsed = &parsed[i];
            items.push_back(item);
        }
    }
    void TearDown() override {
        ingestor.reset();
        work.reset();
        s.reset();
        db.reset();
        remove_files();
    }
    void remove_files() {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + suffix);
    }
    // A second connection, as another process would see the database.
    std::int64_t count(const std::string& sql) {
        SQLite::Database raw(path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement q(raw, sql);
        q.executeStep();
        return q.getColumn(0).getInt64();
    }
    void refuse(const std::string& message_id) {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec(fmt::format("CREATE TRIGGER refuse BEFORE INSERT ON messages WHEN "
                             "NEW.message_id = '{}' BEGIN SELECT RAISE(ABORT, 'refused for the "
                             "test'); END",
                             message_id));
    }

    std::filesystem::path path;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::Store> s;
    std::unique_ptr<store::Work> work;
    std::unique_ptr<Ingestor> ingestor;
    std::vector<std::string> raws;
    std::vector<ParsedMessage> parsed;
    std::vector<BatchItem> items;
};

TEST_F(IngestBatchTest, StoresTheWholeBatchInOneTransaction) {
    IngestBatch batch(*work, *ingestor);
    std::int64_t seen_in_tx = -1;
    BatchHooks hooks;
    hooks.before_commit = [&](const BatchOutcome& o) -> Result<void> {
        seen_in_tx = count("SELECT count(*) FROM messages"); // another connection: not yet
        EXPECT_EQ(o.stored, 5U);
        return {};
    };
    auto r = batch.run(items, 1'800'000'000, nullptr, hooks);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(seen_in_tx, 0) << "the batch was visible before its commit";
    EXPECT_EQ(r->stored, 5U);
    EXPECT_EQ(r->failures.size(), 0U);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 5);
    ASSERT_EQ(r->outcomes.size(), 5U);
    for (const auto& o : r->outcomes)
        ASSERT_TRUE(o && o->kind == IngestKind::New);
    // Again: every message is known, nothing new.
    auto again = batch.run(items, 1'800'000'001);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->stored, 0U);
    EXPECT_EQ(again->locations, 5U);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 5);
}

TEST_F(IngestBatchTest, AMessageRefusedForItsDataFailsAloneAndIsQuarantinedAfterThreeTries) {
    refuse("m3@globex.example");
    IngestBatch batch(*work, *ingestor);
    CountingLog log;
    auto r = batch.run(items, 1'800'000'000, &log);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->stored, 4U) << "messages before the failure are new once, not 'known'";
    ASSERT_EQ(r->failures.size(), 1U);
    EXPECT_EQ(r->failures[0].index, 2U);
    EXPECT_EQ(r->failures[0].error.scope, ErrorScope::Message);
    EXPECT_NE(r->failures[0].error.detail.find("refused for the test"), std::string::npos);
    EXPECT_FALSE(r->outcomes[2]);
    EXPECT_FALSE(r->failures[0].quarantined);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE message_id = 'm3@globex.example'"), 0);
    // No partial rows of the refused message (its savepoint was rolled back).
    EXPECT_EQ(count("SELECT count(*) FROM participants p JOIN messages m ON m.id = p.message_id "
                    "WHERE m.message_id = 'm3@globex.example'"),
              0);
    EXPECT_EQ(log.attempts[2], 1);
    EXPECT_EQ(r->quarantined, 0U);
    r = batch.run(items, 1'800'000'001, &log);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->quarantined, 0U);
    r = batch.run(items, 1'800'000'002, &log);
    ASSERT_TRUE(r);
    EXPECT_EQ(log.attempts[2], kQuarantineAfter);
    EXPECT_EQ(r->quarantined, 1U);
    EXPECT_TRUE(r->failures[0].quarantined);
    EXPECT_EQ(log.attempts.size(), 1U) << "only the refused message was ever counted";
}

TEST_F(IngestBatchTest, AFailureOfTheBatchAsAWholeStoresNothingAndCountsNoMessage) {
    IngestBatch batch(*work, *ingestor);
    CountingLog log;
    BatchHooks hooks;
    hooks.before_commit = [](const BatchOutcome&) -> Result<void> {
        return fail("store.sqlite", "disk full (for the test)", ErrorScope::Fatal, Retry::Backoff);
    };
    auto r = batch.run(items, 1'800'000'000, &log, hooks);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().detail, "disk full (for the test)");
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 0);
    EXPECT_TRUE(log.attempts.empty()) << "no message is to blame for the database";
}

TEST_F(IngestBatchTest, EveryItemIsAnnouncedBeforeItIsStored) {
    IngestBatch batch(*work, *ingestor);
    std::vector<std::size_t> announced;
    BatchHooks hooks;
    hooks.before_item = [&](std::size_t i) { announced.push_back(i); };
    ASSERT_TRUE(batch.run(items, 1'800'000'000, nullptr, hooks));
    EXPECT_EQ(announced, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
}

} // namespace
} // namespace crm::app
