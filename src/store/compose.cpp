#include "crm/store/compose.hpp"

#include <fmt/format.h>

#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

Result<std::string> ComposeSqlite::signature(UserId user) {
    return guard("reading a signature", [&]() -> Result<std::string> {
        auto& q = db_.impl().stmt("SELECT signature FROM user_settings WHERE user_id = ?");
        q.bind(1, user);
        std::string out;
        if (q.executeStep())
            out = q.getColumn(0).getString();
        q.reset();
        return out;
    });
}

Result<void> ComposeSqlite::set_signature(UserId user, const std::string& signature,
                                          std::int64_t now) {
    return guard("saving a signature", [&]() -> Result<void> {
        auto& q = db_.impl().stmt(
            "INSERT INTO user_settings (user_id, signature, updated_at) VALUES (?, ?, ?) ON "
            "CONFLICT (user_id) DO UPDATE SET signature = excluded.signature, updated_at = "
            "excluded.updated_at");
        q.bind(1, user);
        q.bind(2, signature);
        q.bind(3, now);
        q.exec();
        return {};
    });
}

Result<std::optional<DraftRow>> ComposeSqlite::draft(UserId user, const std::string& key) {
    return guard("reading a draft", [&]() -> Result<std::optional<DraftRow>> {
        auto& q =
            db_.impl().stmt("SELECT content, updated_at FROM drafts WHERE user_id = ? AND key = ?");
        q.bind(1, user);
        q.bind(2, key);
        std::optional<DraftRow> out;
        if (q.executeStep())
            out = DraftRow{key, q.getColumn(0).getString(), q.getColumn(1).getInt64()};
        q.reset();
        return out;
    });
}

Result<void> ComposeSqlite::put_draft(UserId user, const std::string& key,
                                      const std::string& content, std::int64_t now) {
    return guard("saving a draft", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& n = d.stmt("SELECT count(*), sum(key = ?) FROM drafts WHERE user_id = ?");
        n.bind(1, key);
        n.bind(2, user);
        n.executeStep();
        const auto count = n.getColumn(0).getInt64();
        const bool exists = n.getColumn(1).getInt64() > 0;
        n.reset();
        if (!exists && count >= static_cast<std::int64_t>(kMaxDraftsPerUser))
            return fail("draft.too_many",
                        fmt::format("you have {} drafts, the most kept: send or delete one first",
                                    kMaxDraftsPerUser));
        auto& q = d.stmt("INSERT INTO drafts (user_id, key, content, updated_at) VALUES (?, ?, ?, "
                         "?) ON CONFLICT (user_id, key) DO UPDATE SET content = excluded.content, "
                         "updated_at = excluded.updated_at");
        q.bind(1, user);
        q.bind(2, key);
        q.bind(3, content);
        q.bind(4, now);
        q.exec();
        return {};
    });
}

Result<bool> ComposeSqlite::delete_draft(UserId user, const std::string& key) {
    return guard("deleting a draft", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("DELETE FROM drafts WHERE user_id = ? AND key = ?");
        q.bind(1, user);
        q.bind(2, key);
        return q.exec() > 0;
    });
}

Result<std::vector<DraftRow>> ComposeSqlite::drafts(UserId user) {
    return guard("listing drafts", [&]() -> Result<std::vector<DraftRow>> {
        auto& q = db_.impl().stmt("SELECT key, updated_at FROM drafts WHERE user_id = ? ORDER BY "
                                  "updated_at DESC, key");
        q.bind(1, user);
        std::vector<DraftRow> out;
        while (q.executeStep())
            out.push_back(DraftRow{q.getColumn(0).getString(), "", q.getColumn(1).getInt64()});
        q.reset();
        return out;
    });
}

Result<std::vector<DealRecipient>> ComposeSqlite::deal_recipients(DealId deal) {
    return guard("reading a deal's contacts", [&]() -> Result<std::vector<DealRecipient>> {
        auto& q = db_.impl().stmt(
            "SELECT c.id, c.name, a.written FROM deal_contacts dc JOIN contacts c ON c.id = "
            "dc.contact_id JOIN contact_addresses a ON a.contact_id = c.id WHERE dc.deal_id = ? "
            "ORDER BY c.name, c.id, a.written");
        q.bind(1, deal);
        std::vector<DealRecipient> out;
        while (q.executeStep())
            out.push_back(DealRecipient{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                                        q.getColumn(2).getString()});
        q.reset();
        return out;
    });
}

Result<PagePreferences> ComposeSqlite::preferences(UserId user) {
    return guard("reading a user's settings", [&]() -> Result<PagePreferences> {
        auto& q = db_.impl().stmt("SELECT locale, time_zone FROM user_settings WHERE user_id = ?");
        q.bind(1, user);
        PagePreferences p;
        if (q.executeStep())
            p = {q.getColumn(0).getString(), q.getColumn(1).getString()};
        q.reset();
        return p;
    });
}

Result<void> ComposeSqlite::set_preferences(UserId user, const PagePreferences& p,
                                            std::int64_t now) {
    return guard("saving a user's settings", [&]() -> Result<void> {
        auto& q = db_.impl().stmt(
            "INSERT INTO user_settings (user_id, locale, time_zone, updated_at) VALUES (?, ?, ?, "
            "?) ON CONFLICT (user_id) DO UPDATE SET locale = excluded.locale, time_zone = "
            "excluded.time_zone, updated_at = excluded.updated_at");
        q.bind(1, user);
        q.bind(2, p.locale);
        q.bind(3, p.time_zone);
        q.bind(4, now);
        q.exec();
        return {};
    });
}

} // namespace crm::store
