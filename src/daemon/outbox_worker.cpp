#include "outbox_worker.hpp"

#include <chrono>
#include <future>
#include <memory>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "crm/imap/crash_point.hpp"
#include "crm/imap/sent.hpp"
#include "crm/mime/compose.hpp"
#include "crm/smtp/sender.hpp"

namespace crm::daemon {

namespace {

// Runs `op(ep)` with the endpoint's XOAUTH2 access token from `token`, when there is one; a login
// the server refuses gets a new token and `op` runs once more (nothing was done before the
// login, so nothing is done twice).
template <class F>
auto with_token(net::Endpoint ep, const std::function<Result<std::string>(bool refused)>& token,
                F&& op) -> decltype(op(ep)) {
    if (!token)
        return op(ep);
    auto t = token(false);
    if (!t)
        return std::unexpected(t.error());
    ep.secret = std::move(*t);
    auto r = op(ep);
    if (r || r.error().code != "net.auth")
        return r;
    t = token(true);
    if (!t)
        return std::unexpected(t.error());
    ep.secret = std::move(*t);
    return op(ep);
}

std::int64_t backoff_seconds(std::int64_t attempts) {
    std::int64_t s = 30;
    for (std::int64_t i = 1; i < attempts && s < 3600; ++i)
        s *= 2;
    if (imap::test_fast_retry())
        return 1;
    return std::min<std::int64_t>(s, 3600);
}

} // namespace

OutboxWorker::OutboxWorker(boost::asio::io_context& io, boost::asio::thread_pool& pool, Backend& db,
                           DaemonSink& sink, LogSink log, const Clock& clock)
    : io_(io), pool_(pool), db_(db), sink_(sink), log_(std::move(log)), clock_(clock), timer_(io) {}

void OutboxWorker::start() { tick(); }

void OutboxWorker::stop() {
    stopping_ = true;
    timer_.cancel();
}

void OutboxWorker::kick() {
    if (!stopping_ && !busy_ && to_recover_.empty())
        send_one();
}

void OutboxWorker::set_account(AccountId id, SendingEndpoints ep) {
    accounts_[id] = std::move(ep);
    // Snapshot now, before this daemon claims anything for the account: a reply it marks
    // "sending" itself later is its own, not one to recover.
    auto rows = db_.outbox().list(std::string("sending"));
    if (!rows) {
        log_(LogLevel::Error, {accounts_[id].account_name, ""}, "outbox", rows.error().to_string());
        return;
    }
    std::erase_if(to_recover_, [id](const OutboxRow& r) { return r.account == id; });
    for (auto& r : *rows)
        if (r.account == id && r.id != sending_id_)
            to_recover_.push_back(std::move(r));
}

void OutboxWorker::remove_account(AccountId id) {
    accounts_.erase(id);
    std::erase_if(to_recover_, [id](const OutboxRow& r) { return r.account == id; });
}

void OutboxWorker::tick() {
    if (stopping_)
        return;
    if (!busy_) {
        if (!to_recover_.empty())
            recover_next();
        else
            send_one();
        if (!busy_ && to_recover_.empty())
            mirror_seen();
    }
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            tick();
    });
}

