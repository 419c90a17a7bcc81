// OAuth 2.0 consent for a mailbox (see oauth_consent.hpp).
#include "crm/runtime/oauth_consent.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "crm/core/hex.hpp"
#include "crm/mime/parse.hpp"
#include "crm/runtime/config_files.hpp"
#include "crm/runtime/secrets.hpp"

namespace crm::runtime {

namespace {

using Clock = std::chrono::steady_clock;

Error consent_error(std::string detail) {
    return Error{"oauth.consent", std::move(detail), ErrorScope::Account, Retry::NeedsConfig};
}

std::string base64url(std::string_view bytes) {
    static constexpr char kDigits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
        out += kDigits[(v >> 6) & 63];
        out += kDigits[v & 63];
    }
    if (bytes.size() - i == 1) {
        const unsigned v = at(i) << 16;
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
    } else if (bytes.size() - i == 2) {
        const unsigned v = (at(i) << 16) | (at(i + 1) << 8);
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
        out += kDigits[(v >> 6) & 63];
    }
    return out;
}

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
        const auto r = ::getrandom(out.data() + got, n - got, 0);
        if (r > 0)
            got += static_cast<std::size_t>(r);
        else if (r < 0 && errno != EINTR && errno != EAGAIN)
            throw std::runtime_error("getrandom(2) failed: no source of randomness");
    }
    return out;
}

// RFC 3986 §2.3: everything but the unreserved characters percent-encoded.
std::string url_escape(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto b = static_cast<unsigned char>(ch);
        if (std::isalnum(b) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out += ch;
        } else {
            static constexpr char kHex[] = "0123456789ABCDEF"; // RFC 3986 §2.1: upper case
            out += '%';
            out += kHex[b >> 4];
            out += kHex[b & 0x0f];
        }
    }
    return out;
}

