#pragma once
// Hexadecimal digits: their value, and bytes written as two lower-case digits each. Pure.

#include <string>
#include <string_view>

namespace crm {

// The value of one hex digit (either case), or -1.
constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// RFC 3986 §2.1 percent-decoding: %XX becomes the byte, a malformed escape stays as it is; with
// `plus_is_space` (a query string, application/x-www-form-urlencoded) '+' is a space.
inline std::string percent_decode(std::string_view s, bool plus_is_space = false) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
            hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += plus_is_space && s[i] == '+' ? ' ' : s[i];
        }
    }
    return out;
}

// Appends `bytes` to `out` as lower-case hex, two digits a byte.
inline void append_hex(std::string& out, std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::size_t at = out.size();
    out.resize(at + 2 * bytes.size());
    for (char ch : bytes) {
        const auto b = static_cast<unsigned char>(ch);
        out[at++] = kDigits[b >> 4];
        out[at++] = kDigits[b & 0x0f];
    }
}

} // namespace crm
