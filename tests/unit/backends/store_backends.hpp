#pragma once
// The two backends of the ingest and sync store ports, as gtest fixtures for typed tests: every
// scenario of store_conformance_test.cpp runs on SQLite (store::Store / store::SyncStore on a
// migrated store::Database in a temp file) and on PostgreSQL (pg::PgStore / pg::PgSyncState in a
// schema of the test's own, migrated with pg::migrate; skipped without CRM_TEST_PG_URL).
//
// Each fixture gives: store() and sync() (the classes under test), exec(sql) and scalar(sql) for
// setting up and checking rows with SQL both databases understand, tx(body) (one transaction),
// and kPg.

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "crm/pg/activity.hpp"
#include "crm/pg/compose.hpp"
#include "crm/pg/followups.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/store.hpp"
#include "crm/pg/sync_store.hpp"
#include "crm/store/activity.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/compose.hpp"
#include "crm/store/database.hpp"
#include "crm/store/followups.hpp"
#include "crm/store/store.hpp"
#include "crm/store/sync_store.hpp"
#include "pg_test_support.hpp"

namespace crm::backends_test {

class SqliteBackend : public ::testing::Test {
  public:
    static constexpr bool kPg = false;
    using StoreT = store::Store;
    using SyncT = store::SyncStore;

  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(info->test_suite_name()) + "_" + info->name();
        for (auto& ch : name)
            if (!std::isalnum(static_cast<unsigned char>(ch)))
                ch = '_';
        path_ = (std::filesystem::temp_directory_path() /
                 ("crm_pgstore_" + name + "_" + std::to_string(::getpid()) + ".db"))
                    .string();
        remove_files();
        auto db = store::Database::open(path_);
        ASSERT_TRUE(db) << db.error().to_string();
        db_ = std::move(*db);
        auto m = db_->migrate();
        ASSERT_TRUE(m) << m.error().to_string();
        store_ = std::make_unique<store::Store>(*db_);
        sync_ = std::make_unique<store::SyncStore>(*db_);
        raw_ = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
        raw_->setBusyTimeout(5000);
    }
    void TearDown() override {
        raw_.reset();
        sync_.reset();
        store_.reset();
        db_.reset();
        remove_files();
    }

  public:
    store::Store& store() { return *store_; }
    store::SyncStore& sync() { return *sync_; }
    // Another connection: sees what was committed.
    void exec(const std::string& sql) { raw_->exec(sql); }
    std::optional<std::int64_t> scalar(const std::string& sql) {
        SQLite::Statement q(*raw_, sql);
        EXPECT_TRUE(q.executeStep()) << sql;
        if (q.getColumn(0).isNull())
            return std::nullopt;
        return q.getColumn(0).getInt64();
    }
    std::string text(const std::string& sql) {
        SQLite::Statement q(*raw_, sql);
        EXPECT_TRUE(q.executeStep()) << sql;
        return q.getColumn(0).getString();
    }
    Result<void> tx(const std::function<Result<void>()>& body) {
        store::Work w(*db_);
        return w.transaction(body);
    }
    Followups& followups() {
        if (!followups_)
            followups_ = std::make_unique<store::FollowupStore>(*db_);
        return *followups_;
    }
    ActivityReads& activity() {
        if (!activity_)
            activity_ = std::make_unique<store::ActivityStore>(*db_);
        return *activity_;
    }
    ComposeStore& compose() {
        if (!compose_)
            compose_ = std::make_unique<store::ComposeSqlite>(*db_);
        return *compose_;
    }

  private:
    void remove_files() {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path_ + suffix);
    }
    std::string path_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<store::SyncStore> sync_;
    std::unique_ptr<store::FollowupStore> followups_;
    std::unique_ptr<store::ActivityStore> activity_;
    std::unique_ptr<store::ComposeSqlite> compose_;
    std::unique_ptr<SQLite::Database> raw_;
};

class PgBackend : public pg::test::PgTest {
  public:
    static constexpr bool kPg = true;
    using StoreT = pg::PgStore;
    using SyncT = pg::PgSyncState;

  protected:
    void SetUp() override {
        PgTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto m = pg::migrate(db());
        ASSERT_TRUE(m) << m.error().to_string();
        store_ = std::make_unique<pg::PgStore>(db(), nullptr, options());
        sync_ = std::make_unique<pg::PgSyncState>(db());
    }
    virtual pg::PgStoreOptions options() const { return {}; }

