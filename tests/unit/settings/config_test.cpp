#include "crm/settings/config.hpp"
#include "crm/settings/edit.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace crm::settings {
namespace {

constexpr std::string_view kFile = "test.toml";

ParseOutcome parse(std::string_view text) {
    return parse_config(text, kFile);
}

std::string dump(const ParseOutcome& out) {
    std::string s;
    for (const auto& p : out.problems)
        s += format_problem(p) + "\n";
    return s;
}

std::vector<Problem> errors(const ParseOutcome& out) {
    std::vector<Problem> e;
    std::copy_if(out.problems.begin(), out.problems.end(), std::back_inserter(e),
                 [](const Problem& p) { return !p.warning; });
    return e;
}

// True when some problem of the given kind is on `line` and its message contains `fragment`.
bool has_problem(const ParseOutcome& out, int line, std::string_view fragment, bool warning) {
    return std::any_of(out.problems.begin(), out.problems.end(), [&](const Problem& p) {
        return p.warning == warning && p.file == kFile && p.line == line &&
               p.message.find(fragment) != std::string::npos;
    });
}

// Lines 1-5 are the account header; the IMAP body starts on line 6.
std::string with_imap(std::string_view imap_body) {
    return std::string("[[accounts]]\n"
                       "name = \"a\"\n"
                       "owner_id = 1\n"
                       "address = \"a@example.com\"\n"
                       "[accounts.imap]\n") +
           std::string(imap_body);
}

constexpr std::string_view kGoodImap = "host = \"imap.example.com\"\n"
                                       "username = \"a\"\n"
                                       "password_file = \"/run/a\"\n";

// ---------------------------------------------------------------------------------------------

TEST(Config, FullConfigRoundTrips) {
    const std::string text = R"(allow_inline_secrets = true

[database]
path = "/srv/crm/db.sqlite"

[daemon]
log_level = "debug"

[http]
bind = "::1"
port = 9000

[matching]
strip_plus_tags = false
plus_separator = "-"
gmail_dot_folding = false
extra_free_mail_domains = ["mail.example", "post.example"]
trusted_authserv_ids = ["mx1.example.com", "mx2.example.com"]

[[accounts]]
name = "alice"
owner_id = 7
address = "alice@example.com"
folders = ["INBOX", "Archive"]
enabled = false
poll_interval = 60
idle = false
initial_sync_days = 0
backfill = false
batch_messages = 50
batch_bytes = 1048576
mirror_seen = true
fallback_charset = "windows-1250"
gmail = false

[accounts.imap]
host = "imap.example.com"
port = 1993
tls = "starttls"
ca_file = "/etc/crm-mail/ca.pem"
username = "alice"
auth = "password"
password_env = "ALICE_PW"

[accounts.smtp]
host = "127.0.0.1"
tls = "none"
allow_insecure = true
username = "alice-smtp"
auth = "xoauth2"
token_credential = "alice-token"

[[accounts]]
name = "bob"
owner_id = 8
address = "bob@example.org"

[accounts.imap]
host = "imap.gmail.com"
username = "bob@example.org"
auth = "xoauth2"
oauth_token_endpoint = "https://oauth2.example.com/token"
oauth_client_id = "client-1"
oauth_client_secret = "s3cret"
oauth_refresh_token_file = "/run/bob-refresh"

[accounts.smtp]
host = "smtp.gmail.com"
tls = "starttls"
)";
    const auto out = parse(text);
    ASSERT_TRUE(out.ok()) << dump(out);

    Config want;
    want.allow_inline_secrets = true;
    want.database.path = "/srv/crm/db.sqlite";
    want.daemon.log_level = LogLevel::Debug;
    want.http.bind = "::1";
    want.http.port = 9000;
    want.matching = {
        false, '-', false, {"mail.example", "post.example"}, {"mx1.example.com", "mx2.example.com"},
        true,  ""};

    AccountConfig alice;
    alice.name = "alice";
    alice.owner_id = 7;
    alice.address = "alice@example.com";
    alice.folders = {"INBOX", "Archive"};
    alice.enabled = false;
    alice.poll_interval = std::chrono::seconds(60);
    alice.idle = false;
    alice.initial_sync_days = 0;
    alice.backfill = false;
    alice.batch_messages = 50;
    alice.batch_bytes = 1048576;
    alice.mirror_seen = true;
    alice.fallback_charset = "windows-1250";
    alice.gmail = false;
    alice.imap = ServerConfig{"imap.example.com",
                              1993,
                              Tls::StartTls,
                              false,
                              "/etc/crm-mail/ca.pem",
                              "alice",
                              Auth::Password,
                              SecretRef{SecretRef::Kind::Env, "ALICE_PW"},
                              std::nullopt};
    alice.smtp = ServerConfig{"127.0.0.1",
                              25,
                              Tls::None,
                              true,
                              "",
                              "alice-smtp",
                              Auth::XOAuth2,
                              SecretRef{SecretRef::Kind::Credential, "alice-token"},
                              std::nullopt};
    alice.line = 20;

    AccountConfig bob;
    bob.name = "bob";
    bob.owner_id = 8;
    bob.address = "bob@example.org";
    OAuthRefresh refresh{"https://oauth2.example.com/token",
                         "client-1",
                         SecretRef{SecretRef::Kind::Inline, "s3cret"},
                         SecretRef{SecretRef::Kind::File, "/run/bob-refresh"},
                         "",
                         "",
                         ""};
    bob.imap = ServerConfig{"imap.gmail.com",  993,           Tls::Implicit, false,  "",
                            "bob@example.org", Auth::XOAuth2, std::nullopt,  refresh};
    // SMTP without credentials inherits the IMAP username and login.
    bob.smtp = ServerConfig{"smtp.gmail.com",  587,           Tls::StartTls, false,  "",
                            "bob@example.org", Auth::XOAuth2, std::nullopt,  refresh};
    bob.line = 53;
    want.accounts = {alice, bob};

    const Config& got = *out.config;
    EXPECT_EQ(got.database, want.database);
    EXPECT_EQ(got.daemon, want.daemon);
    EXPECT_EQ(got.http, want.http);
    EXPECT_EQ(got.matching, want.matching);
    ASSERT_EQ(got.accounts.size(), 2U);
    EXPECT_EQ(got.accounts[0].imap, want.accounts[0].imap);
    EXPECT_EQ(got.accounts[0].smtp, want.accounts[0].smtp);
    EXPECT_EQ(got.accounts[1].imap, want.accounts[1].imap);
    EXPECT_EQ(got.accounts[1].smtp, want.accounts[1].smtp);
    EXPECT_EQ(got.accounts[0], want.accounts[0]);
    EXPECT_EQ(got.accounts[1], want.accounts[1]);
    EXPECT_EQ(got, want);

    // The only problem: the inline client secret, allowed but warned about.
    ASSERT_EQ(out.problems.size(), 1U) << dump(out);
    EXPECT_TRUE(has_problem(out, 64, "secret stored in the configuration file", true)) << dump(out);
}

