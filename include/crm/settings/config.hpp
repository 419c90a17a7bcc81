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

#include "crm/core/ids.hpp"

namespace crm::settings {

// Where a secret comes from. Only Inline carries the secret itself (and needs the top-level opt-in
// `allow_inline_secrets = true`); the others name where the daemon finds it at start-up.
struct SecretRef {
    enum class Kind {
        File,       // *_file: absolute path of a file holding the secret (trailing newline ignored)
        Env,        // *_env: name of an environment variable
        Credential, // *_credential (or `credential`): systemd credential name
                    // ($CREDENTIALS_DIRECTORY)
        Inline,     // the key without suffix: the secret in the config text itself
    };
    Kind kind = Kind::File;
    std::string value; // path, variable name, credential name, or (Inline) the secret

    friend bool operator==(const SecretRef&, const SecretRef&) = default;
};

enum class Tls {
    Implicit, // TLS from the first byte (IMAPS 993, SMTPS 465)
    StartTls, // plain text, then STARTTLS before authenticating (RFC 3501 §6.2.1, RFC 3207)
    None,     // no TLS: only with allow_insecure = true and a loopback host
};

enum class Auth {
    Password, // IMAP LOGIN / AUTHENTICATE PLAIN, SMTP AUTH PLAIN
    XOAuth2,  // SASL XOAUTH2 with an OAuth 2.0 bearer token
};

// OAuth 2.0 refresh-token grant (RFC 6749 §6) that yields XOAUTH2 access tokens.
struct OAuthRefresh {
    std::string token_endpoint; // https:// (http:// only to a loopback host)
    std::string client_id;
    std::optional<SecretRef> client_secret; // absent for public clients
    SecretRef refresh_token;

    friend bool operator==(const OAuthRefresh&, const OAuthRefresh&) = default;
};

// One IMAP or SMTP server ([accounts.imap], [accounts.smtp]).
struct ServerConfig {
    std::string host;
    std::uint16_t port = 0; // never 0 after parsing: defaulted from tls when absent
    Tls tls = Tls::Implicit;
    bool allow_insecure = false;
    std::string ca_file; // absolute path of an extra trust anchor; empty: system store only
    std::string username;
    Auth auth = Auth::Password;
    // Password: the password. XOAuth2: an access token (kept fresh by someone else); absent when
    // the refresh flow below is used. Exactly one of secret/oauth is set for XOAuth2.
    std::optional<SecretRef> secret;
    std::optional<OAuthRefresh> oauth;

    friend bool operator==(const ServerConfig&, const ServerConfig&) = default;
};

struct AccountConfig {
    std::string name;                 // unique, see valid_account_name
    UserId owner_id = 0;              // the CRM user who owns this mailbox (> 0)
    std::string address;              // the mailbox's own address, as written
    std::vector<std::string> folders; // empty: INBOX + the \Sent folder (Gmail: the \All folder)
    bool enabled = true;
    std::chrono::seconds poll_interval{300}; // >= kMinPollInterval
    bool idle = true;                        // use IMAP IDLE (RFC 2177) when offered
    int initial_sync_days = 90;              // 0: everything
    bool backfill = true;                    // after the initial window, fetch older mail slowly
    std::size_t batch_messages = 200;        // messages per FETCH batch
    std::size_t batch_bytes = std::size_t{16} << 20; // bytes per FETCH batch (soft limit)
    bool mirror_seen = false;  // mirror CRM read state to the server's \Seen flag
    std::optional<bool> gmail; // nullopt: auto-detect (X-GM-EXT-1)
    ServerConfig imap;
    std::optional<ServerConfig> smtp; // absent: replies cannot be sent from this account
    int line = 0;                     // line of its [[accounts]] header, for messages

    friend bool operator==(const AccountConfig&, const AccountConfig&) = default;
};

inline constexpr std::chrono::seconds kMinPollInterval{10};

struct DatabaseConfig {
    std::string path = "/var/lib/crm-mail/crm-mail.db"; // absolute

    friend bool operator==(const DatabaseConfig&, const DatabaseConfig&) = default;
};

enum class LogLevel { Error, Warning, Info, Debug };

struct DaemonConfig {
    LogLevel log_level = LogLevel::Info;

    friend bool operator==(const DaemonConfig&, const DaemonConfig&) = default;
};

// The largest request body the HTTP server reads (http::ServerOptions::body_limit).
inline constexpr std::size_t kMaxRequestBody = std::size_t{2} << 20;

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

struct Config {
    bool allow_inline_secrets = false;
    DatabaseConfig database;
    DaemonConfig daemon;
    HttpConfig http;
    MatchingConfig matching;
    std::vector<AccountConfig> accounts;

    friend bool operator==(const Config&, const Config&) = default;
};

// One diagnostic. line/column are 1-based; 0 when there is no position (never negative).
struct Problem {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    bool warning = false; // warnings (unknown keys, inline secrets ...) do not reject the config

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

// "file:line:col: error: message" (or "warning:"); "file: error: message" without a position.
[[nodiscard]] std::string format_problem(const Problem& problem);

// An account name: 1-64 of A-Z a-z 0-9 . _ -, not "." or ".." (it also names the account's
// secret file). The config, crm-mailctl and the admin API use this one rule.
[[nodiscard]] bool valid_account_name(std::string_view name);

} // namespace crm::settings
