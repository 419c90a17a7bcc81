#include "crm/pg/url.hpp"

#include <array>
#include <cctype>
#include <vector>

#include "crm/core/hex.hpp"
#include "url_secrets.hpp"

namespace crm::pg {

namespace {

// Connection parameters whose values are secrets (libpq's "*" dispchar options).
constexpr std::array<std::string_view, 2> kSecretKeys = {"password", "sslpassword"};
constexpr std::array<std::string_view, 2> kSchemes = {"postgresql://", "postgres://"};

bool is_secret_key(std::string_view k) {
    for (auto s : kSecretKeys)
        if (k == s)
            return true;
    return false;
}

void add_secret(UrlSecrets& out, std::string_view raw) {
    if (raw.empty())
        return;
    out.secrets.emplace_back(raw);
    auto decoded = percent_decode(raw);
    if (decoded != raw && !decoded.empty())
        out.secrets.push_back(std::move(decoded));
}

UrlSecrets split_uri(std::string_view url, std::size_t scheme_len) {
    UrlSecrets out;
    const std::size_t start = scheme_len;
    // libpq (conninfo_uri_parse_options) reads user info up to the first '@' that comes before
    // any '/'. A password holding a raw '/' is not user info to libpq, but it is still a
    // password to whoever typed it: an '@' after the first '/' and before the query marks one.
    std::size_t at = std::string_view::npos;
    const std::size_t stop = url.find_first_of("@/", start);
    if (stop != std::string_view::npos && url[stop] == '@') {
        at = stop;
    } else if (stop != std::string_view::npos) {
        const std::size_t query = url.find('?', stop);
        const std::size_t last_at =
            url.substr(0, query == std::string_view::npos ? url.size() : query).rfind('@');
        if (last_at != std::string_view::npos && last_at > stop)
            at = last_at;
    }
    std::string head(url.substr(0, start));
    std::size_t rest = start;
    if (at != std::string_view::npos) {
        const std::string_view userinfo = url.substr(start, at - start);
        const std::size_t colon = userinfo.find(':');
        head += userinfo.substr(0, colon);
        if (colon != std::string_view::npos)
            add_secret(out, userinfo.substr(colon + 1));
        head += '@';
        rest = at + 1;
    }
    // Host, port and path as written; then the query without its secret parameters.
    const std::size_t q = url.find('?', rest);
    head += url.substr(rest, q == std::string_view::npos ? std::string_view::npos : q - rest);
    if (q != std::string_view::npos) {
        std::string query;
        std::size_t p = q + 1;
        while (p <= url.size()) {
            std::size_t amp = url.find('&', p);
            if (amp == std::string_view::npos)
                amp = url.size();
            const std::string_view param = url.substr(p, amp - p);
            const std::size_t eq = param.find('=');
            const std::string_view key = param.substr(0, eq);
            if (is_secret_key(percent_decode(key))) {
                if (eq != std::string_view::npos)
                    add_secret(out, param.substr(eq + 1));
            } else if (!param.empty()) {
                query += query.empty() ? "?" : "&";
                query += param;
            }
            p = amp + 1;
        }
        head += query;
    }
    out.redacted = std::move(head);
    return out;
}

bool is_space(char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// "key = value key='quoted \' value'": libpq's conninfo_parse, token by token. An input it would
// not accept cannot be shown safely (where a value ends is unclear), so it is replaced whole.
UrlSecrets split_conninfo(std::string_view s) {
    UrlSecrets out;
    std::string shown;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < s.size() && is_space(s[i]))
            ++i;
    };
    for (;;) {
        skip_space();
        if (i >= s.size())
            break;
        const std::size_t key_begin = i;
        while (i < s.size() && s[i] != '=' && !is_space(s[i]))
            ++i;
        const std::string_view key = s.substr(key_begin, i - key_begin);
        skip_space();
        if (i >= s.size() || s[i] != '=') {
            out.secrets.emplace_back(s); // all of it: nothing in it can be told apart
            out.redacted = "(an unreadable connection string)";
            return out;
        }
        ++i;
        skip_space();
        std::string value;
        const std::size_t value_begin = i;
        if (i < s.size() && s[i] == '\'') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    value += s[i + 1];
                    i += 2;
                } else if (s[i] == '\'') {
                    ++i;
                    closed = true;
                    break;
                } else {
                    value += s[i++];
                }
            }
            if (!closed) {
                out.secrets.emplace_back(s);
                out.redacted = "(an unreadable connection string)";
                return out;
            }
        } else {
            while (i < s.size() && !is_space(s[i])) {
                if (s[i] == '\\' && i + 1 < s.size())
                    ++i;
                value += s[i++];
            }
        }
        if (is_secret_key(key)) {
            add_secret(out, value);
            add_secret(out, s.substr(value_begin, i - value_begin));
            continue;
        }
        if (!shown.empty())
            shown += ' ';
        shown += s.substr(key_begin, i - key_begin);
    }
    out.redacted = std::move(shown);
    return out;
}

} // namespace

UrlSecrets url_secrets(std::string_view url) {
    for (auto scheme : kSchemes)
        if (url.starts_with(scheme))
            return split_uri(url, scheme.size());
    if (url.find('=') == std::string_view::npos)
        return UrlSecrets{std::string(url), {}}; // a bare database name
    return split_conninfo(url);
}

std::string redact_url(std::string_view url) {
    return url_secrets(url).redacted;
}

std::string scrub_secret(std::string text, std::string_view secret) {
    if (secret.empty())
        return text;
    constexpr std::string_view kMask = "***";
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + kMask.size()))
        text.replace(at, secret.size(), kMask);
    return text;
}

} // namespace crm::pg
