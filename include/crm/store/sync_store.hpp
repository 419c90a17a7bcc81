#pragma once
// Mail-account bookkeeping for IMAP sync: accounts, mailboxes and their checkpoints, locations
// by UID, flags, expunges, quarantine and health. Borrows the Database; one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/quarantine.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

using crm::AccountRow;

class SyncStore final : public SyncState, public QuarantineAdmin {
  public:
    explicit SyncStore(Database& db) : db_(db) {}

    // Creates or updates the account row for a configured account (by unique name).
    Result<AccountId> ensure_account(const std::string& name, std::optional<UserId> owner,
                                     const std::string& address, const std::string& imap_host,
                                     bool enabled, std::int64_t now) override;
    Result<std::vector<AccountRow>> accounts() override;
    // Clears the UIDNEXT/HIGHESTMODSEQ checkpoints of every mailbox of the account so the daemon
    // reconciles everything on its next pass (stored mail and locations are kept; dedup stops
    // duplicates) and resets the initial-sync progress. Returns the mailboxes cleared, nullopt
    // when no account has this name.
    Result<std::optional<std::int64_t>> resync_account(const std::string& name) override;
    Result<bool> user_exists(UserId id) override;
    // The CRM user's display name (for From: of replies); nullopt when there is no such user.
    std::optional<std::string> user_name(UserId id) override;

    Result<MailboxState> ensure_mailbox(AccountId account, const std::string& name,
                                        const std::string& special_use) override;
    // UIDs stored for this mailbox and UIDVALIDITY (locations), ascending.
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
    // The checkpoint; never ahead of what is stored (callers commit it with the batch).
    Result<void> set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                std::optional<std::uint32_t> uid_next,
                                std::optional<std::uint64_t> highest_modseq,
                                std::int64_t now) override;
    // UIDVALIDITY changed: drops the old locations of this mailbox (the messages stay, with
    // their threads and deals) so the re-fetched copies re-attach by Message-ID + content.
    Result<std::int64_t> reset_uid_validity(MailboxId mailbox,
                                            std::uint32_t new_uid_validity) override;
    Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                      const std::vector<FlagUpdate>& updates,
                                      std::int64_t now) override;
    // Removes locations of expunged UIDs; the messages keep their CRM history.
    Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                 const std::vector<std::uint32_t>& uids, std::int64_t now) override;
    Result<std::vector<std::pair<std::int64_t, MessageRowId>>>
    messages_by_gm_msgid(AccountId account, const std::vector<std::int64_t>& gm_msgids) override;
    // Records a failure to store; returns the attempts so far.
    Result<std::int64_t> record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                        std::uint32_t uid, const std::string& reason,
                                        std::int64_t now) override;
    Result<void> set_health(AccountId account, const AccountHealth& h, std::int64_t now) override;
    Result<void> add_synced(AccountId account, std::int64_t count) override;

  private:
    Database& db_;
};

} // namespace crm::store
