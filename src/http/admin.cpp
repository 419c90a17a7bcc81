// The admin's routes: mail accounts (list, add, edit/disable, test connection, resync, health).
#include <algorithm>

#include <fmt/format.h>

#include "crm/core/account_config.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

const char* auth_name(Auth a) {
    return a == Auth::XOAuth2 ? "xoauth2" : "password";
}

json::value server_json(const ServerConfig& s) {
    return json::object{
        {"host", s.host},
        {"port", s.port},
        {"tls", tls_name(s.tls)},
        {"username", s.username},
        {"auth", auth_name(s.auth)},
        // The admin page can grant access (POST .../oauth): by the device flow,
        // or by the redirect flow to /oauth/callback.
        {"oauth_device", s.oauth.has_value() && !s.oauth->device_endpoint.empty()},
        {"oauth_authorize", s.oauth.has_value() && !s.oauth->authorize_endpoint.empty()},
        {"allow_insecure", s.allow_insecure},
        {"ca_file", s.ca_file}};
}

json::object account_json(const AccountConfig& a, const AccountRow* h) {
    json::object o{{"name", a.name},
                   {"address", a.address},
                   {"owner_id", a.owner_id},
                   {"enabled", a.enabled},
                   {"mirror_seen", a.mirror_seen},
                   {"fallback_charset", a.fallback_charset},
                   {"imap", server_json(a.imap)},
                   {"smtp", a.smtp ? server_json(*a.smtp) : json::value(nullptr)}};
    o["state"] = health_name(!a.enabled ? HealthState::Disabled : h ? h->state : HealthState::New);
    o["last_success_at"] = h ? opt_json(h->last_success_at) : nullptr;
    o["last_error_at"] = h ? opt_json(h->last_error_at) : nullptr;
    o["last_error_class"] = h ? h->last_error_class : "";
    o["last_error"] = h ? h->last_error : "";
    o["messages_synced"] = h ? h->messages : 0;
    o["lag_seconds"] = h ? opt_json(h->lag_seconds) : nullptr;
    o["mailboxes"] = h ? h->mailboxes : 0;
    o["backfill_pending"] = h ? h->backfill_pending : 0;
    o["initial"] = json::object{{"done", h ? h->initial_done : 0},
                                {"total", h ? h->initial_total : 0},
                                {"started_at", h ? opt_json(h->initial_started_at) : nullptr}};
    return o;
}

void require_admin(const Ctx& c) {
    if (!c.admin())
        throw_error(403, "forbidden", "only admins manage mail accounts");
}

std::vector<AccountRow> health(Ctx& c) {
    return ok_or_500(c.backend.reads().accounts());
}

const AccountRow* find_row(const std::vector<AccountRow>& rows, const std::string& name) {
    for (const auto& r : rows)
        if (r.name == name)
            return &r;
    return nullptr;
}

std::optional<AccountConfig> find_config(Ctx& c, const std::string& name) {
    for (auto& a : c.control.accounts())
        if (a.name == name)
            return a;
    return std::nullopt;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; });
}

std::string checked(const std::string& field, std::string v) {
    if (has_control(v))
        invalid(field, "contains control characters");
    return v;
}

