#pragma once
// The ingest use case: parsed message -> canonical message, participants matched to the CRM,
// thread, deal or unsorted queue. Works only through the MailStore and ThreadIndex ports.
// Not thread-safe: one Ingestor per writer. Parsing (mime::parse) is pure and may run on other
// threads before ingest().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crm/core/account_config.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/result.hpp"
#include "crm/match/address.hpp"
#include "crm/match/sort.hpp"
#include "crm/thread/threader.hpp"

namespace crm::app {

inline constexpr int kParserVersion = 1;

struct IngestOptions {
    match::AddressPolicy addresses;
    match::SortPolicy sorting;
    thread::SubjectPolicy subjects;
    // Authentication-Results are believed only from these authserv-ids (match::authentication_failed).
    std::vector<std::string> trusted_authserv_ids;
};

struct IngestSource {
    std::string_view raw;       // may be empty when raw_sha256 and raw_packed are given
    LocationRef where;          // where this copy lives
    bool seen = false;          // \Seen on the server / S in the Maildir name
    std::optional<UserId> owner; // the mailbox owner
    std::string_view raw_sha256; // SHA-256 (hex) of raw when already known, else empty
    const PackedBlob* raw_packed = nullptr; // raw as the store keeps it, when already made
    // The account's label rule this copy matches (its Gmail label, the rule's deal): the thread
    // goes to that deal, unless a person linked it by hand.
    std::optional<LabelRule> label_rule;
};

enum class IngestKind { New, NewLocation, Duplicate };

struct IngestOutcome {
    IngestKind kind = IngestKind::New;
    MessageRowId message = 0;
    ThreadId thread = 0;
    std::optional<DealId> deal;
    std::string reason;
    std::size_t warnings = 0;
    bool unparsable = false;
};

class Ingestor {
  public:
    Ingestor(MailStore& store, ThreadIndex& index, IngestOptions options = {});

    // Stores `parsed` (made from src.raw by mime::parse). A message already stored (same
    // Message-ID and content) only gains the location. Errors come from the store.
    Result<IngestOutcome> ingest(const IngestSource& src, const ParsedMessage& parsed,
                                 std::int64_t now);

    // The store may keep a message's writes back to send them with the next message's reads
    // (MailStore::settle): sends them now. Their failure is reported here, with the scope and
    // code the message's own failure would have had. Call it once the last message is in.
    Result<void> settle() { return store_.settle(); }

    // Forget cached CRM facts (company domains) after the CRM records changed.
    void invalidate_cache() {
        domains_loaded_ = false;
        team_loaded_ = false;
        address_cache_.clear();
    }

  private:
    MailStore& store_;
    ThreadIndex& index_;
    IngestOptions opt_;
    bool domains_loaded_ = false;
    std::vector<std::string> domains_;
    // The team's own domains (of the users' addresses, free mail left out) and the subject
    // policy that treats them as internal.
    bool team_loaded_ = false;
    std::vector<std::string> team_domains_;
    thread::SubjectPolicy subjects_;
    // CRM facts per canonical address: the same people write again and again. Bounded.
    std::unordered_map<std::string, AddressFacts> address_cache_;
};

// The identity of a message: its Message-ID, or for a message without one a synthetic id
// "crm-sha256-<hash of From, To, Date, Subject and the body hash>", stable across mailboxes.
struct Identity {
    std::string message_id;
    bool synthetic = false;
};
[[nodiscard]] Identity identity_of(const ParsedMessage& m);

} // namespace crm::app
