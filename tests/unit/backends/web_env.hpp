#pragma once
// The two backends of the web-facing ports side by side, for the conformance tests: the same
// scenario runs on SQLite (store::WebStore, OutboxStore, Work on a store::Database in a temp
// file) and on PostgreSQL (pg::PgWebStore, PgOutbox, PgWork in a schema of its own on the test
// server), and must give the same answers. Seeding is plain SQL both dialects take (RETURNING
// gives the ids), written once in Seed.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "crm/core/backend.hpp"
#include "crm/core/outbox.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/unit_of_work.hpp"

namespace crm::pg {
class Connection;
class LeaseFence;
} // namespace crm::pg

namespace crm::backends::test {

class WebEnv {
  public:
    virtual ~WebEnv() = default;
    [[nodiscard]] virtual std::string name() const = 0;

    // Seeding and white-box reads, in SQL both dialects accept.
    virtual void exec(const std::string& sql) = 0;
    // The first column of the first row as an integer (NULL: nullopt).
    virtual std::optional<std::int64_t> scalar(const std::string& sql) = 0;
    virtual std::string text(const std::string& sql) = 0;
    virtual void insert_blob(const std::string& sha256, const std::string& bytes) = 0;

    virtual Logins& logins() = 0;
    virtual ReadModel& reads() = 0;
    virtual SeenMirror& seen() = 0;
    virtual Outbox& outbox() = 0;
    virtual UnitOfWork& work() = 0;
    virtual Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                   const std::vector<AccountId>& mirror,
                                                   std::int64_t now) = 0;
    virtual Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message,
                                                    bool unread,
                                                    const std::vector<AccountId>& mirror,
                                                    std::int64_t now) = 0;
    virtual Result<MetricsSnapshot> metrics() = 0;
    // The full-text search (SQLite; nullptr where the backend has none).
    virtual Search* search() { return nullptr; }
    // The whole backend, for the use cases (SQLite; nullptr where the environment has none).
    virtual Backend* backend() { return nullptr; }
};

// A fresh, migrated SQLite database in a temp file.
std::unique_ptr<WebEnv> make_sqlite_env();
// A fresh schema on the test server (CRM_TEST_PG_URL), migrated with pg::migrate; nullptr when
// no server is set (the binary run by hand). `fence` is given to the outbox.
std::unique_ptr<WebEnv> make_pg_env(std::shared_ptr<const pg::LeaseFence> fence = nullptr);

// The PostgreSQL environment's own things, for the tests only PostgreSQL has.
class PgWebEnv : public WebEnv {
  public:
    virtual pg::Connection& connection() = 0;
    // Another session in the same schema.
    virtual pg::Connection connect() = 0;
    virtual void set_fence(std::shared_ptr<const pg::LeaseFence> fence) = 0;
};

// Seeding in SQL both take. Ids come back with RETURNING.
class Seed {
  public:
    explicit Seed(WebEnv& env) : env_(env) {}
    UserId user(const std::string& name, const std::string& email, const std::string& role);
    void user_address(UserId user, const std::string& address);
    CompanyId company(const std::string& name);
    DealId deal(const std::string& name, std::optional<UserId> owner, bool shared = false,
                std::optional<CompanyId> company = std::nullopt);
    AccountId account(const std::string& name, const std::string& address,
                      std::optional<UserId> owner);
    std::int64_t mailbox(AccountId account, const std::string& name);
    ThreadId thread(const std::string& subject);
    struct Msg {
        ThreadId thread = 0;
        std::string message_id, subject, from_name, from_address;
        std::optional<std::int64_t> date;
        std::int64_t received_at = 1000;
        bool unread = true;
        std::string text_body = "body", html_body, warnings_json = "[]";
        std::string raw = "raw message";
    };
    static Msg msg(ThreadId thread, std::string message_id, std::string subject,
                   std::string from_name, std::string from_address,
                   std::optional<std::int64_t> date, std::int64_t received_at) {
        Msg m;
        m.thread = thread;
        m.message_id = std::move(message_id);
        m.subject = std::move(subject);
        m.from_name = std::move(from_name);
        m.from_address = std::move(from_address);
        m.date = date;
        m.received_at = received_at;
        return m;
    }
    MessageRowId message(const Msg& m);
    template <class... A> MessageRowId message(ThreadId thread, A&&... rest) {
        return message(msg(thread, std::forward<A>(rest)...));
    }
    // An IMAP copy in `mailbox` of `account`.
    std::int64_t location(MessageRowId message, AccountId account, std::int64_t mailbox,
                          std::int64_t uid);
    // An imported file's copy, owned by `owner`.
    std::int64_t file_location(MessageRowId message, std::optional<UserId> owner,
                               const std::string& source);
    void participant(MessageRowId message, const std::string& role, int position,
                     const std::string& address, const std::string& display_name = "");
    void attachment(MessageRowId message, int position, const std::string& filename,
                    const std::string& content_id, const std::string& sha256, std::int64_t size);
    void link(ThreadId thread, DealId deal, const std::string& reason, bool manual = false);
    void unsort(ThreadId thread, const std::string& reason, const std::string& suggestions = "");
    // Thread counters (message_count, unread_count, dates) from its messages, as ingest keeps them.
    void recount(ThreadId thread);

  private:
    std::int64_t id(const std::string& sql);
    WebEnv& env_;
    int blobs_ = 0;
};

// The value of a Result the test needs: a failed one fails the test and ends it (the exception
// is caught by gtest).
template <class T> T ok(Result<T> r) {
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r)
        throw std::runtime_error(r.error().to_string());
    return std::move(*r);
}
inline void ok(const Result<void>& r) {
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r)
        throw std::runtime_error(r.error().to_string());
}

// SQL string literal.
std::string q(std::string_view s);
std::string opt(const std::optional<std::int64_t>& v);

// Each scenario on both backends: TYPED_TEST over these.
struct SqliteKind {
    static std::unique_ptr<WebEnv> make() { return make_sqlite_env(); }
};
struct PgKind {
    static std::unique_ptr<WebEnv> make() { return make_pg_env(); }
};

template <class Kind> class Web : public ::testing::Test {
  protected:
    void SetUp() override {
        env_ = Kind::make();
        if (!env_)
            GTEST_SKIP() << "CRM_TEST_PG_URL is not set: run through ctest, whose fixture starts "
                            "a server (tests/integration/postgres/pg.sh)";
    }
    WebEnv& env() { return *env_; }
    std::unique_ptr<WebEnv> env_;
};

using Kinds = ::testing::Types<SqliteKind, PgKind>;

// The scenarios only PostgreSQL has (several workers): skipped without a server.
class PgFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        auto env = make_pg_env();
        if (!env)
            GTEST_SKIP() << "CRM_TEST_PG_URL is not set: run through ctest";
        env_.reset(static_cast<PgWebEnv*>(env.release()));
    }
    PgWebEnv& env() { return *env_; }
    std::unique_ptr<PgWebEnv> env_;
};

struct KindNames {
    template <class T> static std::string GetName(int) {
        return std::is_same_v<T, SqliteKind> ? "sqlite" : "pg";
    }
};

} // namespace crm::backends::test