// Applies a server object ({host, port, tls, username, auth, password, allow_insecure}) onto
// `s`. Returns the password if one was given.
std::optional<std::string> apply_server(const json::object& o, const std::string& prefix,
                                        ServerConfig& s, bool creating,
                                        const std::string& default_user) {
    only_fields(o, {"host", "port", "tls", "username", "auth", "password", "allow_insecure",
                    "ca_file"},
                prefix + ".");
    if (auto h = opt_string(o, "host", 253))
        s.host = checked(prefix + ".host", *h);
    if (s.host.empty())
        invalid(prefix + ".host", "is required");
    if (auto t = opt_string(o, "tls", 16)) {
        if (*t == "implicit")
            s.tls = Tls::Implicit;
        else if (*t == "starttls")
            s.tls = Tls::StartTls;
        else if (*t == "none")
            s.tls = Tls::None;
        else
            invalid(prefix + ".tls", "must be implicit, starttls or none");
    }
    if (auto p = opt_int(o, "port")) {
        if (*p < 1 || *p > 65535)
            invalid(prefix + ".port", "must be 1-65535");
        s.port = static_cast<std::uint16_t>(*p);
    } else if (creating) {
        s.port = 0; // the config's default for the TLS mode
    }
    if (auto u = opt_string(o, "username", 254))
        s.username = checked(prefix + ".username", *u);
    if (s.username.empty())
        s.username = default_user;
    if (auto a = opt_string(o, "auth", 16)) {
        if (*a == "password")
            s.auth = Auth::Password;
        else if (*a == "xoauth2")
            s.auth = Auth::XOAuth2;
        else
            invalid(prefix + ".auth", "must be password or xoauth2");
    }
    if (auto ai = opt_bool(o, "allow_insecure"))
        s.allow_insecure = *ai;
    if (auto ca = opt_string(o, "ca_file", 1024)) {
        if (!ca->empty() && (ca->front() != '/' || has_control(*ca)))
            invalid(prefix + ".ca_file", "must be an absolute path");
        s.ca_file = *ca;
    }
    auto pw = opt_string(o, "password", 1024);
    if (pw && pw->empty())
        pw.reset();
    // The secret file holds one line: a CR, LF or NUL would store a different password than the
    // one given (or a second line nothing reads).
    if (pw && std::any_of(pw->begin(), pw->end(), [](char c) {
            return c == '\r' || c == '\n' || c == '\0';
        }))
        invalid(prefix + ".password", "must not contain a line break or NUL");
    if (creating && !pw && !s.secret)
        invalid(prefix + ".password", "is required");
    return pw;
}

const json::object* sub_object(const json::object& o, const char* field) {
    auto it = o.find(field);
    if (it == o.end() || it->value().is_null())
        return nullptr;
    if (!it->value().is_object())
        invalid(field, "must be an object");
    return &it->value().as_object();
}

