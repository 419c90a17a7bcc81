#pragma once
// The decisions of one sync pass over one folder, without I/O: which commands to send, which
// UIDs to fetch in which batches, what to tell the SyncSink and which checkpoint to write,
// from the stored state and the server's answers. The pipeline (src/imap/folder_sync.cpp)
// executes the steps against a Session and the SyncSink and feeds the answers back; the unit
// tests drive it with a scripted Session.
//
// Invariant the plan keeps: the checkpoint (UIDNEXT, HIGHESTMODSEQ) is only written after every
// UID below it is stored or quarantined, so a pass that ends early (error, crash, stop) leaves
// the checkpoint behind what is stored and the next pass fetches exactly what is missing. The one
// exception is older mail the backfill budget leaves for later passes: those compare the whole
// folder (SyncHistory::backfill_pending, or the counts after a restart) and fetch it.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/core/sync_ports.hpp"
#include "crm/imap/command.hpp"
#include "crm/imap/protocol.hpp"
#include "crm/imap/responses.hpp"

namespace crm::imap {

// A folder chosen for sync.
struct FolderInfo {
    std::string name;        // UTF-8
    std::string raw_name;    // as the server sent it in LIST (modified UTF-7): goes in commands
    std::string special_use; // "\Sent", "\All" or ""
};

// What the server supports, as far as the plan cares (from the session's capabilities).
struct ServerCaps {
    bool condstore = false; // RFC 7162: EXAMINE (CONDSTORE), MODSEQ, CHANGEDSINCE
    bool esearch = false;   // RFC 4731: UID SEARCH RETURN (ALL)
    bool gmail = false;     // X-GM-EXT-1: X-GM-MSGID X-GM-THRID X-GM-LABELS
    // RFC 7162 QRESYNC, enabled on the session: EXAMINE names the stored UIDVALIDITY and
    // HIGHESTMODSEQ, and the server answers what was expunged since (VANISHED (EARLIER)) and the
    // flags changed since: no UID sweep for either.
    bool qresync = false;
};

// The account's sync settings the plan needs (from AccountSpec).
struct FolderPolicy {
    std::size_t batch_messages = 200;
    std::uint64_t batch_bytes = 16u << 20;
    int initial_sync_days = 90; // 0: everything at once
    // false (the account's backfill = false): mail older than initial_sync_days is never
    // fetched, on the first pass or any later one.
    bool backfill = true;
    std::chrono::seconds reconcile_interval{3600};
    std::chrono::seconds flag_sweep_interval{900}; // without CONDSTORE
    // false: the account's `gmail = false`: X-GM-EXT-1 is not used even when offered.
    bool gmail_allowed = true;
    // Backfill at a lower priority than new mail: a pass fetches at most this many batches of
    // older mail (older than the window, or gaps below the checkpoint), then ends, so the next
    // pass looks for new mail first; the rest waits for the next passes. 0: no limit.
    std::size_t backfill_batches = 25;
};

// EXAMINE's answer (RFC 3501 §6.3.2, RFC 7162 §3.1.2.1), with STATUS (UIDNEXT) as fallback.
struct ExamineResult {
    std::uint32_t exists = 0;
    std::optional<std::uint32_t> uid_validity, uid_next;
    std::optional<std::uint64_t> highest_modseq;

    // Takes EXISTS and the [UIDVALIDITY]/[UIDNEXT]/[HIGHESTMODSEQ] codes of an untagged
    // response of EXAMINE, and UIDNEXT of a STATUS answer.
    void absorb(const Response& untagged);
    // Checks EXAMINE's tagged answer: NO/BAD and a missing UIDVALIDITY fail "imap.examine"
    // (ErrorScope::Mailbox). The tagged OK may carry [HIGHESTMODSEQ].
    Result<void> finish(const Response& tagged, const std::string& folder);
};

// With caps.qresync and a `known` state that has a UIDVALIDITY and HIGHESTMODSEQ:
// "EXAMINE f (QRESYNC (uidvalidity modseq))" (RFC 7162 §3.2.5).
[[nodiscard]] CommandBuilder examine_command(const FolderInfo& f, const ServerCaps& caps,
                                             const MailboxState* known = nullptr);
// RFC 3501 §6.3.1 makes [UIDNEXT] a SHOULD; Courier omits it but answers STATUS (§6.3.10).
[[nodiscard]] CommandBuilder status_uidnext_command(const FolderInfo& f);

// What a folder looked like when its last pass ended: the EXISTS count and the checkpoint.
struct PassEnd {
    std::uint32_t exists = 0;
    std::optional<std::uint32_t> uid_next;
    std::optional<std::uint64_t> highest_modseq; // CONDSTORE servers
};

// What the account remembers between passes (one per AccountSync, shared by its folders; the
// reconcile and sweep times are per account, not per folder).
struct SyncHistory {
    std::chrono::steady_clock::time_point last_reconcile{};
    std::chrono::steady_clock::time_point last_flag_sweep{};
    // Folders whose flags changed according to an untagged FETCH seen in IDLE (Courier,
    // Dovecot): without CONDSTORE their next pass sweeps flags at once instead of at
    // flag_sweep_interval.
    std::set<std::string> flags_notified;
    // Per folder (UTF-8 name), for the EXAMINE sent right before IDLE: did mail arrive since?
    std::map<std::string, PassEnd> pass_end;
    // Per folder: how many older messages its last full comparison left on the server
    // (FolderPolicy::backfill false), so that they do not make every count disagree.
    std::map<std::string, std::size_t> left_out;
    // Per folder: older messages its last pass left for the next passes (backfill at a lower
    // priority); the account runs its next pass at once while any is left.
    std::map<std::string, std::size_t> backfill_pending;
    [[nodiscard]] std::size_t backfill_pending_total() const {
        std::size_t n = 0;
        for (const auto& [folder, left] : backfill_pending)
            n += left;
        return n;
    }

