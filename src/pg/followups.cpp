#include "crm/pg/followups.hpp"

#include "web_support.hpp"

namespace crm::pg {

using detail::Cells;
using detail::run;

namespace {

std::optional<int> as_int(const std::optional<std::int64_t>& v) {
    if (!v)
        return std::nullopt;
    return static_cast<int>(*v);
}

std::optional<std::int64_t> as_big(const std::optional<int>& v) {
    if (!v)
        return std::nullopt;
    return static_cast<std::int64_t>(*v);
}

Result<DealFollowupSettings> settings_of(const ResultSet& rs) {
    DealFollowupSettings s;
    if (rs.rows() == 0)
        return s;
    Cells c(rs, 0);
    s.awaiting_days = as_int(c.get<std::optional<std::int64_t>>(0));
    s.answer_hours = as_int(c.get<std::optional<std::int64_t>>(1));
    if (c.error())
        return std::unexpected(*c.error());
    return s;
}

} // namespace

Result<std::vector<FollowupCandidate>> PgFollowups::candidates(UserId user, std::int64_t now,
                                                               std::int64_t out_before,
                                                               std::int64_t in_before,
                                                               std::size_t limit) {
    auto r = run(
        c_, "reading follow-ups",
        "SELECT t.id, t.subject, d.id, d.name, t.last_in_at, t.last_out_at, f.awaiting_days, "
        "f.answer_hours, s.until FROM deals d JOIN thread_deals td ON td.deal_id = d.id "
        "JOIN threads t ON t.id = td.thread_id "
        "LEFT JOIN deal_followups f ON f.deal_id = d.id "
        "LEFT JOIN thread_snoozes s ON s.user_id = $1::bigint AND s.thread_id = t.id "
        "WHERE d.owner_id = $1::bigint AND d.status = 'open' AND (s.until IS NULL OR s.until <= "
        "$2::bigint) AND ((t.last_out_at IS NOT NULL AND (t.last_in_at IS NULL OR t.last_out_at > "
        "t.last_in_at) AND t.last_out_at <= $3::bigint) OR (t.last_in_at IS NOT NULL AND "
        "(t.last_out_at IS NULL OR t.last_in_at > t.last_out_at) AND t.last_in_at <= $4::bigint)) "
        "ORDER BY GREATEST(coalesce(t.last_out_at, 0), coalesce(t.last_in_at, 0)), t.id "
        "LIMIT $5::bigint",
        user, now, out_before, in_before, static_cast<std::int64_t>(limit));
    if (!r)
        return std::unexpected(r.error());
    std::vector<FollowupCandidate> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        using Opt = std::optional<std::int64_t>;
        FollowupCandidate f;
        f.thread = c.get<std::int64_t>(0);
        f.subject = c.get<std::string>(1);
        f.deal = c.get<std::int64_t>(2);
        f.deal_name = c.get<std::string>(3);
        f.last_in_at = c.get<Opt>(4);
        f.last_out_at = c.get<Opt>(5);
        f.settings = {as_int(c.get<Opt>(6)), as_int(c.get<Opt>(7))};
        f.snoozed_until = c.get<Opt>(8);
        if (c.error())
            return std::unexpected(*c.error());
        out.push_back(std::move(f));
    }
    return out;
}

Result<DealFollowupSettings> PgFollowups::shortest_settings(UserId user) {
    auto r = run(c_, "reading follow-up settings",
                 "SELECT min(f.awaiting_days), min(f.answer_hours) FROM deal_followups f JOIN "
                 "deals d ON d.id = f.deal_id WHERE d.owner_id = $1::bigint AND d.status = 'open'",
                 user);
    if (!r)
        return std::unexpected(r.error());
    return settings_of(*r);
}

Result<DealFollowupSettings> PgFollowups::deal_settings(DealId deal) {
    auto r = run(
        c_, "reading a deal's follow-up settings",
        "SELECT awaiting_days, answer_hours FROM deal_followups WHERE deal_id = $1::bigint", deal);
    if (!r)
        return std::unexpected(r.error());
    return settings_of(*r);
}

Result<void> PgFollowups::set_deal_settings(DealId deal, const DealFollowupSettings& s,
                                            std::optional<UserId> by, std::int64_t now) {
    if (auto ok = check_followup_settings(s); !ok)
        return ok;
    constexpr std::string_view what = "saving a deal's follow-up settings";
    auto r = !s.awaiting_days && !s.answer_hours
                 ? run(c_, what, "DELETE FROM deal_followups WHERE deal_id = $1::bigint", deal)
                 : run(c_, what,
                       "INSERT INTO deal_followups (deal_id, awaiting_days, answer_hours, "
                       "updated_by, updated_at) VALUES ($1::bigint, $2::bigint, $3::bigint, "
                       "$4::bigint, $5::bigint) ON CONFLICT (deal_id) DO UPDATE SET awaiting_days "
                       "= excluded.awaiting_days, answer_hours = excluded.answer_hours, "
                       "updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                       deal, as_big(s.awaiting_days), as_big(s.answer_hours), by, now);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<void> PgFollowups::snooze(UserId user, ThreadId thread, std::optional<std::int64_t> until,
                                 std::int64_t now) {
    constexpr std::string_view what = "snoozing a thread";
    auto r = !until ? run(c_, what,
                          "DELETE FROM thread_snoozes WHERE user_id = $1::bigint AND thread_id = "
                          "$2::bigint",
                          user, thread)
                    : run(c_, what,
                          "INSERT INTO thread_snoozes (user_id, thread_id, until, created_at) "
                          "VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint) ON CONFLICT "
                          "(user_id, thread_id) DO UPDATE SET until = excluded.until, created_at "
                          "= excluded.created_at",
                          user, thread, *until, now);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<std::vector<UserId>> PgFollowups::deal_owners() {
    auto r = run(c_, "reading the deal owners",
                 "SELECT DISTINCT owner_id FROM deals WHERE status = 'open' AND owner_id IS NOT "
                 "NULL ORDER BY 1");
    if (!r)
        return std::unexpected(r.error());
    std::vector<UserId> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back(c.get<std::int64_t>(0));
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<bool> PgFollowups::claim_reminder(UserId user, const std::string& day,
                                         const std::string& message_id, std::int64_t items,
                                         std::int64_t now) {
    auto r = run(c_, "claiming a follow-up reminder",
                 "INSERT INTO followup_reminders (user_id, day, message_id, items, created_at) "
                 "VALUES ($1::bigint, $2, $3, $4::bigint, $5::bigint) ON CONFLICT (user_id, day) "
                 "DO NOTHING RETURNING 1",
                 user, day, message_id, items, now);
    if (!r)
        return std::unexpected(r.error());
    return r->rows() > 0;
}

Result<void> PgFollowups::record_reminder_outbox(UserId user, const std::string& day,
                                                 std::int64_t outbox_id) {
    auto r = run(c_, "recording a follow-up reminder",
                 "UPDATE followup_reminders SET outbox_id = $1::bigint WHERE user_id = $2::bigint "
                 "AND day = $3",
                 outbox_id, user, day);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace crm::pg
