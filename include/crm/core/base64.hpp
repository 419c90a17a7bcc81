#pragma once
// The value of one base64 digit (RFC 4648 §4), or -1. `c63` is the 64th digit: '/' in standard
// base64 (RFC 2047 B encoding, Outlook's Thread-Index), ',' in IMAP's modified UTF-7
// (RFC 3501 §5.1.3). Pure.

#include <cstddef>
#include <cstdint>
#include <optional>
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

// Strict standard base64 (ASCII whitespace ignored, '=' padding only at the end): Outlook's
// Thread-Index, a report a gateway encoded once more. nullopt when malformed.
inline std::optional<std::string> base64_decode(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (char c : in) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
            continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding != 0)
            return std::nullopt; // data after padding
        const int v = base64_value(c);
        if (v < 0)
            return std::nullopt;
        ++symbols;
        acc = ((acc << 6U) | static_cast<std::uint32_t>(v)) & 0xFFFFFFU;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
        }
    }
    if (symbols % 4 == 1 || padding > 2)
        return std::nullopt; // a lone 6-bit symbol cannot encode a byte
    if (padding != 0 && (symbols + padding) % 4 != 0)
        return std::nullopt;
    return out;
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
