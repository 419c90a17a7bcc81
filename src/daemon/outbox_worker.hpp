#pragma once
// Works the outbox on the daemon's io_context: claims due replies, composes them (GMime), sends
// them over SMTP on the blocking pool, records the outcome, files the copy in Sent and in its
// thread. Exactly once: a reply is marked "sending" (committed) before the SMTP transaction; one
// found in "sending" when its account starts here (at start-up, or when this worker takes the
// account's lease over from one that died) is settled as after a crash (recover_next), never
// resent automatically once its end of DATA may have gone out. Between replies it also mirrors
// read state to the servers.

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "crm/core/backend.hpp"
#include "crm/core/clock.hpp"
#include "crm/core/log.hpp"
#include "crm/net/transport.hpp"
#include "sink.hpp"

namespace crm::daemon {

struct SendingEndpoints {
    std::string account_name;
    std::string from_address;
    std::string from_name;
    std::optional<net::Endpoint> smtp; // absent: this account cannot send
    net::Endpoint imap;
    // Whether the provider files what its SMTP server sends in Sent itself (Gmail, Microsoft 365:
    // then no APPEND, and after a crash the Sent folder tells whether a reply went out); unset:
    // when the IMAP server offers X-GM-EXT-1 (Gmail).
    std::optional<bool> server_files_sent;
    // XOAUTH2 with a refresh token: the access token for `imap` / `smtp` (as
    // imap::AccountSpec::access_token: `refused` after the server refused the last one); empty:
    // the endpoint's own secret is used.
    std::function<Result<std::string>(bool refused)> imap_token;
    std::function<Result<std::string>(bool refused)> smtp_token;
};

class OutboxWorker {
  public:
    OutboxWorker(boost::asio::io_context& io, boost::asio::thread_pool& pool, Backend& db,
                 DaemonSink& sink, LogSink log, const Clock& clock = system_clock());
    // An account starts sending here. Its replies left in "sending" (by this daemon before a
    // crash, or by the worker that held the account before) are settled before anything new.
    void set_account(AccountId id, SendingEndpoints ep);
    // The account stopped here (removed, or its lease released or lost).
    void remove_account(AccountId id);
    // Several workers share the database: the changes of accounts not held here are left to the
    // worker that holds them (on a database of its own they are dropped with a reason).
    void set_shared_database(bool shared) { shared_ = shared; }
    // Send outcomes are counted for /metrics.
    void set_result_counter(std::map<std::string, std::uint64_t>* c) { results_ = c; }
    void start();
    void stop();
    // A reply was just queued: try now instead of at the next tick.
    void kick();

  private:
    void tick();
    // Settles the next reply left in "sending" (see set_account).
    void recover_next();
    void send_one();
    // Mirrors CRM read/unread to \Seen on the server (accounts with mirror_seen), one mailbox
    // per call, on the pool.
    void mirror_seen();

    boost::asio::io_context& io_;
    boost::asio::thread_pool& pool_;
    Backend& db_;
    DaemonSink& sink_;
    LogSink log_;
    const Clock& clock_;
    boost::asio::steady_timer timer_;
    std::map<AccountId, SendingEndpoints> accounts_;
    bool busy_ = false;
    bool stopping_ = false;
    std::deque<OutboxRow> to_recover_;
    // The reply this daemon is sending now: "sending" because of us, never one to recover.
    std::optional<std::int64_t> sending_id_;
    bool shared_ = false;
    std::map<std::string, std::uint64_t>* results_ = nullptr;
};

} // namespace crm::daemon
