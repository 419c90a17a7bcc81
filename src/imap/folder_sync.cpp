// The pipeline of one folder's sync pass (see folder_sync.hpp).
#include "folder_sync.hpp"

#include <deque>

#include <fmt/format.h>

#include "crm/imap/crash_point.hpp"

namespace crm::imap {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Fetches and stores the batches of one FetchBatches step, in order, one transaction each.
// `done` counts the messages handled so far this pass (of `total`).
asio::awaitable<Result<void>> fetch_batches(Session& s, const FolderPlan& plan,
                                            const std::vector<std::vector<std::uint32_t>>& batches,
                                            FolderSyncContext& ctx, std::uint64_t& done,
                                            std::uint64_t total, bool backfill) {
    const std::string& folder = plan.folder().name;
    const MailboxId mailbox = plan.mailbox().id;
    const std::uint32_t uid_validity = plan.uid_validity();
    // Pipelined: the next batch's FETCH goes out before this batch is parsed and stored, so
    // the server reads and sends it meanwhile.
    // Tags of the FETCH commands sent and not yet collected, oldest first (at most two).
    std::deque<std::string> tags;
    auto send_fetch = [&](std::size_t b) -> asio::awaitable<Result<void>> {
        auto t = co_await s.send(plan.batch_fetch(batches[b]));
        if (!t)
            co_return std::unexpected(t.error());
        tags.push_back(std::move(*t));
        co_return Result<void>{};
    };
    if (!batches.empty()) {
        if (auto t = co_await send_fetch(0); !t)
            co_return std::unexpected(t.error());
    }
    auto collect_batch =
        [&](std::vector<FetchedMessage>& fetched) -> asio::awaitable<Result<void>> {
        const std::string tag = std::move(tags.front());
        tags.pop_front();
        // A message expunged since the size FETCH is simply not in the answer (RFC 3501
        // §6.4.8 allows the server to omit it): the batch is stored without it.
        auto r = co_await s.collect(tag, [&](Response& u) {
            if (auto m = take_fetched_message(u))
                fetched.push_back(std::move(*m));
        });
        if (!r)
            co_return std::unexpected(r.error());
        if (r->status_or_keyword != "OK")
            co_return fail("imap.fetch", "UID FETCH failed: " + r->text, ErrorScope::Mailbox,
                           Retry::Backoff);
        co_return Result<void>{};
    };
    // Four stages run at once: this thread reads and tokenises batch b+1 from the socket,
    // the sink's pool parses batch b, its writer thread commits batch b-1, and the server
    // produces batch b+2. Batches are committed strictly in order, one transaction each: the
    // next one starts only when the previous one is committed.
    std::vector<FetchedMessage> current;
    if (!batches.empty()) {
        auto c = co_await collect_batch(current);
        if (!c)
            co_return std::unexpected(c.error());
    }
    if (batches.size() > 1) {
        if (auto t = co_await send_fetch(1); !t)
            co_return std::unexpected(t.error());
    }
    // The batch being committed. Declared before `preparing`, so destroyed after it; both
    // wait when destroyed (an error ends this coroutine), and the committing batch is owned
    // by the sink's job.
    PendingBatch storing;
    std::size_t storing_index = 0, storing_n = 0;
    auto storing_since = SteadyClock::now();
    // Waits for the batch being committed, then reports it.
    auto finish_store = [&]() -> Result<void> {
        if (!storing.valid())
            return {};
        auto rep = storing.get();
        if (!rep)
            return std::unexpected(rep.error());
        const auto store_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  SteadyClock::now() - storing_since)
                                  .count();
        crash_point("after-batch-commit");
        const auto& batch = batches[storing_index];
        const std::size_t n = storing_n;
        done += n;
        if (rep->failed)
            ctx.say(LogLevel::Warning, folder, "store",
                    fmt::format("{} message(s) failed to store, {} quarantined", rep->failed,
                                rep->quarantined));
        AccountHealth h;
        h.state = HealthState::Syncing;
        if (backfill)
            ctx.backfill_stored += n;
        if (plan.initial() || (backfill && ctx.initial_total_all > 0)) {
            // Only a folder's first sync, and the backfill later passes continue, are
            // initial-sync progress: later passes fetching a few new messages must not count.
            ctx.initial_done_all += n;
            h.initial_done = ctx.initial_done_all;
            h.initial_total = std::max(ctx.initial_total_all, ctx.initial_done_all);
        }
        (void)ctx.sink.set_health(ctx.account, h);
        ctx.say(LogLevel::Info, folder, "batch",
                fmt::format("stored {} new, {} known, uids {}..{} ({} of {}) in {} ms", rep->stored,
                            rep->locations, batch.front(), batch.back(), done, total, store_ms));
        return {};
    };
    // `preparing` is destroyed before `current` and `next`, and waits: the sink's workers
    // may still be parsing `current` when an error ends this coroutine.
    std::vector<FetchedMessage> next;
    WaitingFuture preparing = ctx.sink.prepare(ctx.account, current);
    for (std::size_t b = 0; b < batches.size(); ++b) {
        if (b + 1 < batches.size() && !ctx.stopping) {
            auto c = co_await collect_batch(next);
            if (!c)
                co_return std::unexpected(c.error());
        }
        preparing.get();
        std::vector<FetchedMessage> fetched = std::move(current);
        current = std::move(next);
        next.clear();
        if (ctx.stopping) {
            // Batch b is not stored: it is fetched again. The one being committed is kept.
            co_return finish_store();
        }
        if (b + 1 < batches.size())
            preparing = ctx.sink.prepare(ctx.account, current);
        // The server produces batch b+2 while batch b is stored.
        if (b + 2 < batches.size()) {
            if (auto t = co_await send_fetch(b + 2); !t)
                co_return std::unexpected(t.error());
        }
        if (auto r = finish_store(); !r)
            co_return std::unexpected(r.error());
        crash_point("before-batch-commit");
        storing_index = b;
        storing_n = fetched.size();
        storing_since = SteadyClock::now();
        storing =
            ctx.sink.store_batch_async(ctx.account, mailbox, uid_validity, std::move(fetched));
    }
    co_return finish_store();
}

} // namespace

