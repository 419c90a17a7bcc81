// parse_config: toml++ for the syntax, then a validation walk that collects every problem.
// This is the only translation unit that includes toml++ (header-only mode, slow to compile).
// toml++ runs with exceptions disabled: toml::parse returns a toml::parse_result.

#include "crm/settings/config.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <map>
#include <span>
#include <utility>

#include <fmt/format.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
// toml++ 3.3 assert()s on some malformed input in builds without NDEBUG (e.g. "a = [}" trips
// `!is_value_terminator(*cp)` in parse_value), which would abort a Debug daemon on a bad config
// file. Release builds compile those checks out and the parser reports a syntax error; do the
// same everywhere. The fuzz target (ASan+UBSan) runs with this setting.
#define TOML_ASSERT(expr) static_assert(true)
#include <toml++/toml.h>
#pragma GCC diagnostic pop

#include "checks.hpp"

namespace crm::settings {

namespace {

using namespace std::string_view_literals;

struct Pos {
    int line = 0;
    int column = 0;
};

int clamp_index(toml::source_index i) {
    return i > static_cast<toml::source_index>(INT_MAX) ? INT_MAX : static_cast<int>(i);
}

Pos pos_of(const toml::source_region& r) {
    return {clamp_index(r.begin.line), clamp_index(r.begin.column)};
}

std::string_view type_name(toml::node_type t) {
    switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

// A config value quoted for a message: control bytes escaped, long values cut.
std::string show(std::string_view s) {
    constexpr std::size_t kMax = 64;
    std::string out = "\"";
    std::size_t n = std::min(s.size(), kMax);
    // Do not cut a UTF-8 sequence in half.
    while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    for (char c : s.substr(0, n)) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    out += '"';
    if (n < s.size())
        out += "...";
    return out;
}

std::string join(std::span<const std::string_view> words, std::string_view sep) {
    std::string out;
    for (const auto w : words) {
        if (!out.empty())
            out += sep;
        out += w;
    }
    return out;
}

class Reporter {
  public:
    explicit Reporter(std::string_view file) : file_(file) {}

    void error(Pos p, std::string message) { add(p, std::move(message), false); }
    void warning(Pos p, std::string message) { add(p, std::move(message), true); }

    [[nodiscard]] bool has_errors() const {
        return std::any_of(problems_.begin(), problems_.end(),
                           [](const Problem& p) { return !p.warning; });
    }

    std::vector<Problem> take() {
        std::stable_sort(problems_.begin(), problems_.end(), [](const Problem& a, const Problem& b) {
            return std::pair(a.line, a.column) < std::pair(b.line, b.column);
        });
        return std::move(problems_);
    }

  private:
    void add(Pos p, std::string message, bool warning) {
        problems_.push_back(Problem{file_, std::max(p.line, 0), std::max(p.column, 0),
                                    std::move(message), warning});
    }

    std::string file_;
    std::vector<Problem> problems_;
};

struct Entry {
    const toml::node* node = nullptr;
    Pos pos; // of the key
    std::string path;
};

// One TOML table being validated: typed getters that report wrong types, and a final pass
// that reports keys nobody asked about.
class Section {
  public:
    Section(Reporter& reporter, const toml::table& table, std::string path, Pos fallback,
            std::span<const std::string_view> known)
        : r_(reporter), table_(table), path_(std::move(path)), known_(known) {
        pos_ = pos_of(table.source());
        if (pos_.line == 0)
            pos_ = fallback;
    }

    [[nodiscard]] Pos pos() const { return pos_; }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] Reporter& reporter() const { return r_; }

    [[nodiscard]] std::string path_of(std::string_view key) const {
        return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
    }

    [[nodiscard]] bool has(std::string_view key) const { return table_.contains(key); }

    [[nodiscard]] std::optional<Entry> find(std::string_view key) const {
        const auto it = table_.find(key);
        if (it == table_.end())
            return std::nullopt;
        return Entry{&it->second, pos_of(it->first.source()), path_of(key)};
    }

    void missing(std::string_view key) const {
        r_.error(pos_, fmt::format("{}: required key is missing", path_of(key)));
    }

    template <class T>
    std::optional<Entry> typed(std::string_view key, bool required, std::string_view expected) {
        auto e = find(key);
        if (!e) {
            if (required)
                missing(key);
            return std::nullopt;
        }
        if (!e->node->is<T>()) {
            r_.error(e->pos, fmt::format("{}: expected {}, found {}", e->path, expected,
                                         type_name(e->node->type())));
            return std::nullopt;
        }
        return e;
    }

    std::optional<std::pair<std::string, Entry>> string(std::string_view key, bool required = false) {
        auto e = typed<std::string>(key, required, "a string");
        if (!e)
            return std::nullopt;
        return std::pair(e->node->as_string()->get(), *e);
    }

    std::optional<std::pair<std::int64_t, Entry>> integer(std::string_view key,
                                                          bool required = false) {
        auto e = typed<std::int64_t>(key, required, "an integer");
        if (!e)
            return std::nullopt;
        return std::pair(e->node->as_integer()->get(), *e);
    }

    // An integer in [lo, hi], or nullopt (absent or reported).
    std::optional<std::int64_t> ranged(std::string_view key, std::int64_t lo, std::int64_t hi,
                                       bool required = false, std::string_view unit = "") {
        auto v = integer(key, required);
        if (!v)
            return std::nullopt;
        if (v->first < lo || v->first > hi) {
            const std::string range = hi == INT64_MAX ? fmt::format("at least {}{}", lo, unit)
                                                      : fmt::format("{}..{}{}", lo, hi, unit);
            r_.error(v->second.pos,
                     fmt::format("{}: {} is out of range (must be {})", v->second.path, v->first, range));
            return std::nullopt;
        }
        return v->first;
    }

    void boolean(std::string_view key, bool& out) {
        if (auto e = typed<bool>(key, false, "a boolean (true or false)"))
            out = e->node->as_boolean()->get();
    }

    std::optional<bool> boolean(std::string_view key) {
        if (auto e = typed<bool>(key, false, "a boolean (true or false)"))
            return e->node->as_boolean()->get();
        return std::nullopt;
    }

    std::optional<std::pair<const toml::table*, Entry>> table(std::string_view key,
                                                              bool required = false) {
        auto e = typed<toml::table>(key, required, "a table");
        if (!e)
            return std::nullopt;
        return std::pair(e->node->as_table(), *e);
    }

    std::optional<std::pair<const toml::array*, Entry>> array(std::string_view key) {
        auto e = typed<toml::array>(key, false, "an array");
        if (!e)
            return std::nullopt;
        return std::pair(e->node->as_array(), *e);
    }

    // A string that must be one of `names` (mapped to `values`).
    template <class E, std::size_t N>
    std::optional<std::pair<E, Entry>> choice(std::string_view key,
                                              const std::array<std::string_view, N>& names,
                                              const std::array<E, N>& values) {
        auto v = string(key);
        if (!v)
            return std::nullopt;
        for (std::size_t i = 0; i < N; ++i)
            if (names[i] == v->first)
                return std::pair(values[i], v->second);
        std::string message = fmt::format("{}: {} is not one of {}", v->second.path, show(v->first),
                                          join(names, ", "));
        if (const auto near = detail::closest_match(v->first, names))
            message += fmt::format("; did you mean \"{}\"?", *near);
        r_.error(v->second.pos, std::move(message));
        return std::nullopt;
    }

    // Warnings for keys that no getter knows about, with a did-you-mean.
    void report_unknown() const {
        for (auto&& [key, node] : table_) {
            const std::string_view k = key.str();
            if (std::find(known_.begin(), known_.end(), k) != known_.end())
                continue;
            std::string message = fmt::format("{}: unknown key", path_of(k));
            if (const auto near = detail::closest_match(k, known_))
                message += fmt::format("; did you mean \"{}\"?", *near);
            r_.warning(pos_of(key.source()), std::move(message));
        }
    }

  private:
    Reporter& r_;
    const toml::table& table_;
    std::string path_;
    std::span<const std::string_view> known_;
    Pos pos_;
};

bool is_absolute_path(std::string_view p) { return !p.empty() && p.front() == '/'; }

// ---------------------------------------------------------------------------------------------
// Secrets

struct SecretKeys {
    std::string_view what;
    std::string_view inline_key;
    std::string_view file;
    std::string_view env;
    std::string_view credential;

