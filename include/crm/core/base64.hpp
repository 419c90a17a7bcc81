#pragma once
// The value of one base64 digit (RFC 4648 §4), or -1. `c63` is the 64th digit: '/' in standard
// base64 (RFC 2047 B encoding, Outlook's Thread-Index), ',' in IMAP's modified UTF-7
// (RFC 3501 §5.1.3). Pure.

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

} // namespace crm
