#pragma once
// Signatures, drafts and a deal's recipients on PostgreSQL (crm/core/compose.hpp;
// schema/postgresql/0014): store::ComposeSqlite's statements in PostgreSQL's dialect. Borrows
// the Connection; one thread at a time.

#include "crm/core/compose.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgCompose final : public ComposeStore {
  public:
    explicit PgCompose(Connection& c) : c_(c) {}
    Result<std::string> signature(UserId user) override;
    Result<void> set_signature(UserId user, const std::string& signature,
                               std::int64_t now) override;
    Result<std::optional<DraftRow>> draft(UserId user, const std::string& key) override;
    Result<void> put_draft(UserId user, const std::string& key, const std::string& content,
                           std::int64_t now) override;
    Result<bool> delete_draft(UserId user, const std::string& key) override;
    Result<std::vector<DraftRow>> drafts(UserId user) override;
    Result<std::vector<DealRecipient>> deal_recipients(DealId deal) override;
    Result<PagePreferences> preferences(UserId user) override;
    Result<void> set_preferences(UserId user, const PagePreferences& p, std::int64_t now) override;

  private:
    Connection& c_;
};

} // namespace crm::pg
