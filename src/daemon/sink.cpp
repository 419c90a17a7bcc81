#include "sink.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "crm/mime/parse.hpp"
#include "prepare.hpp"
#include "../imap/crash_point.hpp"

namespace crm::daemon {

namespace {
std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}
bool has_seen(const std::vector<std::string>& flags) {
    for (const auto& f : flags)
        if (f.size() == 5 && (f == "\\Seen" || f == "\\SEEN" || f == "\\seen"))
            return true;
    return false;
}
constexpr std::int64_t kQuarantineAfter = 3;
} // namespace

DaemonSink::DaemonSink(store::Database& db, LogSink log, app::IngestOptions opts)
    : db_(db), store_(db), sync_(db), ingestor_(store_, store_, std::move(opts)),
      log_(std::move(log)),
      // Below the event loop (which stores and reads the sockets) and the HTTP API's threads.
      pool_(parser_threads(), kParserNice) {}

template <class F> auto DaemonSink::in_tx(F&& f) -> decltype(f()) {
    try {
        store::Database::Transaction tx(db_);
        auto r = f();
        if (!r)
            return r;
        if (auto c = tx.commit(); !c)
            return std::unexpected(c.error());
        return r;
    } catch (const std::exception& e) {
        return std::unexpected(Error{"store.sqlite", std::string("transaction: ") + e.what(),
                                     ErrorScope::Account, Retry::Backoff});
    }
}

Result<MailboxState> DaemonSink::open_mailbox(AccountId account, const std::string& name,
                                              const std::string& special_use) {
    return in_tx([&] { return sync_.ensure_mailbox(account, name, special_use); });
}

Result<std::vector<std::uint32_t>> DaemonSink::stored_uids(MailboxId mailbox,
                                                           std::uint32_t uid_validity) {
    return sync_.stored_uids(mailbox, uid_validity);
}

Result<std::vector<std::uint32_t>> DaemonSink::quarantined_uids(MailboxId mailbox,
                                                                std::uint32_t uid_validity) {
    return sync_.quarantined_uids(mailbox, uid_validity);
}

Result<std::int64_t> DaemonSink::reset_uid_validity(MailboxId mailbox, std::uint32_t uid_validity) {
    return in_tx([&] { return sync_.reset_uid_validity(mailbox, uid_validity); });
}

namespace {
void prepare_one(FetchedMessage& m) {
    if (m.parsed)
        return;
    prepare_raw(m.raw, m.parsed.emplace(), m.raw_sha256, m.raw_packed.emplace());
    if (m.gm_thrid)
        m.parsed->gmail_thread_id = std::to_string(*m.gm_thrid);
}
} // namespace

WaitingFuture DaemonSink::prepare(std::vector<FetchedMessage>& batch) {
    // Parsing is pure and most of the work: spread it over the pool, one message per call so a
    // few huge messages do not leave a thread idle.
    return pool_.run(batch.size(), [&batch](std::size_t i) { prepare_one(batch[i]); });
}

