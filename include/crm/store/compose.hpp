#pragma once
// Signatures, drafts and a deal's recipients on SQLite (crm/core/compose.hpp; schema/0021).
// Borrows the Database; one thread at a time.

#include "crm/core/compose.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

class ComposeSqlite final : public ComposeStore {
  public:
    explicit ComposeSqlite(Database& db) : db_(db) {}
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
    Database& db_;
};

} // namespace crm::store