    // True when `ex` (a later EXAMINE of `folder`) shows a change since its last pass ended: a
    // higher UIDNEXT than the checkpoint, another message count (new mail or an expunge), or,
    // on a CONDSTORE server, a higher HIGHESTMODSEQ (a flag change).
    [[nodiscard]] bool news_since_pass(const std::string& folder, const ExamineResult& ex) const;
};

// One thing the pipeline does next. Commands carry their own builder; the rest name a SyncSink
// call and its arguments.
struct FolderStep {
    enum class Kind {
        Command,          // run `command`; feed untagged answers to on_untagged, then on_tagged
        OpenMailbox,      // SyncSink::open_mailbox, then on_mailbox
        ResetUidValidity, // SyncSink::reset_uid_validity(mailbox, uid_validity)
        LoadUids,         // SyncSink::stored_uids and quarantined_uids, then on_uids
        UpdateFlags,      // SyncSink::update_flags(flag_updates)
        Expunge,          // SyncSink::expunge(uids)
        LinkCopies,       // SyncSink::link_known_copies(copies), then on_linked
        FetchBatches,     // fetch (batch_fetch) and store each of `batches`, in order
        Checkpoint,       // SyncSink::checkpoint(uid_next, highest_modseq)
        Done,
    };
    Kind kind = Kind::Done;
    std::optional<CommandBuilder> command;
    std::vector<FlagUpdate> flag_updates;
    std::vector<std::uint32_t> uids;                    // Expunge
    std::vector<KnownCopy> copies;                      // LinkCopies
    std::vector<std::vector<std::uint32_t>> batches;    // newest first; each ascending
    bool backfill = false; // FetchBatches: older mail (initial-sync progress in any pass)
    std::optional<std::uint32_t> uid_next;              // Checkpoint
    std::optional<std::uint64_t> highest_modseq;        // Checkpoint
    std::optional<std::uint32_t> previous_uid_validity; // ResetUidValidity, for the log
};

// One pass over one folder. Call next() for a step, do it, feed its answers, call next() again
// until Done. An error from the pipeline (or from on_tagged) abandons the plan: nothing it has
// not yet asked for is written, in particular no checkpoint. Not thread-safe; no I/O.
class FolderPlan {
  public:
    // `now` and `unix_now` are the pass's start (reconcile/sweep timers, SEARCH SINCE);
    // `history` is updated as the pass goes (reconcile and sweep times, the pass end).
    FolderPlan(FolderInfo folder, FolderPolicy policy, ServerCaps caps, SyncHistory& history,
               std::chrono::steady_clock::time_point now, std::int64_t unix_now);

    [[nodiscard]] FolderStep next();

    // Answers to the Command step just returned.
    void on_untagged(const Response& r);
    // Fails with the command's error ("imap.examine", "imap.search"), scope Mailbox.
    Result<void> on_tagged(const Response& r);
    // Answers to the sink steps.
    void on_mailbox(MailboxState mb);
    void on_uids(std::vector<std::uint32_t> stored, std::vector<std::uint32_t> quarantined);
    // The copies of a LinkCopies step that the sink placed (stored already: not fetched).
    // Returns how many of this pass's UIDs to fetch that took off.
    std::size_t on_linked(const std::vector<std::uint32_t>& uids);

    // The FETCH of one batch of a FetchBatches step: message, flags, date, size (and Gmail's
    // ids and labels, the MODSEQ on CONDSTORE servers), never setting \Seen (BODY.PEEK).
    [[nodiscard]] CommandBuilder batch_fetch(const std::vector<std::uint32_t>& batch) const;

