#pragma once
// What IMAP sync needs from storage. Implemented by the store; driven by the imap module.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/core/waiting_future.hpp"

namespace crm {

using MailboxId = std::int64_t;

struct MailboxState {
    MailboxId id = 0;
    std::optional<std::uint32_t> uid_validity;
    std::optional<std::uint32_t> uid_next;       // checkpoint: every UID below is stored
    std::optional<std::uint64_t> highest_modseq; // flags are current up to this
};

// A mailbox the sync recorded (the completeness check compares it with the server).
struct StoredMailbox {
    MailboxId id = 0;
    std::string name; // UTF-8
    std::optional<std::uint32_t> uid_validity;
};

// One fetched message as it came from the server.
struct FetchedMessage {
    std::uint32_t uid = 0;
    std::string raw;
    std::vector<std::string> flags;
    std::optional<std::int64_t> internal_date;
    std::optional<std::uint64_t> gm_msgid, gm_thrid;
    std::vector<std::string> gm_labels;
    std::optional<std::uint64_t> modseq;
    // Filled by SyncSink::prepare (off the event loop); storing parses when absent.
    std::optional<ParsedMessage> parsed;
    // SHA-256 (hex) of `raw`, also filled by prepare so the store thread does not hash.
    std::string raw_sha256;
    // `raw` as the store keeps it (compressed), also made by prepare, which then empties `raw`
    // (the batches in flight would otherwise hold every message twice).
    std::optional<PackedBlob> raw_packed;
};

struct FlagUpdate {
    std::uint32_t uid = 0;
    std::vector<std::string> flags;
    // Gmail: the message's labels now (X-GM-LABELS, fetched with the flags); nullopt elsewhere.
    std::optional<std::vector<std::string>> labels;
};

// Gmail (X-GM-EXT-1): one message of a folder as its size FETCH described it, before its body
// is downloaded. Gmail shows one message in every folder of its labels with one X-GM-MSGID, so a
// copy whose id is already stored for the account only gains a location.
struct KnownCopy {
    std::uint32_t uid = 0;
    std::uint64_t gm_msgid = 0;
    std::vector<std::string> flags;
    std::vector<std::string> labels; // X-GM-LABELS
};

// Account health as shown by `crm-mailctl accounts status`.
struct AccountHealth {
    HealthState state = HealthState::Syncing;
    std::string error_class;
    std::string error_text;
    bool success = false; // sets last_success_at
    std::optional<std::int64_t> lag_seconds;
    std::optional<std::uint64_t> initial_done, initial_total;
    // Older mail the backfill still has to fetch (set with each completed pass).
    std::optional<std::uint64_t> backfill_pending;
    // A complete pass with nothing left to fetch: the initial sync is over, whatever progress
    // was recorded (a restart mid-way forgets the count): done becomes the total.
    bool initial_complete = false;
};

} // namespace crm

namespace crm {

struct BatchReport {
    std::size_t stored = 0;      // new messages
    std::size_t locations = 0;   // known messages that gained this location
    std::size_t failed = 0;      // messages that could not be stored (recorded for quarantine)
    std::size_t quarantined = 0; // of those, now given up on
};

// A batch being stored, perhaps on another thread: get() waits for its commit (or failure) and
// gives the report. Destroying it waits too, so a sync that ends early never leaves a batch
// half-way: every batch is committed in order, or not at all.
class PendingBatch {
  public:
    PendingBatch() = default;
    explicit PendingBatch(Result<BatchReport> ready)
        : result_(std::make_shared<Result<BatchReport>>(std::move(ready))) {}
    PendingBatch(WaitingFuture done, std::shared_ptr<Result<BatchReport>> result)
        : done_(std::move(done)), result_(std::move(result)) {}

    bool valid() const { return result_ != nullptr; }
    // Waits; afterwards the PendingBatch is empty (valid() is false, and get() an error).
    Result<BatchReport> get() {
        if (!result_)
            return fail("sync.pending", "no batch is being stored");
        if (done_.valid())
            done_.get();
        auto r = std::move(*result_);
        result_.reset();
        return r;
    }

