// OAuth2 access tokens of one account (see token_source.hpp).
#include "crm/runtime/token_source.hpp"

#include <fmt/format.h>

#include "crm/runtime/config_files.hpp"
#include "crm/runtime/oauth_consent.hpp"
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
    : config_(config), req_(std::move(req)), hooks_(std::move(hooks)), clock_(std::move(clock)),
      file_seen_(req_.refresh_token) {}

std::optional<std::string> TokenSource::file_if_changed() const {
    if (config_.refresh_token.kind != SecretRef::Kind::File)
        return std::nullopt;
    auto text = resolve_secret(config_.refresh_token);
    if (!text || text->empty() || *text == file_seen_)
        return std::nullopt;
    return std::move(*text);
}

Result<std::string> TokenSource::access_token() {
    std::lock_guard lock(mu_);
    const auto now = clock_();
    if (token_ && now < renew_at_)
        return *token_;
    token_.reset();
    ++refreshes_;
    // An admin may have granted access anew meanwhile (crm-mailctl accounts oauth wrote the
    // file): the file's token is the one to use. Only a file that changed since it was last read
    // or written here: after a rotation that could not be written back, the file still holds the
    // old token, which must not be used again.
    {
        std::lock_guard file_lock(file_mu_);
        if (auto text = file_if_changed()) {
            if (hooks_.secret)
                hooks_.secret(*text);
            file_seen_ = *text;
            req_.refresh_token = std::move(*text);
        }
    }
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
        std::lock_guard file_lock(file_mu_);
        if (auto stored = store_rotated(got->refresh_token); !stored) {
            if (hooks_.warn)
                hooks_.warn(stored.error().detail);
        } else {
            file_seen_ = got->refresh_token;
        }
    }
    return *token_;
}

Result<void> TokenSource::store_rotated(const std::string& token) {
    auto stored = store_refresh_token(config_.refresh_token, token);
    if (stored)
        return {};
    const bool unwritable = config_.refresh_token.kind != SecretRef::Kind::File;
    return fail("oauth.rotation",
                fmt::format("{} rotated the refresh token, and the old one no longer works once "
                            "the new one is used; {}: the new one is used until the daemon "
                            "stops{}",
                            config_.token_endpoint, stored.error().detail,
                            unwritable ? ". Run crm-mailctl accounts oauth again after a restart"
                                       : ", and the old one in the file may no longer work "
                                         "after a restart"),
                ErrorScope::Account, Retry::NeedsConfig);
}

bool TokenSource::replaced_on_disk() const {
    // Not mu_: a refresh may hold it for its whole HTTP exchange. A rotation writes the file and
    // notes it under file_mu_, so this never mistakes our own write for an admin's.
    std::lock_guard file_lock(file_mu_);
    return file_if_changed().has_value();
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
