#include "crm/smtp/sender.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "fake_smtp_server.hpp"

namespace crm::smtp {
namespace {

using test::FakeSmtpServer;
using test::Script;
using test::unstuff;

constexpr std::string_view kMessage = "From: Sales <sales@example.com>\r\n"
                                      "To: Client <client@example.org>\r\n"
                                      "Subject: Re: offer\r\n"
                                      "\r\n"
                                      "Hello,\r\n"
                                      ".hidden line starting with a dot\r\n"
                                      ".\r\n"
                                      "..two dots\r\n"
                                      "Bye\r\n";

net::Endpoint endpoint(const FakeSmtpServer &server) {
    net::Endpoint ep;
    ep.scheme = "smtp";
    ep.host = "127.0.0.1";
    ep.port = server.port();
    ep.tls = net::Tls::None;
    ep.allow_insecure = true;
    ep.username = "sales@example.com";
    ep.secret = "s3cret";
    ep.connect_timeout = std::chrono::milliseconds(5'000);
    return ep;
}

std::size_t count_prefix(const std::vector<std::string> &lines, std::string_view prefix) {
    return static_cast<std::size_t>(
        std::ranges::count_if(lines, [&](const std::string &l) { return l.starts_with(prefix); }));
}

Result<SendReport> send_to(FakeSmtpServer &server, const std::vector<std::string> &rcpts,
                           std::string_view message = kMessage) {
    auto r = send(endpoint(server), "sales@example.com", rcpts, message);
    server.stop();
    return r;
}

TEST(SmtpSend, SendsMessageOnceWithDotStuffing) {
    FakeSmtpServer server{Script{}};
    auto r = send_to(server, {"client@example.org"});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->accepted());
    EXPECT_EQ(r->final_code, 250);
    EXPECT_EQ(r->final_text, "2.0.0 queued as 42");
    ASSERT_EQ(r->recipients.size(), 1U);
    EXPECT_EQ(r->recipients[0].address, "client@example.org");
    EXPECT_EQ(r->recipients[0].code, 250);

    auto msgs = server.messages();
    ASSERT_EQ(msgs.size(), 1U);
    const std::string &wire = msgs[0];
    EXPECT_NE(wire.find("\r\n..hidden line"), std::string::npos) << wire;
    EXPECT_NE(wire.find("\r\n..\r\n"), std::string::npos) << wire;
    EXPECT_NE(wire.find("\r\n...two dots\r\n"), std::string::npos) << wire;
    EXPECT_EQ(unstuff(wire), kMessage);

    auto cmds = server.commands();
    EXPECT_EQ(count_prefix(cmds, "MAIL FROM:<sales@example.com>"), 1U);
    EXPECT_EQ(count_prefix(cmds, "RCPT TO:<client@example.org>"), 1U);
    EXPECT_EQ(count_prefix(cmds, "DATA"), 1U);
}

TEST(SmtpSend, DotOnFirstLineIsStuffed) {
    FakeSmtpServer server{Script{}};
    auto r = send_to(server, {"client@example.org"}, ".\r\nfirst line was a dot\r\n");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    auto msgs = server.messages();
    ASSERT_EQ(msgs.size(), 1U);
    EXPECT_EQ(msgs[0], "..\r\nfirst line was a dot\r\n");
}

TEST(SmtpSend, UsesAuthPlainEvenWhenCramMd5IsOfferedFirst) {
    FakeSmtpServer server{Script{}};
    auto r = send_to(server, {"client@example.org"});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    auto cmds = server.commands();
    EXPECT_EQ(count_prefix(cmds, "AUTH CRAM-MD5"), 0U);
    EXPECT_EQ(count_prefix(cmds, "AUTH DIGEST-MD5"), 0U);
    ASSERT_EQ(count_prefix(cmds, "AUTH PLAIN"), 1U);
    // The PLAIN blob is "\0sales@example.com\0s3cret" (initial response or after 334).
    bool blob = std::ranges::any_of(cmds, [](const std::string &l) {
        return l.ends_with("AHNhbGVzQGV4YW1wbGUuY29tAHMzY3JldA==");
    });
    EXPECT_TRUE(blob);
}

TEST(SmtpSend, OneOfTwoRecipientsRejected) {
    Script s;
    s.rcpt["nobody@example.org"] = "550 5.1.1 no such user\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"nobody@example.org", "client@example.org"});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->accepted());
    ASSERT_EQ(r->recipients.size(), 2U);
    EXPECT_EQ(r->recipients[0].address, "nobody@example.org");
    EXPECT_EQ(r->recipients[0].code, 550);
    EXPECT_EQ(r->recipients[0].text, "5.1.1 no such user");
    EXPECT_EQ(r->recipients[1].address, "client@example.org");
    EXPECT_EQ(r->recipients[1].code, 250);
    EXPECT_EQ(server.messages().size(), 1U);
}

TEST(SmtpSend, PartialWithTemporaryFailureIsAReport) {
    Script s;
    s.rcpt["busy@example.org"] = "452 4.2.2 mailbox full\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"client@example.org", "busy@example.org"});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->accepted());
    ASSERT_EQ(r->recipients.size(), 2U);
    EXPECT_EQ(r->recipients[1].code, 452);
}

TEST(SmtpSend, AllRecipientsRejectedIsPermanent) {
    Script s;
    s.rcpt["a@example.org"] = "550 5.1.1 no such user a\r\n";
    s.rcpt["b@example.org"] = "550 5.1.1 no such user b\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org", "b@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.permanent");
    EXPECT_EQ(r.error().scope, ErrorScope::Message);
    EXPECT_NE(r.error().detail.find("no such user a"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().detail.find("no such user b"), std::string::npos) << r.error().detail;
    EXPECT_TRUE(server.messages().empty());
}

TEST(SmtpSend, AllRecipientsTemporarilyRejectedIsTemporary) {
    Script s;
    s.rcpt["a@example.org"] = "451 4.3.0 try later\r\n";
    s.rcpt["b@example.org"] = "550 5.1.1 no such user\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org", "b@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.temporary");
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_NE(r.error().detail.find("try later"), std::string::npos) << r.error().detail;
}

TEST(SmtpSend, AllRecipients451IsTemporary) {
    Script s;
    s.rcpt["a@example.org"] = "451 4.3.0 try later\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.temporary");
}