  public:
    pg::PgStore& store() { return *store_; }
    pg::PgSyncState& sync() { return *sync_; }
    void exec(const std::string& sql) {
        auto r = db().execute_script(sql);
        ASSERT_TRUE(r) << r.error().to_string();
    }
    std::optional<std::int64_t> scalar(const std::string& sql) {
        auto r = db().exec(sql);
        EXPECT_TRUE(r) << r.error().to_string();
        if (!r || r->rows() == 0)
            return std::nullopt;
        auto v = r->get<std::optional<std::int64_t>>(0, 0);
        EXPECT_TRUE(v) << v.error().to_string();
        return v ? *v : std::nullopt;
    }
    std::string text(const std::string& sql) {
        auto r = db().exec(sql);
        EXPECT_TRUE(r && r->rows() == 1) << sql;
        if (!r || r->rows() == 0)
            return {};
        auto v = r->get<std::string>(0, 0);
        return v ? *v : std::string();
    }
    Result<void> tx(const std::function<Result<void>()>& body) {
        return pg::in_transaction(db(), body);
    }
    Followups& followups() {
        if (!followups_)
            followups_ = std::make_unique<pg::PgFollowups>(db());
        return *followups_;
    }
    ActivityReads& activity() {
        if (!activity_)
            activity_ = std::make_unique<pg::PgActivity>(db());
        return *activity_;
    }
    ComposeStore& compose() {
        if (!compose_)
            compose_ = std::make_unique<pg::PgCompose>(db());
        return *compose_;
    }

  protected:
    std::unique_ptr<pg::PgStore> store_;
    std::unique_ptr<pg::PgSyncState> sync_;
    std::unique_ptr<pg::PgFollowups> followups_;
    std::unique_ptr<pg::PgActivity> activity_;
    std::unique_ptr<pg::PgCompose> compose_;
};

// The same on PostgreSQL with every statement in its own round trip (PgStoreOptions::pipeline
// off): both ways must behave alike.
class PgUnpipelinedBackend : public PgBackend {
  protected:
    pg::PgStoreOptions options() const override { return {.pipeline = false}; }
};

struct BackendNames {
    template <class T> static std::string GetName(int) {
        if constexpr (std::is_same_v<T, SqliteBackend>)
            return "Sqlite";
        else if constexpr (std::is_same_v<T, PgBackend>)
            return "Pg";
        else
            return "PgUnpipelined";
    }
};

using Backends = ::testing::Types<SqliteBackend, PgBackend, PgUnpipelinedBackend>;

// A message to store, with what the tests vary.
struct Mail {
    std::string message_id;
    std::string content_hash;
    std::string subject = "Quote";
    std::string base_subject = "quote";
    std::optional<std::int64_t> date;
    std::int64_t received_at = 1000;
    bool unread = true;
    std::vector<std::string> references;
    std::vector<ParticipantRow> participants;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string raw;
    std::string raw_sha256; // "" : made from the Message-ID and content hash
    std::vector<Attachment> attachments;
};

// `m` as a NewMessage for `thread` (n points into the parsed message and raw kept beside it).
struct BuiltMail {
    ParsedMessage parsed;
    std::string raw;
    NewMessage n;
};
inline std::unique_ptr<BuiltMail> build_mail(ThreadId thread, const Mail& m) {
    auto b = std::make_unique<BuiltMail>();
    ParsedMessage& p = b->parsed;
    p.message_id = m.message_id;
    p.content_hash = m.content_hash;
    p.subject = m.subject;
    p.date = m.date;
    p.references = m.references;
    p.headers = m.headers;
    p.attachments = m.attachments;
    p.text_body = "Body of " + m.message_id;
    b->raw = m.raw.empty() ? "Message-ID: <" + m.message_id + ">\r\nSubject: " + m.subject +
                                 "\r\n\r\nBody " + m.content_hash + "\r\n"
                           : m.raw;
    NewMessage& n = b->n;
    n.parsed = &p;
    n.raw = b->raw;
    n.raw_sha256 =
        m.raw_sha256.empty() ? "sha-" + m.message_id + "-" + m.content_hash : m.raw_sha256;
    n.message_id = m.message_id;
    n.thread = thread;
    n.base_subject = m.base_subject;
    n.participants = m.participants;
    n.unread = m.unread;
    n.received_at = m.received_at;
    return b;
}

// Stores `m` into `thread` through MailStore::insert_message.
template <class S> Result<MessageRowId> put(S& s, ThreadId thread, const Mail& m) {
    auto b = build_mail(thread, m);
    return s.insert_message(b->n);
}

// Stores `m` into `thread` whole, through MailStore::store_new_message.
template <class S>
Result<MessageRowId> put_whole(S& s, ThreadId thread, const Mail& m, const LocationRef& where,
                               const Placement& placement, std::int64_t now) {
    auto b = build_mail(thread, m);
    return s.store_new_message(b->n, where, placement, now);
}

} // namespace crm::backends_test