// The value of `name` in a query string ("a=1&b=2"), or nullopt.
std::optional<std::string> query_value(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        auto eq = pair.find('=');
        if (percent_decode(pair.substr(0, eq), true) == name)
            return eq == std::string_view::npos ? std::string()
                                                : percent_decode(pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

Result<net::OAuthTokens> with_refresh_token(Result<net::OAuthTokens> t, const std::string& what) {
    if (t && t->refresh_token.empty())
        return std::unexpected(consent_error(fmt::format(
            "{} granted access but sent no refresh token: crm-mail needs one to stay logged in "
            "(Microsoft: the scope must include offline_access; Google: the consent must be "
            "given again, access_type=offline and prompt=consent are asked for)",
            what)));
    return t;
}

// The provider's final answers in words an admin acts on; the endpoint's own text stays.
Error refusal(Error e) {
    const auto has = [&](std::string_view code) {
        return e.detail.find(": " + std::string(code)) != std::string::npos;
    };
    if (has("access_denied") || has("authorization_declined"))
        e.detail = "access was refused on the provider's page: " + e.detail;
    else if (has("expired_token"))
        e.detail = "the code expired before access was granted: " + e.detail;
    return e;
}

// Polls the token endpoint until the admin answers (RFC 8628 §3.4, §3.5).
Result<net::OAuthTokens> wait_for_device(const OAuthRefresh& cfg, const net::OAuthClient& client,
                                         const ConsentOptions& opt,
                                         const net::DeviceAuthorization& d,
                                         const std::function<bool()>& stopped) {
    const auto deadline = Clock::now() + std::min(d.expires_in, opt.timeout);
    auto interval = d.interval;
    const bool code_limits = d.expires_in <= opt.timeout;
    for (;;) {
        if (Clock::now() + interval >= deadline)
            return std::unexpected(consent_error(
                code_limits
                    ? fmt::format("{}: the code expired before access was granted; ask "
                                  "again",
                                  cfg.device_endpoint)
                    : fmt::format("no answer within {} s; ask again", opt.timeout.count())));
        // Waits in short steps, so that a stop request ends the wait soon.
        const auto wake = Clock::now() + interval;
        while (Clock::now() < wake) {
            if (stopped && stopped())
                return std::unexpected(consent_error("stopped before access was granted"));
            std::this_thread::sleep_for(
                std::min<Clock::duration>(wake - Clock::now(), std::chrono::milliseconds(200)));
        }
        auto p = net::poll_device_code(client, d.device_code);
        if (!p && p.error().retry != Retry::NeedsConfig) {
            // A network error or a 5xx: the code is still good, ask again next time.
            if (opt.say)
                opt.say("(the token endpoint failed, still waiting: " + p.error().detail + ")");
            continue;
        }
        if (!p)
            return std::unexpected(refusal(p.error()));
        switch (p->state) {
        case net::DevicePoll::State::Granted:
            return with_refresh_token(std::move(p->tokens), cfg.token_endpoint);
        case net::DevicePoll::State::SlowDown:
            interval += std::chrono::seconds(5); // RFC 8628 §3.5
            break;
        case net::DevicePoll::State::Pending:
            break;
        }
    }
}

Result<net::OAuthTokens> device_flow(const OAuthRefresh& cfg, const net::OAuthClient& client,
                                     const ConsentOptions& opt) {
    auto d = net::request_device_code(client, cfg.device_endpoint, cfg.scope);
    if (!d)
        return std::unexpected(d.error());
    if (opt.say) {
        if (!d->message.empty())
            opt.say(d->message);
        else
            opt.say(fmt::format("To grant crm-mail access, open {} and enter the code {}",
                                d->verification_uri, d->user_code));
        if (!d->verification_uri_complete.empty())
            opt.say(fmt::format("(or open {})", d->verification_uri_complete));
        opt.say(fmt::format("Waiting up to {} s for the answer...",
                            std::min(d->expires_in, opt.timeout).count()));
    }
    return wait_for_device(cfg, client, opt, *d, {});
}

// A socket closed when it goes out of scope.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

// Waits for `fd` to be readable until `deadline`; false when the time is up.
bool wait_readable(int fd, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0)
            return false;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

void answer_page(int fd, int status, const std::string& text) {
    const std::string body =
        "<!doctype html><meta charset=utf-8><title>crm-mail</title><p>" + text + "</p>\n";
    const std::string resp =
        fmt::format("HTTP/1.1 {} {}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                    "{}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{}",
                    status, status == 200 ? "OK" : "Bad Request", body.size(), body);
    std::size_t sent = 0;
    while (sent < resp.size()) {
        const auto n = ::send(fd, resp.data() + sent, resp.size() - sent, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        sent += static_cast<std::size_t>(n);
    }
}

// The provider's answer of "no" in a redirect (RFC 6749 §4.1.2.1), worded for the admin.
Error redirect_refusal(const OAuthRefresh& cfg, const std::string& error,
                       const std::optional<std::string>& description) {
    return refusal(Error{"net.oauth",
                         fmt::format("{}: {}{}", cfg.authorize_endpoint, error,
                                     description ? " (" + *description + ")" : std::string()),
                         ErrorScope::Account, Retry::NeedsConfig});
}

Result<net::OAuthTokens> loopback_flow(const OAuthRefresh& cfg, const net::OAuthClient& client,
                                       const ConsentOptions& opt) {
    Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.fd < 0)
        return std::unexpected(consent_error("cannot open a loopback socket"));
    const int one = 1;
    ::setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK); // never reachable from another host
    addr.sin_port = htons(opt.port);
    if (::bind(listener.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener.fd, 4) != 0)
        return std::unexpected(consent_error(fmt::format(
            "cannot listen on 127.0.0.1:{} for the redirect (in use?); pick another --port",
            opt.port)));
    socklen_t len = sizeof addr;
    ::getsockname(listener.fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const std::string redirect_uri = fmt::format("http://127.0.0.1:{}/", ntohs(addr.sin_port));
    const RedirectConsent request = redirect_request(cfg, opt, redirect_uri);
    const std::string& state = request.state;
    const std::string& url = request.authorize_url;
    if (opt.say) {
        opt.say("To grant crm-mail access, open this address in a browser on this host (or "
                "forward the port: ssh -L " +
                std::to_string(ntohs(addr.sin_port)) +
                ":127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + " this-host):");
        opt.say(url);
        opt.say(fmt::format("Waiting up to {} s for the provider's redirect to {} ...",
                            opt.timeout.count(), redirect_uri));
    }
    const auto deadline = Clock::now() + opt.timeout;
    for (;;) {
        if (!wait_readable(listener.fd, deadline))
            return std::unexpected(
                consent_error(fmt::format("no redirect reached {} in {} s; run the command again",
                                          redirect_uri, opt.timeout.count())));
        Fd conn(::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (conn.fd < 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100)); // EMFILE and the like
            continue;
        }
        // The request line and headers; 16 KiB is plenty for a redirect.
        std::string req;
        const auto read_deadline = std::min(deadline, Clock::now() + std::chrono::seconds(10));
        while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
            if (!wait_readable(conn.fd, read_deadline))
                break;
            char buf[4096];
            const auto n = ::recv(conn.fd, buf, sizeof buf, 0);
            if (n <= 0)
                break;
            req.append(buf, static_cast<std::size_t>(n));
        }
        const auto line_end = req.find("\r\n");
        const std::string_view line = std::string_view(req).substr(0, line_end);
        if (!line.starts_with("GET ")) {
            answer_page(conn.fd, 400, "crm-mail expected the provider's redirect here.");
            continue;
        }
        const auto sp = line.find(' ', 4);
        const std::string_view target = line.substr(4, sp == std::string_view::npos ? 0 : sp - 4);
        const auto q = target.find('?');
        const std::string_view query =
            q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
        const auto got_state = query_value(query, "state");
        const auto code = query_value(query, "code");
        const auto error = query_value(query, "error");
        if (!code && !error) {
            answer_page(conn.fd, 400, "Not the redirect crm-mail is waiting for."); // a favicon
            continue;
        }
        if (got_state != state) {
            // A redirect that does not answer this request (RFC 6749 §10.12): refused, and the
            // wait goes on for the real one.
            answer_page(conn.fd, 400, "This answer does not belong to the request crm-mail made.");
            if (opt.say)
                opt.say("ignored a redirect whose state does not match this request");
            continue;
        }
        if (error) {
            answer_page(conn.fd, 200, "Access was not granted. You can close this window.");
            return std::unexpected(
                redirect_refusal(cfg, *error, query_value(query, "error_description")));
        }
        auto t = net::redeem_authorization_code(client, *code, redirect_uri, request.verifier);
        answer_page(conn.fd, 200,
                    t ? "crm-mail has the access it asked for. You can close this window."
                      : "crm-mail could not redeem the code; see the command's output.");
        return with_refresh_token(std::move(t), cfg.token_endpoint);
    }
}

} // namespace