// After a crash, a reply left in "sending":
//   - without data_done_at never had the end of its DATA sent, so nothing was delivered: it is
//     queued again and sent automatically;
//   - with it, it may have been delivered. Gmail files what it delivers in its Sent folder
//     itself, so there the Message-ID is looked for (found -> sent). Elsewhere we APPEND to Sent
//     only after recording "sent", so nothing can be found: "unknown", for a person to decide.
// Never resent automatically once the end of DATA may have gone out.
void OutboxWorker::recover_next() {
    auto settle = [this](const std::string& name, std::int64_t id, const std::string& state,
                         const std::string& why) {
        auto r = in_transaction(db_.work(), [&] {
            return db_.outbox().set_state(id, state, why, std::nullopt, clock_.now());
        });
        if (!r) {
            log_(LogLevel::Error, {name, ""}, "outbox", r.error().to_string());
            return;
        }
        log_(LogLevel::Warning, {name, ""}, "outbox",
             fmt::format("reply {} was being sent at the last stop: now {}{}", id, state,
                         why.empty() ? "" : " (" + why + ")"));
    };
    while (!to_recover_.empty()) {
        const OutboxRow r = std::move(to_recover_.front());
        to_recover_.pop_front();
        auto it = accounts_.find(r.account);
        if (it == accounts_.end())
            continue;
        auto name = it->second.account_name;
        if (!r.data_done_at) {
            settle(
                name, r.id, "queued",
                "interrupted before the end of the message: nothing was delivered, sending again");
            continue;
        }
        static constexpr const char* kUnknown =
            "interrupted after the whole message was handed to the server, before its answer: it "
            "may or may not have been delivered";
        const std::optional<bool> files_sent = it->second.server_files_sent;
        if (files_sent && !*files_sent) {
            settle(name, r.id, "unknown", kUnknown);
            continue;
        }
        // Gmail and Microsoft 365 file what they sent in their Sent folder.
        busy_ = true;
        auto imap = it->second.imap;
        auto token = it->second.imap_token;
        auto id = r.id;
        auto mid = r.message_id;
        boost::asio::post(pool_, [this, imap, token, files_sent, name, id, mid, settle] {
            auto found = with_token(imap, token, [&](const net::Endpoint& ep) {
                return imap::sent_by_server(ep, mid, files_sent);
            });
            boost::asio::post(io_, [this, name, id, found, settle] {
                busy_ = false;
                if (found && !*found) {
                    settle(name, id, "unknown", kUnknown);
                    return;
                }
                settle(name, id, found && **found ? "sent" : "unknown",
                       found ? (**found ? ""
                                        : "interrupted after the end of the message; not in "
                                          "Gmail's Sent folder: it may or may not have been "
                                          "delivered")
                             : "interrupted after the end of the message; the Sent folder could "
                               "not be checked: " +
                                   found.error().to_string());
            });
        });
        return; // one at a time; the next tick continues
    }
}

void OutboxWorker::mirror_seen() {
    auto& ws = db_.seen();
    auto pending = ws.pending_seen(500);
    if (!pending) {
        log_(LogLevel::Error, {}, "seen", pending.error().to_string());
        return;
    }
    if (pending->empty())
        return;
    // The first mailbox's changes; the others follow on the next ticks. On a shared database
    // the changes of accounts other workers hold are theirs to mirror: the first of ours.
    auto mine = pending->begin();
    if (shared_)
        while (mine != pending->end() && !accounts_.contains(mine->account))
            ++mine;
    if (mine == pending->end())
        return;
    const auto& first = *mine;
    const AccountId account = first.account;
    const std::string mailbox = first.mailbox;
    const std::uint32_t validity = first.uid_validity;
    std::vector<std::uint32_t> seen, unseen;
    std::vector<std::int64_t> locations;
    for (const auto& c : *pending)
        if (c.account == account && c.mailbox == mailbox && c.uid_validity == validity) {
            (c.seen ? seen : unseen).push_back(c.uid);
            locations.push_back(c.location);
        }
    auto it = accounts_.find(account);
    if (it == accounts_.end()) {
        (void)ws.seen_failed(locations, "the account is not configured in this daemon", true);
        return;
    }
    busy_ = true;
    auto ep = it->second.imap;
    auto token = it->second.imap_token;
    auto name = it->second.account_name;
    boost::asio::post(pool_, [=, this]() {
        auto r = with_token(ep, token, [&](const net::Endpoint& e) {
            return imap::store_seen(e, mailbox, validity, seen, unseen);
        });
        boost::asio::post(io_, [=, this]() {
            busy_ = false;
            auto& w = db_.seen();
            if (r) {
                (void)w.seen_done(locations);
                log_(LogLevel::Info, {name, mailbox}, "seen",
                     fmt::format("mirrored read state: {} seen, {} unseen", seen.size(),
                                 unseen.size()));
            } else {
                const bool give_up = r.error().retry == Retry::Never;
                (void)w.seen_failed(locations, r.error().detail, give_up);
                log_(LogLevel::Warning, {name, mailbox}, "seen",
                     r.error().to_string() + (give_up ? " (dropped)" : " (will retry)"));
            }
        });
    });
}

