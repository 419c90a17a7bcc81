#include "crm/imap/sync.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <ctime>
#include <random>
#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <fmt/format.h>

#include "crm/imap/crash_point.hpp"
#include "session.hpp"

namespace crm::imap {

namespace {

using Clock = std::chrono::steady_clock;

std::string upper(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return s;
}

// "1:5,7,9:12" from ascending UIDs.
std::string uid_set(const std::vector<std::uint32_t>& uids) {
    std::string out;
    for (std::size_t i = 0; i < uids.size();) {
        std::size_t j = i;
        while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1)
            ++j;
        if (!out.empty())
            out += ',';
        out += std::to_string(uids[i]);
        if (j > i)
            out += ':' + std::to_string(uids[j]);
        i = j + 1;
    }
    return out;
}

std::string imap_date(std::int64_t t) {
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{}-{}-{}", tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
}

std::optional<std::uint64_t> code_num(const Response& r, std::string_view name) {
    if (r.code_atom != name)
        return std::nullopt;
    return r.code_number();
}

struct FolderInfo {
    std::string name;        // UTF-8
    std::string wire_name;   // as sent to the server (modified UTF-7, quoted)
    std::string special_use; // "\Sent", "\All" or ""
};

struct ExamineResult {
    std::uint32_t exists = 0;
    std::optional<std::uint32_t> uid_validity, uid_next;
    std::optional<std::uint64_t> highest_modseq;
};

// What a folder looked like when its last pass ended: the EXISTS count and the checkpoint.
struct PassEnd {
    std::uint32_t exists = 0;
    std::optional<std::uint32_t> uid_next;
    std::optional<std::uint64_t> highest_modseq; // CONDSTORE servers
};

} // namespace

struct AccountSync::Impl : std::enable_shared_from_this<AccountSync::Impl> {
    Impl(boost::asio::io_context& io_, boost::asio::thread_pool& pool_, AccountSpec spec_,
         SyncSink& sink_, LogSink log_)
        : io(io_), pool(pool_), spec(std::move(spec_)), sink(sink_), log(std::move(log_)),
          timer(io_), rng(std::random_device{}()) {}

    boost::asio::io_context& io;
    boost::asio::thread_pool& pool;
    AccountSpec spec;
    SyncSink& sink;
    LogSink log;
    boost::asio::steady_timer timer;
    std::mt19937_64 rng;
    Session* session = nullptr;
    bool stopping = false;
    // The folder being fetched is on its first sync: its batches are the account's initial-sync
    // progress (later passes fetching a few new messages must not overwrite it).
    bool initial_fetch = false;
    std::uint64_t initial_done_all = 0, initial_total_all = 0; // over every folder
    bool finished = false;
    Clock::time_point last_reconcile{};
    Clock::time_point last_flag_sweep{};
    // Folders whose flags changed according to an untagged FETCH seen in IDLE (Courier, Dovecot):
    // without CONDSTORE their next pass sweeps flags at once instead of at flag_sweep_interval.
    std::set<std::string> flags_notified;
    bool gmail = false;
    // Per folder (UTF-8 name), for the EXAMINE sent right before IDLE: did mail arrive since?
    std::map<std::string, PassEnd> pass_end;

    void say(LogLevel lvl, std::string_view mailbox, std::string_view event, std::string_view msg) {
        if (log)
            log(lvl, LogContext{spec.name, mailbox}, event, msg);
    }

    void health(const std::string& state, const Error* err = nullptr, bool success = false) {
        AccountHealth h;
        h.state = state;
        h.success = success;
        if (err) {
            h.error_class = err->code;
            h.error_text = err->detail;
        }
        if (success)
            h.lag_seconds = 0;
        if (auto r = sink.set_health(spec.id, h); !r)
            say(LogLevel::Error, "", "health", r.error().to_string());
    }

    boost::asio::awaitable<void> sleep(std::chrono::milliseconds d) {
        timer.expires_after(d);
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }

    // ---- one connected session ------------------------------------------------------------

