#pragma once
// Account leases (issue 17): every account is synced by exactly one crm-maild worker at a time.
// The protocol is the one schema/postgresql/0002_workers.sql describes; this is its client side.
//   - A worker registers (a `workers` row) and sets the LeaseFence's worker.
//   - renew(), every ~lease/4: all of its leases in one statement, timed by the database's clock,
//     with its heartbeat. An account missing from the answer (expired while the worker was
//     paused, or claimed by another) is lost: dropped from the fence at once, so its late writes
//     are refused, and returned so the daemon stops that account.
//   - claim(): free or expired leases among the accounts this worker is configured for, with
//     SELECT ... FOR UPDATE SKIP LOCKED, so two workers claiming at once take different accounts.
//   - release(): when stopping (SIGTERM), when over its share, or when an account leaves its
//     configuration; another worker takes it at its next claim, without waiting for expiry.
//   - reap_dead(): deletes workers whose heartbeat is older than three lease times (their leases
//     are long expired; the row only keeps `crm-mailctl workers` honest).
// One connection of its own, used from one thread (the daemon's event loop).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"

namespace crm::pg {

struct WorkerInfo {
    std::string host; // gethostname()
    int pid = 0;
    std::optional<int> max_accounts;
    std::string version;
};

// A lease this worker holds: the account and the epoch of its claim.
using HeldLease = std::pair<AccountId, std::int64_t>;

class Leases {
  public:
    // Registers the worker; `lease` is how long a claim or renewal lasts (the database adds it to
    // now()). Errors: the database's.
    // `reconnect` opens a new connection when the server dropped this one (null: never).
    static Result<Leases> start(Connection conn, std::shared_ptr<LeaseFence> fence, WorkerInfo info,
                                std::chrono::seconds lease,
                                std::function<Result<Connection>()> reconnect = nullptr);

    Leases(Leases&&) noexcept = default;
    Leases& operator=(Leases&&) noexcept = default;

    [[nodiscard]] std::int64_t worker_id() const noexcept { return worker_; }
    [[nodiscard]] std::chrono::seconds lease() const noexcept { return lease_; }
    [[nodiscard]] const LeaseFence& fence() const noexcept { return *fence_; }

    // Renews every lease held and the heartbeat. Returns the accounts lost since the last call
    // (already dropped from the fence). A worker whose row was reaped (it was paused for longer
    // than three lease times) registers again under a new id. When the database cannot be
    // reached the fence is left as it is: its checks fail in the database anyway once the
    // leases expire.
    Result<std::vector<AccountId>> renew();
    // Claims up to `limit` free or expired leases among `wanted`, lowest account id first.
    Result<std::vector<HeldLease>> claim(std::span<const AccountId> wanted, std::size_t limit);
    // Gives these leases back (dropped from the fence first).
    Result<void> release(std::span<const AccountId> accounts);
    // Stopping: every lease released and the worker's row deleted.
    Result<void> leave();
    // Workers whose heartbeat is older than three lease times are deleted; returns how many.
    Result<std::int64_t> reap_dead();
    // Live workers (this one included), to share the accounts fairly.
    Result<std::int64_t> live_workers();
    // True when the database answered the last call.
    [[nodiscard]] bool reachable() const noexcept { return reachable_; }

    // The fair share of one worker: ceil(accounts / workers), at most `max_accounts` when set.
    [[nodiscard]] static std::size_t fair_share(std::size_t accounts, std::int64_t workers,
                                                std::optional<int> max_accounts) noexcept;

  private:
    Leases(Connection conn, std::shared_ptr<LeaseFence> fence, WorkerInfo info,
           std::chrono::seconds lease, std::function<Result<Connection>()> reconnect) noexcept
        : conn_(std::move(conn)), fence_(std::move(fence)), info_(std::move(info)), lease_(lease),
          reconnect_(std::move(reconnect)) {}
    Result<void> register_worker();
    template <class T> Result<T> track(Result<T> r) {
        // Lost mid-way (pg.connection) or not reached at all when opening it again (pg.connect).
        reachable_ =
            r.has_value() || (r.error().code != "pg.connection" && r.error().code != "pg.connect");
        return r;
    }

    Connection conn_;
    std::shared_ptr<LeaseFence> fence_;
    WorkerInfo info_;
    std::chrono::seconds lease_;
    std::function<Result<Connection>()> reconnect_;
    std::int64_t worker_ = 0;
    bool reachable_ = true;
};

// One worker as `crm-mailctl workers` lists it.
struct WorkerRow {
    std::int64_t id = 0;
    std::string host;
    int pid = 0;
    std::string version;
    std::optional<int> max_accounts;
    std::int64_t started_at = 0;    // Unix seconds
    std::int64_t heartbeat_age = 0; // seconds since its last renewal, by the database's clock
    struct Account {
        AccountId id = 0;
        std::string name;
        std::int64_t epoch = 0;
        std::int64_t expires_in = 0;     // seconds; negative: expired
        std::optional<std::int64_t> lag; // seconds since its last successful sync
    };
    std::vector<Account> accounts;
};

// Every worker with its leases, and the accounts no live worker holds (worker id 0).
[[nodiscard]] Result<std::vector<WorkerRow>> list_workers(Connection& c);

} // namespace crm::pg