    [[nodiscard]] const FolderInfo& folder() const { return folder_; }
    [[nodiscard]] const ExamineResult& examined() const { return ex_; }
    [[nodiscard]] const MailboxState& mailbox() const { return mb_; }
    // The folder's UIDVALIDITY (after EXAMINE).
    [[nodiscard]] std::uint32_t uid_validity() const { return ex_.uid_validity.value_or(0); }
    // First sync of this folder (no checkpoint): its batches are initial-sync progress.
    [[nodiscard]] bool initial() const { return initial_; }
    // How many messages this pass fetches in all (known once the first FetchBatches is out).
    [[nodiscard]] std::size_t to_fetch() const { return to_fetch_; }
    // How many stored UIDs QRESYNC's VANISHED (EARLIER) reported expunged this pass.
    [[nodiscard]] std::size_t vanished_stored() const { return vanished_stored_; }

    // Messages older than the window left on the server (FolderPolicy::backfill false).
    [[nodiscard]] std::size_t left_out() const { return left_out_; }
    // Older messages this pass left for the next passes (FolderPolicy::backfill_batches).
    [[nodiscard]] std::size_t backfill_left() const { return backfill_left_; }
    // True while the window's UID SEARCH SINCE is still to narrow what to_fetch() counts.
    [[nodiscard]] bool narrowing() const { return phase_ == Phase::Since; }

  private:
    enum class Phase {
        Examine,
        Status,
        Open,
        Reset,
        Load,
        Flags,
        FlagUpdate,
        Search,
        Expunge,
        Since,
        Sizes,
        Link,
        Batches,
        Checkpoint,
        Finish,
        Done
    };
    enum class Awaiting { None, Examine, Status, Flags, Search, Since, Sizes };

    FolderStep command(CommandBuilder b, Awaiting what);
    [[nodiscard]] CommandBuilder search_command() const;
    CommandBuilder& flag_items(CommandBuilder& b) const;
    void searched();
    void plan_missing();
    void plan_batches();
    Phase after_open(); // Reset when UIDVALIDITY changed, else Load

    FolderInfo folder_;
    FolderPolicy policy_;
    ServerCaps caps_;
    SyncHistory& history_;
    std::chrono::steady_clock::time_point now_;
    std::int64_t unix_now_ = 0;

    Phase phase_ = Phase::Examine; // Open first with QRESYNC (constructor)
    Awaiting awaiting_ = Awaiting::None;
    ExamineResult ex_;
    MailboxState mb_;
    std::vector<std::uint32_t> stored_, quarantined_;
    bool initial_ = false, reconcile_ = false;
    std::vector<FlagUpdate> flag_updates_;
    // SEARCH: slices of "ALL" for servers without ESEARCH (next slice's first UID), answers.
    std::uint64_t slice_lo_ = 0;
    bool sliced_ = false;
    std::vector<std::uint32_t> server_, gone_, recent_;
    // The UIDs to fetch, split into groups fetched one after the other (recent mail first on an
    // initial sync), the group being sized and the sizes.
    std::vector<std::vector<std::uint32_t>> groups_;
    std::vector<bool> backfill_group_; // per group: older mail, fetched within the budget
    std::size_t backfill_left_ = 0;
    std::size_t group_ = 0, size_chunk_ = 0;
    std::map<std::uint32_t, std::uint64_t> sizes_;
    // Gmail: what the size FETCH said of each UID's X-GM-MSGID, flags and labels.
    std::vector<KnownCopy> copies_;
    std::size_t link_from_ = 0; // the next LinkCopies step starts here
    // QRESYNC: the mailbox was opened before EXAMINE (its stored state goes into EXAMINE), and
    // what EXAMINE answered: the UIDs expunged since and the flags changed since.
    bool opened_first_ = false, qresync_examined_ = false, qresync_used_ = false;
    bool verify_count_ = false; // after searching the new UIDs, the counts must agree
    std::size_t vanished_stored_ = 0;
    std::size_t left_out_known_ = 0;
    Vanished vanished_;
    std::vector<FlagUpdate> examined_flags_;
    std::vector<std::vector<std::uint32_t>> batches_;
    std::size_t to_fetch_ = 0;
    std::size_t left_out_ = 0;
    std::optional<std::uint32_t> checkpoint_uid_next_;
};

// A message of a batch FETCH, moving the bytes out of `r`; nullopt for other responses
// (unsolicited FLAGS, EXPUNGE) and for a FETCH without UID or body.
[[nodiscard]] std::optional<FetchedMessage> take_fetched_message(Response& r);

} // namespace crm::imap
