// crm-mailctl accounts add|edit|remove|list|test|resync: the accounts of the config file.
//
// The config file is edited as text so that comments and layout survive: `add` appends an
// [[accounts]] block, `edit` and `remove` replace or cut the account's block (its header line,
// located by parse_config, up to the next table that is not one of its [accounts.*] subtables).
// Every new text is validated with settings::parse_config before it atomically replaces the
// file (temp file in the same directory, fsync, rename), keeping the old file's mode and owner.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/http/api.hpp"
#include "crm/net/transport.hpp"
#include "crm/runtime/completeness.hpp"
#include "crm/runtime/config_files.hpp"
#include "crm/runtime/oauth_consent.hpp"
#include "crm/runtime/secrets.hpp"
#include "crm/runtime/server_check.hpp"
#include "crm/settings/config.hpp"
#include "crm/settings/edit.hpp"
#include "crm/store/sync_store.hpp"

namespace crm::ctl {

namespace fs = std::filesystem;
namespace json = boost::json;
using settings::AccountConfig;
using settings::SecretRef;
using settings::ServerConfig;

namespace {

struct Loaded {
    std::string text;
    settings::Config config;
    bool exists = true;
};

void print_problems(const std::vector<settings::Problem>& problems) {
    for (const auto& p : problems)
        fmt::print(stderr, "{}\n", settings::format_problem(p));
}

// Reads and validates the config; prints why not and returns nullopt. `allow_missing`: a file
// that does not exist yet is an empty config (accounts add on a fresh install).
std::optional<Loaded> load_config(const std::string& path, bool allow_missing = false) {
    Loaded l;
    if (auto text = runtime::read_text_file(path)) {
        l.text = std::move(*text);
    } else if (allow_missing && errno == ENOENT) {
        l.exists = false;
    } else {
        fmt::print(stderr, "crm-mailctl: cannot read config {}: {}\n", path, std::strerror(errno));
        return std::nullopt;
    }
    auto out = settings::parse_config(l.text, path);
    if (!out.ok()) {
        print_problems(out.problems);
        fmt::print(stderr, "crm-mailctl: {} has errors: fix them first (crm-mailctl config "
                           "check)\n",
                   path);
        return std::nullopt;
    }
    l.config = std::move(*out.config);
    return l;
}

const AccountConfig* find_account(const settings::Config& c, const std::string& name) {
    for (const auto& a : c.accounts)
        if (a.name == name)
            return &a;
    return nullptr;
}

} // namespace

// Reads a secret without echo from the terminal.
std::optional<std::string> prompt_secret(const std::string& what) {
    termios old{};
    const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    // Echo off before the prompt shows: TCSAFLUSH drops what was typed before it, never after.
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    fmt::print(stderr, "{}: ", what);
    std::fflush(stderr);
    std::string line;
    const bool got = static_cast<bool>(std::getline(std::cin, line));
    if (tty)
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    if (!got)
        return std::nullopt;
    return line;
}

namespace {

enum class SecretSource { None, File, Env, Stdin, Prompt, Credential };

SecretSource secret_source(const Args& a) {
    int n = 0;
    SecretSource s = SecretSource::None;
    auto pick = [&](const char* flag, SecretSource v) {
        if (a.has(flag)) {
            ++n;
            s = v;
        }
    };
    pick("--password-file", SecretSource::File);
    pick("--password-env", SecretSource::Env);
    pick("--password-stdin", SecretSource::Stdin);
    pick("--password-prompt", SecretSource::Prompt);
    pick("--credential", SecretSource::Credential);
    if (n > 1)
        throw UsageError{"give at most one of --password-file, --password-env, --password-stdin, "
                         "--password-prompt, --credential"};
    return s;
}

// The secret from the chosen source; prints why not and returns nullopt.
std::optional<std::string> acquire_secret(const Args& a, SecretSource src) {
    std::optional<std::string> s;
    std::string from;
    switch (src) {
    case SecretSource::File:
        from = *a.value("--password-file");
        s = runtime::read_text_file(from);
        if (!s) {
            fmt::print(stderr, "crm-mailctl: cannot read {}: {}\n", from, std::strerror(errno));
            return std::nullopt;
        }
        break;
    case SecretSource::Env: {
        from = "$" + *a.value("--password-env");
        const char* v = std::getenv(a.value("--password-env")->c_str());
        if (v)
            s = v;
        break;
    }
    case SecretSource::Stdin:
        from = "stdin";
        s.emplace();
        if (!std::getline(std::cin, *s))
            s.reset();
        break;
    case SecretSource::Prompt:
    case SecretSource::None:
        from = "the prompt";
        s = prompt_secret("Password (not shown)");
        break;
    case SecretSource::Credential: return std::nullopt;
    }
    while (s && !s->empty() && (s->back() == '\n' || s->back() == '\r'))
        s->pop_back();
    if (!s || s->empty()) {
        fmt::print(stderr, "crm-mailctl: no secret from {}\n", from);
        return std::nullopt;
    }
    if (s->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        fmt::print(stderr, "crm-mailctl: the secret from {} contains CR, LF or NUL\n", from);
        return std::nullopt;
    }
    return s;
}

settings::Tls parse_tls(const std::string& v) {
    if (v == "implicit")
        return settings::Tls::Implicit;
    if (v == "starttls")
        return settings::Tls::StartTls;
    if (v == "none")
        return settings::Tls::None;
    throw UsageError{"--tls: '" + v + "' is not one of implicit, starttls, none"};
}

settings::Auth parse_auth(const std::string& v) {
    if (v == "password")
        return settings::Auth::Password;
    if (v == "xoauth2")
        return settings::Auth::XOAuth2;
    throw UsageError{"--auth: '" + v + "' is not one of password, xoauth2"};
}

std::uint16_t parse_port(const std::string& v) {
    auto p = parse_id("--imap-port", v);
    if (p > 65535)
        throw UsageError{"--imap-port: '" + v + "' is not a port (1..65535)"};
    return static_cast<std::uint16_t>(p);
}

const std::vector<std::string> kAccountValueFlags = {
    "--owner",    "--address",       "--imap-host",    "--imap-port",
    "--tls",      "--ca-file",       "--username",     "--auth",
    "--folder",   "--password-file", "--password-env", "--credential"};
const std::vector<std::string> kAccountBoolFlags = {
    "--allow-insecure", "--no-allow-insecure", "--disabled", "--enabled", "--password-stdin",
    "--password-prompt"};

// Applies the server/account flags to `acc` (add: a fresh account; edit: the current one).
void apply_flags(const Args& a, AccountConfig& acc) {
    if (auto v = a.value("--owner"))
        acc.owner_id = parse_id("--owner", *v);
    if (auto v = a.value("--address"))
        acc.address = *v;
    if (auto v = a.value("--imap-host"))
        acc.imap.host = *v;
    if (auto v = a.value("--tls")) {
        acc.imap.tls = parse_tls(*v);
        acc.imap.port = 0; // the new mode's default unless --imap-port follows
    }
    if (auto v = a.value("--imap-port"))
        acc.imap.port = parse_port(*v);
    if (a.has("--allow-insecure"))
        acc.imap.allow_insecure = true;
    if (a.has("--no-allow-insecure"))
        acc.imap.allow_insecure = false;
    if (auto v = a.value("--ca-file"))
        acc.imap.ca_file = *v;
    if (auto v = a.value("--username"))
        acc.imap.username = *v;
    if (auto v = a.value("--auth"))
        acc.imap.auth = parse_auth(*v);
    if (a.has("--folder"))
        acc.folders = a.values("--folder");
    if (a.has("--disabled") && a.has("--enabled"))
        throw UsageError{"--enabled and --disabled exclude each other"};
    if (a.has("--disabled"))
        acc.enabled = false;
    if (a.has("--enabled"))
        acc.enabled = true;
}

// Validates `text`; prints the problems and returns false when it is not a valid config.
bool validate(const std::string& text, const std::string& path) {
    auto out = settings::parse_config(text, path);
    if (out.ok())
        return true;
    print_problems(out.problems);
    fmt::print(stderr, "crm-mailctl: the change would make {} invalid: nothing written\n", path);
    return false;
}

std::string describe_secret(const ServerConfig& s) {
    if (s.oauth)
        return "oauth refresh flow";
    if (!s.secret)
        return "none";
    switch (s.secret->kind) {
    case SecretRef::Kind::File: return "file " + s.secret->value;
    case SecretRef::Kind::Env: return "env $" + s.secret->value;
    case SecretRef::Kind::Credential: return "credential " + s.secret->value;
    case SecretRef::Kind::Inline: return "inline (discouraged)";
    }
    return "?";
}

// Finishes add/edit: validates, stores the secret (if any), writes the config.
int commit(const std::string& path, const Loaded& cfg, const std::string& new_text,
           const AccountConfig& acc, const std::optional<std::string>& secret, const char* verb) {
    if (!validate(new_text, path))
        return kRuntime;
    const auto secret_file = runtime::secret_path(path, acc.name);
    if (secret) {
        if (auto r = runtime::store_secret(path, acc.name, *secret); !r) {
            fmt::print(stderr, "crm-mailctl: {}\n", r.error().detail);
            return kRuntime;
        }
    }
    if (auto r = runtime::write_atomic(path, new_text, cfg.exists ? 0644 : 0640,
                                       runtime::service_owner());
        !r) {
        fmt::print(stderr, "crm-mailctl: {}\n", r.error().detail);
        if (secret)
            ::unlink(secret_file.c_str());
        return kRuntime;
    }
    fmt::print("{} account {} in {}{}\nReload the daemon to apply: systemctl reload crm-maild\n",
               verb, acc.name, path,
               secret ? fmt::format(" (secret stored in {}, mode 0600)", secret_file)
                      : std::string());
    return kOk;
}

} // namespace

namespace {
std::optional<settings::Config> valid_config(const std::string& path) {
    auto text = runtime::read_text_file(path);
    if (!text)
        return std::nullopt;
    auto out = settings::parse_config(*text, path);
    if (!out.ok())
        return std::nullopt;
    return std::move(*out.config);
}
} // namespace

std::optional<std::string> config_database_path(const std::string& path) {
    auto c = valid_config(path);
    return c ? std::optional(c->database.path) : std::nullopt;
}

std::optional<settings::DatabaseConfig> config_database(const std::string& path) {
    auto c = valid_config(path);
    return c ? std::optional(c->database) : std::nullopt;
}

std::optional<settings::MatchingConfig> config_matching(const std::string& path) {
    auto c = valid_config(path);
    return c ? std::optional(c->matching) : std::nullopt;
}

std::optional<settings::FollowupsConfig> config_followups(const std::string& path) {
    auto c = valid_config(path);
    return c ? std::optional(c->followups) : std::nullopt;
}

std::optional<ComposeLimits> config_compose(const std::string& path) {
    auto c = valid_config(path);
    return c ? std::optional(c->compose) : std::nullopt;
}

int cmd_accounts_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    if (!a.positionals().empty())
        throw UsageError{"expected no arguments"};
    auto cfg = load_config(ctx.config_path);
    if (!cfg)
        return kRuntime;
    if (a.has("--json")) {
        json::array arr;
        for (const auto& acc : cfg->config.accounts) {
            json::object o;
            o["name"] = acc.name;
            o["owner_id"] = acc.owner_id;
            o["address"] = acc.address;
            o["enabled"] = acc.enabled;
            o["imap_host"] = acc.imap.host;
            o["imap_port"] = acc.imap.port;
            o["tls"] = settings::tls_name(acc.imap.tls);
            o["username"] = acc.imap.username;
            o["secret"] = describe_secret(acc.imap);
            o["smtp_host"] = acc.smtp ? json::value(acc.smtp->host) : nullptr;
            arr.push_back(o);
        }
        fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    if (cfg->config.accounts.empty()) {
        fmt::print("{}: no accounts (crm-mailctl accounts add NAME ...)\n", ctx.config_path);
        return kOk;
    }
    for (const auto& acc : cfg->config.accounts) {
        fmt::print("{} <{}> owner {}{}\n", acc.name, acc.address, acc.owner_id,
                   acc.enabled ? "" : " (disabled)");
        fmt::print("  imap: {}:{} tls={} user={} secret: {}\n", acc.imap.host, acc.imap.port,
                   settings::tls_name(acc.imap.tls), acc.imap.username, describe_secret(acc.imap));
        if (acc.smtp)
            fmt::print("  smtp: {}:{} tls={} user={} secret: {}\n", acc.smtp->host,
                       acc.smtp->port, settings::tls_name(acc.smtp->tls), acc.smtp->username,
                       describe_secret(*acc.smtp));
    }
    return kOk;
}

int cmd_accounts_add(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, kAccountValueFlags, kAccountBoolFlags);
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    const auto& name = a.positionals()[0];
    if (!settings::valid_account_name(name))
        throw UsageError{"NAME: '" + name + "' must be 1-64 of A-Z a-z 0-9 . _ -"};
    for (const char* req : {"--owner", "--address", "--imap-host"})
        if (!a.has(req))
            throw UsageError{std::string(req) + " is required"};
    const auto src = secret_source(a);
    if (src == SecretSource::None && !::isatty(STDIN_FILENO))
        throw UsageError{"no secret source: give --password-file, --password-env, "
                         "--password-stdin or --credential (or run on a terminal to be asked)"};
    auto cfg = load_config(ctx.config_path, true);
    if (!cfg)
        return kRuntime;
    if (find_account(cfg->config, name)) {
        fmt::print(stderr, "crm-mailctl: {} already has an account named {} (use accounts edit)\n",
                   ctx.config_path, name);
        return kRuntime;
    }
    AccountConfig acc;
    acc.name = name;
    acc.imap.port = 0;
    apply_flags(a, acc);
    if (acc.imap.username.empty())
        acc.imap.username = acc.address;
    if (src == SecretSource::Credential)
        acc.imap.secret = SecretRef{SecretRef::Kind::Credential, *a.value("--credential")};
    else
        acc.imap.secret =
            SecretRef{SecretRef::Kind::File, runtime::secret_path(ctx.config_path, name)};
    std::string text = cfg->text;
    if (!text.empty() && text.back() != '\n')
        text += '\n';
    text += (text.empty() ? "" : "\n") + settings::account_block(acc);
    // Validate before asking for the secret: a typo in the host fails fast.
    if (!validate(text, ctx.config_path))
        return kRuntime;
    std::optional<std::string> secret;
    if (src != SecretSource::Credential) {
        secret = acquire_secret(a, src);
        if (!secret)
            return kRuntime;
    }
    return commit(ctx.config_path, *cfg, text, acc, secret, "added");
}

