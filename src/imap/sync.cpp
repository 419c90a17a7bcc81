#include "crm/imap/sync.hpp"

#include <algorithm>
#include <ctime>
#include <random>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <fmt/format.h>

#include "crm/core/utf8.hpp"
#include "folder_sync.hpp"
#include "session.hpp"

namespace crm::imap {

struct AccountSync::Impl : std::enable_shared_from_this<AccountSync::Impl> {
    Impl(boost::asio::io_context& io_, boost::asio::thread_pool& pool_, AccountSpec spec_,
         SyncSink& sink_, LogSink log_)
        : io(io_), pool(pool_), spec(std::move(spec_)), sink(sink_), log(std::move(log_)),
          timer(io_), rng(std::random_device{}()),
          folder_ctx{spec.id,
                     sink,
                     FolderPolicy{.batch_messages = spec.batch_messages,
                                  .batch_bytes = spec.batch_bytes,
                                  .initial_sync_days = spec.initial_sync_days,
                                  .backfill = spec.backfill,
                                  .reconcile_interval = spec.reconcile_interval,
                                  .flag_sweep_interval = spec.flag_sweep_interval,
                                  .gmail_allowed = spec.gmail.value_or(true)},
                     history,
                     stopping,
                     [this](LogLevel lvl, std::string_view mailbox, std::string_view event,
                            std::string_view msg) { say(lvl, mailbox, event, msg); }} {}

    boost::asio::io_context& io;
    boost::asio::thread_pool& pool;
    AccountSpec spec;
    SyncSink& sink;
    LogSink log;
    boost::asio::steady_timer timer;
    std::mt19937_64 rng;
    Session* session = nullptr;
    bool stopping = false;
    bool finished = false;
    bool gmail = false;
    // Reconcile and sweep times, flag notifications from IDLE, each folder's last pass end.
    SyncHistory history;
    // What every folder's pass borrows (after `history` and `stopping`, which it refers to).
    FolderSyncContext folder_ctx;

    void say(LogLevel lvl, std::string_view mailbox, std::string_view event, std::string_view msg) {
        if (log)
            log(lvl, LogContext{spec.name, mailbox}, event, msg);
    }

