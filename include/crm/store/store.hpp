#pragma once
// SQLite repositories: implements the core's ThreadIndex and MailStore ports, the CRM record
// import and the read queries of crm-mailctl. All SQL of the project lives in this module.
// Borrows the Database; one thread at a time.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crm/core/crm_records.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/ports.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/store/database.hpp"

namespace crm::store {
using crm::CompanyRecord;
using crm::ContactRecord;
using crm::DealInput;
using crm::UserRecord;

using crm::Counts;
using crm::DealSummary;
using crm::MessageView;
using crm::ThreadSummary;

class Store final : public ThreadIndex,
                    public MailStore,
                    public CrmRecords,
                    public OperatorReads,
                    public ResortStore {
  public:
    explicit Store(Database& db) : db_(db) {}

    // ThreadIndex
    Result<std::vector<ThreadId>> threads_for_keys(std::span<const std::string> keys) override;
    Result<std::vector<SubjectCandidate>> subject_candidates(std::string_view base_subject,
                                                             std::int64_t from,
                                                             std::int64_t to) override;
    Result<ThreadId> create_thread() override;
    Result<void> merge_threads(ThreadId into, ThreadId from) override;
    Result<void> add_keys(ThreadId thread, std::span<const std::string> keys) override;
    Result<std::optional<DealId>> linked_deal(ThreadId thread) override;
    Result<bool> kept_apart(ThreadId a, ThreadId b) override;

    // MailStore
    Result<std::optional<MessageRowId>> find_message(std::string_view message_id,
                                                     std::string_view content_hash) override;
    Result<bool> add_location(MessageRowId message, const LocationRef& where,
                              std::int64_t now) override;
    Result<AddressFacts> lookup_address(std::string_view canonical) override;
    Result<MessageRowId> insert_message(const NewMessage& msg) override;
    Result<std::optional<ThreadLink>> thread_link(ThreadId thread) override;
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

    // CRM records (upserts keyed by id; the id given is kept).
    Result<void> upsert_user(const UserRecord& u, std::int64_t now) override;
    Result<void> upsert_company(const CompanyRecord& c, std::int64_t now) override;
    Result<void> upsert_contact(const ContactRecord& c, std::int64_t now) override;
    Result<void> upsert_deal(const DealInput& d, std::int64_t now) override;

    // Queries.
    using ThreadFilter = OperatorReads::ThreadFilter;
    Result<std::vector<ThreadSummary>> list_threads(ThreadFilter f, DealId deal = 0) override;
    Result<std::optional<ThreadSummary>> thread(ThreadId id) override;
    // A thread's messages in reading order (Date, else arrival, then row id), with recipients and
    // attachments.
    Result<std::vector<MessageView>> thread_messages(ThreadId id) override;
    // Just their row ids, in that order.
    Result<std::vector<MessageRowId>> thread_message_ids(ThreadId id);
    // These messages, in the order given (ids not found are left out).
    Result<std::vector<MessageView>> messages(std::span<const MessageRowId> ids);
    // The message's bytes exactly as received (kept compressed); nullopt if no such message.
    Result<std::optional<std::string>> raw_message(MessageRowId id) override;
    Result<std::vector<DealSummary>> deals() override;
    Result<bool> deal_exists(DealId id) override;
    Result<std::vector<UserId>> users() override;
    // Manual link: never overwritten by the sorter. Errors: "thread.not_found", "deal.not_found".
    Result<void> link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                             std::int64_t now);
    // Removes the link and puts the thread in the unsorted queue ("unlinked by hand"), held
    // for a person: the sorter does not link it again by itself.
    Result<void> unlink_thread(ThreadId thread, std::int64_t now);
    using SplitResult = crm::SplitResult;
    // Rows of the messages with this Message-ID (without angle brackets): one per content.
    Result<std::vector<MessageRowId>> messages_with_id(std::string_view message_id);
    // See ThreadEdits::split_message.
    Result<SplitResult> split_message(MessageRowId message, std::optional<UserId> by,
                                      std::int64_t now,
                                      const std::optional<std::vector<MessageRowId>>& movable = {});
    Result<Counts> counts() override;

    // `export threads`: per thread its Message-IDs sorted, space separated; lines byte-sorted.
    Result<std::vector<std::string>> export_threads() override;
    // `export deal-links`: "<message-id>\t<deal id|unsorted>\t<reason>", sorted.
    Result<std::vector<std::string>> export_deal_links() override;

    // ResortStore (resort_reads.cpp)
    Result<std::vector<ResortTarget>> resort_targets(const ResortScope& scope) override;
    Result<std::optional<ThreadTail>> thread_tail(ThreadId thread) override;
    Result<bool> deal_open(DealId deal) override;
    Result<std::string> crm_fingerprint() override;

  private:
    Database& db_;
};

} // namespace crm::store
