#pragma once
// Sender/recipient -> contact -> deal decisions. Pure: the app gathers the facts through the
// store, this decides and always says why.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"

namespace crm::match {

// A participant of the message after lookup.
struct Participant {
    std::string role;      // "from", "to", "cc", "reply-to", "sender", "bcc"
    std::string address;   // canonical
    std::string name;      // display name (never used to match)
    std::optional<ContactId> contact;
    std::optional<CompanyId> company; // the contact's company, else the domain's company
    std::optional<UserId> user;       // a team member (internal)
};

struct DealFacts {
    DealId id = 0;
    std::string name;
    std::optional<CompanyId> company;
    std::vector<ContactId> contacts;
    std::optional<UserId> owner;
    std::int64_t updated_at = 0; // Unix seconds
};

struct ExistingLink {
    DealId deal = 0;
    bool manual = false;
};

struct SortInput {
    std::optional<ExistingLink> thread_link; // the thread's current link, if any
    // The linked deal's facts when the link is automatic (to tell whether the message's new
    // participants belong to it); nullopt when the deal no longer exists.
    std::optional<DealFacts> linked_deal;
    bool thread_held = false;           // the thread waits for a person (Placement::hold)
    std::vector<DealId> conflict_deals; // the threader's: joining would mix these deals
    // External participants already in the thread (before this message), role "thread".
    std::vector<Participant> thread_participants;
    std::vector<DealId> token_deals;         // deals named by our own verified tokens
    std::vector<Participant> participants; // this message's, team-domain addresses left out
    std::vector<DealFacts> open_deals; // open deals of the external participants (message and thread)
    std::string subject;               // decoded
    std::optional<UserId> mailbox_owner;
    bool is_bulk = false;
    std::string suspicious_sender; // non-empty: why the sender looks spoofed
    std::int64_t now = 0;          // Unix seconds, for recency
};

struct SortDecision {
    std::optional<DealId> deal;      // linked deal, or nullopt = unsorted queue
    std::string reason;              // always set: "single open deal", "ambiguous: deals 12, 17"...
    double score = 0;                // the winner's score when scored
    std::vector<DealId> suggestions; // for the unsorted queue, best first
    bool keep_existing = false;      // the thread's link or queue entry stays as it is
    bool hold = false;               // conflicting evidence: unlink (unless manual), wait for a person
};

// Scoring weights; a candidate wins only when best >= margin * second and best >= min_score.
struct SortPolicy {
    double name_in_subject = 3.0;
    double owner_is_mailbox_owner = 2.0;
    double contact_participant = 2.0; // per participant who is a deal contact
    double company_participant = 1.0; // once, when a participant's company is the deal's
    double recency_max = 1.0;         // linear over recency_days
    double recency_days = 90.0;
    double margin = 1.5;
    double min_score = 2.0;
};

// The participant is one of the deal's contacts, or of its company.
[[nodiscard]] bool belongs(const Participant& p, const DealFacts& d);

// In order: a manual link is kept; the threader's conflict holds the thread ("conflict: deals
// A, B"); a held thread stays held; an automatic link is kept unless this message brings a new
// participant who is not the linked deal's (contact or company) and has other open deals: then
// the thread is held with both deals named; our own deal token in References; bulk mail; then
// the thread's external participants as a whole (this message's and the thread's) decide: one
// open deal links, several are scored and the best links only when it clearly wins.
[[nodiscard]] SortDecision decide(const SortInput& in, const SortPolicy& policy = {});

// RFC 8601 Authentication-Results values (m.authentication_results): whether they say the From
// domain failed (dmarc=fail, spf=fail, dkim=fail without an aligned dkim=pass). Anyone can write
// such a header, so only those whose authserv-id is in `trusted_authserv_ids` (the deployment's
// own receiving servers) count. With none configured, a "fail" from any header still counts (a
// forged one only hurts its forger) but no "pass" does: a forged dkim=pass never cancels a fail.
[[nodiscard]] bool authentication_failed(std::span<const std::string> values,
                                         std::string_view from_domain,
                                         std::span<const std::string> trusted_authserv_ids);

// Why a sender looks spoofed, or "" when it doesn't: failed DKIM/DMARC/SPF (our own
// verification in m.verification when no authserv-id is trusted, then the headers as
// authentication_failed judges them; our aligned DKIM pass refutes those), a display name that
// shows a different address, a mixed-script or punycode lookalike of a known domain, a domain one
// edit away from a known company domain.
[[nodiscard]] std::string suspicious_sender(const Address& from, const ParsedMessage& m,
                                            std::span<const std::string> known_domains,
                                            std::span<const std::string> trusted_authserv_ids = {});

} // namespace crm::match
