#pragma once
// The SyncSink of the daemon: IMAP batches -> parse -> ingest -> one transaction.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "crm/app/ingest.hpp"
#include "crm/app/ingest_batch.hpp"
#include "crm/auth/verifier.hpp"
#include "crm/core/backend.hpp"
#include "crm/core/clock.hpp"
#include "crm/core/log.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/runtime/work_pool.hpp"

namespace crm::daemon {

class DaemonSink final : public SyncSink {
  public:
    // `db`: the event loop's connection (borrowed). `writer`: a second connection to the same
    // database, for storing batches on a thread of their own (store_batch_async) while the
    // event loop reads the next one. Without it (an in-memory database) batches are stored on
    // the calling thread.
    DaemonSink(Backend& db, LogSink log, app::IngestOptions opts = {},
               std::unique_ptr<Backend> writer = nullptr, const Clock& clock = system_clock());

    // Our own DKIM/DMARC verification while parsing (borrowed; null: off). Set before syncing.
    void set_verifier(const auth::Verifier* v) { verifier_ = v; }

    // The owner (CRM user) of each account, for ingest.
    void set_owner(AccountId account, std::optional<UserId> owner) { owners_[account] = owner; }
    // The account's [[accounts.rules]] (Gmail label -> deal).
    void set_rules(AccountId account, std::vector<LabelRule> rules) {
        rules_[account] = std::move(rules);
    }
    void set_account_name(AccountId account, std::string name) {
        names_[account] = std::move(name);
    }
    // The charset the account's undeclared 8-bit text is read in ([[accounts]]
    // fallback_charset). Read on the event loop's thread (prepare() and context() copy it for
    // the pool's and the writer's threads), where it is set.
    void set_fallback_charset(AccountId account, std::string charset) {
        charsets_[account] = std::move(charset);
    }

    Result<MailboxState> open_mailbox(AccountId account, const std::string& name,
                                      const std::string& special_use) override;
    Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox,
                                                   std::uint32_t uid_validity) override;
    Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                        std::uint32_t uid_validity) override;
    Result<std::int64_t> reset_uid_validity(MailboxId mailbox, std::uint32_t uid_validity) override;
    WaitingFuture prepare(AccountId account, std::vector<FetchedMessage>& batch) override;
    PendingBatch store_batch_async(AccountId account, MailboxId mailbox, std::uint32_t uid_validity,
                                   std::vector<FetchedMessage>&& batch) override;
    Result<void> checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                            std::optional<std::uint32_t> uid_next,
                            std::optional<std::uint64_t> highest_modseq) override;
    Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                      const std::vector<FlagUpdate>& updates) override;
    Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                 const std::vector<std::uint32_t>& uids) override;
    Result<std::vector<std::uint32_t>>
    link_known_copies(AccountId account, MailboxId mailbox, std::uint32_t uid_validity,
                      const std::vector<KnownCopy>& copies) override;
    Result<void> set_health(AccountId account, const AccountHealth& health) override;

    SyncState& sync_store() { return main_.db.sync(); }
    // Account errors are counted by class for /metrics.
    void set_error_counter(std::map<std::string, std::uint64_t>* c) { error_counter_ = c; }

    // Files a reply we just sent into its thread (location "outbox:<id>"), in one transaction.
    Result<void> store_outgoing(FetchedMessage&& m, const std::string& source);

  private:
    // What one connection needs to store mail. Each is used by one thread at a time: `main_` by
    // the event loop, `writer_` (when there is one) by the writer thread.
    struct Lane {
        explicit Lane(Backend& d, const app::IngestOptions& opts)
            : db(d), ingestor(d.mail(), d.threads(), opts) {}
        Backend& db;
        app::Ingestor ingestor;
        UnitOfWork& work() { return db.work(); }
        SyncState& sync() { return db.sync(); }
    };
    // What store_batch needs of the sink's settings, copied on the calling thread (a reload
    // changes owners_ and names_ on the event loop while the writer stores).
    struct BatchContext {
        AccountId account = 0;
        MailboxId mailbox = 0;
        std::uint32_t uid_validity = 0;
        std::optional<UserId> owner;
        std::string account_name;
        std::vector<LabelRule> rules;
        std::string fallback_charset; // empty: windows-1252
    };
    BatchContext context(AccountId account, MailboxId mailbox, std::uint32_t uid_validity) const;
    const std::string& fallback_charset(AccountId account) const;
    Result<BatchReport> store_on(Lane& lane, const BatchContext& c,
                                 std::vector<FetchedMessage>& batch);

    LogSink log_;
    const Clock& clock_;
    const auth::Verifier* verifier_ = nullptr;
    std::map<AccountId, std::optional<UserId>> owners_;
    std::map<AccountId, std::vector<LabelRule>> rules_;
    std::map<AccountId, std::string> names_;
    std::map<AccountId, std::string> charsets_; // fallback charsets; absent: windows-1252
    std::map<std::string, std::uint64_t>* error_counter_ = nullptr;
    Lane main_;
    std::unique_ptr<Backend> writer_db_;
    std::unique_ptr<Lane> writer_;
    // Last: joined first, before what their work refers to.
    runtime::WorkPool pool_;                           // parsing, at kParserNice
    std::unique_ptr<runtime::WorkPool> writer_thread_; // one thread, storing batches in order
};

} // namespace crm::daemon
