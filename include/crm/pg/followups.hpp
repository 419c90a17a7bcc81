#pragma once
// Follow-ups on PostgreSQL (crm/core/followups.hpp): store::FollowupStore's statements
// (src/store/followups.cpp) in PostgreSQL's dialect. Borrows the Connection; one thread at a
// time.

#include "crm/core/followups.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgFollowups final : public Followups {
  public:
    explicit PgFollowups(Connection& c) : c_(c) {}
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
    Connection& c_;
};

} // namespace crm::pg