TEST(Config, HttpLimitsAndMetricsToken) {
    const auto out = parse("[http]\nallowed_hosts = [\"crm.example.com\"]\nmax_connections = 32\n"
                           "max_body_bytes_in_flight = 33554432\n"
                           "metrics_token_file = \"/etc/crm-mail/metrics.token\"\n"
                           "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"fd00::/8\"]\n"
                           "public_url = \"https://crm.example.com/\"\n" +
                           with_imap(kGoodImap));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_TRUE(out.problems.empty()) << dump(out);
    const HttpConfig want{"127.0.0.1",
                          8025,
                          {"crm.example.com"},
                          false,
                          32,
                          32u << 20,
                          "/etc/crm-mail/metrics.token",
                          {"127.0.0.1", "10.0.0.0/8", "fd00::/8"},
                          "https://crm.example.com"}; // without the trailing slash
    EXPECT_EQ(out.config->http, want);
}

TEST(Config, PostgresqlDatabaseWithPasswordSourceAndWorkerShare) {
    const auto out = parse("[database]\nurl = \"postgresql://crm@db.example:5433/crm\"\n"
                           "password_file = \"/etc/crm-mail/db.password\"\n"
                           "lease_seconds = 30\n"
                           "[daemon]\nmax_accounts = 8\n" +
                           with_imap(kGoodImap));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_TRUE(out.problems.empty()) << dump(out);
    const auto& db = out.config->database;
    EXPECT_TRUE(db.postgresql());
    EXPECT_EQ(db.url, "postgresql://crm@db.example:5433/crm");
    ASSERT_TRUE(db.password);
    EXPECT_EQ(db.password->kind, SecretRef::Kind::File);
    EXPECT_EQ(db.password->value, "/etc/crm-mail/db.password");
    EXPECT_EQ(out.config->daemon.max_accounts, 8);
    EXPECT_EQ(db.lease_seconds, 30);

    // Without url: SQLite at the default path, no password, no worker share.
    const auto lite = parse(with_imap(kGoodImap));
    ASSERT_TRUE(lite.ok()) << dump(lite);
    EXPECT_FALSE(lite.config->database.postgresql());
    EXPECT_FALSE(lite.config->database.password);
    EXPECT_FALSE(lite.config->daemon.max_accounts);
}

TEST(Config, FollowupPeriodsHaveDefaultsAndRanges) {
    const auto out =
        parse("[followups]\nawaiting_days = 5\nanswer_hours = 48\n" + with_imap(kGoodImap));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_EQ(out.config->followups.awaiting_days, 5);
    EXPECT_EQ(out.config->followups.answer_hours, 48);
    const auto dflt = parse(with_imap(kGoodImap));
    ASSERT_TRUE(dflt.ok()) << dump(dflt);
    EXPECT_EQ(dflt.config->followups.awaiting_days, 3);
    EXPECT_EQ(dflt.config->followups.answer_hours, 24);
    const auto bad = parse("[followups]\nawaiting_days = 0\nanswer_hours = 721\nweeks = 2\n" +
                           with_imap(kGoodImap));
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE(has_problem(bad, 2, "followups.awaiting_days", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 3, "followups.answer_hours", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 4, "weeks", false)) << dump(bad);
}

TEST(Config, DailyReminderIsOffUnlessItsHourIsSet) {
    const auto dflt = parse(with_imap(kGoodImap));
    ASSERT_TRUE(dflt.ok()) << dump(dflt);
    EXPECT_EQ(dflt.config->followups.daily_reminder_hour, std::nullopt);
    EXPECT_EQ(dflt.config->followups.daily_reminder_days,
              (std::vector<std::string>{"mon", "tue", "wed", "thu", "fri"}));
    const auto on = parse("[followups]\ndaily_reminder_hour = 7\ndaily_reminder_days = [\"sat\", "
                          "\"mon\", \"sat\"]\n" +
                          with_imap(kGoodImap));
    ASSERT_TRUE(on.ok()) << dump(on);
    EXPECT_EQ(on.config->followups.daily_reminder_hour, 7);
    EXPECT_EQ(on.config->followups.daily_reminder_days, (std::vector<std::string>{"sat", "mon"}));
    const auto bad = parse("[followups]\ndaily_reminder_hour = 24\ndaily_reminder_days = "
                           "[\"monday\", 3]\n" +
                           with_imap(kGoodImap));
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE(has_problem(bad, 2, "followups.daily_reminder_hour", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 3, "followups.daily_reminder_days[0]: expected one of", false))
        << dump(bad);
    EXPECT_TRUE(has_problem(bad, 3, "followups.daily_reminder_days[1]", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 3, "name at least one day", false)) << dump(bad);
}

TEST(Config, ComposeLimitsHaveDefaultsRangesAndFitTheHttpBudget) {
    const auto dflt = parse(with_imap(kGoodImap));
    ASSERT_TRUE(dflt.ok()) << dump(dflt);
    EXPECT_EQ(dflt.config->compose, ComposeLimits{});
    EXPECT_EQ(dflt.config->compose.max_attachment_bytes, 10u << 20);
    const auto out = parse("[compose]\nmax_attachment_bytes = 1048576\nmax_message_bytes = "
                           "4194304\n[http]\nmax_body_bytes_in_flight = 8388608\n" +
                           with_imap(kGoodImap));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_EQ(out.config->compose, (ComposeLimits{1u << 20, 4u << 20}));
    const auto bad = parse("[compose]\nmax_attachment_bytes = 10\nmax_message_bytes = "
                           "1099511627776\nsize = 3\n" +
                           with_imap(kGoodImap));
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE(has_problem(bad, 2, "compose.max_attachment_bytes", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 3, "compose.max_message_bytes", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 4, "size", false)) << dump(bad);
    const auto larger = parse("[compose]\nmax_attachment_bytes = 4194304\nmax_message_bytes = "
                              "1048576\n" +
                              with_imap(kGoodImap));
    EXPECT_TRUE(has_problem(larger, 1, "is larger than compose.max_message_bytes", false))
        << dump(larger);
    // One mail with its attachments must fit into the bodies read at once: a config without
    // [compose] and with a smaller budget gets smaller limits, and a warning.
    const auto tight = parse("[http]\nmax_body_bytes_in_flight = 8388608\n" + with_imap(kGoodImap));
    ASSERT_TRUE(tight.ok()) << dump(tight);
    EXPECT_TRUE(has_problem(tight, 1, "holds mail with attachments of at most 4669440 bytes", true))
        << dump(tight);
    EXPECT_EQ(tight.config->compose, (ComposeLimits{4669440, 4669440}));
    EXPECT_LE(compose_body_limit(tight.config->compose), 8388608u);
    const auto only_total =
        parse("[compose]\nmax_message_bytes = 4194304\n" + with_imap(kGoodImap));
    ASSERT_TRUE(only_total.ok()) << dump(only_total);
    EXPECT_EQ(only_total.config->compose, (ComposeLimits{4194304, 4194304}));
    const auto tight2 = parse("[http]\nmax_body_bytes_in_flight = 8388608\n[compose]\n"
                              "max_message_bytes = 16777216\n" +
                              with_imap(kGoodImap));
    EXPECT_TRUE(has_problem(tight2, 3, "needs http.max_body_bytes_in_flight", false))
        << dump(tight2);
}

