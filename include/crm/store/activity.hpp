#pragma once
// Activity figures' reads on SQLite (crm/core/activity.hpp). Borrows the Database; one thread at
// a time.

#include "crm/core/activity.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

class ActivityStore final : public ActivityReads {
  public:
    explicit ActivityStore(Database& db) : db_(db) {}
    Result<std::vector<ActivityMessage>> deal_messages(DealId deal) override;
    Result<std::vector<ActivityMessage>>
    owner_messages(std::optional<UserId> owner, std::int64_t from, std::int64_t to) override;

  private:
    Database& db_;
};

} // namespace crm::store
