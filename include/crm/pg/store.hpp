#pragma once
// The ingest side of the store on PostgreSQL (issue 17): ThreadIndex, MailStore and CrmRecords,
// plus the thread edits (link, unlink, split), behaving as store::Store does on SQLite (the
// spec: src/store/store.cpp, crm_records.cpp, queries.cpp).
//
// Borrows the Connection (one thread at a time, like the Connection itself). Every call runs in
// the caller's open transaction (UnitOfWork), or on its own when none is open; a call that fails
// has written nothing of its own (its statements run in one pipeline, i.e. one implicit
// transaction when none is open; in an open transaction the failure aborts it and the caller's
// savepoint or rollback undoes it).
//
// Several workers write the same database at once. Where SQLite relies on being the only writer,
// the statements here use ON CONFLICT and row locks so that two transactions storing the same
// message, blob or thread key end up as if they had run one after the other (see each method).
//
// Errors: the pg module's (code, scope and retry from the SQLSTATE, see errors.hpp) with what was
// being done in front; "pg.text" (scope Message) for text PostgreSQL cannot hold (a NUL byte,
// invalid UTF-8), found before anything is written; the same domain errors as store::Store
// ("thread.not_found", "deal.not_found", "message.not_found", "thread.split_whole",
// "crm.no_company", "crm.no_user", "crm.no_contact", "crm.domain_taken", "crm.address_taken").

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/crm_records.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"

namespace crm::pg {

namespace detail {
class Statements;
} // namespace detail

struct PgStoreOptions {
    // insert_message, place and merge_threads send their statements in one pipeline (one round
    // trip). false: one round trip per statement, the same statements: for the benchmark
    // (tests/bench/pg_store_bench.cpp) and to test both ways.
    bool pipeline = true;
};

class PgStore final : public ThreadIndex, public MailStore, public CrmRecords, public ResortStore {
  public:
    // `fence`: the worker's leases; null (crm-mailctl, tests) = no worker, nothing is fenced.
    explicit PgStore(Connection& c, std::shared_ptr<const LeaseFence> fence = nullptr,
                     PgStoreOptions opts = {})
        : c_(c), fence_(std::move(fence)), opts_(opts) {}

    // ThreadIndex
    Result<std::vector<ThreadId>> threads_for_keys(std::span<const std::string> keys) override;
    Result<std::vector<SubjectCandidate>>
    subject_candidates(std::string_view base_subject, std::int64_t from, std::int64_t to) override;
    // created_at/updated_at from the database's clock (SQLite: strftime('%s','now')).
    Result<ThreadId> create_thread() override;
    Result<void> merge_threads(ThreadId into, ThreadId from) override;
    Result<void> add_keys(ThreadId thread, std::span<const std::string> keys) override;
    Result<std::optional<DealId>> linked_deal(ThreadId thread) override;
    Result<bool> kept_apart(ThreadId a, ThreadId b) override;

    // MailStore
    // All of them in one round trip (a pipeline). The answers are kept until the next
    // read_ahead() or until this store writes (a merge, a message, a location, a filing): a read
    // with exactly the arguments asked takes its answer; any other runs as usual.
    Result<void> read_ahead(const ReadAhead& ahead) override;
    // store_new_message and create_thread in a transaction keep their statements back, with the
    // ids reserved for them (read_ahead draws blocks of ids with its reads): they go with the
    // next statement, or now.
    Result<void> settle() override;
    Result<std::optional<MessageRowId>> find_message(std::string_view message_id,
                                                     std::string_view content_hash) override;
    // With `where.account` set, first checks the worker's lease of that account (the fence):
    // "lease.lost" when it is gone, and nothing is written.
    Result<bool> add_location(MessageRowId message, const LocationRef& where,
                              std::int64_t now) override;
    Result<AddressFacts> lookup_address(std::string_view canonical) override;
    // One round trip (pipeline). When another transaction stored the same Message-ID and
    // content meanwhile (it committed while this one waited on the unique index), nothing is
    // written and the error is "message.exists" (scope Message, Retry::Now): run the message
    // again, and find_message() now finds it, as if the two had run one after the other.
    Result<MessageRowId> insert_message(const NewMessage& msg) override;
    // insert_message, add_location and place in one pipeline (one round trip), the message row
    // written with its sort reason at once.
    Result<MessageRowId> store_new_message(const NewMessage& msg, const LocationRef& where,
                                           const Placement& placement, std::int64_t now) override;
    Result<std::optional<ThreadLink>> thread_link(ThreadId thread) override;
    // One pipeline (one round trip).
    Result<ThreadFacts> thread_facts(ThreadId thread) override;
    Result<std::vector<DealId>> deals_of_our_message_ids(std::span<const std::string> ids) override;
    Result<bool> is_followup_reminder(const std::string& message_id) override;
    Result<std::vector<DealRecord>> open_deals(std::span<const ContactId> contacts,
                                               std::span<const CompanyId> companies) override;
    Result<std::vector<std::string>> company_domains() override;
    Result<void> place(ThreadId thread, MessageRowId message, const Placement& p,
                       std::int64_t now) override;
    Result<std::vector<ThreadParticipant>> thread_participants(ThreadId thread) override;
    Result<std::optional<DealRecord>> deal_record(DealId deal) override;
    Result<bool> thread_held(ThreadId thread) override;
    Result<std::vector<std::string>> team_domains() override;
    Result<std::optional<std::int64_t>> record_delivery_report(const DeliveryReportRow& r) override;

