#pragma once
// Mail-account bookkeeping for IMAP sync: accounts, mailboxes and their checkpoints, locations
// by UID, flags, expunges, quarantine and health. Borrows the Database; one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

struct AccountRow {
    AccountId id = 0;
    std::string name, address, state, last_error_class, last_error, imap_host;
    std::optional<UserId> owner;
    bool enabled = true;
    std::optional<std::int64_t> last_success_at, last_error_at, lag_seconds;
    std::int64_t messages = 0, initial_done = 0, initial_total = 0;
    std::int64_t mailboxes = 0;
    // Rate/ETA of the running initial sync: its start and the count done then (migration 0004).
    std::optional<std::int64_t> initial_started_at;
    std::int64_t initial_started_done = 0;
    std::int64_t updated_at = 0; // last health update
};

class SyncStore {
  public:
    explicit SyncStore(Database& db) : db_(db) {}

    // Creates or updates the account row for a configured account (by unique name).
    Result<AccountId> ensure_account(const std::string& name, std::optional<UserId> owner,
                                     const std::string& address, const std::string& imap_host,
                                     bool enabled, std::int64_t now);
    Result<std::vector<AccountRow>> accounts();
    // Clears the UIDNEXT/HIGHESTMODSEQ checkpoints of every mailbox of the account so the daemon
    // reconciles everything on its next pass (stored mail and locations are kept; dedup stops
    // duplicates) and resets the initial-sync progress. Returns the mailboxes cleared, nullopt
    // when no account has this name.
    Result<std::optional<std::int64_t>> resync_account(const std::string& name);
    Result<bool> user_exists(UserId id);
    // The CRM user's display name (for From: of replies); nullopt when there is no such user.
    std::optional<std::string> user_name(UserId id);

    Result<MailboxState> ensure_mailbox(AccountId account, const std::string& name,
                                        const std::string& special_use);
    // UIDs stored for this mailbox and UIDVALIDITY (locations), ascending.
    Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox, std::uint32_t uid_validity);
    Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                        std::uint32_t uid_validity);
    // The checkpoint; never ahead of what is stored (callers commit it with the batch).
    Result<void> set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                std::optional<std::uint32_t> uid_next,
                                std::optional<std::uint64_t> highest_modseq, std::int64_t now);
    // UIDVALIDITY changed: drops the old locations of this mailbox (the messages stay, with
    // their threads and deals) so the re-fetched copies re-attach by Message-ID + content.
    Result<std::int64_t> reset_uid_validity(MailboxId mailbox, std::uint32_t new_uid_validity);
    Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                      const std::vector<FlagUpdate>& updates, std::int64_t now);
    // Removes locations of expunged UIDs; the messages keep their CRM history.
    Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                 const std::vector<std::uint32_t>& uids, std::int64_t now);
    // Records a failure to store; returns the attempts so far.
    Result<std::int64_t> record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                        std::uint32_t uid, const std::string& reason,
                                        std::int64_t now);
    Result<void> set_health(AccountId account, const AccountHealth& h, std::int64_t now);
    Result<void> add_synced(AccountId account, std::int64_t count);

  private:
    Database& db_;
};

} // namespace crm::store
