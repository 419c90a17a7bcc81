// Editing the config text (see edit.hpp).
#include "crm/settings/edit.hpp"

#include <vector>

#include <fmt/format.h>

namespace crm::settings {

// A TOML basic string.
std::string toml_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                out += fmt::format("\\u{:04X}",
                                   static_cast<unsigned>(static_cast<unsigned char>(c)));
            else
                out += c;
        }
    }
    return out + "\"";
}

// "password" -> password_file / password_env / credential / password; other bases get the
// suffixes _file, _env, _credential.
static std::string secret_line(const std::string& base, const SecretRef& r) {
    switch (r.kind) {
    case SecretRef::Kind::File: return fmt::format("{}_file = {}\n", base, toml_string(r.value));
    case SecretRef::Kind::Env: return fmt::format("{}_env = {}\n", base, toml_string(r.value));
    case SecretRef::Kind::Credential:
        return fmt::format("{} = {}\n", base == "password" ? "credential" : base + "_credential",
                           toml_string(r.value));
    case SecretRef::Kind::Inline: return fmt::format("{} = {}\n", base, toml_string(r.value));
    }
    return {};
}

static std::string server_table(const char* table, const ServerConfig& s) {
    std::string out = fmt::format("\n[{}]\nhost = {}\n", table, toml_string(s.host));
    if (s.port != 0)
        out += fmt::format("port = {}\n", s.port);
    out += fmt::format("tls = {}\n", toml_string(tls_name(s.tls)));
    if (s.allow_insecure)
        out += "allow_insecure = true\n";
    if (!s.ca_file.empty())
        out += fmt::format("ca_file = {}\n", toml_string(s.ca_file));
    out += fmt::format("username = {}\n", toml_string(s.username));
    const bool xoauth2 = s.auth == Auth::XOAuth2;
    out += fmt::format("auth = {}\n", toml_string(xoauth2 ? "xoauth2" : "password"));
    if (s.secret)
        out += secret_line(xoauth2 ? "token" : "password", *s.secret);
    if (s.oauth) {
        out += fmt::format("oauth_token_endpoint = {}\n", toml_string(s.oauth->token_endpoint));
        out += fmt::format("oauth_client_id = {}\n", toml_string(s.oauth->client_id));
        if (s.oauth->client_secret)
            out += secret_line("oauth_client_secret", *s.oauth->client_secret);
        out += secret_line("oauth_refresh_token", s.oauth->refresh_token);
        if (!s.oauth->device_endpoint.empty())
            out +=
                fmt::format("oauth_device_endpoint = {}\n", toml_string(s.oauth->device_endpoint));
        if (!s.oauth->authorize_endpoint.empty())
            out += fmt::format("oauth_authorize_endpoint = {}\n",
                               toml_string(s.oauth->authorize_endpoint));
        if (!s.oauth->scope.empty())
            out += fmt::format("oauth_scope = {}\n", toml_string(s.oauth->scope));
    }
    return out;
}

// The whole [[accounts]] block; keys at their defaults are left out.
std::string account_block(const AccountConfig& a) {
    const AccountConfig d;
    std::string out = fmt::format("[[accounts]]\nname = {}\nowner_id = {}\naddress = {}\n",
                                  toml_string(a.name), a.owner_id, toml_string(a.address));
    if (!a.folders.empty()) {
        out += "folders = [";
        for (std::size_t i = 0; i < a.folders.size(); ++i)
            out += (i ? ", " : "") + toml_string(a.folders[i]);
        out += "]\n";
    }
    if (!a.enabled)
        out += "enabled = false\n";
    if (a.poll_interval != d.poll_interval)
        out += fmt::format("poll_interval = {}\n", a.poll_interval.count());
    if (a.idle != d.idle)
        out += "idle = false\n";
    if (a.initial_sync_days != d.initial_sync_days)
        out += fmt::format("initial_sync_days = {}\n", a.initial_sync_days);
    if (a.backfill != d.backfill)
        out += "backfill = false\n";
    if (a.batch_messages != d.batch_messages)
        out += fmt::format("batch_messages = {}\n", a.batch_messages);
    if (a.batch_bytes != d.batch_bytes)
        out += fmt::format("batch_bytes = {}\n", a.batch_bytes);
    if (a.mirror_seen)
        out += "mirror_seen = true\n";
    if (a.fallback_charset != d.fallback_charset)
        out += fmt::format("fallback_charset = {}\n", toml_string(a.fallback_charset));
    if (a.gmail)
        out += fmt::format("gmail = {}\n", *a.gmail);
    if (a.provider)
        out +=
            fmt::format("provider = \"{}\"\n",
                        *a.provider == AccountConfig::Provider::Gmail ? "gmail" : "microsoft365");
    out += server_table("accounts.imap", a.imap);
    if (a.smtp)
        out += server_table("accounts.smtp", *a.smtp);
    for (const auto& rule : a.rules)
        out += fmt::format("\n[[accounts.rules]]\nlabel = {}\ndeal = {}\n", toml_string(rule.label),
                           rule.deal);
    return out;
}

