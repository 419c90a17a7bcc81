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