ServerCaps server_caps(const Session& s, bool gmail_allowed) {
    ServerCaps c;
    c.condstore = s.has("CONDSTORE");
    c.esearch = s.has("ESEARCH");
    c.gmail = gmail_allowed && s.has("X-GM-EXT-1");
    c.qresync = s.enabled("QRESYNC");
    c.condstore = c.condstore || c.qresync;
    return c;
}

asio::awaitable<Result<ExamineResult>> examine(Session& s, const FolderInfo& f) {
    ExamineResult ex;
    auto absorb = [&](const Response& u) { ex.absorb(u); };
    auto r = co_await s.run(examine_command(f, server_caps(s)), absorb);
    if (!r)
        co_return std::unexpected(r.error());
    if (auto ok = ex.finish(*r, f.name); !ok)
        co_return std::unexpected(ok.error());
    if (!ex.uid_next) {
        auto st = co_await s.run(status_uidnext_command(f), absorb);
        if (!st)
            co_return std::unexpected(st.error());
    }
    co_return ex;
}

asio::awaitable<Result<void>> sync_folder(Session& s, const FolderInfo& f, FolderSyncContext& ctx,
                                          SteadyClock::time_point now, std::int64_t unix_now) {
    using Kind = FolderStep::Kind;
    FolderPlan plan(f, ctx.policy, server_caps(s, ctx.policy.gmail_allowed), ctx.history, now,
                    unix_now);
    std::uint64_t done = 0;
    bool announced = false;
    for (;;) {
        if (!announced && plan.to_fetch() > 0 && !plan.narrowing()) {
            announced = true;
            if (plan.initial())
                ctx.initial_total_all += plan.to_fetch();
            ctx.say(LogLevel::Info, f.name, plan.initial() ? "initial-sync" : "new-mail",
                    fmt::format("{} message(s) to fetch{}", plan.to_fetch(),
                                plan.left_out() == 0 || !plan.initial()
                                    ? std::string()
                                    : fmt::format("; {} older left on the server (backfill = "
                                                  "false)",
                                                  plan.left_out())));
        }
        FolderStep st = plan.next();
        switch (st.kind) {
        case Kind::Command: {
            auto r = co_await s.run(*st.command, [&](const Response& u) { plan.on_untagged(u); });
            if (!r)
                co_return std::unexpected(r.error());
            if (auto ok = plan.on_tagged(*r); !ok)
                co_return ok;
            break;
        }
        case Kind::OpenMailbox: {
            auto mb = ctx.sink.open_mailbox(ctx.account, f.name, f.special_use);
            if (!mb)
                co_return std::unexpected(mb.error());
            plan.on_mailbox(std::move(*mb));
            break;
        }
        case Kind::ResetUidValidity: {
            auto n = ctx.sink.reset_uid_validity(plan.mailbox().id, plan.uid_validity());
            if (!n)
                co_return std::unexpected(n.error());
            ctx.say(LogLevel::Warning, f.name, "uidvalidity",
                    fmt::format("UIDVALIDITY changed {} -> {}: {} locations dropped, messages "
                                "kept and re-attached by Message-ID and content",
                                st.previous_uid_validity.value_or(0), plan.uid_validity(), *n));
            break;
        }
        case Kind::LoadUids: {
            auto stored = ctx.sink.stored_uids(plan.mailbox().id, plan.uid_validity());
            if (!stored)
                co_return std::unexpected(stored.error());
            auto quarantined = ctx.sink.quarantined_uids(plan.mailbox().id, plan.uid_validity());
            if (!quarantined)
                co_return std::unexpected(quarantined.error());
            plan.on_uids(std::move(*stored), std::move(*quarantined));
            break;
        }
        case Kind::UpdateFlags: {
            auto n = ctx.sink.update_flags(plan.mailbox().id, plan.uid_validity(), st.flag_updates);
            if (!n)
                co_return std::unexpected(n.error());
            if (*n)
                ctx.say(LogLevel::Info, f.name, "flags",
                        fmt::format("{} read state change(s)", *n));
            break;
        }
        case Kind::Expunge: {
            auto n = ctx.sink.expunge(plan.mailbox().id, plan.uid_validity(), st.uids);
            if (!n)
                co_return std::unexpected(n.error());
            ctx.say(
                LogLevel::Info, f.name, "expunge",
                fmt::format("{} message(s) expunged on the server{}", st.uids.size(),
                            plan.vanished_stored() > 0
                                ? fmt::format(" ({} reported by QRESYNC)", plan.vanished_stored())
                                : std::string()));
            break;
        }
        case Kind::LinkCopies: {
            auto linked = ctx.sink.link_known_copies(ctx.account, plan.mailbox().id,
                                                     plan.uid_validity(), st.copies);
            if (!linked)
                co_return std::unexpected(linked.error());
            const std::size_t n = plan.on_linked(*linked);
            if (n > 0) {
                if (plan.initial()) // announced among the messages to fetch: done now
                    ctx.initial_done_all += n;
                ctx.say(LogLevel::Info, f.name, "gmail-copies",
                        fmt::format("{} message(s) already stored from another label "
                                    "(X-GM-MSGID): location added, not downloaded",
                                    n));
            }
            if (ctx.stopping)
                co_return Result<void>{}; // the checkpoint stays behind what is stored
            break;
        }
        case Kind::FetchBatches: {
            auto r = co_await fetch_batches(s, plan, st.batches, ctx, done, plan.to_fetch(),
                                            st.backfill);
            if (!r)
                co_return r;
            if (ctx.stopping)
                co_return Result<void>{}; // the checkpoint stays behind what is stored
            break;
        }
        case Kind::Checkpoint: {
            crash_point("before-checkpoint");
            if (auto c = ctx.sink.checkpoint(plan.mailbox().id, plan.uid_validity(), st.uid_next,
                                             st.highest_modseq);
                !c)
                co_return std::unexpected(c.error());
            crash_point("after-checkpoint");
            break;
        }
        case Kind::Done:
            co_return Result<void>{};
        }
    }
}

} // namespace crm::imap
