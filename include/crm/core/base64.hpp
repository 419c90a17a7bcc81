#pragma once
// The value of one base64 digit (RFC 4648 §4), or -1. `c63` is the 64th digit: '/' in standard
// base64 (RFC 2047 B encoding, Outlook's Thread-Index), ',' in IMAP's modified UTF-7
// (RFC 3501 §5.1.3). Pure.

#include <cstddef>
#include <string>
#include <string_view>

namespace crm {

constexpr int base64_value(char c, char c63 = '/') {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == c63)
        return 63;
    return -1;
}

// Standard base64 with padding (RFC 4648 §4), e.g. for SASL (RFC 4422) payloads.
inline std::string base64_encode(std::string_view in) {
    static constexpr char kDigits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size())
            v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
        if (i + 2 < in.size())
            v |= static_cast<unsigned char>(in[i + 2]);
        out += kDigits[(v >> 18) & 63];
        out += kDigits[(v >> 12) & 63];
        out += i + 1 < in.size() ? kDigits[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kDigits[v & 63] : '=';
    }
    return out;
}

} // namespace crm
