// The API over a real SQLite file, called in-process (no sockets): status codes, validation,
// authentication, CSRF/Host checks and who may see and do what.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>
#include <boost/json.hpp>

#include "crm/app/ingest.hpp"
#include "crm/core/base64.hpp"
#include "crm/core/clock.hpp"
#include "crm/http/api.hpp"
#include "crm/http/auth.hpp"
#include "crm/mime/parse.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"
#include "crm/store/web_store.hpp"
#include "fake_control.hpp"

namespace crm::http {
namespace {

namespace json = boost::json;

AccountConfig account(const std::string& name, UserId owner, const std::string& addr) {
    AccountConfig a;
    a.name = name;
    a.owner_id = owner;
    a.address = addr;
    a.imap.host = "imap.example.com";
    a.imap.port = 993;
    a.imap.username = addr;
    a.imap.secret = SecretRef{SecretRef::Kind::File, "/etc/secret/" + name};
    return a;
}

class ApiTest : public ::testing::Test {
  protected:
    std::filesystem::path path;
    FakeControl control;
    ManualClock clock{1'700'000'000};
    std::unique_ptr<Api> api;
    std::string alice_token, bob_token; // API tokens
    std::string peer = "127.0.0.1";     // the client address of call()

    void SetUp() override {
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::replace(name.begin(), name.end(), '/', '_'); // parameterised tests: "Name/0"
        path = std::filesystem::temp_directory_path() /
               ("crm_http_test_" + std::to_string(::getpid()) + "_" + name + ".db");
        std::filesystem::remove(path);
        auto db = store::Database::open(path.string());
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->migrate());
        db->reset();
        seed();
        control.configured = {account("alice-mail", 1, "alice@team.test"),
                              account("bob-mail", 2, "bob@team.test")};
        make_api();
        auto db2 = store::Database::open(path.string());
        ASSERT_TRUE(db2);
        store::WebStore ws(**db2);
        for (UserId u : {1, 2, 3}) {
            auto h = hash_password(fmt::format("password-{}", u));
            ASSERT_TRUE(h);
            ASSERT_TRUE(ws.set_password_hash(u, *h, clock.now()));
        }
        alice_token = new_token();
        bob_token = new_token();
        ASSERT_TRUE(ws.create_token(1, "crm", token_hash(alice_token), clock.now()));
        ASSERT_TRUE(ws.create_token(2, "crm", token_hash(bob_token), clock.now()));
    }

    // The Api under test, with `change` applied to the options every test starts from.
    void make_api(const std::function<void(ApiOptions&)>& change = {}) {
        ApiOptions o;
        o.port = 8025;
        o.clock = &clock;
        if (change)
            change(o);
        api = std::make_unique<Api>(o, store::backend_opener(path.string()), control);
    }

    void TearDown() override {
        api.reset();
        for (const char* ext : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + ext);
    }

    void seed() {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA foreign_keys = ON");
        raw.exec(R"sql(
INSERT INTO users (id, name, email, role, created_at, updated_at) VALUES
  (1, 'Alice', 'alice@team.test', 'salesperson', 0, 0),
  (2, 'Bob', 'bob@team.test', 'salesperson', 0, 0),
  (3, 'Ada', 'ada@team.test', 'admin', 0, 0);
INSERT INTO accounts (id, name, owner_id, address, created_at, updated_at) VALUES
  (1, 'alice-mail', 1, 'alice@team.test', 0, 0), (2, 'bob-mail', 2, 'bob@team.test', 0, 0);
INSERT INTO mailboxes (id, account_id, name) VALUES (1, 1, 'INBOX'), (2, 2, 'INBOX');
INSERT INTO deals (id, name, owner_id, shared, created_at, updated_at) VALUES
  (10, 'Acme renewal', 1, 0, 0, 0), (11, 'Globex pilot', 2, 0, 0, 0),
  (12, 'Initech shared', 2, 1, 0, 0);
INSERT INTO blobs (id, sha256, size, data) VALUES (1, 'aa', 5, X'2550444621'), (2, 'bb', 3, 'raw');
INSERT INTO threads (id, subject, first_date, last_date, message_count, unread_count, created_at,
                     updated_at) VALUES
  (100, 'Acme', 1, 1, 1, 1, 0, 0), (101, 'Globex', 2, 2, 1, 1, 0, 0),
  (102, 'Initech', 3, 3, 1, 1, 0, 0), (103, 'Who is this', 4, 4, 1, 1, 0, 0),
  (104, 'For Bob', 5, 5, 1, 1, 0, 0);
INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, linked_at) VALUES
  (100, 10, 0, 'contact', 1, 0), (101, 11, 0, 'contact', 1, 0), (102, 12, 0, 'contact', 1, 0);
INSERT INTO unsorted (thread_id, reason, suggestions, queued_at) VALUES
  (103, 'several open deals', '11 10', 0), (104, 'unknown sender', '', 0);
)sql");
        SQLite::Statement m(raw, "INSERT INTO messages (id, message_id, content_hash, thread_id, "
                                 "subject, from_name, from_address, date, received_at, raw_sha256, "
                                 "raw_size, unread, parser_version, text_body, html_body) VALUES "
                                 "(?, ?, 'h', ?, ?, 'Carol', 'carol@customer.test', ?, 0, 'bb', 3, "
                                 "1, 1, ?, ?)");
        SQLite::Statement l(raw, "INSERT INTO locations (message_id, account_id, mailbox_id, "
                                 "uid_validity, uid, owner_id, created_at) VALUES (?, ?, ?, 1, ?, "
                                 "?, 0)");
        const struct {
            int id, thread, account;
        } rows[] = {{1000, 100, 1}, {1001, 101, 2}, {1002, 102, 2}, {1003, 103, 1}, {1004, 104, 2}};
        for (const auto& r : rows) {
            m.reset();
            m.bind(1, r.id);
            m.bind(2, fmt::format("m{}@customer.test", r.id));
            m.bind(3, r.thread);
            m.bind(4, fmt::format("Subject {}", r.id));
            m.bind(5, r.id);
            m.bind(6, "Hello\n\nOn Mon, Bob wrote:\n> earlier\n");
            m.bind(7, r.id == 1000 ? "<p>Hi<script>alert(1)</script><img src=\"https://t.example/"
                                     "px.gif\"></p>"
                                   : "");
            m.exec();
            l.reset();
            l.bind(1, r.id);
            l.bind(2, r.account);
            l.bind(3, r.account);
            l.bind(4, r.id);
            l.bind(5, r.account);
            l.exec();
        }
        raw.exec("INSERT INTO participants (message_id, role, position, address, written, "
                 "display_name) VALUES (1000, 'from', 0, 'carol@customer.test', "
                 "'carol@customer.test', 'Carol'), (1000, 'to', 0, 'alice@team.test', "
                 "'alice@team.test', '')");
        raw.exec("INSERT INTO attachments (message_id, position, filename, content_type, size, "
                 "sha256) VALUES (1000, 0, 'quote \"Q1\".pdf', 'application/pdf', 5, 'aa'), "
                 "(1001, 0, 'secret.pdf', 'application/pdf', 5, 'aa')");
    }