TEST(Config, TrustedProxiesMustBeAddressesOrBlocks) {
    const auto out = parse("[http]\ntrusted_proxies = [\"proxy.example\", \"10.0.0.0/33\", 7]\n" +
                           with_imap(kGoodImap));
    EXPECT_FALSE(out.ok());
    EXPECT_TRUE(has_problem(
        out, 2, "http.trusted_proxies[0]: \"proxy.example\" is not an IP address", false))
        << dump(out);
    EXPECT_TRUE(
        has_problem(out, 2, "http.trusted_proxies[1]: \"10.0.0.0/33\" is not an IP address", false))
        << dump(out);
    EXPECT_TRUE(has_problem(out, 2, "http.trusted_proxies[2]: expected a string", false))
        << dump(out);
}

TEST(Config, MinimalConfigGetsDefaults) {
    const auto out = parse(with_imap(kGoodImap));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_TRUE(out.problems.empty()) << dump(out);
    const Config& c = *out.config;
    EXPECT_EQ(c.database, DatabaseConfig{});
    EXPECT_EQ(c.database.path, "/var/lib/crm-mail/crm-mail.db");
    EXPECT_EQ(c.daemon.log_level, LogLevel::Info);
    EXPECT_EQ(c.http.bind, "127.0.0.1");
    EXPECT_EQ(c.http.port, 8025);
    EXPECT_EQ(c.http.max_connections, 256);
    EXPECT_EQ(c.http.max_body_bytes_in_flight, 64u << 20);
    EXPECT_TRUE(c.http.metrics_token_file.empty());
    EXPECT_FALSE(c.allow_inline_secrets);
    ASSERT_EQ(c.accounts.size(), 1U);
    const AccountConfig& a = c.accounts[0];
    EXPECT_EQ(a.line, 1);
    EXPECT_TRUE(a.folders.empty());
    EXPECT_TRUE(a.enabled);
    EXPECT_EQ(a.poll_interval, std::chrono::seconds(300));
    EXPECT_TRUE(a.idle);
    EXPECT_EQ(a.initial_sync_days, 90);
    EXPECT_TRUE(a.backfill);
    EXPECT_EQ(a.batch_messages, 200U);
    EXPECT_EQ(a.batch_bytes, 16U * 1024 * 1024);
    EXPECT_FALSE(a.mirror_seen);
    EXPECT_EQ(a.fallback_charset, "windows-1252");
    EXPECT_FALSE(a.gmail.has_value());
    EXPECT_EQ(a.imap.port, 993);
    EXPECT_EQ(a.imap.tls, Tls::Implicit);
    EXPECT_EQ(a.imap.auth, Auth::Password);
    EXPECT_EQ(a.imap.secret, (SecretRef{SecretRef::Kind::File, "/run/a"}));
    EXPECT_FALSE(a.smtp.has_value());
}

TEST(Config, PortDefaultsFollowTls) {
    struct Case {
        std::string_view imap_tls, smtp_tls;
        int imap_port, smtp_port;
    };
    for (const Case& c : {Case{"implicit", "implicit", 993, 465},
                          Case{"starttls", "starttls", 143, 587}, Case{"none", "none", 143, 25}}) {
        const std::string text =
            with_imap(std::string("host = \"localhost\"\nallow_insecure = true\nusername = \"a\"\n"
                                  "password_env = \"P\"\ntls = \"") +
                      std::string(c.imap_tls) + "\"\n[accounts.smtp]\nhost = \"localhost\"\n" +
                      "allow_insecure = true\ntls = \"" + std::string(c.smtp_tls) + "\"\n");
        const auto out = parse(text);
        ASSERT_TRUE(out.ok()) << c.imap_tls << "\n" << dump(out);
        EXPECT_EQ(out.config->accounts[0].imap.port, c.imap_port) << c.imap_tls;
        EXPECT_EQ(out.config->accounts[0].smtp->port, c.smtp_port) << c.smtp_tls;
    }
}

TEST(Config, OwnDkimVerificationKeys) {
    auto out = parse_config("[matching]\nverify_dkim = false\ndns_server = \"127.0.0.1:5353\"\n",
                            "test.toml");
    ASSERT_TRUE(out.config);
    EXPECT_FALSE(out.config->matching.verify_dkim);
    EXPECT_EQ(out.config->matching.dns_server, "127.0.0.1:5353");
    auto defaults = parse_config("[matching]\n", "test.toml");
    ASSERT_TRUE(defaults.config);
    EXPECT_TRUE(defaults.config->matching.verify_dkim);
    EXPECT_EQ(defaults.config->matching.dns_server, "");
}

TEST(Config, ExampleFileParsesCleanly) {
    std::ifstream in(CRM_SOURCE_DIR "/config/crm-mail.toml.example", std::ios::binary);
    ASSERT_TRUE(in) << "cannot open the example config";
    std::ostringstream buf; // (istreambuf_iterator trips GCC 12's -Wnull-dereference at -O2)
    buf << in.rdbuf();
    const std::string text = buf.str();
    const auto out = parse_config(text, "crm-mail.toml.example");
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_TRUE(out.problems.empty()) << dump(out);
    const Config& c = *out.config;
    EXPECT_EQ(c.database, DatabaseConfig{});
    EXPECT_EQ(c.daemon, DaemonConfig{});
    EXPECT_EQ(c.http, HttpConfig{});
    EXPECT_EQ(c.matching, MatchingConfig{});
    ASSERT_EQ(c.accounts.size(), 2U);
    EXPECT_EQ(c.accounts[0].name, "alice");
    EXPECT_EQ(c.accounts[0].imap.secret,
              (SecretRef{SecretRef::Kind::File, "/run/credentials/crm-maild/alice"}));
    ASSERT_TRUE(c.accounts[0].smtp.has_value());
    EXPECT_EQ(c.accounts[0].smtp->port, 465);
    EXPECT_EQ(c.accounts[1].imap.auth, Auth::XOAuth2);
    ASSERT_TRUE(c.accounts[1].imap.oauth.has_value());
    EXPECT_EQ(c.accounts[1].imap.oauth->refresh_token,
              (SecretRef{SecretRef::Kind::Credential, "bob-refresh-token"}));
    ASSERT_TRUE(c.accounts[1].smtp.has_value());
    EXPECT_EQ(c.accounts[1].smtp->oauth, c.accounts[1].imap.oauth);

    // Every key the parser knows is documented in the example (as a key or commented out).
    for (const std::string_view key : {"allow_inline_secrets",
                                       "path",
                                       "log_level",
                                       "bind",
                                       "port",
                                       "allowed_hosts",
                                       "secure_cookie",
                                       "max_connections",
                                       "max_body_bytes_in_flight",
                                       "metrics_token_file",
                                       "trusted_proxies",
                                       "public_url",
                                       "strip_plus_tags",
                                       "plus_separator",
                                       "gmail_dot_folding",
                                       "extra_free_mail_domains",
                                       "trusted_authserv_ids",
                                       "verify_dkim",
                                       "dns_server",
                                       "name",
                                       "owner_id",
                                       "address",
                                       "folders",
                                       "enabled",
                                       "poll_interval",
                                       "idle",
                                       "initial_sync_days",
                                       "backfill",
                                       "batch_messages",
                                       "batch_bytes",
                                       "mirror_seen",
                                       "fallback_charset",
                                       "gmail",
                                       "host",
                                       "tls",
                                       "allow_insecure",
                                       "ca_file",
                                       "username",
                                       "auth",
                                       "password",
                                       "password_file",
                                       "password_env",
                                       "credential",
                                       "token",
                                       "token_file",
                                       "token_env",
                                       "token_credential",
                                       "oauth_token_endpoint",
                                       "oauth_client_id",
                                       "oauth_client_secret",
                                       "oauth_refresh_token"}) {
        EXPECT_NE(text.find(std::string(key)), std::string::npos) << key;
    }
}

