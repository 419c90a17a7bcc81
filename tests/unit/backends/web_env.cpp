#include "web_env.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "crm/pg/backend.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/outbox.hpp"
#include "crm/pg/web_store.hpp"
#include "crm/pg/work.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"

namespace crm::backends::test {

namespace {

// A name for this test's database or schema: its suite and name, lower case, with the pid.
std::string test_slug(std::size_t max) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "x";
    std::string out;
    for (char ch : name.substr(0, max))
        out += std::isalnum(static_cast<unsigned char>(ch))
                   ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                   : '_';
    static std::atomic<int> n{0};
    return out + "_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
}

class SqliteEnv final : public WebEnv {
  public:
    SqliteEnv() {
        path_ = std::filesystem::temp_directory_path() / ("crm_web_" + test_slug(60) + ".db");
        auto db = store::Database::open(path_.string());
        EXPECT_TRUE(db) << db.error().to_string();
        db_ = std::move(*db);
        auto m = db_->migrate();
        EXPECT_TRUE(m) << m.error().to_string();
        raw_ = std::make_unique<SQLite::Database>(path_.string(), SQLite::OPEN_READWRITE);
        raw_->setBusyTimeout(5000);
        raw_->exec("PRAGMA foreign_keys = ON");
        backend_ = std::make_unique<store::SqliteBackend>(*db_);
    }
    ~SqliteEnv() override {
        backend_.reset();
        raw_.reset();
        db_.reset();
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path_.string() + suffix);
    }
    [[nodiscard]] std::string name() const override { return "sqlite"; }

    void exec(const std::string& sql) override {
        backend_->refresh();
        raw_->exec(sql);
    }
    std::optional<std::int64_t> scalar(const std::string& sql) override {
        backend_->refresh();
        SQLite::Statement s(*raw_, sql);
        if (!s.executeStep() || s.getColumn(0).isNull())
            return std::nullopt;
        return s.getColumn(0).getInt64();
    }
    std::string text(const std::string& sql) override {
        backend_->refresh();
        SQLite::Statement s(*raw_, sql);
        if (!s.executeStep())
            return {};
        return s.getColumn(0).getString();
    }
    void insert_blob(const std::string& sha256, const std::string& bytes) override {
        SQLite::Statement s(*raw_, "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)");
        s.bind(1, sha256);
        s.bind(2, static_cast<std::int64_t>(bytes.size()));
        s.bind(3, bytes.data(), static_cast<int>(bytes.size()));
        s.exec();
    }

    Logins& logins() override { return backend_->logins(); }
    ReadModel& reads() override { return backend_->reads(); }
    SeenMirror& seen() override { return backend_->seen(); }
    Outbox& outbox() override { return backend_->outbox(); }
    UnitOfWork& work() override { return backend_->work(); }
    Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                           const std::vector<AccountId>& mirror,
                                           std::int64_t now) override {
        return backend_->set_thread_unread(v, thread, unread, mirror, now);
    }
    Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message, bool unread,
                                            const std::vector<AccountId>& mirror,
                                            std::int64_t now) override {
        return backend_->set_message_unread(v, message, unread, mirror, now);
    }
    Result<MetricsSnapshot> metrics() override { return backend_->metrics_snapshot(); }
    Search* search() override { return &backend_->search(); }
    Backend* backend() override { return backend_.get(); }

  private:
    std::filesystem::path path_;
    std::unique_ptr<store::Database> db_;
    std::unique_ptr<SQLite::Database> raw_;
    std::unique_ptr<store::SqliteBackend> backend_;
};