int cmd_accounts_edit(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, kAccountValueFlags, kAccountBoolFlags);
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    const auto& name = a.positionals()[0];
    const auto src = secret_source(a);
    auto cfg = load_config(ctx.config_path);
    if (!cfg)
        return kRuntime;
    const AccountConfig* cur = find_account(cfg->config, name);
    if (!cur) {
        fmt::print(stderr, "crm-mailctl: {} has no account named {}\n", ctx.config_path, name);
        return kRuntime;
    }
    AccountConfig acc = *cur;
    apply_flags(a, acc);
    if (src == SecretSource::Credential) {
        acc.imap.secret = SecretRef{SecretRef::Kind::Credential, *a.value("--credential")};
        acc.imap.oauth.reset();
    } else if (src != SecretSource::None) {
        acc.imap.secret =
            SecretRef{SecretRef::Kind::File, runtime::secret_path(ctx.config_path, name)};
        acc.imap.oauth.reset();
    }
    if (acc == *cur && src == SecretSource::None) {
        fmt::print("account {}: nothing to change\n", name);
        return kOk;
    }
    const auto span = settings::account_span(cfg->text, cur->line);
    std::string text = cfg->text.substr(0, span.begin) + settings::account_block(acc) +
                       cfg->text.substr(span.end);
    if (!validate(text, ctx.config_path))
        return kRuntime;
    std::optional<std::string> secret;
    if (src != SecretSource::None && src != SecretSource::Credential) {
        secret = acquire_secret(a, src);
        if (!secret)
            return kRuntime;
    }
    return commit(ctx.config_path, *cfg, text, acc, secret, "changed");
}