    Response call(const std::string& method, const std::string& target,
                  const std::string& body = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
        Request r;
        r.method = method;
        r.target = target;
        r.peer = peer;
        r.headers = {{"host", "127.0.0.1:8025"}};
        if (!body.empty())
            r.headers.emplace_back("content-type", "application/json");
        for (auto& h : headers) {
            bool replaced = false;
            for (auto& e : r.headers)
                if (e.first == h.first) {
                    e.second = h.second;
                    replaced = true;
                }
            if (!replaced)
                r.headers.push_back(h);
        }
        r.body = body;
        return api->handle(r);
    }
    // As a user via API token.
    Response as(const std::string& token, const std::string& method, const std::string& target,
                const std::string& body = {}) {
        return call(method, target, body, {{"authorization", "Bearer " + token}});
    }
    std::string admin_token() {
        auto db = store::Database::open(path.string());
        store::WebStore ws(**db);
        auto t = new_token();
        EXPECT_TRUE(ws.create_token(3, "admin", token_hash(t), clock.now()));
        return t;
    }
    static json::value body_of(const Response& r) { return json::parse(r.body); }
    static std::string code_of(const Response& r) {
        return std::string(body_of(r).at("error").at("code").as_string());
    }
    std::string login_cookie(const std::string& email, const std::string& pw) {
        auto r = call("POST", "/api/v1/auth/login",
                      json::serialize(json::object{{"email", email}, {"password", pw}}));
        EXPECT_EQ(r.status, 200) << r.body;
        auto sc = std::string(r.header("Set-Cookie").value_or(""));
        return sc.substr(0, sc.find(';'));
    }
};

std::vector<std::int64_t> ids(const json::value& list) {
    std::vector<std::int64_t> out;
    for (const auto& v : list.as_array())
        out.push_back(v.at("id").as_int64());
    return out;
}

TEST_F(ApiTest, RefusesForeignHostNames) {
    auto r = call("GET", "/healthz", {}, {{"host", "attacker.example:8025"}});
    EXPECT_EQ(r.status, 421);
    EXPECT_EQ(code_of(r), "host.invalid");
    EXPECT_EQ(call("GET", "/healthz", {}, {{"host", "localhost:8025"}}).status, 200);
    EXPECT_EQ(call("GET", "/healthz", {}, {{"host", "127.0.0.1:9999"}}).status, 421);
}

// /healthz: the one-machine answer stays {"status":"ok"}; a worker on a shared database says
// which it is and how many leases it holds, and answers 503 while the database is unreachable.
TEST_F(ApiTest, HealthzReportsTheWorkerItsLeasesAndTheDatabase) {
    auto plain = call("GET", "/healthz");
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(plain.body, R"({"status":"ok"})");
    control.health_report = Health{true, 7, 4};
    auto worker = call("GET", "/healthz");
    EXPECT_EQ(worker.status, 200);
    auto v = json::parse(worker.body).as_object();
    EXPECT_EQ(v.at("status").as_string(), "ok");
    EXPECT_EQ(v.at("worker").as_int64(), 7);
    EXPECT_EQ(v.at("leases").as_int64(), 4);
    EXPECT_TRUE(v.at("database").as_bool());
    control.health_report.database_reachable = false;
    auto down = call("GET", "/healthz");
    EXPECT_EQ(down.status, 503);
    EXPECT_EQ(json::parse(down.body).at("status").as_string(), "unavailable");
}

// http.allowed_hosts adds the proxy's name; the loopback names with our port stay allowed, so
// local health checks and the operator's browser on the host keep working.
TEST_F(ApiTest, LoopbackHostsStayAllowedNextToAllowedHosts) {
    make_api([](ApiOptions& o) { o.allowed_hosts = {"crm.example.com"}; });
    for (const char* host : {"crm.example.com", "127.0.0.1:8025", "localhost:8025", "[::1]:8025"})
        EXPECT_EQ(call("GET", "/healthz", {}, {{"host", host}}).status, 200) << host;
    EXPECT_EQ(call("GET", "/healthz", {}, {{"host", "127.0.0.1:9999"}}).status, 421);
    EXPECT_EQ(call("GET", "/healthz", {}, {{"host", "evil.example"}}).status, 421);
    auto cookie = login_cookie("alice@team.test", "password-1");
    EXPECT_EQ(call("POST", "/api/v1/threads/100/read", R"({"unread":false})",
                   {{"cookie", cookie}, {"origin", "https://crm.example.com"}})
                  .status,
              200);
    EXPECT_EQ(call("POST", "/api/v1/threads/100/read", R"({"unread":false})",
                   {{"cookie", cookie}, {"origin", "http://localhost:8025"}})
                  .status,
              200);
}

// RFC 9112 §3.2: a request with two Host fields is refused, whichever comes first.
TEST_F(ApiTest, TwoHostHeadersAreRefused) {
    for (auto hosts : {std::pair<std::string, std::string>{"127.0.0.1:8025", "evil.example"},
                       {"evil.example", "127.0.0.1:8025"},
                       {"127.0.0.1:8025", "127.0.0.1:8025"}}) {
        Request r;
        r.method = "GET";
        r.target = "/api/v1/deals";
        r.peer = "127.0.0.1";
        r.headers = {{"host", hosts.first},
                     {"authorization", "Bearer " + alice_token},
                     {"host", hosts.second}};
        auto res = api->handle(r);
        EXPECT_EQ(res.status, 400) << hosts.first << " " << hosts.second;
        EXPECT_EQ(code_of(res), "host.invalid");
    }
}

TEST_F(ApiTest, MetricsOnlyForLocalClientsOrWithTheToken) {
    for (const char* ip : {"127.0.0.1", "127.0.0.53", "::1", "::ffff:127.0.0.1"}) {
        peer = ip;
        EXPECT_TRUE(call("GET", "/metrics").body.starts_with("crm_up 1\n")) << ip;
    }
    peer = "127.0.0.1"; // but a local reverse proxy forwarding someone else's request
    for (const char* fwd : {"forwarded", "x-forwarded-for", "x-real-ip"})
        EXPECT_EQ(call("GET", "/metrics", {}, {{fwd, "203.0.113.9"}}).status, 403) << fwd;
    for (const char* ip : {"10.0.0.5", "::ffff:10.0.0.5", "2001:db8::1", "128.0.0.1"}) {
        peer = ip;
        auto r = call("GET", "/metrics");
        EXPECT_EQ(r.status, 403) << ip;
        EXPECT_EQ(r.body.find("crm_up"), std::string::npos);
        EXPECT_EQ(code_of(r), "forbidden");
        // Not even with a valid API token: /metrics has its own.
        EXPECT_EQ(as(alice_token, "GET", "/metrics").status, 403);
    }

    make_api([](ApiOptions& o) { o.metrics_token = "metrics-s3cret-token"; });
    peer = "10.0.0.5";
    auto none = call("GET", "/metrics");
    EXPECT_EQ(none.status, 401);
    EXPECT_EQ(none.header("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(none.body.find("crm_up"), std::string::npos);
    for (const char* wrong : {"metrics-s3cret-toke", "metrics-s3cret-tokenX", "", "x"})
        EXPECT_EQ(
            call("GET", "/metrics", {}, {{"authorization", std::string("Bearer ") + wrong}}).status,
            401)
            << wrong;
    EXPECT_EQ(as(alice_token, "GET", "/metrics").status, 401);
    auto ok = call("GET", "/metrics", {}, {{"authorization", "Bearer metrics-s3cret-token"}});
    EXPECT_EQ(ok.status, 200);
    EXPECT_TRUE(ok.body.starts_with("crm_up 1\n")) << ok.body;
    peer = "::1";
    EXPECT_EQ(call("GET", "/metrics").status, 200); // local clients need no token
}

TEST_F(ApiTest, NeedsAuthentication) {
    auto r = call("GET", "/api/v1/deals");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(code_of(r), "auth.required");
    EXPECT_EQ(as("not-a-token", "GET", "/api/v1/deals").status, 401);
    EXPECT_EQ(call("GET", "/api/v1/deals", {}, {{"authorization", "Basic eDp5"}}).status, 401);
}

TEST_F(ApiTest, LoginSetsAStrictHttpOnlyCookieAndLogoutEndsIt) {
    auto bad = call("POST", "/api/v1/auth/login",
                    R"({"email":"alice@team.test","password":"wrong"})");
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(code_of(bad), "auth.invalid");
    EXPECT_FALSE(bad.header("Set-Cookie"));
    auto unknown = call("POST", "/api/v1/auth/login",
                        R"({"email":"nobody@team.test","password":"x"})");
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(body_of(unknown).at("error").at("message"), body_of(bad).at("error").at("message"));

    auto ok = call("POST", "/api/v1/auth/login",
                   R"({"email":"ALICE@team.test","password":"password-1"})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    auto sc = std::string(ok.header("Set-Cookie").value_or(""));
    EXPECT_NE(sc.find("HttpOnly"), std::string::npos);
    EXPECT_NE(sc.find("SameSite=Strict"), std::string::npos);
    EXPECT_EQ(body_of(ok).at("user").at("id").as_int64(), 1);
    EXPECT_EQ(ok.body.find("password"), std::string::npos);
    auto cookie = sc.substr(0, sc.find(';'));
    auto me = call("GET", "/api/v1/me", {}, {{"cookie", "x=1; " + cookie}});
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(body_of(me).at("accounts").as_array().size(), 1u);
    EXPECT_EQ(body_of(me).at("accounts").at(0).at("name"), "alice-mail");
    auto out = call("POST", "/api/v1/auth/logout", {},
                    {{"cookie", cookie}, {"origin", "http://127.0.0.1:8025"}});
    EXPECT_EQ(out.status, 204);
    EXPECT_EQ(call("GET", "/api/v1/me", {}, {{"cookie", cookie}}).status, 401);
}

// Logging out changes the cookie like any other cookie change: our Origin, present (CSRF).
TEST_F(ApiTest, LogoutNeedsOurOrigin) {
    auto cookie = login_cookie("alice@team.test", "password-1");
    auto none = call("POST", "/api/v1/auth/logout", {}, {{"cookie", cookie}});
    EXPECT_EQ(none.status, 403);
    EXPECT_EQ(code_of(none), "csrf.origin");
    EXPECT_FALSE(none.header("Set-Cookie"));
    auto foreign = call("POST", "/api/v1/auth/logout", {},
                        {{"cookie", cookie}, {"origin", "http://evil.example"}});
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(call("GET", "/api/v1/me", {}, {{"cookie", cookie}}).status, 200); // still in
    EXPECT_EQ(call("POST", "/api/v1/auth/logout", {},
                   {{"cookie", cookie}, {"origin", "http://127.0.0.1:8025"}})
                  .status,
              204);
    EXPECT_EQ(call("GET", "/api/v1/me", {}, {{"cookie", cookie}}).status, 401);
    // Without a session there is nothing to protect.
    EXPECT_EQ(call("POST", "/api/v1/auth/logout").status, 204);
}

TEST_F(ApiTest, SessionsExpire) {
    auto cookie = login_cookie("bob@team.test", "password-2");
    EXPECT_EQ(call("GET", "/api/v1/me", {}, {{"cookie", cookie}}).status, 200);
    clock.advance(13 * 3600);
    EXPECT_EQ(call("GET", "/api/v1/me", {}, {{"cookie", cookie}}).status, 401);
}

TEST_F(ApiTest, LoginFailuresAreThrottledPerEmail) {
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(call("POST", "/api/v1/auth/login",
                       R"({"email":"alice@team.test","password":"guess"})")
                      .status,
                  401);
    auto r = call("POST", "/api/v1/auth/login",
                  R"({"email":"alice@team.test","password":"password-1"})");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(code_of(r), "auth.rate_limited");
    EXPECT_TRUE(r.header("Retry-After"));
    // Another user is not locked out by Alice's attacker.
    EXPECT_EQ(call("POST", "/api/v1/auth/login",
                   R"({"email":"bob@team.test","password":"password-2"})")
                  .status,
              200);
    clock.advance(15 * 60 + 1);
    EXPECT_EQ(call("POST", "/api/v1/auth/login",
                   R"({"email":"alice@team.test","password":"password-1"})")
                  .status,
              200);
}

// Issue 15 item 7: a wrong password from one client never locks the account for others.
TEST_F(ApiTest, AccountLockedByOneClientStillOpensForAnother) {
    peer = "203.0.113.9";
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(
            call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"guess"})")
                .status,
            401);
    EXPECT_EQ(
        call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"password-1"})")
            .status,
        429);              // the failing client waits, even with the right password
    peer = "198.51.100.7"; // Alice at her desk
    EXPECT_EQ(
        call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"password-1"})")
            .status,
        200);
}

// Behind a trusted proxy the client is X-Forwarded-For's right-most untrusted hop; a spray of
// made-up e-mails locks out the sprayer only. From an untrusted peer the header is ignored.
TEST_F(ApiTest, ThrottleSeesTheClientBehindATrustedProxy) {
    make_api([](ApiOptions& o) { o.trusted_proxies = {"127.0.0.1", "10.1.0.0/16"}; });
    auto login = [&](const std::string& xff, const std::string& email, const std::string& pw) {
        return call("POST", "/api/v1/auth/login",
                    json::serialize(json::object{{"email", email}, {"password", pw}}),
                    {{"x-forwarded-for", xff}})
            .status;
    };
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(login("6.6.6.6, 10.1.2.3", fmt::format("made-up-{}@x.test", i), "x"), 401);
    EXPECT_EQ(login("6.6.6.6, 10.1.2.3", "made-up-20@x.test", "x"), 429);
    // A forged left-most entry does not help the sprayer: the proxies' hop is believed.
    EXPECT_EQ(login("198.51.100.7, 6.6.6.6", "made-up-21@x.test", "x"), 429);
    EXPECT_EQ(login("198.51.100.7", "alice@team.test", "password-1"), 200);
    // The session records the client, not the proxy.
    SQLite::Database raw(path.string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("SELECT client_address FROM sessions ORDER BY created_at DESC LIMIT 1")
                  .getString(),
              "198.51.100.7");

    // Without the proxy listed, everyone behind it is one client: the header is not believed.
    make_api();
    for (int i = 0; i < 20; ++i)
        EXPECT_EQ(login("6.6.6.6", fmt::format("made-up-{}@x.test", i), "x"), 401);
    EXPECT_EQ(login("198.51.100.7", "alice@team.test", "password-1"), 429);
}

TEST_F(ApiTest, ThrottleCountsAnIpv6ClientByItsSlash64) {
    for (int i = 0; i < 5; ++i) {
        peer = fmt::format("2001:db8:1:2::{}", i + 1);
        EXPECT_EQ(
            call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"guess"})")
                .status,
            401);
    }
    peer = "2001:db8:1:2:ffff::9";
    EXPECT_EQ(
        call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"guess"})")
            .status,
        429);
    peer = "2001:db8:1:3::1"; // another /64
    EXPECT_EQ(
        call("POST", "/api/v1/auth/login", R"({"email":"alice@team.test","password":"password-1"})")
            .status,
        200);
}

// The limit holds under concurrency: the token is taken before the password is checked.
TEST_F(ApiTest, ConcurrentWrongPasswordsPassTheLimitNoMoreThanItAllows) {
    std::mutex mu;
    std::vector<std::string> lines;
    make_api([&](ApiOptions& o) {
        o.log = [&](LogLevel level, const LogContext&, std::string_view event,
                    std::string_view msg) {
            std::lock_guard lock(mu);
            if (level == LogLevel::Warning && event == "auth")
                lines.emplace_back(msg);
        };
    });
    std::atomic<int> unauthorized{0}, limited{0}, go{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i)
        threads.emplace_back([&] {
            while (go.load() == 0)
                std::this_thread::yield();
            auto st = call("POST", "/api/v1/auth/login",
                           R"({"email":"alice@team.test","password":"guess"})")
                          .status;
            (st == 401 ? unauthorized : st == 429 ? limited : go) += 1;
        });
    go = 1;
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(unauthorized.load(), 5);
    EXPECT_EQ(limited.load(), 11);
    ASSERT_FALSE(lines.empty()); // the lockout is logged, naming the client and the account
    EXPECT_NE(lines.front().find("127.0.0.1"), std::string::npos) << lines.front();
    EXPECT_NE(lines.front().find("alice@team.test"), std::string::npos) << lines.front();
    EXPECT_EQ(lines.front().find("guess"), std::string::npos); // never the password
}

TEST_F(ApiTest, CookieChangesNeedOurOrigin) {
    auto cookie = login_cookie("alice@team.test", "password-1");
    const std::string body = R"({"unread":false})";
    auto foreign = call("POST", "/api/v1/threads/100/read", body,
                        {{"cookie", cookie}, {"origin", "http://evil.example"}});
    EXPECT_EQ(foreign.status, 403);
    EXPECT_EQ(code_of(foreign), "csrf.origin");
    auto none = call("POST", "/api/v1/threads/100/read", body, {{"cookie", cookie}});
    EXPECT_EQ(none.status, 403);
    auto ours = call("POST", "/api/v1/threads/100/read", body,
                     {{"cookie", cookie}, {"origin", "http://127.0.0.1:8025"}});
    EXPECT_EQ(ours.status, 200) << ours.body;
    // API tokens are not sent by browsers on their own: no Origin needed.
    EXPECT_EQ(as(alice_token, "POST", "/api/v1/threads/100/read", R"({"unread":true})").status,
              200);
}

TEST_F(ApiTest, BodiesMustBeJson) {
    auto r = call("POST", "/api/v1/threads/100/read", "unread=false",
                  {{"authorization", "Bearer " + alice_token},
                   {"content-type", "application/x-www-form-urlencoded"}});
    EXPECT_EQ(r.status, 415);
    auto bad = as(alice_token, "POST", "/api/v1/threads/100/read", "{not json");
    EXPECT_EQ(bad.status, 400);
    auto wrong = as(alice_token, "POST", "/api/v1/threads/100/read", R"({"unread":"no"})");
    EXPECT_EQ(wrong.status, 422);
    EXPECT_EQ(body_of(wrong).at("error").at("field"), "unread");
}

