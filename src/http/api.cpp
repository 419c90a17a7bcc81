// The API's front door: Host/Origin checks, authentication, login throttling, static files,
// dispatch to the route groups, and errors as JSON (see api.hpp).
#include "crm/http/api.hpp"

#include <algorithm>
#include <charconv>
#include <mutex>

#include <fmt/format.h>

#include "assets.hpp"
#include "crm/core/hex.hpp"
#include "crm/core/html_escape.hpp"
#include "crm/core/utf8.hpp"
#include "crm/http/auth.hpp"
#include "internal.hpp"
#include "throttle.hpp"

namespace crm::http {

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name)
            return std::string_view(v);
    return std::nullopt;
}

void Response::set(std::string name, std::string value) {
    for (auto& [k, v] : headers)
        if (k == name) {
            v = std::move(value);
            return;
        }
    headers.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (k == name)
            return std::string_view(v);
    return std::nullopt;
}

namespace {

constexpr const char* kCookie = "crm_session";
constexpr const char* kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'";

// A dummy Argon2id hash, verified when the e-mail is unknown so both answers take as long.
const std::string& dummy_hash() {
    static const std::string h = [] {
        auto r = hash_password("not-a-real-password-dummy");
        return r ? *r : std::string();
    }();
    return h;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_space) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size())
                return std::nullopt;
            int h = hex_value(s[i + 1]), l = hex_value(s[i + 2]);
            if (h < 0 || l < 0)
                return std::nullopt;
            out += static_cast<char>(h * 16 + l);
            i += 2;
        } else if (c == '+' && plus_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> cookie_value(const Request& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k != "cookie")
            continue;
        std::string_view s = v;
        while (!s.empty()) {
            auto semi = s.find(';');
            auto part = s.substr(0, semi);
            while (!part.empty() && part.front() == ' ')
                part.remove_prefix(1);
            auto eq = part.find('=');
            if (eq != std::string_view::npos && part.substr(0, eq) == name)
                return std::string(part.substr(eq + 1));
            if (semi == std::string_view::npos)
                break;
            s.remove_prefix(semi + 1);
        }
    }
    return std::nullopt;
}

} // namespace

struct Api::Impl {
    ApiOptions options;
    BackendOpener open_db;
    Control& control;
    LoginThrottle throttle;
    HtmlCache html_cache;
    std::vector<Network> proxies;
    std::mutex pool_mu;
    std::vector<std::unique_ptr<Backend>> pool;

    Impl(ApiOptions o, BackendOpener d, Control& c)
        : options(std::move(o)), open_db(std::move(d)), control(c),
          throttle(ThrottleLimits{options.login_failures_per_pair,
                                  options.login_failures_per_client, options.login_window.count()}),
          html_cache(options.html_cache_bytes) {
        for (const auto& p : options.trusted_proxies)
            proxies.emplace_back(p);
        if (!options.clock)
            options.clock = &system_clock();
    }

    std::unique_ptr<Backend> borrow() {
        {
            std::lock_guard lock(pool_mu);
            if (!pool.empty()) {
                auto db = std::move(pool.back());
                pool.pop_back();
                db->refresh(); // this request reads the latest commits
                return db;
            }
        }
        auto db = open_db();
        if (!db)
            throw_error(503, "unavailable", "database: " + db.error().detail);
        return std::move(*db);
    }
    void give_back(std::unique_ptr<Backend> db) {
        db->refresh(); // the next request sees the latest commits
        std::lock_guard lock(pool_mu);
        if (pool.size() < 8)
            pool.push_back(std::move(db));
    }

    // The configured names, and always the loopback names with our port (local health checks
    // and the operator's browser on the host itself).
    bool host_allowed(std::string_view host) const {
        const auto h = ascii_lower(host);
        if (std::any_of(options.allowed_hosts.begin(), options.allowed_hosts.end(),
                        [&](const std::string& a) { return ascii_lower(a) == h; }))
            return true;
        const auto p = std::to_string(options.port);
        for (const char* name : {"127.0.0.1", "localhost", "[::1]"})
            if (h == std::string(name) + ":" + p || (options.port == 80 && h == name))
                return true;
        return false;
    }

    bool origin_allowed(std::string_view origin) const {
        const auto o = ascii_lower(origin);
        for (const char* scheme : {"http://", "https://"})
            if (o.starts_with(scheme) && host_allowed(o.substr(std::string_view(scheme).size())))
                return true;
        return false;
    }