void OutboxWorker::send_one() {
    auto& ob = db_.outbox();
    std::optional<OutboxRow> row;
    auto claimed = in_transaction(db_.work(), [&]() -> Result<void> {
        auto c = ob.claim_due(clock_.now());
        if (!c)
            return std::unexpected(c.error());
        if (!*c)
            return {};
        row = std::move(*c);
        auto it = accounts_.find(row->account);
        if (it == accounts_.end() || !it->second.smtp) {
            std::string why = it == accounts_.end()
                                  ? "the account is not configured in this daemon"
                                  : "the account has no [accounts.smtp] settings";
            if (auto f = ob.set_state(row->id, "failed", why, std::nullopt, clock_.now()); !f)
                return f;
            log_(LogLevel::Error, {}, "outbox", fmt::format("reply {}: {}", row->id, why));
            row.reset();
        }
        return {};
    });
    if (!claimed) {
        log_(LogLevel::Error, {}, "outbox", claimed.error().to_string());
        return;
    }
    if (!row)
        return;
    const auto& acc = accounts_.at(row->account);
    // Compose (pure) here; the attachments come from the blobs.
    mime::ReplyDraft d;
    d.from = Address{acc.from_name, acc.from_address};
    d.to = row->to;
    d.cc = row->cc;
    d.bcc = row->bcc;
    d.subject = row->subject;
    d.parent_message_id = row->in_reply_to;
    d.parent_references = row->references;
    d.text_body = row->text_body;
    d.html_body = row->html_body;
    d.message_id = row->message_id;
    d.date = clock_.now();
    for (const auto& a : row->attachments) {
        auto content = ob.attachment_content(a.sha256);
        if (!content) {
            (void)ob.set_state(row->id, "failed", content.error().detail, std::nullopt,
                               clock_.now());
            return;
        }
        d.attachments.push_back({a.filename, a.content_type, std::move(*content)});
    }
    auto message = mime::compose_reply(d);
    auto rcpts = message ? mime::envelope_recipients(d) : Result<std::vector<std::string>>{};
    if (!message || !rcpts) {
        const auto& e = !message ? message.error() : rcpts.error();
        (void)ob.set_state(row->id, "failed", e.detail, std::nullopt, clock_.now());
        log_(LogLevel::Error, {acc.account_name, ""}, "outbox",
             fmt::format("reply {}: {}", row->id, e.to_string()));
        return;
    }
    imap::crash_point("before-smtp");
    busy_ = true;
    sending_id_ = row->id;
    auto smtp_ep = *acc.smtp;
    auto imap_ep = acc.imap;
    auto smtp_token = acc.smtp_token;
    auto imap_token = acc.imap_token;
    const std::optional<bool> files_sent = acc.server_files_sent;
    auto id = row->id;
    auto attempts = row->attempts;
    auto thread = row->thread;
    auto from = acc.from_address;
    auto name = acc.account_name;
    auto bytes = std::move(*message);
    auto recipients = std::move(*rcpts);
    boost::asio::post(pool_, [=, this]() mutable {
        // Just before the end of DATA can go out, commit that point (on the io thread, which
        // owns the connection): a crash before it is sent again, one after it is "unknown".
        auto mark = [this, id] {
            imap::crash_point("before-end-of-data");
            auto done = std::make_shared<std::promise<bool>>();
            auto result = done->get_future();
            boost::asio::post(io_, [this, id, done] {
                auto r = in_transaction(
                    db_.work(), [&] { return db_.outbox().mark_data_done(id, clock_.now()); });
                if (!r)
                    log_(LogLevel::Error, {}, "outbox", r.error().to_string());
                done->set_value(r.has_value());
            });
            // The io thread may be stopping: then give up and send again later.
            const bool ok =
                result.wait_for(std::chrono::seconds(10)) == std::future_status::ready &&
                result.get();
            if (ok)
                imap::crash_point("after-end-of-data-mark");
            return ok;
        };
        auto report = with_token(smtp_ep, smtp_token, [&](const net::Endpoint& ep) {
            return smtp::send(ep, from, recipients, bytes, mark);
        });
        imap::crash_point("after-smtp");
        boost::asio::post(io_, [=, this]() mutable {
            busy_ = false;
            sending_id_.reset();
            std::string state, why;
            std::optional<std::int64_t> next;
            if (report && report->accepted()) {
                state = "sent";
                for (const auto& r : report->recipients)
                    if (r.code >= 400)
                        why += fmt::format("{}{}: {} {}", why.empty() ? "" : "; ", r.address,
                                           r.code, r.text);
            } else if (!report && (report.error().code == "smtp.temporary" ||
                                   report.error().code == "smtp.aborted")) {
                state = "queued";
                why = report.error().detail;
                next = clock_.now() + backoff_seconds(attempts);
            } else if (!report && (report.error().code == "smtp.unknown")) {
                state = "unknown";
                why = report.error().detail;
            } else if (!report && report.error().code.starts_with("net.") &&
                       report.error().code != "net.auth" && report.error().code != "net.tls" &&
                       report.error().code != "net.config") {
                // Nothing was delivered (the connection failed before DATA): retry later.
                state = "queued";
                why = report.error().to_string();
                next = clock_.now() + backoff_seconds(attempts);
            } else {
                state = "failed";
                why = report ? fmt::format("{} {}", report->final_code, report->final_text)
                             : report.error().detail;
            }
            if (auto r = in_transaction(
                    db_.work(),
                    [&] { return db_.outbox().set_state(id, state, why, next, clock_.now()); });
                !r)
                log_(LogLevel::Error, {name, ""}, "outbox", r.error().to_string());
            if (results_)
                ++(*results_)[state == "queued" ? "deferred" : state];
            imap::crash_point("after-record");
            log_(state == "sent" ? LogLevel::Info : LogLevel::Warning, {name, ""}, "outbox",
                 fmt::format("reply {}: {}{}", id, state, why.empty() ? "" : " (" + why + ")"));
            if (state != "sent")
                return;
            // The reply belongs in its thread and deal at once; the Sent-folder sync later
            // finds the same Message-ID and content and only adds the location.
            FetchedMessage fm;
            fm.raw = bytes;
            fm.flags = {"\\Seen"};
            if (auto r = sink_.store_outgoing(std::move(fm), "outbox:" + std::to_string(id)); !r)
                log_(LogLevel::Error, {name, ""}, "outbox", r.error().to_string());
            (void)thread;
            if (files_sent && *files_sent)
                return; // Gmail files sent mail itself
            busy_ = true;
            boost::asio::post(pool_, [=, this] {
                auto filed = with_token(imap_ep, imap_token, [&](const net::Endpoint& ep) {
                    return imap::file_in_sent(ep, bytes, files_sent);
                });
                boost::asio::post(io_, [=, this] {
                    busy_ = false;
                    if (!filed)
                        log_(LogLevel::Warning, {name, ""}, "outbox",
                             fmt::format("reply {} sent, but filing it in Sent failed: {}", id,
                                         filed.error().to_string()));
                    else if (*filed == imap::SentFiling::ServerFiles)
                        log_(LogLevel::Debug, {name, ""}, "outbox",
                             fmt::format("reply {}: the provider files it in Sent itself", id));
                });
            });
        });
    });
}

} // namespace crm::daemon
