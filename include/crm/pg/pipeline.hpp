#pragma once
// Pipeline mode (libpq 14+): statements are sent back to back without waiting for each answer,
// and their results are read after one sync, so a batch costs one round trip instead of one per
// statement.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

// While a Pipeline exists its Connection is in pipeline mode: exec() and execute_script() fail on
// it, and Transaction/Savepoint must be begun before (their BEGIN/SAVEPOINT) or be statements of
// the pipeline. The Connection must outlive the Pipeline.
//
// Atomicity: the statements between two syncs run in one implicit transaction (unless an explicit
// BEGIN is open): when one fails, the server skips the rest until the sync and none of them is
// kept.
class Pipeline {
  public:
    // Enters pipeline mode (and libpq's non-blocking mode, which pipelines need: see sync()).
    // Errors: "pg.connection" when the connection is lost or busy.
    static Result<Pipeline> enter(Connection& c);
    Pipeline(Pipeline&& o) noexcept;
    Pipeline& operator=(Pipeline&&) = delete;
    Pipeline(const Pipeline&) = delete;
    Pipeline& operator=(const Pipeline&) = delete;
    // Reads and drops the results of statements added but not synced, then leaves pipeline mode.
    ~Pipeline();

    // Queues one statement. Its parameters are copied into libpq's output buffer here, so they
    // need only live for the call. Errors: "pg.connection".
    Result<void> add(std::string_view sql, std::span<const Param> params);
    template <class... A> Result<void> add(std::string_view sql, A&&... args) {
        const Param ps[sizeof...(A) + 1] = {Param(std::forward<A>(args))..., Param(std::nullopt)};
        return add(sql, std::span<const Param>(ps, sizeof...(A)));
    }
    // Statements added since the last sync.
    [[nodiscard]] std::size_t pending() const noexcept { return statements_; }

    // Sends a sync point and reads every result up to it: one ResultSet per statement added since
    // the last sync, in order. When a statement failed, returns its error (code and scope from its
    // SQLSTATE) naming its index and the count, "pipeline statement 3 (from 0) of 10 (INSERT ...)";
    // failed_index() then returns that index. Errors: also "pg.connection".
    Result<std::vector<ResultSet>> sync();
    [[nodiscard]] std::optional<std::size_t> failed_index() const noexcept { return failed_; }

  private:
    explicit Pipeline(Connection& c) noexcept : c_(&c) {}
    // Queues a statement; `deferred`: one of the Connection's waiting statements, whose answer
    // is read but not returned.
    Result<void> send(std::string_view sql, std::span<const Param> params, bool deferred,
                      std::optional<Error> if_no_row = std::nullopt);
    // What the server will answer since the last sync, in order: a statement's result, or the
    // preparation of a statement (Connection::prepared_name) that comes before its first run.
    // A statement that waited on the Connection (Connection::defer) is a third kind, sent first.
    struct Expected {
        std::string what;
        std::optional<std::string> prepared_key; // set for a preparation
        bool deferred = false;
        std::optional<Error> if_no_row; // a deferred statement's check (Connection::Deferred)
    };
    Connection* c_;
    std::vector<Expected> expected_;
    std::size_t statements_ = 0; // statements (not preparations) in expected_
    std::optional<std::size_t> failed_;
};

} // namespace crm::pg