    Response handle(const Request& req);
    [[nodiscard]] std::string client_of(const Request& req) const {
        std::vector<std::string_view> xff;
        for (const auto& [k, v] : req.headers)
            if (k == "x-forwarded-for")
                xff.emplace_back(v);
        return client_address(req.peer, xff, proxies);
    }
    void metrics(const Request& req, Response& res);
    void oauth_callback(const std::map<std::string, std::string>& query, std::string_view raw,
                        Response& res);
    void login(Ctx& c);
    void logout(Ctx& c);
    void authenticate(Ctx& c);
};

namespace {

// What a request's credentials say: an API token (Bearer), the session cookie, another kind of
// Authorization (refused), or none; `user` when the token or session is live.
struct Credentials {
    enum class Kind { None, Bearer, Cookie, OtherAuthorization } kind = Kind::None;
    std::optional<WebUser> user;
};

// The one reading of a request's credentials (the API's authenticate, and the server's check
// before it reads a large body). A store failure is a 500 (HttpError).
Credentials credentials_of(Logins& ws, const Request& req, std::int64_t now) {
    Credentials out;
    if (auto auth = req.header("authorization")) {
        std::string_view a = *auth;
        if (a.size() <= 7 || ascii_lower(a.substr(0, 7)) != "bearer ") {
            out.kind = Credentials::Kind::OtherAuthorization;
            return out;
        }
        out.kind = Credentials::Kind::Bearer;
        out.user = ok_or_500(ws.token_user(token_hash(a.substr(7)), now));
    } else if (auto tok = cookie_value(req, kCookie); tok && !tok->empty()) {
        out.kind = Credentials::Kind::Cookie;
        out.user = ok_or_500(ws.session_user(token_hash(*tok), now));
    }
    return out;
}

} // namespace

void send_json(Ctx& c, int status, const json::value& v) {
    c.res.status = status;
    c.res.set("Content-Type", "application/json; charset=utf-8");
    c.res.body = json::serialize(v);
}

namespace {

void error_body(Response& res, const HttpError& e) {
    res.status = e.status;
    res.set("Content-Type", "application/json; charset=utf-8");
    json::object err{{"code", e.code}, {"message", e.message}};
    if (!e.field.empty())
        err["field"] = e.field;
    if (e.position > 0)
        err["position"] = e.position;
    res.body = json::serialize(json::object{{"error", err}});
}

bool unsafe(const std::string& m) { return m != "GET" && m != "HEAD" && m != "OPTIONS"; }

// A peer on this host, as the server spells addresses (IPv4-mapped IPv6 included), that is not
// a reverse proxy forwarding someone else's request.
bool local_client(const Request& req) {
    const std::string_view ip = req.peer;
    const bool loopback = ip == "::1" || ip.starts_with("127.") || ip.starts_with("::ffff:127.");
    return loopback && !req.header("forwarded") && !req.header("x-forwarded-for") &&
           !req.header("x-real-ip");
}

} // namespace

void Api::Impl::authenticate(Ctx& c) {
    auto cred = credentials_of(c.backend.logins(), c.req, c.now);
    using Kind = Credentials::Kind;
    if (cred.kind == Kind::OtherAuthorization)
        throw_error(401, "auth.invalid", "Authorization: only Bearer tokens are accepted");
    if (cred.kind == Kind::Bearer && !cred.user)
        throw_error(401, "auth.invalid", "the API token is unknown or revoked");
    c.by_cookie = cred.kind == Kind::Cookie && cred.user;
    c.user = std::move(cred.user);
}

