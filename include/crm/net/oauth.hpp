#pragma once
// OAuth 2.0 refresh-token grant (RFC 6749 §6) over HTTPS with libcurl: a fresh access token for
// SASL XOAUTH2. Blocking (bounded by the timeout); call it off the event loop.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "crm/core/result.hpp"

namespace crm::net {

struct OAuthRefreshRequest {
    std::string token_endpoint; // https://... (http:// only to loopback; settings checks it)
    std::string client_id;
    std::string client_secret; // may be empty (public client)
    std::string refresh_token;
    std::string ca_file; // extra trust anchor, optional
    std::chrono::milliseconds timeout{30'000};
};

// What a token endpoint answers to the refresh-token grant (RFC 6749 §5.1).
struct OAuthTokens {
    std::string access_token;
    // Seconds the access token lives (Google: 3599, Microsoft: 3600-5400); nullopt when the
    // endpoint does not say (the field is only RECOMMENDED).
    std::optional<std::int64_t> expires_in;
    // A new refresh token, when the endpoint rotates them (Microsoft does, §6: "MAY issue a new
    // refresh token, in which case the client MUST discard the old refresh token"); else empty.
    std::string refresh_token;
};

// The new tokens. Errors ("net.oauth", scope Account): the endpoint's HTTP status and its
// "error"/"error_description" fields; NeedsConfig for invalid_grant/invalid_client (the refresh
// token or client is no longer valid), Backoff otherwise. Secrets never appear in errors.
Result<OAuthTokens> refresh_access_token(const OAuthRefreshRequest& req);

} // namespace crm::net
