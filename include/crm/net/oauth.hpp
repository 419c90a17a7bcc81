#pragma once
// OAuth 2.0 over HTTPS with libcurl: the refresh-token grant (RFC 6749 §6) that gives SASL
// XOAUTH2 its access tokens, and the two ways an admin grants crm-mail a refresh token in the
// first place: the device authorization grant (RFC 8628) and the authorization code grant with
// PKCE (RFC 6749 §4.1, RFC 7636) redeemed after a loopback redirect (RFC 8252 §7.3). Blocking
// (bounded by the timeout); call them off the event loop.

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
// "error"/"error_description" fields; NeedsConfig for the answers that only an admin can change
// (invalid_grant, invalid_client, unauthorized_client, invalid_scope, and the user's refusal or
// an expired code in the consent flows), Backoff otherwise. Secrets never appear in errors.
Result<OAuthTokens> refresh_access_token(const OAuthRefreshRequest& req);

// The client as the consent flows present it to the token and device endpoints.
struct OAuthClient {
    std::string token_endpoint;
    std::string client_id;
    std::string client_secret; // may be empty (public client); Google's installed apps send it
    std::string ca_file;
    std::chrono::milliseconds timeout{30'000};
};

// RFC 8628 §3.2: what the user is shown, and how often to ask.
struct DeviceAuthorization {
    std::string device_code;
    std::string user_code;
    std::string verification_uri;          // Google calls it verification_url
    std::string verification_uri_complete; // with the code in it; optional
    std::string message;                   // Microsoft's instructions; optional
    std::chrono::seconds expires_in{900};
    std::chrono::seconds interval{5}; // RFC 8628 §3.2: 5 when the answer gives none
};

// RFC 8628 §3.1. Errors "net.oauth" as refresh_access_token's (NeedsConfig for invalid_client,
// invalid_scope...).
Result<DeviceAuthorization> request_device_code(const OAuthClient& c,
                                                const std::string& device_endpoint,
                                                const std::string& scope);

// One poll of the token endpoint (RFC 8628 §3.4, §3.5): granted (with the tokens), still pending,
// or asked to slow down (the caller adds 5 seconds to its interval). The user's refusal
// (access_denied, Microsoft's authorization_declined) and an expired code (expired_token) are
// errors with Retry::NeedsConfig.
struct DevicePoll {
    enum class State { Granted, Pending, SlowDown };
    State state = State::Pending;
    OAuthTokens tokens;
};
Result<DevicePoll> poll_device_code(const OAuthClient& c, const std::string& device_code);

// RFC 6749 §4.1.3 with RFC 7636 §4.5: the code the loopback redirect brought, for tokens.
Result<OAuthTokens> redeem_authorization_code(const OAuthClient& c, const std::string& code,
                                              const std::string& redirect_uri,
                                              const std::string& code_verifier);

} // namespace crm::net