void Api::Impl::login(Ctx& c) {
    auto body = body_object(c);
    only_fields(body, {"email", "password"});
    auto email = ascii_lower(req_string(body, "email", 254));
    auto password = req_string(body, "password", 1024);
    const auto client = client_key(c.client);
    // The database's buckets when workers share them (PostgreSQL), else this process's.
    auto* shared = c.backend.throttle_buckets();
    if (auto wait = throttle.begin(client, email, c.now, shared).retry_after; wait > 0) {
        c.res.set("Retry-After", std::to_string(wait));
        throw_error(429, "auth.rate_limited",
                    fmt::format("too many failed logins: try again in {} s", wait));
    }
    auto& ws = c.backend.logins();
    auto found = ws.login_by_email(email);
    if (!found)
        throttle.succeeded(client, email, c.now, shared); // not the client's fault: give it back
    auto login = ok_or_500(std::move(found));
    const bool ok = login && !login->password_hash.empty()
                        ? verify_password(login->password_hash, password)
                        : (verify_password(dummy_hash(), password), false);
    if (!ok) {
        const auto lockout = throttle.failed(client, email, c.now, shared);
        if (lockout != LoginThrottle::Lockout::None && options.log)
            options.log(LogLevel::Warning, {}, "auth",
                        lockout == LoginThrottle::Lockout::Client
                            ? fmt::format("login: client {} is throttled after {} failed logins "
                                          "(any account) within {} s",
                                          client, options.login_failures_per_client,
                                          options.login_window.count())
                            : fmt::format("login: client {} is throttled for {} after {} failed "
                                          "logins within {} s",
                                          client, email, options.login_failures_per_pair,
                                          options.login_window.count()));
        throw_error(401, "auth.invalid", "wrong e-mail or password");
    }
    throttle.succeeded(client, email, c.now, shared);
    const auto& user = login->user;
    auto token = new_token();
    auto ua = c.req.header("user-agent").value_or("");
    // In a write transaction: the password check took a while, and a write from the snapshot
    // read before it would fail with SQLITE_BUSY_SNAPSHOT if the daemon committed meanwhile.
    ok_or_500(c.backend.work().transaction([&] {
        return ws.create_session(token_hash(token), user.id, c.now,
                                 c.now + options.session_ttl.count(), c.client, std::string(ua));
    }));
    c.res.set("Set-Cookie", fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{}",
                                        kCookie, token, options.session_ttl.count(),
                                        options.secure_cookie ? "; Secure" : ""));
    send_json(c, 200, json::object{{"user", user_json(user)}});
}

void Api::Impl::logout(Ctx& c) {
    if (auto tok = cookie_value(c.req, kCookie); tok && !tok->empty()) {
        auto& ws = c.backend.logins();
        ok_or_500(
            c.backend.work().transaction([&] { return ws.delete_session(token_hash(*tok)); }));
    }
    c.res.set("Set-Cookie", fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
                                        kCookie, options.secure_cookie ? "; Secure" : ""));
    c.res.status = 204;
}

// The OAuth provider's redirect after an admin's consent from the admin page (the redirect
// flow). No session: the session cookie is SameSite=Strict, so the browser does not send it on
// a redirect from the provider's site. The request is tied to the pending consent by its
// `state` (192 random bits, one use, 15 minutes), and the code is redeemed with the PKCE
// verifier that never left the daemon. The answer is a small page for the admin's browser.
void Api::Impl::oauth_callback(const std::map<std::string, std::string>& query,
                               std::string_view raw, Response& res) {
    const auto state = query.find("state");
    Result<std::string> done =
        state == query.end() || state->second.empty()
            ? fail("oauth.consent", "the provider's redirect carries no state")
            : control.complete_consent(state->second, raw);
    std::string title = "Access granted";
    std::string text;
    if (done) {
        res.status = 200;
        text = fmt::format("crm-mail has the access it asked for to the mailbox of account {}; "
                           "the account logs in again. You can close this window.",
                           *done);
        if (options.log)
            options.log(LogLevel::Info, {*done, ""}, "oauth",
                        "access granted from the admin page: the provider's redirect came back");
    } else {
        // A request that is not pending is the redirect's fault (400); the provider's refusal
        // or failure is a bad gateway (502); anything else, such as the token file that
        // cannot be written, is ours (500).
        res.status = done.error().code == "oauth.consent" ? 400
                     : done.error().code == "net.oauth"   ? 502
                                                          : 500;
        title = "Access not granted";
        text = done.error().detail;
        if (options.log)
            options.log(LogLevel::Warning, {}, "oauth",
                        "an OAuth redirect was not accepted: " + done.error().to_string());
    }
    res.set("Content-Type", "text/html; charset=utf-8");
    res.set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; "
                                       "form-action 'none'; frame-ancestors 'none'");
    res.set("X-Frame-Options", "DENY");
    res.body = fmt::format("<!doctype html><html><head><meta charset=\"utf-8\"><title>crm-mail: "
                           "{0}</title></head><body><h1>{0}</h1><p>{1}</p><p><a href=\"/\">Back "
                           "to crm-mail</a></p></body></html>\n",
                           html_escaped(title), html_escaped(text));
}

