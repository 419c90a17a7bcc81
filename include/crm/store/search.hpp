#pragma once
// Full-text search on SQLite (crm/core/search.hpp): the FTS5 index of schema/0014, read with the
// read model's visibility rule. Borrows the Database; one thread at a time.

#include <cstddef>
#include <cstdint>

#include "crm/core/search.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

class SearchStore final : public Search {
  public:
    explicit SearchStore(Database& db) : db_(db) {}
    Result<SearchPage> search(const Viewer& v, const SearchQuery& q, std::size_t offset,
                              std::size_t limit) override;
    Result<std::int64_t> reindex() override;
    // How many hits a text query ranks and where counting stops (kSearchRankWindow and
    // kSearchCountCap unless set): small ones let tests reach both with a few messages.
    void set_limits(std::size_t rank_window, std::int64_t count_cap) {
        rank_window_ = rank_window;
        count_cap_ = count_cap;
    }

  private:
    Database& db_;
    std::size_t rank_window_ = kSearchRankWindow;
    std::int64_t count_cap_ = kSearchCountCap;
};

} // namespace crm::store
