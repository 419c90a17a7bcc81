// Thread edits (link, unlink, split) and the CRM record upserts over PostgreSQL: src/store/
// queries.cpp, store.cpp (split_message) and crm_records.cpp, translated.
#include <algorithm>

#include <fmt/format.h>

#include "crm/core/reason_text.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/core/thread_split.hpp"
#include "crm/pg/store.hpp"
#include "store_values.hpp"

namespace crm::pg {

using detail::check_text;
using detail::Ctx;
using detail::in_context;
using detail::int_array;
using detail::text_array;

namespace {

// After a row was inserted with an explicit id (as the SQLite store does for CRM records), the
// table's identity sequence moves past it, so that rows the database numbers later never collide
// (SQLite needs no such step: max(rowid) + 1): set to the largest id, the next one drawn is above
// every row's.
Result<void> bump_sequence(Ctx& q, std::string_view table) {
    auto r = q.exec(fmt::format("SELECT setval(pg_get_serial_sequence('{0}', 'id'), "
                                "GREATEST((SELECT max(id) FROM {0}), 1))",
                                table));
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace

Result<void> PgStore::link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                                  std::int64_t now) {
    Ctx q{c_, "linking a thread"};
    CRM_PG_TRY(t, q.exists("SELECT 1 FROM threads WHERE id = $1::bigint", thread));
    if (!*t)
        return fail("thread.not_found", fmt::format("thread {} does not exist", thread));
    CRM_PG_TRY(d, q.exists("SELECT 1 FROM deals WHERE id = $1::bigint", deal));
    if (!*d)
        return fail("deal.not_found", fmt::format("deal {} does not exist", deal));
    CRM_PG_TRY(s, q.exec("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, "
                         "linked_by, linked_at) VALUES ($1::bigint, $2::bigint, 1, 'manual link', "
                         "0, $3::bigint, $4::bigint) ON CONFLICT (thread_id) DO UPDATE SET "
                         "deal_id = excluded.deal_id, manual = 1, reason = excluded.reason, "
                         "score = 0, linked_by = excluded.linked_by, linked_at = "
                         "excluded.linked_at",
                         thread, deal, by, now));
    CRM_PG_TRY(del, q.exec("DELETE FROM unsorted WHERE thread_id = $1::bigint", thread));
    return {};
}

Result<void> PgStore::unlink_thread(ThreadId thread, std::int64_t now) {
    Ctx q{c_, "unlinking a thread"};
    CRM_PG_TRY(t, q.exists("SELECT 1 FROM threads WHERE id = $1::bigint", thread));
    if (!*t)
        return fail("thread.not_found", fmt::format("thread {} does not exist", thread));
    // The reason names the deal it was taken from ("not this deal"; held for a person).
    CRM_PG_TRY(del, q.exec("DELETE FROM thread_deals WHERE thread_id = $1::bigint RETURNING "
                           "deal_id",
                           thread));
    std::optional<DealId> from;
    if (del->rows() > 0) {
        CRM_PG_TRY(v, del->get<std::int64_t>(0, 0));
        from = *v;
    }
    CRM_PG_TRY(u, q.exec("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
                         "VALUES ($1::bigint, $3, '', $2::bigint, 1) ON CONFLICT "
                         "(thread_id) DO UPDATE SET reason = excluded.reason, held = 1",
                         thread, now, unlink_reason(from)));
    return {};
}

Result<std::vector<MessageRowId>> PgStore::messages_with_id(std::string_view message_id) {
    Ctx q{c_, "looking up a Message-ID"};
    if (auto ok = check_text(q.what, "the Message-ID", message_id); !ok)
        return std::unexpected(ok.error());
    CRM_PG_TRY(r, q.exec("SELECT id FROM messages WHERE message_id = $1 ORDER BY id",
                         std::string(message_id)));
    std::vector<MessageRowId> out;
    for (int i = 0; i < r->rows(); ++i) {
        CRM_PG_TRY(v, r->get<std::int64_t>(i, 0));
        out.push_back(*v);
    }
    return out;
}

Result<SplitResult>
PgStore::split_message(MessageRowId message, std::optional<UserId> by, std::int64_t now,
                       const std::optional<std::vector<MessageRowId>>& movable) {
    Ctx q{c_, "splitting a thread"};
    CRM_PG_TRY(th, q.exec("SELECT thread_id FROM messages WHERE id = $1::bigint", message));
    if (th->rows() == 0)
        return fail("message.not_found", fmt::format("message {} does not exist", message));
    SplitResult out;
    CRM_PG_TRY(from, th->get<std::int64_t>(0, 0));
    out.from = *from;
    // The thread's row lock, before its messages are read: FOR UPDATE waits for transactions
    // still inserting into it (their foreign key holds KEY SHARE on it) and keeps new ones out
    // until this commits, so the split sees every message of the thread.
    CRM_PG_TRY(lock, q.exec("SELECT 1 FROM threads WHERE id = $1::bigint FOR UPDATE", out.from));

    // The thread's messages and what each references.
    std::vector<SplitCandidate> rows;
    CRM_PG_TRY(m, q.exec("SELECT id, message_id, refs || ' ' || in_reply_to FROM messages WHERE "
                         "thread_id = $1::bigint",
                         out.from));
    for (int i = 0; i < m->rows(); ++i) {
        CRM_PG_TRY(id, m->get<std::int64_t>(i, 0));
        CRM_PG_TRY(mid, m->get<std::string>(i, 1));
        CRM_PG_TRY(refs, m->get<std::string>(i, 2));
        rows.push_back({*id, std::move(*mid), stored::split_ws(*refs)});
    }
    auto [moved, moved_ids] = plan_split(rows, message, movable);
    if (moved.size() == rows.size())
        return fail("thread.split_whole",
                    fmt::format("message {} and the replies to it are all of thread {}: "
                                "nothing would stay behind",
                                message, out.from));

    auto created = create_thread();
    if (!created)
        return std::unexpected(created.error());
    out.thread = *created;
    out.moved = moved.size();
    std::string who = "crm-mailctl";
    if (by) {
        CRM_PG_TRY(u, q.exec("SELECT name FROM users WHERE id = $1::bigint", *by));
        if (u->rows() > 0) {
            CRM_PG_TRY(name, u->get<std::string>(0, 0));
            who = std::move(*name);
        }
    }
    const std::string reason = fmt::format("split from thread {} by {}", out.from, who);
    const std::string ids = int_array(moved);
    // Their own ids go with them; ghosts and conversation keys (gm-thrid, thread-index) stay
    // with the thread they were split from.
    const std::vector<std::string> keys(moved_ids.begin(), moved_ids.end());
    detail::Statements s(c_, opts_.pipeline);
    s.add("UPDATE messages SET thread_id = $1::bigint, sort_reason = $3 WHERE id = "
          "ANY($2::bigint[])",
          out.thread, ids, reason);
    s.add("UPDATE thread_keys SET thread_id = $1::bigint WHERE thread_id = $2::bigint AND key = "
          "ANY($3::text[])",
          out.thread, out.from, text_array(keys));
    s.add("UPDATE outbox SET thread_id = $1::bigint WHERE parent_id = ANY($2::bigint[])",
          out.thread, ids);
    s.add("INSERT INTO thread_splits (thread_id, from_thread_id, message_id, moved, split_by, "
          "split_at) VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::bigint, "
          "$6::bigint)",
          out.thread, out.from, message, static_cast<std::int64_t>(out.moved), by, now);
    s.add("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) VALUES "
          "($1::bigint, $2, '', $3::bigint, 1)",
          out.thread, reason, now);
    for (ThreadId t : {out.from, out.thread})
        s.add(detail::kRefreshThread, t, now);
    auto done = s.run();
    if (!done)
        return std::unexpected(in_context(q.what, std::move(done).error()));
    return out;
}

// ---- CRM records -------------------------------------------------------------------------

Result<std::vector<UserId>> PgStore::users() {
    Ctx q{c_, "listing users"};
    CRM_PG_TRY(r, q.exec("SELECT id FROM users ORDER BY id"));
    std::vector<UserId> out;
    for (int i = 0; i < r->rows(); ++i) {
        CRM_PG_TRY(v, r->get<std::int64_t>(i, 0));
        out.push_back(*v);
    }
    return out;
}

Result<void> PgStore::upsert_user(const UserRecord& u, std::int64_t now) {
    Ctx q{c_, fmt::format("storing user {}", u.id)};
    for (const std::string* v : {&u.name, &u.email, &u.role, &u.canonical_email})
        if (auto ok = check_text(q.what, "a field", *v); !ok)
            return ok;
    CRM_PG_TRY(s, q.exec("INSERT INTO users (id, name, email, role, created_at, updated_at) "
                         "VALUES ($1::bigint, $2, $3, $4, $5::bigint, $5::bigint) ON CONFLICT "
                         "(id) DO UPDATE SET name = excluded.name, email = excluded.email, role = "
                         "excluded.role, updated_at = excluded.updated_at",
                         u.id, u.name, u.email, u.role, now));
    if (auto b = bump_sequence(q, "users"); !b)
        return b;
    if (!u.canonical_email.empty()) {
        CRM_PG_TRY(a, q.exec("INSERT INTO user_addresses (address, user_id) VALUES ($1, "
                             "$2::bigint) ON CONFLICT (address) DO UPDATE SET user_id = "
                             "excluded.user_id",
                             u.canonical_email, u.id));
    }
    return {};
}

Result<void> PgStore::upsert_company(const CompanyRecord& c, std::int64_t now) {
    Ctx q{c_, fmt::format("storing company {}", c.id)};
    if (auto ok = check_text(q.what, "the name", c.name); !ok)
        return ok;
    for (const auto& dom : c.domains)
        if (auto ok = check_text(q.what, "a domain", dom); !ok)
            return ok;
    CRM_PG_TRY(s, q.exec("INSERT INTO companies (id, name, created_at, updated_at) VALUES "
                         "($1::bigint, $2, $3::bigint, $3::bigint) ON CONFLICT (id) DO UPDATE SET "
                         "name = excluded.name, updated_at = excluded.updated_at",
                         c.id, c.name, now));
    if (auto b = bump_sequence(q, "companies"); !b)
        return b;
    CRM_PG_TRY(del, q.exec("DELETE FROM company_domains WHERE company_id = $1::bigint", c.id));
    for (const auto& dom : c.domains) {
        CRM_PG_TRY(ck, q.exec("SELECT company_id FROM company_domains WHERE domain = $1", dom));
        if (ck->rows() > 0) {
            CRM_PG_TRY(owner, ck->get<std::int64_t>(0, 0));
            return fail("crm.domain_taken",
                        fmt::format("domain {} already belongs to company {}", dom, *owner));
        }
        CRM_PG_TRY(a, q.exec("INSERT INTO company_domains (domain, company_id) VALUES ($1, "
                             "$2::bigint)",
                             dom, c.id));
    }
    return {};
}

Result<void> PgStore::upsert_contact(const ContactRecord& c, std::int64_t now) {
    Ctx q{c_, fmt::format("storing contact {}", c.id)};
    if (auto ok = check_text(q.what, "the name", c.name); !ok)
        return ok;
    for (const auto& [canon, written] : c.emails) {
        if (auto ok = check_text(q.what, "an address", canon); !ok)
            return ok;
        if (auto ok = check_text(q.what, "an address", written); !ok)
            return ok;
    }
    if (c.company) {
        CRM_PG_TRY(ck, q.exists("SELECT 1 FROM companies WHERE id = $1::bigint", *c.company));
        if (!*ck)
            return fail("crm.no_company", fmt::format("company_id {} does not exist", *c.company));
    }
    CRM_PG_TRY(s, q.exec("INSERT INTO contacts (id, name, company_id, created_at, updated_at) "
                         "VALUES ($1::bigint, $2, $3::bigint, $4::bigint, $4::bigint) ON CONFLICT "
                         "(id) DO UPDATE SET name = excluded.name, company_id = "
                         "excluded.company_id, updated_at = excluded.updated_at",
                         c.id, c.name, c.company, now));
    if (auto b = bump_sequence(q, "contacts"); !b)
        return b;
    CRM_PG_TRY(del, q.exec("DELETE FROM contact_addresses WHERE contact_id = $1::bigint", c.id));
    for (const auto& [canon, written] : c.emails) {
        CRM_PG_TRY(ck,
                   q.exec("SELECT contact_id FROM contact_addresses WHERE address = $1", canon));
        if (ck->rows() > 0) {
            CRM_PG_TRY(owner, ck->get<std::int64_t>(0, 0));
            return fail("crm.address_taken",
                        fmt::format("address {} already belongs to contact {}", written, *owner));
        }
        CRM_PG_TRY(a, q.exec("INSERT INTO contact_addresses (address, contact_id, written) VALUES "
                             "($1, $2::bigint, $3)",
                             canon, c.id, written));
    }
    return {};
}

Result<void> PgStore::upsert_deal(const DealInput& x, std::int64_t now) {
    Ctx q{c_, fmt::format("storing deal {}", x.id)};
    for (const std::string* v : {&x.name, &x.stage, &x.status, &x.value, &x.currency})
        if (auto ok = check_text(q.what, "a field", *v); !ok)
            return ok;
    if (x.company) {
        CRM_PG_TRY(ok, q.exists("SELECT 1 FROM companies WHERE id = $1::bigint", *x.company));
        if (!*ok)
            return fail("crm.no_company", fmt::format("company_id {} does not exist", *x.company));
    }
    if (x.owner) {
        CRM_PG_TRY(ok, q.exists("SELECT 1 FROM users WHERE id = $1::bigint", *x.owner));
        if (!*ok)
            return fail("crm.no_user", fmt::format("owner_id {} does not exist", *x.owner));
    }
    for (auto c : x.contacts) {
        CRM_PG_TRY(ok, q.exists("SELECT 1 FROM contacts WHERE id = $1::bigint", c));
        if (!*ok)
            return fail("crm.no_contact", fmt::format("contact id {} does not exist", c));
    }
    CRM_PG_TRY(s, q.exec("INSERT INTO deals (id, name, company_id, owner_id, stage, status, value, "
                         "currency, created_at, updated_at, shared) VALUES ($1::bigint, $2, "
                         "$3::bigint, $4::bigint, $5, $6, $7, $8, $9::bigint, $9::bigint, "
                         "$10::smallint) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                         "company_id = excluded.company_id, owner_id = excluded.owner_id, stage = "
                         "excluded.stage, status = excluded.status, value = excluded.value, "
                         "currency = excluded.currency, updated_at = excluded.updated_at, shared "
                         "= excluded.shared",
                         x.id, x.name, x.company, x.owner, x.stage, x.status, x.value, x.currency,
                         now, x.shared ? 1 : 0));
    if (auto b = bump_sequence(q, "deals"); !b)
        return b;
    CRM_PG_TRY(del, q.exec("DELETE FROM deal_contacts WHERE deal_id = $1::bigint", x.id));
    if (!x.contacts.empty()) {
        CRM_PG_TRY(a, q.exec("INSERT INTO deal_contacts (deal_id, contact_id) SELECT $1::bigint, "
                             "c FROM unnest($2::bigint[]) AS c ON CONFLICT (deal_id, contact_id) "
                             "DO NOTHING",
                             x.id, int_array(x.contacts)));
    }
    return {};
}

Result<std::optional<std::int64_t>> PgStore::record_delivery_report(const DeliveryReportRow& r) {
    Ctx q{c_, "recording a delivery report"};
    if (auto ok = check_text(q.what, "the reported Message-ID", r.original_message_id); !ok)
        return std::unexpected(ok.error());
    CRM_PG_TRY(o, q.exec("SELECT id, to_json, cc_json, bcc_json FROM outbox WHERE message_id = $1",
                         r.original_message_id));
    if (o->rows() == 0)
        return std::nullopt;
    CRM_PG_TRY(id, o->get<std::int64_t>(0, 0));
    std::vector<Address> sent_to;
    for (int c = 1; c <= 3; ++c) {
        CRM_PG_TRY(list, o->get<std::string>(0, c));
        for (auto& a : stored::decode_addresses(*list))
            sent_to.push_back(std::move(a));
    }
    const auto about = report_for_entry(r, sent_to);
    if (!about)
        return std::nullopt;
    for (const auto& x : delivery_report_rows(*about)) {
        for (const std::string* v : {&x.address, &x.action, &x.status, &x.diagnostic})
            if (auto ok = check_text(q.what, "a reported recipient", *v); !ok)
                return std::unexpected(ok.error());
        CRM_PG_TRY(ins, q.exec("INSERT INTO outbox_reports (outbox_id, recipient, action, status, "
                               "diagnostic, report_id, reported_at) VALUES ($1::bigint, $2, $3, "
                               "$4, $5, $6::bigint, $7::bigint) ON CONFLICT (outbox_id, "
                               "recipient, action) DO UPDATE SET status = excluded.status, "
                               "diagnostic = excluded.diagnostic, report_id = excluded.report_id, "
                               "reported_at = excluded.reported_at",
                               *id, x.address, x.action, x.status, x.diagnostic, r.report, r.at));
    }
    // Only a failure of one of its own recipients bounces the entry.
    if (r.kind == AutoKind::Bounce && !about->recipients.empty()) {
        CRM_PG_TRY(up, q.exec("UPDATE outbox SET state = 'bounced', last_error = $1, updated_at = "
                              "$2::bigint WHERE id = $3::bigint AND state IN ('sent', 'unknown', "
                              "'bounced')",
                              bounce_reason(*about), r.at, *id));
    }
    return std::optional<std::int64_t>(*id);
}

} // namespace crm::pg