TEST_F(ApiTest, SalespeopleSeeTheirOwnAndSharedDealsOnly) {
    auto deals = as(alice_token, "GET", "/api/v1/deals");
    ASSERT_EQ(deals.status, 200);
    auto seen = ids(body_of(deals).at("deals"));
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<std::int64_t>{10, 12}));
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/deals/11").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/deals/11/threads").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/threads/101").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/messages/1001/attachments/0").status, 404);
    EXPECT_EQ(as(alice_token, "POST", "/api/v1/messages/1001/read", R"({"unread":false})").status,
              404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/threads/102").status, 200); // shared deal
    auto unsorted = as(alice_token, "GET", "/api/v1/unsorted");
    EXPECT_EQ(ids(body_of(unsorted).at("threads")), (std::vector<std::int64_t>{103}));
    // Suggestions name only deals Alice may see.
    auto sugg = body_of(unsorted).at("threads").at(0).at("suggestions").as_array();
    ASSERT_EQ(sugg.size(), 1u);
    EXPECT_EQ(sugg.at(0).at("id").as_int64(), 10);

    auto admin = admin_token();
    EXPECT_EQ(ids(body_of(as(admin, "GET", "/api/v1/deals")).at("deals")).size(), 3u);
    EXPECT_EQ(ids(body_of(as(admin, "GET", "/api/v1/unsorted")).at("threads")).size(), 2u);
}

TEST_F(ApiTest, ThreadViewCarriesMessagesAttachmentsAndQuotedTail) {
    auto r = as(alice_token, "GET", "/api/v1/threads/100");
    ASSERT_EQ(r.status, 200) << r.body;
    auto v = body_of(r);
    EXPECT_EQ(v.at("thread").at("deal").at("id").as_int64(), 10);
    const auto& m = v.at("messages").at(0);
    EXPECT_EQ(m.at("from").at("address"), "carol@customer.test");
    EXPECT_EQ(m.at("quoted_from").as_int64(), 7);
    EXPECT_EQ(m.at("has_html"), true);
    EXPECT_EQ(m.at("html_url"), "/api/v1/messages/1000/html");
    EXPECT_EQ(m.at("remote_images").as_int64(), 1);
    EXPECT_EQ(m.at("attachments").at(0).at("url"), "/api/v1/messages/1000/attachments/0");
}

TEST_F(ApiTest, HtmlIsSanitisedAndServedUnderAStrictPolicy) {
    auto r = as(alice_token, "GET", "/api/v1/messages/1000/html");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("<script"), std::string::npos);
    EXPECT_EQ(r.body.find("t.example"), std::string::npos); // remote image blocked
    auto csp = std::string(r.header("Content-Security-Policy").value_or(""));
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
    EXPECT_EQ(csp.find("script-src"), std::string::npos); // falls back to 'none'
    EXPECT_EQ(csp.find("https:"), std::string::npos);
    auto shown = as(alice_token, "GET", "/api/v1/messages/1000/html?images=1");
    EXPECT_NE(shown.body.find("https://t.example/px.gif"), std::string::npos);
    EXPECT_NE(std::string(shown.header("Content-Security-Policy").value_or("")).find("https:"),
              std::string::npos);
}

// Mail stored by this version keeps attachment bytes only inside the raw message: the download
// decodes the part again and checks its hash.
TEST_F(ApiTest, AttachmentKeptOnlyInTheRawMessageIsDecodedAgain) {
    const std::string mail = "From: carol@customer.test\r\nMIME-Version: 1.0\r\n"
                             "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
                             "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
                             "--b\r\nContent-Type: text/csv; name=\"p.csv\"\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\nYSxiCjEsMgo=\r\n--b--\r\n";
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        SQLite::Statement u(raw, "UPDATE blobs SET data = ?, size = ? WHERE sha256 = 'bb'");
        u.bind(1, mail);
        u.bind(2, static_cast<std::int64_t>(mail.size()));
        u.exec();
        raw.exec("INSERT INTO attachments (message_id, position, filename, content_type, size, "
                 "sha256) VALUES (1000, 1, 'p.csv', 'text/csv', 8, '" +
                 mime::sha256_hex("a,b\n1,2\n") + "'), (1000, 2, 'gone.csv', 'text/csv', 8, '" +
                 mime::sha256_hex("other") + "')");
    }
    auto r = as(alice_token, "GET", "/api/v1/messages/1000/attachments/1");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "a,b\n1,2\n");
    EXPECT_TRUE(std::string(r.header("Content-Disposition").value_or("")).find("p.csv") !=
                std::string::npos);
    // No part has the recorded hash: an error naming it, never other bytes.
    auto bad = as(alice_token, "GET", "/api/v1/messages/1000/attachments/2");
    EXPECT_EQ(bad.status, 500);
    EXPECT_NE(bad.body.find(mime::sha256_hex("other")), std::string::npos) << bad.body;
}

TEST_F(ApiTest, AttachmentsDownloadWithASafeDisposition) {
    auto r = as(alice_token, "GET", "/api/v1/messages/1000/attachments/0");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "%PDF!");
    EXPECT_EQ(r.header("Content-Type"), "application/pdf");
    auto cd = std::string(r.header("Content-Disposition").value_or(""));
    EXPECT_TRUE(cd.starts_with("attachment; filename=\"quote _Q1_.pdf\""));
    EXPECT_NE(cd.find("filename*=UTF-8''quote%20%22Q1%22.pdf"), std::string::npos);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/messages/1000/attachments/7").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/messages/1000/attachments/x").status, 404);
}

// Mail is private: neither a shared cache nor the browser's disk cache keeps it.
TEST_F(ApiTest, MailIsNeverCached) {
    for (const char* target :
         {"/api/v1/messages/1000/attachments/0", "/api/v1/messages/1000/attachments/0?inline=1",
          "/api/v1/messages/1000/html", "/api/v1/messages/1000/html?images=1"}) {
        auto r = as(alice_token, "GET", target);
        ASSERT_EQ(r.status, 200) << target;
        EXPECT_EQ(r.header("Cache-Control"), "private, no-store") << target;
    }
}

TEST_F(ApiTest, ReadMarksKeepTheCounters) {
    ASSERT_EQ(as(alice_token, "POST", "/api/v1/threads/100/read", R"({"unread":false})").status,
              200);
    auto t = body_of(as(alice_token, "GET", "/api/v1/threads/100"));
    EXPECT_EQ(t.at("thread").at("unread_count").as_int64(), 0);
    EXPECT_EQ(t.at("messages").at(0).at("unread"), false);
    auto d = body_of(as(alice_token, "GET", "/api/v1/deals/10"));
    EXPECT_EQ(d.at("deal").at("unread").as_int64(), 0);
    ASSERT_EQ(as(alice_token, "POST", "/api/v1/messages/1000/read", R"({"unread":true})").status,
              200);
    d = body_of(as(alice_token, "GET", "/api/v1/deals/10"));
    EXPECT_EQ(d.at("deal").at("unread").as_int64(), 1);
}

// deal_stats (triggers) must equal the aggregate over linked threads after any change.
void expect_deal_stats_consistent(const std::filesystem::path& path) {
    SQLite::Database raw(path.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "SELECT count(*) FROM (SELECT d.id, coalesce(s.threads, 0) st, "
                             "coalesce(s.messages, 0) sm, coalesce(s.unread, 0) su, s.last_date sl, "
                             "(SELECT count(*) FROM thread_deals td WHERE td.deal_id = d.id) at, "
                             "(SELECT coalesce(sum(t.message_count), 0) FROM thread_deals td JOIN "
                             "threads t ON t.id = td.thread_id WHERE td.deal_id = d.id) am, "
                             "(SELECT coalesce(sum(t.unread_count), 0) FROM thread_deals td JOIN "
                             "threads t ON t.id = td.thread_id WHERE td.deal_id = d.id) au, "
                             "(SELECT max(t.last_date) FROM thread_deals td JOIN threads t ON t.id "
                             "= td.thread_id WHERE td.deal_id = d.id) al FROM deals d LEFT JOIN "
                             "deal_stats s ON s.deal_id = d.id) WHERE st != at OR sm != am OR su "
                             "!= au OR sl IS NOT al");
    ASSERT_TRUE(q.executeStep());
    EXPECT_EQ(q.getColumn(0).getInt(), 0) << "deal_stats differs from the linked threads";
}

TEST_F(ApiTest, DealCountersFollowLinksAndReadMarks) {
    expect_deal_stats_consistent(path);
    auto d = body_of(as(alice_token, "GET", "/api/v1/deals/10")).at("deal");
    EXPECT_EQ(d.at("threads").as_int64(), 1);
    EXPECT_EQ(d.at("unread").as_int64(), 1);
    ASSERT_EQ(as(alice_token, "POST", "/api/v1/threads/103/link", R"({"deal_id":10})").status, 200);
    expect_deal_stats_consistent(path);
    d = body_of(as(alice_token, "GET", "/api/v1/deals/10")).at("deal");
    EXPECT_EQ(d.at("threads").as_int64(), 2);
    EXPECT_EQ(d.at("messages").as_int64(), 2);
    EXPECT_EQ(d.at("unread").as_int64(), 2);
    EXPECT_EQ(d.at("last_date").as_int64(), 4);
    ASSERT_EQ(as(alice_token, "POST", "/api/v1/threads/103/read", R"({"unread":false})").status,
              200);
    expect_deal_stats_consistent(path);
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/deals/10")).at("deal").at("unread").as_int64(),
              1);
    auto admin = admin_token();
    ASSERT_EQ(as(admin, "POST", "/api/v1/threads/103/link", R"({"deal_id":12})").status, 200);
    expect_deal_stats_consistent(path);
    ASSERT_EQ(as(admin, "DELETE", "/api/v1/threads/100/link").status, 200);
    expect_deal_stats_consistent(path);
    d = body_of(as(admin, "GET", "/api/v1/deals/10")).at("deal");
    EXPECT_EQ(d.at("threads").as_int64(), 0);
    EXPECT_TRUE(d.at("last_date").is_null());
}