// /metrics names the accounts: local clients only, or a Bearer token equal to the configured
// one (compared in constant time).
void Api::Impl::metrics(const Request& req, Response& res) {
    if (!local_client(req)) {
        if (options.metrics_token.empty())
            throw_error(403, "forbidden",
                        "/metrics is served to local clients only (set http.metrics_token_file "
                        "to allow others with a token)");
        const auto auth = req.header("authorization").value_or("");
        if (auth.size() <= 7 || ascii_lower(auth.substr(0, 7)) != "bearer " ||
            !same_secret(auth.substr(7), options.metrics_token)) {
            res.set("WWW-Authenticate", "Bearer");
            throw_error(401, "auth.required", "/metrics needs the metrics token (Bearer)");
        }
    }
    res.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    res.body = control.metrics();
    const auto h = html_cache.stats();
    res.body += fmt::format(
        "# HELP crm_html_cache_hits_total Thread views served a sanitised HTML body from memory.\n"
        "# TYPE crm_html_cache_hits_total counter\ncrm_html_cache_hits_total {}\n"
        "# HELP crm_html_cache_misses_total HTML bodies sanitised (first views, evictions).\n"
        "# TYPE crm_html_cache_misses_total counter\ncrm_html_cache_misses_total {}\n"
        "# HELP crm_html_cache_bytes Memory held by sanitised HTML bodies.\n"
        "# TYPE crm_html_cache_bytes gauge\ncrm_html_cache_bytes {}\n",
        h.hits, h.misses, h.bytes);
}

Response Api::Impl::handle(const Request& req) {
    Response res;
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Cache-Control", "no-store");
    std::unique_ptr<Backend> db;
    try {
        // RFC 9112 §3.2: more than one Host field is a bad request, not a choice to make.
        if (std::count_if(req.headers.begin(), req.headers.end(),
                          [](const auto& h) { return h.first == "host"; }) > 1)
            throw_error(400, "host.invalid", "more than one Host header");
        const auto host = req.header("host");
        if (!host || !host_allowed(*host))
            throw_error(421, "host.invalid",
                        fmt::format("Host '{}' is not served here (allowed: the configured "
                                    "http.allowed_hosts, or loopback)",
                                    host.value_or("")));
        std::string_view target = req.target;
        auto qpos = target.find('?');
        auto raw_path = target.substr(0, qpos);
        auto path = percent_decode(raw_path, false);
        if (!path || path->empty() || path->front() != '/' ||
            path->find('\0') != std::string::npos)
            throw_error(400, "invalid", "malformed request path");
        std::map<std::string, std::string> query;
        if (qpos != std::string_view::npos) {
            std::string_view q = target.substr(qpos + 1);
            while (!q.empty()) {
                auto amp = q.find('&');
                auto kv = q.substr(0, amp);
                auto eq = kv.find('=');
                auto k = percent_decode(kv.substr(0, eq), true);
                auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                                      : percent_decode(kv.substr(eq + 1), true);
                if (!k || !v)
                    throw_error(400, "invalid", "malformed query string");
                query[*k] = *v;
                if (amp == std::string_view::npos)
                    break;
                q.remove_prefix(amp + 1);
            }
        }

        if (*path == "/oauth/callback") {
            if (req.method != "GET")
                throw_error(405, "method_not_allowed", "the provider's redirect is a GET");
            oauth_callback(
                query,
                qpos == std::string_view::npos ? std::string_view() : target.substr(qpos + 1), res);
            return res;
        }
        // Static files of the web page.
        if (!path->starts_with("/api/") && *path != "/healthz" && *path != "/metrics") {
            if (req.method != "GET" && req.method != "HEAD")
                throw_error(405, "method_not_allowed", "the page's files are GET only");
            const Asset* a = find_asset(*path == "/" ? "/index.html" : *path);
            if (!a)
                not_found("path " + *path);
            res.status = 200;
            res.set("Content-Type", std::string(a->content_type));
            res.set("Content-Security-Policy", kPageCsp);
            res.set("X-Frame-Options", "DENY");
            res.set("Cache-Control", "no-cache");
            res.body = std::string(a->data);
            return res;
        }
        if (*path == "/healthz") {
            const Health h = control.health();
            res.set("Content-Type", "application/json");
            res.set("Cache-Control", "no-store");
            res.status = h.database_reachable ? 200 : 503;
            if (!h.worker) {
                res.body = h.database_reachable ? R"({"status":"ok"})"
                                                : R"({"status":"unavailable","database":false})";
                return res;
            }
            json::object o;
            o["status"] = h.database_reachable ? "ok" : "unavailable";
            o["database"] = h.database_reachable;
            o["worker"] = *h.worker;
            o["leases"] = h.leases;
            res.body = json::serialize(o);
            return res;
        }
        if (*path == "/metrics") {
            metrics(req, res);
            return res;
        }
        if (!path->starts_with("/api/v1/") && *path != "/api/v1")
            not_found("API version of " + *path);

        // CSRF: a browser's unsafe request carries Origin; it must be ours.
        const auto origin = req.header("origin");
        if (unsafe(req.method) && origin && !origin_allowed(*origin))
            throw_error(403, "csrf.origin",
                        fmt::format("Origin '{}' may not change anything here", *origin));
        if (unsafe(req.method) && !req.body.empty()) {
            auto ct = ascii_lower(req.header("content-type").value_or(""));
            if (!ct.starts_with("application/json"))
                throw_error(415, "unsupported_media_type",
                            "request bodies must be Content-Type: application/json");
        }

        db = borrow();
        Ctx c{req,          res,     *db,
              *path,        {},      std::move(query),
              std::nullopt, false,   options.clock->now(),
              control,      options, client_of(req),
              &html_cache};
        std::string_view rest = std::string_view(*path).substr(std::string_view("/api/v1").size());
        while (!rest.empty()) {
            if (rest.front() == '/') {
                rest.remove_prefix(1);
                continue;
            }
            auto slash = rest.find('/');
            c.seg.emplace_back(rest.substr(0, slash));
            if (slash == std::string_view::npos)
                break;
            rest.remove_prefix(slash);
        }
        if (c.seg.size() == 2 && c.seg[0] == "auth" && c.seg[1] == "login") {
            if (req.method != "POST")
                throw_error(405, "method_not_allowed", "use POST");
            login(c);
        } else if (c.seg.size() == 2 && c.seg[0] == "auth" && c.seg[1] == "logout") {
            if (req.method != "POST")
                throw_error(405, "method_not_allowed", "use POST");
            if (cookie_value(req, kCookie) && !origin)
                throw_error(403, "csrf.origin", "logging out needs the browser's Origin header");
            logout(c);
        } else {
            authenticate(c);
            if (!c.user)
                throw_error(401, "auth.required", "log in first");
            if (unsafe(req.method) && c.by_cookie && !origin)
                throw_error(403, "csrf.origin",
                            "a cookie-authenticated change needs the browser's Origin header");
            if (!route_views(c) && !route_followups(c) && !route_activity(c) && !route_compose(c) &&
                !route_html(c) && !route_admin(c))
                not_found("path " + *path);
        }
    } catch (const HttpError& e) {
        error_body(res, e);
    } catch (const std::exception& e) {
        error_body(res, HttpError{500, "internal", e.what(), {}});
    }
    if (db)
        give_back(std::move(db));
    return res;
}

