#include "sink.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "crm/core/imap_flags.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/imap/crash_point.hpp"
#include "crm/mime/parse.hpp"
#include "crm/runtime/prepare.hpp"

namespace crm::daemon {

DaemonSink::DaemonSink(Backend& db, LogSink log, app::IngestOptions opts,
                       std::unique_ptr<Backend> writer, const Clock& clock)
    : log_(std::move(log)), clock_(clock), main_(db, opts), writer_db_(std::move(writer)),
      // Below the event loop (which stores and reads the sockets) and the HTTP API's threads.
      pool_(runtime::parser_threads(), runtime::kParserNice) {
    if (writer_db_) {
        writer_ = std::make_unique<Lane>(*writer_db_, opts);
        writer_thread_ = std::make_unique<runtime::WorkPool>(1, 0);
    }
}

Result<MailboxState> DaemonSink::open_mailbox(AccountId account, const std::string& name,
                                              const std::string& special_use) {
    return in_transaction(main_.work(),
                          [&] { return main_.sync().ensure_mailbox(account, name, special_use); });
}

Result<std::vector<std::uint32_t>> DaemonSink::stored_uids(MailboxId mailbox,
                                                           std::uint32_t uid_validity) {
    // The batches were committed on the writer's connection: read them, not the snapshot an
    // unfinished cached statement of this connection may still hold.
    main_.db.refresh();
    return main_.sync().stored_uids(mailbox, uid_validity);
}

Result<std::vector<std::uint32_t>> DaemonSink::quarantined_uids(MailboxId mailbox,
                                                                std::uint32_t uid_validity) {
    main_.db.refresh();
    return main_.sync().quarantined_uids(mailbox, uid_validity);
}

Result<std::int64_t> DaemonSink::reset_uid_validity(MailboxId mailbox, std::uint32_t uid_validity) {
    return in_transaction(main_.work(),
                          [&] { return main_.sync().reset_uid_validity(mailbox, uid_validity); });
}

namespace {
void prepare_one(FetchedMessage& m, const auth::Verifier* verifier, const std::string& charset) {
    if (m.parsed)
        return;
    runtime::prepare_raw(m.raw, m.parsed.emplace(), m.raw_sha256, m.raw_packed.emplace(), verifier,
                         charset);
    if (m.gm_thrid)
        m.parsed->gmail_thread_id = std::to_string(*m.gm_thrid);
}
} // namespace

const std::string& DaemonSink::fallback_charset(AccountId account) const {
    static const std::string none;
    const auto it = charsets_.find(account);
    return it == charsets_.end() ? none : it->second;
}

WaitingFuture DaemonSink::prepare(AccountId account, std::vector<FetchedMessage>& batch) {
    // Parsing is pure and most of the work: spread it over the pool, one message per call so a
    // few huge messages do not leave a thread idle.
    // A copy of the charset: the pool's threads must not read the map a reload may change.
    return pool_.run(batch.size(), [&batch, v = verifier_, cs = fallback_charset(account)](
                                       std::size_t i) { prepare_one(batch[i], v, cs); });
}

DaemonSink::BatchContext DaemonSink::context(AccountId account, MailboxId mailbox,
                                             std::uint32_t uid_validity) const {
    BatchContext c{account, mailbox, uid_validity, std::nullopt, "", {}, ""};
    if (auto it = owners_.find(account); it != owners_.end())
        c.owner = it->second;
    if (auto it = names_.find(account); it != names_.end())
        c.account_name = it->second;
    if (auto it = rules_.find(account); it != rules_.end())
        c.rules = it->second;
    c.fallback_charset = fallback_charset(account);
    return c;
}

PendingBatch DaemonSink::store_batch_async(AccountId account, MailboxId mailbox,
                                           std::uint32_t uid_validity,
                                           std::vector<FetchedMessage>&& batch) {
    auto c = context(account, mailbox, uid_validity);
    if (!writer_)
        return PendingBatch(store_on(main_, c, batch));
    // The job owns the batch, so nothing the caller does (or destroys) can reach it.
    auto result = std::make_shared<Result<BatchReport>>(BatchReport{});
    auto job = std::make_shared<std::vector<FetchedMessage>>(std::move(batch));
    auto done = writer_thread_->run(1, [this, c = std::move(c), job, result](std::size_t) {
        *result = store_on(*writer_, c, *job);
        job->clear(); // the batch's memory goes back now, not when the caller collects the result
    });
    return PendingBatch(std::move(done), std::move(result));
}

namespace {

// Quarantine bookkeeping of one batch: item i is the message with UID batch[i].uid.
class UidFailures final : public app::FailureLog {
  public:
    UidFailures(SyncState& sync, MailboxId mailbox, std::uint32_t uid_validity,
                const std::vector<FetchedMessage>& batch)
        : sync_(sync), mailbox_(mailbox), uid_validity_(uid_validity), batch_(batch) {}
    Result<std::int64_t> record_failure(std::size_t index, const Error& why,
                                        std::int64_t now) override {
        return sync_.record_failure(mailbox_, uid_validity_, batch_[index].uid, why.to_string(),
                                    now);
    }