    // CrmRecords (upserts keyed by id; the id given is kept, and the table's identity sequence
    // is moved past it so that rows the database numbers itself never collide).
    Result<void> upsert_user(const UserRecord& u, std::int64_t now) override;
    Result<void> upsert_company(const CompanyRecord& c, std::int64_t now) override;
    Result<void> upsert_contact(const ContactRecord& c, std::int64_t now) override;
    Result<void> upsert_deal(const DealInput& d, std::int64_t now) override;
    Result<std::vector<UserId>> users() override;

    // Thread edits (core's ThreadEdits has them; store::Store's contract).
    // Manual link: never overwritten by the sorter. Errors: "thread.not_found", "deal.not_found".
    Result<void> link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                             std::int64_t now);
    // Removes the link and puts the thread in the unsorted queue ("unlinked by hand"), held.
    Result<void> unlink_thread(ThreadId thread, std::int64_t now);
    // Rows of the messages with this Message-ID (without angle brackets): one per content.
    Result<std::vector<MessageRowId>> messages_with_id(std::string_view message_id);
    // See ThreadEdits::split_message.
    Result<SplitResult> split_message(MessageRowId message, std::optional<UserId> by,
                                      std::int64_t now,
                                      const std::optional<std::vector<MessageRowId>>& movable = {});

    // The message's bytes exactly as received (unpacked); nullopt if no such message.
    Result<std::optional<std::string>> raw_message(MessageRowId id);

    // The planner's statistics of a table that grows from nothing during an initial sync are
    // stale until autovacuum's next look (a minute or more): it then plans sequential scans, and
    // every message costs more than the one before (200 messages took 0.7 s at the start of a
    // 5,000-message sync and 2.9 s at its end). statistics_due() is true after 500, 1,000,
    // 2,000, ... messages inserted on this connection; the backend then runs
    // refresh_statistics() after the commit (ANALYZE of the mail tables, outside a transaction).
    [[nodiscard]] bool statistics_due() noexcept;
    Result<void> refresh_statistics();

    // ResortStore (resort_reads.cpp)
    Result<std::vector<ResortTarget>> resort_targets(const ResortScope& scope) override;
    Result<std::optional<ThreadTail>> thread_tail(ThreadId thread) override;
    Result<bool> deal_open(DealId deal) override;
    Result<std::string> crm_fingerprint() override;
    Result<bool> resort_leader() override;

  private:
    struct MessageTexts;
    // Pieces of insert_message, add_location and place, appended to one pipeline.
    // `reserved`: the id the message row gets (else the identity sequence's next).
    Result<void> add_message_statements(detail::Statements& s, const NewMessage& n,
                                        MessageTexts& texts, const std::string* sort_reason,
                                        std::optional<MessageRowId> reserved = std::nullopt);
    Result<MessageRowId> inserted_id(const ResultSet& inserted, const std::string& what);
    static std::unexpected<Error> exists_error(std::string_view what);
    // An id reserved from `ids` (read_ahead() draws them), when there is one and the statements
    // that use it can wait to go out with the next one (a pipeline in an open transaction).
    std::optional<std::int64_t> reserved_id(std::vector<std::int64_t>& ids);
    // The lease fence for `where`'s account, when it has one: how many statements were added.
    Result<std::size_t> add_fence(detail::Statements& s, const LocationRef& where,
                                  std::string_view what);
    Result<void> add_location_statement(detail::Statements& s, const LocationRef& where,
                                        std::string_view what, std::optional<MessageRowId> message,
                                        std::int64_t now, bool reserved = false);
    Result<void> add_place_statements(detail::Statements& s, ThreadId thread, const Placement& p,
                                      std::int64_t now);

    // Answers read ahead, each with the arguments it answers (read_ahead()).
    struct Ahead {
        std::optional<std::pair<std::pair<std::string, std::string>, std::optional<MessageRowId>>>
            found;
        std::optional<std::pair<std::vector<std::string>, std::vector<ThreadId>>> keys;
        std::optional<std::pair<SubjectQuery, std::vector<SubjectCandidate>>> subject;
        std::optional<std::pair<std::vector<std::string>, std::vector<DealId>>> tokens;
        std::map<std::string, AddressFacts, std::less<>> addresses;
        std::optional<std::pair<ReadAhead::Deals, std::vector<DealRecord>>> deals; // sorted keys
        std::optional<std::pair<ThreadId, ThreadFacts>> facts;
    };

    Connection& c_;
    Ahead ahead_;
    std::vector<std::int64_t> message_ids_; // reserved, used from the back
    std::vector<std::int64_t> thread_ids_;
    std::shared_ptr<const LeaseFence> fence_;
    PgStoreOptions opts_;
    std::int64_t inserted_ = 0;
    std::int64_t next_analyze_ = 500;
};

} // namespace crm::pg
