#pragma once
// Keeps one account's folders in the CRM: EXAMINE (never \Seen), UIDVALIDITY/UIDNEXT/
// HIGHESTMODSEQ checkpoints, new mail in batches newest first, flags via CONDSTORE or a sweep,
// expunges and gaps via periodic reconciliation, IDLE or polling, backoff with jitter.
// Runs as a coroutine on the caller's io_context; blocking libcurl logins go to the pool.

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/log.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/net/transport.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
} // namespace boost::asio

namespace crm::imap {

// How long one IDLE lasts on Gmail at most: Gmail drops an IDLE after about ten minutes.
inline constexpr std::chrono::seconds kGmailIdleMax{9 * 60};

struct AccountSpec {
    AccountId id = 0;
    std::string name;
    net::Endpoint imap;
    std::vector<std::string> folders; // empty: INBOX + the \Sent folder (Gmail: the \All folder)
    bool idle = true;
    std::chrono::seconds poll_interval{300};
    std::chrono::seconds idle_max{25 * 60}; // re-issue IDLE before servers' 30-minute timeout
    std::chrono::seconds reconcile_interval{3600};
    std::chrono::seconds flag_sweep_interval{900}; // without CONDSTORE
    std::chrono::seconds command_timeout{120};   // without progress
    std::chrono::seconds command_deadline{1800}; // for one whole command
    int initial_sync_days = 90; // 0: everything at once
    bool backfill = true;       // false: never mail older than initial_sync_days
    std::size_t batch_messages = 200;
    std::uint64_t batch_bytes = 16u << 20;
    // XOAUTH2 with a refresh token: an access token (blocking; run on the pool), before each
    // connection; `refused` after the server refused the last one (a new one, not a kept one).
    std::function<Result<std::string>(bool refused)> access_token;
    // The account's `gmail =`: false ignores X-GM-EXT-1; unset (or true): Gmail's extensions
    // where the server offers them.
    std::optional<bool> gmail;
    std::chrono::seconds backoff_min{2};
    std::chrono::seconds backoff_max{600};
};

class AccountSync {
  public:
    AccountSync(boost::asio::io_context& io, boost::asio::thread_pool& pool, AccountSpec spec,
                SyncSink& sink, LogSink log);
    ~AccountSync();
    AccountSync(const AccountSync&) = delete;
    AccountSync& operator=(const AccountSync&) = delete;

    // Starts the account's loop on the io_context.
    void start();
    // Asks the loop to end: waits are interrupted; a batch being stored finishes its
    // transaction first (storing is synchronous between awaits). `done()` turns true after.
    void stop();
    [[nodiscard]] bool done() const;
    [[nodiscard]] const AccountSpec& spec() const;

  private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

} // namespace crm::imap