TEST_F(ApiTest, LinkingNeedsAVisibleDealAndManualLinksStick) {
    auto bad = as(alice_token, "POST", "/api/v1/threads/103/link", R"({"deal_id":11})");
    EXPECT_EQ(bad.status, 422);
    EXPECT_EQ(body_of(bad).at("error").at("field"), "deal_id");
    auto missing = as(alice_token, "POST", "/api/v1/threads/103/link", R"({"deal":10})");
    EXPECT_EQ(missing.status, 422);
    auto ok = as(alice_token, "POST", "/api/v1/threads/103/link", R"({"deal_id":10})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(body_of(ok).at("thread").at("deal").at("id").as_int64(), 10);
    EXPECT_EQ(body_of(ok).at("thread").at("manual"), true);
    EXPECT_TRUE(ids(body_of(as(alice_token, "GET", "/api/v1/unsorted")).at("threads")).empty());
    auto un = as(alice_token, "DELETE", "/api/v1/threads/103/link");
    ASSERT_EQ(un.status, 200);
    EXPECT_EQ(body_of(un).at("thread").at("reason"),
              "not this deal: unlinked by hand from deal 10");
    EXPECT_EQ(as(bob_token, "POST", "/api/v1/threads/100/link", R"({"deal_id":11})").status, 404);
}

TEST_F(ApiTest, NotPartOfThisConversationSplitsAMessageAndItsReplies) {
    {
        // Thread 100 (Alice's): m1000, then m1005 answering it and m1006 answering m1005.
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO messages (id, message_id, content_hash, thread_id, subject, "
                 "from_address, date, received_at, raw_sha256, raw_size, unread, parser_version, "
                 "refs, in_reply_to) VALUES "
                 "(1005, 'm1005@customer.test', 'h', 100, 'Re: x', 'dan@other.test', 6, 0, 'bb', "
                 "3, 1, 1, 'm1000@customer.test', 'm1000@customer.test'), "
                 "(1006, 'm1006@customer.test', 'h', 100, 'Re: x', 'dan@other.test', 7, 0, 'bb', "
                 "3, 1, 1, 'm1000@customer.test m1005@customer.test', 'm1005@customer.test')");
        raw.exec("INSERT INTO locations (message_id, account_id, mailbox_id, uid_validity, uid, "
                 "owner_id, created_at) VALUES (1005, 1, 1, 1, 1005, 1, 0), "
                 "(1006, 1, 1, 1, 1006, 1, 0)");
        raw.exec("INSERT INTO thread_keys (key, thread_id) VALUES ('m1000@customer.test', 100), "
                 "('m1005@customer.test', 100), ('m1006@customer.test', 100)");
    }
    // Someone else's message: not found, nothing moves.
    EXPECT_EQ(as(bob_token, "POST", "/api/v1/messages/1005/split", "{}").status, 404);
    EXPECT_EQ(as(alice_token, "POST", "/api/v1/messages/1005/split", R"({"x":1})").status, 422);
    auto r = as(alice_token, "POST", "/api/v1/messages/1005/split", "{}");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto b = body_of(r);
    EXPECT_EQ(b.at("from_thread_id").as_int64(), 100);
    EXPECT_EQ(b.at("moved").as_int64(), 2);
    EXPECT_EQ(b.at("thread").at("reason"), "split from thread 100 by Alice");
    EXPECT_EQ(b.at("thread").at("deal"), nullptr);
    EXPECT_EQ(b.at("thread").at("message_count").as_int64(), 2);
    const std::int64_t fresh = b.at("thread").at("id").as_int64();
    EXPECT_NE(fresh, 100);
    // The split thread is in Alice's unsorted queue; thread 100 keeps m1000 and its deal.
    const auto unsorted = ids(body_of(as(alice_token, "GET", "/api/v1/unsorted")).at("threads"));
    EXPECT_NE(std::find(unsorted.begin(), unsorted.end(), fresh), unsorted.end());
    const auto old = body_of(as(alice_token, "GET", "/api/v1/threads/100"));
    EXPECT_EQ(old.at("messages").as_array().size(), 1U);
    EXPECT_EQ(old.at("thread").at("deal").at("id").as_int64(), 10);
    // Nothing would stay behind: refused, naming why.
    auto whole = as(alice_token, "POST", "/api/v1/messages/1000/split", "{}");
    EXPECT_EQ(whole.status, 409);
    EXPECT_EQ(code_of(whole), "split_whole");
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/messages/1005/split").status, 405);
}

// Two salespeople whose mail meets in one thread: by References, by Outlook's Thread-Index and
// by a reply that lost its headers. Each sees only the messages of their own mailbox.
class SharedThreadTest : public ApiTest, public ::testing::WithParamInterface<const char*> {
  protected:
    // Stores `raw` as found in `account`'s INBOX (owner = the account's owner) through the real
    // ingest, and returns its row id.
    MessageRowId deliver(AccountId account, UserId owner, std::int64_t uid, const std::string& raw) {
        auto db = store::Database::open(path.string());
        EXPECT_TRUE(db);
        store::Store s(**db);
        app::Ingestor ing(s, s);
        app::IngestSource src;
        src.raw = raw;
        src.where.account = account;
        src.where.mailbox = account;
        src.where.uid_validity = 1;
        src.where.uid = uid;
        src.where.owner = owner;
        src.owner = owner;
        auto out = ing.ingest(src, mime::parse(raw), clock.now());
        EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().to_string());
        return out ? out->message : 0;
    }
    std::int64_t thread_of(MessageRowId m) {
        SQLite::Database raw(path.string());
        return raw.execAndGet(fmt::format("SELECT thread_id FROM messages WHERE id = {}", m)).getInt64();
    }
    std::int64_t unread_of(MessageRowId m) {
        SQLite::Database raw(path.string());
        return raw.execAndGet(fmt::format("SELECT unread FROM messages WHERE id = {}", m)).getInt64();
    }
};

TEST_P(SharedThreadTest, EachSalespersonSeesOnlyTheirOwnMail) {
    const std::string how = GetParam();
    const std::string ti_root = "AdbGqHnM2YHUzuIzQq2gAtLNCTDrmg==";
    std::string bobs = "From: Carol <carol@customer.test>\r\nTo: bob@team.test\r\n"
                       "Subject: Budget figures for next year\r\n"
                       "Date: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <b-1@customer.test>\r\n";
    std::string alices = "From: Carol <carol@customer.test>\r\nTo: alice@team.test\r\n"
                         "Subject: Re: Budget figures for next year\r\n"
                         "Date: Tue, 03 Nov 2026 09:00:00 +0000\r\nMessage-ID: <a-1@customer.test>\r\n";
    if (how == std::string("references")) {
        alices += "In-Reply-To: <b-1@customer.test>\r\nReferences: <b-1@customer.test>\r\n";
    } else if (how == std::string("thread-index")) {
        bobs += "Thread-Index: " + ti_root + "\r\n";
        alices += "Thread-Index: " + ti_root.substr(0, ti_root.size() - 2) + "AAAAAAAB\r\n";
    }
    bobs += "\r\nThe private figures: 1.2M.\r\n";
    alices += "\r\nCan we meet?\r\n";
    const MessageRowId b = deliver(2, 2, 50, bobs);
    const MessageRowId a = deliver(1, 1, 51, alices);
    ASSERT_EQ(thread_of(a), thread_of(b)) << how << ": the two should share a thread";
    const auto t = thread_of(a);
    const std::string tp = fmt::format("/api/v1/threads/{}", t);

    auto mine = body_of(as(alice_token, "GET", tp));
    ASSERT_EQ(mine.at("messages").as_array().size(), 1U) << mine;
    EXPECT_EQ(mine.at("messages").at(0).at("id").as_int64(), a);
    EXPECT_EQ(mine.at("thread").at("message_count").as_int64(), 1);
    EXPECT_EQ(mine.at("thread").at("subject"), "Re: Budget figures for next year");
    EXPECT_EQ(json::serialize(mine).find("1.2M"), std::string::npos);
    auto bobs_view = body_of(as(bob_token, "GET", tp));
    ASSERT_EQ(bobs_view.at("messages").as_array().size(), 1U);
    EXPECT_EQ(bobs_view.at("messages").at(0).at("id").as_int64(), b);
    EXPECT_EQ(body_of(as(admin_token(), "GET", tp)).at("messages").as_array().size(), 2U);
    // Bob's message is not Alice's to read, answer, split or download.
    EXPECT_EQ(as(alice_token, "GET", fmt::format("/api/v1/messages/{}/html", b)).status, 404);
    EXPECT_EQ(as(alice_token, "POST", fmt::format("/api/v1/messages/{}/split", b), "{}").status, 404);
    EXPECT_EQ(as(alice_token, "POST", fmt::format("/api/v1/messages/{}/read", b),
                 R"({"unread":false})").status, 404);
    // Linking would show her Bob's mail: refused, and nothing changes.
    auto link = as(alice_token, "POST", tp + "/link", R"({"deal_id":10})");
    EXPECT_EQ(link.status, 409) << link.body;
    EXPECT_EQ(code_of(link), "thread_shared");
    // Reading the thread marks only her message read.
    ASSERT_EQ(as(alice_token, "POST", tp + "/read", R"({"unread":false})").status, 200);
    EXPECT_EQ(unread_of(a), 0);
    EXPECT_EQ(unread_of(b), 1);
    // The mailbox goes to Bob: Alice loses it, Bob sees both.
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("UPDATE accounts SET owner_id = 2 WHERE id = 1");
    }
    EXPECT_EQ(as(alice_token, "GET", tp).status, 404);
    EXPECT_EQ(body_of(as(bob_token, "GET", tp)).at("messages").as_array().size(), 2U);
}

INSTANTIATE_TEST_SUITE_P(Joins, SharedThreadTest,
                         ::testing::Values("references", "thread-index", "subject"));