int cmd_accounts_remove(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--keep-secret"});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    const auto& name = a.positionals()[0];
    auto cfg = load_config(ctx.config_path);
    if (!cfg)
        return kRuntime;
    const AccountConfig* cur = find_account(cfg->config, name);
    if (!cur) {
        fmt::print(stderr, "crm-mailctl: {} has no account named {}\n", ctx.config_path, name);
        return kRuntime;
    }
    const auto span = settings::account_span(cfg->text, cur->line);
    std::string text = cfg->text.substr(0, span.begin) + cfg->text.substr(span.end);
    if (!validate(text, ctx.config_path))
        return kRuntime;
    if (auto r = runtime::write_atomic(ctx.config_path, text, 0644, runtime::service_owner()); !r) {
        fmt::print(stderr, "crm-mailctl: {}\n", r.error().detail);
        return kRuntime;
    }
    fmt::print("removed account {} from {} (its mail stays in the database)\n", name,
               ctx.config_path);
    // Only the file `accounts add` made for this account, never a file the admin named.
    const auto own = runtime::secret_path(ctx.config_path, name);
    if (!a.has("--keep-secret") && cur->imap.secret &&
        cur->imap.secret->kind == SecretRef::Kind::File &&
        runtime::absolute_path(cur->imap.secret->value) == own) {
        if (::unlink(own.c_str()) == 0)
            fmt::print("removed {}\n", own);
        else if (errno != ENOENT)
            fmt::print(stderr, "crm-mailctl: cannot remove {}: {}\n", own, std::strerror(errno));
    }
    fmt::print("Reload the daemon to apply: systemctl reload crm-maild\n");
    return kOk;
}

