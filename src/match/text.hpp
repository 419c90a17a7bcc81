#pragma once
// Private helpers of the match module: ASCII case folding and UTF-8 decoding.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::match::detail {

[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

[[nodiscard]] std::string ascii_lower(std::string_view s);

[[nodiscard]] bool is_ascii(std::string_view s) noexcept;

// Code points of well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF);
// nullopt for anything else.
[[nodiscard]] std::optional<std::vector<char32_t>> decode_utf8(std::string_view s);

void append_utf8(std::string& out, char32_t cp);

} // namespace crm::match::detail