// A forged mail claiming the customer's From, with a Date far ahead and a Reply-To of the
// attacker's, must not become what a plain Reply answers, nor supply a recipient.
TEST_F(SharedThreadTest, ReplyTargetIsTheNewestArrivalAndNeverASpoofedSender) {
    const std::string head = "From: Carol <carol@customer.test>\r\nTo: alice@team.test\r\n";
    clock.set(1'800'000'000);
    const MessageRowId first = deliver(1, 1, 60, head +
        "Subject: Invoice for November\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n"
        "Message-ID: <g-1@customer.test>\r\n\r\nPlease find the invoice.\r\n");
    clock.set(1'800'000'100);
    const MessageRowId forged = deliver(1, 1, 61, head +
        "Reply-To: Carol <payments@evil.example>\r\n"
        "Authentication-Results: mx.team.test; dmarc=fail header.from=customer.test\r\n"
        "Subject: Re: Invoice for November\r\nDate: Fri, 01 Jan 2100 00:00:00 +0000\r\n"
        "Message-ID: <f-1@evil.example>\r\nIn-Reply-To: <g-1@customer.test>\r\n"
        "References: <g-1@customer.test>\r\n\r\nOur bank details changed.\r\n");
    clock.set(1'800'000'200);
    const MessageRowId latest = deliver(1, 1, 62, head +
        "Subject: Re: Invoice for November\r\nDate: Tue, 03 Nov 2026 09:00:00 +0000\r\n"
        "Message-ID: <g-2@customer.test>\r\nIn-Reply-To: <g-1@customer.test>\r\n"
        "References: <g-1@customer.test>\r\n\r\nAny news?\r\n");
    ASSERT_EQ(thread_of(forged), thread_of(first));
    ASSERT_EQ(thread_of(latest), thread_of(first));
    const std::string tp = fmt::format("/api/v1/threads/{}", thread_of(first));
    // The page sees the Reply-To and the warning.
    const auto view = body_of(as(alice_token, "GET", tp));
    ASSERT_EQ(view.at("messages").as_array().size(), 3U) << view;
    for (const auto& m : view.at("messages").as_array()) {
        if (m.at("id").as_int64() == forged) {
            ASSERT_FALSE(m.at("reply_to").as_array().empty()) << m;
            EXPECT_EQ(m.at("reply_to").at(0), "payments@evil.example");
            EXPECT_NE(m.at("suspicious"), nullptr);
        } else {
            EXPECT_EQ(m.at("suspicious"), nullptr);
        }
    }
    // A plain Reply answers the newest arrival (g-2), not the far-future Date.
    auto plain = as(alice_token, "POST", tp + "/reply", R"({"account":"alice-mail","body":"Hi"})");
    ASSERT_EQ(plain.status, 202) << plain.body;
    EXPECT_EQ(body_of(plain).at("outbox").at("to").at(0), "Carol <carol@customer.test>");
    // Answering the forged message needs recipients named by the user.
    auto spoofed = as(alice_token, "POST", tp + "/reply",
                      fmt::format(R"({{"account":"alice-mail","body":"Hi","parent_id":{}}})", forged));
    EXPECT_EQ(spoofed.status, 422) << spoofed.body;
    EXPECT_EQ(body_of(spoofed).at("error").at("field"), "to");
    auto named = as(alice_token, "POST", tp + "/reply",
                    fmt::format(R"({{"account":"alice-mail","body":"Hi","parent_id":{},"to":["carol@customer.test"]}})",
                                forged));
    ASSERT_EQ(named.status, 202) << named.body;
    EXPECT_EQ(body_of(named).at("outbox").at("to").at(0), "carol@customer.test");
}

TEST_F(ApiTest, ReasonsNeverNameAnotherSalespersonsPrivateDeal) {
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("UPDATE unsorted SET reason = 'ambiguous: deals 10, 11, 12' WHERE thread_id = 103");
    }
    const auto t = body_of(as(alice_token, "GET", "/api/v1/threads/103")).at("thread");
    EXPECT_EQ(t.at("reason"), "ambiguous: deals 10, another deal, 12");
    const auto ada = body_of(as(admin_token(), "GET", "/api/v1/threads/103")).at("thread");
    EXPECT_EQ(ada.at("reason"), "ambiguous: deals 10, 11, 12");
}

TEST_F(ApiTest, RepliesOnlyFromOwnAccountsAndAreQueued) {
    auto theirs = as(alice_token, "POST", "/api/v1/threads/102/reply",
                     R"({"account":"bob-mail","body":"hi"})");
    EXPECT_EQ(theirs.status, 403);
    EXPECT_EQ(body_of(theirs).at("error").at("field"), "account");
    auto nobody = as(alice_token, "POST", "/api/v1/threads/100/reply",
                     R"({"account":"alice-mail"})");
    EXPECT_EQ(nobody.status, 422);
    EXPECT_EQ(body_of(nobody).at("error").at("field"), "body");
    auto injected = as(alice_token, "POST", "/api/v1/threads/100/reply",
                       R"({"account":"alice-mail","body":"x","to":["a@b.test\r\nBcc: x@y.test"]})");
    EXPECT_EQ(injected.status, 422);
    // A bad address names the list it is in (issue 21 item 5: a bad cc answered "to").
    for (const char* field : {"to", "cc", "bcc"}) {
        auto bad = as(
            alice_token, "POST", "/api/v1/threads/100/reply",
            fmt::format(R"({{"account":"alice-mail","body":"x","{}":["v%evil.test@relay.test"]}})",
                        field));
        EXPECT_EQ(bad.status, 422) << field;
        EXPECT_EQ(body_of(bad).at("error").at("field"), field) << bad.body;
    }
    auto mode = as(alice_token, "POST", "/api/v1/threads/100/reply",
                   R"({"account":"alice-mail","body":"x","mode":"forward"})");
    EXPECT_EQ(mode.status, 422);
    auto ok = as(alice_token, "POST", "/api/v1/threads/100/reply",
                 R"({"account":"alice-mail","body":"Thanks!","parent_id":1000})");
    ASSERT_EQ(ok.status, 202) << ok.body;
    auto ob = body_of(ok).at("outbox");
    EXPECT_EQ(ob.at("state"), "queued");
    EXPECT_EQ(ob.at("to").at(0), "Carol <carol@customer.test>");
    EXPECT_EQ(ob.at("subject"), "Re: Subject 1000");
    EXPECT_EQ(control.outbox_kicks, 1);
    const auto id = ob.at("id").as_int64();
    EXPECT_EQ(as(alice_token, "GET", fmt::format("/api/v1/outbox/{}", id)).status, 200);
    EXPECT_EQ(as(bob_token, "GET", fmt::format("/api/v1/outbox/{}", id)).status, 404);
    auto wrong_parent = as(alice_token, "POST", "/api/v1/threads/100/reply",
                           R"({"account":"alice-mail","body":"x","parent_id":1003})");
    EXPECT_EQ(wrong_parent.status, 422);
}

// The deal list and the outbox come a page at a time (issue 19): the count is the whole list's,
// each page's cursor goes only to its own list, and the outbox shows each salesperson their own.
TEST_F(ApiTest, DealsAndOutboxArePagedWithTrueCountsAndOwnCursors) {
    auto admin = admin_token();
    std::vector<std::int64_t> whole = ids(body_of(as(admin, "GET", "/api/v1/deals")).at("deals"));
    ASSERT_EQ(whole.size(), 3u);
    std::vector<std::int64_t> paged;
    std::string cursor;
    for (int page = 0; page < 5; ++page) {
        auto r =
            as(admin, "GET", "/api/v1/deals?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_EQ(r.status, 200) << r.body;
        auto b = body_of(r);
        EXPECT_EQ(b.at("total").as_int64(), 3);
        for (auto id : ids(b.at("deals")))
            paged.push_back(id);
        if (b.at("next_cursor").is_null())
            break;
        cursor = std::string(b.at("next_cursor").as_string());
    }
    EXPECT_EQ(paged, whole);
    // Alice's count is hers.
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/deals?limit=1")).at("total").as_int64(), 2);

    // A deal cursor is no outbox or unsorted cursor, and the other way round.
    const auto deal_cursor = std::string(
        body_of(as(admin, "GET", "/api/v1/deals?limit=1")).at("next_cursor").as_string());
    for (const char* list : {"/api/v1/outbox?cursor=", "/api/v1/unsorted?cursor="}) {
        auto r = as(admin, "GET", list + deal_cursor);
        EXPECT_EQ(r.status, 422) << list;
        EXPECT_EQ(body_of(r).at("error").at("code"), "cursor.invalid");
        EXPECT_NE(r.body.find("deals"), std::string::npos) << r.body; // names where it is from
    }
    EXPECT_EQ(as(admin, "GET", "/api/v1/deals?cursor=zz").status, 422);
    EXPECT_EQ(as(admin, "GET", "/api/v1/deals?limit=0").status, 422);
    EXPECT_EQ(as(admin, "GET", "/api/v1/deals?limit=501").status, 422);

    // Three replies of Alice's and one of Bob's.
    std::vector<std::int64_t> alices;
    for (int i = 0; i < 3; ++i) {
        auto q = as(alice_token, "POST", "/api/v1/threads/100/reply",
                    fmt::format(R"({{"account":"alice-mail","body":"note {}"}})", i));
        ASSERT_EQ(q.status, 202) << q.body;
        alices.insert(alices.begin(), body_of(q).at("outbox").at("id").as_int64());
    }
    auto bobs = as(bob_token, "POST", "/api/v1/threads/101/reply",
                   R"({"account":"bob-mail","body":"mine","to":["dan@customer.test"]})");
    ASSERT_EQ(bobs.status, 202) << bobs.body;
    std::vector<std::int64_t> seen;
    cursor.clear();
    for (int page = 0; page < 5; ++page) {
        auto r = as(alice_token, "GET",
                    "/api/v1/outbox?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
        ASSERT_EQ(r.status, 200) << r.body;
        auto b = body_of(r);
        EXPECT_EQ(b.at("total").as_int64(), 3);
        for (const auto& e : b.at("entries").as_array()) {
            seen.push_back(e.at("id").as_int64());
            EXPECT_EQ(e.at("thread_id").as_int64(), 100);
            EXPECT_EQ(e.at("state"), "queued");
        }
        if (b.at("next_cursor").is_null())
            break;
        cursor = std::string(b.at("next_cursor").as_string());
    }
    EXPECT_EQ(seen, alices) << "Alice's own, newest first";
    EXPECT_EQ(body_of(as(admin, "GET", "/api/v1/outbox")).at("total").as_int64(), 4);
    EXPECT_EQ(body_of(as(bob_token, "GET", "/api/v1/outbox?state=queued")).at("total").as_int64(),
              1);
    EXPECT_EQ(body_of(as(bob_token, "GET", "/api/v1/outbox?state=sent")).at("total").as_int64(), 0);
    auto bad_state = as(alice_token, "GET", "/api/v1/outbox?state=lost");
    EXPECT_EQ(bad_state.status, 422);
    EXPECT_EQ(body_of(bad_state).at("error").at("field"), "state");
    // A cursor of the queued entries does not page the sent ones.
    auto queued = body_of(as(alice_token, "GET", "/api/v1/outbox?state=queued&limit=1"));
    auto other =
        as(alice_token, "GET",
           "/api/v1/outbox?state=sent&cursor=" + std::string(queued.at("next_cursor").as_string()));
    EXPECT_EQ(other.status, 422);
}

// A bounced reply (issue 20): the outbox shows the state and what each report said, the state
// filter finds it, only its owner sees it; the report message is tagged in the thread view.
TEST_F(ApiTest, BouncedRepliesShowTheirReportsAndTheBounceIsTagged) {
    auto q = as(alice_token, "POST", "/api/v1/threads/100/reply",
                R"({"account":"alice-mail","body":"Offer attached"})");
    ASSERT_EQ(q.status, 202) << q.body;
    const auto id = body_of(q).at("outbox").at("id").as_int64();
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec(fmt::format(
            "UPDATE outbox SET state = 'bounced', last_error = 'bounced: carol@customer.test "
            "5.1.1: 550 User unknown' WHERE id = {0}; INSERT INTO outbox_reports (outbox_id, "
            "recipient, action, status, diagnostic, report_id, reported_at) VALUES ({0}, "
            "'carol@customer.test', 'failed', '5.1.1', '550 User unknown', 1000, 77); "
            "UPDATE messages SET auto_kind = 'bounce' WHERE id = 1000",
            id));
    }
    auto list = as(alice_token, "GET", "/api/v1/outbox?state=bounced");
    ASSERT_EQ(list.status, 200) << list.body;
    auto b = body_of(list);
    ASSERT_EQ(b.at("total").as_int64(), 1);
    const auto& e = b.at("entries").at(0);
    EXPECT_EQ(e.at("id").as_int64(), id);
    EXPECT_EQ(e.at("state"), "bounced");
    ASSERT_EQ(e.at("reports").as_array().size(), 1u);
    const auto& r = e.at("reports").at(0);
    EXPECT_EQ(r.at("recipient"), "carol@customer.test");
    EXPECT_EQ(r.at("action"), "failed");
    EXPECT_EQ(r.at("status"), "5.1.1");
    EXPECT_EQ(r.at("diagnostic"), "550 User unknown");
    EXPECT_EQ(r.at("message_id").as_int64(), 1000);
    EXPECT_EQ(r.at("at").as_int64(), 77);
    EXPECT_EQ(body_of(as(bob_token, "GET", "/api/v1/outbox?state=bounced")).at("total").as_int64(),
              0);
    EXPECT_EQ(as(bob_token, "GET", fmt::format("/api/v1/outbox/{}", id)).status, 404);
    auto thread = body_of(as(alice_token, "GET", "/api/v1/threads/100"));
    bool tagged = false;
    for (const auto& m : thread.at("messages").as_array())
        if (m.at("id").as_int64() == 1000)
            tagged = m.at("auto_kind") == "bounce";
        else
            EXPECT_EQ(m.at("auto_kind"), "") << m.at("id").as_int64();
    EXPECT_TRUE(tagged);
}

// Follow-ups (issue 20): each salesperson's list from their own deals, snoozes, a deal's own
// periods (its owner or an admin), and the refusals.
TEST_F(ApiTest, FollowupsListSnoozeAndDealSettings) {
    const std::int64_t now = clock.now();
    auto set_dates = [&](const std::string& sql) {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec(sql);
    };
    // Thread 100 (Alice's deal 10): the customer wrote 48 hours ago, we never answered.
    set_dates(fmt::format("UPDATE threads SET last_in_at = {}, last_out_at = NULL WHERE id = 100",
                          now - 48 * 3600));
    auto threads_of = [&](const std::string& token, const std::string& query = "") {
        auto r = as(token, "GET", "/api/v1/followups" + query);
        EXPECT_EQ(r.status, 200) << r.body;
        std::vector<std::int64_t> out;
        const auto body = body_of(r); // kept: the loop reads into it
        for (const auto& f : body.at("followups").as_array())
            out.push_back(f.at("thread_id").as_int64());
        return out;
    };
    auto list = body_of(as(alice_token, "GET", "/api/v1/followups"));
    ASSERT_EQ(list.at("followups").as_array().size(), 1u) << json::serialize(list);
    const auto& item = list.at("followups").at(0);
    EXPECT_EQ(item.at("thread_id").as_int64(), 100);
    EXPECT_EQ(item.at("kind"), "needs_answer");
    EXPECT_EQ(item.at("deal").at("id").as_int64(), 10);
    EXPECT_EQ(item.at("since").as_int64(), now - 48 * 3600);
    EXPECT_EQ(item.at("due_at").as_int64(), now - 24 * 3600);
    EXPECT_EQ(list.at("policy").at("awaiting_days").as_int64(), 3);
    const auto bobs = threads_of(bob_token);
    EXPECT_EQ(std::count(bobs.begin(), bobs.end(), 100), 0) << "not Bob's deal";
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/followups?user=2").status, 403);
    EXPECT_EQ(threads_of(admin_token(), "?user=1"), std::vector<std::int64_t>{100});
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/followups?user=x").status, 422);

    // Snoozed until tomorrow: gone from the list; lifted: back. Bad times are refused.
    auto snooze = as(alice_token, "POST", "/api/v1/threads/100/snooze",
                     fmt::format(R"({{"until":{}}})", now + 86400));
    ASSERT_EQ(snooze.status, 200) << snooze.body;
    EXPECT_TRUE(threads_of(alice_token).empty());
    for (const std::string& bad :
         {std::to_string(now - 1), std::to_string(now + 400 * 86400), std::string("\"soon\"")}) {
        auto r = as(alice_token, "POST", "/api/v1/threads/100/snooze", R"({"until":)" + bad + "}");
        EXPECT_EQ(r.status, 422) << bad;
        EXPECT_EQ(body_of(r).at("error").at("field"), "until") << r.body;
    }
    EXPECT_EQ(as(bob_token, "POST", "/api/v1/threads/100/snooze",
                 fmt::format(R"({{"until":{}}})", now + 86400))
                  .status,
              404); // Bob does not see Alice's thread
    ASSERT_EQ(as(alice_token, "POST", "/api/v1/threads/100/snooze", R"({"until":null})").status,
              200);
    EXPECT_EQ(threads_of(alice_token), std::vector<std::int64_t>{100});

    // The deal's own periods: 72 hours to answer, so 48 hours is not due yet.
    auto get = body_of(as(alice_token, "GET", "/api/v1/deals/10/followups"));
    EXPECT_TRUE(get.at("answer_hours").is_null());
    EXPECT_EQ(get.at("defaults").at("answer_hours").as_int64(), 24);
    auto put = as(alice_token, "PUT", "/api/v1/deals/10/followups", R"({"answer_hours":72})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(body_of(put).at("answer_hours").as_int64(), 72);
    EXPECT_TRUE(threads_of(alice_token).empty());
    for (const char* bad : {R"({"answer_hours":0})", R"({"awaiting_days":61})",
                            R"({"answer_hours":"x"})", R"({"weeks":2})"}) {
        auto r = as(alice_token, "PUT", "/api/v1/deals/10/followups", bad);
        EXPECT_EQ(r.status, 422) << bad;
    }
    auto out_of_range =
        as(alice_token, "PUT", "/api/v1/deals/10/followups", R"({"awaiting_days":0})");
    EXPECT_EQ(body_of(out_of_range).at("error").at("field"), "awaiting_days");
    EXPECT_EQ(
        body_of(as(alice_token, "GET", "/api/v1/deals/10/followups")).at("answer_hours").as_int64(),
        72); // nothing changed
    EXPECT_EQ(as(bob_token, "PUT", "/api/v1/deals/10/followups", R"({"answer_hours":1})").status,
              404); // not Bob's to see
    EXPECT_EQ(as(alice_token, "PUT", "/api/v1/deals/12/followups", R"({"answer_hours":1})").status,
              403); // shared with her, but Bob's deal
    EXPECT_EQ(as(admin_token(), "PUT", "/api/v1/deals/10/followups", R"({})").status, 200);
    EXPECT_EQ(threads_of(alice_token), std::vector<std::int64_t>{100});

    // Our last message 4 business days old, their earlier one before it: awaiting their reply.
    set_dates(fmt::format("UPDATE threads SET last_in_at = {}, last_out_at = {} WHERE id = 100",
                          now - 9 * 86400, now - 8 * 86400));
    auto awaiting = body_of(as(alice_token, "GET", "/api/v1/followups"));
    ASSERT_EQ(awaiting.at("followups").as_array().size(), 1u);
    EXPECT_EQ(awaiting.at("followups").at(0).at("kind"), "awaiting_reply");
    EXPECT_EQ(awaiting.at("followups").at(0).at("since").as_int64(), now - 8 * 86400);
}

// Activity (issue 20): a deal's weeks and the report match counts computed here, message by
// message, from what was stored; automatic mail is left out; the CSV is the same rows.
TEST_F(ApiTest, ActivityMatchesCountsComputedIndependently) {
    const std::int64_t now = clock.now();
    // This week's Monday 00:00 UTC, computed from the weekday directly.
    const std::int64_t day = now / 86400;
    const std::int64_t monday = (day - ((day + 3) % 7)) * 86400;
    struct Msg {
        int thread;
        std::int64_t at;
        bool out;
        const char* auto_kind;
    };
    std::vector<Msg> msgs;
    // Deterministic spread over the last 5 weeks in Alice's threads 100 and 105 (deal 10).
    std::uint32_t x = 12345;
    auto next = [&] { return x = x * 1103515245u + 12345u; };
    for (int i = 0; i < 40; ++i) {
        const std::int64_t at =
            monday - 4 * 7 * 86400 + static_cast<std::int64_t>(next() % (33 * 86400));
        msgs.push_back({next() % 2 == 0 ? 100 : 105, std::min(at, now - 1), next() % 3 == 0,
                        next() % 10 == 0 ? "autoreply" : ""});
    }
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO threads (id, subject, created_at, updated_at) VALUES (105, 'Acme 2', "
                 "0, 0); INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, "
                 "linked_at) VALUES (105, 10, 0, 'contact', 1, 0)");
        SQLite::Statement ins(raw, "INSERT INTO messages (message_id, content_hash, thread_id, "
                                   "subject, from_name, from_address, date, received_at, "
                                   "raw_sha256, raw_size, unread, parser_version, direction, "
                                   "auto_kind) VALUES (?, 'h', ?, 's', 'X', 'x@customer.test', ?, "
                                   "?, 'bb', 3, 0, 1, ?, ?)");
        for (std::size_t i = 0; i < msgs.size(); ++i) {
            ins.reset();
            ins.bind(1, fmt::format("act{}@x", i));
            ins.bind(2, msgs[i].thread);
            ins.bind(3, msgs[i].at);
            ins.bind(4, msgs[i].at);
            ins.bind(5, msgs[i].out ? "out" : "in");
            ins.bind(6, msgs[i].auto_kind);
            ins.exec();
        }
    }
    // The seeded message 1000 of thread 100 counts too (in, dated 1000 + 0: long before).
    auto r = as(alice_token, "GET", "/api/v1/deals/10/activity?weeks=5");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto a = body_of(r);
    const auto& weeks = a.at("weeks").as_array();
    ASSERT_EQ(weeks.size(), 5u);
    std::int64_t total_in = 0, total_out = 0;
    for (std::size_t w = 0; w < 5; ++w) {
        const std::int64_t start = monday - static_cast<std::int64_t>(4 - w) * 7 * 86400;
        std::int64_t in = 0, out = 0;
        for (const auto& m : msgs)
            if (m.at >= start && m.at < start + 7 * 86400 && std::string(m.auto_kind).empty())
                (m.out ? out : in) += 1;
        EXPECT_EQ(weeks[w].at("week").as_int64(), start) << w;
        EXPECT_EQ(weeks[w].at("in").as_int64(), in) << "week " << w;
        EXPECT_EQ(weeks[w].at("out").as_int64(), out) << "week " << w;
        total_in += in;
        total_out += out;
    }
    EXPECT_EQ(a.at("in").as_int64(), total_in);
    EXPECT_EQ(a.at("out").as_int64(), total_out);
    EXPECT_GT(total_in + total_out, 20) << "the sample spreads over the weeks";
    std::int64_t last = 0;
    for (const auto& m : msgs)
        if (std::string(m.auto_kind).empty())
            last = std::max(last, m.at);
    EXPECT_EQ(a.at("last_contact").as_int64(), last);
    EXPECT_EQ(as(bob_token, "GET", "/api/v1/deals/10/activity").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/deals/10/activity?weeks=0").status, 422);

    // The report over the same five weeks: Alice's row (deal 10 only has mail of hers).
    const auto from_day = monday - 4 * 7 * 86400;
    auto day_str = [](std::int64_t t) {
        const std::time_t tt = static_cast<std::time_t>(t);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    };
    const std::string range = "from=" + day_str(from_day) + "&to=" + day_str(now);
    auto rep = as(alice_token, "GET", "/api/v1/reports/activity?" + range);
    ASSERT_EQ(rep.status, 200) << rep.body;
    const auto rows = body_of(rep).at("rows").as_array();
    ASSERT_EQ(rows.size(), 1u) << rep.body;
    EXPECT_EQ(rows[0].at("user_id").as_int64(), 1);
    EXPECT_EQ(rows[0].at("in").as_int64(), total_in);
    EXPECT_EQ(rows[0].at("out").as_int64(), total_out);
    EXPECT_EQ(rows[0].at("deals").as_int64(), 1);
    auto csv = as(alice_token, "GET", "/api/v1/reports/activity?" + range + "&format=csv");
    ASSERT_EQ(csv.status, 200);
    EXPECT_EQ(csv.header("Content-Type").value_or(""), "text/csv; charset=utf-8");
    EXPECT_NE(csv.body.find(fmt::format("\r\n1,Alice,1,{},{},", total_in, total_out)),
              std::string::npos)
        << csv.body;
    // Bob's report has no row of Alice's; his asking for hers is refused; bad ranges are 422.
    const auto bob_rows =
        body_of(as(bob_token, "GET", "/api/v1/reports/activity?" + range)).at("rows");
    for (const auto& row : bob_rows.as_array())
        EXPECT_EQ(row.at("user_id").as_int64(), 2);
    EXPECT_EQ(as(bob_token, "GET", "/api/v1/reports/activity?user=1").status, 403);
    EXPECT_EQ(body_of(as(admin_token(), "GET", "/api/v1/reports/activity?" + range + "&user=1"))
                  .at("rows")
                  .at(0)
                  .at("in")
                  .as_int64(),
              total_in);
    for (const char* bad : {"from=2026-13-01", "from=2026-12-05&to=2026-12-01",
                            "from=2020-01-01&to=2026-01-01", "format=xml"}) {
        auto b = as(alice_token, "GET", std::string("/api/v1/reports/activity?") + bad);
        EXPECT_EQ(b.status, 422) << bad << " " << b.body;
    }
}

TEST_F(ApiTest, AccountsAreForAdminsAndNeverShowSecrets) {
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/accounts").status, 403);
    EXPECT_EQ(as(alice_token, "POST", "/api/v1/accounts/alice-mail/resync").status, 403);
    auto admin = admin_token();
    auto list = as(admin, "GET", "/api/v1/accounts");
    ASSERT_EQ(list.status, 200);
    EXPECT_EQ(body_of(list).at("accounts").as_array().size(), 2u);
    EXPECT_EQ(list.body.find("/etc/secret"), std::string::npos);
    EXPECT_EQ(list.body.find("secret"), std::string::npos);

    auto bad_name = as(admin, "POST", "/api/v1/accounts",
                       R"({"name":"../x","owner_id":1,"address":"x@team.test",
                           "imap":{"host":"imap.team.test","password":"pw"}})");
    EXPECT_EQ(bad_name.status, 422);
    EXPECT_EQ(body_of(bad_name).at("error").at("field"), "name");
    auto no_pw = as(admin, "POST", "/api/v1/accounts",
                    R"({"name":"sales","owner_id":1,"address":"sales@team.test",
                        "imap":{"host":"imap.team.test"}})");
    EXPECT_EQ(no_pw.status, 422);
    EXPECT_EQ(body_of(no_pw).at("error").at("field"), "imap.password");
    for (const char* pw : {R"(pw\nsecond)", R"(pw\r)", R"(p\u0000w)"}) {
        auto nl = as(admin, "POST", "/api/v1/accounts",
                     fmt::format(R"({{"name":"sales","owner_id":1,"address":"sales@team.test",
                                    "imap":{{"host":"imap.team.test","password":"{}"}}}})",
                                 pw));
        EXPECT_EQ(nl.status, 422) << pw;
        EXPECT_EQ(body_of(nl).at("error").at("field"), "imap.password") << nl.body;
    }
    EXPECT_TRUE(control.saved.empty());
    auto dup = as(admin, "POST", "/api/v1/accounts",
                  R"({"name":"bob-mail","owner_id":2,"address":"bob@team.test",
                      "imap":{"host":"imap.team.test","password":"pw"}})");
    EXPECT_EQ(dup.status, 409);
    auto ok = as(admin, "POST", "/api/v1/accounts",
                 R"({"name":"sales","owner_id":1,"address":"sales@team.test",
                     "imap":{"host":"imap.team.test","tls":"starttls","password":"s3cret-pw"},
                     "smtp":{"host":"smtp.team.test","port":587,"tls":"starttls",
                             "password":"smtp-pw"}})");
    ASSERT_EQ(ok.status, 201) << ok.body;
    EXPECT_EQ(ok.body.find("s3cret-pw"), std::string::npos);
    ASSERT_EQ(control.saved.size(), 1u);
    EXPECT_EQ(control.saved[0].second.imap_password, "s3cret-pw");
    EXPECT_EQ(control.saved[0].second.smtp_password, "smtp-pw");
    EXPECT_EQ(control.saved[0].first.imap.tls, Tls::StartTls);
    EXPECT_EQ(control.saved[0].first.imap.username, "sales@team.test");

    auto off = as(admin, "PATCH", "/api/v1/accounts/sales", R"({"enabled":false})");
    ASSERT_EQ(off.status, 200);
    EXPECT_EQ(body_of(off).at("account").at("state"), "disabled");
    EXPECT_EQ(as(admin, "PATCH", "/api/v1/accounts/nope", R"({"enabled":false})").status, 404);

    auto test = as(admin, "POST", "/api/v1/accounts/bob-mail/test");
    ASSERT_EQ(test.status, 200);
    EXPECT_EQ(body_of(test).at("ok"), false);
    EXPECT_EQ(body_of(test).at("step"), "tls");
    auto resync = as(admin, "POST", "/api/v1/accounts/bob-mail/resync");
    EXPECT_EQ(resync.status, 202);
    EXPECT_EQ(control.resynced, std::vector<std::string>{"bob-mail"});

    // Completeness (issue 19): the comparison with the server, per folder.
    auto full = as(admin, "GET", "/api/v1/accounts/alice-mail/completeness");
    ASSERT_EQ(full.status, 200) << full.body;
    auto report = body_of(full);
    EXPECT_EQ(report.at("account"), "alice-mail");
    EXPECT_EQ(report.at("complete"), false);
    const auto& inbox = report.at("folders").at(0);
    EXPECT_EQ(inbox.at("folder"), "INBOX");
    EXPECT_EQ(inbox.at("server").as_int64(), 3);
    EXPECT_EQ(inbox.at("stored").as_int64(), 2);
    EXPECT_EQ(inbox.at("missing_count").as_int64(), 1);
    EXPECT_EQ(inbox.at("missing").at(0).as_int64(), 7);
    auto never = as(admin, "GET", "/api/v1/accounts/bob-mail/completeness");
    EXPECT_EQ(never.status, 409);
    EXPECT_NE(never.body.find("no folder synced yet"), std::string::npos) << never.body;
    EXPECT_EQ(as(admin, "GET", "/api/v1/accounts/nope/completeness").status, 404);
    EXPECT_EQ(as(admin, "POST", "/api/v1/accounts/alice-mail/completeness").status, 405);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/accounts/alice-mail/completeness").status, 403);
}