// The fields a request body sets, nested ones as "imap.host" (names only: never values, which
// include passwords).
std::string field_names(const json::object& body) {
    std::vector<std::string> names;
    for (const auto& kv : body) {
        const std::string key(kv.key());
        if (kv.value().is_object() && !kv.value().as_object().empty())
            for (const auto& sub : kv.value().as_object())
                names.push_back(key + "." + std::string(sub.key()));
        else
            names.push_back(key);
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

// An admin change, logged with who made it and from where (event "admin").
void audit(const Ctx& c, std::string_view account, std::string_view what) {
    if (c.options.log && c.user)
        c.options.log(LogLevel::Info, {account, ""}, "admin",
                      fmt::format("{} by admin {} (user {}) from {}", what, c.user->email,
                                  c.user->id, c.client));
}

void save(Ctx& c, const AccountConfig& a, const AccountSecrets& secrets, int status,
          const json::object& body) {
    auto r = c.control.save_account(a, secrets);
    if (!r) {
        if (r.error().code == "config.invalid")
            throw_error(422, "invalid", r.error().detail, "config");
        throw_error(500, "internal", r.error().detail);
    }
    audit(c, a.name,
          fmt::format("account {} {} ({})", a.name, status == 201 ? "created" : "changed",
                      field_names(body)));
    auto rows = health(c);
    auto saved = find_config(c, a.name).value_or(a);
    send_json(c, status, json::object{{"account", account_json(saved, find_row(rows, a.name))}});
}

void create(Ctx& c) {
    auto body = body_object(c);
    only_fields(body, {"name", "owner_id", "address", "enabled", "mirror_seen", "fallback_charset",
                       "imap", "smtp"});
    AccountConfig a;
    a.name = req_string(body, "name", 64);
    if (!valid_account_name(a.name))
        invalid("name", "must be 1-64 of A-Z a-z 0-9 . _ -");
    if (find_config(c, a.name))
        throw_error(409, "conflict", fmt::format("an account named {} exists", a.name), "name");
    auto owner = opt_int(body, "owner_id");
    if (!owner || *owner <= 0)
        invalid("owner_id", "is required (a CRM user id)");
    a.owner_id = *owner;
    a.address = checked("address", req_string(body, "address", 254));
    if (a.address.find('@') == std::string::npos)
        invalid("address", "must be an e-mail address");
    a.enabled = opt_bool(body, "enabled").value_or(true);
    a.mirror_seen = opt_bool(body, "mirror_seen").value_or(false);
    if (auto cs = opt_string(body, "fallback_charset", 40))
        a.fallback_charset = checked("fallback_charset", *cs);
    AccountSecrets secrets;
    const auto* imap = sub_object(body, "imap");
    if (!imap)
        invalid("imap", "is required");
    secrets.imap_password = apply_server(*imap, "imap", a.imap, true, a.address);
    if (const auto* smtp = sub_object(body, "smtp")) {
        a.smtp.emplace();
        a.smtp->tls = Tls::Implicit;
        secrets.smtp_password = apply_server(*smtp, "smtp", *a.smtp, true, a.address);
    }
    save(c, a, secrets, 201, body);
}

void edit(Ctx& c, const std::string& name) {
    auto cur = find_config(c, name);
    if (!cur)
        not_found("account " + name);
    auto body = body_object(c);
    only_fields(body, {"name", "owner_id", "address", "enabled", "mirror_seen", "fallback_charset",
                       "imap", "smtp"});
    if (body.empty())
        throw_error(422, "invalid", "nothing to change: give at least one field");
    AccountConfig a = *cur;
    if (auto n = opt_string(body, "name", 64); n && *n != name)
        invalid("name", "cannot be changed (remove the account and add it again)");
    if (auto owner = opt_int(body, "owner_id")) {
        if (*owner <= 0)
            invalid("owner_id", "must be a CRM user id");
        a.owner_id = *owner;
    }
    if (auto addr = opt_string(body, "address", 254)) {
        if (addr->find('@') == std::string::npos)
            invalid("address", "must be an e-mail address");
        a.address = checked("address", *addr);
    }
    if (auto e = opt_bool(body, "enabled"))
        a.enabled = *e;
    if (auto m = opt_bool(body, "mirror_seen"))
        a.mirror_seen = *m;
    if (auto cs = opt_string(body, "fallback_charset", 40))
        a.fallback_charset = checked("fallback_charset", *cs);
    AccountSecrets secrets;
    if (const auto* imap = sub_object(body, "imap"))
        secrets.imap_password = apply_server(*imap, "imap", a.imap, false, a.address);
    if (const auto* smtp = sub_object(body, "smtp")) {
        const bool fresh = !a.smtp;
        if (fresh) {
            a.smtp.emplace();
            a.smtp->tls = Tls::Implicit;
        }
        secrets.smtp_password = apply_server(*smtp, "smtp", *a.smtp, fresh, a.address);
    } else if (auto it = body.find("smtp"); it != body.end() && it->value().is_null()) {
        a.smtp.reset();
    }
    save(c, a, secrets, 200, body);
}

} // namespace

namespace {

json::object quarantine_object(const QuarantineEntry& e) {
    return json::object{{"id", quarantine_id(e.key)},
                        {"account", e.account},
                        {"mailbox", e.mailbox},
                        {"uid_validity", e.key.uid_validity},
                        {"uid", e.key.uid},
                        {"attempts", e.attempts},
                        {"state", e.given_up() ? "given_up" : "retrying"},
                        {"reason", e.reason},
                        {"first_failed_at", e.first_failed_at},
                        {"last_failed_at", e.last_failed_at}};
}

// /api/v1/quarantine (admins): the messages the sync could not store; retry or drop one.
void route_quarantine(Ctx& c) {
    const auto& s = c.seg;
    auto& qa = c.backend.quarantine();
    if (s.size() == 1) {
        if (c.req.method != "GET" && c.req.method != "HEAD")
            throw_error(405, "method_not_allowed", "use GET on " + c.path);
        const auto acc = c.query.find("account");
        json::array arr;
        for (const auto& e : ok_or_500(qa.quarantine_list(
                 acc == c.query.end() ? std::nullopt : std::optional<std::string>(acc->second))))
            arr.push_back(quarantine_object(e));
        send_json(c, 200, json::object{{"quarantine", arr}});
        return;
    }
    const auto key = parse_quarantine_id(s[1]);
    if (!key)
        throw_error(422, "invalid",
                    "id: " + s[1] + " is not a quarantine id (MAILBOX:UIDVALIDITY:UID, as listed)",
                    "id");
    auto entry = ok_or_500(qa.quarantine_entry(*key));
    if (!entry)
        not_found("quarantined message " + s[1]);
    if (s.size() == 2) {
        if (c.req.method != "GET" && c.req.method != "HEAD")
            throw_error(405, "method_not_allowed", "use GET on " + c.path);
        send_json(c, 200, json::object{{"entry", quarantine_object(*entry)}});
        return;
    }
    if (s.size() == 3 && (s[2] == "retry" || s[2] == "drop")) {
        if (c.req.method != "POST")
            throw_error(405, "method_not_allowed", "use POST on " + c.path);
        const bool done = s[2] == "retry" ? ok_or_500(qa.quarantine_retry(*key))
                                          : ok_or_500(qa.quarantine_drop(*key, c.now));
        if (!done)
            not_found("quarantined message " + s[1]);
        audit(c, entry->account,
              fmt::format("quarantined message {} ({} UID {}) {}", s[1], entry->mailbox,
                          entry->key.uid,
                          s[2] == "retry" ? "released: fetched again at the next pass"
                                          : "dropped: never fetched again"));
        c.res.status = 204;
        return;
    }
    not_found("path " + c.path);
}

} // namespace

std::string completeness_json(const CompletenessReport& r) {
    json::array folders;
    for (const auto& f : r.folders) {
        json::array missing;
        for (auto uid : f.missing)
            missing.push_back(uid);
        auto uv = [](const std::optional<std::uint32_t>& v) {
            return v ? json::value(*v) : json::value(nullptr);
        };
        folders.push_back(json::object{{"folder", f.folder},
                                       {"server_uid_validity", uv(f.server_uid_validity)},
                                       {"stored_uid_validity", uv(f.stored_uid_validity)},
                                       {"server", f.server},
                                       {"stored", f.stored},
                                       {"quarantined", f.quarantined},
                                       {"missing_count", f.missing_count},
                                       {"missing", missing},
                                       {"gone", f.gone},
                                       {"error", f.error},
                                       {"complete", f.complete()}});
    }
    return json::serialize(
        json::object{{"account", r.account}, {"complete", r.complete()}, {"folders", folders}});
}

std::string quarantine_json(const std::vector<QuarantineEntry>& entries) {
    json::array arr;
    for (const auto& e : entries)
        arr.push_back(quarantine_object(e));
    return json::serialize(json::object{{"quarantine", arr}});
}

bool route_admin(Ctx& c) {
    const auto& s = c.seg;
    if (!s.empty() && s[0] == "quarantine") {
        require_admin(c);
        route_quarantine(c);
        return true;
    }
    if (s.empty() || s[0] != "accounts")
        return false;
    require_admin(c);
    if (s.size() == 1) {
        if (c.req.method == "GET" || c.req.method == "HEAD") {
            auto rows = health(c);
            json::array arr;
            for (const auto& a : c.control.accounts())
                arr.push_back(account_json(a, find_row(rows, a.name)));
            send_json(c, 200, json::object{{"accounts", arr}});
        } else if (c.req.method == "POST") {
            create(c);
        } else {
            throw_error(405, "method_not_allowed", "use GET or POST on " + c.path);
        }
        return true;
    }
    const auto& name = s[1];
    if (s.size() == 2) {
        if (c.req.method == "GET" || c.req.method == "HEAD") {
            auto a = find_config(c, name);
            if (!a)
                not_found("account " + name);
            auto rows = health(c);
            send_json(c, 200, json::object{{"account", account_json(*a, find_row(rows, name))}});
        } else if (c.req.method == "PATCH") {
            edit(c, name);
        } else {
            throw_error(405, "method_not_allowed", "use GET or PATCH on " + c.path);
        }
        return true;
    }
    if (s.size() == 3 && s[2] == "oauth") {
        // The admin grants crm-mail access to the mailbox: the device flow's code, or the
        // provider's address for the redirect flow; then its outcome (GET, polled by the page).
        auto a = find_config(c, name);
        if (!a)
            not_found("account " + name);
        auto state_json = [](const ConsentState& st) {
            return json::object{{"state", st.state},
                                {"user_code", st.user_code},
                                {"verification_uri", st.verification_uri},
                                {"authorize_url", st.authorize_url},
                                {"message", st.message},
                                {"error", st.error},
                                {"expires_in", st.expires_in}};
        };
        if (c.req.method == "GET") {
            send_json(c, 200, json::object{{"consent", state_json(c.control.consent_state(name))}});
        } else if (c.req.method == "POST") {
            auto st = c.control.start_consent(name);
            if (!st) {
                if (st.error().code == "account.not_found")
                    not_found("account " + name);
                if (st.error().code == "oauth.consent")
                    throw_error(409, "conflict", st.error().detail);
                throw_error(502, "bad_gateway", st.error().detail);
            }
            audit(c, name, fmt::format("OAuth consent for account {} requested", name));
            send_json(c, 202, json::object{{"consent", state_json(*st)}});
        } else {
            throw_error(405, "method_not_allowed", "use GET or POST on " + c.path);
        }
        return true;
    }
    if (s.size() == 3 && s[2] == "completeness") {
        if (c.req.method != "GET")
            throw_error(405, "method_not_allowed", "use GET on " + c.path);
        auto a = find_config(c, name);
        if (!a)
            not_found("account " + name);
        auto r = c.control.completeness(*a);
        if (!r) {
            if (r.error().code == "account.not_found" || r.error().code == "account.not_synced")
                throw_error(409, "conflict", r.error().detail);
            if (r.error().code.starts_with("net.") || r.error().code.starts_with("imap."))
                throw_error(502, "bad_gateway", r.error().detail);
            throw_error(500, "internal", r.error().detail);
        }
        send_json(c, 200, json::parse(completeness_json(*r)));
        return true;
    }
    if (s.size() == 3 && (s[2] == "test" || s[2] == "resync")) {
        if (c.req.method != "POST")
            throw_error(405, "method_not_allowed", "use POST on " + c.path);
        auto a = find_config(c, name);
        if (!a)
            not_found("account " + name);
        if (s[2] == "test") {
            auto results = c.control.test_account(*a);
            json::array arr;
            bool ok = !results.empty();
            std::string step = "done", message;
            for (const auto& r : results) {
                arr.push_back(json::object{{"ok", r.ok}, {"step", r.step}, {"message", r.message}});
                if (!r.ok && ok) {
                    ok = false;
                    step = r.step;
                    message = r.message;
                }
            }
            if (ok)
                for (const auto& r : results)
                    message += (message.empty() ? "" : "; ") + r.message;
            send_json(c, 200, json::object{{"ok", ok}, {"step", step}, {"message", message},
                                           {"servers", arr}});
        } else {
            auto r = c.control.resync(name);
            if (!r) {
                if (r.error().code == "account.not_found")
                    throw_error(409, "conflict", r.error().detail);
                throw_error(500, "internal", r.error().detail);
            }
            audit(c, name, fmt::format("resync of account {} requested", name));
            auto rows = health(c);
            send_json(c, 202, json::object{{"account", account_json(*a, find_row(rows, name))}});
        }
        return true;
    }
    return false;
}

} // namespace crm::http
