#pragma once
// Full-text search on SQLite (crm/core/search.hpp): the FTS5 index of schema/0014, read with the
// read model's visibility rule. Borrows the Database; one thread at a time.

#include <cstddef>
#include <cstdint>
#include <string>

#include "crm/core/search.hpp"
#include "crm/store/database.hpp"

namespace SQLite {
class Statement;
}

namespace crm::store {

class SearchStore final : public Search {
  public:
    explicit SearchStore(Database& db) : db_(db) {}
    Result<SearchPage> search(const Viewer& v, const SearchQuery& q, std::size_t offset,
                              std::size_t limit) override;
    Result<std::int64_t> reindex() override;

  private:
    // Counts and ranks in the index alone, then reads the page's messages (an admin's search
    // without filters on the messages' rows).
    void search_index_only(SearchPage& page, const std::string& match, const std::string& exclude,
                           std::size_t offset, std::size_t limit);
    void add_snippets(SearchPage& page, const std::string& match);
    static SearchHit read_hit(SQLite::Statement& s, bool with_opening = false);
    Database& db_;
};

} // namespace crm::store