// ---------------------------------------------------------------------------------------------
// One bad config each: the error is at this exact line, with this message fragment.

struct BadCase {
    std::string_view name;
    std::string text;
    int line;
    std::string_view fragment;
};

std::vector<BadCase> bad_cases() {
    const std::string account_head = "[[accounts]]\nname = \"a\"\nowner_id = 1\n";
    return {
        {"syntax", "[database]\npath = \n", 2, "expected"},
        {"syntax_duplicate_key", "[http]\nport = 1\nport = 2\n", 3, "port"},
        {"wrong_table_type", "database = 5\n", 1, "database: expected a table, found an integer"},
        {"accounts_not_array", "[accounts]\nname = \"a\"\n", 1, "array of tables"},
        {"relative_db_path", "[database]\npath = \"crm.db\"\n", 2, "absolute path"},
        {"log_level", "[daemon]\nlog_level = \"warn\"\n", 2, "did you mean \"warning\"?"},
        {"http_bind_name", "[http]\nbind = \"localhost\"\n", 2, "not an IP address literal"},
        {"http_port", "[http]\nport = 0\n", 2, "out of range"},
        {"http_max_connections", "[http]\nport = 80\nmax_connections = 0\n", 3,
         "http.max_connections: 0 is out of range (must be 1..65535)"},
        {"http_max_connections_type", "[http]\nmax_connections = \"many\"\n", 2,
         "http.max_connections: expected an integer, found a string"},
        {"http_body_bytes_below_one_body", "[http]\nmax_body_bytes_in_flight = 1048576\n", 2,
         "http.max_body_bytes_in_flight: 1048576 is out of range (must be "
         "2097152..1099511627776 bytes)"},
        {"http_public_url_path", "[http]\npublic_url = \"https://crm.example.com/crm\"\n", 2,
         "http.public_url: \"https://crm.example.com/crm\" must be the page's origin only"},
        {"http_public_url_plain_http", "[http]\npublic_url = \"http://crm.example.com\"\n", 2,
         "http.public_url: \"http://crm.example.com\" must use https://"},
        {"http_metrics_token_relative", "[http]\nmetrics_token_file = \"metrics.token\"\n", 2,
         "http.metrics_token_file: \"metrics.token\" must be an absolute path"},
        {"plus_separator", "[matching]\nplus_separator = \"++\"\n", 2, "must be one of"},
        {"authserv_id", "[matching]\ntrusted_authserv_ids = [\"mx.example.com\", \"no spaces\"]\n",
         2, "trusted_authserv_ids[1]: \"no spaces\" is not an authserv-id"},
        {"authserv_id_type", "[matching]\ntrusted_authserv_ids = [3]\n", 2,
         "trusted_authserv_ids[0]: expected a string"},
        {"verify_dkim_type", "[matching]\nverify_dkim = \"yes\"\n", 2,
         "verify_dkim: expected a boolean"},
        {"dns_server_host", "[matching]\ndns_server = \"ns.example\"\n", 2,
         "dns_server: \"ns.example\" is not an IPv4 address or address:port"},
        {"dns_server_port", "[matching]\ndns_server = \"127.0.0.1:70000\"\n", 2,
         "dns_server: \"127.0.0.1:70000\" is not an IPv4 address or address:port"},
        {"missing_name",
         "[[accounts]]\nowner_id = 1\naddress = \"a@example.com\"\n[accounts.imap]\n" +
             std::string(kGoodImap),
         1, "accounts[0].name: required key is missing"},
        {"missing_owner",
         "[[accounts]]\nname = \"a\"\naddress = \"a@example.com\"\n[accounts.imap]\n" +
             std::string(kGoodImap),
         1, "owner_id: required key is missing"},
        {"missing_address", account_head + "[accounts.imap]\n" + std::string(kGoodImap), 1,
         "address: required key is missing"},
        {"missing_imap", account_head + "address = \"a@example.com\"\n", 1,
         "accounts[0].imap: required key is missing"},
        {"owner_zero",
         "[[accounts]]\nname = \"a\"\nowner_id = 0\naddress = \"a@b.example\"\n"
         "[accounts.imap]\n" +
             std::string(kGoodImap),
         3, "owner_id: 0 is out of range"},
        {"bad_name",
         "[[accounts]]\nname = \"a b\"\nowner_id = 1\naddress = \"a@example.com\"\n"
         "[accounts.imap]\n" +
             std::string(kGoodImap),
         2, "not a valid account name"},
        {"dot_dot_name", // it would name the secrets directory's parent
         "[[accounts]]\nname = \"..\"\nowner_id = 1\naddress = \"a@example.com\"\n"
         "[accounts.imap]\n" +
             std::string(kGoodImap),
         2, "not a valid account name"},
        {"invalid_address",
         account_head + "address = \"alice.example.com\"\n[accounts.imap]\n" +
             std::string(kGoodImap),
         4, "not a valid e-mail address"},
        {"poll_interval_low",
         with_imap(kGoodImap) + "[accounts.smtp]\nhost = \"s.example\"\n" +
             "[[accounts]]\nname = \"b\"\nowner_id = 2\naddress = \"b@x.example\"\n"
             "poll_interval = 5\n[accounts.imap]\n" +
             std::string(kGoodImap),
         15, "poll_interval: 5 is out of range (must be at least 10 seconds)"},
        {"empty_folders",
         account_head + "address = \"a@example.com\"\nfolders = []\n[accounts.imap]\n" +
             std::string(kGoodImap),
         5, "at least one folder"},
        {"duplicate_folder",
         account_head +
             "address = \"a@example.com\"\nfolders = [\"INBOX\", \"INBOX\"]\n"
             "[accounts.imap]\n" +
             std::string(kGoodImap),
         5, "listed twice"},
        {"folder_type",
         account_head +
             "address = \"a@example.com\"\nfolders = \"INBOX\"\n"
             "[accounts.imap]\n" +
             std::string(kGoodImap),
         5, "folders: expected an array, found a string"},
        {"duplicate_account",
         with_imap(kGoodImap) +
             "[[accounts]]\nowner_id = 2\nname = \"a\"\n"
             "address = \"b@example.com\"\n[accounts.imap]\n" +
             std::string(kGoodImap),
         11, "duplicate account name \"a\" (first defined on line 1)"},
        {"missing_host", with_imap("username = \"a\"\npassword_file = \"/run/a\"\n"), 5,
         "accounts[0].imap.host: required key is missing"},
        {"missing_username", with_imap("host = \"h.example\"\npassword_file = \"/run/a\"\n"), 5,
         "username: required key is missing"},
        {"bad_host",
         with_imap("host = \"imap.example.com/x\"\nusername = \"a\"\npassword_file = \"/run/a\"\n"),
         6, "not a valid host name"},
        {"port_range",
         with_imap(
             "host = \"h.example\"\nport = 70000\nusername = \"a\"\npassword_file = \"/run/a\"\n"),
         7, "imap.port: 70000 is out of range (must be 1..65535)"},
        {"port_type",
         with_imap("host = \"h.example\"\nport = \"993\"\nusername = \"a\"\npassword_file = "
                   "\"/run/a\"\n"),
         7, "expected an integer, found a string"},
        {"tls_typo", with_imap(std::string(kGoodImap) + "tls = \"startls\"\n"), 9,
         "did you mean \"starttls\"?"},
        {"tls_none_without_allow",
         with_imap("host = \"127.0.0.1\"\ntls = \"none\"\nusername = \"a\"\npassword_file = "
                   "\"/run/a\"\n"),
         7, "needs allow_insecure = true"},
        {"tls_none_remote",
         with_imap("host = \"imap.example.com\"\ntls = \"none\"\nallow_insecure = true\nusername = "
                   "\"a\"\n"
                   "password_file = \"/run/a\"\n"),
         7, "only allowed to a loopback host"},
        {"tls_none_not_quite_loopback",
         with_imap("host = \"localhost.example.com\"\ntls = \"none\"\nallow_insecure = true\n"
                   "username = \"a\"\npassword_file = \"/run/a\"\n"),
         7, "only allowed to a loopback host"},
        {"smtp_tls_none_remote",
         with_imap(kGoodImap) + "[accounts.smtp]\nhost = \"10.0.0.1\"\nallow_insecure = true\n"
                                "tls = \"none\"\n",
         12, "smtp.tls: \"none\" is only allowed to a loopback host"},
        {"ca_file_relative", with_imap(std::string(kGoodImap) + "ca_file = \"ca.pem\"\n"), 9,
         "ca_file: \"ca.pem\" must be an absolute path"},
        {"password_file_relative",
         with_imap("host = \"h.example\"\nusername = \"a\"\npassword_file = \"pw\"\n"), 8,
         "must be an absolute path"},
        {"bad_env_name",
         with_imap("host = \"h.example\"\nusername = \"a\"\npassword_env = \"1X\"\n"), 8,
         "not a valid environment variable name"},
        {"bad_credential",
         with_imap("host = \"h.example\"\nusername = \"a\"\ncredential = \"../x\"\n"), 8,
         "not a valid credential name"},
        {"two_secret_sources",
         with_imap("host = \"h.example\"\nusername = \"a\"\npassword_file = \"/run/a\"\n"
                   "password_env = \"PW\"\n"),
         9, "more than one source for the password (password_file, password_env)"},
        {"inline_without_opt_in",
         with_imap("host = \"h.example\"\nusername = \"a\"\npassword = \"hunter2\"\n"), 8,
         "allow_inline_secrets = true"},
        {"no_password", with_imap("host = \"h.example\"\nusername = \"a\"\n"), 5,
         "no password source"},
        {"auth_typo", with_imap(std::string(kGoodImap) + "auth = \"oauth2\"\n"), 9,
         "is not one of password, xoauth2"},
        {"token_with_password_auth", with_imap(std::string(kGoodImap) + "token_env = \"T\"\n"), 9,
         "token_env: only applies with auth = \"xoauth2\""},
        {"password_with_xoauth2",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\ntoken_env = \"T\"\n"
                   "password_file = \"/run/a\"\n"),
         10, "password_file: only applies with auth = \"password\""},
        {"xoauth2_without_token",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"), 5,
         "needs an access token source"},
        {"xoauth2_refresh_missing_refresh_token",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                   "oauth_token_endpoint = \"https://o.example/token\"\noauth_client_id = \"c\"\n"),
         5, "needs a refresh token"},
        {"xoauth2_refresh_missing_client_id",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                   "oauth_token_endpoint = \"https://o.example/token\"\noauth_refresh_token_env = "
                   "\"R\"\n"),
         5, "oauth_client_id: required key is missing"},
        {"oauth_endpoint_http",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                   "oauth_token_endpoint = \"http://o.example/token\"\noauth_client_id = \"c\"\n"
                   "oauth_refresh_token_env = \"R\"\n"),
         9, "must use https://"},
        {"oauth_endpoint_userinfo_trick",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                   "oauth_token_endpoint = \"http://127.0.0.1@evil.example/token\"\n"
                   "oauth_client_id = \"c\"\noauth_refresh_token_env = \"R\"\n"),
         9, "user information"},
        {"oauth_endpoint_relative",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                   "oauth_token_endpoint = \"/token\"\noauth_client_id = \"c\"\n"
                   "oauth_refresh_token_env = \"R\"\n"),
         9, "absolute https:// URL"},
        {"token_and_refresh",
         with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\ntoken_env = \"T\"\n"
                   "oauth_token_endpoint = \"https://o.example/token\"\noauth_client_id = \"c\"\n"
                   "oauth_refresh_token_env = \"R\"\n"),
         9, "both an access token source"},
        {"bool_type", with_imap(std::string(kGoodImap) + "allow_insecure = \"yes\"\n"), 9,
         "expected a boolean"},
        {"db_path_and_url",
         "[database]\npath = \"/var/lib/a.db\"\nurl = \"postgresql://crm@db/crm\"\n" +
             with_imap(kGoodImap),
         3, "either path (SQLite) or url"},
        {"db_url_with_password",
         "[database]\nurl = \"postgresql://crm:hunter2@db/crm\"\n" + with_imap(kGoodImap), 2,
         "the URL carries a password"},
        {"db_conninfo_with_password",
         "[database]\nurl = \"host=db password=hunter2\"\n" + with_imap(kGoodImap), 2,
         "the URL carries a password"},
        {"db_url_not_postgres", "[database]\nurl = \"mysql://db/crm\"\n" + with_imap(kGoodImap), 2,
         "is not a PostgreSQL URL"},
        {"db_password_without_url",
         "[database]\npath = \"/var/lib/a.db\"\npassword_file = \"/run/pw\"\n" +
             with_imap(kGoodImap),
         1, "only used with url"},
        {"db_two_password_sources",
         "[database]\nurl = \"postgresql://crm@db/crm\"\npassword_file = \"/run/pw\"\n"
         "password_env = \"PGPW\"\n" +
             with_imap(kGoodImap),
         4, "more than one source for the database password"},
        {"lease_seconds_on_sqlite", "[database]\nlease_seconds = 30\n" + with_imap(kGoodImap), 2,
         "only used with url"},
        {"lease_seconds_too_short",
         "[database]\nurl = \"postgresql://crm@db/crm\"\nlease_seconds = 2\n" +
             with_imap(kGoodImap),
         3, "out of range"},
        {"max_accounts_on_sqlite", "[daemon]\nmax_accounts = 4\n" + with_imap(kGoodImap), 2,
         "only used with [database] url"},
        {"fallback_charset_unknown",
         account_head +
             "address = \"a@example.com\"\nfallback_charset = \"klingon-8\"\n"
             "[accounts.imap]\n" +
             std::string(kGoodImap),
         5, "fallback_charset: \"klingon-8\" is not a charset this system can read"},
        {"fallback_charset_not_a_name",
         account_head +
             "address = \"a@example.com\"\nfallback_charset = \"utf-8//TRANSLIT\"\n"
             "[accounts.imap]\n" +
             std::string(kGoodImap),
         5, "is not a charset this system can read"},
        {"max_accounts_zero",
         "[database]\nurl = \"postgresql://crm@db/crm\"\n[daemon]\nmax_accounts = 0\n" +
             with_imap(kGoodImap),
         4, "out of range"},
    };
}