// Issue 15 item 13: an admin change names the admin (and never a password).
TEST_F(ApiTest, AdminChangesAreLoggedNamingTheAdmin) {
    std::vector<std::pair<std::string, std::string>> lines; // (account, message)
    make_api([&](ApiOptions& o) {
        o.log = [&](LogLevel, const LogContext& ctx, std::string_view event, std::string_view msg) {
            if (event == "admin")
                lines.emplace_back(std::string(ctx.account), std::string(msg));
        };
    });
    const auto admin = admin_token();
    peer = "192.0.2.44";
    ASSERT_EQ(as(admin, "POST", "/api/v1/accounts",
                 R"({"name":"sales","owner_id":1,"address":"sales@team.test",
                     "imap":{"host":"imap.team.test","password":"s3cret-pw"}})")
                  .status,
              201);
    ASSERT_EQ(as(admin, "PATCH", "/api/v1/accounts/sales", R"({"owner_id":2})").status, 200);
    ASSERT_EQ(as(admin, "POST", "/api/v1/accounts/bob-mail/resync").status, 202);
    EXPECT_EQ(as(alice_token, "PATCH", "/api/v1/accounts/sales", R"({"owner_id":1})").status, 403);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].first, "sales");
    EXPECT_NE(lines[0].second.find("account sales created (address, imap.host, imap.password, "
                                   "name, owner_id) by admin "),
              std::string::npos)
        << lines[0].second;
    EXPECT_NE(lines[1].second.find("account sales changed (owner_id) by admin"), std::string::npos)
        << lines[1].second;
    EXPECT_NE(lines[2].second.find("resync of account bob-mail requested by admin"),
              std::string::npos)
        << lines[2].second;
    for (const auto& [account, msg] : lines) {
        EXPECT_NE(msg.find("(user 3) from 192.0.2.44"), std::string::npos) << msg;
        EXPECT_EQ(msg.find("s3cret-pw"), std::string::npos) << msg;
    }
}

