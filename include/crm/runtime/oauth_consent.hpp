#pragma once
// An admin grants crm-mail access to a mailbox (issue 18): the OAuth 2.0 consent that yields the
// refresh token crm-maild's TokenSource lives on. Two flows, as the providers offer them for
// mail:
//   - the device authorization grant (RFC 8628): the admin opens the provider's page on any
//     device and types the code shown; crm-mail polls the token endpoint. Microsoft offers it for
//     IMAP and SMTP; Google does not allow the Gmail scope in it.
//   - the loopback redirect (RFC 8252 §7.3) with PKCE (RFC 7636): the admin opens the printed
//     address in a browser on the same host (or through `ssh -L PORT:127.0.0.1:PORT`); the
//     provider redirects to http://127.0.0.1:PORT/ with a code that is redeemed for the tokens.
//     The `state` parameter ties the redirect to this request; anything else is refused.
// Blocking (bounded by the options' timeout): crm-mailctl runs it in the foreground.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "crm/core/account_config.hpp"
#include "crm/core/result.hpp"
#include "crm/net/oauth.hpp"

namespace crm::runtime {

struct ConsentOptions {
    enum class Flow { Auto, Device, Loopback };
    // Auto: the device flow when the account has a device endpoint, else the loopback one.
    Flow flow = Flow::Auto;
    std::uint16_t port = 0;            // loopback: 0 picks a free port
    std::string login_hint;            // the mailbox's user name, shown to the provider
    std::chrono::seconds timeout{900}; // how long the admin has to answer
    // What the admin must do (the address and code); one line each.
    std::function<void(const std::string&)> say;
    // The client secret (resolved), when the account has one.
    std::string client_secret;
    std::string ca_file;
};

// The OAuth settings an account's consent uses (its IMAP login's refresh flow, else its SMTP
// server's own) and, into `opt`, what they give: the CA file, the login hint and the client
// secret, resolved. Errors: "oauth.consent" (no refresh flow; a refresh token outside a file,
// which crm-mail cannot write) and the client secret's ("secret.missing").
Result<OAuthRefresh> consent_target(const AccountConfig& account, ConsentOptions& opt);

// The tokens granted, with a refresh token. Errors: "oauth.consent" (no endpoint for the flow,
// no refresh token granted, a redirect that does not answer this request, the time is up) and
// net::OAuth's ("net.oauth": the admin refused, the code expired, the endpoint failed).
Result<net::OAuthTokens> obtain_consent(const OAuthRefresh& config, const ConsentOptions& opt);

// The device flow in two halves, for a caller that shows the code itself (the admin page): the
// code to show (errors as obtain_consent's, "oauth.consent" without a device endpoint), then the
// wait for the admin's answer (blocking; `stopped`, polled about every 200 ms, ends it early).
Result<net::DeviceAuthorization> begin_device_consent(const OAuthRefresh& config,
                                                      const ConsentOptions& opt);
Result<net::OAuthTokens> finish_device_consent(const OAuthRefresh& config,
                                               const ConsentOptions& opt,
                                               const net::DeviceAuthorization& d,
                                               const std::function<bool()>& stopped);

// The authorization-code flow with PKCE for a caller that receives the redirect itself: the
// daemon, whose web server answers at the redirect address (http.public_url + /oauth/callback),
// so that an admin grants access from the admin page's browser (Google; RFC 6749 §4.1 with
// RFC 7636). `authorize_url` is where the admin's browser goes; `state` ties the provider's
// redirect to this request, and `verifier` stays here.
struct RedirectConsent {
    std::string authorize_url, state, verifier, redirect_uri;
};
// A new request (fresh state and PKCE pair), its address built from the account's authorize
// endpoint, client id, scope and login hint (access_type=offline, prompt=consent).
RedirectConsent redirect_request(const OAuthRefresh& config, const ConsentOptions& opt,
                                 const std::string& redirect_uri);
// As redirect_request; errors "oauth.consent" when the account has no authorize endpoint or
// no scope.
Result<RedirectConsent> begin_redirect_consent(const OAuthRefresh& config,
                                               const ConsentOptions& opt,
                                               const std::string& redirect_uri);
// Redeems the provider's redirect (its raw query string) for the tokens. Errors:
// "oauth.consent" (a state that is not this request's, no code), "net.oauth" (the admin
// refused: the provider's error and description; the token endpoint refused the code).
Result<net::OAuthTokens> finish_redirect_consent(const OAuthRefresh& config,
                                                 const ConsentOptions& opt,
                                                 const RedirectConsent& request,
                                                 std::string_view query);

// Writes a refresh token where the account's config says it lives: over its file, atomically,
// mode 0600, keeping the file's owner. Errors "oauth.rotation" (NeedsConfig) when it lives in an
// environment variable, credential or the config itself (crm-mail cannot write those) or the file
// cannot be written.
Result<void> store_refresh_token(const SecretRef& ref, const std::string& token);

// The PKCE pair (RFC 7636 §4.1, §4.2): a 64-character verifier from the kernel's random source
// and its S256 challenge. Exposed for the tests.
struct Pkce {
    std::string verifier;
    std::string challenge;
};
Pkce make_pkce();
// BASE64URL-ENCODE(SHA256(ASCII(verifier))) without padding (RFC 7636 §4.2).
std::string pkce_challenge(const std::string& verifier);

} // namespace crm::runtime
