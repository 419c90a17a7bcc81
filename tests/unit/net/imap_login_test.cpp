// The IMAP login's answers classified (issue 18): a refused login needs the admin, a server that
// is busy or throttling is retried, and what the server tells a person ([ALERT], Gmail's
// [WEBALERT]) is kept in the error. The server is a script of lines.
#include <deque>
#include <string>

#include <gtest/gtest.h>

#include "imap_login.hpp"

namespace {

using crm::Retry;
using crm::net::imap_login;
using crm::net::LoginIo;

// Answers every command with the next lines of `script`.
struct Script {
    std::deque<std::string> lines;
    std::vector<std::string> sent;
    LoginIo io() {
        return {[this](std::string_view s) -> crm::Result<void> {
                    sent.emplace_back(s);
                    return {};
                },
                [this]() -> crm::Result<std::string> {
                    if (lines.empty())
                        return crm::fail("net.io", "end of script");
                    std::string l = lines.front();
                    lines.pop_front();
                    return l;
                }};
    }
};

crm::net::Endpoint endpoint() {
    crm::net::Endpoint ep;
    ep.host = "imap.example";
    ep.port = 993;
    ep.username = "alice@example.com";
    ep.secret = "s3cret-pw";
    return ep;
}

crm::Result<void> login_with(std::initializer_list<std::string> answer) {
    Script s;
    s.lines = {"* CAPABILITY IMAP4rev1 AUTH=PLAIN", "L1 OK done"};
    s.lines.insert(s.lines.end(), answer.begin(), answer.end());
    return imap_login(endpoint(), s.io());
}

TEST(ImapLogin, RefusedCredentialsNeedTheAdminWithWhatTheServerSaid) {
    auto r = login_with({"* NO [WEBALERT https://accounts.google.com/signin/continue?x=1] Web "
                         "login required.",
                         "L2 NO [ALERT] Please log in via your web browser (Failure)"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "net.auth");
    EXPECT_EQ(r.error().retry, Retry::NeedsConfig);
    EXPECT_NE(r.error().detail.find("Please log in via your web browser"), std::string::npos)
        << r.error().detail;
    EXPECT_NE(r.error().detail.find("Web login required"), std::string::npos) << r.error().detail;
    EXPECT_EQ(r.error().detail.find("s3cret-pw"), std::string::npos);
}

TEST(ImapLogin, BusyOrThrottlingServersAreRetriedNotReauthenticated) {
    for (const char* tagged :
         {"L2 NO [THROTTLED] Account exceeded command or bandwidth limits. (Failure)",
          "L2 NO [LIMIT] Too many simultaneous connections. (Failure)",
          "L2 NO Too many simultaneous connections. (Failure)", "L2 NO [INUSE] Mailbox in use",
          "L2 NO User is authenticated but not connected."}) {
        SCOPED_TRACE(tagged);
        auto r = login_with({tagged});
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, "net.busy") << r.error().detail;
        EXPECT_EQ(r.error().retry, Retry::Backoff);
    }
}

TEST(ImapLogin, UnavailableAndBadAreProtocolErrorsAndOkLogsIn) {
    auto r = login_with({"L2 NO [UNAVAILABLE] try later"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "net.protocol");
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_TRUE(login_with({"L2 OK [CAPABILITY IMAP4rev1] logged in"}));
    auto plain = login_with({"L2 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)"});
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().code, "net.auth");
    EXPECT_EQ(plain.error().detail.find("the server says"), std::string::npos)
        << "no alert, nothing added";
}

} // namespace