    boost::asio::awaitable<Result<std::vector<FolderInfo>>> resolve_folders(Session& s) {
        std::vector<FolderInfo> all;
        std::string cmd = s.has("LIST-EXTENDED") && s.has("SPECIAL-USE")
                              ? "LIST \"\" \"*\" RETURN (SPECIAL-USE)"
                              : "LIST \"\" \"*\"";
        auto r = co_await s.run(cmd, [&](const Response& u) {
            if (auto l = parse_list(u); l && l->selectable()) {
                FolderInfo f;
                f.name = l->name;
                auto q = quote_astring(l->raw_name);
                if (q.needs_literal())
                    return; // a name with CR/LF/8-bit bytes cannot be sent without a literal
                f.wire_name = q.text;
                if (l->special_use == SpecialUse::Sent)
                    f.special_use = "\\Sent";
                else if (l->special_use == SpecialUse::All)
                    f.special_use = "\\All";
                all.push_back(std::move(f));
            }
        });
        if (!r)
            co_return std::unexpected(r.error());
        if (r->status_or_keyword != "OK")
            co_return fail("imap.list", "LIST failed: " + r->text, ErrorScope::Account,
                           Retry::Backoff);
        std::vector<FolderInfo> chosen;
        auto find = [&](auto pred) -> const FolderInfo* {
            for (const auto& f : all)
                if (pred(f))
                    return &f;
            return nullptr;
        };
        if (!spec.folders.empty()) {
            for (const auto& want : spec.folders) {
                const FolderInfo* f = find([&](const FolderInfo& x) {
                    return x.name == want || (upper(want) == "INBOX" && upper(x.name) == "INBOX");
                });
                if (!f)
                    co_return fail("imap.folder",
                                   fmt::format("configured folder '{}' does not exist", want),
                                   ErrorScope::Account, Retry::NeedsConfig);
                chosen.push_back(*f);
            }
            co_return chosen;
        }
        if (gmail) {
            // Gmail: every message is in the \All folder (whatever its localised name).
            if (auto f = find([](const FolderInfo& x) { return upper(x.special_use) == "\\ALL"; }))
                chosen.push_back(*f);
        }
        if (chosen.empty()) {
            if (auto f = find([](const FolderInfo& x) { return upper(x.name) == "INBOX"; }))
                chosen.push_back(*f);
            if (auto f = find([](const FolderInfo& x) { return upper(x.special_use) == "\\SENT"; }))
                chosen.push_back(*f);
        }
        if (chosen.empty())
            co_return fail("imap.folder", "the server lists no INBOX", ErrorScope::Account,
                           Retry::Backoff);
        co_return chosen;
    }

    boost::asio::awaitable<Result<ExamineResult>> examine(Session& s, const FolderInfo& f) {
        ExamineResult ex;
        std::string cmd = "EXAMINE " + f.wire_name;
        if (s.has("CONDSTORE"))
            cmd += " (CONDSTORE)";
        auto r = co_await s.run(cmd, [&](const Response& u) {
            if (u.status_or_keyword == "EXISTS" && u.number)
                ex.exists = static_cast<std::uint32_t>(*u.number);
            if (auto v = code_num(u, "UIDVALIDITY"))
                ex.uid_validity = static_cast<std::uint32_t>(*v);
            if (auto v = code_num(u, "UIDNEXT"))
                ex.uid_next = static_cast<std::uint32_t>(*v);
            if (auto v = code_num(u, "HIGHESTMODSEQ"))
                ex.highest_modseq = *v;
        });
        if (!r)
            co_return std::unexpected(r.error());
        if (r->status_or_keyword != "OK")
            co_return fail("imap.examine", fmt::format("EXAMINE {} failed: {}", f.name, r->text),
                           ErrorScope::Mailbox, Retry::Backoff);
        if (auto v = code_num(*r, "HIGHESTMODSEQ"))
            ex.highest_modseq = *v;
        if (!ex.uid_validity)
            co_return fail("imap.examine", f.name + ": the server sent no UIDVALIDITY",
                           ErrorScope::Mailbox, Retry::Backoff);
        if (!ex.uid_next) {
            // RFC 3501 §6.3.1 makes [UIDNEXT] a SHOULD; Courier omits it but answers STATUS
            // (§6.3.10). Without it the checkpoint would stay unknown and every pass would be an
            // initial sync. A server that answers neither gets the highest UID + 1 (sync_folder).
            auto st =
                co_await s.run("STATUS " + f.wire_name + " (UIDNEXT)", [&](const Response& u) {
                    if (auto sd = parse_status(u); sd && sd->uidnext && *sd->uidnext <= UINT32_MAX)
                        ex.uid_next = static_cast<std::uint32_t>(*sd->uidnext);
                });
            if (!st)
                co_return std::unexpected(st.error());
        }
        co_return ex;
    }

