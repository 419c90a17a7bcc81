// DaemonSink::store_batch_async: one transaction per batch; a message that cannot be stored fails
// alone (the batch is stored again with a savepoint per message) and is recorded for quarantine.
#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <unistd.h>

#include <filesystem>

#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"
#include "sink.hpp"

namespace crm::daemon {
namespace {

std::string mail(int n) {
    return fmt::format("From: Hank <hank@globex.example>\r\nTo: alice@sales.example\r\n"
                       "Subject: Quote {0}\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n"
                       "Message-ID: <m{0}@globex.example>\r\n\r\nBody {0}\r\n",
                       n);
}

// Without a writer connection (batches stored on the calling thread) and with one (on the
// sink's writer thread, as crm-maild runs).
class SinkTest : public ::testing::TestWithParam<bool> {
  protected:
    void SetUp() override {
        path = std::filesystem::temp_directory_path() /
               fmt::format("crm_sink_test_{}_{}.db", ::getpid(), GetParam() ? "writer" : "one");
        remove_files();
        auto d = store::Database::open(path.string());
        ASSERT_TRUE(d);
        db = std::move(*d);
        ASSERT_TRUE(db->migrate());
        // Raw SQL through a connection of its own, as another process would see the database.
        raw_ = std::make_unique<SQLite::Database>(path.string(), SQLite::OPEN_READWRITE);
        raw().exec("INSERT INTO accounts (id, name, address, created_at, updated_at) VALUES "
                   "(1, 'alice', 'alice@sales.example', 1, 1)");
        std::unique_ptr<Backend> writer;
        if (GetParam()) {
            auto w = store::Database::open(path.string());
            ASSERT_TRUE(w);
            writer = std::make_unique<store::SqliteBackend>(std::move(*w));
        }
        backend = std::make_unique<store::SqliteBackend>(*db);
        sink = std::make_unique<DaemonSink>(*backend, LogSink{}, app::IngestOptions{},
                                            std::move(writer));
        auto mb = sink->open_mailbox(1, "INBOX", "");
        ASSERT_TRUE(mb) << mb.error().to_string();
        mailbox = mb->id;
    }
    void TearDown() override {
        sink.reset();
        backend.reset();
        raw_.reset();
        db.reset();
        remove_files();
    }
    void remove_files() {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + suffix);
    }
    SQLite::Database& raw() { return *raw_; }
    std::int64_t count(const std::string& sql) {
        SQLite::Statement q(raw(), sql);
        q.executeStep();
        return q.getColumn(0).getInt64();
    }
    std::vector<FetchedMessage> batch(int first, int n, bool prepared) {
        std::vector<FetchedMessage> b;
        for (int i = first; i < first + n; ++i) {
            FetchedMessage m;
            m.uid = static_cast<std::uint32_t>(i);
            m.raw = mail(i);
            b.push_back(std::move(m));
        }
        if (prepared)
            sink->prepare(1, b).get();
        return b;
    }
    std::filesystem::path path;
    std::unique_ptr<store::Database> db;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<SQLite::Database> raw_;
    std::unique_ptr<DaemonSink> sink;
    MailboxId mailbox = 0;
};
INSTANTIATE_TEST_SUITE_P(Connections, SinkTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "Writer" : "OneConnection"; });

TEST_P(SinkTest, BatchIsStoredInOneGo) {
    for (bool prepared : {true, false}) {
        const int first = prepared ? 1 : 101;
        auto r = sink->store_batch_async(1, mailbox, 7, batch(first, 20, prepared)).get();
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->stored, 20U);
        EXPECT_EQ(r->failed, 0U);
    }
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 40);
    EXPECT_EQ(count("SELECT count(*) FROM locations"), 40);
    EXPECT_EQ(count("SELECT count(*) FROM quarantine"), 0);
    // The same messages again: known, one location each, nothing new.
    auto again = sink->store_batch_async(1, mailbox, 7, batch(1, 20, true)).get();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->stored, 0U);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 40);
}

