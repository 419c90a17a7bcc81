#pragma once
// The CRM records the sorter reads, summed up in one value that changes whenever any of them
// changes (ResortStore::crm_fingerprint): each store's queries (one per table, the same SQL on
// SQLite and PostgreSQL) give one text per row; the rows are hashed one by one (FNV-1a, 64 bits)
// and added up, so the order rows come back in does not matter and neither backend sorts.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace crm {

// Adds rows of one query; `text()` is the fingerprint so far.
class CrmFingerprint {
  public:
    void add_row(std::string_view row) {
        std::uint64_t h = 14695981039346656037ULL;
        for (char c : row) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ULL;
        }
        sum_ += h;
        ++rows_;
    }
    // Ends one query's rows (so that a row moving from one table to another still counts).
    void end_query() {
        parts_ += fmt::format("{}:{:016x};", rows_, sum_);
        rows_ = 0;
        sum_ = 0;
    }
    [[nodiscard]] const std::string& text() const { return parts_; }

  private:
    std::uint64_t sum_ = 0;
    std::uint64_t rows_ = 0;
    std::string parts_;
};

} // namespace crm