TEST(SmtpSend, MailFromRejected) {
    Script s;
    s.mail = "553 5.7.1 sender not allowed\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.permanent");
    EXPECT_NE(r.error().detail.find("sender not allowed"), std::string::npos);
}

TEST(SmtpSend, TemporaryFailureAtEndOfData) {
    Script s;
    s.end_of_data = "452 4.3.1 insufficient storage\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.temporary");
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_NE(r.error().detail.find("insufficient storage"), std::string::npos);
}

TEST(SmtpSend, PermanentFailureAtEndOfData) {
    Script s;
    s.end_of_data = "554 5.7.1 spam detected\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.permanent");
    EXPECT_EQ(r.error().retry, Retry::Never);
    EXPECT_NE(r.error().detail.find("spam detected"), std::string::npos);
}

TEST(SmtpSend, DataCommandRejected) {
    Script s;
    s.data = "554 5.5.1 no valid recipients\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.permanent");
    EXPECT_TRUE(server.messages().empty());
}

TEST(SmtpSend, AnyTwoHundredAtEndOfDataIsAccepted) {
    Script s;
    s.end_of_data =
        "251 2.0.0 queued elsewhere\r\n"; // libcurl 7.88 calls anything but 250 an error
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_TRUE(r->accepted());
    EXPECT_EQ(r->final_code, 251);
}

TEST(SmtpSend, ServiceNotAvailableIsTemporary) {
    Script s;
    s.greeting = "421 4.3.2 too busy, try later\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.temporary") << r.error().to_string();
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_NE(r.error().detail.find("too busy"), std::string::npos);
}

