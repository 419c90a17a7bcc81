#pragma once
// Follow-ups on SQLite (crm/core/followups.hpp): threads.last_in_at / last_out_at (schema/0020)
// read through the user's open deals. Borrows the Database; one thread at a time.

#include "crm/core/followups.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

class FollowupStore final : public Followups {
  public:
    explicit FollowupStore(Database& db) : db_(db) {}
    Result<std::vector<FollowupCandidate>> candidates(UserId user, std::int64_t now,
                                                      std::int64_t out_before,
                                                      std::int64_t in_before,
                                                      std::size_t limit) override;
    Result<DealFollowupSettings> shortest_settings(UserId user) override;
    Result<DealFollowupSettings> deal_settings(DealId deal) override;
    Result<void> set_deal_settings(DealId deal, const DealFollowupSettings& s,
                                   std::optional<UserId> by, std::int64_t now) override;
    Result<void> snooze(UserId user, ThreadId thread, std::optional<std::int64_t> until,
                        std::int64_t now) override;
    Result<std::vector<UserId>> deal_owners() override;
    Result<bool> claim_reminder(UserId user, const std::string& day, const std::string& message_id,
                                std::int64_t items, std::int64_t now) override;
    Result<void> record_reminder_outbox(UserId user, const std::string& day,
                                        std::int64_t outbox_id) override;

  private:
    Database& db_;
};

} // namespace crm::store