// Issue 15 item 9: long threads come in pages, newest first, each viewer's own messages only.
TEST_F(ApiTest, ThreadViewPagesLongThreads) {
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        for (int i = 0; i < 6; ++i) {
            const int id = 1100 + i, account = i == 5 ? 2 : 1; // the last one only Bob has
            raw.exec(fmt::format(
                "INSERT INTO messages (id, message_id, content_hash, thread_id, subject, "
                "from_address, date, received_at, raw_sha256, raw_size, unread, parser_version) "
                "VALUES ({0}, 'p{0}@x', 'h', 103, 'Re: Who is this', 'carol@customer.test', {1}, "
                "0, "
                "'bb', 3, 0, 1)",
                id, 2000 + i));
            raw.exec(fmt::format("INSERT INTO locations (message_id, account_id, mailbox_id, "
                                 "uid_validity, uid, owner_id, created_at) VALUES ({0}, {1}, {1}, "
                                 "1, {0}, {1}, 0)",
                                 id, account));
        }
    }
    auto ids = [](const Response& r) {
        std::vector<std::int64_t> out;
        const auto body = body_of(r);
        for (const auto& m : body.at("messages").as_array())
            out.push_back(m.at("id").as_int64());
        return out;
    };
    // An unsorted thread: Alice sees 1003 and 1100-1104 (1105 came only through Bob's mailbox),
    // in reading order.
    auto first = as(alice_token, "GET", "/api/v1/threads/103?limit=2");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(ids(first), (std::vector<std::int64_t>{1103, 1104}));
    EXPECT_EQ(body_of(first).at("older").as_int64(), 4);
    auto second = as(alice_token, "GET", "/api/v1/threads/103?limit=3&before=1103");
    EXPECT_EQ(ids(second), (std::vector<std::int64_t>{1100, 1101, 1102}));
    EXPECT_EQ(body_of(second).at("older").as_int64(), 1);
    auto last = as(alice_token, "GET", "/api/v1/threads/103?before=1100");
    EXPECT_EQ(ids(last), (std::vector<std::int64_t>{1003}));
    EXPECT_EQ(body_of(last).at("older").as_int64(), 0);
    auto all = as(alice_token, "GET", "/api/v1/threads/103");
    EXPECT_EQ(ids(all).size(), 6u);
    EXPECT_EQ(body_of(all).at("older").as_int64(), 0);
    // Bob's message is no cursor for Alice; bad numbers name the parameter.
    auto foreign = as(alice_token, "GET", "/api/v1/threads/103?before=1105");
    EXPECT_EQ(foreign.status, 422);
    EXPECT_EQ(body_of(foreign).at("error").at("field"), "before");
    for (const char* q : {"limit=0", "limit=201", "limit=x", "before=-1", "limit=5%00"}) {
        auto bad = as(alice_token, "GET", std::string("/api/v1/threads/103?") + q);
        EXPECT_EQ(bad.status, 422) << q;
    }
}

// The thread view and the message frame sanitise an HTML body once, then serve it from memory.
TEST_F(ApiTest, HtmlBodiesAreSanitisedOnce) {
    for (int i = 0; i < 3; ++i) {
        auto t = as(alice_token, "GET", "/api/v1/threads/100");
        ASSERT_EQ(t.status, 200);
        EXPECT_EQ(body_of(t).at("messages").at(0).at("remote_images"), 1);
    }
    for (int i = 0; i < 2; ++i) {
        auto h = as(alice_token, "GET", "/api/v1/messages/1000/html");
        ASSERT_EQ(h.status, 200);
        EXPECT_EQ(h.body.find("<script"), std::string::npos);
        EXPECT_EQ(h.body.find("t.example"), std::string::npos); // remote image blocked
    }
    auto shown = as(alice_token, "GET", "/api/v1/messages/1000/html?images=1");
    EXPECT_NE(shown.body.find("https://t.example/px.gif"), std::string::npos);
    auto m = call("GET", "/metrics");
    ASSERT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("crm_html_cache_misses_total 2\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("crm_html_cache_hits_total 4\n"), std::string::npos) << m.body;
}

TEST_F(ApiTest, UnknownPathsAndMethods) {
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/nope").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v2/deals").status, 404);
    EXPECT_EQ(as(alice_token, "PUT", "/api/v1/deals").status, 405);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/threads/abc").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/threads/-1").status, 404);
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/threads/99999999999999999999").status, 404);
    EXPECT_EQ(call("GET", "/api/v1/%zz").status, 400);
}

TEST_F(ApiTest, ServesThePageUnderAStrictPolicy) {
    auto r = call("GET", "/");
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(std::string(r.header("Content-Type").value_or("")).starts_with("text/html"));
    auto csp = std::string(r.header("Content-Security-Policy").value_or(""));
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
    EXPECT_EQ(call("GET", "/app.js").status, 200);
    EXPECT_EQ(call("GET", "/../etc/passwd").status, 404);
    EXPECT_EQ(call("POST", "/").status, 405);
    EXPECT_TRUE(call("GET", "/metrics").body.starts_with("crm_up 1\n"));
}

// The page is ES modules loaded by the browser as they are (no bundle): every module reachable
// from index.html's <script type="module"> through its static imports must be embedded and
// served as JavaScript (a module with another type is refused under nosniff) under the page's
// CSP and cache headers.
TEST_F(ApiTest, ServesEveryModuleOfThePageAsJavaScript) {
    auto page = call("GET", "/");
    ASSERT_EQ(page.status, 200);
    const std::string csp(page.header("Content-Security-Policy").value_or(""));
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(page.body, m, std::regex(R"re(<script type="module" src="(/[^"]+)")re")));
    std::vector<std::string> todo{m[1]};
    std::set<std::string> seen(todo.begin(), todo.end());
    const std::regex import_re(R"re((?:^|\n)import\b[^;]*?['"](\.\.?/[^'"]+)['"])re");
    while (!todo.empty()) {
        const std::string url = todo.back();
        todo.pop_back();
        auto r = call("GET", url);
        ASSERT_EQ(r.status, 200) << url;
        EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8") << url;
        EXPECT_EQ(r.header("Content-Security-Policy"), csp) << url;
        EXPECT_EQ(r.header("Cache-Control"), "no-cache") << url;
        EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff") << url;
        const std::string dir = url.substr(0, url.rfind('/') + 1);
        for (std::sregex_iterator it(r.body.begin(), r.body.end(), import_re), end; it != end;
             ++it) {
            // Resolve "./x.js" and "../x.js" against the importing module's directory.
            std::string spec = (*it)[1], base = dir;
            while (spec.starts_with("../")) {
                base = base.substr(0, base.rfind('/', base.size() - 2) + 1);
                spec.erase(0, 3);
            }
            if (spec.starts_with("./"))
                spec.erase(0, 2);
            if (seen.insert(base + spec).second)
                todo.push_back(base + spec);
        }
    }
    // The walk reached the shared core and the views, so it did not stop at the entry point.
    for (const char* name : {"/app.js", "/core.js", "/views/thread.js", "/views/reply.js"})
        EXPECT_TRUE(seen.contains(name)) << name;
}

// --- composing from the CRM (issue 20, part 1)

std::int64_t count_rows(const std::filesystem::path& db, const std::string& sql) {
    SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, sql);
    EXPECT_TRUE(q.executeStep()) << sql;
    return q.getColumn(0).getInt64();
}

std::string text_of(const std::filesystem::path& db, const std::string& sql) {
    SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, sql);
    EXPECT_TRUE(q.executeStep()) << sql;
    return q.getColumn(0).getString();
}

// A new mail on a deal: queued from the sender's own account with a Message-ID naming the deal,
// no thread yet, its attachment kept; only someone who sees the deal may write on it.
TEST_F(ApiTest, NewMailFromADealNamesTheDealAndKeepsItsAttachment) {
    const std::string pdf = "%PDF-1.4 offer";
    auto ok = as(
        alice_token, "POST", "/api/v1/deals/10/mail",
        json::serialize(json::object{
            {"account", "alice-mail"},
            {"to", json::array{"carol@customer.test"}},
            {"cc", json::array{"dan@customer.test"}},
            {"subject", "Offer for Acme"},
            {"body", "Hello Carol,\nthe offer is attached."},
            {"attachments", json::array{json::object{{"filename", "Ofertă.pdf"},
                                                     {"content_type", "application/pdf"},
                                                     {"content_base64", base64_encode(pdf)}}}}}));
    ASSERT_EQ(ok.status, 202) << ok.body;
    const auto ob = body_of(ok).at("outbox");
    EXPECT_EQ(ob.at("state"), "queued");
    EXPECT_EQ(ob.at("subject"), "Offer for Acme");
    EXPECT_EQ(ob.at("to").at(0), "carol@customer.test");
    EXPECT_EQ(ob.at("cc").at(0), "dan@customer.test");
    EXPECT_TRUE(ob.at("new_conversation").as_bool());
    EXPECT_TRUE(ob.at("thread_id").is_null());
    EXPECT_EQ(ob.at("attachments").at(0).at("filename"), "Ofertă.pdf");
    EXPECT_EQ(control.outbox_kicks, 1);
    const auto id = ob.at("id").as_int64();
    const auto mid = text_of(path, fmt::format("SELECT message_id FROM outbox WHERE id = {}", id));
    EXPECT_TRUE(std::regex_match(mid, std::regex(R"(crm\.10\.[0-9a-f]{24}@team\.test)"))) << mid;
    EXPECT_EQ(
        count_rows(path, fmt::format("SELECT count(*) FROM outbox WHERE id = {} AND deal_id = "
                                     "10 AND in_reply_to = '' AND thread_id IS NULL AND "
                                     "user_id = 1",
                                     id)),
        1);
    EXPECT_EQ(count_rows(path, fmt::format("SELECT count(*) FROM blobs WHERE sha256 = '{}'",
                                           mime::sha256_hex(pdf))),
              1);

    // Bob sees neither Alice's private deal nor may he send from her account.
    EXPECT_EQ(as(bob_token, "POST", "/api/v1/deals/10/mail",
                 R"({"account":"bob-mail","to":["carol@customer.test"],"subject":"x","body":"y"})")
                  .status,
              404);
    auto theirs = as(alice_token, "POST", "/api/v1/deals/12/mail",
                     R"({"account":"bob-mail","to":["x@initech.test"],"subject":"x"})");
    EXPECT_EQ(theirs.status, 403) << theirs.body;
    EXPECT_EQ(body_of(theirs).at("error").at("field"), "account");
    EXPECT_EQ(as(bob_token, "POST", "/api/v1/deals/12/mail",
                 R"({"account":"bob-mail","to":["x@initech.test"],"subject":"Pilot"})")
                  .status,
              202);
}

// Bad input gets a clear error naming the field, and nothing is queued.
TEST_F(ApiTest, NewMailRefusesBadInputAndQueuesNothing) {
    make_api([](ApiOptions& o) { o.compose = ComposeLimits{1024, 2048}; });
    const auto before = count_rows(path, "SELECT count(*) FROM outbox");
    const auto blobs = count_rows(path, "SELECT count(*) FROM blobs");
    const std::string big = base64_encode(std::string(1025, 'x'));
    const struct {
        std::string body;
        int status;
        std::string field, says;
    } cases[] = {
        {R"({"account":"alice-mail","to":["not an address"],"subject":"s"})", 422, "to",
         "not an address"},
        {R"({"account":"alice-mail","to":["a@b.test\r\nBcc: x@evil.test"],"subject":"s"})", 422,
         "to", "CR, LF or NUL"},
        {R"({"account":"alice-mail","to":["a@b.test"],"cc":["nope"],"subject":"s"})", 422, "cc",
         "nope"},
        {R"({"account":"alice-mail","to":[],"subject":"s"})", 422, "to", "recipient"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"Hi\r\nBcc: x@evil.test"})", 422,
         "subject", "CR, LF or NUL"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"  "})", 422, "subject",
         "required"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"a\u001bb"})", 422, "subject",
         "control character"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"s","attachments":[{"filename":"a\r\nb.txt","content_base64":"eA=="}]})",
         422, "attachments", "CR, LF or NUL"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"s","attachments":[{"filename":"a.txt","content_base64":"!!"}]})",
         422, "attachments[0].content_base64", "not valid base64"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"s","attachments":[{"filename":"big.bin","content_base64":")" +
             big + R"("}]})",
         413, "attachments", "'big.bin' is 1025 bytes: the most one file may have is 1 KiB"},
        {R"({"account":"nobody","to":["a@b.test"],"subject":"s"})", 422, "account", "nobody"},
        {R"({"account":"alice-mail","to":["a@b.test"],"subject":"s","from":"ceo@team.test"})", 422,
         "from", "not a known field"},
    };
    for (const auto& c : cases) {
        auto r = as(alice_token, "POST", "/api/v1/deals/10/mail", c.body);
        EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
        if (r.status < 400)
            continue;
        const auto e = body_of(r).at("error");
        EXPECT_EQ(std::string(e.at("field").as_string()), c.field) << r.body;
        EXPECT_NE(std::string(e.at("message").as_string()).find(c.says), std::string::npos)
            << r.body;
    }
    // A reply is held to the same limits.
    auto reply = as(
        alice_token, "POST", "/api/v1/threads/100/reply",
        R"({"account":"alice-mail","body":"x","attachments":[{"filename":"big.bin","content_base64":")" +
            big + R"("}]})");
    EXPECT_EQ(reply.status, 413) << reply.body;
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM outbox"), before);
    EXPECT_EQ(count_rows(path, "SELECT count(*) FROM blobs"), blobs);
    EXPECT_EQ(control.outbox_kicks, 0);
}

