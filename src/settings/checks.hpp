#pragma once
// Value checks used by the config validator. Kept apart from config.cpp so that only one
// translation unit includes toml++.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace crm::settings::detail {

// Levenshtein distance (insert, delete, substitute; ASCII case-sensitive).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible typo.
[[nodiscard]] std::optional<std::string_view>
closest_match(std::string_view word, std::span<const std::string_view> candidates);

// "localhost" (any case, optional trailing dot), 127.0.0.0/8, ::1 (bracketed or not, any
// spelling of the address).
[[nodiscard]] bool is_loopback_host(std::string_view host);

// A DNS name or an IP literal: no spaces, control bytes, or URL punctuation.
[[nodiscard]] bool is_valid_host(std::string_view host);

[[nodiscard]] bool is_ipv4_literal(std::string_view s);
[[nodiscard]] bool is_ipv6_literal(std::string_view s); // without brackets

// addr-spec sanity check (RFC 5322 §3.4.1, loosely): one '@', non-empty local part and a
// dotted domain of non-empty labels, no whitespace or control bytes.
[[nodiscard]] bool is_valid_address(std::string_view address);

[[nodiscard]] bool is_env_name(std::string_view s);        // [A-Za-z_][A-Za-z0-9_]*
[[nodiscard]] bool is_credential_name(std::string_view s); // systemd credential name

// nullopt when the OAuth token endpoint is acceptable, otherwise why not: it must be an
// absolute https:// URL, or http:// to a loopback host (RFC 8252 §8.3 style local testing).
[[nodiscard]] std::optional<std::string> check_token_endpoint(std::string_view url);

} // namespace crm::settings::detail
