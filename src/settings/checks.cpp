#include "checks.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "crm/core/utf8.hpp"

namespace crm::settings::detail {

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
    if (is_digit(c))
        return c - '0';
    return ascii_lower(c) - 'a' + 10;
}

bool is_control_or_space(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
}

// Dotted quad, each part 1-3 decimal digits <= 255. Returns the first octet.
std::optional<int> ipv4_first_octet(std::string_view s) {
    int parts = 0;
    int first = -1;
    std::size_t i = 0;
    while (true) {
        std::size_t digits = 0;
        int value = 0;
        while (i < s.size() && is_digit(s[i]) && digits < 4) {
            value = value * 10 + (s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || value > 255)
            return std::nullopt;
        if (parts == 0)
            first = value;
        ++parts;
        if (i == s.size())
            break;
        if (s[i] != '.' || parts == 4)
            return std::nullopt;
        ++i;
    }
    if (parts != 4)
        return std::nullopt;
    return first;
}

// RFC 4291 §2.2 text form (no zone id) -> 8 groups; an embedded IPv4 tail is accepted.
std::optional<std::array<std::uint16_t, 8>> parse_ipv6(std::string_view s) {
    std::vector<std::uint16_t> head;
    std::vector<std::uint16_t> tail;
    bool compressed = false;
    const auto dc = s.find("::");
    std::string_view left = s;
    std::string_view right;
    if (dc != std::string_view::npos) {
        compressed = true;
        left = s.substr(0, dc);
        right = s.substr(dc + 2);
        if (right.find("::") != std::string_view::npos)
            return std::nullopt;
    }
    auto parse_groups = [](std::string_view part, std::vector<std::uint16_t>& out) {
        if (part.empty())
            return true;
        std::size_t start = 0;
        while (true) {
            const auto colon = part.find(':', start);
            const std::string_view g = part.substr(
                start, colon == std::string_view::npos ? part.size() - start : colon - start);
            if (colon == std::string_view::npos && g.find('.') != std::string_view::npos) {
                if (!ipv4_first_octet(g))
                    return false;
                // Two groups' worth; the value does not matter for our checks beyond shape.
                unsigned octets[4] = {};
                std::size_t k = 0;
                for (char c : g) {
                    if (c == '.')
                        ++k;
                    else
                        octets[k] = octets[k] * 10 + static_cast<unsigned>(c - '0');
                }
                out.push_back(static_cast<std::uint16_t>((octets[0] << 8) | octets[1]));
                out.push_back(static_cast<std::uint16_t>((octets[2] << 8) | octets[3]));
                return true;
            }
            if (g.empty() || g.size() > 4 || !std::all_of(g.begin(), g.end(), is_hex))
                return false;
            unsigned v = 0;
            for (char c : g)
                v = v * 16 + static_cast<unsigned>(hex_value(c));
            out.push_back(static_cast<std::uint16_t>(v));
            if (colon == std::string_view::npos)
                return true;
            start = colon + 1;
        }
    };
    if (!parse_groups(left, head) || !parse_groups(right, tail))
        return std::nullopt;
    const std::size_t n = head.size() + tail.size();
    if (compressed ? n > 7 : n != 8)
        return std::nullopt;
    std::array<std::uint16_t, 8> out{};
    std::copy(head.begin(), head.end(), out.begin());
    std::copy(tail.begin(), tail.end(), out.end() - static_cast<std::ptrdiff_t>(tail.size()));
    return out;
}

} // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
    // Keys are short; cap the work for absurd input (fuzzing) rather than the answer.
    if (word.size() > 64)
        return std::nullopt;
    // An abbreviation ("warn" for "warning") is the likeliest intent.
    if (word.size() >= 3) {
        for (const std::string_view c : candidates)
            if (c.size() > word.size() && c.starts_with(word))
                return c;
    }
    std::optional<std::string_view> best;
    std::size_t best_distance = 0;
    for (const std::string_view c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (!best || d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    // Up to a third of the longer word may be wrong, but at least 2 edits are always allowed
    // ("tsl" -> "tls" is a transposition = 2 edits).
    const std::size_t limit =
        std::max<std::size_t>(2, std::max(word.size(), best ? best->size() : 0) / 3);
    if (best && best_distance <= limit && best_distance < std::max(word.size(), best->size()))
        return best;
    return std::nullopt;
}

bool is_ipv4_literal(std::string_view s) {
    return ipv4_first_octet(s).has_value();
}

bool is_ipv6_literal(std::string_view s) {
    return parse_ipv6(s).has_value();
}

bool is_loopback_host(std::string_view host) {
    if (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (ascii_iequals(host, "localhost"))
        return true;
    if (const auto first = ipv4_first_octet(host))
        return *first == 127;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (const auto groups = parse_ipv6(host)) {
        constexpr std::array<std::uint16_t, 8> kLoopback{0, 0, 0, 0, 0, 0, 0, 1};
        if (*groups == kLoopback)
            return true;
        // IPv4-mapped ::ffff:127.x.y.z
        const bool mapped = std::all_of(groups->begin(), groups->begin() + 5,
                                        [](std::uint16_t g) { return g == 0; }) &&
                            (*groups)[5] == 0xffff;
        return mapped && ((*groups)[6] >> 8) == 127;
    }
    return false;
}

bool is_valid_host(std::string_view host) {
    if (host.empty() || host.size() > 255)
        return false;
    if (host.front() == '[') {
        return host.size() > 2 && host.back() == ']' &&
               is_ipv6_literal(host.substr(1, host.size() - 2));
    }
    if (host.find(':') != std::string_view::npos)
        return is_ipv6_literal(host);
    for (char c : host) {
        if (is_control_or_space(c))
            return false;
        if (std::string_view("/\\@?#[]%\"'<>,;").find(c) != std::string_view::npos)
            return false;
    }
    return host.front() != '.' && host.find("..") == std::string_view::npos;
}

bool is_valid_address(std::string_view address) {
    if (address.size() > 320)
        return false;
    const auto at = address.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == address.size())
        return false;
    if (std::any_of(address.begin(), address.end(), is_control_or_space))
        return false;
    const std::string_view local = address.substr(0, at);
    const std::string_view domain = address.substr(at + 1);
    // A quoted local part may contain '@'; anything else may not.
    if (local.find('@') != std::string_view::npos &&
        !(local.size() >= 2 && local.front() == '"' && local.back() == '"'))
        return false;
    if (domain.front() == '[')
        return domain.back() == ']';
    if (domain.front() == '.' || domain.back() == '.' ||
        domain.find("..") != std::string_view::npos || domain.find('.') == std::string_view::npos)
        return false;
    return std::none_of(domain.begin(), domain.end(), [](char c) {
        return std::string_view("()<>[]:;@\\,\"").find(c) != std::string_view::npos;
    });
}

bool is_env_name(std::string_view s) {
    if (s.empty() || is_digit(s.front()))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
}

bool is_credential_name(std::string_view s) {
    // systemd: a valid file name (no '/', not "." or ".."), at most 255 bytes.
    if (s.empty() || s.size() > 255 || s == "." || s == "..")
        return false;
    return std::none_of(s.begin(), s.end(),
                        [](char c) { return c == '/' || is_control_or_space(c); });
}

std::optional<std::string> check_token_endpoint(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos)
        return "must be an absolute https:// URL";
    const std::string_view scheme = url.substr(0, scheme_end);
    const bool https = ascii_iequals(scheme, "https");
    if (!https && !ascii_iequals(scheme, "http"))
        return "must be an https:// URL";
    std::string_view authority = url.substr(scheme_end + 3);
    authority = authority.substr(0, authority.find_first_of("/?#"));
    // RFC 3986 §3.2.1: userinfo ends at the last '@' of the authority. Credentials do not belong
    // in the URL, and "http://127.0.0.1@evil.example" must not pass as loopback.
    if (authority.find('@') != std::string_view::npos)
        return "must not contain user information (user@)";
    std::string_view host = authority;
    if (!host.empty() && host.front() == '[') {
        const auto close = host.find(']');
        if (close == std::string_view::npos)
            return "has an unterminated [IPv6] host";
        host = host.substr(0, close + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    if (host.empty() || !is_valid_host(host))
        return "has no valid host";
    if (!https && !is_loopback_host(host))
        return "must use https:// (http:// is allowed only to a loopback host)";
    return std::nullopt;
}

} // namespace crm::settings::detail