Result<BatchReport> DaemonSink::store_batch(AccountId account, MailboxId mailbox,
                                            std::uint32_t uid_validity,
                                            std::vector<FetchedMessage>&& batch) {
    // Parse before the write transaction: pure work, keeps the write lock short.
    // Normally the sync engine had the pool prepare the batch already. Not through the pool
    // here: its queue may hold the next batch, which would make this wait for all of it.
    for (auto& m : batch)
        prepare_one(m);
    std::vector<ParsedMessage> parsed;
    parsed.reserve(batch.size());
    for (auto& m : batch)
        parsed.push_back(std::move(*m.parsed));
    std::optional<UserId> owner;
    if (auto it = owners_.find(account); it != owners_.end())
        owner = it->second;
    BatchReport rep;
    std::vector<std::pair<std::uint32_t, std::string>> failures;
    // One transaction for the batch. A savepoint per message would let one bad message fail
    // alone, but it copies every page the message touches that the batch had already written (a
    // few dozen index and table pages, ~190 KB per message here) into a sub-journal: 3.8 GB for
    // an initial sync of 20,000 messages. So the batch first goes in without them; only when a
    // message fails is it rolled back and stored again with a savepoint per message.
    constexpr const char* kIsolate = "sink.isolate";
    auto attempt = [&](bool isolated) -> Result<BatchReport> {
        rep = {};
        failures.clear();
        return in_tx([&]() -> Result<BatchReport> {
            const auto now = now_s();
            for (std::size_t i = 0; i < batch.size(); ++i) {
                if (i == batch.size() / 2)
                    imap::crash_point("during-batch");
                const auto& m = batch[i];
                app::IngestSource src;
                src.raw = m.raw;
                src.raw_sha256 = m.raw_sha256;
                if (m.raw_packed)
                    src.raw_packed = &*m.raw_packed;
                src.where.account = account;
                src.where.mailbox = mailbox;
                src.where.uid_validity = uid_validity;
                src.where.uid = m.uid;
                if (m.gm_msgid)
                    src.where.gm_msgid = static_cast<std::int64_t>(*m.gm_msgid);
                for (const auto& f : m.flags) {
                    if (!src.where.flags.empty())
                        src.where.flags += ' ';
                    src.where.flags += f;
                }
                src.where.owner = owner;
                src.seen = has_seen(m.flags);
                src.owner = owner;
                std::optional<store::Database::Savepoint> sp;
                if (isolated)
                    sp.emplace(db_);
                auto out = ingestor_.ingest(src, parsed[i], now);
                if (out && sp) {
                    if (auto rel = sp->release(); !rel)
                        out = std::unexpected(rel.error());
                }
                if (!out) {
                    if (out.error().scope == ErrorScope::Fatal && out.error().code != "store.sqlite")
                        return std::unexpected(out.error());
                    if (!isolated) // in_tx rolls the batch back
                        return fail(kIsolate, "a message failed: store one at a time");
                    // One message that cannot be stored must not block the rest.
                    failures.emplace_back(m.uid, out.error().to_string());
                    continue;
                }
                if (out->kind == app::IngestKind::New)
                    ++rep.stored;
                else
                    ++rep.locations;
            }
            if (auto a = sync_.add_synced(account, static_cast<std::int64_t>(rep.stored)); !a)
                return std::unexpected(a.error());
            return rep;
        });
    };
    auto r = attempt(false);
    if (!r && r.error().code == kIsolate)
        r = attempt(true);
    if (!r)
        return r;
    // Failures are recorded in their own transaction so a poisoned message is quarantined
    // after a few attempts instead of being fetched forever.
    for (const auto& [uid, why] : failures) {
        auto n = in_tx([&] { return sync_.record_failure(mailbox, uid_validity, uid, why, now_s()); });
        ++r->failed;
        if (n && *n >= kQuarantineAfter)
            ++r->quarantined;
        if (log_)
            log_(LogLevel::Warning, LogContext{names_[account], ""}, "store-failed",
                 fmt::format("uid {}: {}", uid, why));
    }
    return r;
}

Result<void> DaemonSink::store_outgoing(FetchedMessage&& m, const std::string& source) {
    auto parsed = mime::parse(m.raw);
    return in_tx([&]() -> Result<void> {
        app::IngestSource src;
        src.raw = m.raw;
        src.where.source = source;
        src.seen = true;
        auto out = ingestor_.ingest(src, parsed, now_s());
        if (!out)
            return std::unexpected(out.error());
        return {};
    });
}

Result<void> DaemonSink::checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                    std::optional<std::uint32_t> uid_next,
                                    std::optional<std::uint64_t> highest_modseq) {
    return in_tx([&] {
        return sync_.set_checkpoint(mailbox, uid_validity, uid_next, highest_modseq, now_s());
    });
}

Result<std::int64_t> DaemonSink::update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                              const std::vector<FlagUpdate>& updates) {
    return in_tx([&] { return sync_.update_flags(mailbox, uid_validity, updates, now_s()); });
}

Result<std::int64_t> DaemonSink::expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                         const std::vector<std::uint32_t>& uids) {
    return in_tx([&] { return sync_.expunge(mailbox, uid_validity, uids, now_s()); });
}

Result<void> DaemonSink::set_health(AccountId account, const AccountHealth& health) {
    if (error_counter_ && !health.error_class.empty())
        ++(*error_counter_)[health.error_class];
    return in_tx([&] { return sync_.set_health(account, health, now_s()); });
}

} // namespace crm::daemon
