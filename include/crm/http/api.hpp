#pragma once
// The CRM thread view's HTTP API (/api/v1, docs/openapi.yaml), the web page's static files,
// /healthz and /metrics, as a pure request -> response function over the database. No sockets:
// server.hpp carries it over Boost.Beast; tests call handle() directly.
//
// Security, in order of the checks:
//   exactly one Host, one of the allowed hosts (DNS rebinding);
//   /metrics only for local clients or with the metrics token;
//   unsafe methods need an Origin equal to an allowed origin when the browser sends one, and
//   cookie-authenticated ones need it present (CSRF; SameSite=Strict is the second fence);
//   request bodies must be application/json;
//   authentication: session cookie (crm_session, HttpOnly, SameSite=Strict) or Bearer token;
//   authorisation: the read model (core/read_model.hpp) filters every query by the viewer, and
//   the use cases in app decide who may change what; replies only from the
//   user's own accounts; /accounts for admins only. No secret is ever returned.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crm/app/search.hpp"
#include "crm/core/account_config.hpp"
#include "crm/core/backend.hpp"
#include "crm/core/clock.hpp"
#include "crm/core/completeness.hpp"
#include "crm/core/followups.hpp"
#include "crm/core/limits.hpp"
#include "crm/core/log.hpp"
#include "crm/core/result.hpp"

namespace crm::http {

struct Request {
    std::string method; // upper case: GET, POST, ...
    std::string target; // as sent: path and query
    std::vector<std::pair<std::string, std::string>> headers; // names lower case
    std::string body;
    std::string peer; // client IP address

