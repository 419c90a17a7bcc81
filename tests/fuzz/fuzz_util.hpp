#pragma once
// Checks shared by the fuzz targets.

#include <cstddef>
#include <string_view>

namespace crm::fuzz {

// UTF-8 structure: lead bytes C2..F4, the right number of continuation bytes, nothing cut off.
inline bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        if (c < 0x80)
            n = 1;
        else if ((c & 0xE0U) == 0xC0U && c >= 0xC2U)
            n = 2;
        else if ((c & 0xF0U) == 0xE0U)
            n = 3;
        else if ((c & 0xF8U) == 0xF0U && c <= 0xF4U)
            n = 4;
        else
            return false;
        if (i + n > s.size())
            return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0U) != 0x80U)
                return false;
        i += n;
    }
    return true;
}

} // namespace crm::fuzz
