#pragma once
// Helpers shared by the mime tests: test data location, file reading, UTF-8 checking.

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "crm/mime/parse.hpp"

namespace crm::mime::test {

inline std::filesystem::path data_dir() {
    return std::filesystem::path(CRM_TEST_DATA_DIR);
}
inline std::filesystem::path corpora() {
    return data_dir() / "corpora";
}

inline std::string read_file(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary | std::ios::ate);
    if (!in)
        return {};
    const auto size = static_cast<std::streamoff>(in.tellg());
    std::string s(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
    in.seekg(0);
    in.read(s.data(), static_cast<std::streamsize>(s.size()));
    return s;
}

// Independent of GLib on purpose: a strict UTF-8 validator (no overlongs, no surrogates).
inline bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        unsigned cp = 0;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if ((c & 0xE0U) == 0xC0U) {
            n = 2;
            cp = c & 0x1FU;
        } else if ((c & 0xF0U) == 0xE0U) {
            n = 3;
            cp = c & 0x0FU;
        } else if ((c & 0xF8U) == 0xF0U) {
            n = 4;
            cp = c & 0x07U;
        } else {
            return false;
        }
        if (i + n > s.size())
            return false;
        for (std::size_t k = 1; k < n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0U) != 0x80U)
                return false;
            cp = (cp << 6) | (d & 0x3FU);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

inline ParsedMessage parse_str(std::string_view s, const ParseLimits &limits = {}) {
    return parse(std::span<const char>(s.data(), s.size()), limits);
}

inline bool has_warning(const ParsedMessage &m, std::string_view needle) {
    for (const auto &w : m.warnings)
        if (w.find(needle) != std::string::npos)
            return true;
    return false;
}

} // namespace crm::mime::test