std::string pkce_challenge(const std::string& verifier) {
    const std::string hex = mime::sha256_hex(verifier);
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        raw += static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1]));
    return base64url(raw);
}

Pkce make_pkce() {
    Pkce p;
    p.verifier = base64url(random_bytes(48)); // 64 characters of [A-Za-z0-9-_]
    p.challenge = pkce_challenge(p.verifier);
    return p;
}

RedirectConsent redirect_request(const OAuthRefresh& cfg, const ConsentOptions& opt,
                                 const std::string& redirect_uri) {
    const Pkce pkce = make_pkce();
    RedirectConsent r;
    r.state = base64url(random_bytes(24));
    r.verifier = pkce.verifier;
    r.redirect_uri = redirect_uri;
    r.authorize_url = cfg.authorize_endpoint;
    r.authorize_url += r.authorize_url.find('?') == std::string::npos ? '?' : '&';
    r.authorize_url += "response_type=code&client_id=" + url_escape(cfg.client_id) +
                       "&redirect_uri=" + url_escape(redirect_uri) +
                       "&scope=" + url_escape(cfg.scope) + "&state=" + r.state +
                       "&code_challenge=" + pkce.challenge +
                       "&code_challenge_method=S256&access_type=offline&prompt=consent";
    if (!opt.login_hint.empty())
        r.authorize_url += "&login_hint=" + url_escape(opt.login_hint);
    return r;
}

namespace {
net::OAuthClient client_of(const OAuthRefresh& cfg, const ConsentOptions& opt) {
    net::OAuthClient client;
    client.token_endpoint = cfg.token_endpoint;
    client.client_id = cfg.client_id;
    client.client_secret = opt.client_secret;
    client.ca_file = opt.ca_file;
    return client;
}
} // namespace

Result<net::DeviceAuthorization> begin_device_consent(const OAuthRefresh& cfg,
                                                      const ConsentOptions& opt) {
    if (cfg.device_endpoint.empty())
        return std::unexpected(consent_error(
            "the account has no device authorization endpoint (oauth_device_endpoint; Google "
            "offers no device flow for mail): run crm-mailctl accounts oauth NAME, whose "
            "loopback flow needs a browser on the host or an ssh tunnel"));
    if (cfg.scope.empty())
        return std::unexpected(consent_error(
            "no scope to ask for: set oauth_scope (or provider = \"gmail\" | \"microsoft365\")"));
    return net::request_device_code(client_of(cfg, opt), cfg.device_endpoint, cfg.scope);
}

Result<net::OAuthTokens> finish_device_consent(const OAuthRefresh& cfg, const ConsentOptions& opt,
                                               const net::DeviceAuthorization& d,
                                               const std::function<bool()>& stopped) {
    return wait_for_device(cfg, client_of(cfg, opt), opt, d, stopped);
}

Result<RedirectConsent> begin_redirect_consent(const OAuthRefresh& cfg, const ConsentOptions& opt,
                                               const std::string& redirect_uri) {
    if (cfg.authorize_endpoint.empty())
        return std::unexpected(consent_error(
            "no authorization endpoint for the redirect flow: set oauth_authorize_endpoint"));
    if (cfg.scope.empty())
        return std::unexpected(consent_error(
            "no scope to ask for: set oauth_scope (or provider = \"gmail\" | \"microsoft365\")"));
    return redirect_request(cfg, opt, redirect_uri);
}

