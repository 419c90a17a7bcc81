#pragma once
// Port interfaces: what the pure core needs from storage, implemented by adapters (store).
// Every call may fail with a store error (scope Fatal or Message); the core passes it up.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/result.hpp"
#include "crm/core/utf8.hpp"

namespace crm {

// A stored message that shares a base subject with a new one (subject fallback threading).
struct SubjectCandidate {
    std::string message_id;
    ThreadId thread_id = 0;
    std::int64_t date = 0;                 // Unix seconds
    // External participants: canonical addresses, and "company:ID" for each CRM company they
    // belong to (another contact of the same customer answering counts as the same party).
    std::vector<std::string> participants;
    bool is_bulk = false;
    bool subject_reply = false; // reply prefix in its subject and no References/In-Reply-To
};

// Stored messages whose base subject is `base` and whose date is in [from, to]
// (ThreadIndex::subject_candidates' arguments).
struct SubjectQuery {
    std::string base;
    std::int64_t from = 0;
    std::int64_t to = 0;
    bool operator==(const SubjectQuery&) const = default;
};

// The link-key index behind threading (notmuch's model): every key - a real Message-ID, a ghost
// (an ID referenced but not yet seen) or a synthetic key such as "gm-thrid:123" - belongs to
// exactly one thread.
class ThreadIndex {
  public:
    virtual ~ThreadIndex() = default;
    // Distinct threads that own any of `keys`, ascending.
    virtual Result<std::vector<ThreadId>> threads_for_keys(std::span<const std::string> keys) = 0;
    // Stored messages whose base subject equals `base_subject` and whose date is in [from, to].
    virtual Result<std::vector<SubjectCandidate>>
    subject_candidates(std::string_view base_subject, std::int64_t from, std::int64_t to) = 0;
    virtual Result<ThreadId> create_thread() = 0;
    // Moves every key and message of `from` into `into`; `from` no longer exists afterwards.
    virtual Result<void> merge_threads(ThreadId into, ThreadId from) = 0;
    // Records that `keys` belong to `thread` (keys already there are left alone).
    virtual Result<void> add_keys(ThreadId thread, std::span<const std::string> keys) = 0;
    // The deal a thread is linked to, if any (the subject fallback never joins two deals).
    virtual Result<std::optional<DealId>> linked_deal(ThreadId thread) = 0;
    // True when a person split one of the two threads off the other: nothing joins them again
    // automatically.
    virtual Result<bool> kept_apart(ThreadId a, ThreadId b) = 0;
};

} // namespace crm

