#pragma once
// Small text helpers of the auth module.

#include <algorithm>
#include <string>
#include <string_view>

namespace crm::auth::detail {

// ASCII lower case (domain names compare case-insensitively, RFC 4343).
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    });
    return out;
}

} // namespace crm::auth::detail
