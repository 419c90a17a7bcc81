// One account's OAuth2 access tokens (issue 18): kept until shortly before they expire, a
// rotated refresh token written back to its file, a refused one reported as needing the admin.
// The token endpoint is a small HTTP server on 127.0.0.1 answering scripted JSON.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "crm/runtime/oauth_consent.hpp"
#include "crm/runtime/token_source.hpp"

namespace {

using namespace std::chrono_literals;

// Answers each POST with the next scripted (status, JSON body), the last one repeatedly, and
// keeps the request bodies.
class TokenEndpoint {
  public:
    explicit TokenEndpoint(std::vector<std::pair<int, std::string>> answers)
        : answers_(std::move(answers)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 8) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("token endpoint: cannot listen");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TokenEndpoint() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    [[nodiscard]] std::string url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/token";
    }
    std::vector<std::string> requests() {
        std::lock_guard l(mu_);
        return requests_;
    }

  private:
    void serve() {
        while (!stop_) {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0)
                return;
            std::string in;
            char buf[4096];
            std::size_t want = std::string::npos;
            while (want == std::string::npos || in.size() < want) {
                const auto n = ::read(c, buf, sizeof buf);
                if (n <= 0)
                    break;
                in.append(buf, static_cast<std::size_t>(n));
                if (auto end = in.find("\r\n\r\n");
                    end != std::string::npos && want == std::string::npos) {
                    std::size_t length = 0;
                    if (auto at = in.find("Content-Length: "); at != std::string::npos)
                        length = std::stoul(in.substr(at + 16));
                    want = end + 4 + length;
                }
            }
            std::pair<int, std::string> answer;
            {
                std::lock_guard l(mu_);
                requests_.push_back(in.substr(in.find("\r\n\r\n") + 4));
                answer = answers_[std::min(next_++, answers_.size() - 1)];
            }
            const std::string out = "HTTP/1.1 " + std::to_string(answer.first) +
                                    " X\r\nContent-Type: application/json\r\nContent-Length: " +
                                    std::to_string(answer.second.size()) +
                                    "\r\nConnection: close\r\n\r\n" + answer.second;
            (void)!::write(c, out.data(), out.size());
            ::close(c);
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::mutex mu_;
    std::vector<std::pair<int, std::string>> answers_;
    std::size_t next_ = 0;
    std::vector<std::string> requests_;
};

class TokenSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("crm_token_source_" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        refresh_file_ = (dir_ / "refresh").string();
        std::ofstream(refresh_file_) << "first-refresh\n";
        ::chmod(refresh_file_.c_str(), 0640);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::shared_ptr<crm::runtime::TokenSource> make(const std::string& endpoint,
                                                    crm::SecretRef ref) {
        crm::OAuthRefresh cfg;
        cfg.token_endpoint = endpoint;
        cfg.client_id = "client";
        cfg.refresh_token = std::move(ref);
        crm::runtime::TokenSource::Hooks hooks;
        hooks.warn = [this](const std::string& w) { warnings_.push_back(w); };
        hooks.secret = [this](const std::string& s) { secrets_.push_back(s); };
        auto ts = crm::runtime::TokenSource::make(cfg, "", hooks, [this] { return now_; });
        EXPECT_TRUE(ts) << ts.error().to_string();
        return ts ? *ts : nullptr;
    }
    std::string file_text() {
        std::ifstream in(refresh_file_);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    std::filesystem::path dir_;
    std::string refresh_file_;
    std::chrono::steady_clock::time_point now_{std::chrono::hours(1)};
    std::vector<std::string> warnings_, secrets_;
};

TEST_F(TokenSourceTest, AKeptTokenServesUntilAMinuteBeforeItExpires) {
    TokenEndpoint ep({{200, R"({"access_token":"a1","expires_in":3599,"token_type":"Bearer"})"},
                      {200, R"({"access_token":"a2","expires_in":"3599"})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::File, refresh_file_});
    ASSERT_TRUE(ts);
    EXPECT_EQ(*ts->access_token(), "a1");
    now_ += 3599s - 61s;
    EXPECT_EQ(*ts->access_token(), "a1") << "still more than a minute to live";
    EXPECT_EQ(ts->refreshes(), 1u);
    now_ += 2s;
    EXPECT_EQ(*ts->access_token(), "a2") << "less than a minute left: a new one";
    ASSERT_EQ(ep.requests().size(), 2u);
    EXPECT_NE(ep.requests()[0].find("grant_type=refresh_token&refresh_token=first-refresh"),
              std::string::npos)
        << ep.requests()[0];
    // A refused login drops the kept token.
    ts->invalidate();
    EXPECT_EQ(*ts->access_token(), "a2");
    EXPECT_EQ(ts->refreshes(), 3u);
    // Every secret it learnt was handed to the log's redaction.
    EXPECT_EQ(secrets_, (std::vector<std::string>{"first-refresh", "a1", "a2", "a2"}));
}

TEST_F(TokenSourceTest, WithoutExpiresInATokenIsKeptFiveMinutesAtMost) {
    TokenEndpoint ep({{200, R"({"access_token":"b1"})"}, {200, R"({"access_token":"b2"})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::File, refresh_file_});
    ASSERT_TRUE(ts);
    EXPECT_EQ(*ts->access_token(), "b1");
    now_ += crm::runtime::TokenSource::kUnknownLifetime - crm::runtime::TokenSource::kMargin;
    EXPECT_EQ(*ts->access_token(), "b2");
}

TEST_F(TokenSourceTest, ARotatedRefreshTokenIsWrittenBackAndUsedNext) {
    TokenEndpoint ep(
        {{200, R"({"access_token":"c1","expires_in":60,"refresh_token":"second-refresh"})"},
         {200, R"({"access_token":"c2","expires_in":3600,"refresh_token":"third-refresh"})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::File, refresh_file_});
    ASSERT_TRUE(ts);
    EXPECT_EQ(*ts->access_token(), "c1");
    EXPECT_EQ(file_text(), "second-refresh\n");
    struct stat st {};
    ASSERT_EQ(::stat(refresh_file_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "a secret file is 0600 after the write";
    // expires_in 60 is within the margin: not kept.
    EXPECT_EQ(*ts->access_token(), "c2");
    ASSERT_EQ(ep.requests().size(), 2u);
    EXPECT_NE(ep.requests()[1].find("refresh_token=second-refresh"), std::string::npos)
        << "the old refresh token is discarded (RFC 6749 §6)";
    EXPECT_EQ(file_text(), "third-refresh\n");
    EXPECT_TRUE(warnings_.empty());
    for (const auto& entry : std::filesystem::directory_iterator(dir_))
        EXPECT_EQ(entry.path().filename(), "refresh") << "no temporary file left behind";
}

TEST_F(TokenSourceTest, ARotationThatCannotBeWrittenBackIsToldToTheOperator) {
    ::setenv("CRM_TOKEN_SOURCE_TEST_REFRESH", "env-refresh", 1);
    TokenEndpoint ep(
        {{200, R"({"access_token":"d1","expires_in":60,"refresh_token":"new-refresh"})"},
         {200, R"({"access_token":"d2","expires_in":3600})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::Env, "CRM_TOKEN_SOURCE_TEST_REFRESH"});
    ASSERT_TRUE(ts);
    EXPECT_EQ(*ts->access_token(), "d1");
    ASSERT_EQ(warnings_.size(), 1u);
    EXPECT_NE(warnings_[0].find("environment variable CRM_TOKEN_SOURCE_TEST_REFRESH"),
              std::string::npos)
        << warnings_[0];
    EXPECT_EQ(warnings_[0].find("new-refresh"), std::string::npos) << "never the token itself";
    EXPECT_EQ(*ts->access_token(), "d2");
    EXPECT_NE(ep.requests()[1].find("refresh_token=new-refresh"), std::string::npos)
        << "the new one is used in memory";
    ::unsetenv("CRM_TOKEN_SOURCE_TEST_REFRESH");
}

TEST_F(TokenSourceTest, ARefusedRefreshTokenNeedsTheAdmin) {
    TokenEndpoint ep(
        {{400, R"({"error":"invalid_grant","error_description":"AADSTS70000: revoked"})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::File, refresh_file_});
    ASSERT_TRUE(ts);
    auto r = ts->access_token();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "net.oauth");
    EXPECT_EQ(r.error().retry, crm::Retry::NeedsConfig);
    EXPECT_NE(r.error().detail.find("invalid_grant"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().detail.find("first-refresh"), std::string::npos) << "never the token";
}

TEST_F(TokenSourceTest, AMissingRefreshTokenFileIsAConfigErrorNamingIt) {
    crm::OAuthRefresh cfg;
    cfg.token_endpoint = "http://127.0.0.1:9/token";
    cfg.client_id = "client";
    cfg.refresh_token = {crm::SecretRef::Kind::File, (dir_ / "absent").string()};
    auto ts = crm::runtime::TokenSource::make(cfg, "");
    ASSERT_FALSE(ts);
    EXPECT_EQ(ts.error().code, "secret.missing");
    EXPECT_NE(ts.error().detail.find("absent"), std::string::npos) << ts.error().detail;
}

} // namespace

// ---- consent (crm-mailctl accounts oauth) --------------------------------------------------

// An admin granted access again (the file now holds another refresh token): the next refresh
// uses the file's token, and replaced_on_disk() says so until then (the daemon's reload
// restarts the account for it).
TEST_F(TokenSourceTest, ARefreshTokenReplacedInItsFileIsUsedAtTheNextRefresh) {
    TokenEndpoint ep({{200, R"({"access_token":"d1","expires_in":60})"},
                      {200, R"({"access_token":"d2","expires_in":3600})"}});
    auto ts = make(ep.url(), {crm::SecretRef::Kind::File, refresh_file_});
    ASSERT_TRUE(ts);
    EXPECT_EQ(*ts->access_token(), "d1");
    EXPECT_FALSE(ts->replaced_on_disk());
    ASSERT_TRUE(crm::runtime::store_refresh_token({crm::SecretRef::Kind::File, refresh_file_},
                                                  "granted-refresh"));
    EXPECT_TRUE(ts->replaced_on_disk());
    EXPECT_EQ(*ts->access_token(), "d2");
    ASSERT_EQ(ep.requests().size(), 2u);
    EXPECT_NE(ep.requests()[1].find("refresh_token=granted-refresh"), std::string::npos);
    EXPECT_FALSE(ts->replaced_on_disk());
}

// A token in an environment variable cannot be stored: the error says where it lives.
TEST_F(TokenSourceTest, ARefreshTokenOutsideAFileCannotBeStored) {
    auto r = crm::runtime::store_refresh_token({crm::SecretRef::Kind::Env, "SOME_VAR"}, "t");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "oauth.rotation");
    EXPECT_NE(r.error().detail.find("environment variable SOME_VAR"), std::string::npos)
        << r.error().detail;
    EXPECT_NE(r.error().detail.find("oauth_refresh_token_file"), std::string::npos);
}

// RFC 7636 Appendix B: the verifier and its S256 challenge; made pairs are 64 characters of the
// unreserved set and differ each time.
TEST(Pkce, ChallengeIsTheRfc7636ExampleAndVerifiersAreRandom) {
    EXPECT_EQ(crm::runtime::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
              "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    const auto a = crm::runtime::make_pkce();
    const auto b = crm::runtime::make_pkce();
    EXPECT_EQ(a.verifier.size(), 64u);
    EXPECT_EQ(a.verifier.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"),
              std::string::npos);
    EXPECT_NE(a.verifier, b.verifier);
    EXPECT_EQ(a.challenge, crm::runtime::pkce_challenge(a.verifier));
}

// RFC 8628 over the wire: Google's verification_url spelling, the poll's pending (Google answers
// 428), slow_down and the user's refusal (final: NeedsConfig).
TEST(DeviceFlow, CodesPollsAndRefusal) {
    TokenEndpoint ep({{200, R"({"device_code":"dev-1","user_code":"ABCD-EFGH",)"
                            R"("verification_url":"https://www.google.com/device",)"
                            R"("expires_in":1800,"interval":5})"},
                      {428, R"({"error":"authorization_pending"})"},
                      {400, R"({"error":"slow_down"})"},
                      {200, R"({"access_token":"a","expires_in":3599,"refresh_token":"r"})"},
                      {403, R"({"error":"access_denied","error_description":"Forbidden"})"}});
    crm::net::OAuthClient c;
    c.token_endpoint = ep.url();
    c.client_id = "client";
    c.client_secret = "shh";
    auto d = crm::net::request_device_code(c, ep.url(), "scope-a scope-b");
    ASSERT_TRUE(d) << d.error().to_string();
    EXPECT_EQ(d->device_code, "dev-1");
    EXPECT_EQ(d->user_code, "ABCD-EFGH");
    EXPECT_EQ(d->verification_uri, "https://www.google.com/device");
    EXPECT_EQ(d->interval, 5s);
    EXPECT_EQ(d->expires_in, 1800s);
    auto p = crm::net::poll_device_code(c, d->device_code);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, crm::net::DevicePoll::State::Pending);
    p = crm::net::poll_device_code(c, d->device_code);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, crm::net::DevicePoll::State::SlowDown);
    p = crm::net::poll_device_code(c, d->device_code);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, crm::net::DevicePoll::State::Granted);
    EXPECT_EQ(p->tokens.refresh_token, "r");
    p = crm::net::poll_device_code(c, d->device_code);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().retry, crm::Retry::NeedsConfig);
    EXPECT_NE(p.error().detail.find("access_denied"), std::string::npos);
    const auto sent = ep.requests();
    ASSERT_EQ(sent.size(), 5u);
    EXPECT_NE(sent[0].find("scope=scope-a%20scope-b"), std::string::npos) << sent[0];
    EXPECT_NE(sent[1].find("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"),
              std::string::npos)
        << sent[1];
    EXPECT_NE(sent[1].find("client_secret=shh"), std::string::npos);
}

// A device answer without the codes is refused, naming the RFC.
TEST(DeviceFlow, AnAnswerWithoutCodesIsAnError) {
    TokenEndpoint ep({{200, R"({"interval":5})"}});
    crm::net::OAuthClient c;
    c.token_endpoint = ep.url();
    c.client_id = "client";
    auto d = crm::net::request_device_code(c, ep.url(), "s");
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().detail.find("RFC 8628"), std::string::npos) << d.error().detail;
}
