#pragma once
// IMAP login after libcurl's connect phase (private to net). libcurl connects, does TLS or
// STARTTLS and reads the capabilities, but pins one SASL mechanism and cannot fall back to the
// LOGIN command, nor tell "no mechanism offered" from "credentials refused". So the IMAP login
// is ours: the mechanism is chosen from the CAPABILITY the server sends after TLS.

#include <functional>
#include <set>
#include <string>
#include <string_view>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"

namespace crm::net {

enum class ImapMechanism { Plain, LoginCommand, XOAuth2, OAuthBearer, None };

// The mechanism to use for `auth` given the server's capabilities (upper-case atoms):
// password: AUTH=PLAIN, else the LOGIN command unless LOGINDISABLED; OAuth: AUTH=XOAUTH2, else
// AUTH=OAUTHBEARER. None when nothing usable is offered. Pure.
[[nodiscard]] ImapMechanism choose_imap_mechanism(const std::set<std::string>& caps, Auth auth);

// Blocking line I/O for the login exchange. `send` writes all bytes; `read_line` returns one
// line without CRLF. Both fail with a net.* error (scope Account).
struct LoginIo {
    std::function<Result<void>(std::string_view)> send;
    std::function<Result<std::string>()> read_line;
};

// CAPABILITY, then the login with the chosen mechanism. Errors:
//   net.mechanism - nothing usable offered; detail names what the server offers   NeedsConfig
//   net.auth      - the server refused the credentials (tagged NO)                NeedsConfig
//   net.busy      - a NO that says "not now": [INUSE], [LIMIT], Gmail's [THROTTLED] and "Too
//                   many simultaneous connections", Microsoft 365's "User is authenticated but
//                   not connected"                                                   Backoff
//   net.protocol  - BAD, BYE, a NO with [UNAVAILABLE]/[SERVERBUG], a garbled answer  Backoff
// A refused login's detail carries what the server said to a person meanwhile ("* NO [ALERT]",
// Gmail's "[WEBALERT url] Web login required").
// Secrets never appear in errors.
Result<void> imap_login(const Endpoint& ep, const LoginIo& io);

} // namespace crm::net