    [[nodiscard]] std::array<std::string_view, 4> all() const {
        return {inline_key, file, env, credential};
    }
};

constexpr SecretKeys kPasswordKeys{"password", "password", "password_file", "password_env",
                                   "credential"};
constexpr SecretKeys kTokenKeys{"access token", "token", "token_file", "token_env",
                                "token_credential"};
constexpr SecretKeys kClientSecretKeys{"OAuth client secret", "oauth_client_secret",
                                       "oauth_client_secret_file", "oauth_client_secret_env",
                                       "oauth_client_secret_credential"};
constexpr SecretKeys kRefreshTokenKeys{"OAuth refresh token", "oauth_refresh_token",
                                       "oauth_refresh_token_file", "oauth_refresh_token_env",
                                       "oauth_refresh_token_credential"};

bool any_present(const Section& s, const SecretKeys& keys) {
    const auto all = keys.all();
    return std::any_of(all.begin(), all.end(), [&](std::string_view k) { return s.has(k); });
}

struct SecretRead {
    bool present = false;            // at least one source key was given
    std::optional<SecretRef> secret; // set when exactly one valid source was given
};

SecretRead read_secret(Section& s, const SecretKeys& keys, bool allow_inline) {
    struct Source {
        SecretRef::Kind kind;
        std::string_view key;
        std::optional<Entry> entry;
        std::string value;
        bool typed_ok = false;
    };
    std::array<Source, 4> sources{{{SecretRef::Kind::Inline, keys.inline_key, {}, {}, false},
                                   {SecretRef::Kind::File, keys.file, {}, {}, false},
                                   {SecretRef::Kind::Env, keys.env, {}, {}, false},
                                   {SecretRef::Kind::Credential, keys.credential, {}, {}, false}}};
    std::vector<Source*> given;
    for (auto& src : sources) {
        src.entry = s.find(src.key);
        if (!src.entry)
            continue;
        given.push_back(&src);
        if (auto v = s.string(src.key)) {
            src.value = std::move(v->first);
            src.typed_ok = true;
        }
    }
    SecretRead out;
    out.present = !given.empty();
    if (given.empty())
        return out;
    if (given.size() > 1) {
        std::sort(given.begin(), given.end(), [](const Source* a, const Source* b) {
            return std::pair(a->entry->pos.line, a->entry->pos.column) <
                   std::pair(b->entry->pos.line, b->entry->pos.column);
        });
        std::vector<std::string_view> names;
        for (const auto* g : given)
            names.push_back(g->key);
        s.reporter().error(given[1]->entry->pos,
                           fmt::format("{}: more than one source for the {} ({}); keep exactly one",
                                       s.path(), keys.what, join(names, ", ")));
        return out;
    }
    Source& src = *given.front();
    if (!src.typed_ok)
        return out;
    Reporter& r = s.reporter();
    const Entry& e = *src.entry;
    switch (src.kind) {
    case SecretRef::Kind::File:
        if (!is_absolute_path(src.value)) {
            r.error(e.pos, fmt::format("{}: {} must be an absolute path", e.path, show(src.value)));
            return out;
        }
        break;
    case SecretRef::Kind::Env:
        if (!detail::is_env_name(src.value)) {
            r.error(e.pos, fmt::format("{}: {} is not a valid environment variable name", e.path,
                                       show(src.value)));
            return out;
        }
        break;
    case SecretRef::Kind::Credential:
        if (!detail::is_credential_name(src.value)) {
            r.error(e.pos, fmt::format("{}: {} is not a valid credential name (a file name in "
                                       "$CREDENTIALS_DIRECTORY)",
                                       e.path, show(src.value)));
            return out;
        }
        break;
    case SecretRef::Kind::Inline: {
        const std::string alternatives =
            fmt::format("{}, {} or {}", keys.file, keys.env, keys.credential);
        if (!allow_inline) {
            r.error(e.pos, fmt::format("{}: inline secrets are refused unless "
                                       "allow_inline_secrets = true is set at the top level; use {}",
                                       e.path, alternatives));
            return out;
        }
        if (src.value.empty()) {
            r.error(e.pos, fmt::format("{}: must not be empty", e.path));
            return out;
        }
        r.warning(e.pos, fmt::format("{}: secret stored in the configuration file; prefer {}",
                                     e.path, alternatives));
        break;
    }
    }
    out.secret = SecretRef{src.kind, std::move(src.value)};
    return out;
}

// ---------------------------------------------------------------------------------------------
// Servers

constexpr std::array<std::string_view, 25> kServerKeys{
    "host", "port", "tls", "allow_insecure", "ca_file", "username", "auth",
    // password
    "password", "password_file", "password_env", "credential",
    // xoauth2 access token
    "token", "token_file", "token_env", "token_credential",
    // xoauth2 refresh flow
    "oauth_token_endpoint", "oauth_client_id", "oauth_client_secret", "oauth_client_secret_file",
    "oauth_client_secret_env", "oauth_client_secret_credential", "oauth_refresh_token",
    "oauth_refresh_token_file", "oauth_refresh_token_env", "oauth_refresh_token_credential"};

constexpr std::array<std::string_view, 3> kTlsNames{"implicit", "starttls", "none"};
constexpr std::array<Tls, 3> kTlsValues{Tls::Implicit, Tls::StartTls, Tls::None};
constexpr std::array<std::string_view, 2> kAuthNames{"password", "xoauth2"};
constexpr std::array<Auth, 2> kAuthValues{Auth::Password, Auth::XOAuth2};

void forbid_keys(Section& s, std::span<const std::string_view> keys, std::string_view why) {
    for (const auto k : keys)
        if (auto e = s.find(k))
            s.reporter().error(e->pos, fmt::format("{}: {}", e->path, why));
}

ServerConfig parse_server(Reporter& r, const toml::table& t, std::string path, Pos fallback,
                          bool smtp, const ServerConfig* inherit, bool allow_inline) {
    Section s(r, t, std::move(path), fallback, kServerKeys);
    ServerConfig c;

    if (auto host = s.string("host", true)) {
        if (!detail::is_valid_host(host->first))
            r.error(host->second.pos,
                    fmt::format("{}: {} is not a valid host name", host->second.path, show(host->first)));
        c.host = std::move(host->first);
    }
    const auto tls = s.choice("tls", kTlsNames, kTlsValues);
    if (tls)
        c.tls = tls->first;
    s.boolean("allow_insecure", c.allow_insecure);
    if (auto port = s.ranged("port", 1, 65535)) {
        c.port = static_cast<std::uint16_t>(*port);
    } else {
        // IMAP: RFC 8314 §7.3 (993), RFC 3501 (143). SMTP submission: RFC 8314 (465), RFC 6409
        // (587); plain text only to a local MTA on 25.
        switch (c.tls) {
        case Tls::Implicit: c.port = smtp ? 465 : 993; break;
        case Tls::StartTls: c.port = smtp ? 587 : 143; break;
        case Tls::None: c.port = smtp ? 25 : 143; break;
        }
    }
    if (c.tls == Tls::None && tls) {
        const Pos p = tls->second.pos;
        if (!c.allow_insecure)
            r.error(p, fmt::format("{}: \"none\" sends credentials in clear text; it needs "
                                   "allow_insecure = true (and a loopback host)",
                                   tls->second.path));
        if (!c.host.empty() && !detail::is_loopback_host(c.host))
            r.error(p, fmt::format("{}: \"none\" is only allowed to a loopback host (127.0.0.0/8, "
                                   "::1, localhost), not {}",
                                   tls->second.path, show(c.host)));
    } else if (c.allow_insecure) {
        if (auto e = s.find("allow_insecure"))
            r.warning(e->pos, fmt::format("{}: has no effect unless tls = \"none\"", e->path));
    }
    if (auto ca = s.string("ca_file")) {
        if (!is_absolute_path(ca->first))
            r.error(ca->second.pos,
                    fmt::format("{}: {} must be an absolute path", ca->second.path, show(ca->first)));
        else if (c.tls == Tls::None)
            r.warning(ca->second.pos,
                      fmt::format("{}: ignored with tls = \"none\"", ca->second.path));
        c.ca_file = std::move(ca->first);
    }

    if (auto user = s.string("username", inherit == nullptr)) {
        if (user->first.empty())
            r.error(user->second.pos, fmt::format("{}: must not be empty", user->second.path));
        c.username = std::move(user->first);
    } else if (inherit != nullptr && !s.has("username")) {
        c.username = inherit->username;
    }

    const std::array<std::string_view, 2> oauth_plain{"oauth_token_endpoint", "oauth_client_id"};
    const bool oauth_given = s.has(oauth_plain[0]) || s.has(oauth_plain[1]) ||
                             any_present(s, kClientSecretKeys) || any_present(s, kRefreshTokenKeys);
    const bool any_credential_key =
        s.has("auth") || any_present(s, kPasswordKeys) || any_present(s, kTokenKeys) || oauth_given;
    if (inherit != nullptr && !any_credential_key) {
        // [accounts.smtp] without credentials logs in like [accounts.imap].
        c.auth = inherit->auth;
        c.secret = inherit->secret;
        c.oauth = inherit->oauth;
        s.report_unknown();
        return c;
    }

    if (auto auth = s.choice("auth", kAuthNames, kAuthValues)) {
        c.auth = auth->first;
    } else if (s.has("auth")) {
        // Already reported; which credential keys apply is unknowable, so check no further.
        s.report_unknown();
        return c;
    }

    if (c.auth == Auth::Password) {
        const std::string why = "only applies with auth = \"xoauth2\"";
        forbid_keys(s, kTokenKeys.all(), why);
        forbid_keys(s, oauth_plain, why);
        forbid_keys(s, kClientSecretKeys.all(), why);
        forbid_keys(s, kRefreshTokenKeys.all(), why);
        auto pw = read_secret(s, kPasswordKeys, allow_inline);
        if (!pw.present)
            r.error(s.pos(), fmt::format("{}: no password source; set password_file, password_env "
                                         "or credential",
                                         s.path()));
        c.secret = std::move(pw.secret);
    } else {
        forbid_keys(s, kPasswordKeys.all(), "only applies with auth = \"password\"");
        auto token = read_secret(s, kTokenKeys, allow_inline);
        c.secret = std::move(token.secret);
        if (oauth_given) {
            OAuthRefresh o;
            bool complete = true;
            if (auto ep = s.string("oauth_token_endpoint", true)) {
                if (auto why = detail::check_token_endpoint(ep->first)) {
                    r.error(ep->second.pos, fmt::format("{}: {} {}", ep->second.path,
                                                        show(ep->first), *why));
                    complete = false;
                }
                o.token_endpoint = std::move(ep->first);
            } else {
                complete = false;
            }
            if (auto id = s.string("oauth_client_id", true)) {
                if (id->first.empty()) {
                    r.error(id->second.pos, fmt::format("{}: must not be empty", id->second.path));
                    complete = false;
                }
                o.client_id = std::move(id->first);
            } else {
                complete = false;
            }
            auto client_secret = read_secret(s, kClientSecretKeys, allow_inline);
            if (client_secret.present && !client_secret.secret)
                complete = false;
            o.client_secret = std::move(client_secret.secret);
            auto refresh = read_secret(s, kRefreshTokenKeys, allow_inline);
            if (!refresh.present)
                r.error(s.pos(), fmt::format("{}: the OAuth refresh flow needs a refresh token; set "
                                             "oauth_refresh_token_file, oauth_refresh_token_env or "
                                             "oauth_refresh_token_credential",
                                             s.path()));
            if (refresh.secret)
                o.refresh_token = std::move(*refresh.secret);
            else
                complete = false;
            if (token.present) {
                const auto first_token_key = [&] {
                    for (const auto k : kTokenKeys.all())
                        if (auto e = s.find(k))
                            return e->pos;
                    return s.pos();
                }();
                r.error(first_token_key,
                        fmt::format("{}: both an access token source (token_*) and the OAuth "
                                    "refresh flow (oauth_*) are set; use one",
                                    s.path()));
            }
            if (complete)
                c.oauth = std::move(o);
        } else if (!token.present) {
            r.error(s.pos(),
                    fmt::format("{}: auth = \"xoauth2\" needs an access token source (token_file, "
                                "token_env or token_credential) or the OAuth refresh flow "
                                "(oauth_token_endpoint, oauth_client_id, oauth_refresh_token_*)",
                                s.path()));
        }
    }
    s.report_unknown();
    return c;
}

// ---------------------------------------------------------------------------------------------
// Accounts

constexpr std::array<std::string_view, 15> kAccountKeys{
    "name",          "owner_id",       "address",     "folders",      "enabled",
    "poll_interval", "idle",           "initial_sync_days", "backfill", "batch_messages",
    "batch_bytes",   "mirror_seen",    "gmail",       "imap",         "smtp"};

AccountConfig parse_account(Reporter& r, const toml::table& t, std::size_t index, Pos fallback,
                            bool allow_inline) {
    Section s(r, t, fmt::format("accounts[{}]", index), fallback, kAccountKeys);
    AccountConfig a;
    a.line = s.pos().line;

    if (auto name = s.string("name", true)) {
        if (!detail::is_account_name(name->first))
            r.error(name->second.pos,
                    fmt::format("{}: {} is not a valid account name (1-64 of A-Z a-z 0-9 . _ -)",
                                name->second.path, show(name->first)));
        a.name = std::move(name->first);
    }
    if (auto owner = s.ranged("owner_id", 1, INT64_MAX, true))
        a.owner_id = *owner;
    if (auto address = s.string("address", true)) {
        if (!detail::is_valid_address(address->first))
            r.error(address->second.pos, fmt::format("{}: {} is not a valid e-mail address",
                                                     address->second.path, show(address->first)));
        a.address = std::move(address->first);
    }
    if (auto folders = s.array("folders")) {
        const Entry& e = folders->second;
        if (folders->first->empty())
            r.error(e.pos, fmt::format("{}: must list at least one folder (omit the key for the "
                                       "default: INBOX and the sent folder)",
                                       e.path));
        std::size_t i = 0;
        for (const toml::node& f : *folders->first) {
            Pos p = pos_of(f.source());
            if (p.line == 0)
                p = e.pos;
            const std::string item = fmt::format("{}[{}]", e.path, i++);
            const auto* str = f.as_string();
            if (str == nullptr) {
                r.error(p, fmt::format("{}: expected a string, found {}", item, type_name(f.type())));
                continue;
            }
            const std::string& name = str->get();
            if (name.empty()) {
                r.error(p, fmt::format("{}: folder name must not be empty", item));
                continue;
            }
            if (std::find(a.folders.begin(), a.folders.end(), name) != a.folders.end()) {
                r.error(p, fmt::format("{}: folder {} is listed twice", item, show(name)));
                continue;
            }
            a.folders.push_back(name);
        }
    }
    s.boolean("enabled", a.enabled);
    if (auto poll = s.ranged("poll_interval", kMinPollInterval.count(), INT64_MAX, false, " seconds"))
        a.poll_interval = std::chrono::seconds(*poll);
    s.boolean("idle", a.idle);
    if (auto days = s.ranged("initial_sync_days", 0, 36500))
        a.initial_sync_days = static_cast<int>(*days);
    s.boolean("backfill", a.backfill);
    if (auto n = s.ranged("batch_messages", 1, 100000))
        a.batch_messages = static_cast<std::size_t>(*n);
    if (auto n = s.ranged("batch_bytes", 64 * 1024, std::int64_t{1} << 30, false, " bytes"))
        a.batch_bytes = static_cast<std::size_t>(*n);
    s.boolean("mirror_seen", a.mirror_seen);
    a.gmail = s.boolean("gmail");

    if (auto imap = s.table("imap", true))
        a.imap = parse_server(r, *imap->first, imap->second.path, imap->second.pos, false, nullptr,
                              allow_inline);
    if (auto smtp = s.table("smtp"))
        a.smtp = parse_server(r, *smtp->first, smtp->second.path, smtp->second.pos, true, &a.imap,
                              allow_inline);
    s.report_unknown();
    return a;
}

// ---------------------------------------------------------------------------------------------
// Top level

constexpr std::array<std::string_view, 6> kTopKeys{"allow_inline_secrets", "database", "daemon",
                                                   "http", "matching", "accounts"};
constexpr std::array<std::string_view, 1> kDatabaseKeys{"path"};
constexpr std::array<std::string_view, 1> kDaemonKeys{"log_level"};
constexpr std::array<std::string_view, 2> kHttpKeys{"bind", "port"};
constexpr std::array<std::string_view, 4> kMatchingKeys{"strip_plus_tags", "plus_separator",
                                                        "gmail_dot_folding",
                                                        "extra_free_mail_domains"};
constexpr std::array<std::string_view, 4> kLogLevelNames{"error", "warning", "info", "debug"};
constexpr std::array<LogLevel, 4> kLogLevelValues{LogLevel::Error, LogLevel::Warning, LogLevel::Info,
                                                  LogLevel::Debug};

void parse_database(Section& top, DatabaseConfig& db) {
    auto t = top.table("database");
    if (!t)
        return;
    Section s(top.reporter(), *t->first, "database", t->second.pos, kDatabaseKeys);
    if (auto path = s.string("path")) {
        if (!is_absolute_path(path->first))
            s.reporter().error(path->second.pos, fmt::format("{}: {} must be an absolute path",
                                                             path->second.path, show(path->first)));
        db.path = std::move(path->first);
    }
    s.report_unknown();
}

void parse_daemon(Section& top, DaemonConfig& d) {
    auto t = top.table("daemon");
    if (!t)
        return;
    Section s(top.reporter(), *t->first, "daemon", t->second.pos, kDaemonKeys);
    if (auto level = s.choice("log_level", kLogLevelNames, kLogLevelValues))
        d.log_level = level->first;
    s.report_unknown();
}

void parse_http(Section& top, HttpConfig& h) {
    auto t = top.table("http");
    if (!t)
        return;
    Section s(top.reporter(), *t->first, "http", t->second.pos, kHttpKeys);
    if (auto bind = s.string("bind")) {
        if (!detail::is_ipv4_literal(bind->first) && !detail::is_ipv6_literal(bind->first))
            s.reporter().error(bind->second.pos,
                               fmt::format("{}: {} is not an IP address literal (e.g. 127.0.0.1, ::1)",
                                           bind->second.path, show(bind->first)));
        h.bind = std::move(bind->first);
    }
    if (auto port = s.ranged("port", 1, 65535))
        h.port = static_cast<std::uint16_t>(*port);
    s.report_unknown();
}

void parse_matching(Section& top, MatchingConfig& m) {
    auto t = top.table("matching");
    if (!t)
        return;
    Section s(top.reporter(), *t->first, "matching", t->second.pos, kMatchingKeys);
    s.boolean("strip_plus_tags", m.strip_plus_tags);
    s.boolean("gmail_dot_folding", m.gmail_dot_folding);
    if (auto sep = s.string("plus_separator")) {
        if (sep->first.size() != 1 || std::string_view("+-=").find(sep->first[0]) == std::string_view::npos)
            s.reporter().error(sep->second.pos, fmt::format("{}: {} must be one of \"+\", \"-\", \"=\"",
                                                            sep->second.path, show(sep->first)));
        else
            m.plus_separator = sep->first[0];
    }
    if (auto domains = s.array("extra_free_mail_domains")) {
        std::size_t i = 0;
        for (const toml::node& d : *domains->first) {
            Pos p = pos_of(d.source());
            if (p.line == 0)
                p = domains->second.pos;
            const std::string item = fmt::format("{}[{}]", domains->second.path, i++);
            const auto* str = d.as_string();
            if (str == nullptr) {
                s.reporter().error(p, fmt::format("{}: expected a string, found {}", item,
                                                  type_name(d.type())));
            } else if (!detail::is_valid_host(str->get()) ||
                       str->get().find('.') == std::string::npos) {
                s.reporter().error(p, fmt::format("{}: {} is not a domain name", item, show(str->get())));
            } else {
                m.extra_free_mail_domains.push_back(str->get());
            }
        }
    }
    s.report_unknown();
}

void parse_accounts(Section& top, Config& config) {
    const auto e = top.find("accounts");
    if (!e) {
        top.reporter().warning(top.pos(), "no [[accounts]] configured: nothing will be synced");
        return;
    }
    const auto* list = e->node->as_array();
    if (list == nullptr) {
        top.reporter().error(e->pos, fmt::format("accounts: expected an array of tables "
                                                 "([[accounts]]), found {}",
                                                 type_name(e->node->type())));
        return;
    }
    std::map<std::string, int, std::less<>> names; // name -> line
    std::size_t index = 0;
    for (const toml::node& item : *list) {
        const std::size_t i = index++;
        Pos p = pos_of(item.source());
        if (p.line == 0)
            p = e->pos;
        const auto* t = item.as_table();
        if (t == nullptr) {
            top.reporter().error(p, fmt::format("accounts[{}]: expected a table, found {}", i,
                                                type_name(item.type())));
            continue;
        }
        AccountConfig a = parse_account(top.reporter(), *t, i, p, config.allow_inline_secrets);
        if (!a.name.empty()) {
            const auto [it, fresh] = names.emplace(a.name, a.line);
            if (!fresh) {
                Pos name_pos = p;
                if (const auto n = t->find("name"); n != t->end())
                    name_pos = pos_of(n->first.source());
                top.reporter().error(name_pos,
                                     fmt::format("accounts[{}].name: duplicate account name {} "
                                                 "(first defined on line {})",
                                                 i, show(a.name), it->second));
            }
        }
        config.accounts.push_back(std::move(a));
    }
}

} // namespace

ParseOutcome parse_config(std::string_view text, std::string_view file_name) {
    Reporter r(file_name);
    ParseOutcome out;
    toml::parse_result parsed = toml::parse(text, std::string(file_name));
    if (!parsed) {
        const toml::parse_error& err = parsed.error();
        r.error(pos_of(err.source()), std::string(err.description()));
        out.problems = r.take();
        return out;
    }
    const toml::table& root = parsed.table();
    Section top(r, root, "", Pos{1, 1}, kTopKeys);
    Config config;
    if (auto allow = top.boolean("allow_inline_secrets"))
        config.allow_inline_secrets = *allow;
    parse_database(top, config.database);
    parse_daemon(top, config.daemon);
    parse_http(top, config.http);
    parse_matching(top, config.matching);
    parse_accounts(top, config);
    top.report_unknown();
    if (!r.has_errors())
        out.config = std::move(config);
    out.problems = r.take();
    return out;
}

std::string format_problem(const Problem& p) {
    const std::string_view kind = p.warning ? "warning" : "error";
    if (p.line <= 0)
        return fmt::format("{}: {}: {}", p.file, kind, p.message);
    return fmt::format("{}:{}:{}: {}: {}", p.file, p.line, p.column, kind, p.message);
}

} // namespace crm::settings
