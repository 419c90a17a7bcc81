#pragma once
// Full-text search over the stored mail (issue 19): the port the store implements and the API,
// the page and crm-mailctl use. Results are exactly the messages the viewer may see (the
// visibility rule of read_model.hpp), ranked.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/core/search_query.hpp"

namespace crm {

// A piece of a result's snippet: text, and whether it is what the query matched.
struct SnippetPart {
    std::string text;
    bool hit = false;
};

struct SearchHit {
    MessageRowId message = 0;
    ThreadId thread = 0;
    std::string subject, from_name, from_address;
    std::optional<std::int64_t> date;
    std::int64_t received_at = 0;
    std::optional<DealId> deal; // only a deal the viewer may see
    std::string deal_name;
    bool unread = false;
    bool outgoing = false;
    bool has_attachment = false;
    std::vector<SnippetPart> snippet; // the best matching passage (subject, body, people, files)
};

struct SearchPage {
    std::vector<SearchHit> hits;
    std::int64_t total = 0; // every hit the viewer may see, not only this page's
    // The search stopped at kSearchCap hits: there are more than `total` ("1,000+").
    bool total_capped = false;
};

// A search considers the kSearchCap hits most recently stored that the viewer may see: a text
// query ranks those, and the count and the pages stop there. A broad word matches tens of
// thousands of messages; ranking and counting them all cost 200-400 ms a query.
inline constexpr std::int64_t kSearchCap = 1'000;

class Search {
  public:
    virtual ~Search() = default;
    // Hits `offset`.. `offset + limit` in rank order (text queries: relevance, the subject and
    // the sender weighing most; filters only: newest first). Errors: "search.unavailable" (the
    // backend has no full-text index), the store's (a damaged index among them: crm-mailctl db
    // reindex rebuilds it).
    virtual Result<SearchPage> search(const Viewer& v, const SearchQuery& q, std::size_t offset,
                                      std::size_t limit) = 0;
    // Builds the index again from the stored messages; returns how many are indexed.
    virtual Result<std::int64_t> reindex() = 0;
};

} // namespace crm
