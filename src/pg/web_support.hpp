#pragma once
// Private to the pg module: what the web store, the outbox and the throttle share to read rows
// and to bind values PostgreSQL's TEXT accepts.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "crm/core/result.hpp"
#include "crm/core/utf8.hpp"
#include "crm/pg/connection.hpp"
#include "native.hpp"

namespace crm::pg::detail {

// A quarantine record `q` of a message that has not been stored since (a later pass stored it:
// it is neither listed, counted nor kept from the sync).
inline constexpr const char* kQuarantineNotStored =
    "NOT EXISTS (SELECT 1 FROM locations l WHERE l.mailbox_id = q.mailbox_id AND l.uid_validity = "
    "q.uid_validity AND l.uid = q.uid)";

// `e` with what was being done in front of its detail ("listing deals: SELECT ...: ...").
inline Error doing(std::string_view what, Error e) {
    e.detail = std::string(what) + ": " + e.detail;
    return e;
}

// Connection::exec, its error naming `what`.
template <class... A>
Result<ResultSet> run(Connection& c, std::string_view what, std::string_view sql, A&&... args) {
    auto r = c.exec(sql, std::forward<A>(args)...);
    if (!r)
        return std::unexpected(doing(what, std::move(r.error())));
    return r;
}

// A transaction (or a failed one) is open on `c`.
inline bool in_transaction(Connection& c) {
    return c.native() && PQtransactionStatus(c.native()) != PQTRANS_IDLE;
}

// Runs f() in the caller's transaction when one is open, else in one of its own: for the
// statements that must share one (a row lock, a lease check).
template <class F> auto in_some_transaction(Connection& c, F&& f) -> decltype(f()) {
    if (in_transaction(c))
        return f();
    return pg::in_transaction(c, std::forward<F>(f));
}

// No stored text is anything but valid UTF-8 without NUL, so a value that is not cannot match a
// row: a lookup answers "none" (as SQLite's would) instead of a PostgreSQL encoding error.
inline bool can_match(std::string_view text) {
    return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

// One row's typed cells: the first failed read is kept (and later reads give T{}), so a row is
// read in one go and checked once.
class Cells {
  public:
    Cells(const ResultSet& rs, int row) noexcept : rs_(rs), row_(row) {}
    template <class T> T get(int col) {
        auto v = rs_.get<T>(row_, col);
        if (!v) {
            if (!error_)
                error_ = std::move(v.error());
            return T{};
        }
        return std::move(*v);
    }
    // A 0/1 flag (SMALLINT in PostgreSQL).
    bool flag(int col) { return get<std::int64_t>(col) != 0; }
    [[nodiscard]] bool null(int col) const noexcept { return rs_.is_null(row_, col); }
    [[nodiscard]] const std::optional<Error>& error() const noexcept { return error_; }

  private:
    const ResultSet& rs_;
    int row_;
    std::optional<Error> error_;
};

// The text of a bigint[] parameter: "{1,2,3}" (send it as $n::bigint[]).
inline std::string bigint_array(std::span<const std::int64_t> ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i)
            out += ',';
        out += std::to_string(ids[i]);
    }
    return out + "}";
}

// PostgreSQL's TEXT holds valid UTF-8 without NUL bytes; SQLite stores any bytes. A value that
// is not is refused here with a clear error, before it would reach libpq (which sends text
// parameters as C strings: a NUL would silently cut the value short). Errors: "pg.text"
// (scope Message: the item, not the database, is at fault).
inline Result<void> text_ok(std::string_view value, std::string_view field, std::string_view what) {
    if (value.find('\0') != std::string_view::npos)
        return fail("pg.text", fmt::format("{}: {} contains a NUL byte, which PostgreSQL's text "
                                           "cannot hold",
                                           what, field));
    if (!is_valid_utf8(value))
        return fail("pg.text", fmt::format("{}: {} is not valid UTF-8, which PostgreSQL's text "
                                           "requires",
                                           what, field));
    return {};
}

// `value` as text PostgreSQL accepts, for informational values (a browser's user agent): bytes
// that are not UTF-8 become U+FFFD, NUL bytes are dropped.
inline std::string repair_text(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (std::size_t i = 0; i < value.size();) {
        const auto ch = decode_utf8_at(value, i);
        if (ch.valid && ch.cp != 0)
            out.append(value.substr(i, ch.size));
        else if (!ch.valid)
            out += "\xEF\xBF\xBD";
        i += ch.size;
    }
    return out;
}

} // namespace crm::pg::detail