Result<net::OAuthTokens> finish_redirect_consent(const OAuthRefresh& cfg, const ConsentOptions& opt,
                                                 const RedirectConsent& request,
                                                 std::string_view query) {
    const auto code = query_value(query, "code");
    const auto error = query_value(query, "error");
    if (query_value(query, "state") != request.state)
        return std::unexpected(
            consent_error("the redirect does not answer this request (its state differs)"));
    if (error)
        return std::unexpected(
            redirect_refusal(cfg, *error, query_value(query, "error_description")));
    if (!code || code->empty())
        return std::unexpected(consent_error("the redirect carries neither a code nor an error"));
    return with_refresh_token(net::redeem_authorization_code(client_of(cfg, opt), *code,
                                                             request.redirect_uri,
                                                             request.verifier),
                              cfg.token_endpoint);
}

Result<net::OAuthTokens> obtain_consent(const OAuthRefresh& cfg, const ConsentOptions& opt) {
    const net::OAuthClient client = client_of(cfg, opt);
    auto flow = opt.flow;
    if (flow == ConsentOptions::Flow::Auto)
        flow = !cfg.device_endpoint.empty() ? ConsentOptions::Flow::Device
                                            : ConsentOptions::Flow::Loopback;
    if (cfg.scope.empty())
        return std::unexpected(consent_error(
            "no scope to ask for: set oauth_scope (or provider = \"gmail\" | \"microsoft365\")"));
    if (flow == ConsentOptions::Flow::Device) {
        if (cfg.device_endpoint.empty())
            return std::unexpected(consent_error(
                "no device authorization endpoint: set oauth_device_endpoint, or use the "
                "loopback flow (Google offers no device flow for mail)"));
        return device_flow(cfg, client, opt);
    }
    if (cfg.authorize_endpoint.empty())
        return std::unexpected(consent_error(
            "no authorization endpoint for the loopback flow: set oauth_authorize_endpoint"));
    return loopback_flow(cfg, client, opt);
}

Result<OAuthRefresh> consent_target(const AccountConfig& account, ConsentOptions& opt) {
    const ServerConfig* server = account.imap.oauth ? &account.imap : nullptr;
    if (!server && account.smtp && account.smtp->oauth)
        server = &*account.smtp;
    if (!server)
        return std::unexpected(consent_error(
            "account " + account.name +
            " does not use the OAuth refresh flow (auth = \"xoauth2\" with oauth_client_id and "
            "oauth_refresh_token_file)"));
    const OAuthRefresh& oauth = *server->oauth;
    if (oauth.refresh_token.kind != SecretRef::Kind::File)
        return std::unexpected(consent_error(
            "account " + account.name +
            " reads its refresh token from an environment variable, credential or the config "
            "itself, which crm-mail cannot write: set oauth_refresh_token_file"));
    if (oauth.client_secret) {
        auto cs = resolve_secret(*oauth.client_secret);
        if (!cs)
            return std::unexpected(cs.error());
        opt.client_secret = std::move(*cs);
    }
    opt.ca_file = server->ca_file;
    opt.login_hint = server->username;
    return oauth;
}

Result<void> store_refresh_token(const SecretRef& ref, const std::string& token) {
    if (ref.kind != SecretRef::Kind::File) {
        const char* where = ref.kind == SecretRef::Kind::Env          ? "environment variable"
                            : ref.kind == SecretRef::Kind::Credential ? "systemd credential"
                                                                      : "config file (inline)";
        return fail("oauth.rotation",
                    fmt::format("the refresh token comes from the {}{}{}, which crm-mail cannot "
                                "write; use oauth_refresh_token_file",
                                where, ref.kind == SecretRef::Kind::Inline ? "" : " ",
                                ref.kind == SecretRef::Kind::Inline ? "" : ref.value),
                    ErrorScope::Account, Retry::NeedsConfig);
    }
    // The file keeps its owner (else the service user's, when root); its mode becomes 0600.
    std::optional<std::pair<uid_t, gid_t>> owner = service_owner();
    struct stat st {};
    if (::stat(ref.value.c_str(), &st) == 0)
        owner = std::pair{st.st_uid, st.st_gid};
    auto w = write_atomic(ref.value, token + "\n", 0600, owner, false);
    if (!w)
        return fail("oauth.rotation", w.error().detail, ErrorScope::Account, Retry::NeedsConfig);
    return {};
}

} // namespace crm::runtime
