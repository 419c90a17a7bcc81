#pragma once
// Transactions as core's UnitOfWork on a borrowed pg::Connection (which must outlive it), and
// /metrics' database figures: the PostgreSQL counterparts of store::Work and
// SqliteBackend::metrics_snapshot. One thread at a time, like the Connection.

#include <functional>

#include "crm/core/backend.hpp"
#include "crm/core/result.hpp"
#include "crm/core/unit_of_work.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgWork final : public UnitOfWork {
  public:
    explicit PgWork(Connection& c) : c_(c) {}

    // BEGIN (READ COMMITTED) ... COMMIT; rolled back when `body` fails or throws (the exception
    // becomes "pg.exception", scope Account). A COMMIT that PostgreSQL refuses is returned as its
    // error ("pg.retry" for a serialization failure or deadlock: run the whole unit again).
    // Nested inside an open transaction it fails without running `body` ("pg.query", as
    // store::Work's BEGIN IMMEDIATE fails inside one) and leaves the open transaction as it is:
    // nest with savepoint().
    Result<void> transaction(const std::function<Result<void>()>& body) override;
    // SAVEPOINT ... RELEASE inside a transaction: `body`'s writes are undone when it fails (or
    // throws), and the transaction goes on. Outside one it runs as transaction(), as SQLite runs
    // an outermost SAVEPOINT.
    Result<void> savepoint(const std::function<Result<void>()>& body) override;

  private:
    Connection& c_;
};

// What /metrics reports from the database: the same queries as SQLite's. Errors: those of
// Connection::exec.
[[nodiscard]] Result<MetricsSnapshot> metrics_snapshot(Connection& c);

} // namespace crm::pg
