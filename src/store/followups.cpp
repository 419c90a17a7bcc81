#include "crm/store/followups.hpp"

#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

std::optional<int> opt_int(const SQLite::Column& c) {
    if (c.isNull())
        return std::nullopt;
    return c.getInt();
}

void bind_opt(SQLite::Statement& s, int i, const std::optional<int>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

} // namespace

// The last word is ours (awaiting their reply) or theirs (needs our answer), and older than the
// cutoff; snoozed threads are left out until their time. Through deals_owner and the deal's
// thread index (schema/0018), then each thread by its key.
Result<std::vector<FollowupCandidate>> FollowupStore::candidates(UserId user, std::int64_t now,
                                                                 std::int64_t out_before,
                                                                 std::int64_t in_before,
                                                                 std::size_t limit) {
    return guard("reading follow-ups", [&]() -> Result<std::vector<FollowupCandidate>> {
        auto& q = db_.impl().stmt(
            "SELECT t.id, t.subject, d.id, d.name, t.last_in_at, t.last_out_at, f.awaiting_days, "
            "f.answer_hours, s.until FROM deals d JOIN thread_deals td ON td.deal_id = d.id "
            "JOIN threads t ON t.id = td.thread_id "
            "LEFT JOIN deal_followups f ON f.deal_id = d.id "
            "LEFT JOIN thread_snoozes s ON s.user_id = :user AND s.thread_id = t.id "
            "WHERE d.owner_id = :user AND d.status = 'open' AND (s.until IS NULL OR s.until <= "
            ":now) AND ((t.last_out_at IS NOT NULL AND (t.last_in_at IS NULL OR t.last_out_at > "
            "t.last_in_at) AND t.last_out_at <= :out) OR (t.last_in_at IS NOT NULL AND "
            "(t.last_out_at IS NULL OR t.last_in_at > t.last_out_at) AND t.last_in_at <= :in)) "
            "ORDER BY max(coalesce(t.last_out_at, 0), coalesce(t.last_in_at, 0)), t.id "
            "LIMIT :limit");
        q.bind(":user", user);
        q.bind(":now", now);
        q.bind(":out", out_before);
        q.bind(":in", in_before);
        q.bind(":limit", static_cast<std::int64_t>(limit));
        std::vector<FollowupCandidate> out;
        while (q.executeStep()) {
            FollowupCandidate c;
            c.thread = q.getColumn(0).getInt64();
            c.subject = q.getColumn(1).getString();
            c.deal = q.getColumn(2).getInt64();
            c.deal_name = q.getColumn(3).getString();
            c.last_in_at = opt_col(q.getColumn(4));
            c.last_out_at = opt_col(q.getColumn(5));
            c.settings = {opt_int(q.getColumn(6)), opt_int(q.getColumn(7))};
            c.snoozed_until = opt_col(q.getColumn(8));
            out.push_back(std::move(c));
        }
        q.reset();
        return out;
    });
}

Result<DealFollowupSettings> FollowupStore::shortest_settings(UserId user) {
    return guard("reading follow-up settings", [&]() -> Result<DealFollowupSettings> {
        auto& q = db_.impl().stmt(
            "SELECT min(f.awaiting_days), min(f.answer_hours) FROM deal_followups f JOIN deals d "
            "ON d.id = f.deal_id WHERE d.owner_id = ? AND d.status = 'open'");
        q.bind(1, user);
        DealFollowupSettings s;
        if (q.executeStep())
            s = {opt_int(q.getColumn(0)), opt_int(q.getColumn(1))};
        q.reset();
        return s;
    });
}

Result<DealFollowupSettings> FollowupStore::deal_settings(DealId deal) {
    return guard("reading a deal's follow-up settings", [&]() -> Result<DealFollowupSettings> {
        auto& q = db_.impl().stmt(
            "SELECT awaiting_days, answer_hours FROM deal_followups WHERE deal_id = ?");
        q.bind(1, deal);
        DealFollowupSettings s;
        if (q.executeStep())
            s = {opt_int(q.getColumn(0)), opt_int(q.getColumn(1))};
        q.reset();
        return s;
    });
}

Result<void> FollowupStore::set_deal_settings(DealId deal, const DealFollowupSettings& s,
                                              std::optional<UserId> by, std::int64_t now) {
    if (auto ok = check_followup_settings(s); !ok)
        return ok;
    return guard("saving a deal's follow-up settings", [&]() -> Result<void> {
        auto& d = db_.impl();
        if (!s.awaiting_days && !s.answer_hours) {
            auto& del = d.stmt("DELETE FROM deal_followups WHERE deal_id = ?");
            del.bind(1, deal);
            del.exec();
            del.reset();
            return {};
        }
        auto& up =
            d.stmt("INSERT INTO deal_followups (deal_id, awaiting_days, answer_hours, updated_by, "
                   "updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (deal_id) DO UPDATE SET "
                   "awaiting_days = ?2, answer_hours = ?3, updated_by = ?4, updated_at = ?5");
        up.bind(1, deal);
        bind_opt(up, 2, s.awaiting_days);
        bind_opt(up, 3, s.answer_hours);
        if (by)
            up.bind(4, *by);
        else
            up.bind(4);
        up.bind(5, now);
        up.exec();
        up.reset();
        return {};
    });
}

Result<void> FollowupStore::snooze(UserId user, ThreadId thread, std::optional<std::int64_t> until,
                                   std::int64_t now) {
    return guard("snoozing a thread", [&]() -> Result<void> {
        auto& d = db_.impl();
        if (!until) {
            auto& del = d.stmt("DELETE FROM thread_snoozes WHERE user_id = ? AND thread_id = ?");
            del.bind(1, user);
            del.bind(2, thread);
            del.exec();
            del.reset();
            return {};
        }
        auto& up = d.stmt("INSERT INTO thread_snoozes (user_id, thread_id, until, created_at) "
                          "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, thread_id) DO UPDATE "
                          "SET until = ?3, created_at = ?4");
        up.bind(1, user);
        up.bind(2, thread);
        up.bind(3, *until);
        up.bind(4, now);
        up.exec();
        up.reset();
        return {};
    });
}

Result<std::vector<UserId>> FollowupStore::deal_owners() {
    return guard("reading the deal owners", [&]() -> Result<std::vector<UserId>> {
        auto& q = db_.impl().stmt("SELECT DISTINCT owner_id FROM deals WHERE status = 'open' AND "
                                  "owner_id IS NOT NULL ORDER BY 1");
        std::vector<UserId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        q.reset();
        return out;
    });
}

Result<bool> FollowupStore::claim_reminder(UserId user, const std::string& day,
                                           const std::string& message_id, std::int64_t items,
                                           std::int64_t now) {
    return guard("claiming a follow-up reminder", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(
            "INSERT INTO followup_reminders (user_id, day, message_id, items, created_at) VALUES "
            "(?, ?, ?, ?, ?) ON CONFLICT (user_id, day) DO NOTHING");
        q.bind(1, user);
        q.bind(2, day);
        q.bind(3, message_id);
        q.bind(4, items);
        q.bind(5, now);
        return q.exec() > 0;
    });
}

Result<void> FollowupStore::record_reminder_outbox(UserId user, const std::string& day,
                                                   std::int64_t outbox_id) {
    return guard("recording a follow-up reminder", [&]() -> Result<void> {
        auto& q = db_.impl().stmt(
            "UPDATE followup_reminders SET outbox_id = ? WHERE user_id = ? AND day = ?");
        q.bind(1, outbox_id);
        q.bind(2, user);
        q.bind(3, day);
        q.exec();
        return {};
    });
}

} // namespace crm::store
