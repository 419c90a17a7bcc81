#pragma once
// Mail-account bookkeeping for IMAP sync on PostgreSQL (issue 17): the SyncState port, behaving
// as store::SyncStore does on SQLite (the spec: src/store/sync_store.cpp).
//
// Borrows the Connection; one thread at a time. Every call runs in the caller's open transaction
// (the daemon's UnitOfWork), or on its own when none is open.
//
// The epoch fence: every write for an account (set_checkpoint, reset_uid_validity, update_flags,
// expunge, record_failure, set_health, add_synced, ensure_mailbox) first calls
// LeaseFence::check() for that account in the caller's transaction, which keeps the lease row
// FOR SHARE until the transaction ends: a worker that lost the lease gets "lease.lost" (scope
// Account) and nothing is written. The account, accounts(), resync_account() and the user lookups
// are the administrator's (crm-mailctl) and are not fenced. Mailbox-keyed calls find the
// mailbox's account in a small cache that ensure_mailbox() fills, else ask the database.
//
// Errors: the pg module's (errors.hpp) with what was being done in front; "lease.lost";
// "pg.text" for text PostgreSQL cannot hold (NUL, invalid UTF-8), before anything is written.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/quarantine.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"

namespace crm::pg {

class PgSyncState final : public SyncState, public QuarantineAdmin {
  public:
    // `fence`: the worker's leases; null (crm-mailctl, tests) = no worker, nothing is fenced.
    explicit PgSyncState(Connection& c, std::shared_ptr<const LeaseFence> fence = nullptr)
        : c_(c), fence_(std::move(fence)) {}

    Result<AccountId> ensure_account(const std::string& name, std::optional<UserId> owner,
                                     const std::string& address, const std::string& imap_host,
                                     bool enabled, std::int64_t now) override;
    Result<std::vector<AccountRow>> accounts() override;
    // In a transaction of its own when none is open (as SQLite's runs in its own).
    Result<std::optional<std::int64_t>> resync_account(const std::string& name) override;
    Result<bool> user_exists(UserId id) override;
    std::optional<std::string> user_name(UserId id) override;

    Result<MailboxState> ensure_mailbox(AccountId account, const std::string& name,
                                        const std::string& special_use) override;
    Result<std::vector<StoredMailbox>> account_mailboxes(AccountId account) override;
    Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox,
                                                   std::uint32_t uid_validity) override;
    Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                        std::uint32_t uid_validity) override;
    // QuarantineAdmin
    Result<std::vector<QuarantineEntry>>
    quarantine_list(const std::optional<std::string>& account) override;
    Result<std::optional<QuarantineEntry>> quarantine_entry(const QuarantineKey& key) override;
    Result<bool> quarantine_retry(const QuarantineKey& key) override;
    Result<bool> quarantine_drop(const QuarantineKey& key, std::int64_t now) override;
    Result<void> set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                std::optional<std::uint32_t> uid_next,
                                std::optional<std::uint64_t> highest_modseq,
                                std::int64_t now) override;
    Result<std::int64_t> reset_uid_validity(MailboxId mailbox,
                                            std::uint32_t new_uid_validity) override;
    Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                      const std::vector<FlagUpdate>& updates,
                                      std::int64_t now) override;
    Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                 const std::vector<std::uint32_t>& uids, std::int64_t now) override;
    Result<std::vector<std::pair<std::int64_t, MessageRowId>>>
    messages_by_gm_msgid(AccountId account, const std::vector<std::int64_t>& gm_msgids) override;
    Result<std::int64_t> record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                        std::uint32_t uid, const std::string& reason,
                                        std::int64_t now) override;
    Result<void> set_health(AccountId account, const AccountHealth& h, std::int64_t now) override;
    Result<void> add_synced(AccountId account, std::int64_t count) override;

  private:
    // The fence for a write to `account` / to `mailbox`'s account, in the open transaction.
    Result<void> fence_account(AccountId account, std::string_view what);
    Result<void> fence_mailbox(MailboxId mailbox, std::string_view what);

    Connection& c_;
    std::shared_ptr<const LeaseFence> fence_;
    // mailbox -> account, filled by ensure_mailbox() and by lookups (a mailbox never changes
    // account: account_id is set once, by its INSERT).
    std::map<MailboxId, AccountId> mailbox_accounts_;
};

} // namespace crm::pg
