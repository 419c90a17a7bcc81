#pragma once
// The leases this worker holds, as the writes see them: the epoch fence of issue 17. Every
// transaction that writes a checkpoint, a location or sync state for an account first calls
// check(), which runs account_lease_held(account, worker, epoch) (schema/postgresql/
// 0002_workers.sql) in that transaction: a worker that lost the lease (paused past its expiry,
// partitioned, or another worker claimed it) gets "lease.lost" and its write is not applied.
//
// Shared by the lease loop (which holds and drops accounts as it claims, renews and releases)
// and every connection of the worker; thread-safe. Without a worker (crm-mailctl, tests, a
// single process that takes no leases) every check passes: nothing else syncs then.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm::pg {

class Connection;

class LeaseFence {
  public:
    void set_worker(std::optional<std::int64_t> worker);
    [[nodiscard]] std::optional<std::int64_t> worker() const;

    // The lease of `account` was claimed (or renewed) in `epoch`.
    void hold(AccountId account, std::int64_t epoch);
    // Lost or released: every later check for it fails without asking the database.
    void drop(AccountId account);
    void drop_all();
    [[nodiscard]] std::optional<std::int64_t> epoch(AccountId account) const;
    [[nodiscard]] std::vector<std::pair<AccountId, std::int64_t>> held() const;
    [[nodiscard]] bool holds(AccountId account) const { return epoch(account).has_value(); }

    // In the caller's open transaction on `c`: proves the lease is still this worker's and keeps
    // it so until the transaction ends (FOR SHARE). Errors: "lease.lost" (scope Account) naming
    // the account; any database error as it came.
    Result<void> check(Connection& c, AccountId account) const;

    // The same check as a statement for the caller's own pipeline, ahead of the write it guards
    // (one round trip for both): kCheckSql with the proof's account, worker and epoch as $1..$3.
    // nullopt when there is nothing to check (no worker); "lease.lost" as check() says.
    static constexpr const char* kCheckSql =
        "SELECT account_lease_held($1::bigint, $2::bigint, $3::bigint)";
    struct Proof {
        std::int64_t account = 0;
        std::int64_t worker = 0;
        std::int64_t epoch = 0;
    };
    [[nodiscard]] Result<std::optional<Proof>> proof(AccountId account) const;

  private:
    mutable std::mutex mu_;
    std::optional<std::int64_t> worker_;
    std::map<AccountId, std::int64_t> epochs_;
};

} // namespace crm::pg