void PrintTo(const BadCase& c, std::ostream* os) {
    *os << c.name;
}

class BadConfig : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfig, ReportsErrorAtLine) {
    const BadCase& c = GetParam();
    const auto out = parse(c.text);
    EXPECT_FALSE(out.ok());
    EXPECT_FALSE(out.config.has_value());
    EXPECT_TRUE(has_problem(out, c.line, c.fragment, false))
        << "want " << kFile << ":" << c.line << ": error: ..." << c.fragment << "...\ngot:\n"
        << dump(out) << "input:\n"
        << c.text;
    // Formatted as file:line:col: error: message.
    const std::string prefix = std::string(kFile) + ":" + std::to_string(c.line) + ":";
    EXPECT_TRUE(std::any_of(out.problems.begin(), out.problems.end(), [&](const Problem& p) {
        const std::string f = format_problem(p);
        return f.starts_with(prefix) && f.find(": error: ") != std::string::npos;
    })) << dump(out);
}

INSTANTIATE_TEST_SUITE_P(Table, BadConfig, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& param) {
                             return std::string(param.param.name);
                         });

// ---------------------------------------------------------------------------------------------

TEST(Config, ReportsEveryProblemAtOnce) {
    const std::string text = "[http]\n"                     // 1
                             "port = 99999\n"               // 2
                             "[[accounts]]\n"               // 3
                             "name = \"a\"\n"               // 4
                             "owner_id = -1\n"              // 5
                             "address = \"nobody\"\n"       // 6
                             "pol_interval = 60\n"          // 7
                             "[accounts.imap]\n"            // 8
                             "host = \"127.0.0.1\"\n"       // 9
                             "tls = \"none\"\n"             // 10
                             "username = \"a\"\n"           // 11
                             "password_file = \"/run/a\"\n" // 12
                             "credential = \"a\"\n";        // 13
    const auto out = parse(text);
    EXPECT_FALSE(out.ok());
    EXPECT_TRUE(has_problem(out, 2, "http.port: 99999 is out of range", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 5, "owner_id: -1 is out of range", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 6, "not a valid e-mail address", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 7, "did you mean \"poll_interval\"?", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 10, "needs allow_insecure = true", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 13, "more than one source", false)) << dump(out);
    EXPECT_EQ(errors(out).size(), 6U) << dump(out);
    EXPECT_EQ(out.problems.size(), 6U) << dump(out);
    // Ordered by position.
    EXPECT_TRUE(std::is_sorted(out.problems.begin(), out.problems.end(),
                               [](const Problem& a, const Problem& b) { return a.line < b.line; }));
}

