#pragma once
// Conversations from Message-ID / References / In-Reply-To (notmuch's model: a thread is a
// connected group of the reference graph, with ghost entries for ids not yet seen), Gmail's
// X-GM-THRID and Outlook's Thread-Index as extra link keys, and a guarded base-subject fallback.
// Pure: works through the ThreadIndex port. The grouping does not depend on arrival order.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/result.hpp"

namespace crm::thread {

struct ThreadInput {
    std::string message_id;              // never empty (the caller supplies a synthetic id)
    std::vector<std::string> references; // References ids then In-Reply-To ids
    std::string parent;                  // the id answered: last In-Reply-To, else last References
    bool has_reference_headers = false;  // the message carried References or In-Reply-To
    std::string subject;                 // decoded
    std::int64_t date = 0;               // Unix seconds
    // Canonical external addresses (From, To, Cc, Reply-To): never the team's own (users, or
    // addresses on SubjectPolicy::internal_domains); they are in every conversation of a mailbox.
    // Plus "company:ID" for each CRM company of those addresses.
    std::vector<std::string> participants;
    bool is_bulk = false;
    std::string gmail_thread_id; // X-GM-THRID, may be empty
    std::string thread_index;    // Outlook Thread-Index header, may be empty
};

struct SubjectPolicy {
    std::int64_t window_seconds = 30LL * 24 * 3600; // replies further apart never join by subject
    // Generic subjects ("Meeting", "Invoice", "Termin"...) are reused by everyone: a reply that
    // lost its headers joins by one only within this much shorter window.
    std::int64_t generic_window_seconds = 14LL * 24 * 3600;
    std::size_t min_base_subject_chars = 4;       // shorter base subjects are generic
    // The team's own domains (canonical): their addresses are never the shared participant.
    std::vector<std::string> internal_domains;
};

// Where a message was filed.
struct Assignment {
    ThreadId thread = 0;
    // Non-empty when the message's thread would join threads linked to different deals: by the
    // subject fallback (then the message was not joined to them and starts a thread of its
    // own) or by reference headers (joined: the references are the conversation). The deals,
    // ascending; the caller sends the thread to review.
    std::vector<DealId> conflict_deals;
    bool joined_by_subject = false; // the subject fallback joined at least one thread
    bool kept_apart = false;        // a thread a person split off was not joined again
    bool created = false;           // a new thread: nothing of the conversation was stored yet
};

// The keys a message links by: its own id, every referenced id (minus itself), and the synthetic
// keys "gm-thrid:<id>" and "thread-index:<hex of the 22-byte conversation header>".
[[nodiscard]] std::vector<std::string> link_keys(const ThreadInput& msg);

// RFC 5256 §2.1-like base subject: reply/forward prefixes (localised: Re, RE[2], Fwd, FW, AW, WG,
// SV, VS, Antw, Odp, RIF, Ynt, 回复, 转发 ...) and [list tags] removed, whitespace folded,
// case-folded. "Re: [foo] AW: Hello  World" -> "hello world".
[[nodiscard]] std::string base_subject(std::string_view subject);
// True when the subject starts with a reply or forward prefix (after list tags).
[[nodiscard]] bool is_reply_subject(std::string_view subject);
// Generic subjects: "hello", "question", "meeting", "(no subject)", short ones...
[[nodiscard]] bool is_generic_subject(std::string_view base, const SubjectPolicy& policy = {});
// The policy the subject fallback applies to a base subject: nullopt when it never joins by it
// (empty, shorter than min_base_subject_chars, only digits and punctuation); for the generic
// words ("meeting", "invoice", "termin"...) the window shrinks to generic_window_seconds; else
// `policy` itself.
[[nodiscard]] std::optional<SubjectPolicy> subject_policy_for(std::string_view base,
                                                              const SubjectPolicy& policy = {});

// Whether two messages may be joined by the subject fallback (their base subjects are equal and
// not generic): neither is bulk; the later of the two (by Date) is a subject-only reply (reply
// prefix, no References/In-Reply-To) dated strictly after the other and within the window; and
// they share an external participant or CRM company (an address on policy.internal_domains never
// counts).
// Symmetric in a and b, so the grouping does not depend on arrival order.
[[nodiscard]] bool subject_link(const SubjectCandidate& a, const SubjectCandidate& b,
                                const SubjectPolicy& policy);

// What assign_thread() asks the index first, whatever it holds: threads_for_keys(keys) and,
// when the subject fallback applies to the message, subject_candidates(*subject). Its
// participants are not needed.
struct FirstLookups {
    std::vector<std::string> keys;
    std::optional<SubjectQuery> subject;
};
[[nodiscard]] FirstLookups first_lookups(const ThreadInput& msg, const SubjectPolicy& policy = {});

// Files `msg` into a thread through `index`: finds every thread owning one of its link keys
// (plus subject-fallback partners), merges them into the lowest thread id (or creates one) and
// records the keys. Threads a person split apart (ThreadIndex::kept_apart) are never merged:
// the thread of the message's parent wins, and subject partners kept apart are dropped. The
// subject fallback never joins threads linked to different deals (Assignment::conflict_deals).
// Errors come only from the port.
Result<Assignment> assign_thread(const ThreadInput& msg, ThreadIndex& index,
                                 const SubjectPolicy& policy = {});

// A ThreadInput from a parsed message and its canonical participants.
[[nodiscard]] ThreadInput make_input(const ParsedMessage& m, std::string message_id,
                                     std::vector<std::string> participants);

} // namespace crm::thread
