#pragma once
// Paging cursors (issue 19): opaque to clients, they name the list they page through and where
// the next page starts. A cursor is only accepted by the list (and, for search, the query) that
// gave it. Pure.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "crm/core/hex.hpp"
#include "crm/core/result.hpp"

namespace crm {

// A short fingerprint of what a list is of (a search's query text, a deal's id): FNV-1a, 64 bits.
[[nodiscard]] inline std::string list_scope(std::string_view what) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : what) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return fmt::format("{:016x}", h);
}

// "<list>|<scope>|<position>" as hex.
[[nodiscard]] inline std::string encode_cursor(std::string_view list, std::string_view scope,
                                               std::string_view position) {
    std::string out;
    append_hex(out, fmt::format("{}|{}|{}", list, scope, position));
    return out;
}

// The position a cursor of `list` and `scope` holds. Errors "cursor.invalid" naming the list it
// came from when that is another (or another query's), or saying it is not a cursor.
[[nodiscard]] inline Result<std::string>
decode_cursor(std::string_view cursor, std::string_view list, std::string_view scope) {
    std::string raw;
    bool hex_ok = cursor.size() % 2 == 0 && cursor.size() <= 512;
    for (std::size_t i = 0; hex_ok && i < cursor.size(); i += 2) {
        const int hi = hex_value(cursor[i]), lo = hex_value(cursor[i + 1]);
        hex_ok = hi >= 0 && lo >= 0;
        raw += static_cast<char>(hi * 16 + lo);
    }
    const auto bar1 = raw.find('|');
    const auto bar2 = bar1 == std::string::npos ? bar1 : raw.find('|', bar1 + 1);
    if (!hex_ok || bar2 == std::string::npos)
        return fail("cursor.invalid",
                    "the cursor is not one this server gave out: start again without it");
    const std::string_view from_list = std::string_view(raw).substr(0, bar1);
    const std::string_view from_scope = std::string_view(raw).substr(bar1 + 1, bar2 - bar1 - 1);
    if (from_list != list)
        return fail(
            "cursor.invalid",
            fmt::format("the cursor belongs to another list ({}), not to {}", from_list, list));
    if (from_scope != scope)
        return fail("cursor.invalid",
                    fmt::format("the cursor belongs to another {} (other criteria): start again "
                                "without it",
                                list));
    return raw.substr(bar2 + 1);
}

// A cursor position that is a row offset.
[[nodiscard]] inline Result<std::size_t> cursor_offset(const std::string& position) {
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(position.data(), position.data() + position.size(), n);
    if (ec != std::errc() || end != position.data() + position.size() || n > 100'000'000)
        return fail("cursor.invalid", "the cursor is damaged: start again without it");
    return n;
}

} // namespace crm