namespace {

const char* failure_step(const std::string& code) {
    if (code == "net.dns")
        return "DNS";
    if (code == "net.tcp")
        return "TCP connect";
    if (code == "net.timeout")
        return "timeout";
    if (code == "net.tls")
        return "TLS";
    if (code == "net.starttls")
        return "STARTTLS";
    if (code == "net.auth" || code == "net.mechanism")
        return "authentication";
    if (code == "net.config" || code == "secret.missing")
        return "configuration";
    return "protocol";
}

// Connects and logs in like the daemon; prints one line; true on success.
// Run by an admin, not by systemd: the credentials of the running service, if readable.
void use_service_credentials() {
    const char* creds = std::getenv("CREDENTIALS_DIRECTORY");
    if ((!creds || !*creds) && fs::is_directory("/run/credentials/crm-maild.service"))
        ::setenv("CREDENTIALS_DIRECTORY", "/run/credentials/crm-maild.service", 1);
}

bool test_server(const char* proto, const ServerConfig& s, std::chrono::seconds timeout) {
    auto r = runtime::check_server(proto, s, timeout);
    if (r.ok)
        fmt::print("{}: ok: {}\n", r.where, r.detail);
    else
        fmt::print("{}: FAILED at {}: {} [{}]\n", r.where, failure_step(r.code), r.detail, r.code);
    return r.ok;
}

} // namespace

