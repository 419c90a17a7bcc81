#pragma once
// IMAP flags. The store keeps a location's flags as one space-separated string ("\Seen \Flagged"):
// stored::join and stored::split_ws (stored_json.hpp).

#include <string>
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

} // namespace crm