class PgEnv final : public PgWebEnv {
  public:
    PgEnv(std::string url, std::shared_ptr<const pg::LeaseFence> fence) : url_(std::move(url)) {
        schema_ = "w_" + test_slug(40);
        auto c = pg::Connection::connect(url_);
        EXPECT_TRUE(c) << c.error().to_string();
        conn_ = std::make_unique<pg::Connection>(std::move(*c));
        must(conn_->execute_script("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " +
                                   schema_ + "; SET search_path TO " + schema_));
        auto m = pg::migrate(*conn_);
        EXPECT_TRUE(m) << m.error().to_string();
        web_ = std::make_unique<pg::PgWebStore>(*conn_);
        work_ = std::make_unique<pg::PgWork>(*conn_);
        set_fence(std::move(fence));
    }
    ~PgEnv() override {
        backend_.reset(); // its session first: nothing of it may hold the schema
        if (conn_ && conn_->ok())
            (void)conn_->execute_script("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
    [[nodiscard]] std::string name() const override { return "pg"; }

    void exec(const std::string& sql) override { must(conn_->execute_script(sql)); }
    std::optional<std::int64_t> scalar(const std::string& sql) override {
        auto r = conn_->exec(sql);
        EXPECT_TRUE(r) << sql << ": " << r.error().to_string();
        if (!r || r->rows() == 0)
            return std::nullopt;
        auto v = r->get<std::optional<std::int64_t>>(0, 0);
        EXPECT_TRUE(v) << v.error().to_string();
        return v ? *v : std::nullopt;
    }
    std::string text(const std::string& sql) override {
        auto r = conn_->exec(sql);
        EXPECT_TRUE(r) << sql << ": " << r.error().to_string();
        if (!r || r->rows() == 0)
            return {};
        auto v = r->get<std::string>(0, 0);
        return v ? *v : std::string();
    }
    void insert_blob(const std::string& sha256, const std::string& bytes) override {
        auto r = conn_->exec("INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3)", sha256,
                             static_cast<std::int64_t>(bytes.size()), pg::Param::bytea(bytes));
        EXPECT_TRUE(r) << r.error().to_string();
    }

    Logins& logins() override { return *web_; }
    ReadModel& reads() override { return *web_; }
    SeenMirror& seen() override { return *web_; }
    Outbox& outbox() override { return *outbox_; }
    UnitOfWork& work() override { return *work_; }
    Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                           const std::vector<AccountId>& mirror,
                                           std::int64_t now) override {
        return web_->set_thread_unread(v, thread, unread, mirror, now);
    }
    Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message, bool unread,
                                            const std::vector<AccountId>& mirror,
                                            std::int64_t now) override {
        return web_->set_message_unread(v, message, unread, mirror, now);
    }
    Result<MetricsSnapshot> metrics() override { return pg::metrics_snapshot(*conn_); }

    pg::Connection& connection() override { return *conn_; }
    pg::Connection connect() override {
        auto c = pg::Connection::connect(url_);
        EXPECT_TRUE(c) << c.error().to_string();
        must(c->execute_script("SET search_path TO " + schema_));
        return std::move(*c);
    }
    void set_fence(std::shared_ptr<const pg::LeaseFence> fence) override {
        outbox_ = std::make_unique<pg::PgOutbox>(*conn_, std::move(fence));
    }
    // A whole backend on a session of its own in this schema.
    Backend* backend() override {
        if (!backend_)
            backend_ = std::make_unique<pg::PgBackend>(connect());
        return backend_.get();
    }

  private:
    static void must(const Result<void>& r) { EXPECT_TRUE(r) << r.error().to_string(); }

    std::string url_, schema_;
    std::unique_ptr<pg::Connection> conn_;
    std::unique_ptr<pg::PgWebStore> web_;
    std::unique_ptr<pg::PgOutbox> outbox_;
    std::unique_ptr<pg::PgWork> work_;
    std::unique_ptr<pg::PgBackend> backend_;
};

} // namespace

std::unique_ptr<WebEnv> make_sqlite_env() {
    return std::make_unique<SqliteEnv>();
}

std::unique_ptr<WebEnv> make_pg_env(std::shared_ptr<const pg::LeaseFence> fence) {
    const char* url = std::getenv("CRM_TEST_PG_URL");
    if (!url)
        return nullptr;
    return std::make_unique<PgEnv>(url, std::move(fence));
}

std::string q(std::string_view s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += '\'';
        out += c;
    }
    return out + "'";
}

std::string opt(const std::optional<std::int64_t>& v) {
    return v ? std::to_string(*v) : std::string("NULL");
}

std::int64_t Seed::id(const std::string& sql) {
    auto v = env_.scalar(sql + " RETURNING id");
    EXPECT_TRUE(v) << sql;
    return v.value_or(0);
}

UserId Seed::user(const std::string& name, const std::string& email, const std::string& role) {
    return id("INSERT INTO users (name, email, role, created_at, updated_at) VALUES (" + q(name) +
              ", " + q(email) + ", " + q(role) + ", 1, 1)");
}

void Seed::user_address(UserId user, const std::string& address) {
    env_.exec("INSERT INTO user_addresses (address, user_id) VALUES (" + q(address) + ", " +
              std::to_string(user) + ")");
}

CompanyId Seed::company(const std::string& name) {
    return id("INSERT INTO companies (name, created_at, updated_at) VALUES (" + q(name) +
              ", 1, 1)");
}

DealId Seed::deal(const std::string& name, std::optional<UserId> owner, bool shared,
                  std::optional<CompanyId> company) {
    return id("INSERT INTO deals (name, owner_id, shared, company_id, stage, created_at, "
              "updated_at) VALUES (" +
              q(name) + ", " + opt(owner) + ", " + (shared ? "1" : "0") + ", " + opt(company) +
              ", 'proposal', 1, 1)");
}