namespace {

// The account NAME (the one positional argument) as the config defines it, and --timeout
// (seconds, default `timeout`), with the service's credentials in use; nullopt after printing
// why not.
std::optional<std::pair<AccountConfig, std::chrono::seconds>>
configured_account(Context& ctx, const Args& a, std::chrono::seconds timeout) {
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    if (auto t = a.value("--timeout"))
        timeout = std::chrono::seconds(parse_id("--timeout", *t));
    auto cfg = load_config(ctx.config_path);
    if (!cfg)
        return std::nullopt;
    const AccountConfig* acc = find_account(cfg->config, a.positionals()[0]);
    if (!acc) {
        fmt::print(stderr, "crm-mailctl: {} has no account named {}\n", ctx.config_path,
                   a.positionals()[0]);
        return std::nullopt;
    }
    use_service_credentials();
    return std::pair{*acc, timeout};
}

} // namespace

int cmd_accounts_test(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--timeout"}, {});
    auto acc = configured_account(ctx, a, std::chrono::seconds(20));
    if (!acc)
        return kRuntime;
    const auto& [account, timeout] = *acc;
    bool ok = test_server("imap", account.imap, timeout);
    if (account.smtp)
        ok = test_server("smtp", *account.smtp, timeout) && ok;
    return ok ? kOk : kRuntime;
}

