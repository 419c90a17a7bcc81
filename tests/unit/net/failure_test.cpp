// The one map from libcurl failures to crm::Error (crm/net/failure.hpp), used by the IMAP
// connection and the SMTP transfer alike.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crm/net/failure.hpp"
#include "curl_easy.hpp"

namespace crm::net {
namespace {

struct Case {
    FailureKind kind;
    const char* code;
    Retry retry;
    const char* detail; // for where "imap://h:993" and text "boom", default wording
};

TEST(FailureError, EachKindHasItsCodeRetryAndDetail) {
    const std::vector<Case> cases = {
        {FailureKind::Dns, "net.dns", Retry::Backoff, "imap://h:993: cannot resolve host: boom"},
        {FailureKind::Connect, "net.tcp", Retry::Backoff, "imap://h:993: cannot connect: boom"},
        {FailureKind::Timeout, "net.timeout", Retry::Backoff, "imap://h:993: timed out: boom"},
        {FailureKind::Tls, "net.tls", Retry::NeedsConfig, "imap://h:993: TLS failed: boom"},
        {FailureKind::StartTls, "net.starttls", Retry::NeedsConfig,
         "imap://h:993: server refused STARTTLS: boom"},
        {FailureKind::LoginDenied, "net.auth", Retry::NeedsConfig,
         "imap://h:993: login rejected: boom"},
        {FailureKind::ConnectionLost, "net.tcp", Retry::Backoff,
         "imap://h:993: connection lost during login: boom"},
        {FailureKind::Other, "net.protocol", Retry::Backoff, "imap://h:993: boom"},
    };
    for (const auto& c : cases) {
        const Error e = failure_error({c.kind, "boom"}, "imap://h:993");
        EXPECT_EQ(e.code, c.code) << c.detail;
        EXPECT_EQ(e.retry, c.retry) << c.detail;
        EXPECT_EQ(e.scope, ErrorScope::Account) << c.detail;
        EXPECT_EQ(e.detail, c.detail);
    }
}

TEST(FailureError, WordingNamesWhatWasBeingDone) {
    FailureWording w;
    w.timed_out = "timed out (message not sent)";
    w.connection_lost = "connection lost (message not sent)";
    w.login_denied = "login failed for u (AUTH PLAIN rejected or not offered)";
    w.server_said = "554 no";
    const std::string where = "smtp://h:587";
    EXPECT_EQ(failure_error({FailureKind::Timeout, "t"}, where, w).detail,
              "smtp://h:587: timed out (message not sent): t");
    EXPECT_EQ(failure_error({FailureKind::ConnectionLost, "t"}, where, w).detail,
              "smtp://h:587: connection lost (message not sent): t");
    EXPECT_EQ(failure_error({FailureKind::LoginDenied, "t"}, where, w).detail,
              "smtp://h:587: login failed for u (AUTH PLAIN rejected or not offered): t");
    EXPECT_EQ(failure_error({FailureKind::Other, "t"}, where, w).detail,
              "smtp://h:587: t (server said \"554 no\")");
    // The server's last line only qualifies failures net cannot name otherwise.
    EXPECT_EQ(failure_error({FailureKind::Dns, "t"}, where, w).detail,
              "smtp://h:587: cannot resolve host: t");
}

// A resolver that never answers is a DNS failure, not a timeout of the connection.
TEST(FailureOf, ResolvingTimedOutIsADnsFailure) {
    EXPECT_EQ(
        detail::failure_of(CURLE_OPERATION_TIMEDOUT, "Resolving timed out after 5000 milliseconds")
            .kind,
        FailureKind::Dns);
    EXPECT_EQ(
        detail::failure_of(CURLE_OPERATION_TIMEDOUT, "Connection timed out after 5001 milliseconds")
            .kind,
        FailureKind::Timeout);
    EXPECT_EQ(detail::failure_of(CURLE_COULDNT_RESOLVE_HOST, "").kind, FailureKind::Dns);
}

} // namespace
} // namespace crm::net
