#pragma once
// Configuration: TOML text -> validated, typed structs. Pure: this module never reads files or
// the environment; the daemon reads the file (and later the secrets a SecretRef names) and passes
// the text in. The documented key set is config/crm-mail.toml.example.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/account_config.hpp"
#include "crm/core/compose.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/limits.hpp"

namespace crm::settings {

using crm::AccountConfig;
using crm::Auth;
using crm::kMinPollInterval;
using crm::OAuthRefresh;
using crm::SecretRef;
using crm::ServerConfig;
using crm::Tls;
using crm::valid_account_name;

// [database]: SQLite at `path` (the embedded default, one daemon per database), or the shared
// PostgreSQL server at `url` (several daemons, which split the accounts among them by leases).
struct DatabaseConfig {
    std::string path = "/var/lib/crm-mail/crm-mail.db"; // absolute; SQLite
    // postgresql://user@host:port/db (or a libpq key=value string); never with a password in it:
    // that comes from `password` (password_file / password_env / credential, as for accounts).
    std::string url;
    std::optional<SecretRef> password;
    // PostgreSQL: how long an account lease lasts without renewal (workers renew every quarter
    // of it). A worker that dies is replaced after about this long; shorter means faster
    // takeover and more renewals.
    int lease_seconds = 75;

    [[nodiscard]] bool postgresql() const { return !url.empty(); }
    friend bool operator==(const DatabaseConfig&, const DatabaseConfig&) = default;
};

enum class LogLevel { Error, Warning, Info, Debug };

struct DaemonConfig {
    LogLevel log_level = LogLevel::Info;
    // PostgreSQL: the most accounts this worker syncs at once (its fair share); unset: as many as
    // it can claim. Not accepted with SQLite, where one daemon syncs every account.
    std::optional<int> max_accounts;

    friend bool operator==(const DaemonConfig&, const DaemonConfig&) = default;
};

// The largest request body the HTTP server reads (http::ServerOptions::body_limit).
using crm::kMaxRequestBody;

struct HttpConfig {
    std::string bind = "127.0.0.1"; // IP address literal
    std::uint16_t port = 8025;
    // Host header values served ("crm.example.com" or "crm.example.com:443") besides loopback
    // with the port: a reverse proxy's name. Anything else is refused (DNS rebinding).
    std::vector<std::string> allowed_hosts;
    bool secure_cookie = false; // mark the session cookie Secure (HTTPS reverse proxy)
    // Open connections served at once; more are answered 503. 1..65535 (the daemon needs about
    // this many file descriptors, plus ~64 being refused and its own: see LimitNOFILE=).
    int max_connections = 256;
    // Bytes of request bodies being read or handled at once; a request past it is answered 503
    // before its body is read. At least kMaxRequestBody (one request's largest body).
    std::size_t max_body_bytes_in_flight = std::size_t{64} << 20;
    // Absolute path of a file holding the token that non-local clients of /metrics must send
    // (Bearer). Empty: /metrics is served to local clients only.
    std::string metrics_token_file;
    // Reverse proxies (IP addresses or CIDR blocks) whose X-Forwarded-For names the client for
    // the login throttle and the session record. Empty: X-Forwarded-For is never believed.
    std::vector<std::string> trusted_proxies;
    // The origin at which admins open the page ("https://crm.example.com"; https, or http to a
    // loopback host), without a trailing slash. An OAuth provider's redirect after an admin's
    // consent from the admin page comes back to public_url + "/oauth/callback" (register that
    // redirect URI with the OAuth client); its host is served like allowed_hosts. Empty: the
    // redirect goes to http://127.0.0.1:<port>/oauth/callback, for a browser on this host or an
    // ssh tunnel.
    std::string public_url;

    friend bool operator==(const HttpConfig&, const HttpConfig&) = default;
};

// Address matching knobs; the daemon maps them onto crm::match::AddressPolicy.
struct MatchingConfig {
    bool strip_plus_tags = true;   // "bob+crm@x.com" matches "bob@x.com"
    char plus_separator = '+';     // one of + - =
    bool gmail_dot_folding = true; // "b.o.b@gmail.com" matches "bob@gmail.com"
    std::vector<std::string> extra_free_mail_domains;
    // The authserv-ids (RFC 8601) of the deployment's own receiving servers: only their
    // Authentication-Results headers are believed (see match::authentication_failed).
    std::vector<std::string> trusted_authserv_ids;
    // With no trusted_authserv_ids, crm-mail verifies DKIM signatures and DMARC policy itself
    // (crm::auth); false turns that off.
    bool verify_dkim = true;
    // "" = the system's resolvers; else the IPv4 "ADDRESS[:PORT]" asked for DKIM keys and DMARC
    // records (e.g. a local validating resolver).
    std::string dns_server;

    friend bool operator==(const MatchingConfig&, const MatchingConfig&) = default;
};

// Follow-ups (issue 20; crm/core/followups.hpp): the default periods (a deal may set its own).
struct FollowupsConfig {
    int awaiting_days = 3; // business days without the customer's answer (1..60)
    int answer_hours = 24; // hours without ours (1..720)
    // The daily reminder mail: from this hour (UTC, 0..23) each salesperson with something due
    // gets their list once a day, through their own account (one with [accounts.smtp]). Unset:
    // none.
    std::optional<int> daily_reminder_hour;
    // The days it goes out, "mon".."sun" (UTC); Monday to Friday by default.
    std::vector<std::string> daily_reminder_days{"mon", "tue", "wed", "thu", "fri"};

    friend bool operator==(const FollowupsConfig&, const FollowupsConfig&) = default;
};

struct Config {
    bool allow_inline_secrets = false;
    DatabaseConfig database;
    DaemonConfig daemon;
    HttpConfig http;
    MatchingConfig matching;
    FollowupsConfig followups;
    // [compose]: attachment limits of mail written in the CRM (crm/core/compose.hpp).
    ComposeLimits compose;
    std::vector<AccountConfig> accounts;

    friend bool operator==(const Config&, const Config&) = default;
};

// One diagnostic. line/column are 1-based; 0 when there is no position (never negative).
struct Problem {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    bool warning =
        false; // warnings (inline secrets, ignored settings ...) do not reject the config

    friend bool operator==(const Problem&, const Problem&) = default;
};

struct ParseOutcome {
    std::optional<Config> config;  // set iff no problem is an error
    std::vector<Problem> problems; // errors and warnings, ordered by position

    [[nodiscard]] bool ok() const { return config.has_value(); }
};

// Parses and validates `text` (TOML 1.0). Every problem found is reported, not just the first:
// a TOML syntax error stops parsing (toml++ cannot recover), but all validation problems of a
// well-formed document are collected, each at the line of the offending key (or of the table
// that lacks a required key). file_name is only copied into the problems. Never throws on bad
// input; allocation failure is the only exception.
[[nodiscard]] ParseOutcome parse_config(std::string_view text, std::string_view file_name);

// Whether iconv can read text in `charset` (a name or an alias: "windows-1250", "latin2"), as
// GMime then does for a fallback charset. Names of 1-40 of A-Z a-z 0-9 - _ . : only, and not
// UTF-16, UTF-32, UTF-7 or UCS-2/4, which 8-bit text cannot be.
[[nodiscard]] bool known_charset(std::string_view charset);

// "file:line:col: error: message" (or "warning:"); "file: error: message" without a position.
[[nodiscard]] std::string format_problem(const Problem& problem);

} // namespace crm::settings
