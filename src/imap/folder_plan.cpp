// The pure planner of one folder's sync pass (see folder_plan.hpp).
#include "crm/imap/folder_plan.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>

#include <fmt/format.h>

#include "crm/imap/responses.hpp"

namespace crm::imap {

namespace {

// UID FETCH of sizes goes out in slices of this many UIDs, so no command line grows with the
// folder (servers limit line length: Dovecot 64 KiB, Courier less).
constexpr std::size_t kSizeChunk = 5000;
// Without ESEARCH, "UID SEARCH ALL" answers one number per message on one line: ask in slices
// of this many UIDs instead, so no response line grows with the mailbox.
constexpr std::uint64_t kSearchSlice = 10'000;
// Gmail copies linked by X-GM-MSGID per LinkCopies step (one transaction on the event loop).
constexpr std::size_t kLinkChunk = 1000;

std::optional<std::uint64_t> code_num(const Response& r, std::string_view name) {
    if (r.code_atom != name)
        return std::nullopt;
    return r.code_number();
}

void sort_unique(std::vector<std::uint32_t>& v) {
    if (!std::is_sorted(v.begin(), v.end()))
        std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

} // namespace

void ExamineResult::absorb(const Response& u) {
    if (u.status_or_keyword == "EXISTS" && u.number)
        exists = static_cast<std::uint32_t>(*u.number);
    if (auto v = code_num(u, "UIDVALIDITY"))
        uid_validity = static_cast<std::uint32_t>(*v);
    if (auto v = code_num(u, "UIDNEXT"))
        uid_next = static_cast<std::uint32_t>(*v);
    if (auto v = code_num(u, "HIGHESTMODSEQ"))
        highest_modseq = *v;
    if (auto sd = parse_status(u); sd && sd->uidnext && *sd->uidnext <= UINT32_MAX)
        uid_next = static_cast<std::uint32_t>(*sd->uidnext);
}

Result<void> ExamineResult::finish(const Response& tagged, const std::string& folder) {
    if (tagged.status_or_keyword != "OK")
        return fail("imap.examine", fmt::format("EXAMINE {} failed: {}", folder, tagged.text),
                    ErrorScope::Mailbox, Retry::Backoff);
    if (auto v = code_num(tagged, "HIGHESTMODSEQ"))
        highest_modseq = *v;
    if (!uid_validity)
        return fail("imap.examine", folder + ": the server sent no UIDVALIDITY",
                    ErrorScope::Mailbox, Retry::Backoff);
    return {};
}

CommandBuilder examine_command(const FolderInfo& f, const ServerCaps& caps,
                               const MailboxState* known) {
    CommandBuilder b("EXAMINE");
    b.astring(f.raw_name);
    if (caps.qresync && known && known->uid_validity && known->highest_modseq &&
        *known->highest_modseq > 0)
        b.raw(fmt::format("(QRESYNC ({} {}))", *known->uid_validity, *known->highest_modseq));
    else if (caps.condstore || caps.qresync)
        b.list({"CONDSTORE"}); // RFC 7162 §3.1.8: HIGHESTMODSEQ in the answer
    return b;
}

CommandBuilder status_uidnext_command(const FolderInfo& f) {
    CommandBuilder b("STATUS");
    b.astring(f.raw_name).list({"UIDNEXT"});
    return b;
}

bool SyncHistory::news_since_pass(const std::string& folder, const ExamineResult& ex) const {
    auto it = pass_end.find(folder);
    if (it == pass_end.end())
        return false;
    const PassEnd& p = it->second;
    return (ex.uid_next && p.uid_next && *ex.uid_next > *p.uid_next) || ex.exists != p.exists ||
           (ex.highest_modseq && p.highest_modseq && *ex.highest_modseq > *p.highest_modseq);
}

FolderPlan::FolderPlan(FolderInfo folder, FolderPolicy policy, ServerCaps caps,
                       SyncHistory& history, std::chrono::steady_clock::time_point now,
                       std::int64_t unix_now)
    : folder_(std::move(folder)), policy_(policy), caps_(caps), history_(history), now_(now),
      unix_now_(unix_now) {
    // QRESYNC: the stored state goes into EXAMINE, so the mailbox is opened first.
    opened_first_ = caps_.qresync;
    if (opened_first_)
        phase_ = Phase::Open;
}

namespace {
FolderStep step(FolderStep::Kind kind) {
    FolderStep st;
    st.kind = kind;
    return st;
}
} // namespace

FolderStep FolderPlan::command(CommandBuilder b, Awaiting what) {
    awaiting_ = what;
    FolderStep st = step(FolderStep::Kind::Command);
    st.command = std::move(b);
    return st;
}

FolderStep FolderPlan::next() {
    using Kind = FolderStep::Kind;
    for (;;) {
        switch (phase_) {
        case Phase::Examine:
            qresync_examined_ =
                opened_first_ && mb_.uid_validity && mb_.highest_modseq && *mb_.highest_modseq > 0;
            return command(examine_command(folder_, caps_, opened_first_ ? &mb_ : nullptr),
                           Awaiting::Examine);
        case Phase::Status:
            // Without [UIDNEXT] the checkpoint would stay unknown and every pass would be an
            // initial sync. A server that answers neither gets the highest UID + 1 (Checkpoint).
            return command(status_uidnext_command(folder_), Awaiting::Status);
        case Phase::Open:
            // on_mailbox turns to Reset when UIDVALIDITY changed (or to Examine, when opened
            // first)
            phase_ = Phase::Load;
            return step(Kind::OpenMailbox);
        case Phase::Reset: {
            // RFC 3501 §2.3.1.1: a new UIDVALIDITY invalidates every stored UID. The sink drops
            // the locations (messages stay and are re-attached by content); this pass is an
            // initial sync of the folder.
            FolderStep st = step(Kind::ResetUidValidity);
            st.previous_uid_validity = mb_.uid_validity;
            mb_.uid_validity = ex_.uid_validity;
            mb_.uid_next.reset();
            mb_.highest_modseq.reset();
            phase_ = Phase::Load;
            return st;
        }
        case Phase::Load:
            phase_ = Phase::Flags; // on_uids may end the pass at once (nothing changed)
            return step(Kind::LoadUids);
        case Phase::Flags: {
            // Flags changed elsewhere (read/unread): only for messages stored before this pass.
            phase_ = Phase::FlagUpdate;
            if (initial_ || stored_.empty() || qresync_used_)
                continue; // with QRESYNC, EXAMINE's answer had the changed flags
            const bool modseq_same = ex_.highest_modseq && mb_.highest_modseq &&
                                     *ex_.highest_modseq == *mb_.highest_modseq;
            if (ex_.highest_modseq && mb_.highest_modseq && !modseq_same) {
                // RFC 7162 §3.1.4: only what changed since the stored HIGHESTMODSEQ, over the
                // UIDs the checkpoint covers (newer ones are fetched whole anyway).
                const std::uint32_t last = std::max<std::uint32_t>(1, mb_.uid_next.value_or(1) - 1);
                CommandBuilder b("UID FETCH");
                b.range(1, last);
                flag_items(b).changed_since(*mb_.highest_modseq);
                return command(std::move(b), Awaiting::Flags);
            }
            const bool sweep_due = !ex_.highest_modseq &&
                                   (history_.flags_notified.contains(folder_.name) ||
                                    now_ - history_.last_flag_sweep >= policy_.flag_sweep_interval);
            if (sweep_due) {
                history_.last_flag_sweep = now_;
                history_.flags_notified.erase(folder_.name);
                CommandBuilder b("UID FETCH");
                b.range(1, std::nullopt);
                flag_items(b);
                return command(std::move(b), Awaiting::Flags);
            }
            continue;
        }
        case Phase::FlagUpdate:
            phase_ = Phase::Search;
            if (flag_updates_.empty())
                continue;
            {
                FolderStep st = step(Kind::UpdateFlags);
                st.flag_updates = std::move(flag_updates_);
                flag_updates_.clear();
                return st;
            }
        case Phase::Search:
            return command(search_command(), Awaiting::Search);
        case Phase::Expunge:
            plan_missing();
            if (!gone_.empty()) {
                // Expunged elsewhere: the location goes, the message and its CRM history stay.
                FolderStep st = step(Kind::Expunge);
                st.uids = std::move(gone_);
                gone_.clear();
                return st;
            }
            continue;
        case Phase::Since: {
            // The recent past first, so salespeople see current mail quickly; then backfill.
            CommandBuilder b("UID SEARCH");
            if (caps_.esearch)
                b.raw("RETURN").list({"ALL"});
            b.raw("SINCE").date(unix_now_ -
                                static_cast<std::int64_t>(policy_.initial_sync_days) * 86400);
            return command(std::move(b), Awaiting::Since);
        }
        case Phase::Sizes: {
            // Sizes first, so batches stay within batch_bytes; newest first.
            auto& uids = groups_[group_];
            if (size_chunk_ == 0) {
                std::sort(uids.begin(), uids.end(), std::greater<>());
                sizes_.clear();
                // Older mail within this pass's budget only (the newest of it first); the rest
                // is found missing again by the next pass's comparison.
                const std::size_t budget = policy_.backfill_batches * policy_.batch_messages;
                if (backfill_group_[group_] && budget > 0 && uids.size() > budget) {
                    backfill_left_ += uids.size() - budget;
                    uids.resize(budget);
                }
            }
            const std::size_t from = size_chunk_ * kSizeChunk;
            if (from < uids.size()) {
                std::vector<std::uint32_t> part(
                    uids.begin() + static_cast<std::ptrdiff_t>(from),
                    uids.begin() +
                        static_cast<std::ptrdiff_t>(std::min(uids.size(), from + kSizeChunk)));
                std::sort(part.begin(), part.end());
                ++size_chunk_;
                if (size_chunk_ == 1) {
                    copies_.clear();
                    link_from_ = 0;
                }
                CommandBuilder b("UID FETCH");
                b.sequence_set(part);
                if (caps_.gmail) // the ids say which messages are already stored (Link)
                    b.list({"UID", "RFC822.SIZE", "FLAGS", "X-GM-MSGID", "X-GM-LABELS"});
                else
                    b.list({"UID", "RFC822.SIZE"});
                return command(std::move(b), Awaiting::Sizes);
            }
            phase_ = Phase::Link;
            continue;
        }
        case Phase::Link: {
            // Gmail shows one message in the folder of each of its labels, with one X-GM-MSGID:
            // the copies of messages stored from another folder only gain a location.
            // In steps of kLinkChunk: each is one transaction on the event loop.
            if (link_from_ >= copies_.size()) {
                copies_.clear();
                link_from_ = 0;
                phase_ = Phase::Batches;
                continue;
            }
            const std::size_t to = std::min(copies_.size(), link_from_ + kLinkChunk);
            FolderStep st = step(Kind::LinkCopies);
            for (std::size_t k = link_from_; k < to; ++k)
                st.copies.push_back(std::move(copies_[k]));
            link_from_ = to;
            return st;
        }
        case Phase::Batches: {
            plan_batches();
            FolderStep st = step(Kind::FetchBatches);
            st.batches = std::move(batches_);
            st.backfill = backfill_group_[group_];
            batches_.clear();
            ++group_;
            size_chunk_ = 0;
            phase_ = group_ < groups_.size() ? Phase::Sizes : Phase::Checkpoint;
            if (st.batches.empty())
                continue;
            return st;
        }
        case Phase::Checkpoint: {
            // Every UID below UIDNEXT is now stored or quarantined, or is older mail the
            // backfill budget left for the next passes (which compare the whole folder while
            // any is left, and after a restart find it by the counts): the checkpoint may
            // advance.
            // A server that sent neither [UIDNEXT] nor a STATUS answer: every UID it listed is
            // stored, so the highest + 1 is a safe checkpoint (never beyond a UID not yet seen).
            auto uid_next = ex_.uid_next;
            if (!uid_next) {
                const std::uint32_t derived =
                    server_.empty() ? 1 : server_.back() + (server_.back() < UINT32_MAX ? 1 : 0);
                uid_next = std::max(derived, mb_.uid_next.value_or(1));
            }
            checkpoint_uid_next_ = uid_next;
            phase_ = Phase::Finish;
            FolderStep st = step(Kind::Checkpoint);
            st.uid_next = uid_next;
            st.highest_modseq = ex_.highest_modseq;
            return st;
        }
        case Phase::Finish:
            // The checkpoint is written: the pre-IDLE EXAMINE compares against this.
            history_.pass_end[folder_.name] =
                PassEnd{ex_.exists, checkpoint_uid_next_, ex_.highest_modseq};
            history_.backfill_pending[folder_.name] = backfill_left_;
            phase_ = Phase::Done;
            return step(Kind::Done);
        case Phase::Done:
            return step(Kind::Done);
        }
    }
}

CommandBuilder& FolderPlan::flag_items(CommandBuilder& b) const {
    // Gmail: labels change like flags (a salesperson files a message): fetched with them.
    if (caps_.gmail)
        return b.list({"UID", "FLAGS", "X-GM-LABELS"});
    return b.list({"UID", "FLAGS"});
}

CommandBuilder FolderPlan::search_command() const {
    // RFC 4731 ESEARCH answers with a compact sequence set ("1:20000,20002") instead of one
    // number per message: constant size for contiguous UIDs.
    CommandBuilder b("UID SEARCH");
    if (caps_.esearch)
        b.raw("RETURN").list({"ALL"});
    if (!reconcile_) {
        b.raw("UID").range(mb_.uid_next.value_or(1), std::nullopt); // new mail only
    } else if (sliced_) {
        const std::uint64_t hi =
            std::min<std::uint64_t>(slice_lo_ + kSearchSlice - 1, *ex_.uid_next - 1);
        b.raw("UID").range(slice_lo_, hi);
    } else {
        b.raw("ALL");
    }
    return b;
}

void FolderPlan::on_untagged(const Response& u) {
    switch (awaiting_) {
    case Awaiting::Examine:
        // Only after this mailbox's [UIDVALIDITY]: what comes before it (up to "* OK [CLOSED]",
        // RFC 7162 §3.2.11) still belongs to the mailbox selected before.
        if (qresync_examined_ && ex_.uid_validity) {
            // RFC 7162 §3.2.5.1: what changed since the HIGHESTMODSEQ named in EXAMINE.
            if (auto v = parse_vanished(u); v && v->earlier) {
                vanished_.uids.insert(vanished_.uids.end(), v->uids.begin(), v->uids.end());
                break;
            }
            if (auto fd = parse_fetch(u); fd && fd->uid && fd->flags) {
                examined_flags_.push_back(
                    {static_cast<std::uint32_t>(*fd->uid), *fd->flags, fd->x_gm_labels});
                break;
            }
        }
        ex_.absorb(u);
        break;
    case Awaiting::Status:
        ex_.absorb(u);
        break;
    case Awaiting::Flags:
        if (auto fd = parse_fetch(u); fd && fd->uid && fd->flags)
            flag_updates_.push_back(
                {static_cast<std::uint32_t>(*fd->uid), *fd->flags, fd->x_gm_labels});
        break;
    case Awaiting::Search:
    case Awaiting::Since:
        if (auto sr = parse_search(u)) {
            auto& out = awaiting_ == Awaiting::Search ? server_ : recent_;
            for (auto n : sr->numbers)
                out.push_back(static_cast<std::uint32_t>(n));
        }
        break;
    case Awaiting::Sizes:
        if (auto fd = parse_fetch(u); fd && fd->uid) {
            const auto uid = static_cast<std::uint32_t>(*fd->uid);
            sizes_[uid] = fd->rfc822_size.value_or(0);
            if (fd->x_gm_msgid)
                copies_.push_back({uid, *fd->x_gm_msgid,
                                   fd->flags.value_or(std::vector<std::string>{}),
                                   fd->x_gm_labels.value_or(std::vector<std::string>{})});
        }
        break;
    case Awaiting::None:
        break;
    }
}

Result<void> FolderPlan::on_tagged(const Response& r) {
    const Awaiting what = awaiting_;
    awaiting_ = Awaiting::None;
    switch (what) {
    case Awaiting::Examine:
        if (auto ok = ex_.finish(r, folder_.name); !ok)
            return ok;
        phase_ = !ex_.uid_next ? Phase::Status : opened_first_ ? after_open() : Phase::Open;
        return {};
    case Awaiting::Status:
        // Not answering STATUS is allowed: the checkpoint is then derived from the UIDs seen.
        phase_ = opened_first_ ? after_open() : Phase::Open;
        return {};
    case Awaiting::Flags:
    case Awaiting::Sizes:
        // A refused flag or size FETCH changes nothing stored: the flags are swept again later,
        // and a UID without a size is skipped (expunged) and fetched on the next pass if not.
        return {};
    case Awaiting::Search:
        if (r.status_or_keyword != "OK")
            return fail("imap.search", "UID SEARCH failed: " + r.text, ErrorScope::Mailbox,
                        Retry::Backoff);
        if (sliced_) {
            slice_lo_ += kSearchSlice;
            if (slice_lo_ < *ex_.uid_next)
                return {}; // the next slice
        }
        searched();
        return {};
    case Awaiting::Since: {
        if (r.status_or_keyword != "OK")
            return fail("imap.search", "UID SEARCH SINCE failed: " + r.text, ErrorScope::Mailbox,
                        Retry::Backoff);
        sort_unique(recent_);
        std::vector<std::uint32_t> first, rest;
        // Recent by date, or new to the folder since the last checkpoint (whatever its date).
        auto recent = [&](std::uint32_t u) {
            return std::binary_search(recent_.begin(), recent_.end(), u) ||
                   (mb_.uid_next && u >= *mb_.uid_next);
        };
        for (auto u : groups_.front())
            (recent(u) ? first : rest).push_back(u);
        if (policy_.backfill) {
            groups_ = {std::move(first), std::move(rest)};
            backfill_group_ = {false, true};
        } else {
            left_out_ = rest.size();
            history_.left_out[folder_.name] = left_out_;
            to_fetch_ = first.size();
            groups_ = {std::move(first)};
            backfill_group_ = {false};
        }
        group_ = 0;
        size_chunk_ = 0;
        phase_ = Phase::Sizes;
        return {};
    }
    case Awaiting::None:
        break;
    }
    return {};
}

void FolderPlan::on_mailbox(MailboxState mb) {
    mb_ = std::move(mb);
    if (opened_first_) {
        phase_ = Phase::Examine;
        return;
    }
    phase_ = after_open();
}

FolderPlan::Phase FolderPlan::after_open() {
    if (mb_.uid_validity && *mb_.uid_validity != *ex_.uid_validity) {
        // The server ignored QRESYNC's parameters (RFC 7162 §3.2.5.1): nothing it said is a
        // change since the stored state.
        qresync_examined_ = false;
        vanished_.uids.clear();
        examined_flags_.clear();
        return Phase::Reset;
    }
    return Phase::Load;
}

void FolderPlan::on_uids(std::vector<std::uint32_t> stored,
                         std::vector<std::uint32_t> quarantined) {
    stored_ = std::move(stored);
    quarantined_ = std::move(quarantined);
    sort_unique(stored_);
    sort_unique(quarantined_);
    initial_ = !mb_.uid_next;
    // QRESYNC: the stored UIDs the server said were expunged go (Expunge), and the flags it said
    // changed are applied (FlagUpdate), without a UID sweep or a CHANGEDSINCE FETCH.
    // A NOMODSEQ answer (no HIGHESTMODSEQ) reports nothing: the flags are swept instead.
    qresync_used_ = qresync_examined_ && !initial_ && ex_.highest_modseq.has_value();
    if (qresync_used_) {
        std::vector<std::uint32_t> kept;
        for (auto u : stored_)
            (vanished_.contains(u) ? gone_ : kept).push_back(u);
        stored_ = std::move(kept);
        vanished_stored_ = gone_.size();
        for (auto& f : examined_flags_)
            if (std::binary_search(stored_.begin(), stored_.end(), f.uid))
                flag_updates_.push_back(std::move(f));
        examined_flags_.clear();
    }
    // Every server UID is compared with the stored ones on the first sync, periodically, and
    // when the counts disagree (an expunge elsewhere, or a gap): that finds expunges and UIDs
    // below the checkpoint that were never stored.
    const auto left = history_.left_out.find(folder_.name);
    const std::size_t left_out = left == history_.left_out.end() ? 0 : left->second;
    left_out_known_ = left_out;
    const bool counts_agree = ex_.exists == stored_.size() + quarantined_.size() + left_out;
    // With QRESYNC and new mail, the counts are checked once the new UIDs are known
    // (searched()); without it, any disagreement compares the whole folder.
    const bool news = ex_.uid_next && mb_.uid_next && *ex_.uid_next > *mb_.uid_next;
    verify_count_ = qresync_used_ && news;
    // Older mail a budget left behind (backfill_pending) is found by comparing the whole folder.
    const auto pending = history_.backfill_pending.find(folder_.name);
    const bool backfilling = pending != history_.backfill_pending.end() && pending->second > 0;
    reconcile_ = initial_ || now_ - history_.last_reconcile >= policy_.reconcile_interval ||
                 (!counts_agree && !verify_count_) || backfilling;
    sliced_ = reconcile_ && !caps_.esearch && ex_.uid_next && *ex_.uid_next > kSearchSlice;
    slice_lo_ = 1;
    // Fast path: nothing new, no flag changes, counts agree: constant bytes per poll.
    const bool modseq_same =
        ex_.highest_modseq && mb_.highest_modseq && *ex_.highest_modseq == *mb_.highest_modseq;
    const bool sweep_due =
        !ex_.highest_modseq && (history_.flags_notified.contains(folder_.name) ||
                                now_ - history_.last_flag_sweep >= policy_.flag_sweep_interval);
    if (!reconcile_ && mb_.uid_next == ex_.uid_next && gone_.empty() && flag_updates_.empty() &&
        (modseq_same || (!ex_.highest_modseq && !sweep_due))) {
        history_.pass_end[folder_.name] = PassEnd{ex_.exists, mb_.uid_next, ex_.highest_modseq};
        phase_ = Phase::Done;
    }
}

std::size_t FolderPlan::on_linked(const std::vector<std::uint32_t>& uids) {
    std::size_t n = 0;
    for (auto u : uids)
        n += sizes_.erase(u); // no size: not fetched (plan_batches)
    to_fetch_ -= std::min(to_fetch_, n);
    return n;
}

void FolderPlan::searched() {
    sort_unique(server_);
    if (reconcile_) {
        history_.last_reconcile = now_;
        std::set_difference(stored_.begin(), stored_.end(), server_.begin(), server_.end(),
                            std::back_inserter(gone_));
        // Quarantined messages the server no longer has: their records go with the expunge.
        std::set_difference(quarantined_.begin(), quarantined_.end(), server_.begin(),
                            server_.end(), std::back_inserter(gone_));
        phase_ = Phase::Expunge;
        return;
    }
    // RFC 3501 §6.4.8: "UID n:*" also matches the highest UID when it is below n.
    const std::uint32_t from = mb_.uid_next.value_or(1);
    std::erase_if(server_, [&](std::uint32_t u) { return u < from; });
    if (verify_count_) {
        verify_count_ = false;
        // Mail that arrived after EXAMINE is not in its EXISTS.
        const auto news = static_cast<std::size_t>(std::count_if(
            server_.begin(), server_.end(), [&](std::uint32_t u) { return u < *ex_.uid_next; }));
        if (ex_.exists != stored_.size() + quarantined_.size() + left_out_known_ + news) {
            // Something else is missing (a gap, an expunge QRESYNC did not report): compare the
            // whole folder after all.
            reconcile_ = true;
            sliced_ = !caps_.esearch && ex_.uid_next && *ex_.uid_next > kSearchSlice;
            slice_lo_ = 1;
            server_.clear();
            phase_ = Phase::Search;
            return;
        }
    }
    phase_ = Phase::Expunge; // the UIDs QRESYNC reported as expunged, if any
}

void FolderPlan::plan_missing() {
    // A whole-folder comparison without backfill counts what it leaves out afresh (the old mail
    // may have been deleted meanwhile): none until the window's search says otherwise.
    if (!policy_.backfill && reconcile_)
        history_.left_out[folder_.name] = 0;
    std::vector<std::uint32_t> skip = stored_;
    skip.insert(skip.end(), quarantined_.begin(), quarantined_.end());
    std::sort(skip.begin(), skip.end());
    std::vector<std::uint32_t> missing;
    std::set_difference(server_.begin(), server_.end(), skip.begin(), skip.end(),
                        std::back_inserter(missing));
    to_fetch_ = missing.size();
    groups_.clear();
    backfill_group_.clear();
    group_ = 0;
    size_chunk_ = 0;
    if (missing.empty()) {
        phase_ = Phase::Checkpoint;
        return;
    }
    // The window: on the first pass of a big folder (the recent mail first); without backfill,
    // on every pass that compares the whole folder (the older mail left on the server is missing
    // every time). Mail new to the folder (UIDs past the checkpoint) is fetched whatever its date.
    const bool window =
        policy_.initial_sync_days > 0 &&
        ((!policy_.backfill && reconcile_) || (initial_ && to_fetch_ > policy_.batch_messages));
    if (!window && !initial_ && mb_.uid_next) {
        // A later pass: mail new to the folder first and whole; what is missing below the
        // checkpoint (the backfill a budget left, a gap) within the budget.
        std::vector<std::uint32_t> news, older;
        for (auto u : missing)
            (u >= *mb_.uid_next ? news : older).push_back(u);
        if (!news.empty()) {
            groups_.push_back(std::move(news));
            backfill_group_.push_back(false);
        }
        if (!older.empty()) {
            groups_.push_back(std::move(older));
            backfill_group_.push_back(true);
        }
    } else {
        groups_.push_back(std::move(missing));
        backfill_group_.push_back(false);
    }
    phase_ = window ? Phase::Since : Phase::Sizes;
}

void FolderPlan::plan_batches() {
    // Batches bounded by count and size, newest first (`uids` is descending).
    const auto& uids = groups_[group_];
    batches_.clear();
    for (std::size_t i = 0; i < uids.size();) {
        std::vector<std::uint32_t> batch;
        std::uint64_t bytes = 0;
        while (i < uids.size() && batch.size() < policy_.batch_messages) {
            auto it = sizes_.find(uids[i]);
            if (it == sizes_.end()) { // no size: expunged since the search
                ++i;
                continue;
            }
            if (!batch.empty() && bytes + it->second > policy_.batch_bytes)
                break;
            bytes += it->second;
            batch.push_back(uids[i]);
            ++i;
        }
        if (!batch.empty()) {
            std::sort(batch.begin(), batch.end());
            batches_.push_back(std::move(batch));
        }
    }
}

CommandBuilder FolderPlan::batch_fetch(const std::vector<std::uint32_t>& batch) const {
    std::vector<std::string_view> items = {"UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE",
                                           "BODY.PEEK[]"};
    if (caps_.gmail)
        items.insert(items.end(), {"X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS"});
    if (caps_.condstore)
        items.push_back("MODSEQ");
    CommandBuilder b("UID FETCH");
    b.sequence_set(batch).list(items);
    return b;
}

std::optional<FetchedMessage> take_fetched_message(Response& r) {
    auto fd = take_fetch(r);
    if (!fd || !fd->uid || !fd->body)
        return std::nullopt; // unsolicited FLAGS etc.
    FetchedMessage m;
    m.uid = static_cast<std::uint32_t>(*fd->uid);
    m.raw = std::move(*fd->body);
    m.flags = fd->flags.value_or(std::vector<std::string>{});
    m.internal_date = fd->internaldate;
    m.gm_msgid = fd->x_gm_msgid;
    m.gm_thrid = fd->x_gm_thrid;
    m.gm_labels = fd->x_gm_labels.value_or(std::vector<std::string>{});
    m.modseq = fd->modseq;
    return m;
}

} // namespace crm::imap
