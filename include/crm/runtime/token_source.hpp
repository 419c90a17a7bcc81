#pragma once
// One account's OAuth2 access tokens (issue 18), shared by everything that logs in for it: the
// IMAP sync, SMTP, the Sent APPEND and its probe after a crash, \Seen mirroring and the
// connection test. Tokens come from the refresh-token grant (net::refresh_access_token) and are
// kept until shortly before they expire; a login the server refuses invalidates the kept one.
//
// A refresh token the provider rotates (Microsoft does; RFC 6749 §6: the client "MUST discard
// the old refresh token") is used from then on and written back over its file, atomically and
// with mode 0600, so that a restart uses it. When it lives in an environment variable, a systemd
// credential or the config itself, it cannot be written: the operator is told so (warn), once per
// rotation, and the new one is kept in memory.
//
// Thread-safe: one refresh at a time (a second caller waits for the first's token).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "crm/core/account_config.hpp"
#include "crm/core/result.hpp"
#include "crm/net/oauth.hpp"

namespace crm::runtime {

class TokenSource {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    // Told each secret it learns (the refresh token, client secret, access tokens), so that
    // logs redact them; and what an operator must know (a rotated token it cannot write back).
    struct Hooks {
        std::function<void(const std::string&)> secret;
        std::function<void(const std::string&)> warn;
    };
    // A kept token is renewed this long before its expiry; a token without expires_in is kept
    // this long at most.
    static constexpr std::chrono::seconds kMargin{60};
    static constexpr std::chrono::seconds kUnknownLifetime{300};

    // Resolves the refresh token and client secret now. Errors: "secret.missing" (naming the
    // file, variable or credential).
    static Result<std::shared_ptr<TokenSource>>
    make(const OAuthRefresh& config, std::string ca_file, Hooks hooks = {}, Clock clock = {});

    // A token valid for at least kMargin more (from the endpoint when none is kept). Errors:
    // net::refresh_access_token's ("net.oauth", NeedsConfig for invalid_grant).
    Result<std::string> access_token();
    // The server refused the kept token: the next access_token() asks the endpoint.
    void invalidate();
    // True when the refresh token file changed since it was last read or written here (an
    // admin granted access again with crm-mailctl accounts oauth). The next refresh uses it.
    [[nodiscard]] bool replaced_on_disk() const;
    // How many times the endpoint was asked (for tests and logs).
    [[nodiscard]] std::uint64_t refreshes() const;

    TokenSource(const OAuthRefresh& config, net::OAuthRefreshRequest req, Hooks hooks, Clock clock);

  private:
    Result<void> store_rotated(const std::string& token);
    // The refresh token file's content when it differs from file_seen_ (call with file_mu_).
    [[nodiscard]] std::optional<std::string> file_if_changed() const;

    const OAuthRefresh config_;
    net::OAuthRefreshRequest req_; // its refresh_token is the current one
    Hooks hooks_;
    Clock clock_;
    mutable std::mutex mu_;
    std::optional<std::string> token_;
    std::chrono::steady_clock::time_point renew_at_{};
    std::uint64_t refreshes_ = 0;
    // What the refresh token file held when last read or written here (file_mu_).
    mutable std::mutex file_mu_;
    std::string file_seen_;
};

} // namespace crm::runtime
