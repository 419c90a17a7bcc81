// OAuth2 access tokens of one account (see token_source.hpp).
#include "crm/runtime/token_source.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

#include "crm/runtime/config_files.hpp"
#include "crm/runtime/secrets.hpp"

namespace crm::runtime {

Result<std::shared_ptr<TokenSource>>
TokenSource::make(const OAuthRefresh& config, std::string ca_file, Hooks hooks, Clock clock) {
    auto refresh = resolve_secret(config.refresh_token);
    if (!refresh)
        return std::unexpected(refresh.error());
    net::OAuthRefreshRequest req;
    req.token_endpoint = config.token_endpoint;
    req.client_id = config.client_id;
    req.refresh_token = std::move(*refresh);
    req.ca_file = std::move(ca_file);
    if (config.client_secret) {
        auto cs = resolve_secret(*config.client_secret);
        if (!cs)
            return std::unexpected(cs.error());
        req.client_secret = std::move(*cs);
    }
    if (hooks.secret) {
        hooks.secret(req.refresh_token);
        if (!req.client_secret.empty())
            hooks.secret(req.client_secret);
    }
    if (!clock)
        clock = [] { return std::chrono::steady_clock::now(); };
    return std::make_shared<TokenSource>(config, std::move(req), std::move(hooks),
                                         std::move(clock));
}

TokenSource::TokenSource(const OAuthRefresh& config, net::OAuthRefreshRequest req, Hooks hooks,
                         Clock clock)
    : config_(config), req_(std::move(req)), hooks_(std::move(hooks)), clock_(std::move(clock)) {}

Result<std::string> TokenSource::access_token() {
    std::lock_guard lock(mu_);
    const auto now = clock_();
    if (token_ && now < renew_at_)
        return *token_;
    token_.reset();
    ++refreshes_;
    auto got = net::refresh_access_token(req_);
    if (!got)
        return std::unexpected(got.error());
    if (hooks_.secret)
        hooks_.secret(got->access_token);
    const std::chrono::seconds life =
        got->expires_in ? std::chrono::seconds(*got->expires_in) : kUnknownLifetime;
    // A token about to expire is used once, not kept.
    renew_at_ = life > kMargin ? now + (life - kMargin) : now;
    token_ = got->access_token;
    if (!got->refresh_token.empty() && got->refresh_token != req_.refresh_token) {
        if (hooks_.secret)
            hooks_.secret(got->refresh_token);
        req_.refresh_token = got->refresh_token;
        if (auto stored = store_rotated(got->refresh_token); !stored && hooks_.warn)
            hooks_.warn(stored.error().detail);
    }
    return *token_;
}

Result<void> TokenSource::store_rotated(const std::string& token) {
    const SecretRef& ref = config_.refresh_token;
    if (ref.kind != SecretRef::Kind::File) {
        const char* where = ref.kind == SecretRef::Kind::Env          ? "environment variable"
                            : ref.kind == SecretRef::Kind::Credential ? "systemd credential"
                                                                      : "config file (inline)";
        return fail("oauth.rotation",
                    fmt::format("{} rotated the refresh token, and the old one no longer works "
                                "once the new one is used; it comes from the {} {}, which "
                                "crm-maild cannot write: the new one is used until the daemon "
                                "stops. Use oauth_refresh_token_file (which crm-maild updates "
                                "itself), or run crm-mailctl accounts oauth again after a restart",
                                config_.token_endpoint, where,
                                ref.kind == SecretRef::Kind::Inline ? "" : ref.value),
                    ErrorScope::Account, Retry::NeedsConfig);
    }
    // The file keeps its owner; its mode becomes 0600 whatever it was.
    std::optional<std::pair<uid_t, gid_t>> owner;
    struct stat st {};
    if (::stat(ref.value.c_str(), &st) == 0)
        owner = std::pair{st.st_uid, st.st_gid};
    auto w = write_atomic(ref.value, token + "\n", 0600, owner, false);
    if (!w)
        return fail("oauth.rotation",
                    fmt::format("{} rotated the refresh token but it could not be written back "
                                "({}): the new one is used until the daemon stops, and the old "
                                "one in the file may no longer work after a restart",
                                config_.token_endpoint, w.error().detail),
                    ErrorScope::Account, Retry::NeedsConfig);
    return {};
}

void TokenSource::invalidate() {
    std::lock_guard lock(mu_);
    token_.reset();
}

std::uint64_t TokenSource::refreshes() const {
    std::lock_guard lock(mu_);
    return refreshes_;
}

} // namespace crm::runtime