TEST(SmtpSend, DropAfterEndOfDataIsUnknown) {
    Script s;
    s.drop_after_dot = true;
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "smtp.unknown") << r.error().to_string();
    EXPECT_EQ(r.error().retry, Retry::Never);
    EXPECT_EQ(server.messages().size(), 1U); // it did arrive
}

TEST(SmtpSend, DropBeforeDataIsNetworkErrorNotUnknown) {
    Script s;
    s.drop_at_data = true;
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(r.error().code.starts_with("net.")) << r.error().to_string();
    EXPECT_EQ(r.error().code, "net.tcp") << r.error().to_string();
    EXPECT_EQ(r.error().retry, Retry::Backoff);
    EXPECT_TRUE(server.messages().empty());
}

TEST(SmtpSend, DropDuringDataIsNetworkErrorNotUnknown) {
    // Larger than any loopback socket buffer, so libcurl is still uploading when the peer goes
    // away: the end-of-data marker was never sent, so the message cannot have been accepted.
    std::string big = "Subject: big\r\n\r\n";
    while (big.size() < 32U * 1024U * 1024U)
        big += std::string(76, 'x') + "\r\n";
    Script s;
    s.drop_after_354 = true;
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"}, big);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.tcp") << r.error().to_string();
}

TEST(SmtpSend, AuthRejectedIsNetAuth) {
    Script s;
    s.auth = "535 5.7.8 authentication failed\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.auth") << r.error().to_string();
    EXPECT_EQ(r.error().scope, ErrorScope::Account);
    EXPECT_EQ(r.error().retry, Retry::NeedsConfig);
    EXPECT_EQ(r.error().detail.find("s3cret"), std::string::npos);
    EXPECT_EQ(count_prefix(server.commands(), "MAIL"), 0U);
}

TEST(SmtpSend, PlainNotOfferedIsNetAuth) {
    Script s;
    s.ehlo = "250-fake.example\r\n250 AUTH CRAM-MD5\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.auth") << r.error().to_string();
    EXPECT_EQ(count_prefix(server.commands(), "AUTH CRAM-MD5"), 0U);
    EXPECT_EQ(count_prefix(server.commands(), "MAIL"), 0U);
}

TEST(SmtpSend, NoAuthOfferedWithCredentialsIsRefused) {
    Script s;
    s.ehlo = "250-fake.example\r\n250 8BITMIME\r\n";
    FakeSmtpServer server{s};
    auto r = send_to(server, {"a@example.org"});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.auth") << r.error().to_string();
    EXPECT_TRUE(server.messages().empty());
    EXPECT_EQ(count_prefix(server.commands(), "DATA"), 0U);
}

TEST(SmtpSend, NoCredentialsSendsWithoutAuth) {
    Script s;
    s.ehlo = "250-fake.example\r\n250 8BITMIME\r\n";
    FakeSmtpServer server{s};
    auto ep = endpoint(server);
    ep.username.clear();
    ep.secret.clear();
    auto r = send(ep, "sales@example.com", {"a@example.org"}, kMessage);
    server.stop();
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    EXPECT_EQ(count_prefix(server.commands(), "AUTH"), 0U);
    EXPECT_EQ(server.messages().size(), 1U);
}

TEST(SmtpSend, EnvelopeInjectionIsRefusedBeforeConnecting) {
    FakeSmtpServer server{Script{}};
    auto ep = endpoint(server);
    using namespace std::string_literals;
    const std::vector<std::string> bad = {"a@b.c>\r\nRCPT TO:<x@y.z",
                                          "a@b\r\n",
                                          "a@b\0c"s,
                                          "a@b\nc",
                                          "<a@b.c>",
                                          "a b@c.d",
                                          "",
                                          "nodomain",
                                          "a@b\rc"};
    for (const auto &b : bad) {
        auto r1 = send(ep, b, {"ok@example.org"}, kMessage);
        ASSERT_FALSE(r1.has_value());
        EXPECT_EQ(r1.error().code, "smtp.invalid");
        auto r2 = send(ep, "sales@example.com", {"ok@example.org", b}, kMessage);
        ASSERT_FALSE(r2.has_value());
        EXPECT_EQ(r2.error().code, "smtp.invalid");
        EXPECT_EQ(r2.error().detail.find('\r'), std::string::npos);
        EXPECT_EQ(r2.error().detail.find('\n'), std::string::npos);
    }
    auto r3 = send(ep, "sales@example.com", {}, kMessage);
    ASSERT_FALSE(r3.has_value());
    EXPECT_EQ(r3.error().code, "smtp.invalid");
    server.stop();
    EXPECT_EQ(server.connections(), 0);
}

