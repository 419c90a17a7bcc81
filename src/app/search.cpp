// Searching the mail (see search.hpp).
#include "crm/app/search.hpp"

#include <algorithm>

#include "crm/core/cursor.hpp"

namespace crm::app {

Result<SearchResult> search(Backend& b, const Viewer& v, const SearchQuery& q,
                            std::string_view text, std::string_view cursor, std::size_t limit) {
    limit = std::clamp<std::size_t>(limit, 1, kSearchPageMax);
    const std::string scope = list_scope(text);
    std::size_t offset = 0;
    if (!cursor.empty()) {
        auto position = decode_cursor(cursor, "search", scope);
        if (!position)
            return std::unexpected(position.error());
        auto n = cursor_offset(*position);
        if (!n)
            return std::unexpected(n.error());
        offset = *n;
    }
    auto page = b.search().search(v, q, offset, limit);
    if (!page)
        return std::unexpected(page.error());
    SearchResult r;
    r.page = std::move(*page);
    const std::size_t next = offset + r.page.hits.size();
    if (!r.page.hits.empty() && next < static_cast<std::size_t>(r.page.total))
        r.next_cursor = encode_cursor("search", scope, std::to_string(next));
    return r;
}

} // namespace crm::app