    [[nodiscard]] std::optional<std::string_view> header(std::string_view lower_name) const;
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    void set(std::string name, std::string value);
    [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

// An admin granting crm-mail access to an OAuth2 account's mailbox from the admin page: with the
// device flow (RFC 8628), the code to enter at the provider's page; with the redirect flow
// (RFC 6749 §4.1, PKCE), the provider's address to open, which comes back to /oauth/callback.
// Then how it went.
struct ConsentState {
    std::string state = "none"; // none | pending | granted | failed
    std::string user_code, verification_uri, message, error;
    std::string authorize_url;   // the redirect flow
    std::int64_t expires_in = 0; // seconds, from when it was asked
};

// The outcome of "test connection" for one server of an account.
struct ServerTest {
    bool ok = false;
    std::string step; // config | dns | tcp | tls | auth | protocol | done
    std::string message;
};

struct AccountSecrets {
    std::optional<std::string> imap_password, smtp_password;
};

// What the API asks of the running daemon. Called on the HTTP threads: implementations are
// thread-safe.
// What /healthz reports. With a shared database (PostgreSQL, several workers) it names this
// worker and how many account leases it holds; a load balancer takes a worker whose database is
// unreachable out of rotation (503).
struct Health {
    bool database_reachable = true;
    std::optional<std::int64_t> worker; // set with a shared database
    std::int64_t leases = 0;            // accounts this worker syncs
};

class Control {
  public:
    virtual ~Control() = default;
    virtual Health health() { return {}; }
    // The configured accounts (the config file as last loaded).
    virtual std::vector<AccountConfig> accounts() = 0;
    // Adds or replaces an account in the config file (and its secrets, 0600), then applies it.
    // Errors: "config.invalid" (the problems), "config.write".
    virtual Result<void> save_account(const AccountConfig& account,
                                      const AccountSecrets& secrets) = 0;
    // Connects and logs in to the account's servers (blocking). IMAP first, then SMTP.
    virtual std::vector<ServerTest> test_account(const AccountConfig& account) = 0;
    // Compares every folder the sync recorded with the account's IMAP server (blocking;
    // runtime::check_completeness). Errors: "account.not_found", "account.not_synced", "net.*".
    virtual Result<CompletenessReport> completeness(const AccountConfig& account) = 0;
    // Clears the account's checkpoints and wakes its sync. Errors: "account.not_found".
    virtual Result<void> resync(const std::string& name) = 0;
    // A reply was queued: work the outbox now.
    virtual void outbox_changed() = 0;
    // Prometheus text for /metrics.
    virtual std::string metrics() = 0;
    // Starts the consent for the account's OAuth2 login: the device flow when the account has a
    // device endpoint (the code to show), else the redirect flow (the address to open) when it
    // has an authorize endpoint. A request already waiting for the admin is returned as it is. When
    // access is granted, the refresh token is stored in the account's oauth_refresh_token_file and
    // the account logs in again. Errors: "account.not_found", "oauth.consent" (the account cannot
    // use it: no OAuth refresh flow, neither endpoint, a token that is not in a file), "net.oauth".
    virtual Result<ConsentState> start_consent(const std::string& account) {
        (void)account;
        return fail("oauth.consent", "not offered here");
    }
    // The provider's redirect back to /oauth/callback (its raw query string), for the pending
    // redirect-flow consent whose `state` it carries: redeems the code, stores the refresh token
    // and logs the account in again. Returns the account's name. Errors: "oauth.consent" (no
    // pending request has this state, or it expired), "net.oauth" (refused, or the code was
    // not redeemed), "oauth.rotation" (the token file could not be written).
    virtual Result<std::string> complete_consent(const std::string& state, std::string_view query) {
        (void)state;
        (void)query;
        return fail("oauth.consent", "not offered here");
    }
    // The last consent of the account in this process ("none" when there was none).
    virtual ConsentState consent_state(const std::string& account) {
        (void)account;
        return {};
    }
};

struct ApiOptions {
    // Host header values accepted ("host" or "host:port") besides the loopback names with the
    // server's port (127.0.0.1, localhost, [::1]), which are always accepted.
    std::vector<std::string> allowed_hosts;
    // /metrics for clients other than local ones (loopback peers without Forwarded,
    // X-Forwarded-For or X-Real-IP): "Authorization: Bearer <this>". Empty: local clients only.
    std::string metrics_token;
    std::uint16_t port = 0;        // the bound port, for the default allowed hosts
    bool secure_cookie = false;    // add Secure (behind a TLS reverse proxy)
    std::chrono::seconds session_ttl{12 * 3600};
    std::string config_path;       // for secret file paths of accounts added over the API
    // Peers whose X-Forwarded-For names the client (addresses or CIDR blocks: the reverse
    // proxies in front of us). From any other peer the header is ignored.
    std::vector<std::string> trusted_proxies;
    // Login throttle (token buckets refilled over login_window): failures allowed per client
    // and account, and per client over all accounts. IPv6 clients count by their /64.
    int login_failures_per_pair = 5;
    int login_failures_per_client = 20;
    std::chrono::seconds login_window{15 * 60};
    // Sanitised HTML bodies kept in memory (bytes), so a thread is sanitised once, not per view.
    std::size_t html_cache_bytes = std::size_t{64} << 20;
    const Clock* clock = nullptr;      // default: system_clock()
    LogSink log;                       // lockouts, admin changes (may be empty)
    // The follow-up periods of deals that set none ([followups] in the config).
    FollowupPolicy followups;
    // Attachment limits of mail composed here ([compose]).
    ComposeLimits compose;
};

class Api {
  public:
    // `open_backend` gives a new connection when the pool has none free.
    Api(ApiOptions options, BackendOpener open_backend, Control& control);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    // Thread-safe: each call borrows its own connection (Backend) from a small pool.
    Response handle(const Request& request);
    // The largest body a request for `target` may have: a mail with attachments (a reply, a new
    // mail) compose_body_limit(options.compose), anything else kMaxRequestBody.
    [[nodiscard]] std::size_t body_limit(std::string_view method, std::string_view target) const;
    // Whether `head`'s session cookie or API token belongs to a user (the server asks before it
    // reads a body larger than kMaxRequestBody). Thread-safe; false when the database fails.
    [[nodiscard]] bool authenticated(const Request& head);
    void set_port(std::uint16_t port);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A page of search hits as GET /api/v1/search answers it (docs/openapi.yaml SearchResults), for
// crm-mailctl search --json.
std::string search_result_json(const app::SearchResult& r);

// The quarantine as GET /api/v1/quarantine answers it, for crm-mailctl quarantine list --json.
std::string quarantine_json(const std::vector<QuarantineEntry>& entries);

// An account's completeness as GET /api/v1/accounts/{name}/completeness answers it, for
// crm-mailctl accounts check --json.
std::string completeness_json(const CompletenessReport& r);

} // namespace crm::http