namespace crm {

// What the CRM knows about one canonical address.
struct AddressFacts {
    std::optional<ContactId> contact;
    std::optional<CompanyId> company; // the contact's company, else the domain's company
    std::optional<UserId> user;       // a team member
};

struct DealRecord {
    DealId id = 0;
    std::string name;
    std::optional<CompanyId> company;
    std::vector<ContactId> contacts;
    std::optional<UserId> owner;
    std::int64_t updated_at = 0;
};

struct ThreadLink {
    DealId deal = 0;
    bool manual = false;
};

struct ParticipantRow {
    std::string role;    // from, sender, reply-to, to, cc, bcc
    std::string address; // canonical, "" if unusable
    std::string written; // as in the header
    std::string name;
    AddressFacts facts;
};

// Bytes in the form the database keeps them (codecs in module blob), opaque to the core. Made by
// blob::pack_blob on a parsing thread where possible (through runtime::prepare_raw), so the
// writer only copies.
struct PackedBlob {
    std::string codec = "none";
    std::string bytes;
    std::size_t size = 0; // of the original bytes
};

// A message ready to be stored (the parsed content is borrowed for the call).
struct NewMessage {
    const ParsedMessage* parsed = nullptr;
    std::string_view raw;                   // may be empty when raw_packed is given
    std::string raw_sha256;                 // SHA-256 of raw
    const PackedBlob* raw_packed = nullptr; // raw, already packed; else the store packs raw
    std::string message_id;
    bool synthetic_id = false;
    ThreadId thread = 0;
    std::string base_subject;
    bool subject_reply = false;
    std::vector<ParticipantRow> participants;
    std::string from_address; // canonical
    bool unread = true;
    bool outgoing = false;
    std::string suspicious; // why the sender looks spoofed, "" when not
    std::int64_t received_at = 0;
    int parser_version = 1;
};

// Where a copy of a message lives.
struct LocationRef {
    std::optional<AccountId> account;
    std::optional<std::int64_t> mailbox;
    std::optional<std::int64_t> uid_validity;
    std::optional<std::int64_t> uid;
    std::optional<std::int64_t> gm_msgid;
    std::vector<std::string> labels; // Gmail's X-GM-LABELS there (stored as a JSON array)
    std::string flags;
    std::string source; // imported file origin
    std::optional<UserId> owner;
};

struct Placement {
    std::optional<DealId> deal; // nullopt: unsorted queue
    std::string reason;
    double score = 0;
    std::vector<DealId> suggestions;
    bool keep_existing = false;
    // With no deal: hold the thread for a person (conflicting evidence). An automatic link goes
    // (a manual one stays), and the sorter never links the thread again by itself.
    bool hold = false;
};

// An external participant already in a thread, with what the CRM knew of it then.
struct ThreadParticipant {
    std::string address; // canonical
    std::optional<ContactId> contact;
    std::optional<CompanyId> company;
};

// What the sorter reads about a thread that existed before the message being sorted.
struct ThreadFacts {
    std::optional<ThreadLink> link;
    std::optional<DealRecord> linked_deal; // the deal of an automatic link (nullopt if deleted)
    bool held = false;                     // unlinked, waiting in the queue for a person
    // Its earlier participants (MailStore::thread_participants), unless it is held or linked by
    // hand (nothing is decided from them then).
    std::vector<ThreadParticipant> participants;
};

// Reads the ingest of one message is about to make, known before it makes any: a store that
// pays a round trip per statement (PostgreSQL) asks them together and answers each read from
// what came back, when the read's arguments are exactly these. Every field is optional (empty:
// not asked).
struct ReadAhead {
    // find_message(message_id, content_hash), when message_id is not empty.
    std::string message_id;
    std::string content_hash;
    // ThreadIndex::threads_for_keys(thread_keys) and subject_candidates(*subject).
    std::vector<std::string> thread_keys;
    std::optional<SubjectQuery> subject;
    // deals_of_our_message_ids(token_ids).
    std::vector<std::string> token_ids;
    // lookup_address() of each.
    std::vector<std::string> addresses;
    // open_deals(contacts, companies), when set.
    struct Deals {
        std::vector<ContactId> contacts;
        std::vector<CompanyId> companies;
        bool operator==(const Deals&) const = default;
    };
    std::optional<Deals> open_deals;
    // thread_facts(*facts_of).
    std::optional<ThreadId> facts_of;
};

// A delivery report on mail we sent (MailStore::record_delivery_report).
struct DeliveryReportRow {
    std::string original_message_id;
    MessageRowId report = 0; // the stored report message
    AutoKind kind = AutoKind::None;
    std::vector<ReportedRecipient> recipients;
    std::int64_t at = 0;
};

// The outbox_reports rows of a report: its recipients, or for a report that names none, one
// row with an empty recipient and the report's outcome.
[[nodiscard]] inline std::vector<ReportedRecipient>
delivery_report_rows(const DeliveryReportRow& r) {
    if (!r.recipients.empty())
        return r.recipients;
    ReportedRecipient x;
    x.action = r.kind == AutoKind::Bounce    ? "failed"
               : r.kind == AutoKind::Delayed ? "delayed"
                                             : "delivered";
    return {x};
}

// What a report may say about an outbox entry sent to `recipients` (its To, Cc and Bcc): only
// about those. A report naming recipients that are all someone else's is not about this entry
// (nullopt: anyone who saw our Message-ID could send one); one naming none is kept as it is.
[[nodiscard]] inline std::optional<DeliveryReportRow>
report_for_entry(const DeliveryReportRow& r, const std::vector<Address>& recipients) {
    if (r.recipients.empty())
        return r;
    DeliveryReportRow out = r;
    out.recipients.clear();
    for (const auto& x : r.recipients)
        for (const auto& a : recipients)
            if (ascii_iequals(a.address, x.address)) {
                out.recipients.push_back(x);
                break;
            }
    if (out.recipients.empty())
        return std::nullopt;
    return out;
}

// A bounced entry's reason: "bounced: bob@example.com 5.1.1: 550 5.1.1 User unknown".
[[nodiscard]] inline std::string bounce_reason(const DeliveryReportRow& r) {
    std::string out = "bounced";
    for (const auto& x : r.recipients) {
        if (x.action != "failed")
            continue;
        out += ": " + x.address;
        if (!x.status.empty())
            out += " " + x.status;
        if (!x.diagnostic.empty())
            out += ": " + x.diagnostic;
        break;
    }
    return out;
}

// Storage of messages and CRM lookups for the ingest use case.
class MailStore {
  public:
    virtual ~MailStore() = default;
    // Announces the reads of a ReadAhead (see there). An answer read ahead is used once, and
    // only until the store writes something that could change it; reads the store did not ask
    // ahead run as usual. By default nothing is read ahead.
    virtual Result<void> read_ahead(const ReadAhead&) { return {}; }
    // Writes the store kept back to send with its next statement (PostgreSQL: with the next
    // message's reads) are sent now; their failure is reported here. By default none are kept.
    virtual Result<void> settle() { return {}; }
    virtual Result<std::optional<MessageRowId>> find_message(std::string_view message_id,
                                                             std::string_view content_hash) = 0;
    // false when that location was already recorded.
    virtual Result<bool> add_location(MessageRowId message, const LocationRef& where,
                                      std::int64_t now) = 0;
    virtual Result<AddressFacts> lookup_address(std::string_view canonical) = 0;
    virtual Result<MessageRowId> insert_message(const NewMessage& msg) = 0;
    virtual Result<std::optional<ThreadLink>> thread_link(ThreadId thread) = 0;
    // Deals of replies we sent whose Message-IDs are among `ids` (the verified deal token).
    virtual Result<std::vector<DealId>> deals_of_our_message_ids(std::span<const std::string> ids) = 0;
    // Whether `message_id` is one of our daily follow-up reminders (followup_reminders).
    virtual Result<bool> is_followup_reminder(const std::string& message_id) = 0;
    virtual Result<std::vector<DealRecord>> open_deals(std::span<const ContactId> contacts,
                                                       std::span<const CompanyId> companies) = 0;
    // Every company domain (for lookalike detection), canonical.
    virtual Result<std::vector<std::string>> company_domains() = 0;
    virtual Result<void> place(ThreadId thread, MessageRowId message, const Placement& p,
                               std::int64_t now) = 0;
    // thread_link, then deal_record of an automatic link, thread_held of an unlinked thread and
    // thread_participants of one neither held nor linked by hand, as one read. A store may ask
    // them together (PostgreSQL: one round trip instead of up to three); by default they run in
    // turn.
    virtual Result<ThreadFacts> thread_facts(ThreadId thread) {
        ThreadFacts f;
        auto link = thread_link(thread);
        if (!link)
            return std::unexpected(link.error());
        f.link = *link;
        if (f.link && !f.link->manual) {
            auto deal = deal_record(f.link->deal);
            if (!deal)
                return std::unexpected(deal.error());
            f.linked_deal = std::move(*deal);
        }
        if (!f.link) {
            auto held = thread_held(thread);
            if (!held)
                return std::unexpected(held.error());
            f.held = *held;
        }
        if (!f.held && !(f.link && f.link->manual)) {
            auto who = thread_participants(thread);
            if (!who)
                return std::unexpected(who.error());
            f.participants = std::move(*who);
        }
        return f;
    }
    // A new message whole, as one unit: insert_message(msg), add_location(its row, where) and
    // place(msg.thread, its row, placement). Errors as those give them ("message.exists" when a
    // concurrent transaction stored it meanwhile). A store may send the three together
    // (PostgreSQL: one round trip instead of three); by default they run in turn.
    virtual Result<MessageRowId> store_new_message(const NewMessage& msg, const LocationRef& where,
                                                   const Placement& placement, std::int64_t now) {
        auto row = insert_message(msg);
        if (!row)
            return row;
        if (auto loc = add_location(*row, where, now); !loc)
            return std::unexpected(loc.error());
        if (auto placed = place(msg.thread, *row, placement, now); !placed)
            return std::unexpected(placed.error());
        return row;
    }
    // The participants of a thread's stored messages that are not team members (From, To, Cc,
    // Reply-To; bulk mail left out), at most a few hundred.
    virtual Result<std::vector<ThreadParticipant>> thread_participants(ThreadId thread) = 0;
    // One deal, open or not; nullopt when it does not exist.
    virtual Result<std::optional<DealRecord>> deal_record(DealId deal) = 0;
    // True when the thread waits in the unsorted queue for a person (Placement::hold).
    virtual Result<bool> thread_held(ThreadId thread) = 0;
    // The domains of the team members' addresses (canonical; free-mail domains included: the
    // caller filters them).
    virtual Result<std::vector<std::string>> team_domains() = 0;
    // Records what a stored delivery report (a bounce, delay or success notice) says about the
    // outbox entry whose Message-ID is `r.original_message_id`: one row per recipient and
    // outcome, for the entry's own recipients only (report_for_entry). A bounce that names one of
    // them marks the entry 'bounced' (when it was sent, or its sending ended unknown) with the
    // first failure as its reason. Returns the entry; nullopt when no outbox entry has that
    // Message-ID (mail sent by another program) or the report is about none of its recipients,
    // and nothing is written.
    virtual Result<std::optional<std::int64_t>>
    record_delivery_report(const DeliveryReportRow& r) = 0;
};

// ---- re-sorting (app/resort.hpp) ------------------------------------------------------------

// A thread the sorter may decide again: in the unsorted queue and not held for a person, or
// linked automatically (`linked`: that deal). Manual links and held threads are never listed.
struct ResortTarget {
    ThreadId thread = 0;
    std::optional<DealId> linked;
};

// Which threads to list: the unsorted queue's, the automatic links' (all, or one deal's).
struct ResortScope {
    bool unsorted = true;
    bool linked = false;
    std::optional<DealId> deal; // with `linked`: only this deal's automatic links
};

// What the sorter reads about a stored thread to decide it again as a whole.
struct ThreadTail {
    MessageRowId message = 0;    // the newest message (its sort_reason records the decision)
    std::string subject;         // the newest message's
    std::int64_t date = 0;       // the newest message's date (else its arrival)
    bool all_bulk = false;       // every message is bulk mail
    std::string suspicious;      // the newest incoming message's, "" when not suspicious
    std::optional<UserId> owner; // the owner of a mailbox the newest message came through
    // The newest message's participants (role, canonical address), and the Message-IDs,
    // References and In-Reply-To of all the thread's messages (for our deal tokens).
    std::vector<std::pair<std::string, std::string>> participants;
    std::vector<std::string> ids;
    // Where it is filed now: the link's deal (automatic or manual), whether it waits for a
    // person, and the queue entry's (or link's) reason and suggestions.
    std::optional<DealId> linked;
    bool manual = false;
    bool held = false;
    std::string reason;
    std::vector<DealId> suggestions;
};

class ResortStore {
  public:
    virtual ~ResortStore() = default;
    // Newest first (the thread's last date, then id).
    virtual Result<std::vector<ResortTarget>> resort_targets(const ResortScope& scope) = 0;
    // nullopt when the thread has no messages (or does not exist). Call it in the transaction
    // that writes the decision: a store with concurrent writers locks the thread until then.
    virtual Result<std::optional<ThreadTail>> thread_tail(ThreadId thread) = 0;
    // True when the deal exists and is open.
    virtual Result<bool> deal_open(DealId deal) = 0;
    // Whether this connection is the one that re-sorts after CRM changes, among the daemons
    // sharing the database: the first to ask is, for as long as its connection lives
    // (PostgreSQL: a session advisory lock); a store of one daemon always is.
    virtual Result<bool> resort_leader() { return true; }
    // Changes whenever the CRM's records the sorter reads change (users and their addresses,
    // companies and domains, contacts and addresses, deals and their contacts), whoever wrote
    // them: the daemon compares it every few seconds.
    virtual Result<std::string> crm_fingerprint() = 0;
};

} // namespace crm
