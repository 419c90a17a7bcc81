// Test connection (see server_check.hpp).
#include "crm/runtime/server_check.hpp"

#include <fmt/format.h>

#include "crm/net/transport.hpp"
#include "crm/runtime/secrets.hpp"
#include "crm/runtime/token_source.hpp"
#include "crm/settings/edit.hpp"

namespace crm::runtime {

namespace {

const char* step_of(const std::string& code) {
    if (code == "net.dns")
        return "dns";
    if (code == "net.tcp" || code == "net.timeout")
        return "tcp";
    if (code == "net.tls" || code == "net.starttls")
        return "tls";
    if (code == "net.auth" || code == "net.mechanism" || code == "net.oauth")
        return "auth";
    if (code == "net.config" || code == "secret.missing")
        return "config";
    return "protocol";
}

} // namespace

Result<net::Endpoint> server_endpoint(const char* proto, const settings::ServerConfig& s,
                                      std::chrono::seconds timeout, std::string* step) {
    auto at = [&](const char* where) {
        if (step)
            *step = where;
    };
    net::Endpoint ep;
    ep.scheme = proto;
    ep.host = s.host;
    ep.port = s.port;
    ep.tls = s.tls == settings::Tls::Implicit   ? net::Tls::Implicit
             : s.tls == settings::Tls::StartTls ? net::Tls::StartTls
                                                : net::Tls::None;
    ep.allow_insecure = s.allow_insecure;
    ep.ca_file = s.ca_file;
    ep.username = s.username;
    ep.auth = s.auth == settings::Auth::XOAuth2 ? net::Auth::XOAuth2 : net::Auth::Password;
    ep.connect_timeout = timeout;
    if (ep.auth == net::Auth::XOAuth2 && s.oauth) {
        // The refresh-token flow, as the daemon runs it: a token from the endpoint (a rotated
        // refresh token is written back to its file), then the login with it.
        auto tokens = TokenSource::make(*s.oauth, s.ca_file);
        if (!tokens) {
            at("config");
            return std::unexpected(tokens.error());
        }
        auto token = (*tokens)->access_token();
        if (!token) {
            at("auth");
            return std::unexpected(token.error());
        }
        ep.secret = std::move(*token);
    } else if (s.secret) {
        auto secret = resolve_secret(*s.secret);
        if (!secret) {
            at("config");
            return std::unexpected(secret.error());
        }
        ep.secret = std::move(*secret);
    }
    return ep;
}

ServerCheck check_server(const char* proto, const settings::ServerConfig& s,
                         std::chrono::seconds timeout) {
    const auto where = fmt::format("{} {}:{} (tls={}) as {}", proto, s.host, s.port,
                                   settings::tls_name(s.tls), s.username);
    std::string step;
    auto ep = server_endpoint(proto, s, timeout, &step);
    if (!ep)
        return {false, step, where, ep.error().detail, ep.error().code};
    auto c = net::Connection::open(*ep);
    if (!c)
        return {false, step_of(c.error().code), where, c.error().detail, c.error().code};
    return {true, "done", where,
            fmt::format("connected{}, logged in",
                        (*c)->encrypted() ? ", TLS verified" : " without TLS"),
            ""};
}

} // namespace crm::runtime
