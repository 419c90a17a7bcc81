#pragma once
// The cursors of the paged lists (issue 19), one codec per list, shared by the API and
// crm-mailctl so that both give and take the same cursors: a deal's threads and the unsorted
// queue (ThreadKey), the deal list (DealKey) and the outbox (the id the next page starts below).
// Each names its list and what the list is of; another list's cursor is refused. Pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "crm/core/cursor.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"

namespace crm {

[[nodiscard]] inline Error damaged_cursor() {
    return Error{"cursor.invalid", "the cursor is damaged: start again without it"};
}

// `list` is "deal-threads" (with the scope "deal <id>") or "unsorted" (scope "").
[[nodiscard]] inline std::string thread_cursor(std::string_view list, std::string_view scope,
                                               const ThreadKey& k) {
    return encode_key_cursor(list, scope, {k.last_date, k.id});
}
[[nodiscard]] inline Result<ThreadKey>
parse_thread_cursor(std::string_view cursor, std::string_view list, std::string_view scope) {
    auto key = decode_key_cursor(cursor, list, scope, 2);
    if (!key)
        return std::unexpected(key.error());
    return ThreadKey{(*key)[0], (*key)[1].value_or(0)};
}

[[nodiscard]] inline std::string deal_cursor(const DealKey& k) {
    return encode_key_cursor("deals", "", {k.open ? 1 : 0, k.last_date, k.id});
}
[[nodiscard]] inline Result<DealKey> parse_deal_cursor(std::string_view cursor) {
    auto key = decode_key_cursor(cursor, "deals", "", 3);
    if (!key)
        return std::unexpected(key.error());
    const auto& k = *key;
    if (!k[0] || !k[2] || (*k[0] != 0 && *k[0] != 1))
        return std::unexpected(damaged_cursor());
    return DealKey{*k[0] == 1, k[1], *k[2]};
}

// Of the outbox entries in `state` ("": in any state): a cursor of another state would skip
// entries.
[[nodiscard]] inline std::string outbox_cursor(std::string_view state, std::int64_t before) {
    return encode_key_cursor("outbox", state, {before});
}
[[nodiscard]] inline Result<std::int64_t> parse_outbox_cursor(std::string_view cursor,
                                                              std::string_view state) {
    auto key = decode_key_cursor(cursor, "outbox", state, 1);
    if (!key)
        return std::unexpected(key.error());
    if (!(*key)[0])
        return std::unexpected(damaged_cursor());
    return *(*key)[0];
}

} // namespace crm