static std::string_view trimmed(std::string_view l) {
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
        l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
        l.remove_suffix(1);
    return l;
}

// The byte range of the account block whose [[accounts]] header is on `header_line` (1-based):
// up to the next table header that is not an [accounts.*] subtable, without the comments and
// blank lines just before that header (they introduce what follows).
TextSpan account_span(const std::string& text, int header_line) {
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && i + 1 < text.size())
            starts.push_back(i + 1);
    auto line_at = [&](std::size_t i) {
        auto e = text.find('\n', starts[i]);
        return std::string_view(text).substr(starts[i], (e == std::string::npos ? text.size() : e) -
                                                            starts[i]);
    };
    const auto first = static_cast<std::size_t>(header_line - 1);
    std::size_t stop = starts.size(); // line index of the next foreign header
    for (std::size_t i = first + 1; i < starts.size(); ++i) {
        auto l = trimmed(line_at(i));
        if (!l.empty() && l.front() == '[' && !l.starts_with("[accounts.") &&
            !l.starts_with("[ accounts.")) {
            stop = i;
            break;
        }
    }
    std::size_t last = stop; // one past the block's last line
    if (stop < starts.size())
        while (last > first + 1) {
            auto l = trimmed(line_at(last - 1));
            if (!l.empty() && l.front() != '#')
                break;
            --last;
        }
    return {starts[first], last < starts.size() ? starts[last] : text.size()};
}

namespace {

Result<std::string> validated(std::string text, const std::string& path) {
    auto out = parse_config(text, path);
    if (out.ok())
        return text;
    std::string why;
    for (const auto& p : out.problems) {
        if (!why.empty())
            why += '\n';
        why += format_problem(p);
    }
    return fail("config.invalid", why, ErrorScope::Fatal, Retry::NeedsConfig);
}

const AccountConfig* find(const Config& c, const std::string& name) {
    for (const auto& a : c.accounts)
        if (a.name == name)
            return &a;
    return nullptr;
}

} // namespace

Result<std::string> with_account(const std::string& text, const std::string& path,
                                 const AccountConfig& a) {
    auto cur = parse_config(text, path);
    if (!cur.ok())
        return validated(text, path);
    if (const AccountConfig* old = find(*cur.config, a.name)) {
        const auto span = account_span(text, old->line);
        return validated(text.substr(0, span.begin) + account_block(a) + text.substr(span.end),
                         path);
    }
    std::string out = text;
    if (!out.empty() && out.back() != '\n')
        out += '\n';
    out += (out.empty() ? "" : "\n") + account_block(a);
    return validated(std::move(out), path);
}

Result<std::string> without_account(const std::string& text, const std::string& path,
                                    const std::string& name) {
    auto cur = parse_config(text, path);
    if (!cur.ok())
        return validated(text, path);
    const AccountConfig* old = find(*cur.config, name);
    if (!old)
        return fail("config.no_account", path + " has no account named " + name,
                    ErrorScope::Fatal, Retry::NeedsConfig);
    const auto span = account_span(text, old->line);
    return validated(text.substr(0, span.begin) + text.substr(span.end), path);
}

} // namespace crm::settings
