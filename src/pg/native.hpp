#pragma once
// Private to the pg module: libpq itself and the helpers that turn its results into Results.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg::detail {

// Type OIDs of the built-in types (PostgreSQL's pg_type.dat; fixed since 7.x).
inline constexpr Oid kBoolOid = 16;
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kInt2Oid = 21;
inline constexpr Oid kInt4Oid = 23;
inline constexpr Oid kFloat4Oid = 700;
inline constexpr Oid kFloat8Oid = 701;
inline constexpr Oid kNumericOid = 1700;

// How much of a statement names it in messages: its start, whitespace folded.
inline constexpr std::size_t kLabelChars = 60;

// A short label for `sql`: "INSERT INTO messages (id, ...".
std::string statement_label(std::string_view sql);

// A libpq message on one line: trailing newline dropped, inner line breaks as "; ".
std::string one_line(std::string_view message);

// The Error for a failed statement: `r` may be null (libpq could not build a result: out of
// memory, or the connection is gone). Names `what` and `url` (already redacted), the server's
// primary message, the constraint (never the DETAIL line: it quotes row values, i.e. mail) and
// the SQLSTATE.
Error result_error(PGconn* c, const PGresult* r, std::string_view what, std::string_view url);

// The Error for a failure libpq reports on the connection (PQerrorMessage), without a result.
Error connection_error(PGconn* c, std::string_view what, std::string_view url);

// Takes ownership of `r`: a ResultSet when it succeeded (rows or a command), else its Error.
Result<ResultSet> take_result(PGconn* c, PGresult* r, std::string what, std::string_view url);

// Parameter arrays for PQexecParams / PQsendQueryParams. bytea values point into `params` (sent
// in binary format, with their lengths); text values are copied: libpq ignores the lengths of
// text parameters and reads each as a C string, so a borrowed string_view would be read past
// its end, and a NUL inside one would cut it short without a word.
struct ParamArrays {
    explicit ParamArrays(std::span<const Param> params);
    std::vector<Oid> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    std::vector<std::string> text; // the copies (reserved up front: values point into them)
    // The first text parameter (1-based, as $n) holding a NUL byte: PostgreSQL's text cannot.
    std::optional<std::size_t> nul_in;
    [[nodiscard]] int count() const { return static_cast<int>(values.size()); }
    // "pg.data" naming `what` and the parameter when one holds a NUL byte.
    [[nodiscard]] Result<void> check(std::string_view what) const;
};

} // namespace crm::pg::detail
