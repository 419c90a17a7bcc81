#pragma once
// The login throttle's token buckets in PostgreSQL (login_throttle, schema/postgresql/
// 0002_workers.sql), shared by every worker: core's ThrottleBuckets port, which http's
// LoginThrottle uses when the backend gives it one. Times are the database's clock
// (extract(epoch from now())), so workers on hosts whose clocks differ agree.
//
// Borrows the Connection (which must outlive it); one thread at a time. take() and give_back()
// run in the caller's transaction when one is open, else in one of their own; take() locks the
// two rows (client first, then pair: one order, so two takers never deadlock), so concurrent
// attempts on any worker are counted one after the other, as LoginThrottle's mutex counts them
// in one process. Every 64th take() also deletes the buckets untouched for a whole window (full
// again: the same as no row). Errors: those of Connection::exec; "pg.text" for a client or
// account PostgreSQL's text cannot hold.

#include <cstdint>
#include <string>

#include "crm/core/throttle.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgThrottle final : public ThrottleBuckets {
  public:
    explicit PgThrottle(Connection& c) : c_(c) {}

    Result<Take> take(const std::string& client, const std::string& account,
                      const ThrottleLimits& limits) override;
    Result<BucketLevels> levels(const std::string& client, const std::string& account,
                                const ThrottleLimits& limits) override;
    Result<void> give_back(const std::string& client, const std::string& account,
                           const ThrottleLimits& limits) override;

  private:
    Connection& c_;
    std::uint64_t takes_ = 0;
};

} // namespace crm::pg
