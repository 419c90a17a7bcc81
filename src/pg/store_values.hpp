#pragma once
// Private to the pg module: how PgStore and PgSyncState turn C++ values into statement parameters
// (array literals, crm-mail's JSON text) and check the text PostgreSQL refuses.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

// Evaluates `expr` (a Result) into `var`, returning its error from the enclosing function.
#define CRM_PG_TRY(var, expr)                                                                      \
    auto var = (expr);                                                                             \
    if (!var)                                                                                      \
    return std::unexpected(std::move(var).error())

namespace crm::pg::detail {

// A text[] literal, `{"a","b"}`: every element quoted, `"` and `\` escaped (PostgreSQL manual
// 8.15.6), so that any valid text goes through as it is. Bind it with `$1::text[]`.
[[nodiscard]] std::string text_array(std::span<const std::string> values);
// A bigint[] literal, `{1,2,3}`. Bind it with `$1::bigint[]`.
[[nodiscard]] std::string int_array(std::span<const std::int64_t> values);
// A bigint[] literal with NULLs for the empty ones, `{1,NULL,3}`. Bind it with `$1::bigint[]`.
[[nodiscard]] std::string optional_int_array(std::span<const std::optional<std::int64_t>> values);
// A message's bytes exactly as received (its blob, unpacked); nullopt if no such message.
[[nodiscard]] Result<std::optional<std::string>> read_raw_message(Connection& c,
                                                                  std::int64_t message);
// Parses the text form of a bigint[] column ("{1,2}"; "{}" or "" for none).
[[nodiscard]] std::vector<std::int64_t> parse_int_array(std::string_view text);

// PostgreSQL TEXT holds valid UTF-8 without NUL bytes; SQLite stores any bytes. libpq sends text
// parameters as C strings, so a NUL would silently cut the value short. Checks `value` before it
// is bound: "pg.text" (scope Message) naming `what` and `field` and the first offending byte.
[[nodiscard]] Result<void> check_text(std::string_view what, std::string_view field,
                                      std::string_view value);

// `e` with "what: " in front of its detail (the statement label is already in it).
[[nodiscard]] Error in_context(std::string_view what, Error e);

// exec() with what was being done in front of a failure ("storing user 3: INSERT ... on URL: ...").
struct Ctx {
    Connection& c;
    std::string what;
    template <class... A> Result<ResultSet> exec(std::string_view sql, A&&... args) {
        auto r = c.exec(sql, std::forward<A>(args)...);
        if (!r)
            return std::unexpected(in_context(what, std::move(r).error()));
        return r;
    }
    // True when `sql` returns a row.
    template <class... A> Result<bool> exists(std::string_view sql, A&&... args) {
        auto r = exec(sql, std::forward<A>(args)...);
        if (!r)
            return std::unexpected(r.error());
        return r->rows() > 0;
    }
};

// Recomputes the cached counters of thread $1 from its messages, updated_at = $2 (store's
// refresh_thread): after a merge or a split.
inline constexpr const char* kRefreshThread =
    "UPDATE threads SET"
    " message_count = (SELECT count(*) FROM messages WHERE thread_id = $1::bigint),"
    " unread_count = (SELECT count(*) FROM messages WHERE thread_id = $1::bigint AND unread = 1),"
    " first_date = (SELECT min(coalesce(date, received_at)) FROM messages"
    "   WHERE thread_id = $1::bigint),"
    " last_date = (SELECT max(coalesce(date, received_at)) FROM messages"
    "   WHERE thread_id = $1::bigint),"
    " subject = coalesce((SELECT subject FROM messages WHERE thread_id = $1::bigint"
    "   ORDER BY coalesce(date, received_at), id LIMIT 1), subject),"
    " updated_at = $2::bigint WHERE id = $1::bigint";

// A borrowed string as an owned, NUL-terminated parameter: text parameters travel as C strings
// (libpq ignores their length), so a view into the middle of a buffer must not be bound as is.
[[nodiscard]] inline Param owned(std::string_view v) {
    return Param(std::string(v));
}

} // namespace crm::pg::detail

namespace crm::pg::detail {

// Statements whose results are not needed in between, sent in one pipeline (one round trip; one
// implicit transaction when none is open) or, with `pipeline` false, one exec() each. Parameters
// are kept until run(): borrowed ones (views, const std::string&) must outlive it.
class Statements {
  public:
    Statements(Connection& c, bool pipeline) : c_(c), pipeline_(pipeline) {}
    template <class... A> void add(std::string_view sql, A&&... args) {
        Item it{std::string(sql), {}};
        it.params.reserve(sizeof...(A));
        (it.params.emplace_back(std::forward<A>(args)), ...);
        items_.push_back(std::move(it));
    }
    void add_params(std::string sql, std::vector<Param> params) {
        items_.push_back(Item{std::move(sql), std::move(params)});
    }
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    // One ResultSet per statement, in order; the first failure otherwise.
    Result<std::vector<ResultSet>> run();
    // Hands the statements to the Connection to go out with its next one (Connection::defer),
    // their values copied; statement `checked` fails with `if_no_row` when it returns no row.
    void defer(std::size_t checked, const Error& if_no_row);

  private:
    struct Item {
        std::string sql;
        std::vector<Param> params;
    };
    Connection& c_;
    bool pipeline_;
    std::vector<Item> items_;
};

} // namespace crm::pg::detail