    void health(HealthState state, const Error* err = nullptr, bool success = false) {
        AccountHealth h;
        h.state = state;
        h.success = success;
        if (err) {
            h.error_class = err->code;
            h.error_text = err->detail;
        }
        if (success) {
            h.lag_seconds = 0;
            h.backfill_pending = history.backfill_pending_total();
            h.initial_complete = *h.backfill_pending == 0;
        }
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
        auto list = list_mailboxes(s.has("LIST-EXTENDED") && s.has("SPECIAL-USE"));
        auto r = co_await s.run(list, [&](const Response& u) {
            if (auto l = parse_list(u); l && l->selectable()) {
                FolderInfo f;
                f.name = l->name;
                // A name with CR/LF/8-bit bytes cannot be sent without a literal: such folders
                // are left out.
                if (quote_astring(l->raw_name).needs_literal())
                    return;
                f.raw_name = l->raw_name;
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
                    return x.name == want ||
                           (ascii_iequals(want, "INBOX") && ascii_iequals(x.name, "INBOX"));
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
            if (auto f =
                    find([](const FolderInfo& x) { return ascii_iequals(x.special_use, "\\ALL"); }))
                chosen.push_back(*f);
        }
        if (chosen.empty()) {
            if (auto f = find([](const FolderInfo& x) { return ascii_iequals(x.name, "INBOX"); }))
                chosen.push_back(*f);
            if (auto f = find(
                    [](const FolderInfo& x) { return ascii_iequals(x.special_use, "\\SENT"); }))
                chosen.push_back(*f);
        }
        if (chosen.empty())
            co_return fail("imap.folder", "the server lists no INBOX", ErrorScope::Account,
                           Retry::Backoff);
        co_return chosen;
    }

    static boost::asio::awaitable<Result<std::string>>
    call_token(std::function<Result<std::string>(bool)> f, bool refused) {
        co_return f(refused);
    }

    // Gets the access token on the pool (a blocking refresh) and installs it.
    boost::asio::awaitable<Result<void>> refresh(bool refused) {
        auto tok = co_await boost::asio::co_spawn(pool.get_executor(),
                                                  call_token(spec.access_token, refused),
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
        if (spec.access_token) {
            auto tok = co_await refresh(false);
            if (!tok)
                co_return std::unexpected(tok.error());
        }
        auto opened = co_await CurlSession::open(io.get_executor(), pool, spec.imap, lim);
        if (!opened && opened.error().code == "net.auth" && spec.access_token && !stopping) {
            // The token may have expired or been revoked: a new one, once.
            say(LogLevel::Warning, "", "auth", "login refused: refreshing the OAuth2 token once");
            auto tok = co_await refresh(true);
            if (!tok)
                co_return std::unexpected(tok.error());
            opened = co_await CurlSession::open(io.get_executor(), pool, spec.imap, lim);
        }
        if (!opened)
            co_return std::unexpected(opened.error());
        std::unique_ptr<CurlSession> s = std::move(*opened);
        session = s.get();
        struct Reset {
            Session*& p;
            ~Reset() { p = nullptr; }
        } reset{session};
        if (stopping)
            co_return Result<void>{};
        // Gmail's extensions only where offered, and not when the account says gmail = false.
        gmail = s->has("X-GM-EXT-1") && spec.gmail.value_or(true);
        if ((s->has("CONDSTORE") || s->has("QRESYNC")) && s->has("ENABLE")) {
            // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE. With QRESYNC, EXAMINE names the
            // stored HIGHESTMODSEQ and the server lists what was expunged since (VANISHED).
            CommandBuilder b("ENABLE");
            b.raw(s->has("QRESYNC") ? "CONDSTORE QRESYNC" : "CONDSTORE");
            auto e = co_await s->run(b, [&](const Response& u) {
                if (ascii_iequals(u.status_or_keyword, "ENABLED"))
                    for (const auto& v : u.data)
                        if (v.is_atom())
                            s->note_enabled(ascii_upper(v.bytes));
            });
            if (!e)
                co_return std::unexpected(e.error());
        }
        auto folders = co_await resolve_folders(*s);
        if (!folders)
            co_return std::unexpected(folders.error());
        const FolderInfo* idle_folder = nullptr;
        for (const auto& f : *folders)
            if (ascii_iequals(f.name, "INBOX") || ascii_iequals(f.special_use, "\\ALL"))
                idle_folder = &f;
        // What is remembered of folders no longer synced (renamed, no longer configured) goes:
        // their backfill can never finish under the old name.
        std::erase_if(history.backfill_pending, [&](const auto& entry) {
            return std::none_of(folders->begin(), folders->end(),
                                [&](const FolderInfo& f) { return f.name == entry.first; });
        });
        while (!stopping) {
            const auto in0 = s->bytes_in(), out0 = s->bytes_out();
            const auto backfill_before = folder_ctx.backfill_stored;
            bool folder_failed = false;
            for (const auto& f : *folders) {
                auto r = co_await sync_folder(*s, f, folder_ctx, std::chrono::steady_clock::now(),
                                              static_cast<std::int64_t>(std::time(nullptr)));
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
                health(HealthState::Idle, nullptr, true);
            // The bytes one pass over all folders exchanged: constant when nothing changed.
            say(LogLevel::Debug, "", "pass",
                fmt::format("{} bytes in, {} bytes out", s->bytes_in() - in0,
                            s->bytes_out() - out0));
            // Older mail left by the backfill budget: the next pass at once (it looks for new
            // mail first), no IDLE or poll wait meanwhile.
            // Only while it moves: older mail that cannot be fetched (no size, refused) must not
            // make the passes spin; it is tried again after the usual wait.
            if (const auto left = history.backfill_pending_total();
                left > 0 && !folder_failed && folder_ctx.backfill_stored > backfill_before) {
                say(LogLevel::Info, "", "backfill",
                    fmt::format("{} older message(s) still to fetch; new mail first, then the "
                                "next part",
                                left));
                continue;
            }
            // Wait for news: IDLE on the main folder, else a poll timer.
            if (spec.idle && idle_folder && s->has("IDLE")) {
                auto ex = co_await examine(*s, *idle_folder);
                if (!ex)
                    co_return std::unexpected(ex.error());
                // A change made after the pass's EXAMINE and before this one (new mail, an
                // expunge, a flag) is announced here and never again during IDLE (RFC 2177
                // reports only later changes): sync again now. Seen with Cyrus under
                // back-to-back APPENDs, and with an expunge right after a STORE on a busy host.
                if (!folder_failed && history.news_since_pass(idle_folder->name, *ex)) {
                    say(LogLevel::Info, idle_folder->name, "news-before-idle",
                        fmt::format("{} EXISTS, UIDNEXT {}: changed since the pass, syncing "
                                    "again before IDLE",
                                    ex->exists,
                                    ex->uid_next ? std::to_string(*ex->uid_next) : "?"));
                    continue;
                }
                auto max = std::min(spec.idle_max, spec.poll_interval);
                // Gmail ends an IDLE after about ten minutes (issue 18): renewed before that.
                if (server_caps(*s, folder_ctx.policy.gmail_allowed).gmail)
                    max = std::min<std::chrono::seconds>(max, kGmailIdleMax);
                auto r = co_await s->idle(max, [&](const Response& u) {
                    if (auto fd = parse_fetch(u); fd && fd->flags)
                        history.flags_notified.insert(idle_folder->name);
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
            health(HealthState::Syncing);
            auto r = co_await session_loop();
            if (stopping)
                break;
            Error e = r ? Error{"imap.closed", "session ended", ErrorScope::Account, Retry::Backoff}
                        : r.error();
            std::chrono::seconds wait = backoff;
            auto state = HealthState::Backoff;
            if (e.code == "net.auth" || (e.code == "net.oauth" && e.retry == Retry::NeedsConfig)) {
                state = HealthState::NeedsReauth;
                wait = spec.backoff_max; // a wrong password will not fix itself soon
            } else if (e.retry == Retry::NeedsConfig) {
                state = HealthState::Error;
                wait = spec.backoff_max;
            }
            health(state, &e);
            // Jitter: 50..150 % so many accounts do not retry in lockstep.
            std::uniform_real_distribution<double> jitter(0.5, 1.5);
            auto ms = std::chrono::milliseconds(
                static_cast<std::int64_t>(static_cast<double>(wait.count()) * 1000 * jitter(rng)));
            say(LogLevel::Error, "", "error",
                fmt::format("{}; {} - retrying in {:.1f}s", e.to_string(), health_name(state),
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
