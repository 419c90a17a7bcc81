#include "crm/pg/compose.hpp"

#include <fmt/format.h>

#include "web_support.hpp"

namespace crm::pg {

using detail::Cells;
using detail::run;

Result<std::string> PgCompose::signature(UserId user) {
    auto r = run(c_, "reading a signature",
                 "SELECT signature FROM user_settings WHERE user_id = $1::bigint", user);
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return std::string();
    Cells c(*r, 0);
    auto s = c.get<std::string>(0);
    if (c.error())
        return std::unexpected(*c.error());
    return s;
}

Result<void> PgCompose::set_signature(UserId user, const std::string& signature, std::int64_t now) {
    auto r = run(c_, "saving a signature",
                 "INSERT INTO user_settings (user_id, signature, updated_at) VALUES ($1::bigint, "
                 "$2, $3::bigint) ON CONFLICT (user_id) DO UPDATE SET signature = "
                 "excluded.signature, updated_at = excluded.updated_at",
                 user, signature, now);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<std::optional<DraftRow>> PgCompose::draft(UserId user, const std::string& key) {
    auto r = run(c_, "reading a draft",
                 "SELECT content, updated_at FROM drafts WHERE user_id = $1::bigint AND key = $2",
                 user, key);
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells c(*r, 0);
    DraftRow d{key, c.get<std::string>(0), c.get<std::int64_t>(1)};
    if (c.error())
        return std::unexpected(*c.error());
    return d;
}

// The count and the insert are one statement. Under READ COMMITTED two new drafts saved at the
// same moment may both see the count below the limit (one over it, at most one per tab): the
// limit bounds what a user keeps, it is not exact.
Result<void> PgCompose::put_draft(UserId user, const std::string& key, const std::string& content,
                                  std::int64_t now) {
    auto r = run(c_, "saving a draft",
                 "INSERT INTO drafts (user_id, key, content, updated_at) SELECT $1::bigint, $2, "
                 "$3, $4::bigint WHERE EXISTS (SELECT 1 FROM drafts WHERE user_id = $1::bigint "
                 "AND key = $2) OR (SELECT count(*) FROM drafts WHERE user_id = $1::bigint) < "
                 "$5::bigint ON CONFLICT (user_id, key) DO UPDATE SET content = excluded.content, "
                 "updated_at = excluded.updated_at RETURNING 1",
                 user, key, content, now, static_cast<std::int64_t>(kMaxDraftsPerUser));
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return fail("draft.too_many",
                    fmt::format("you have {} drafts, the most kept: send or delete one first",
                                kMaxDraftsPerUser));
    return {};
}

Result<bool> PgCompose::delete_draft(UserId user, const std::string& key) {
    auto r =
        run(c_, "deleting a draft",
            "DELETE FROM drafts WHERE user_id = $1::bigint AND key = $2 RETURNING 1", user, key);
    if (!r)
        return std::unexpected(r.error());
    return r->rows() > 0;
}

Result<std::vector<DraftRow>> PgCompose::drafts(UserId user) {
    auto r = run(c_, "listing drafts",
                 "SELECT key, updated_at FROM drafts WHERE user_id = $1::bigint ORDER BY "
                 "updated_at DESC, key",
                 user);
    if (!r)
        return std::unexpected(r.error());
    std::vector<DraftRow> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back(DraftRow{c.get<std::string>(0), "", c.get<std::int64_t>(1)});
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<std::vector<DealRecipient>> PgCompose::deal_recipients(DealId deal) {
    auto r = run(c_, "reading a deal's contacts",
                 "SELECT c.id, c.name, a.written FROM deal_contacts dc JOIN contacts c ON c.id = "
                 "dc.contact_id JOIN contact_addresses a ON a.contact_id = c.id WHERE dc.deal_id "
                 "= $1::bigint ORDER BY c.name COLLATE \"C\", c.id, a.written COLLATE \"C\"",
                 deal);
    if (!r)
        return std::unexpected(r.error());
    std::vector<DealRecipient> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back(
            DealRecipient{c.get<std::int64_t>(0), c.get<std::string>(1), c.get<std::string>(2)});
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<PagePreferences> PgCompose::preferences(UserId user) {
    auto r = run(c_, "reading a user's settings",
                 "SELECT locale, time_zone FROM user_settings WHERE user_id = $1::bigint", user);
    if (!r)
        return std::unexpected(r.error());
    PagePreferences p;
    if (r->rows() == 0)
        return p;
    Cells c(*r, 0);
    p = {c.get<std::string>(0), c.get<std::string>(1)};
    if (c.error())
        return std::unexpected(*c.error());
    return p;
}

Result<void> PgCompose::set_preferences(UserId user, const PagePreferences& p, std::int64_t now) {
    auto r = run(c_, "saving a user's settings",
                 "INSERT INTO user_settings (user_id, locale, time_zone, updated_at) VALUES "
                 "($1::bigint, $2, $3, $4::bigint) ON CONFLICT (user_id) DO UPDATE SET locale = "
                 "excluded.locale, time_zone = excluded.time_zone, updated_at = "
                 "excluded.updated_at",
                 user, p.locale, p.time_zone, now);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace crm::pg