int cmd_accounts_check(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--timeout"}, {"--json"});
    auto acc = configured_account(ctx, a, std::chrono::seconds(30));
    if (!acc)
        return kRuntime;
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    auto r = runtime::check_completeness(acc->first, *backend, acc->second);
    if (!r)
        return print_error(r.error());
    if (a.has("--json")) {
        fmt::print("{}\n", http::completeness_json(*r));
        return r->complete() ? kOk : kRuntime;
    }
    fmt::print("{:<24} {:>8} {:>8} {:>11} {:>8} {:>6}  {}\n", "FOLDER", "SERVER", "STORED",
               "QUARANTINED", "MISSING", "GONE", "");
    for (const auto& f : r->folders) {
        std::string note = f.error;
        if (note.empty() && f.missing_count > 0) {
            note = "missing UIDs:";
            for (auto uid : f.missing)
                note += fmt::format(" {}", uid);
            if (f.missing_count > f.missing.size())
                note += fmt::format(" ... ({} more)", f.missing_count - f.missing.size());
        }
        fmt::print("{:<24} {:>8} {:>8} {:>11} {:>8} {:>6}  {}\n", printable(f.folder), f.server,
                   f.stored, f.quarantined, f.missing_count, f.gone, printable(note));
    }
    fmt::print("{}: {}\n", printable(r->account),
               r->complete() ? "complete: every message on the server is stored or quarantined"
                             : "incomplete");
    return r->complete() ? kOk : kRuntime;
}

int cmd_accounts_oauth(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--flow", "--port", "--timeout"}, {});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    runtime::ConsentOptions opt;
    if (auto f = a.value("--flow")) {
        if (*f == "device")
            opt.flow = runtime::ConsentOptions::Flow::Device;
        else if (*f == "loopback")
            opt.flow = runtime::ConsentOptions::Flow::Loopback;
        else
            throw UsageError{"--flow is device or loopback, not " + *f};
    }
    if (auto p = a.value("--port")) {
        const auto port = parse_id("--port", *p);
        if (port > 65535)
            throw UsageError{"--port must be at most 65535"};
        opt.port = static_cast<std::uint16_t>(port);
    }
    if (auto t = a.value("--timeout"))
        opt.timeout = std::chrono::seconds(parse_id("--timeout", *t));
    auto cfg = load_config(ctx.config_path);
    if (!cfg)
        return kRuntime;
    const auto& name = a.positionals()[0];
    const AccountConfig* acc = find_account(cfg->config, name);
    if (!acc) {
        fmt::print(stderr, "crm-mailctl: {} has no account named {}\n", ctx.config_path, name);
        return kRuntime;
    }
    use_service_credentials();
    auto target = runtime::consent_target(*acc, opt);
    if (!target)
        return print_error(target.error());
    const OAuthRefresh& oauth = *target;
    opt.say = [](const std::string& line) {
        // The provider's text (its message, addresses): no control characters reach the
        // terminal.
        std::string shown = line;
        for (auto& ch : shown)
            if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
                ch = '?';
        fmt::print("{}\n", shown);
        std::fflush(stdout);
    };
    auto tokens = runtime::obtain_consent(oauth, opt);
    if (!tokens)
        return print_error(tokens.error());
    if (auto stored = runtime::store_refresh_token(oauth.refresh_token, tokens->refresh_token);
        !stored)
        return print_error(stored.error());
    fmt::print("{}: access granted; the refresh token is in {} (mode 0600). crm-maild uses it at "
               "the account's next login; reload it (systemctl reload crm-maild) to log in now.\n",
               name, oauth.refresh_token.value);
    return kOk;
}

int cmd_accounts_resync(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one account NAME"};
    const auto& name = a.positionals()[0];
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    auto n = db->sync().resync_account(name); // in a transaction of its own
    if (!n)
        return print_error(n.error());
    if (!*n) {
        fmt::print(stderr,
                   "crm-mailctl: no account named {} in {} (crm-maild registers the accounts "
                   "of its config when it starts or reloads)\n",
                   name, ctx.db_path);
        return kRuntime;
    }
    fmt::print("{}: cleared the checkpoints of {} mailbox(es); crm-maild reconciles them on its "
               "next pass (stored mail is kept, nothing is duplicated)\n",
               name, **n);
    return kOk;
}

} // namespace crm::ctl
