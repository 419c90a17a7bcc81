#pragma once
// IMAP flags as the store keeps them: one space-separated string per location ("\Seen \Flagged").

#include <string>
#include <string_view>
#include <vector>

#include "crm/core/utf8.hpp"

namespace crm {

// True when `flags` holds \Seen (flag names are case-insensitive, RFC 3501 §2.3.2).
[[nodiscard]] inline bool has_seen_flag(const std::vector<std::string>& flags) {
    for (const auto& f : flags)
        if (ascii_iequals(f, "\\seen"))
            return true;
    return false;
}

[[nodiscard]] inline std::string join_flags(const std::vector<std::string>& flags) {
    std::string out;
    for (const auto& f : flags) {
        if (!out.empty())
            out += ' ';
        out += f;
    }
    return out;
}

[[nodiscard]] inline std::vector<std::string> split_flags(std::string_view joined) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < joined.size()) {
        auto j = joined.find(' ', i);
        if (j == std::string_view::npos)
            j = joined.size();
        if (j > i)
            out.emplace_back(joined.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

} // namespace crm
