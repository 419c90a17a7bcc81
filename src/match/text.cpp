#include "text.hpp"

namespace crm::match::detail {

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

bool is_ascii(std::string_view s) noexcept {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80)
            return false;
    return true;
}

std::optional<std::vector<char32_t>> decode_utf8(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        if (b0 < 0x80) {
            out.push_back(b0);
            ++i;
            continue;
        }
        std::size_t len = 0;
        char32_t cp = 0;
        char32_t min = 0;
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
            return std::nullopt;
        }
        if (i + len > s.size())
            return std::nullopt;
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            if ((b & 0xC0U) != 0x80U)
                return std::nullopt;
            cp = (cp << 6U) | (b & 0x3FU);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return std::nullopt;
        out.push_back(cp);
        i += len;
    }
    return out;
}

void append_utf8(std::string& out, char32_t cp) {
    const auto u = static_cast<std::uint32_t>(cp);
    if (u < 0x80) {
        out.push_back(static_cast<char>(u));
    } else if (u < 0x800) {
        out.push_back(static_cast<char>(0xC0U | (u >> 6U)));
        out.push_back(static_cast<char>(0x80U | (u & 0x3FU)));
    } else if (u < 0x10000) {
        out.push_back(static_cast<char>(0xE0U | (u >> 12U)));
        out.push_back(static_cast<char>(0x80U | ((u >> 6U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | (u & 0x3FU)));
    } else {
        out.push_back(static_cast<char>(0xF0U | (u >> 18U)));
        out.push_back(static_cast<char>(0x80U | ((u >> 12U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | ((u >> 6U) & 0x3FU)));
        out.push_back(static_cast<char>(0x80U | (u & 0x3FU)));
    }
}

} // namespace crm::match::detail