TEST_P(SinkTest, OneFailingMessageFailsAloneAndNothingIsStoredTwice) {
    // The store refuses message 3 (as a full disk or a broken row would).
    raw().exec("CREATE TRIGGER refuse_m3 BEFORE INSERT ON messages WHEN NEW.message_id = "
               "'m3@globex.example' BEGIN SELECT RAISE(ABORT, 'refused for the test'); END");
    auto r = sink->store_batch_async(1, mailbox, 7, batch(1, 5, true)).get();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->stored, 4U) << "messages before the failure are new once, not 'known'";
    EXPECT_EQ(r->locations, 0U);
    EXPECT_EQ(r->failed, 1U);
    EXPECT_EQ(r->quarantined, 0U);
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE message_id = 'm3@globex.example'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM locations"), 4);
    EXPECT_EQ(count("SELECT count(*) FROM locations WHERE uid = 3"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM quarantine"), 1)
        << "the message after the refused one is stored (the refused statement is reset quietly)";
    EXPECT_EQ(count("SELECT uid FROM quarantine"), 3);
    EXPECT_EQ(count("SELECT count(*) FROM threads t WHERE message_count != (SELECT count(*) FROM "
                    "messages m WHERE m.thread_id = t.id)"),
              0)
        << "counters rolled back with the first attempt";
    // Refused again twice more: given up on (quarantined) after the third attempt.
    for (int attempt = 2; attempt <= 3; ++attempt) {
        auto again = sink->store_batch_async(1, mailbox, 7, batch(3, 1, true)).get();
        ASSERT_TRUE(again);
        EXPECT_EQ(again->failed, 1U);
        EXPECT_EQ(again->quarantined, attempt == 3 ? 1U : 0U);
    }
    auto q = sink->quarantined_uids(mailbox, 7);
    ASSERT_TRUE(q);
    EXPECT_EQ(*q, std::vector<std::uint32_t>{3});
}

// The sync engine commits batch b on the writer while it reads batch b+1 and records health on
// the event loop's connection; batches commit in order and each is visible once get() returns.
TEST_P(SinkTest, BatchesCommitInOrderWhileTheLoopWrites) {
    PendingBatch pending;
    for (int b = 0; b < 5; ++b) {
        auto next = sink->store_batch_async(1, mailbox, 7, batch(1 + b * 10, 10, true));
        // The event loop's own writes meanwhile (they wait for the writer's transaction).
        AccountHealth h;
        h.state = HealthState::Syncing;
        ASSERT_TRUE(sink->set_health(1, h));
        if (pending.valid()) {
            auto r = pending.get();
            ASSERT_TRUE(r) << r.error().to_string();
            EXPECT_EQ(r->stored, 10U);
        }
        pending = std::move(next);
    }
    auto last = pending.get();
    ASSERT_TRUE(last);
    EXPECT_FALSE(pending.valid());
    auto again = pending.get();
    ASSERT_FALSE(again) << "collected already";
    EXPECT_EQ(again.error().code, "sync.pending");
    EXPECT_EQ(count("SELECT count(*) FROM messages"), 50);
    EXPECT_EQ(count("SELECT messages_synced FROM accounts WHERE id = 1"), 50);
    EXPECT_EQ(count("SELECT max(uid) FROM locations"), 50);
}

} // namespace
} // namespace crm::daemon

namespace crm::daemon {
namespace {

// The account's fallback charset reads its undeclared 8-bit mail, whether the sync engine had
// the batch prepared or the store parses it (issue 20).
TEST_P(SinkTest, AnAccountsFallbackCharsetReadsItsUndeclaredMail) {
    sink->set_fallback_charset(1, "windows-1250");
    for (bool prepared : {true, false}) {
        FetchedMessage m;
        m.uid = prepared ? 1 : 2;
        m.raw =
            fmt::format("From: Lukasz <lukasz@klient.example>\r\nTo: alice@sales.example\r\n"
                        "Subject: Oferta \xBF\xF3\xB3ta {0}\r\nMessage-ID: <pl{0}@klient.example>"
                        "\r\n\r\nDzi\xEAkuj\xEA, \xA3ukasz\r\n",
                        m.uid);
        std::vector<FetchedMessage> b;
        b.push_back(std::move(m));
        if (prepared)
            sink->prepare(1, b).get();
        auto r = sink->store_batch_async(1, mailbox, 7, std::move(b)).get();
        ASSERT_TRUE(r) << r.error().to_string();
        EXPECT_EQ(r->stored, 1U);
    }
    EXPECT_EQ(count("SELECT count(*) FROM messages WHERE subject LIKE 'Oferta "
                    "\xC5\xBC\xC3\xB3\xC5\x82ta _' "
                    "AND text_body LIKE 'Dzi\xC4\x99kuj\xC4\x99, \xC5\x81ukasz%'"),
              2);
}

} // namespace
} // namespace crm::daemon