// A key no setting knows is refused, naming the file, line and the key it resembles: an
// accepted key always does something (issue 18).
TEST(Config, UnknownKeysAreErrorsWithSuggestions) {
    const std::string text = "alow_inline_secrets = true\n"                       // 1
                             "[databse]\n"                                        // 2
                             "path = \"/x\"\n"                                    // 3
                             + with_imap(std::string(kGoodImap) + "passwrd = 1\n" // 12
                                         + "frobnicate = true\n");                // 13
    const auto out = parse(text);
    ASSERT_FALSE(out.ok()) << dump(out);
    EXPECT_TRUE(has_problem(out, 1, "alow_inline_secrets: unknown key", false)) << dump(out);
    EXPECT_TRUE(has_problem(out, 2, "databse: unknown key; did you mean \"database\"?", false))
        << dump(out);
    EXPECT_TRUE(has_problem(
        out, 12, "accounts[0].imap.passwrd: unknown key; did you mean \"password\"?", false))
        << dump(out);
    EXPECT_TRUE(has_problem(out, 13, "frobnicate: unknown key", false)) << dump(out);
    for (const auto& p : out.problems) {
        if (p.message.find("frobnicate") != std::string::npos) {
            EXPECT_EQ(p.message.find("did you mean"), std::string::npos) << p.message;
        }
    }
    EXPECT_EQ(format_problem(out.problems.front()),
              "test.toml:1:1: error: alow_inline_secrets: unknown key; did you mean "
              "\"allow_inline_secrets\"?");
}

TEST(Config, InlineSecretWithOptInIsAWarning) {
    const std::string text =
        "allow_inline_secrets = true\n" +
        with_imap("host = \"h.example\"\nusername = \"a\"\npassword = \"pw\"\n");
    const auto out = parse(text);
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_EQ(out.config->accounts[0].imap.secret, (SecretRef{SecretRef::Kind::Inline, "pw"}));
    EXPECT_TRUE(has_problem(out, 9, "secret stored in the configuration file", true)) << dump(out);
}

