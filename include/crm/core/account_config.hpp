#pragma once
// A mail account as configured: its IMAP and SMTP servers, how to log in, how to sync. Made by
// settings (TOML, validated) or by the admin page (http), written back by settings; read by the
// daemon, the connection test and the admin page.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"

namespace crm {

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
    // How an admin grants the refresh token (crm-mailctl accounts oauth): the device
    // authorization endpoint (RFC 8628), the authorization endpoint of the loopback-redirect
    // flow (RFC 8252), and the scopes asked for. Empty when neither the config nor the provider
    // preset names them.
    std::string device_endpoint;
    std::string authorize_endpoint;
    std::string scope;

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

// [[accounts.rules]]: mail carrying Gmail label `label` belongs to deal `deal` (a salesperson's
// own filing in Gmail, taken as a decision made by hand).
struct LabelRule {
    std::string label;
    DealId deal = 0;
    friend bool operator==(const LabelRule&, const LabelRule&) = default;
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
    // How the account's undeclared 8-bit text (no charset, not UTF-8) is read: windows-1252
    // unless set (windows-1250 for Romanian or Polish mail, koi8-r, shift_jis, ...).
    std::string fallback_charset = "windows-1252";
    std::optional<bool> gmail; // nullopt: auto-detect (X-GM-EXT-1)
    // `provider =`: Gmail or Microsoft 365 (their hosts, ports, TLS and token endpoint filled in
    // where the account does not set them); both file what their SMTP server sends in Sent.
    enum class Provider { Gmail, Microsoft365 };
    std::optional<Provider> provider;
    std::vector<LabelRule> rules; // the first rule whose label the message carries applies
    ServerConfig imap;
    std::optional<ServerConfig> smtp; // absent: replies cannot be sent from this account
    int line = 0;                     // line of its [[accounts]] header, for messages

    friend bool operator==(const AccountConfig&, const AccountConfig&) = default;
};

inline constexpr std::chrono::seconds kMinPollInterval{10};

// implicit | starttls | none, as written in the config file and shown on the admin page.
[[nodiscard]] constexpr const char* tls_name(Tls t) {
    return t == Tls::Implicit ? "implicit" : t == Tls::StartTls ? "starttls" : "none";
}

// [A-Za-z0-9._-]{1,64}, not "." or "..": the name also names the account's secret file
// (secrets/NAME).
[[nodiscard]] constexpr bool valid_account_name(std::string_view s) {
    if (s.empty() || s.size() > 64 || s == "." || s == "..")
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
               (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
}

} // namespace crm
