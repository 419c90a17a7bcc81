// Quarantine ids (see quarantine.hpp).
#include "crm/core/quarantine.hpp"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace crm {

std::string quarantine_id(const QuarantineKey& k) {
    return fmt::format("{}:{}:{}", k.mailbox, k.uid_validity, k.uid);
}

std::optional<QuarantineKey> parse_quarantine_id(std::string_view text) {
    std::uint64_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; ++i) {
        const auto end = i < 2 ? text.find(':') : text.size();
        if (end == std::string_view::npos || end == 0)
            return std::nullopt;
        auto [p, ec] = std::from_chars(text.data(), text.data() + end, parts[i]);
        if (ec != std::errc() || p != text.data() + end)
            return std::nullopt;
        text.remove_prefix(i < 2 ? end + 1 : end);
    }
    constexpr auto kU32 = std::numeric_limits<std::uint32_t>::max();
    if (parts[0] == 0 ||
        parts[0] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
        parts[1] > kU32 || parts[2] == 0 || parts[2] > kU32)
        return std::nullopt;
    return QuarantineKey{static_cast<std::int64_t>(parts[0]), static_cast<std::uint32_t>(parts[1]),
                         static_cast<std::uint32_t>(parts[2])};
}

} // namespace crm
