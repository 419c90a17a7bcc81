#pragma once
// The search box's query language (issue 19), as mail tools people know it (Gmail, notmuch):
//
//   price offer            words: every one must occur (subject, body, people, file names)
//   "price offer"          a phrase: the words next to each other
//   -draft                 a word (or -"phrase", -from:x) that must not occur; needs a word or a
//                          filter beside it
//   from:acme.com          the sender's name or address holds it (a word or "a phrase")
//   to:bob                 a recipient's (To, Cc; never Bcc) name or address holds it
//   subject:offer          the subject holds it
//   filename:pdf           an attachment's file name holds it
//   deal:1001              in the thread linked to deal 1001
//   has:attachment         with an attachment (not an inline image)
//   after:2026-01-31       on or after that day (UTC); before:2026-03-01 before that day
//   is:unread is:read      unread (read) for the viewer
//   is:unsorted            in a thread that is in the unsorted queue
//
// Case, diacritics and the order of the parts do not matter; Chinese and Japanese text is
// found by substrings (the store indexes it as overlapping pairs of characters). Pure.

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"

namespace crm {

struct SearchTerm {
    enum class Field { Any, From, To, Subject, Filename };
    Field field = Field::Any;
    std::string text; // as typed (a phrase without its quotes), never empty
    bool negated = false;
};

struct SearchQuery {
    std::vector<SearchTerm> terms;
    std::optional<DealId> deal;
    bool has_attachment = false;
    std::optional<std::int64_t> after, before; // Unix seconds: after <= date < before
    std::optional<bool> unread;                // is:unread (true), is:read (false)
    bool unsorted = false;
    // True when a term other than a negated one narrows the search by text.
    [[nodiscard]] bool has_text() const;
};

// Where a query is malformed: `position` counts characters (code points) from 1.
struct QueryError {
    std::size_t position = 0;
    std::string message;
};

// Errors: an unterminated quote, an empty operator value, an unknown operator (naming the known
// ones), a bad date or deal id, an empty query, negated words alone, a query over 1000 bytes
// or 50 parts, text that is not UTF-8.
[[nodiscard]] std::expected<SearchQuery, QueryError> parse_search_query(std::string_view text);

// YYYY-MM-DD (or YYYY/MM/DD) as Unix seconds at 00:00 UTC; nullopt when it is not a real day
// from 1970 on (before:/after: here, the activity report's from/to).
[[nodiscard]] std::optional<std::int64_t> parse_day(std::string_view s);

} // namespace crm
