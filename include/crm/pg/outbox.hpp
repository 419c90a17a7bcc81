#pragma once
// The outbox on PostgreSQL: replies queued by salespeople, worked by the daemons. The counterpart
// of store::OutboxStore (include/crm/store/outbox.hpp), whose behaviour is the spec, made safe
// for several workers on one database (issue 17, schema/postgresql/0002_workers.sql):
//
// - With a LeaseFence that has a worker, only the lease holder of a reply's account sends it:
//   claim_due() takes only replies of accounts this worker holds in the epoch the database has
//   (FOR UPDATE SKIP LOCKED: two workers never claim the same row, and neither waits for the
//   other), checks the lease in the same transaction and records sending_worker_id and
//   sending_epoch. set_state() and mark_data_done() check the lease of the reply's account
//   first: a worker that lost it gets "lease.lost" and its write is not applied. A new holder
//   settles the replies left in 'sending' for the account as a daemon settles its own after a
//   crash (data_done_at decides: queued again, or the Sent probe): crm-maild takes them from
//   list("sending") when the account starts there (OutboxWorker::set_account), before it claims
//   anything itself. interrupted() lists only those another worker (or an older epoch) left,
//   from the claim columns, for a tool that runs beside live workers.
// - Without a fence, or with one that has no worker (crm-mailctl, a single daemon), it behaves
//   exactly as the SQLite outbox; claim_due() still skips rows another transaction has locked.
//
// Borrows the Connection (which must outlive it); one thread at a time. Statements that must
// share a transaction (a claim and its lease check) run in the caller's transaction when one is
// open, else in one of their own. Errors: those of Connection::exec with what was being done in
// front of the detail; "pg.text" (scope Message) for text PostgreSQL cannot hold (NUL bytes,
// invalid UTF-8) in a queued reply; "lease.lost" (scope Account) as above; "outbox.not_found",
// "outbox.attachment" as SQLite's.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/outbox.hpp"
#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"

namespace crm::pg {

class PgOutbox final : public Outbox {
  public:
    // `fence` may be null: no worker (crm-mailctl, tests).
    explicit PgOutbox(Connection& c, std::shared_ptr<const LeaseFence> fence = nullptr)
        : c_(c), fence_(std::move(fence)) {}

    Result<std::optional<ReplyParent>>
    reply_parent(ThreadId thread, const std::optional<std::string>& message_id) override;
    Result<std::optional<SendingAccount>> account(AccountId id) override;
    Result<std::optional<SendingAccount>> account_by_name(const std::string& name) override;
    Result<std::vector<std::string>> team_addresses() override;

    Result<std::int64_t> queue(const OutboxRow& row,
                               const std::vector<std::string>& attachment_contents,
                               std::int64_t now) override;
    Result<std::vector<OutboxRow>>
    list(const std::optional<std::string>& state = std::nullopt) override;
    Result<OutboxPage> page(const OutboxFilter& f, std::optional<std::int64_t> before,
                            std::size_t limit) override;
    Result<std::optional<OutboxRow>> get(std::int64_t id) override;
    // The next queued reply due at `now` (of an account whose lease this worker holds, with a
    // worker), marked sending. Commit before sending. Errors: also "lease.lost" when the lease of
    // the reply's account was lost between the lease loop's last renewal and this claim.
    Result<std::optional<OutboxRow>> claim_due(std::int64_t now) override;
    Result<std::string> attachment_content(const std::string& sha256) override;
    Result<void> set_state(std::int64_t id, const std::string& state, const std::string& error,
                           std::optional<std::int64_t> next_attempt_at, std::int64_t now) override;
    Result<void> mark_data_done(std::int64_t id, std::int64_t now) override;
    Result<std::int64_t> depth() override;

    // The replies of `account` still 'sending' that this worker did not claim in its current
    // epoch of the account's lease (another worker's, or its own from an older epoch, or with no
    // worker recorded): what the new holder settles right after claiming the lease, as the
    // daemon settles its own after a crash (src/daemon/outbox_worker.cpp). Without a worker,
    // every reply of the account still 'sending' (one daemon: after its own crash). Oldest first.
    // Errors: "lease.lost" when this worker does not hold the account.
    Result<std::vector<OutboxRow>> interrupted(AccountId account);

  private:
    // The fence's worker, when there is a fence and it has one.
    [[nodiscard]] std::optional<std::int64_t> worker() const;
    // With a worker: checks the lease of the account of reply `id` in the open transaction.
    // Errors: "outbox.not_found" (`missing` is the detail), "lease.lost".
    Result<void> check_reply_lease(std::int64_t id, const std::string& missing);

    Connection& c_;
    std::shared_ptr<const LeaseFence> fence_;
};

} // namespace crm::pg
