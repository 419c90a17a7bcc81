#include "crm/core/utf8.hpp"

#include <cstdint>

namespace crm {

Utf8Char decode_utf8_at(std::string_view s, std::size_t pos) noexcept {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    if (b0 < 0x80U)
        return {char32_t{b0}, 1, true};
    const Utf8Char bad{kUtf8EscapeBase + b0, 1, false};
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0; // smallest value needing `len` bytes: anything below is an overlong form
    if ((b0 & 0xE0U) == 0xC0U) {
        len = 2;
        cp = b0 & 0x1FU;
        min = 0x80;
    } else if ((b0 & 0xF0U) == 0xE0U) {
        len = 3;
        cp = b0 & 0x0FU;
        min = 0x800;
    } else if ((b0 & 0xF8U) == 0xF0U) {
        len = 4;
        cp = b0 & 0x07U;
        min = 0x10000;
    } else {
        return bad; // a continuation byte, or F8..FF
    }
    if (len > s.size() - pos)
        return bad;
    for (std::size_t k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[pos + k]);
        if ((b & 0xC0U) != 0x80U)
            return bad;
        cp = (cp << 6U) | (b & 0x3FU);
    }
    // RFC 3629 §3: no overlong forms, no surrogates (U+D800..U+DFFF), nothing past U+10FFFF.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return bad;
    return {cp, len, true};
}

std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_utf8_at(s, i);
        out.push_back(c.cp);
        i += c.size;
    }
    return out;
}

std::optional<std::u32string> decode_utf8_strict(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_utf8_at(s, i);
        if (!c.valid)
            return std::nullopt;
        out.push_back(c.cp);
        i += c.size;
    }
    return out;
}

bool is_valid_utf8(std::string_view s) noexcept {
    for (std::size_t i = 0; i < s.size();) {
        const Utf8Char c = decode_utf8_at(s, i);
        if (!c.valid)
            return false;
        i += c.size;
    }
    return true;
}

void append_utf8(std::string& out, char32_t cp) {
    auto byte = [&out](std::uint32_t v) { out.push_back(static_cast<char>(v & 0xFFU)); };
    const std::uint32_t v = cp;
    if (v >= kUtf8EscapeBase + 0x80 && v <= kUtf8EscapeBase + 0xFF) {
        byte(v - kUtf8EscapeBase);
    } else if (v < 0x80) {
        byte(v);
    } else if (v < 0x800) {
        byte(0xC0U | (v >> 6U));
        byte(0x80U | (v & 0x3FU));
    } else if (v < 0x10000) {
        byte(0xE0U | (v >> 12U));
        byte(0x80U | ((v >> 6U) & 0x3FU));
        byte(0x80U | (v & 0x3FU));
    } else {
        byte(0xF0U | (v >> 18U));
        byte(0x80U | ((v >> 12U) & 0x3FU));
        byte(0x80U | ((v >> 6U) & 0x3FU));
        byte(0x80U | (v & 0x3FU));
    }
}

std::string encode_utf8(std::u32string_view s) {
    std::string out;
    out.reserve(s.size());
    for (const char32_t c : s)
        append_utf8(out, c);
    return out;
}

char32_t fold_case(char32_t c) noexcept {
    if (c < 0x80)
        return (c >= U'A' && c <= U'Z') ? c + 0x20 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c == 0x130) // İ: Turkish capital dotted I; fold to plain i so "İlt" matches "ilt"
        return U'i';
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return c | 1U; // pairs: even upper, odd lower
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1U) != 0 ? c + 1 : c; // pairs: odd upper, even lower
    if (c == 0x178)
        return 0xFF;
    // Greek
    if (c == 0x386)
        return 0x3AC;
    if (c >= 0x388 && c <= 0x38A)
        return c + 37;
    if (c == 0x38C)
        return 0x3CC;
    if (c == 0x38E || c == 0x38F)
        return c + 63;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 0x20;
    if (c == 0x3C2) // final sigma folds to sigma
        return 0x3C3;
    // Cyrillic
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F))
        return c | 1U;
    if (c >= 0x4C1 && c <= 0x4CE)
        return (c & 1U) != 0 ? c + 1 : c;
    // Fullwidth Latin capitals
    if (c >= 0xFF21 && c <= 0xFF3A)
        return c + 0x20;
    return c;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

std::string ascii_upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_upper(c);
    return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

} // namespace crm