// The server reads a larger body only for the two requests that carry attachments.
TEST_F(ApiTest, OnlyMailRequestsMayHaveLargeBodies) {
    make_api([](ApiOptions& o) { o.compose = ComposeLimits{1 << 20, 3 << 20}; });
    const auto mail = api->body_limit("POST", "/api/v1/deals/10/mail");
    EXPECT_EQ(mail, compose_body_limit(ComposeLimits{1 << 20, 3 << 20}));
    EXPECT_GT(mail, (std::size_t{3} << 20) * 4 / 3);
    EXPECT_EQ(api->body_limit("POST", "/api/v1/threads/100/reply?x=1"), mail);
    for (auto [m, t] :
         {std::pair{"GET", "/api/v1/deals/10/mail"}, std::pair{"POST", "/api/v1/deals/x/mail"},
          std::pair{"POST", "/api/v1/deals//mail"}, std::pair{"POST", "/api/v1/auth/login"},
          std::pair{"PUT", "/api/v1/drafts/deal-10"}})
        EXPECT_EQ(api->body_limit(m, t), kMaxRequestBody) << m << " " << t;
}

// A signature set on the page signs the user's replies; the quoted original comes along in
// text and in sanitised HTML; the reply's draft is gone once it is queued.
TEST_F(ApiTest, RepliesCarrySignatureQuoteAndEndTheirDraft) {
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/me/signature")).at("signature"), "");
    auto put =
        as(alice_token, "PUT", "/api/v1/me/signature", R"({"signature":"Alice Pop\nAcme Sales"})");
    ASSERT_EQ(put.status, 200) << put.body;
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/me/signature")).at("signature"),
              "Alice Pop\nAcme Sales");
    EXPECT_EQ(body_of(as(bob_token, "GET", "/api/v1/me/signature")).at("signature"), "");
    auto too_long = as(alice_token, "PUT", "/api/v1/me/signature",
                       json::serialize(json::object{{"signature", std::string(9000, 's')}}));
    EXPECT_EQ(too_long.status, 422);
    EXPECT_EQ(body_of(too_long).at("error").at("field"), "signature");

    auto draft = as(alice_token, "PUT", "/api/v1/drafts/thread-100",
                    R"({"content":{"body":"Half a thought","quote":true}})");
    ASSERT_EQ(draft.status, 200) << draft.body;
    auto got = as(alice_token, "GET", "/api/v1/drafts/thread-100");
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(body_of(got).at("content").at("body"), "Half a thought");
    EXPECT_EQ(as(bob_token, "GET", "/api/v1/drafts/thread-100").status, 404) << "Alice's own";
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/drafts")).at("drafts").as_array().size(), 1u);
    EXPECT_EQ(as(alice_token, "PUT", "/api/v1/drafts/thread-100", R"({"content":"x"})").status,
              422);
    EXPECT_EQ(as(alice_token, "PUT", "/api/v1/drafts/message-1", R"({"content":{}})").status, 404);

    auto q = as(alice_token, "POST", "/api/v1/threads/100/reply",
                R"({"account":"alice-mail","body":"Here it is.","parent_id":1000,"quote":true})");
    ASSERT_EQ(q.status, 202) << q.body;
    const auto id = body_of(q).at("outbox").at("id").as_int64();
    const auto text = text_of(path, fmt::format("SELECT text_body FROM outbox WHERE id = {}", id));
    EXPECT_EQ(text.rfind("Here it is.\n\n-- \nAlice Pop\nAcme Sales\n\nOn ", 0), 0u) << text;
    EXPECT_NE(
        text.find(", Carol <carol@customer.test> wrote:\n> Hello\n>\n> On Mon, Bob wrote:\n>> "
                  "earlier\n"),
        std::string::npos)
        << text;
    const auto html = text_of(path, fmt::format("SELECT html_body FROM outbox WHERE id = {}", id));
    EXPECT_NE(html.find("<blockquote type=\"cite\""), std::string::npos) << html;
    EXPECT_NE(html.find("Hi"), std::string::npos) << html;
    EXPECT_EQ(html.find("<script"), std::string::npos) << html;
    EXPECT_EQ(html.find("t.example"), std::string::npos) << html;
    EXPECT_EQ(as(alice_token, "GET", "/api/v1/drafts/thread-100").status, 404);

    // Without a signature when asked.
    auto plain = as(alice_token, "POST", "/api/v1/threads/100/reply",
                    R"({"account":"alice-mail","body":"Short.","signature":false})");
    ASSERT_EQ(plain.status, 202) << plain.body;
    EXPECT_EQ(text_of(path, fmt::format("SELECT text_body FROM outbox WHERE id = {}",
                                        body_of(plain).at("outbox").at("id").as_int64())),
              "Short.");
    EXPECT_EQ(as(alice_token, "DELETE", "/api/v1/drafts/deal-10").status, 404);
}

// Whom a new mail may go to: the deal's contacts, for those who see the deal.
TEST_F(ApiTest, DealRecipientsAreItsContactsForThoseWhoSeeIt) {
    {
        SQLite::Database raw(path.string(), SQLite::OPEN_READWRITE);
        raw.exec("INSERT INTO contacts (id, name, created_at, updated_at) VALUES (1, 'Carol', 0, "
                 "0), (2, 'Dan', 0, 0); INSERT INTO contact_addresses (address, contact_id, "
                 "written) VALUES ('carol@customer.test', 1, 'Carol@Customer.test'), "
                 "('dan@customer.test', 2, 'dan@customer.test'); INSERT INTO deal_contacts "
                 "(deal_id, contact_id) VALUES (10, 1), (10, 2), (11, 2)");
    }
    auto r = as(alice_token, "GET", "/api/v1/deals/10/recipients");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto list = body_of(r).at("recipients").as_array();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].at("name"), "Carol");
    EXPECT_EQ(list[0].at("address"), "Carol@Customer.test");
    EXPECT_EQ(list[1].at("name"), "Dan");
    EXPECT_EQ(as(bob_token, "GET", "/api/v1/deals/10/recipients").status, 404);
}

// The page's language and time zone (issue 20, part 5): a user setting; a language the page does
// not have, or a zone that is not one, is refused naming the field, and nothing changes.
TEST_F(ApiTest, PageLanguageAndTimeZoneAreCheckedUserSettings) {
    auto none = body_of(as(alice_token, "GET", "/api/v1/me/settings"));
    EXPECT_EQ(none.at("locale"), "");
    EXPECT_EQ(none.at("time_zone"), "");
    EXPECT_EQ(none.at("locales").as_array().size(), std::size(kPageLocales));
    auto ok = as(alice_token, "PUT", "/api/v1/me/settings",
                 R"({"locale":"ro","time_zone":"Europe/Bucharest"})");
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(body_of(ok).at("locale"), "ro");
    const auto me = body_of(as(alice_token, "GET", "/api/v1/me"));
    EXPECT_EQ(me.at("settings").at("locale"), "ro");
    EXPECT_EQ(me.at("settings").at("time_zone"), "Europe/Bucharest");
    EXPECT_EQ(body_of(as(bob_token, "GET", "/api/v1/me")).at("settings").at("locale"), "");
    const struct {
        std::string body, field, says;
    } bad[] = {
        {R"({"locale":"xx"})", "locale", "'xx' is not a language of the page (en, ro)"},
        {R"({"locale":"RO"})", "locale", "not a language of the page"},
        {R"({"locale":"ro\r\nX: y"})", "locale", "'ro??X: y'"},
        {R"({"time_zone":"Mars/Olympus_Mons"})", "time_zone", "not in the time zone database"},
        {R"({"time_zone":"leapseconds"})", "time_zone", "not in the time zone database"},
        {R"({"time_zone":"right/Europe/Bucharest"})", "time_zone", "not in the time zone database"},
        {R"({"time_zone":"../../etc/passwd"})", "time_zone", "not a time zone name"},
        {R"({"time_zone":"Europe/"})", "time_zone", "not a time zone name"},
        {R"({"theme":"dark"})", "theme", "not a known field"},
    };
    for (const auto& b : bad) {
        auto r = as(alice_token, "PUT", "/api/v1/me/settings", b.body);
        EXPECT_EQ(r.status, 422) << b.body << " -> " << r.body;
        const auto e = body_of(r).at("error");
        EXPECT_EQ(std::string(e.at("field").as_string()), b.field) << r.body;
        EXPECT_NE(std::string(e.at("message").as_string()).find(b.says), std::string::npos)
            << r.body;
    }
    const auto after = body_of(as(alice_token, "GET", "/api/v1/me/settings"));
    EXPECT_EQ(after.at("locale"), "ro") << "a refused change changes nothing";
    EXPECT_EQ(after.at("time_zone"), "Europe/Bucharest");
    // Back to the browser's.
    ASSERT_EQ(
        as(alice_token, "PUT", "/api/v1/me/settings", R"({"locale":"","time_zone":""})").status,
        200);
    EXPECT_EQ(body_of(as(alice_token, "GET", "/api/v1/me/settings")).at("locale"), "");
}

} // namespace
} // namespace crm::http
