#pragma once
// The sorter's reasons ("contact x of deal 1001", "candidates: deals 1001, 1002") as a viewer may
// read them: the deal ids they may not see become "another deal", so a reason never names
// someone else's private deal. Shared by both databases' read models. Pure.

#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

// `reason` with each number it uses as a deal id (after "deal " / "deals " or in their list)
// replaced by "another deal" when `hidden(id)` says so. `hidden` returns bool or Result<bool>;
// its first error is returned.
template <class Hidden>
Result<std::string> redact_deal_ids(const std::string& reason, Hidden&& hidden) {
    std::string out;
    std::size_t i = 0;
    while (i < reason.size()) {
        const auto c = static_cast<unsigned char>(reason[i]);
        if (c < '0' || c > '9' ||
            (i > 0 && std::isalnum(static_cast<unsigned char>(reason[i - 1])))) {
            out += reason[i++];
            continue;
        }
        std::size_t j = i;
        while (j < reason.size() && reason[j] >= '0' && reason[j] <= '9')
            ++j;
        const std::string digits = reason.substr(i, j - i);
        const std::string_view before = std::string_view(reason).substr(0, i);
        const bool listed =
            before.ends_with("deal ") || before.ends_with("deals ") ||
            (before.ends_with(", ") && before.find("deals ") != std::string_view::npos);
        bool hide = false;
        if (listed && digits.size() < 18) {
            auto h = hidden(static_cast<DealId>(std::stoll(digits)));
            if constexpr (std::is_same_v<decltype(h), bool>) {
                hide = h;
            } else {
                if (!h)
                    return std::unexpected(h.error());
                hide = *h;
            }
        }
        out += hide ? std::string("another deal") : digits;
        i = j;
    }
    return out;
}

// The unsorted reason of a thread unlinked by hand: it names the deal it was taken from (a
// viewer who may not see that deal reads "another deal"), and the thread is held for a person.
[[nodiscard]] inline std::string unlink_reason(const std::optional<DealId>& from) {
    return from ? "not this deal: unlinked by hand from deal " + std::to_string(*from)
                : std::string("unlinked by hand");
}

} // namespace crm