    boost::asio::awaitable<Result<std::vector<std::uint32_t>>>
    search_once(Session& s, const std::string& criteria, std::vector<std::uint32_t>& out) {
        // RFC 4731 ESEARCH answers with a compact sequence set ("1:20000,20002") instead of
        // one number per message: constant size for contiguous UIDs.
        const bool esearch = s.has("ESEARCH");
        auto r = co_await s.run(
            "UID SEARCH " + std::string(esearch ? "RETURN (ALL) " : "") + criteria,
            [&](const Response& u) {
                if (auto sr = parse_search(u))
                    for (auto n : sr->numbers)
                        out.push_back(static_cast<std::uint32_t>(n));
            });
        if (!r)
            co_return std::unexpected(r.error());
        if (r->status_or_keyword != "OK")
            co_return fail("imap.search", "UID SEARCH " + criteria + " failed: " + r->text,
                           ErrorScope::Mailbox, Retry::Backoff);
        co_return out;
    }

    // UID SEARCH; `uid_next` (when known) lets a server without ESEARCH answer "ALL" in slices
    // of 10,000 UIDs, so no response line grows with the mailbox.
    boost::asio::awaitable<Result<std::vector<std::uint32_t>>>
    search(Session& s, const std::string& criteria, std::optional<std::uint32_t> uid_next = {}) {
        std::vector<std::uint32_t> out;
        if (criteria == "ALL" && !s.has("ESEARCH") && uid_next && *uid_next > 10'000) {
            for (std::uint64_t lo = 1; lo < *uid_next; lo += 10'000) {
                std::uint64_t hi = std::min<std::uint64_t>(lo + 9'999, *uid_next - 1);
                auto r = co_await search_once(s, fmt::format("UID {}:{}", lo, hi), out);
                if (!r)
                    co_return std::unexpected(r.error());
            }
        } else {
            auto r = co_await search_once(s, criteria, out);
            if (!r)
                co_return std::unexpected(r.error());
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        co_return out;
    }

    // Fetches `uids` (any order) newest first, in batches bounded by count and size, storing
    // each batch in one transaction. Returns the number stored.
    boost::asio::awaitable<Result<std::size_t>>
    fetch_and_store(Session& s, const FolderInfo& f, const MailboxState& mb,
                    std::uint32_t uid_validity, std::vector<std::uint32_t> uids,
                    std::uint64_t& done, std::uint64_t total) {
        std::sort(uids.begin(), uids.end(), std::greater<>());
        // Sizes first, so batches stay within batch_bytes.
        std::map<std::uint32_t, std::uint64_t> sizes;
        for (std::size_t i = 0; i < uids.size(); i += 5000) {
            std::vector<std::uint32_t> part(uids.begin() + static_cast<std::ptrdiff_t>(i),
                                            uids.begin() + static_cast<std::ptrdiff_t>(
                                                               std::min(uids.size(), i + 5000)));
            std::sort(part.begin(), part.end());
            auto r = co_await s.run("UID FETCH " + uid_set(part) + " (UID RFC822.SIZE)",
                                    [&](const Response& u) {
                                        if (auto fd = parse_fetch(u); fd && fd->uid)
                                            sizes[static_cast<std::uint32_t>(*fd->uid)] = fd->rfc822_size.value_or(0);
                                    });
            if (!r)
                co_return std::unexpected(r.error());
        }
        std::string items = "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]";
        if (s.has("X-GM-EXT-1"))
            items += " X-GM-MSGID X-GM-THRID X-GM-LABELS";
        if (s.has("CONDSTORE"))
            items += " MODSEQ";
        items += ")";
        // Batches bounded by count and size, newest first.
        std::vector<std::vector<std::uint32_t>> batches;
        for (std::size_t i = 0; i < uids.size();) {
            std::vector<std::uint32_t> batch;
            std::uint64_t bytes = 0;
            while (i < uids.size() && batch.size() < spec.batch_messages &&
                   (batch.empty() || bytes + sizes[uids[i]] <= spec.batch_bytes)) {
                if (sizes.contains(uids[i])) { // gone since the search: expunged meanwhile
                    bytes += sizes[uids[i]];
                    batch.push_back(uids[i]);
                }
                ++i;
            }
            if (!batch.empty()) {
                std::sort(batch.begin(), batch.end());
                batches.push_back(std::move(batch));
            }
        }
        std::size_t stored = 0;
        // Pipelined: the next batch's FETCH goes out before this batch is parsed and stored, so
        // the server reads and sends it meanwhile.
        // Tags of the FETCH commands sent and not yet collected, oldest first (at most two).
        std::deque<std::string> tags;
        auto send_fetch = [&](std::size_t b) -> boost::asio::awaitable<Result<void>> {
            auto t = co_await s.send("UID FETCH " + uid_set(batches[b]) + " " + items);
            if (!t)
                co_return std::unexpected(t.error());
            tags.push_back(std::move(*t));
            co_return Result<void>{};
        };
        if (!batches.empty()) {
            if (auto t = co_await send_fetch(0); !t)
                co_return std::unexpected(t.error());
        }
        auto collect_batch = [&](std::vector<FetchedMessage>& fetched)
            -> boost::asio::awaitable<Result<void>> {
            const std::string tag = std::move(tags.front());
            tags.pop_front();
            auto r = co_await s.collect(tag, [&](Response& u) {
                auto fd = take_fetch(u);
                if (!fd || !fd->uid || !fd->body)
                    return; // unsolicited FLAGS etc.
                FetchedMessage m;
                m.uid = static_cast<std::uint32_t>(*fd->uid);
                m.raw = std::move(*fd->body);
                m.flags = fd->flags.value_or(std::vector<std::string>{});
                m.internal_date = fd->internaldate;
                m.gm_msgid = fd->x_gm_msgid;
                m.gm_thrid = fd->x_gm_thrid;
                m.gm_labels = fd->x_gm_labels.value_or(std::vector<std::string>{});
                m.modseq = fd->modseq;
                fetched.push_back(std::move(m));
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
        auto storing_since = std::chrono::steady_clock::now();
        // Waits for the batch being committed, then reports it.
        auto finish_store = [&]() -> Result<void> {
            if (!storing.valid())
                return {};
            auto rep = storing.get();
            if (!rep)
                return std::unexpected(rep.error());
            const auto store_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - storing_since)
                                      .count();
            crash_point("after-batch-commit");
            const auto& batch = batches[storing_index];
            const std::size_t n = storing_n;
            stored += rep->stored;
            done += n;
            if (rep->failed)
                say(LogLevel::Warning, f.name, "store",
                    fmt::format("{} message(s) failed to store, {} quarantined", rep->failed,
                                rep->quarantined));
            AccountHealth h;
            h.state = "syncing";
            if (initial_fetch) {
                initial_done_all += n;
                h.initial_done = initial_done_all;
                h.initial_total = std::max(initial_total_all, initial_done_all);
            }
            (void)sink.set_health(spec.id, h);
            say(LogLevel::Info, f.name, "batch",
                fmt::format("stored {} new, {} known, uids {}..{} ({} of {}) in {} ms", rep->stored,
                            rep->locations, batch.front(), batch.back(), done, total, store_ms));
            return {};
        };
        // `preparing` is destroyed before `current` and `next`, and waits: the sink's workers
        // may still be parsing `current` when an error ends this coroutine.
        std::vector<FetchedMessage> next;
        WaitingFuture preparing = sink.prepare(current);
        for (std::size_t b = 0; b < batches.size(); ++b) {
            if (b + 1 < batches.size() && !stopping) {
                auto c = co_await collect_batch(next);
                if (!c)
                    co_return std::unexpected(c.error());
            }
            preparing.get();
            std::vector<FetchedMessage> fetched = std::move(current);
            current = std::move(next);
            next.clear();
            if (stopping) {
                // Batch b is not stored: it is fetched again. The one being committed is kept.
                if (auto r = finish_store(); !r)
                    co_return std::unexpected(r.error());
                co_return stored;
            }
            if (b + 1 < batches.size())
                preparing = sink.prepare(current);
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
            storing_since = std::chrono::steady_clock::now();
            storing = sink.store_batch_async(spec.id, mb.id, uid_validity, std::move(fetched));
        }
        if (auto r = finish_store(); !r)
            co_return std::unexpected(r.error());
        co_return stored;
    }

    boost::asio::awaitable<Result<void>> sync_folder(Session& s, const FolderInfo& f) {
        auto ex = co_await examine(s, f);
        if (!ex)
            co_return std::unexpected(ex.error());
        auto mb = sink.open_mailbox(spec.id, f.name, f.special_use);
        if (!mb)
            co_return std::unexpected(mb.error());
        const std::uint32_t v = *ex->uid_validity;
        if (mb->uid_validity && *mb->uid_validity != v) {
            auto n = sink.reset_uid_validity(mb->id, v);
            if (!n)
                co_return std::unexpected(n.error());
            say(LogLevel::Warning, f.name, "uidvalidity",
                fmt::format("UIDVALIDITY changed {} -> {}: {} locations dropped, messages kept "
                            "and re-attached by Message-ID and content",
                            *mb->uid_validity, v, *n));
            mb->uid_next.reset();
            mb->highest_modseq.reset();
            mb->uid_validity = v;
        }
        auto stored = sink.stored_uids(mb->id, v);
        if (!stored)
            co_return std::unexpected(stored.error());
        auto quarantined = sink.quarantined_uids(mb->id, v);
        if (!quarantined)
            co_return std::unexpected(quarantined.error());
        const auto now = Clock::now();
        const bool initial = !mb->uid_next;
        initial_fetch = initial;
        const bool reconcile_due = initial || now - last_reconcile >= spec.reconcile_interval ||
                                   ex->exists != stored->size() + quarantined->size();
        // Fast path: nothing new, no flag changes, counts agree: constant bytes per poll.
        const bool modseq_same = ex->highest_modseq && mb->highest_modseq &&
                                 *ex->highest_modseq == *mb->highest_modseq;
        const bool sweep_due =
            !ex->highest_modseq &&
            (flags_notified.contains(f.name) || now - last_flag_sweep >= spec.flag_sweep_interval);
        if (!reconcile_due && mb->uid_next == ex->uid_next &&
            (modseq_same || (!ex->highest_modseq && !sweep_due))) {
            pass_end[f.name] = PassEnd{ex->exists, mb->uid_next, ex->highest_modseq};
            co_return Result<void>{};
        }

        // Flags changed elsewhere (read/unread).
        if (!initial && !stored->empty()) {
            std::vector<FlagUpdate> updates;
            auto on_fetch = [&](const Response& u) {
                if (auto fd = parse_fetch(u); fd && fd->uid && fd->flags)
                    updates.push_back({static_cast<std::uint32_t>(*fd->uid), *fd->flags});
            };
            Result<Response> r;
            std::string range = "1:" + std::to_string(std::max<std::uint32_t>(1, mb->uid_next.value_or(1) - 1));
            if (ex->highest_modseq && mb->highest_modseq && !modseq_same) {
                r = co_await s.run(fmt::format("UID FETCH {} (UID FLAGS) (CHANGEDSINCE {})", range,
                                               *mb->highest_modseq),
                                   on_fetch);
            } else if (sweep_due) {
                r = co_await s.run("UID FETCH 1:* (UID FLAGS)", on_fetch);
                last_flag_sweep = now;
                flags_notified.erase(f.name);
            } else {
                r = Response{};
                r->status_or_keyword = "OK";
            }
            if (!r)
                co_return std::unexpected(r.error());
            if (!updates.empty()) {
                auto n = sink.update_flags(mb->id, v, updates);
                if (!n)
                    co_return std::unexpected(n.error());
                if (*n)
                    say(LogLevel::Info, f.name, "flags", fmt::format("{} read state change(s)", *n));
            }
        }

        // Which UIDs are missing here: every server UID on reconciliation, else the new range.
        std::vector<std::uint32_t> server;
        if (reconcile_due) {
            auto all = co_await search(s, "ALL", ex->uid_next);
            if (!all)
                co_return std::unexpected(all.error());
            server = std::move(*all);
            last_reconcile = now;
            // Expunged elsewhere: the location goes, the message and its CRM history stay.
            std::vector<std::uint32_t> gone;
            std::set_difference(stored->begin(), stored->end(), server.begin(), server.end(),
                                std::back_inserter(gone));
            if (!gone.empty()) {
                auto n = sink.expunge(mb->id, v, gone);
                if (!n)
                    co_return std::unexpected(n.error());
                say(LogLevel::Info, f.name, "expunge",
                    fmt::format("{} message(s) expunged on the server", gone.size()));
            }
        } else {
            auto fresh = co_await search(s, "UID " + std::to_string(mb->uid_next.value_or(1)) + ":*");
            if (!fresh)
                co_return std::unexpected(fresh.error());
            for (auto u : *fresh)
                if (u >= mb->uid_next.value_or(1))
                    server.push_back(u);
        }
        std::vector<std::uint32_t> missing;
        {
            std::vector<std::uint32_t> skip = *stored;
            skip.insert(skip.end(), quarantined->begin(), quarantined->end());
            std::sort(skip.begin(), skip.end());
            std::set_difference(server.begin(), server.end(), skip.begin(), skip.end(),
                                std::back_inserter(missing));
        }
        if (!missing.empty()) {
            std::uint64_t done = 0, total = missing.size();
            if (initial)
                initial_total_all += total;
            say(LogLevel::Info, f.name, initial ? "initial-sync" : "new-mail",
                fmt::format("{} message(s) to fetch", missing.size()));
            if (initial && spec.initial_sync_days > 0 && missing.size() > spec.batch_messages) {
                // The recent past first, so salespeople see current mail quickly; then backfill.
                auto since = static_cast<std::int64_t>(std::time(nullptr)) -
                             static_cast<std::int64_t>(spec.initial_sync_days) * 86400;
                auto recent = co_await search(s, "SINCE " + imap_date(since));
                if (!recent)
                    co_return std::unexpected(recent.error());
                std::vector<std::uint32_t> first, rest;
                for (auto u : missing)
                    (std::binary_search(recent->begin(), recent->end(), u) ? first : rest)
                        .push_back(u);
                auto a = co_await fetch_and_store(s, f, *mb, v, first, done, total);
                if (!a)
                    co_return std::unexpected(a.error());
                if (stopping)
                    co_return Result<void>{};
                auto b = co_await fetch_and_store(s, f, *mb, v, rest, done, total);
                if (!b)
                    co_return std::unexpected(b.error());
            } else {
                auto a = co_await fetch_and_store(s, f, *mb, v, missing, done, total);
                if (!a)
                    co_return std::unexpected(a.error());
            }
            if (stopping)
                co_return Result<void>{}; // the checkpoint stays behind what is stored
        }
        crash_point("before-checkpoint");
        // Every UID below UIDNEXT is now stored or quarantined: the checkpoint may advance. A
        // server that sent neither [UIDNEXT] nor a STATUS answer: every UID it listed is stored,
        // so the highest + 1 is a safe checkpoint (never beyond a UID not yet seen).
        auto uid_next = ex->uid_next;
        if (!uid_next) {
            std::uint32_t derived =
                server.empty() ? 1 : server.back() + (server.back() < UINT32_MAX ? 1 : 0);
            uid_next = std::max(derived, mb->uid_next.value_or(1));
        }
        if (auto c = sink.checkpoint(mb->id, v, uid_next, ex->highest_modseq); !c)
            co_return std::unexpected(c.error());
        pass_end[f.name] = PassEnd{ex->exists, uid_next, ex->highest_modseq};
        crash_point("after-checkpoint");
        co_return Result<void>{};
    }

    // True when `ex` (a later EXAMINE of `folder`) shows a change since its last pass ended: a
    // higher UIDNEXT than the checkpoint, another message count (new mail or an expunge), or,
    // on a CONDSTORE server, a higher HIGHESTMODSEQ (a flag change).
    bool news_since_pass(const std::string& folder, const ExamineResult& ex) const {
        auto it = pass_end.find(folder);
        if (it == pass_end.end())
            return false;
        const PassEnd& p = it->second;
        return (ex.uid_next && p.uid_next && *ex.uid_next > *p.uid_next) || ex.exists != p.exists ||
               (ex.highest_modseq && p.highest_modseq && *ex.highest_modseq > *p.highest_modseq);
    }

    static boost::asio::awaitable<Result<std::string>>
    call_refresh(std::function<Result<std::string>()> f) {
        co_return f();
    }

    // Runs the blocking token refresh on the pool and installs the token.
    boost::asio::awaitable<Result<void>> refresh() {
        auto tok = co_await boost::asio::co_spawn(pool.get_executor(),
                                                  call_refresh(spec.refresh_token),
                                                  boost::asio::use_awaitable);
        if (!tok)
            co_return std::unexpected(tok.error());
        spec.imap.secret = std::move(*tok);
        co_return Result<void>{};
    }

    boost::asio::awaitable<Result<void>> session_loop() {
        say(LogLevel::Info, "", "connect",
            fmt::format("connecting to {}:{}", spec.imap.host, spec.imap.port));
        SessionLimits lim;
        lim.command_timeout = spec.command_timeout;
        lim.command_deadline = spec.command_deadline;
        // Long untagged lines (SEARCH/ESEARCH, FLAGS sweeps) are legitimate in big folders; a
        // line longer than 1 MiB without CRLF is still an error.
        lim.parser.max_line_length = 1u << 20;
        if (spec.refresh_token) {
            auto tok = co_await refresh();
            if (!tok)
                co_return std::unexpected(tok.error());
        }
        auto opened = co_await Session::open(io.get_executor(), pool, spec.imap, lim);
        if (!opened && opened.error().code == "net.auth" && spec.refresh_token && !stopping) {
            // The token may have expired between refresh and login: refresh once and retry.
            say(LogLevel::Warning, "", "auth", "login refused: refreshing the OAuth2 token once");
            auto tok = co_await refresh();
            if (!tok)
                co_return std::unexpected(tok.error());
            opened = co_await Session::open(io.get_executor(), pool, spec.imap, lim);
        }
        if (!opened)
            co_return std::unexpected(opened.error());
        std::unique_ptr<Session> s = std::move(*opened);
        session = s.get();
        struct Reset {
            Session*& p;
            ~Reset() { p = nullptr; }
        } reset{session};
        if (stopping)
            co_return Result<void>{};
        gmail = s->has("X-GM-EXT-1");
        if (s->has("CONDSTORE") && s->has("ENABLE")) {
            auto e = co_await s->run("ENABLE CONDSTORE");
            if (!e)
                co_return std::unexpected(e.error());
        }
        auto folders = co_await resolve_folders(*s);
        if (!folders)
            co_return std::unexpected(folders.error());
        const FolderInfo* idle_folder = nullptr;
        for (const auto& f : *folders)
            if (upper(f.name) == "INBOX" || upper(f.special_use) == "\\ALL")
                idle_folder = &f;
        while (!stopping) {
            const auto in0 = s->bytes_in(), out0 = s->bytes_out();
            bool folder_failed = false;
            for (const auto& f : *folders) {
                auto r = co_await sync_folder(*s, f);
                if (stopping)
                    co_return Result<void>{};
                if (!r) {
                    if (r.error().scope != ErrorScope::Mailbox)
                        co_return std::unexpected(r.error());
                    folder_failed = true;
                    say(LogLevel::Error, f.name, "sync-failed", r.error().to_string());
                }
            }
            if (!folder_failed)
                health("idle", nullptr, true);
            // The bytes one pass over all folders exchanged: constant when nothing changed.
            say(LogLevel::Debug, "", "pass",
                fmt::format("{} bytes in, {} bytes out", s->bytes_in() - in0,
                            s->bytes_out() - out0));
            // Wait for news: IDLE on the main folder, else a poll timer.
            if (spec.idle && idle_folder && s->has("IDLE")) {
                auto ex = co_await examine(*s, *idle_folder);
                if (!ex)
                    co_return std::unexpected(ex.error());
                // A change made after the pass's EXAMINE and before this one (new mail, an
                // expunge, a flag) is announced here and never again during IDLE (RFC 2177
                // reports only later changes): sync again now. Seen with Cyrus under
                // back-to-back APPENDs, and with an expunge right after a STORE on a busy host.
                if (!folder_failed && news_since_pass(idle_folder->name, *ex)) {
                    say(LogLevel::Info, idle_folder->name, "news-before-idle",
                        fmt::format("{} EXISTS, UIDNEXT {}: changed since the pass, syncing "
                                    "again before IDLE",
                                    ex->exists,
                                    ex->uid_next ? std::to_string(*ex->uid_next) : "?"));
                    continue;
                }
                auto max = std::min(spec.idle_max, spec.poll_interval);
                auto r = co_await s->idle(max, [&](const Response& u) {
                    if (auto fd = parse_fetch(u); fd && fd->flags)
                        flags_notified.insert(idle_folder->name);
                });
                if (!r)
                    co_return std::unexpected(r.error());
            } else {
                co_await sleep(spec.poll_interval);
            }
        }
        co_return Result<void>{};
    }

    boost::asio::awaitable<void> run() {
        auto self = shared_from_this();
        std::chrono::seconds backoff = spec.backoff_min;
        while (!stopping) {
            health("syncing");
            auto r = co_await session_loop();
            if (stopping)
                break;
            Error e = r ? Error{"imap.closed", "session ended", ErrorScope::Account, Retry::Backoff}
                        : r.error();
            std::chrono::seconds wait = backoff;
            std::string state = "backoff";
            if (e.code == "net.auth" || (e.code == "net.oauth" && e.retry == Retry::NeedsConfig)) {
                state = "needs_reauth";
                wait = spec.backoff_max; // a wrong password will not fix itself soon
            } else if (e.retry == Retry::NeedsConfig) {
                state = "error";
                wait = spec.backoff_max;
            }
            health(state, &e);
            // Jitter: 50..150 % so many accounts do not retry in lockstep.
            std::uniform_real_distribution<double> jitter(0.5, 1.5);
            auto ms = std::chrono::milliseconds(
                static_cast<std::int64_t>(static_cast<double>(wait.count()) * 1000 * jitter(rng)));
            say(LogLevel::Error, "", "error",
                fmt::format("{}; {} - retrying in {:.1f}s", e.to_string(), state,
                            static_cast<double>(ms.count()) / 1000.0));
            co_await sleep(ms);
            backoff = std::min(spec.backoff_max, backoff * 2);
            if (r)
                backoff = spec.backoff_min;
        }
        say(LogLevel::Info, "", "stopped", "account loop ended");
        finished = true;
    }
};

AccountSync::AccountSync(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                         AccountSpec spec, SyncSink& sink, LogSink log)
    : impl_(std::make_shared<Impl>(io, pool, std::move(spec), sink, std::move(log))) {}

AccountSync::~AccountSync() { stop(); }

void AccountSync::start() {
    auto impl = impl_;
    boost::asio::co_spawn(impl->io, impl->run(), [impl](std::exception_ptr e) {
        impl->finished = true;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                impl->say(LogLevel::Error, "", "crash", std::string("account loop failed: ") + ex.what());
            }
        }
    });
}

void AccountSync::stop() {
    impl_->stopping = true;
    impl_->timer.cancel();
    if (impl_->session)
        impl_->session->cancel();
}

bool AccountSync::done() const { return impl_->finished; }
const AccountSpec& AccountSync::spec() const { return impl_->spec; }

} // namespace crm::imap
