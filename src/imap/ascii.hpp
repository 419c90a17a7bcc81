#pragma once
// ASCII case folding for protocol words (RFC 3501 §9: atoms, status words and capability names
// are case-insensitive ASCII). Locale-free on purpose: tolower/toupper would fold 8-bit bytes in
// some locales. Private to the imap module: its one copy.

#include <algorithm>
#include <string>
#include <string_view>

namespace crm::imap {

[[nodiscard]] inline char ascii_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

[[nodiscard]] inline std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_upper(c);
    return out;
}

[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_upper(x) == ascii_upper(y);
           });
}

} // namespace crm::imap
