// What re-sorting reads (ResortStore): the threads the sorter may decide again, a thread's
// newest message and ids, and the CRM's fingerprint.
#include <array>
#include <string_view>

#include "crm/core/crm_fingerprint.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/store/store.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

// The CRM tables the sorter reads, one text per row (the PostgreSQL store reads the same).
constexpr std::array<std::string_view, 8> kFingerprintQueries = {
    "SELECT CAST(id AS TEXT) || '|' || role || '|' || CAST(updated_at AS TEXT) FROM users",
    "SELECT address || '|' || CAST(user_id AS TEXT) FROM user_addresses",
    "SELECT CAST(id AS TEXT) || '|' || CAST(updated_at AS TEXT) FROM companies",
    "SELECT domain || '|' || CAST(company_id AS TEXT) FROM company_domains",
    "SELECT CAST(id AS TEXT) || '|' || coalesce(CAST(company_id AS TEXT), '') || '|' || "
    "CAST(updated_at AS TEXT) FROM contacts",
    "SELECT address || '|' || CAST(contact_id AS TEXT) FROM contact_addresses",
    "SELECT CAST(id AS TEXT) || '|' || name || '|' || coalesce(CAST(company_id AS TEXT), '') || "
    "'|' || coalesce(CAST(owner_id AS TEXT), '') || '|' || status || '|' || "
    "CAST(updated_at AS TEXT) FROM deals",
    "SELECT CAST(deal_id AS TEXT) || '|' || CAST(contact_id AS TEXT) FROM deal_contacts",
};

} // namespace

Result<std::vector<ResortTarget>> Store::resort_targets(const ResortScope& scope) {
    return guard("listing threads to sort again", [&]() -> Result<std::vector<ResortTarget>> {
        auto& d = db_.impl();
        std::vector<ResortTarget> out;
        if (scope.unsorted) {
            auto& q = d.stmt("SELECT u.thread_id FROM unsorted u JOIN threads t ON t.id = "
                             "u.thread_id WHERE u.held = 0 ORDER BY t.last_date DESC, t.id DESC");
            while (q.executeStep())
                out.push_back({q.getColumn(0).getInt64(), std::nullopt});
            q.reset();
        }
        if (scope.linked) {
            auto& q = d.stmt("SELECT td.thread_id, td.deal_id FROM thread_deals td JOIN threads t "
                             "ON t.id = td.thread_id WHERE td.manual = 0 AND (?1 IS NULL OR "
                             "td.deal_id = ?1) ORDER BY t.last_date DESC, t.id DESC");
            if (scope.deal)
                q.bind(1, *scope.deal);
            else
                q.bind(1);
            while (q.executeStep())
                out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64()});
            q.reset();
        }
        return out;
    });
}

Result<std::optional<ThreadTail>> Store::thread_tail(ThreadId thread) {
    return guard("reading a thread to sort it again", [&]() -> Result<std::optional<ThreadTail>> {
        auto& d = db_.impl();
        ThreadTail t;
        // The message the decision is about: the newest incoming one, else the newest.
        auto& m = d.stmt("SELECT id, subject, coalesce(date, received_at), suspicious FROM "
                         "messages WHERE thread_id = ? ORDER BY direction = 'in' DESC, "
                         "coalesce(date, received_at) DESC, id DESC LIMIT 1");
        m.bind(1, thread);
        if (!m.executeStep())
            return std::nullopt;
        t.message = m.getColumn(0).getInt64();
        t.subject = m.getColumn(1).getString();
        t.date = m.getColumn(2).getInt64();
        t.suspicious = m.getColumn(3).getString();
        m.reset();
        auto& b = d.stmt("SELECT min(is_bulk) FROM messages WHERE thread_id = ?");
        b.bind(1, thread);
        t.all_bulk = b.executeStep() && b.getColumn(0).getInt() != 0;
        b.reset();
        auto& o = d.stmt("SELECT CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id "
                         "END AS owner FROM locations l LEFT JOIN accounts a ON a.id = "
                         "l.account_id WHERE l.message_id = ? AND owner IS NOT NULL ORDER BY "
                         "l.id LIMIT 1");
        o.bind(1, t.message);
        if (o.executeStep())
            t.owner = o.getColumn(0).getInt64();
        o.reset();
        auto& p = d.stmt("SELECT role, address FROM participants WHERE message_id = ? AND "
                         "address != '' AND role IN ('from', 'to', 'cc', 'reply-to') ORDER BY "
                         "role, position");
        p.bind(1, t.message);
        while (p.executeStep())
            t.participants.emplace_back(p.getColumn(0).getString(), p.getColumn(1).getString());
        p.reset();
        auto& ids = d.stmt("SELECT message_id, refs, in_reply_to FROM messages WHERE thread_id = "
                           "? AND synthetic_id = 0");
        ids.bind(1, thread);
        while (ids.executeStep()) {
            t.ids.push_back(ids.getColumn(0).getString());
            for (int c = 1; c <= 2; ++c)
                for (auto& r : stored::split_ws(ids.getColumn(c).getString()))
                    t.ids.push_back(std::move(r));
        }
        ids.reset();
        auto& f = d.stmt("SELECT td.deal_id, coalesce(td.manual, 0), coalesce(u.held, 0), "
                         "coalesce(td.reason, u.reason, ''), coalesce(u.suggestions, '') FROM "
                         "threads t LEFT JOIN thread_deals td ON td.thread_id = t.id LEFT JOIN "
                         "unsorted u ON u.thread_id = t.id WHERE t.id = ?");
        f.bind(1, thread);
        if (f.executeStep()) {
            t.linked = opt_col(f.getColumn(0));
            t.manual = f.getColumn(1).getInt() != 0;
            t.held = f.getColumn(2).getInt() != 0;
            t.reason = f.getColumn(3).getString();
            t.suggestions = parse_ids(f.getColumn(4).getString());
        }
        f.reset();
        return t;
    });
}

Result<bool> Store::deal_open(DealId deal) {
    return guard("reading a deal's status", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("SELECT 1 FROM deals WHERE id = ? AND status = 'open'");
        q.bind(1, deal);
        const bool open = q.executeStep();
        q.reset();
        return open;
    });
}

Result<std::string> Store::crm_fingerprint() {
    return guard("reading the CRM's fingerprint", [&]() -> Result<std::string> {
        CrmFingerprint f;
        for (auto sql : kFingerprintQueries) {
            auto& q = db_.impl().stmt(std::string(sql));
            while (q.executeStep())
                f.add_row(q.getColumn(0).getString());
            q.reset();
            f.end_query();
        }
        return f.text();
    });
}

} // namespace crm::store