TEST(Config, LoopbackHostsForPlainText) {
    for (const std::string_view host : {"127.0.0.1", "127.1.2.3", "localhost", "LocalHost.", "::1",
                                        "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"}) {
        const auto out = parse(with_imap("host = \"" + std::string(host) +
                                         "\"\ntls = \"none\"\nallow_insecure = true\n"
                                         "username = \"a\"\npassword_env = \"P\"\n"));
        EXPECT_TRUE(out.ok()) << host << "\n" << dump(out);
    }
    for (const std::string_view host : {"128.0.0.1", "127.0.0.256", "10.0.0.1", "::2",
                                        "localhost.evil", "127.0.0.1.nip.io", "::ffff:10.0.0.1"}) {
        const auto out = parse(with_imap("host = \"" + std::string(host) +
                                         "\"\ntls = \"none\"\nallow_insecure = true\n"
                                         "username = \"a\"\npassword_env = \"P\"\n"));
        EXPECT_FALSE(out.ok()) << host;
    }
}

TEST(Config, OAuthHttpEndpointOnlyToLoopback) {
    const auto text = [](std::string_view url) {
        return with_imap("host = \"h.example\"\nusername = \"a\"\nauth = \"xoauth2\"\n"
                         "oauth_token_endpoint = \"" +
                         std::string(url) +
                         "\"\noauth_client_id = \"c\"\noauth_refresh_token_env = \"R\"\n");
    };
    EXPECT_TRUE(parse(text("http://127.0.0.1:8080/token")).ok());
    EXPECT_TRUE(parse(text("http://[::1]/token")).ok());
    EXPECT_TRUE(parse(text("HTTPS://login.example.com/oauth2/v2.0/token")).ok());
    EXPECT_FALSE(parse(text("http://login.example.com/token")).ok());
    EXPECT_FALSE(parse(text("ftp://login.example.com/token")).ok());
    EXPECT_FALSE(parse(text("https:///token")).ok());
}

TEST(Config, NoAccountsIsAWarning) {
    const auto out = parse("");
    ASSERT_TRUE(out.ok());
    ASSERT_EQ(out.problems.size(), 1U);
    EXPECT_TRUE(out.problems[0].warning);
    EXPECT_NE(out.problems[0].message.find("no [[accounts]]"), std::string::npos);
}

TEST(Config, SyntaxErrorHasPosition) {
    const auto out = parse("[http]\nport = 80\n\n[http\n");
    ASSERT_FALSE(out.ok());
    ASSERT_EQ(out.problems.size(), 1U);
    EXPECT_EQ(out.problems[0].line, 4);
    EXPECT_GT(out.problems[0].column, 0);
    EXPECT_TRUE(format_problem(out.problems[0]).starts_with("test.toml:4:"));
}

TEST(Config, MalformedValuesAreSyntaxErrorsNotAborts) {
    // toml++ 3.3 assert()s on these in builds without NDEBUG; config.cpp turns that off.
    for (const std::string_view text : {"a = [}\n", "a = [1,}\n", "[http]\nport = [[}\n"}) {
        const auto out = parse(text);
        ASSERT_FALSE(out.ok()) << text;
        ASSERT_EQ(out.problems.size(), 1U) << text;
        EXPECT_GE(out.problems[0].line, 1) << text;
    }
}

TEST(Config, NonAsciiOutsideStringsIsASyntaxError) {
    // toml++ 3.3 hit __builtin_unreachable here (UBSan: "unreachable program point").
    const auto out = parse("[daemon]\ngr\xc3\xbc\xc3\x9f\xc3\xa9 = 1\n");
    ASSERT_FALSE(out.ok());
    ASSERT_EQ(out.problems.size(), 1U) << dump(out);
    EXPECT_EQ(out.problems[0].line, 2);
    // Valid TOML: a line-ending backslash followed by a non-ASCII character.
    const auto ml = parse("[database]\npath = \"\"\"/x\\\n\xc2\xa7\"\"\"\n");
    ASSERT_TRUE(ml.ok()) << dump(ml);
    EXPECT_EQ(ml.config->database.path, "/x\xc2\xa7");
}

TEST(Config, InvalidUtf8IsASyntaxError) {
    const auto out = parse("[database]\npath = \"/a\xff\"\n");
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.problems.at(0).line, 2);
}

TEST(Config, MessagesEscapeControlBytes) {
    const auto out =
        parse(with_imap("host = \"a\\u0001b\"\nusername = \"a\"\npassword_env = \"P\"\n"));
    ASSERT_FALSE(out.ok());
    EXPECT_TRUE(has_problem(out, 6, "\"a\\x01b\" is not a valid host name", false)) << dump(out);
}

TEST(FormatProblem, WithAndWithoutPosition) {
    EXPECT_EQ(format_problem(Problem{"f.toml", 3, 7, "bad", false}), "f.toml:3:7: error: bad");
    EXPECT_EQ(format_problem(Problem{"f.toml", 3, 7, "meh", true}), "f.toml:3:7: warning: meh");
    EXPECT_EQ(format_problem(Problem{"f.toml", 0, 0, "bad", false}), "f.toml: error: bad");
}

std::string provider_account(std::string_view provider, std::string_view imap_body,
                             std::string_view extra = "") {
    return std::string("[[accounts]]\nname = \"p\"\nowner_id = 1\naddress = \"p@example.com\"\n") +
           "provider = \"" + std::string(provider) + "\"\n" + std::string(extra) +
           "[accounts.imap]\n" + std::string(imap_body);
}

constexpr std::string_view kOAuthOnly = "username = \"p@example.com\"\n"
                                        "auth = \"xoauth2\"\n"
                                        "oauth_client_id = \"client\"\n"
                                        "oauth_refresh_token_file = \"/run/p-refresh\"\n";

// provider = "gmail": Google's hosts, ports, TLS and token endpoint where the account sets none,
// an SMTP server that logs in as IMAP does, and Gmail's behaviour (issue 18).
TEST(Config, GmailProviderFillsHostsPortsAndTokenEndpoint) {
    const auto out = parse(provider_account("gmail", kOAuthOnly));
    ASSERT_TRUE(out.ok()) << dump(out);
    const auto& a = out.config->accounts.at(0);
    EXPECT_EQ(a.provider, crm::AccountConfig::Provider::Gmail);
    EXPECT_EQ(a.gmail, std::optional<bool>(true));
    EXPECT_EQ(a.imap.host, "imap.gmail.com");
    EXPECT_EQ(a.imap.port, 993);
    EXPECT_EQ(a.imap.tls, Tls::Implicit);
    ASSERT_TRUE(a.imap.oauth);
    EXPECT_EQ(a.imap.oauth->token_endpoint, "https://oauth2.googleapis.com/token");
    ASSERT_TRUE(a.smtp) << "a provider's account can send without an [accounts.smtp]";
    EXPECT_EQ(a.smtp->host, "smtp.gmail.com");
    EXPECT_EQ(a.smtp->port, 465);
    EXPECT_EQ(a.smtp->username, "p@example.com");
    ASSERT_TRUE(a.smtp->oauth);
    EXPECT_EQ(*a.smtp->oauth, *a.imap.oauth) << "SMTP shares the IMAP account's tokens";
}

