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
    // Where a search stops (kSearchCap unless set): a small one lets tests reach it with a few
    // messages.
    void set_cap(std::int64_t cap) { cap_ = cap; }

  private:
    Database& db_;
    std::int64_t cap_ = kSearchCap;
};

} // namespace crm::store
