// What re-sorting reads (ResortStore) on PostgreSQL: the SQLite store's queries
// (src/store/resort_reads.cpp) in PostgreSQL's dialect.
#include <array>
#include <string_view>

#include "crm/core/crm_fingerprint.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/pg/store.hpp"
#include "store_values.hpp"

namespace crm::pg {

namespace {

// The CRM tables the sorter reads, one text per row (the SQLite store reads the same).
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

using detail::Ctx;

Result<std::vector<ResortTarget>> PgStore::resort_targets(const ResortScope& scope) {
    Ctx q{c_, "listing threads to sort again"};
    std::vector<ResortTarget> out;
    if (scope.unsorted) {
        CRM_PG_TRY(r, q.exec("SELECT u.thread_id FROM unsorted u JOIN threads t ON t.id = "
                             "u.thread_id WHERE u.held = 0 ORDER BY t.last_date DESC NULLS LAST, "
                             "t.id DESC"));
        for (int i = 0; i < r->rows(); ++i) {
            CRM_PG_TRY(id, r->get<std::int64_t>(i, 0));
            out.push_back({*id, std::nullopt});
        }
    }
    if (scope.linked) {
        CRM_PG_TRY(r, q.exec("SELECT td.thread_id, td.deal_id FROM thread_deals td JOIN threads "
                             "t ON t.id = td.thread_id WHERE td.manual = 0 AND ($1::bigint IS "
                             "NULL OR td.deal_id = $1::bigint) ORDER BY t.last_date DESC NULLS "
                             "LAST, t.id DESC",
                             scope.deal));
        for (int i = 0; i < r->rows(); ++i) {
            CRM_PG_TRY(id, r->get<std::int64_t>(i, 0));
            CRM_PG_TRY(deal, r->get<std::int64_t>(i, 1));
            out.push_back({*id, *deal});
        }
    }
    return out;
}

Result<std::optional<ThreadTail>> PgStore::thread_tail(ThreadId thread) {
    Ctx q{c_, "reading a thread to sort it again"};
    // Locked until the caller's transaction ends: what is read here is what the decision is
    // written over (another worker's ingest or a person's link waits, or goes first).
    CRM_PG_TRY(locked,
               q.exec("SELECT 1 FROM threads WHERE id = $1::bigint FOR NO KEY UPDATE", thread));
    if (locked->rows() == 0)
        return std::nullopt;
    ThreadTail t;
    CRM_PG_TRY(m, q.exec("SELECT id, subject, coalesce(date, received_at), suspicious, (SELECT "
                         "min(is_bulk)::bigint FROM messages WHERE thread_id = $1::bigint) FROM "
                         "messages WHERE thread_id = $1::bigint ORDER BY direction = 'in' DESC, "
                         "coalesce(date, received_at) DESC, id DESC LIMIT 1",
                         thread));
    if (m->rows() == 0)
        return std::nullopt;
    CRM_PG_TRY(id, m->get<std::int64_t>(0, 0));
    CRM_PG_TRY(subject, m->get<std::string>(0, 1));
    CRM_PG_TRY(date, m->get<std::int64_t>(0, 2));
    CRM_PG_TRY(suspicious, m->get<std::string>(0, 3));
    CRM_PG_TRY(bulk, m->get<std::int64_t>(0, 4));
    t.message = *id;
    t.subject = std::move(*subject);
    t.date = *date;
    t.suspicious = std::move(*suspicious);
    t.all_bulk = *bulk != 0;
    CRM_PG_TRY(o, q.exec("SELECT CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id "
                         "END FROM locations l LEFT JOIN accounts a ON a.id = l.account_id WHERE "
                         "l.message_id = $1::bigint AND CASE WHEN l.account_id IS NULL THEN "
                         "l.owner_id ELSE a.owner_id END IS NOT NULL ORDER BY l.id LIMIT 1",
                         t.message));
    if (o->rows() > 0) {
        CRM_PG_TRY(owner, o->get<std::int64_t>(0, 0));
        t.owner = *owner;
    }
    CRM_PG_TRY(p, q.exec("SELECT role, address FROM participants WHERE message_id = $1::bigint "
                         "AND address <> '' AND role IN ('from', 'to', 'cc', 'reply-to') ORDER "
                         "BY role, position",
                         t.message));
    for (int i = 0; i < p->rows(); ++i) {
        CRM_PG_TRY(role, p->get<std::string>(i, 0));
        CRM_PG_TRY(address, p->get<std::string>(i, 1));
        t.participants.emplace_back(std::move(*role), std::move(*address));
    }
    CRM_PG_TRY(ids, q.exec("SELECT message_id, refs, in_reply_to FROM messages WHERE thread_id = "
                           "$1::bigint AND synthetic_id = 0",
                           thread));
    for (int i = 0; i < ids->rows(); ++i) {
        CRM_PG_TRY(mid, ids->get<std::string>(i, 0));
        t.ids.push_back(std::move(*mid));
        for (int c = 1; c <= 2; ++c) {
            CRM_PG_TRY(list, ids->get<std::string>(i, c));
            for (auto& r : stored::split_ws(*list))
                t.ids.push_back(std::move(r));
        }
    }
    CRM_PG_TRY(f, q.exec("SELECT td.deal_id, coalesce(td.manual, 0)::bigint, coalesce(u.held, "
                         "0)::bigint, coalesce(td.reason, u.reason, ''), coalesce(u.suggestions, "
                         "'') FROM threads t LEFT JOIN thread_deals td ON td.thread_id = t.id LEFT "
                         "JOIN unsorted u ON u.thread_id = t.id WHERE t.id = $1::bigint",
                         thread));
    if (f->rows() > 0) {
        CRM_PG_TRY(linked, f->get<std::optional<std::int64_t>>(0, 0));
        CRM_PG_TRY(manual, f->get<std::int64_t>(0, 1));
        CRM_PG_TRY(held, f->get<std::int64_t>(0, 2));
        CRM_PG_TRY(reason, f->get<std::string>(0, 3));
        CRM_PG_TRY(suggestions, f->get<std::string>(0, 4));
        t.linked = *linked;
        t.manual = *manual != 0;
        t.held = *held != 0;
        t.reason = std::move(*reason);
        t.suggestions = stored::parse_ids(*suggestions);
    }
    return t;
}

Result<bool> PgStore::deal_open(DealId deal) {
    Ctx q{c_, "reading a deal's status"};
    return q.exists("SELECT 1 FROM deals WHERE id = $1::bigint AND status = 'open'", deal);
}

Result<bool> PgStore::resort_leader() {
    Ctx q{c_, "asking to lead the re-sorting"};
    // A session advisory lock: held until the session ends (a worker that dies, or whose
    // connection drops, hands it on). Taken only when this session does not hold it yet, so its
    // count does not grow with every look.
    CRM_PG_TRY(r, q.exec("SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = "
                         "'advisory' AND pid = pg_backend_pid() AND granted AND classid = 0 AND "
                         "objid = 7263891 AND objsubid = 1) THEN true ELSE "
                         "pg_try_advisory_lock(7263891) END"));
    CRM_PG_TRY(won, r->get<bool>(0, 0));
    return *won;
}

Result<std::string> PgStore::crm_fingerprint() {
    Ctx q{c_, "reading the CRM's fingerprint"};
    CrmFingerprint f;
    for (auto sql : kFingerprintQueries) {
        CRM_PG_TRY(r, q.exec(sql));
        for (int i = 0; i < r->rows(); ++i) {
            CRM_PG_TRY(row, r->get<std::string>(i, 0));
            f.add_row(*row);
        }
        f.end_query();
    }
    return f.text();
}

} // namespace crm::pg
