#pragma once
// Activity figures' reads on PostgreSQL (crm/core/activity.hpp): store::ActivityStore's
// statements (src/store/activity.cpp) in PostgreSQL's dialect. Borrows the Connection.

#include "crm/core/activity.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgActivity final : public ActivityReads {
  public:
    explicit PgActivity(Connection& c) : c_(c) {}
    Result<std::vector<ActivityMessage>> deal_messages(DealId deal) override;
    Result<std::vector<ActivityMessage>>
    owner_messages(std::optional<UserId> owner, std::int64_t from, std::int64_t to) override;

  private:
    Connection& c_;
};

} // namespace crm::pg
