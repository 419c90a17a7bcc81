// CRM records imported from CSV: users, companies, contacts, deals. Upserts keyed by id.
#include "crm/store/store.hpp"

#include "guard.hpp"

namespace crm::store {

namespace {
void bind_opt(SQLite::Statement& s, int i, const std::optional<std::int64_t>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}
} // namespace

Result<void> Store::upsert_user(const UserRecord& u, std::int64_t now) {
    return guard(fmt::format("storing user {}", u.id), [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& s = d.stmt("INSERT INTO users (id, name, email, role, created_at, updated_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (id) DO UPDATE SET "
                         "name = excluded.name, email = excluded.email, role = excluded.role, "
                         "updated_at = excluded.updated_at");
        s.bind(1, u.id);
        s.bind(2, u.name);
        s.bind(3, u.email);
        s.bind(4, u.role);
        s.bind(5, now);
        s.exec();
        if (!u.canonical_email.empty()) {
            auto& a = d.stmt("INSERT INTO user_addresses (address, user_id) VALUES (?, ?) "
                             "ON CONFLICT (address) DO UPDATE SET user_id = excluded.user_id");
            a.bind(1, u.canonical_email);
            a.bind(2, u.id);
            a.exec();
        }
        return {};
    });
}

Result<void> Store::upsert_company(const CompanyRecord& c, std::int64_t now) {
    return guard(fmt::format("storing company {}", c.id), [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& s = d.stmt("INSERT INTO companies (id, name, created_at, updated_at) VALUES "
                         "(?1, ?2, ?3, ?3) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
                         "updated_at = excluded.updated_at");
        s.bind(1, c.id);
        s.bind(2, c.name);
        s.bind(3, now);
        s.exec();
        auto& del = d.stmt("DELETE FROM company_domains WHERE company_id = ?");
        del.bind(1, c.id);
        del.exec();
        for (const auto& dom : c.domains) {
            auto& ck = d.stmt("SELECT company_id FROM company_domains WHERE domain = ?");
            ck.bind(1, dom);
            if (ck.executeStep())
                return fail("crm.domain_taken",
                            fmt::format("domain {} already belongs to company {}", dom,
                                        ck.getColumn(0).getInt64()));
            auto& a = d.stmt("INSERT INTO company_domains (domain, company_id) VALUES (?, ?)");
            a.bind(1, dom);
            a.bind(2, c.id);
            a.exec();
        }
        return {};
    });
}

Result<void> Store::upsert_contact(const ContactRecord& c, std::int64_t now) {
    return guard(fmt::format("storing contact {}", c.id), [&]() -> Result<void> {
        auto& d = db_.impl();
        if (c.company) {
            auto& ck = d.stmt("SELECT 1 FROM companies WHERE id = ?");
            ck.bind(1, *c.company);
            if (!ck.executeStep())
                return fail("crm.no_company", fmt::format("company_id {} does not exist", *c.company));
        }
        auto& s = d.stmt("INSERT INTO contacts (id, name, company_id, created_at, updated_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (id) DO UPDATE SET "
                         "name = excluded.name, company_id = excluded.company_id, "
                         "updated_at = excluded.updated_at");
        s.bind(1, c.id);
        s.bind(2, c.name);
        bind_opt(s, 3, c.company);
        s.bind(4, now);
        s.exec();
        auto& del = d.stmt("DELETE FROM contact_addresses WHERE contact_id = ?");
        del.bind(1, c.id);
        del.exec();
        for (const auto& [canon, written] : c.emails) {
            auto& ck = d.stmt("SELECT contact_id FROM contact_addresses WHERE address = ?");
            ck.bind(1, canon);
            if (ck.executeStep())
                return fail("crm.address_taken",
                            fmt::format("address {} already belongs to contact {}", written,
                                        ck.getColumn(0).getInt64()));
            auto& a = d.stmt(
                "INSERT INTO contact_addresses (address, contact_id, written) VALUES (?, ?, ?)");
            a.bind(1, canon);
            a.bind(2, c.id);
            a.bind(3, written);
            a.exec();
        }
        return {};
    });
}

Result<void> Store::upsert_deal(const DealInput& x, std::int64_t now) {
    return guard(fmt::format("storing deal {}", x.id), [&]() -> Result<void> {
        auto& d = db_.impl();
        auto exists = [&](const char* sql, std::int64_t id) {
            auto& q = d.stmt(sql);
            q.bind(1, id);
            return q.executeStep();
        };
        if (x.company && !exists("SELECT 1 FROM companies WHERE id = ?", *x.company))
            return fail("crm.no_company", fmt::format("company_id {} does not exist", *x.company));
        if (x.owner && !exists("SELECT 1 FROM users WHERE id = ?", *x.owner))
            return fail("crm.no_user", fmt::format("owner_id {} does not exist", *x.owner));
        for (auto c : x.contacts)
            if (!exists("SELECT 1 FROM contacts WHERE id = ?", c))
                return fail("crm.no_contact", fmt::format("contact id {} does not exist", c));
        auto& s = d.stmt(
            "INSERT INTO deals (id, name, company_id, owner_id, stage, status, value, currency, "
            "created_at, updated_at, shared) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, company_id = excluded.company_id,"
            " owner_id = excluded.owner_id, stage = excluded.stage, status = excluded.status, "
            "value = excluded.value, currency = excluded.currency, updated_at = excluded.updated_at,"
            " shared = excluded.shared");
        s.bind(1, x.id);
        s.bind(2, x.name);
        bind_opt(s, 3, x.company);
        bind_opt(s, 4, x.owner);
        s.bind(5, x.stage);
        s.bind(6, x.status);
        s.bind(7, x.value);
        s.bind(8, x.currency);
        s.bind(9, now);
        s.bind(10, x.shared ? 1 : 0);
        s.exec();
        auto& del = d.stmt("DELETE FROM deal_contacts WHERE deal_id = ?");
        del.bind(1, x.id);
        del.exec();
        for (auto c : x.contacts) {
            auto& a = d.stmt("INSERT OR IGNORE INTO deal_contacts (deal_id, contact_id) VALUES (?, ?)");
            a.bind(1, x.id);
            a.bind(2, c);
            a.exec();
        }
        return {};
    });
}

} // namespace crm::store