Api::Api(ApiOptions options, BackendOpener open_db, Control& control)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(open_db), control)) {}
Api::~Api() = default;
Response Api::handle(const Request& request) { return impl_->handle(request); }

bool Api::authenticated(const Request& head) {
    try {
        auto db = impl_->borrow();
        const bool ok =
            credentials_of(db->logins(), head, impl_->options.clock->now()).user.has_value();
        impl_->give_back(std::move(db));
        return ok;
    } catch (...) { // the database is not reachable (HttpError), or worse: the body is not read
        return false;
    }
}

std::size_t Api::body_limit(std::string_view method, std::string_view target) const {
    if (method != "POST")
        return kMaxRequestBody;
    target = target.substr(0, target.find('?'));
    // /api/v1/threads/{id}/reply and /api/v1/deals/{id}/mail
    for (auto [prefix, suffix] :
         {std::pair{std::string_view("/api/v1/threads/"), std::string_view("/reply")},
          std::pair{std::string_view("/api/v1/deals/"), std::string_view("/mail")}}) {
        if (!target.starts_with(prefix) || !target.ends_with(suffix) ||
            target.size() <= prefix.size() + suffix.size())
            continue;
        const auto id = target.substr(prefix.size(), target.size() - prefix.size() - suffix.size());
        if (std::all_of(id.begin(), id.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
            return compose_body_limit(impl_->options.compose);
    }
    return kMaxRequestBody;
}
void Api::set_port(std::uint16_t port) { impl_->options.port = port; }

// --- shared helpers (internal.hpp)

void raise_error(const Error& e) {
    const std::string_view code = e.code;
    if (code.ends_with(".not_found"))
        throw_error(404, "not_found", e.detail);
    if (code == "thread.shared")
        throw_error(409, "thread_shared", e.detail);
    if (code == "thread.split_whole")
        throw_error(409, "split_whole", e.detail);
    if (code == "deal.unknown")
        invalid("deal_id", e.detail);
    if (code == "reply.account_unknown")
        invalid("account", e.detail);
    if (code == "reply.account_not_yours")
        throw_error(403, "forbidden", e.detail, "account");
    if (code == "reply.parent_not_in_thread")
        invalid("parent_id", e.detail);
    if (code == "reply.no_parent" || code == "reply.no_account")
        throw_error(409, "conflict", e.detail);
    if (code.starts_with("reply.invalid.")) // the caller's list that holds the bad address
        invalid(std::string(code.substr(std::string_view("reply.invalid.").size())), e.detail);
    if (code == "reply.invalid") // no recipient left: name one in "to"
        invalid("to", e.detail);
    if (code == "compose.too_large")
        throw_error(413, "too_large", e.detail, "attachments");
    if (code.starts_with("compose.invalid.")) // the field: subject, attachments
        invalid(std::string(code.substr(std::string_view("compose.invalid.").size())), e.detail);
    if (code == "draft.too_many")
        throw_error(409, "conflict", e.detail);
    throw_error(500, "internal", e.detail);
}

json::object body_object(const Ctx& c) {
    if (c.req.body.empty())
        throw_error(400, "invalid", "a JSON object body is required");
    boost::system::error_code ec;
    json::parse_options po;
    po.max_depth = 16;
    auto v = json::parse(c.req.body, ec, {}, po);
    if (ec)
        throw_error(400, "invalid", "the body is not valid JSON: " + ec.message());
    if (!v.is_object())
        throw_error(400, "invalid", "the body must be a JSON object");
    return std::move(v.as_object());
}

void only_fields(const json::object& o, std::initializer_list<std::string_view> allowed,
                 const std::string& prefix) {
    for (const auto& kv : o)
        if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end())
            invalid(prefix + std::string(kv.key()), "is not a known field");
}

std::optional<std::string> opt_string(const json::object& o, const char* field,
                                      std::size_t max_len) {
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null())
        return std::nullopt;
    if (!it->value().is_string())
        invalid(field, "must be a string");
    std::string s(it->value().as_string());
    if (s.size() > max_len)
        invalid(field, fmt::format("longer than {} bytes", max_len));
    return s;
}

