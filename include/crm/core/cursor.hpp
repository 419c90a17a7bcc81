#pragma once
// Paging cursors (issue 19): opaque to clients, they name the list they page through and where
// the next page starts. A cursor is only accepted by the list (and, for search, the query) that
// gave it. Pure.

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// A cursor position that is a row's sort key: integers, "-" for a missing one, colon separated
// ("1700000000:42", "1:-:7").
[[nodiscard]] inline std::string
key_position(std::initializer_list<std::optional<std::int64_t>> key) {
    std::string out;
    bool first = true;
    for (const auto& k : key) {
        if (!first)
            out += ':';
        first = false;
        out += k ? std::to_string(*k) : std::string("-");
    }
    return out;
}

// The `n` fields of a key_position. Errors "cursor.invalid" when it is not one of `n` fields.
[[nodiscard]] inline Result<std::vector<std::optional<std::int64_t>>>
parse_key_position(std::string_view position, std::size_t n) {
    std::vector<std::optional<std::int64_t>> out;
    std::size_t start = 0;
    for (;;) {
        const auto colon = position.find(':', start);
        const auto field = position.substr(
            start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
        if (field == "-") {
            out.emplace_back();
        } else {
            std::int64_t v = 0;
            auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
            if (field.empty() || ec != std::errc() || end != field.data() + field.size())
                return fail("cursor.invalid", "the cursor is damaged: start again without it");
            out.emplace_back(v);
        }
        if (colon == std::string_view::npos)
            break;
        start = colon + 1;
    }
    if (out.size() != n)
        return fail("cursor.invalid", "the cursor is damaged: start again without it");
    return out;
}

// A cursor of `list` and `scope` (list_scope of what the list is of) holding a row's sort key.
[[nodiscard]] inline std::string
encode_key_cursor(std::string_view list, std::string_view scope,
                  std::initializer_list<std::optional<std::int64_t>> key) {
    return encode_cursor(list, list_scope(scope), key_position(key));
}

// The `n` key fields of a cursor encode_key_cursor gave for `list` and `scope`.
[[nodiscard]] inline Result<std::vector<std::optional<std::int64_t>>>
decode_key_cursor(std::string_view cursor, std::string_view list, std::string_view scope,
                  std::size_t n) {
    auto position = decode_cursor(cursor, list, list_scope(scope));
    if (!position)
        return std::unexpected(position.error());
    return parse_key_position(*position, n);
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