TEST(SmtpSend, BareLfDotCannotEndDataEarly) {
    FakeSmtpServer server{Script{}};
    auto r = send_to(server, {"a@example.org"}, "Subject: x\r\n\r\nline\n.\nmore\r.\rend");
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    auto msgs = server.messages();
    ASSERT_EQ(msgs.size(), 1U);
    const std::string &wire = msgs[0];
    // No bare LF or CR reaches the server, so no reading of "\n.\n" can end DATA early.
    for (std::size_t i = 0; i < wire.size(); ++i) {
        if (wire[i] == '\n') {
            ASSERT_TRUE(i > 0 && wire[i - 1] == '\r') << "bare LF at " << i;
        }
        if (wire[i] == '\r') {
            ASSERT_TRUE(i + 1 < wire.size() && wire[i + 1] == '\n') << "bare CR at " << i;
        }
    }
    EXPECT_EQ(unstuff(wire), "Subject: x\r\n\r\nline\r\n.\r\nmore\r\n.\r\nend\r\n");
    EXPECT_EQ(wire, "Subject: x\r\n\r\nline\r\n..\r\nmore\r\n..\r\nend\r\n");
    EXPECT_EQ(count_prefix(server.commands(), "MAIL"), 1U); // nothing after "." became a command
}

TEST(SmtpSend, PlaintextOffLoopbackIsRefused) {
    net::Endpoint ep;
    ep.host = "mail.example.com";
    ep.port = 25;
    ep.tls = net::Tls::None;
    ep.allow_insecure = true;
    auto r = send(ep, "a@b.c", {"d@e.f"}, kMessage);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.config");
    ep.host = "127.0.0.1";
    ep.allow_insecure = false;
    r = send(ep, "a@b.c", {"d@e.f"}, kMessage);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.config");
}

TEST(SmtpSend, ConnectionRefusedIsNetTcp) {
    std::uint16_t port = 0;
    {
        FakeSmtpServer server{Script{}};
        port = server.port();
    } // closed: nothing listens there now
    net::Endpoint ep;
    ep.host = "127.0.0.1";
    ep.port = port;
    ep.tls = net::Tls::None;
    ep.allow_insecure = true;
    auto r = send(ep, "a@b.c", {"d@e.f"}, kMessage);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, "net.tcp") << r.error().to_string();
}

TEST(SmtpNormalise, LineEndings) {
    EXPECT_EQ(normalise_line_endings("a\r\nb\r\n"), "a\r\nb\r\n");
    EXPECT_EQ(normalise_line_endings("a\nb"), "a\r\nb\r\n");
    EXPECT_EQ(normalise_line_endings("a\rb\r"), "a\r\nb\r\n");
    EXPECT_EQ(normalise_line_endings("a\n\r\n"), "a\r\n\r\n");
    EXPECT_EQ(normalise_line_endings("a\r\r\n"), "a\r\n\r\n");
}

TEST(SmtpReport, Accepted) {
    SendReport r;
    r.final_code = 250;
    EXPECT_FALSE(r.accepted());
    r.recipients.push_back({"a@b.c", 550, "no"});
    EXPECT_FALSE(r.accepted());
    r.recipients.push_back({"d@b.c", 250, "ok"});
    EXPECT_TRUE(r.accepted());
    r.final_code = 451;
    EXPECT_FALSE(r.accepted());
}

} // namespace
} // namespace crm::smtp