std::string req_string(const json::object& o, const char* field, std::size_t max_len) {
    auto s = opt_string(o, field, max_len);
    if (!s || s->empty())
        invalid(field, "is required");
    return *s;
}

std::optional<std::int64_t> opt_int(const json::object& o, const char* field) {
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null())
        return std::nullopt;
    if (it->value().is_int64())
        return it->value().as_int64();
    if (it->value().is_uint64() && it->value().as_uint64() <= INT64_MAX)
        return static_cast<std::int64_t>(it->value().as_uint64());
    invalid(field, "must be an integer");
}

std::optional<bool> opt_bool(const json::object& o, const char* field) {
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null())
        return std::nullopt;
    if (!it->value().is_bool())
        invalid(field, "must be true or false");
    return it->value().as_bool();
}

std::vector<std::string> opt_string_list(const json::object& o, const char* field,
                                         std::size_t max_items, std::size_t max_len) {
    std::vector<std::string> out;
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null())
        return out;
    if (!it->value().is_array())
        invalid(field, "must be an array of strings");
    const auto& arr = it->value().as_array();
    if (arr.size() > max_items)
        invalid(field, fmt::format("more than {} entries", max_items));
    for (const auto& v : arr) {
        if (!v.is_string())
            invalid(field, "must be an array of strings");
        if (v.as_string().size() > max_len)
            invalid(field, fmt::format("an entry is longer than {} bytes", max_len));
        out.emplace_back(v.as_string());
    }
    return out;
}

std::int64_t id_segment(const std::string& s, const char* what) {
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v <= 0)
        throw_error(404, "not_found", fmt::format("{} '{}' not found", what, s));
    return v;
}

std::int64_t query_int(const Ctx& c, const char* name, std::int64_t min, std::int64_t max,
                       std::int64_t fallback) {
    auto it = c.query.find(name);
    if (it == c.query.end())
        return fallback;
    const auto& s = it->second;
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < min || v > max)
        invalid(name, fmt::format("must be a whole number from {} to {}", min, max));
    return v;
}

json::value opt_json(const std::optional<std::int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object user_json(const WebUser& u) {
    return {{"id", u.id}, {"name", u.name}, {"email", u.email}, {"role", role_name(u.role)}};
}

} // namespace crm::http