  private:
    SyncState& sync_;
    MailboxId mailbox_;
    std::uint32_t uid_validity_;
    const std::vector<FetchedMessage>& batch_;
};

} // namespace

Result<BatchReport> DaemonSink::store_on(Lane& lane, const BatchContext& c,
                                         std::vector<FetchedMessage>& batch) {
    // CRM facts (contacts, companies, users) may have changed since the last batch.
    lane.ingestor.invalidate_cache();
    // Parse before the write transaction: pure work, keeps the write lock short.
    // Normally the sync engine had the pool prepare the batch already. Not through the pool
    // here: its queue may hold the next batch, which would make this wait for all of it.
    for (auto& m : batch)
        prepare_one(m, verifier_, c.fallback_charset);
    std::vector<app::BatchItem> items(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const auto& m = batch[i];
        auto& src = items[i].source;
        src.raw = m.raw;
        src.raw_sha256 = m.raw_sha256;
        if (m.raw_packed)
            src.raw_packed = &*m.raw_packed;
        src.where.account = c.account;
        src.where.mailbox = c.mailbox;
        src.where.uid_validity = c.uid_validity;
        src.where.uid = m.uid;
        if (m.gm_msgid)
            src.where.gm_msgid = static_cast<std::int64_t>(*m.gm_msgid);
        src.where.labels = m.gm_labels;
        for (const auto& rule : c.rules)
            if (std::find(m.gm_labels.begin(), m.gm_labels.end(), rule.label) !=
                m.gm_labels.end()) {
                src.label_rule = rule;
                break;
            }
        src.where.flags = stored::join(m.flags);
        src.where.owner = c.owner;
        src.seen = has_seen_flag(m.flags);
        src.owner = c.owner;
        items[i].parsed = &*m.parsed;
    }
    app::BatchHooks hooks;
    hooks.before_item = [n = batch.size()](std::size_t i) {
        if (i == n / 2)
            imap::crash_point("during-batch");
    };
    hooks.before_commit = [&](const app::BatchOutcome& o) {
        return lane.sync().add_synced(c.account, static_cast<std::int64_t>(o.stored));
    };
    UidFailures failures(lane.sync(), c.mailbox, c.uid_validity, batch);
    app::IngestBatch ingest(lane.work(), lane.ingestor);
    auto out = ingest.run(items, clock_.now(), &failures, hooks);
    if (!out)
        return std::unexpected(out.error());
    BatchReport rep;
    rep.stored = out->stored;
    rep.locations = out->locations;
    rep.failed = out->failures.size();
    rep.quarantined = out->quarantined;
    if (log_)
        for (const auto& f : out->failures)
            log_(LogLevel::Warning, LogContext{c.account_name, ""}, "store-failed",
                 fmt::format("uid {}: {}", batch[f.index].uid, f.error.to_string()));
    return rep;
}

Result<void> DaemonSink::store_outgoing(FetchedMessage&& m, const std::string& source) {
    auto parsed = mime::parse(m.raw);
    return in_transaction(main_.work(), [&]() -> Result<void> {
        app::IngestSource src;
        src.raw = m.raw;
        src.where.source = source;
        src.seen = true;
        auto out = main_.ingestor.ingest(src, parsed, clock_.now());
        if (!out)
            return std::unexpected(out.error());
        return {};
    });
}

Result<void> DaemonSink::checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                    std::optional<std::uint32_t> uid_next,
                                    std::optional<std::uint64_t> highest_modseq) {
    return in_transaction(main_.work(), [&] {
        return main_.sync().set_checkpoint(mailbox, uid_validity, uid_next, highest_modseq,
                                           clock_.now());
    });
}

Result<std::int64_t> DaemonSink::update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                              const std::vector<FlagUpdate>& updates) {
    return in_transaction(main_.work(), [&] {
        return main_.sync().update_flags(mailbox, uid_validity, updates, clock_.now());
    });
}

Result<std::int64_t> DaemonSink::expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                         const std::vector<std::uint32_t>& uids) {
    return in_transaction(main_.work(), [&] {
        return main_.sync().expunge(mailbox, uid_validity, uids, clock_.now());
    });
}

Result<std::vector<std::uint32_t>>
DaemonSink::link_known_copies(AccountId account, MailboxId mailbox, std::uint32_t uid_validity,
                              const std::vector<KnownCopy>& copies) {
    const BatchContext c = context(account, mailbox, uid_validity);
    main_.db.refresh(); // the copies stored so far were committed on the writer's connection
    return in_transaction(main_.work(), [&]() -> Result<std::vector<std::uint32_t>> {
        std::vector<std::int64_t> ids;
        ids.reserve(copies.size());
        for (const auto& k : copies)
            ids.push_back(static_cast<std::int64_t>(k.gm_msgid));
        auto found = main_.sync().messages_by_gm_msgid(account, ids);
        if (!found)
            return std::unexpected(found.error());
        std::unordered_map<std::int64_t, MessageRowId> message_of(found->begin(), found->end());
        std::vector<std::uint32_t> linked;
        const auto now = clock_.now();
        for (const auto& k : copies) {
            auto it = message_of.find(static_cast<std::int64_t>(k.gm_msgid));
            if (it == message_of.end())
                continue;
            LocationRef where;
            where.account = account;
            where.mailbox = mailbox;
            where.uid_validity = uid_validity;
            where.uid = k.uid;
            where.gm_msgid = static_cast<std::int64_t>(k.gm_msgid);
            where.labels = k.labels;
            where.flags = stored::join(k.flags);
            where.owner = c.owner;
            if (auto added = main_.db.mail().add_location(it->second, where, now); !added)
                return std::unexpected(added.error());
            linked.push_back(k.uid);
        }
        return linked;
    });
}

Result<void> DaemonSink::set_health(AccountId account, const AccountHealth& health) {
    if (error_counter_ && !health.error_class.empty())
        ++(*error_counter_)[health.error_class];
    return in_transaction(main_.work(),
                          [&] { return main_.sync().set_health(account, health, clock_.now()); });
}

} // namespace crm::daemon