AccountId Seed::account(const std::string& name, const std::string& address,
                        std::optional<UserId> owner) {
    return id("INSERT INTO accounts (name, address, owner_id, created_at, updated_at, "
              "imap_host) VALUES (" +
              q(name) + ", " + q(address) + ", " + opt(owner) + ", 1, 1, 'imap.example')");
}

std::int64_t Seed::mailbox(AccountId account, const std::string& name) {
    return id("INSERT INTO mailboxes (account_id, name, uid_validity) VALUES (" +
              std::to_string(account) + ", " + q(name) + ", 7)");
}

ThreadId Seed::thread(const std::string& subject) {
    return id("INSERT INTO threads (subject, created_at, updated_at) VALUES (" + q(subject) +
              ", 1, 1)");
}

MessageRowId Seed::message(const Msg& m) {
    const std::string sha = "raw" + std::to_string(++blobs_) + "-" + m.message_id;
    env_.insert_blob(sha, m.raw);
    return id("INSERT INTO messages (message_id, content_hash, thread_id, subject, from_name, "
              "from_address, date, received_at, raw_sha256, raw_size, unread, parser_version, "
              "text_body, html_body, warnings_json) VALUES (" +
              q(m.message_id) + ", " + q("hash-" + m.message_id) + ", " + std::to_string(m.thread) +
              ", " + q(m.subject) + ", " + q(m.from_name) + ", " + q(m.from_address) + ", " +
              opt(m.date) + ", " + std::to_string(m.received_at) + ", " + q(sha) + ", " +
              std::to_string(m.raw.size()) + ", " + (m.unread ? "1" : "0") + ", 1, " +
              q(m.text_body) + ", " + q(m.html_body) + ", " + q(m.warnings_json) + ")");
}

std::int64_t Seed::location(MessageRowId message, AccountId account, std::int64_t mailbox,
                            std::int64_t uid) {
    // A read message arrived read: \Seen (an unseen copy is unread for the mailbox's owner).
    return id("INSERT INTO locations (message_id, account_id, mailbox_id, uid_validity, uid, "
              "created_at, flags) SELECT id, " +
              std::to_string(account) + ", " + std::to_string(mailbox) + ", 7, " +
              std::to_string(uid) +
              ", 1, CASE WHEN unread = 1 THEN '' ELSE '\\Seen' END FROM messages WHERE id = " +
              std::to_string(message));
}

std::int64_t Seed::file_location(MessageRowId message, std::optional<UserId> owner,
                                 const std::string& source) {
    return id("INSERT INTO locations (message_id, source, owner_id, created_at) VALUES (" +
              std::to_string(message) + ", " + q(source) + ", " + opt(owner) + ", 1)");
}

void Seed::participant(MessageRowId message, const std::string& role, int position,
                       const std::string& address, const std::string& display_name) {
    env_.exec("INSERT INTO participants (message_id, role, position, address, written, "
              "display_name) VALUES (" +
              std::to_string(message) + ", " + q(role) + ", " + std::to_string(position) + ", " +
              q(address) + ", " + q(address) + ", " + q(display_name) + ")");
}

void Seed::attachment(MessageRowId message, int position, const std::string& filename,
                      const std::string& content_id, const std::string& sha256, std::int64_t size) {
    env_.exec("INSERT INTO attachments (message_id, position, filename, content_type, "
              "content_id, is_inline, size, sha256) VALUES (" +
              std::to_string(message) + ", " + std::to_string(position) + ", " + q(filename) +
              ", 'image/png', " + q(content_id) + ", " + (content_id.empty() ? "0" : "1") + ", " +
              std::to_string(size) + ", " + q(sha256) + ")");
}

void Seed::link(ThreadId thread, DealId deal, const std::string& reason, bool manual) {
    env_.exec("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, linked_at) VALUES (" +
              std::to_string(thread) + ", " + std::to_string(deal) + ", " + (manual ? "1" : "0") +
              ", " + q(reason) + ", 1)");
}

void Seed::unsort(ThreadId thread, const std::string& reason, const std::string& suggestions) {
    env_.exec("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at) VALUES (" +
              std::to_string(thread) + ", " + q(reason) + ", " + q(suggestions) + ", 1)");
}

void Seed::recount(ThreadId thread) {
    const std::string t = std::to_string(thread);
    env_.exec("UPDATE threads SET message_count = (SELECT count(*) FROM messages WHERE "
              "thread_id = " +
              t +
              "), unread_count = (SELECT count(*) FROM messages WHERE "
              "thread_id = " +
              t +
              " AND unread = 1), first_date = (SELECT min(coalesce(date, "
              "received_at)) FROM messages WHERE thread_id = " +
              t +
              "), last_date = (SELECT "
              "max(coalesce(date, received_at)) FROM messages WHERE thread_id = " +
              t + ") WHERE id = " + t);
}

} // namespace crm::backends::test
