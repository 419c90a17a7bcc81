#pragma once
// COPY ... FROM STDIN for bulk rows: the rows stream to the server in large chunks and are
// inserted by one statement, without a round trip or a plan per row.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

// Bytes of encoded rows gathered before they are handed to libpq (PQputCopyData): large enough
// that a call per row is avoided, small enough not to matter for memory.
inline constexpr std::size_t kCopyChunkBytes = 256 * 1024;

// One COPY in progress on a Connection (which must outlive it, and can do nothing else until it
// finishes). Fields are sent in COPY's text format, escaped here: NULL as \N, bytea as \x<hex>.
// Abandoned (destroyed before finish()), the COPY is cancelled and no row is kept.
class CopyIn {
  public:
    // Starts `copy_sql`, a "COPY table (columns) FROM STDIN" statement (text format, the
    // default). Errors as Connection::exec, and "pg.query" when the statement is not a COPY FROM
    // STDIN.
    static Result<CopyIn> begin(Connection& c, std::string_view copy_sql);
    CopyIn(CopyIn&& o) noexcept;
    CopyIn& operator=(CopyIn&&) = delete;
    CopyIn(const CopyIn&) = delete;
    CopyIn& operator=(const CopyIn&) = delete;
    ~CopyIn();

    // Appends one row, one Param per column of the statement (NULL, text, numbers, bytea).
    Result<void> row(std::span<const Param> fields);
    template <class... A> Result<void> row(A&&... fields) {
        const Param ps[sizeof...(A) + 1] = {Param(std::forward<A>(fields))..., Param(std::nullopt)};
        return row(std::span<const Param>(ps, sizeof...(A)));
    }
    // Ends the COPY and returns the number of rows the server stored. A row the server refuses
    // (a constraint, a malformed value) fails the whole COPY here, with that row's error.
    Result<std::int64_t> finish();

  private:
    CopyIn(Connection& c, std::string what) noexcept : c_(&c), what_(std::move(what)) {}
    Result<void> flush();
    Connection* c_;
    std::string what_;
    std::string buffer_;
};

} // namespace crm::pg
