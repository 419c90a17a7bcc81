#pragma once
// The SyncSink of the daemon: IMAP batches -> parse -> ingest -> one transaction.

#include <map>
#include <optional>

#include "crm/app/ingest.hpp"
#include "crm/core/log.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"
#include "crm/store/sync_store.hpp"
#include "work_pool.hpp"

namespace crm::daemon {

class DaemonSink final : public SyncSink {
  public:
    DaemonSink(store::Database& db, LogSink log, app::IngestOptions opts = {});

    // The owner (CRM user) of each account, for ingest.
    void set_owner(AccountId account, std::optional<UserId> owner) { owners_[account] = owner; }
    void set_account_name(AccountId account, std::string name) { names_[account] = std::move(name); }

    Result<MailboxState> open_mailbox(AccountId account, const std::string& name,
                                      const std::string& special_use) override;
    Result<std::vector<std::uint32_t>> stored_uids(MailboxId mailbox,
                                                   std::uint32_t uid_validity) override;
    Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId mailbox,
                                                        std::uint32_t uid_validity) override;
    Result<std::int64_t> reset_uid_validity(MailboxId mailbox, std::uint32_t uid_validity) override;
    WaitingFuture prepare(std::vector<FetchedMessage>& batch) override;
    Result<BatchReport> store_batch(AccountId account, MailboxId mailbox,
                                    std::uint32_t uid_validity,
                                    std::vector<FetchedMessage>&& batch) override;
    Result<void> checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                            std::optional<std::uint32_t> uid_next,
                            std::optional<std::uint64_t> highest_modseq) override;
    Result<std::int64_t> update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                      const std::vector<FlagUpdate>& updates) override;
    Result<std::int64_t> expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                 const std::vector<std::uint32_t>& uids) override;
    Result<void> set_health(AccountId account, const AccountHealth& health) override;

    store::SyncStore& sync_store() { return sync_; }
    // Account errors are counted by class for /metrics.
    void set_error_counter(std::map<std::string, std::uint64_t>* c) { error_counter_ = c; }

    // Files a reply we just sent into its thread (location "outbox:<id>"), in one transaction.
    Result<void> store_outgoing(FetchedMessage&& m, const std::string& source);

  private:
    template <class F> auto in_tx(F&& f) -> decltype(f());

    store::Database& db_;
    store::Store store_;
    store::SyncStore sync_;
    app::Ingestor ingestor_;
    LogSink log_;
    std::map<AccountId, std::optional<UserId>> owners_;
    std::map<AccountId, std::string> names_;
    std::map<std::string, std::uint64_t>* error_counter_ = nullptr;
    WorkPool pool_; // last: joined first, before what its work refers to
};

} // namespace crm::daemon
