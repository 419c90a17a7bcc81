#pragma once
// Searching the mail, once for every front-end (GET /api/v1/search, crm-mailctl search): a page
// of hits for the viewer, and the cursor of the next page. The query is parsed by the front-end
// (parse_search_query), which reports a malformed one with its position in its own way.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "crm/core/backend.hpp"
#include "crm/core/search.hpp"

namespace crm::app {

inline constexpr std::size_t kSearchPageDefault = 25;
inline constexpr std::size_t kSearchPageMax = 100;

struct SearchResult {
    SearchPage page;
    std::optional<std::string> next_cursor; // when there are more hits
};

// `text` is the query as typed (the cursor is bound to it); `cursor` empty for the first page.
// Errors: "cursor.invalid" (from another list or query, or damaged), "search.unavailable", the
// store's.
Result<SearchResult> search(Backend& b, const Viewer& v, const SearchQuery& q,
                            std::string_view text, std::string_view cursor, std::size_t limit);

} // namespace crm::app
