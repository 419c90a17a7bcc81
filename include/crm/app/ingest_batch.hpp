#pragma once
// The batch ingest use case, once for every front-end (IMAP sync in crm-maild, file import in
// crm-mailctl): a batch of parsed messages is stored in one transaction, and the policy for a
// message that cannot be stored lives here:
//   isolate    the batch first goes in without savepoints (a savepoint per message copies
//              every page the message touches into a sub-journal: 3.8 GB for an initial sync
//              of 20,000 messages). When a message fails for its own data (ErrorScope::Message),
//              the batch is rolled back and stored again with a savepoint per message, so the
//              others are kept and only that one is reported;
//   retry      a failure of anything else (the database, the disk) fails the whole batch:
//              nothing of it is stored, and the caller tries it again later;
//   quarantine each message failure is recorded (FailureLog) in a transaction of its own; a
//              message that failed kQuarantineAfter times is given up on (the caller stops
//              fetching it) instead of blocking its mailbox forever.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "crm/app/ingest.hpp"
#include "crm/core/result.hpp"
#include "crm/core/unit_of_work.hpp"

namespace crm::app {

inline constexpr std::int64_t kQuarantineAfter = 3;

struct BatchItem {
    IngestSource source;
    const ParsedMessage* parsed = nullptr; // made from source.raw by mime::parse
};

// Where message failures are counted (IMAP: per mailbox and UID). Called outside the batch's
// transaction, each call in a transaction of its own.
class FailureLog {
  public:
    virtual ~FailureLog() = default;
    // Records that item `index` of the batch failed; returns how often it has failed so far.
    virtual Result<std::int64_t> record_failure(std::size_t index, const Error& why,
                                                std::int64_t now) = 0;
};

struct ItemFailure {
    std::size_t index = 0;
    Error error;
    bool quarantined = false; // failed kQuarantineAfter times or more: given up on
};

struct BatchOutcome {
    // Index-aligned with the items; nullopt for an item that failed.
    std::vector<std::optional<IngestOutcome>> outcomes;
    std::vector<ItemFailure> failures;
    std::size_t stored = 0;    // new messages
    std::size_t locations = 0; // known messages that gained a location, or duplicates
    std::size_t quarantined = 0;
};

struct BatchHooks {
    // Inside the batch's transaction after every item, before the commit (e.g. a counter of
    // the account); an error fails the batch.
    std::function<Result<void>(const BatchOutcome&)> before_commit;
    // Before each item (test builds use it for crash points).
    std::function<void(std::size_t index)> before_item;
};

class IngestBatch {
  public:
    IngestBatch(UnitOfWork& work, Ingestor& ingestor) : work_(work), ingestor_(ingestor) {}

    // Stores `items` as described at the top of this file. `log` may be null (no quarantine:
    // the failures are only reported). Errors: a failure of the batch as a whole (nothing
    // stored); per-message failures are in BatchOutcome::failures.
    Result<BatchOutcome> run(std::span<const BatchItem> items, std::int64_t now,
                             FailureLog* log = nullptr, const BatchHooks& hooks = {});

  private:
    UnitOfWork& work_;
    Ingestor& ingestor_;
};

} // namespace crm::app