  private:
    WaitingFuture done_;
    std::shared_ptr<Result<BatchReport>> result_;
};

// Storage for IMAP sync, implemented by the composition root with the store and the ingest use
// case. Every call is one unit of work; store_batch_async commits its whole batch in one
// transaction (messages, locations) or nothing.
class SyncSink {
  public:
    virtual ~SyncSink() = default;
    virtual Result<MailboxState> open_mailbox(AccountId account, const std::string& name,
                                              const std::string& special_use) = 0;
    virtual Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox,
                                                           std::uint32_t uid_validity) = 0;
    virtual Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                                std::uint32_t uid_validity) = 0;
    virtual Result<std::int64_t> reset_uid_validity(MailboxId mailbox,
                                                    std::uint32_t uid_validity) = 0;
    // Starts the pure, CPU-bound preparation of a batch (MIME parsing) on the sink's worker
    // threads and returns at once, so the sync engine reads the next batch and stores the
    // previous one meanwhile. The future is ready when every message is prepared (and waits for
    // that if destroyed first); `batch` must stay untouched until then. `account`: whose mail
    // it is (its fallback charset reads undeclared 8-bit text).
    virtual WaitingFuture prepare(AccountId account, std::vector<FetchedMessage>& batch) = 0;
    // Stores a batch (in one transaction: messages, locations) on the sink's own writer thread
    // if it has one, so that the sync engine reads the next batch from the server meanwhile;
    // without one the returned PendingBatch is already done. The caller waits for one batch
    // before it starts the next, and makes no other call of this interface for its mailbox in
    // between.
    virtual PendingBatch store_batch_async(AccountId account, MailboxId mailbox,
                                           std::uint32_t uid_validity,
                                           std::vector<FetchedMessage>&& batch) = 0;
    virtual Result<void> checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                    std::optional<std::uint32_t> uid_next,
                                    std::optional<std::uint64_t> highest_modseq) = 0;
    virtual Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                              const std::vector<FlagUpdate>& updates) = 0;
    virtual Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                         const std::vector<std::uint32_t>& uids) = 0;
    // Gmail: gives each of `copies` whose X-GM-MSGID the account already stores a location in
    // this mailbox (its flags and labels), in one transaction, without downloading it. Returns
    // the UIDs so placed; the others are fetched as usual.
    virtual Result<std::vector<std::uint32_t>>
    link_known_copies(AccountId account, MailboxId mailbox, std::uint32_t uid_validity,
                      const std::vector<KnownCopy>& copies) = 0;
    virtual Result<void> set_health(AccountId account, const AccountHealth& health) = 0;
};

// Mail-account bookkeeping for IMAP sync: accounts, mailboxes and their checkpoints, locations
// by UID, flags, expunges, quarantine and health. Implemented by the store; one thread at a time.
// The daemon's SyncSink drives it, each call in a transaction of the caller's.
class SyncState {
  public:
    virtual ~SyncState() = default;

    // Creates or updates the account row for a configured account (by unique name).
    virtual Result<AccountId> ensure_account(const std::string& name, std::optional<UserId> owner,
                                             const std::string& address,
                                             const std::string& imap_host, bool enabled,
                                             std::int64_t now) = 0;
    virtual Result<std::vector<AccountRow>> accounts() = 0;
    // Clears the UIDNEXT/HIGHESTMODSEQ checkpoints of every mailbox of the account so the daemon
    // reconciles everything on its next pass (stored mail and locations are kept; dedup stops
    // duplicates) and resets the initial-sync progress. Returns the mailboxes cleared, nullopt
    // when no account has this name. In a transaction of its own (not inside the caller's).
    virtual Result<std::optional<std::int64_t>> resync_account(const std::string& name) = 0;
    virtual Result<bool> user_exists(UserId id) = 0;
    // The CRM user's display name (for From: of replies); nullopt when there is no such user.
    virtual std::optional<std::string> user_name(UserId id) = 0;

    virtual Result<MailboxState> ensure_mailbox(AccountId account, const std::string& name,
                                                const std::string& special_use) = 0;
    // UIDs stored for this mailbox and UIDVALIDITY (locations), ascending.
    virtual Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox,
                                                           std::uint32_t uid_validity) = 0;
    virtual Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                                std::uint32_t uid_validity) = 0;
    // The account's mailboxes as the sync recorded them, by name.
    virtual Result<std::vector<StoredMailbox>> account_mailboxes(AccountId account) = 0;
    // The checkpoint; never ahead of what is stored (callers commit it with the batch).
    virtual Result<void> set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                        std::optional<std::uint32_t> uid_next,
                                        std::optional<std::uint64_t> highest_modseq,
                                        std::int64_t now) = 0;
    // UIDVALIDITY changed: drops the old locations of this mailbox (the messages stay, with
    // their threads and deals) so the re-fetched copies re-attach by Message-ID + content.
    virtual Result<std::int64_t> reset_uid_validity(MailboxId mailbox,
                                                    std::uint32_t new_uid_validity) = 0;
    virtual Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                              const std::vector<FlagUpdate>& updates,
                                              std::int64_t now) = 0;
    // Removes locations of expunged UIDs; the messages keep their CRM history.
    virtual Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                         const std::vector<std::uint32_t>& uids,
                                         std::int64_t now) = 0;
    // The stored messages of the account that have a location with one of these X-GM-MSGIDs:
    // (gm_msgid, message) pairs, one per id found, in no particular order.
    virtual Result<std::vector<std::pair<std::int64_t, MessageRowId>>>
    messages_by_gm_msgid(AccountId account, const std::vector<std::int64_t>& gm_msgids) = 0;
    // Records a failure to store; returns the attempts so far.
    virtual Result<std::int64_t> record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                                std::uint32_t uid, const std::string& reason,
                                                std::int64_t now) = 0;
    virtual Result<void> set_health(AccountId account, const AccountHealth& h,
                                    std::int64_t now) = 0;
    virtual Result<void> add_synced(AccountId account, std::int64_t count) = 0;
};

} // namespace crm