TEST(Config, Microsoft365ProviderAndWhatTheAccountSetsItself) {
    const auto out = parse(provider_account(
        "microsoft365",
        std::string(kOAuthOnly) + "oauth_token_endpoint = "
                                  "\"https://login.microsoftonline.com/contoso.example/oauth2/"
                                  "v2.0/token\"\n",
        "gmail = false\n"));
    ASSERT_TRUE(out.ok()) << dump(out);
    const auto& a = out.config->accounts.at(0);
    EXPECT_EQ(a.imap.host, "outlook.office365.com");
    EXPECT_EQ(a.imap.port, 993);
    ASSERT_TRUE(a.imap.oauth);
    EXPECT_EQ(a.imap.oauth->token_endpoint,
              "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token")
        << "a tenant of its own";
    ASSERT_TRUE(a.smtp);
    EXPECT_EQ(a.smtp->host, "smtp.office365.com");
    EXPECT_EQ(a.smtp->port, 587);
    EXPECT_EQ(a.smtp->tls, Tls::StartTls);

    // A host, TLS or port the account sets wins; a TLS of its own gets that TLS's port.
    const auto own = parse(provider_account(
        "microsoft365", "host = \"imap.contoso.example\"\ntls = \"starttls\"\nusername = "
                        "\"p\"\npassword_file = \"/run/p\"\n"));
    ASSERT_TRUE(own.ok()) << dump(own);
    EXPECT_EQ(own.config->accounts.at(0).imap.host, "imap.contoso.example");
    EXPECT_EQ(own.config->accounts.at(0).imap.port, 143);
}

// The consent endpoints and scopes: Google's loopback flow (no device flow for the Gmail scope),
// Microsoft's device flow, beside a tenant's own token endpoint; keys of the config win.
TEST(Config, ProviderPresetsNameTheConsentEndpointsAndScopes) {
    auto g = parse(provider_account("gmail", kOAuthOnly));
    ASSERT_TRUE(g.ok()) << dump(g);
    const auto& go = *g.config->accounts.at(0).imap.oauth;
    EXPECT_EQ(go.device_endpoint, "");
    EXPECT_EQ(go.authorize_endpoint, "https://accounts.google.com/o/oauth2/v2/auth");
    EXPECT_EQ(go.scope, "https://mail.google.com/");

    auto m = parse(provider_account(
        "microsoft365", std::string(kOAuthOnly) +
                            "oauth_token_endpoint = \"https://login.microsoftonline.com/"
                            "contoso.example/oauth2/v2.0/token\"\n"));
    ASSERT_TRUE(m.ok()) << dump(m);
    const auto& mo = *m.config->accounts.at(0).imap.oauth;
    EXPECT_EQ(mo.device_endpoint,
              "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/devicecode");
    EXPECT_EQ(mo.authorize_endpoint,
              "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/authorize");
    EXPECT_NE(mo.scope.find("offline_access"), std::string::npos);

    auto own = parse(
        provider_account("gmail", std::string(kOAuthOnly) +
                                      "oauth_device_endpoint = \"https://device.example/code\"\n"
                                      "oauth_scope = \"https://mail.google.com/ openid\"\n"));
    ASSERT_TRUE(own.ok()) << dump(own);
    EXPECT_EQ(own.config->accounts.at(0).imap.oauth->device_endpoint,
              "https://device.example/code");
    EXPECT_EQ(own.config->accounts.at(0).imap.oauth->scope, "https://mail.google.com/ openid");
}

// A consent endpoint over plain http to another host, or consent keys on a password account,
// are errors naming the key.
TEST(Config, ConsentKeysAreChecked) {
    auto plain = parse(
        provider_account("gmail", std::string(kOAuthOnly) +
                                      "oauth_authorize_endpoint = \"http://evil.example/auth\"\n"));
    EXPECT_FALSE(plain.ok());
    EXPECT_NE(dump(plain).find("oauth_authorize_endpoint"), std::string::npos) << dump(plain);
    auto pw = parse(provider_account("gmail", "username = \"p\"\npassword_file = \"/run/p\"\n"
                                              "oauth_scope = \"x\"\n"));
    EXPECT_FALSE(pw.ok());
    EXPECT_NE(dump(pw).find("oauth_scope"), std::string::npos) << dump(pw);
}

// crm-mailctl accounts edit writes the consent keys back as they were read.
TEST(Config, ConsentKeysSurviveAnAccountEdit) {
    const auto in = parse(provider_account(
        "microsoft365", std::string(kOAuthOnly) +
                            "oauth_device_endpoint = \"https://device.example/code\"\n"
                            "oauth_scope = \"offline_access https://x.example/IMAP\"\n"));
    ASSERT_TRUE(in.ok()) << dump(in);
    const auto block = crm::settings::account_block(in.config->accounts.at(0));
    const auto again = parse(block);
    ASSERT_TRUE(again.ok()) << dump(again) << "\n" << block;
    EXPECT_EQ(*again.config->accounts.at(0).imap.oauth, *in.config->accounts.at(0).imap.oauth)
        << block;
}

TEST(Config, AnUnknownProviderIsAnErrorNamingTheKnownOnes) {
    const auto out = parse(provider_account("yahoo", kOAuthOnly));
    EXPECT_FALSE(out.ok());
    bool named = false;
    for (const auto& p : out.problems)
        named = named || (p.message.find("provider") != std::string::npos &&
                          p.message.find("microsoft365") != std::string::npos && !p.warning);
    EXPECT_TRUE(named) << dump(out);
}

// [[accounts.rules]]: a Gmail label's mail goes to a deal (issue 18); each rule is checked.
TEST(Config, LabelRulesAreReadAndChecked) {
    const auto out = parse(with_imap(
        std::string(kGoodImap) + "[[accounts.rules]]\nlabel = \"Deals/Acme\"\ndeal = 1001\n"
                                 "[[accounts.rules]]\nlabel = \"Deals/Globex\"\ndeal = 1002\n"));
    ASSERT_TRUE(out.ok()) << dump(out);
    EXPECT_EQ(out.config->accounts.at(0).rules,
              (std::vector<crm::LabelRule>{{"Deals/Acme", 1001}, {"Deals/Globex", 1002}}));

    const auto bad = parse(with_imap(std::string(kGoodImap) +
                                     "[[accounts.rules]]\nlabel = \"\"\ndeal = 1\n"
                                     "[[accounts.rules]]\nlabel = \"X\"\n"
                                     "[[accounts.rules]]\nlabel = \"Y\"\ndeal = 2\n"
                                     "[[accounts.rules]]\nlabel = \"Y\"\ndeal = 3\ncolour = 1\n"));
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE(has_problem(bad, 10, "label: must not be empty", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 12, "deal: required key is missing", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 18, "has a rule already", false)) << dump(bad);
    EXPECT_TRUE(has_problem(bad, 20, "colour: unknown key", false)) << dump(bad);
}

} // namespace
} // namespace crm::settings
