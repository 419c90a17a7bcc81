#pragma once
// The pipeline of one folder's sync pass: executes FolderPlan's steps against a Session and the
// SyncSink and feeds the answers back. It decides nothing about what to fetch or when to write
// a checkpoint; it owns the overlap (fetching batch N+1 while batch N is parsed and stored) and
// the progress reports. Private to the imap module (and its unit tests).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "crm/core/log.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/imap/folder_plan.hpp"
#include "session.hpp"

namespace crm::imap {

// What the pipeline needs from its account; borrowed for the pass.
struct FolderSyncContext {
    AccountId account = 0;
    SyncSink& sink;
    FolderPolicy policy;
    SyncHistory& history;
    // Set by AccountSync::stop(): a pass ends after the batch being stored, before the
    // checkpoint.
    const bool& stopping;
    // (level, mailbox, event, message)
    std::function<void(LogLevel, std::string_view, std::string_view, std::string_view)> say;
    // Initial-sync progress over every folder of the account (AccountHealth::initial_*).
    std::uint64_t initial_done_all = 0, initial_total_all = 0;
    // Older messages stored by backfill batches so far (a pass that stores none of the pending
    // backfill does not start the next one at once).
    std::uint64_t backfill_stored = 0;
};

// `gmail_allowed` false: X-GM-EXT-1 is ignored (the account's gmail = false).
[[nodiscard]] ServerCaps server_caps(const Session& s, bool gmail_allowed = true);

// EXAMINE (and STATUS when the answer lacks UIDNEXT), as FolderPlan does it; for the check
// before IDLE.
asio::awaitable<Result<ExamineResult>> examine(Session& s, const FolderInfo& f);

// One pass over `f`. `now`/`unix_now` are the pass's start. Errors carry their scope: Mailbox
// errors leave other folders to sync; anything else ends the session.
asio::awaitable<Result<void>> sync_folder(Session& s, const FolderInfo& f, FolderSyncContext& ctx,
                                          std::chrono::steady_clock::time_point now,
                                          std::int64_t unix_now);

} // namespace crm::imap
