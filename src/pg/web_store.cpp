// The HTTP API's queries on PostgreSQL: logins and the viewer-filtered thread view (see
// web_store.hpp). Each query is store::WebStore's (src/store/web_store.cpp, queries.cpp,
// rows.hpp) in PostgreSQL's dialect; where the two differ, a comment says why.
#include "crm/pg/web_store.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "crm/blob/codec.hpp"
#include "crm/core/reason_text.hpp"
#include "crm/core/stored_json.hpp"
#include "web_support.hpp"

namespace crm::pg {

using detail::bigint_array;
using detail::can_match;
using detail::Cells;
using detail::in_transaction;
using detail::run;

namespace {

// The viewer is always $1 (admin) and $2 (the user) of a filtered statement; its own parameters
// follow from $3.
//
// A deal `d` the viewer may see.
constexpr const char* kDealVisible = "($1::boolean OR d.owner_id = $2::bigint OR d.shared = 1)";

// A message `m` the viewer may see: it came in through a mailbox the viewer owns now (an IMAP
// location follows its account's current owner; an imported file the owner given at import), or
// its thread is linked to a deal the viewer owns or that is shared.
constexpr const char* kMessageVisible =
    "($1::boolean OR EXISTS (SELECT 1 FROM locations vl LEFT JOIN accounts va ON va.id = "
    "vl.account_id WHERE vl.message_id = m.id AND CASE WHEN vl.account_id IS NULL THEN "
    "vl.owner_id ELSE va.owner_id END = $2::bigint) "
    "OR EXISTS (SELECT 1 FROM thread_deals vtd JOIN deals vd ON vd.id = vtd.deal_id "
    "WHERE vtd.thread_id = m.thread_id AND (vd.owner_id = $2::bigint OR vd.shared = 1)))";

// A thread `t` the viewer may see: linked to a visible deal, or holding a message the viewer may
// see (through their own mailbox). The thread then shows only the visible messages.
constexpr const char* kThreadVisible =
    "($1::boolean OR EXISTS (SELECT 1 FROM thread_deals vtd JOIN deals vd ON vd.id = "
    "vtd.deal_id WHERE vtd.thread_id = t.id AND (vd.owner_id = $2::bigint OR vd.shared = 1)) "
    "OR EXISTS (SELECT 1 FROM messages vm JOIN locations vl ON vl.message_id = vm.id "
    "LEFT JOIN accounts va ON va.id = vl.account_id WHERE vm.thread_id = t.id AND "
    "CASE WHEN vl.account_id IS NULL THEN vl.owner_id ELSE va.owner_id END = $2::bigint))";

// Counts come from deal_stats (kept by triggers): one row per deal, no aggregation. The unread
// count is the viewer's own ($2; schema/postgresql/0009): their marks grouped by deal once.
constexpr const char* kDealSelect =
    "WITH mine (deal_id, n) AS (SELECT utd.deal_id, count(*) FROM unread_marks uk JOIN messages "
    "um ON um.id = uk.message_id JOIN thread_deals utd ON utd.thread_id = um.thread_id WHERE "
    "uk.user_id = $2::bigint GROUP BY utd.deal_id) "
    "SELECT d.id, d.name, d.stage, d.status, d.shared, d.owner_id, coalesce(u.name, ''), "
    "d.company_id, coalesce(c.name, ''), coalesce(s.threads, 0), coalesce(s.messages, 0), "
    "CASE WHEN $2::bigint = 0 THEN coalesce(s.unread, 0) ELSE coalesce(mine.n, 0) END, "
    "s.last_date FROM deals d LEFT JOIN users u ON u.id = d.owner_id "
    "LEFT JOIN companies c ON c.id = d.company_id LEFT JOIN deal_stats s ON s.deal_id = d.id "
    "LEFT JOIN mine ON mine.deal_id = d.id ";

// Whether message `m` is unread for the viewer ($2): their own mark; without a user (the
// operator on the host), unread for anyone.
constexpr const char* kViewerUnread =
    "(CASE WHEN $2::bigint = 0 THEN m.unread ELSE (EXISTS (SELECT 1 FROM unread_marks uk WHERE "
    "uk.user_id = $2::bigint AND uk.message_id = m.id))::int END)";

constexpr const char* kThreadSelect =
    "SELECT t.id, t.subject, t.message_count, t.unread_count, t.first_date, t.last_date, "
    "td.deal_id, coalesce(dl.name, ''), coalesce(td.manual, 0), "
    "coalesce(td.reason, u.reason, ''), coalesce(u.suggestions, '') "
    "FROM threads t LEFT JOIN thread_deals td ON td.thread_id = t.id "
    "LEFT JOIN deals dl ON dl.id = td.deal_id LEFT JOIN unsorted u ON u.thread_id = t.id ";

// SQLite sorts NULL first ascending and last descending; PostgreSQL the other way round. Every
// ORDER BY on a nullable column says NULLS FIRST/LAST so the order is SQLite's.

std::string sql(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (auto p : parts)
        out += p;
    return out;
}

template <class T> Result<T> fail_with(const Error& e) {
    return std::unexpected(e);
}

WebUser read_user(Cells& c, int first) {
    WebUser u;
    u.id = c.get<std::int64_t>(first);
    u.name = c.get<std::string>(first + 1);
    u.email = c.get<std::string>(first + 2);
    // The schema admits only these two (CHECK on users.role).
    u.role = parse_role(c.get<std::string>(first + 3)).value_or(Role::Salesperson);
    return u;
}

WebDeal read_deal(Cells& c) {
    WebDeal d;
    d.id = c.get<std::int64_t>(0);
    d.name = c.get<std::string>(1);
    d.stage = c.get<std::string>(2);
    d.status = c.get<std::string>(3);
    d.shared = c.flag(4);
    d.owner = c.get<std::optional<std::int64_t>>(5);
    d.owner_name = c.get<std::string>(6);
    d.company = c.get<std::optional<std::int64_t>>(7);
    d.company_name = c.get<std::string>(8);
    d.threads = c.get<std::int64_t>(9);
    d.messages = c.get<std::int64_t>(10);
    d.unread = c.get<std::int64_t>(11);
    d.last_date = c.get<std::optional<std::int64_t>>(12);
    return d;
}

ThreadSummary read_thread(Cells& c) {
    ThreadSummary t;
    t.id = c.get<std::int64_t>(0);
    t.subject = c.get<std::string>(1);
    t.message_count = c.get<std::int64_t>(2);
    t.unread_count = c.get<std::int64_t>(3);
    t.first_date = c.get<std::optional<std::int64_t>>(4);
    t.last_date = c.get<std::optional<std::int64_t>>(5);
    t.deal = c.get<std::optional<std::int64_t>>(6);
    t.deal_name = c.get<std::string>(7);
    t.manual = c.flag(8);
    t.reason = c.get<std::string>(9);
    t.suggestions = stored::parse_ids(c.get<std::string>(10));
    return t;
}

// A user and two numbers about their login (a session's expiry and last use, a token's id and
// last use): the one row of `sql` with the key as $1, or nullopt.
struct UserRow {
    WebUser user;
    std::int64_t a = 0, b = 0;
};
Result<std::optional<UserRow>> user_row(Connection& c, std::string_view what, std::string_view sql,
                                        const std::string& key) {
    auto r = run(c, what, sql, key);
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells cells(*r, 0);
    UserRow row{read_user(cells, 0), cells.get<std::int64_t>(4), cells.get<std::int64_t>(5)};
    if (cells.error())
        return std::unexpected(*cells.error());
    return row;
}

// A write whose failure must not fail the request (sliding a session's last_seen_at): ignored,
// and inside the caller's transaction fenced by a savepoint, since a failed statement would
// otherwise abort the whole transaction (SQLite only drops the statement).
template <class... A> void best_effort(Connection& c, std::string_view sql_text, A&&... args) {
    if (!in_transaction(c)) {
        (void)c.exec(sql_text, std::forward<A>(args)...);
        return;
    }
    auto sp = Savepoint::begin(c);
    if (!sp)
        return;
    if (c.exec(sql_text, std::forward<A>(args)...))
        (void)sp->release(); // else ~Savepoint rolls back to it
}

} // namespace

// ---- Logins ------------------------------------------------------------------------------------

Result<std::optional<Login>> PgWebStore::login_by_email(const std::string& email) {
    if (!can_match(email))
        return std::nullopt;
    // lower() here folds more than ASCII (the database's locale), SQLite's only ASCII; the
    // expression index users_email_lower is on lower(email), so that is what is compared.
    auto r = run(c_, "looking up a login",
                 "SELECT u.id, u.name, u.email, u.role, coalesce(c.password_hash, '') FROM users u "
                 "LEFT JOIN user_credentials c ON c.user_id = u.id WHERE lower(u.email) = "
                 "lower($1::text) OR u.id = (SELECT user_id FROM user_addresses WHERE address = "
                 "lower($1::text)) ORDER BY (lower(u.email) = lower($1::text)) DESC, u.id LIMIT 1",
                 email);
    if (!r)
        return fail_with<std::optional<Login>>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells c(*r, 0);
    Login l{read_user(c, 0), c.get<std::string>(4)};
    if (c.error())
        return fail_with<std::optional<Login>>(*c.error());
    return l;
}

Result<std::optional<WebUser>> PgWebStore::user(UserId id) {
    auto r = run(c_, "reading a user", "SELECT id, name, email, role FROM users WHERE id = $1", id);
    if (!r)
        return fail_with<std::optional<WebUser>>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells c(*r, 0);
    auto u = read_user(c, 0);
    if (c.error())
        return fail_with<std::optional<WebUser>>(*c.error());
    return u;
}

Result<void> PgWebStore::set_password_hash(UserId user, const std::string& hash, std::int64_t now) {
    constexpr std::string_view what = "setting a password";
    if (auto ok = detail::text_ok(hash, "the password hash", what); !ok)
        return ok;
    auto e = run(c_, what, "SELECT 1 FROM users WHERE id = $1", user);
    if (!e)
        return std::unexpected(e.error());
    if (e->rows() == 0)
        return fail("user.not_found", fmt::format("user {} does not exist", user));
    auto r = run(c_, what,
                 "INSERT INTO user_credentials (user_id, password_hash, updated_at) VALUES ($1, "
                 "$2, $3) ON CONFLICT (user_id) DO UPDATE SET password_hash = "
                 "excluded.password_hash, updated_at = excluded.updated_at",
                 user, hash, now);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<void> PgWebStore::create_session(const std::string& token_hash, UserId user,
                                        std::int64_t now, std::int64_t expires_at,
                                        const std::string& client_address,
                                        const std::string& user_agent) {
    constexpr std::string_view what = "creating a session";
    if (auto ok = detail::text_ok(token_hash, "the session token hash", what); !ok)
        return ok;
    auto gc = run(c_, what, "DELETE FROM sessions WHERE expires_at <= $1", now);
    if (!gc)
        return std::unexpected(gc.error());
    // SQLite keeps the first 256 bytes; so does this, then repairs what the cut or the client
    // left that text cannot hold.
    auto r = run(c_, what,
                 "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, "
                 "expires_at, client_address, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                 token_hash, user, now, now, expires_at, detail::repair_text(client_address),
                 detail::repair_text(user_agent.substr(0, 256)));
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<std::optional<WebUser>> PgWebStore::session_user(const std::string& token_hash,
                                                        std::int64_t now) {
    constexpr std::string_view what = "checking a session";
    if (!can_match(token_hash))
        return std::nullopt;
    auto row = user_row(c_, what,
                        "SELECT u.id, u.name, u.email, u.role, s.expires_at, s.last_seen_at FROM "
                        "sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
                        token_hash);
    if (!row)
        return fail_with<std::optional<WebUser>>(row.error());
    if (!*row)
        return std::nullopt;
    auto [u, expires, seen] = std::move(**row);
    if (expires <= now) {
        auto del = run(c_, what, "DELETE FROM sessions WHERE token_hash = $1", token_hash);
        if (!del)
            return fail_with<std::optional<WebUser>>(del.error());
        return std::nullopt;
    }
    // Touch at most once a minute: reads stay reads. Best effort: a busy database must not turn
    // a valid session into an error.
    if (now - seen >= 60)
        best_effort(c_, "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", now,
                    token_hash);
    return u;
}

Result<void> PgWebStore::delete_session(const std::string& token_hash) {
    if (!can_match(token_hash))
        return {};
    auto r = run(c_, "ending a session", "DELETE FROM sessions WHERE token_hash = $1", token_hash);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<std::int64_t> PgWebStore::delete_user_sessions(UserId user) {
    auto r = run(c_, "ending sessions", "DELETE FROM sessions WHERE user_id = $1", user);
    if (!r)
        return std::unexpected(r.error());
    return r->affected();
}

Result<std::int64_t> PgWebStore::create_token(UserId user, const std::string& name,
                                              const std::string& token_hash, std::int64_t now) {
    constexpr std::string_view what = "creating an API token";
    if (auto ok = detail::text_ok(name, "the token's name", what); !ok)
        return std::unexpected(ok.error());
    if (auto ok = detail::text_ok(token_hash, "the token hash", what); !ok)
        return std::unexpected(ok.error());
    auto e = run(c_, what, "SELECT 1 FROM users WHERE id = $1", user);
    if (!e)
        return std::unexpected(e.error());
    if (e->rows() == 0)
        return fail("user.not_found", fmt::format("user {} does not exist", user));
    auto r = run(c_, what,
                 "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, "
                 "$3, $4) RETURNING id",
                 user, name, token_hash, now);
    if (!r)
        return std::unexpected(r.error());
    return r->get<std::int64_t>(0, 0);
}

Result<std::optional<WebUser>> PgWebStore::token_user(const std::string& token_hash,
                                                      std::int64_t now) {
    if (!can_match(token_hash))
        return std::nullopt;
    auto row = user_row(c_, "checking an API token",
                        "SELECT u.id, u.name, u.email, u.role, t.id, coalesce(t.last_used_at, 0) "
                        "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = "
                        "$1 AND t.revoked_at IS NULL",
                        token_hash);
    if (!row)
        return fail_with<std::optional<WebUser>>(row.error());
    if (!*row)
        return std::nullopt;
    auto [u, id, used] = std::move(**row);
    if (now - used >= 60) // best effort, as for sessions
        best_effort(c_, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", now, id);
    return u;
}

Result<bool> PgWebStore::revoke_token(std::int64_t id, std::int64_t now) {
    auto r =
        run(c_, "revoking an API token",
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", now, id);
    if (!r)
        return std::unexpected(r.error());
    return r->affected() > 0;
}

Result<std::vector<TokenRow>> PgWebStore::tokens() {
    auto r = run(c_, "listing API tokens",
                 "SELECT id, user_id, name, created_at, last_used_at, revoked_at FROM api_tokens "
                 "ORDER BY id");
    if (!r)
        return std::unexpected(r.error());
    std::vector<TokenRow> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back({c.get<std::int64_t>(0), c.get<std::int64_t>(1), c.get<std::string>(2),
                       c.get<std::int64_t>(3), c.get<std::optional<std::int64_t>>(4),
                       c.get<std::optional<std::int64_t>>(5)});
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

// ---- the thread view ---------------------------------------------------------------------------

Result<std::set<DealId>> PgWebStore::visible_deals(const Viewer& v,
                                                   const std::vector<DealId>& deals) {
    std::set<DealId> out;
    if (deals.empty())
        return out;
    if (v.admin)
        return std::set<DealId>(deals.begin(), deals.end());
    auto r =
        run(c_, "checking deals",
            sql({"SELECT d.id FROM deals d WHERE d.id = ANY($3::bigint[]) AND ", kDealVisible}),
            v.admin, v.user, bigint_array(deals));
    if (!r)
        return std::unexpected(r.error());
    for (int i = 0; i < r->rows(); ++i) {
        auto id = r->get<std::int64_t>(i, 0);
        if (!id)
            return std::unexpected(id.error());
        out.insert(*id);
    }
    return out;
}

// "deals 1001, 1002" in a reason: the ids the viewer may not see become "another deal", so a
// reason never names someone else's private deal. `known` caches what was asked already.
Result<std::string> PgWebStore::redact_reason(const Viewer& v, const std::string& reason,
                                              std::map<DealId, bool>& known) {
    if (v.admin)
        return reason;
    return redact_deal_ids(reason, [&](DealId id) -> Result<bool> {
        if (auto it = known.find(id); it != known.end())
            return !it->second;
        auto seen = visible_deals(v, {id});
        if (!seen)
            return std::unexpected(seen.error());
        known[id] = seen->contains(id);
        return !known[id];
    });
}

namespace {

void add_unique(std::vector<std::string>& list, std::string value) {
    if (std::find(list.begin(), list.end(), value) == list.end())
        list.push_back(std::move(value));
}

// Thread id -> its summary, for spreading a batch's rows over the threads.
std::map<ThreadId, ThreadSummary*> by_id(const std::vector<ThreadSummary*>& threads) {
    std::map<ThreadId, ThreadSummary*> out;
    for (auto* t : threads)
        out.emplace(t->id, t);
    return out;
}

std::vector<std::int64_t> ids_of_threads(const std::vector<ThreadSummary*>& threads) {
    std::vector<std::int64_t> out;
    for (const auto* t : threads)
        out.push_back(t->id);
    return out;
}

} // namespace

// The senders of whole threads (distinct from-addresses, first seen first), in one statement
// for all of them (SQLite asks once per thread; here a round trip each would dominate).
Result<void> PgWebStore::add_participants(const std::vector<ThreadSummary*>& threads) {
    if (threads.empty())
        return {};
    // p.position orders the senders of one message as SQLite's primary-key walk does.
    auto r = run(c_, "listing threads' senders",
                 "SELECT m.thread_id, p.address FROM participants p JOIN messages m ON m.id = "
                 "p.message_id WHERE m.thread_id = ANY($1::bigint[]) AND p.role = 'from' AND "
                 "p.address != '' ORDER BY m.thread_id, coalesce(m.date, m.received_at), m.id, "
                 "p.position",
                 bigint_array(ids_of_threads(threads)));
    if (!r)
        return std::unexpected(r.error());
    auto index = by_id(threads);
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        auto thread = c.get<std::int64_t>(0);
        auto address = c.get<std::string>(1);
        if (c.error())
            return std::unexpected(*c.error());
        if (auto it = index.find(thread); it != index.end())
            add_unique(it->second->participants, std::move(address));
    }
    return {};
}

// Threads shown through the viewer's own messages only: the subject, dates, counters and
// senders are those of the viewer's messages. Two statements for all of them.
Result<void> PgWebStore::project_messages(const Viewer& v,
                                          const std::vector<ThreadSummary*>& threads) {
    if (threads.empty())
        return {};
    constexpr std::string_view what = "reading threads as their viewer sees them";
    const std::string ids = bigint_array(ids_of_threads(threads));
    auto index = by_id(threads);
    for (auto* t : threads) { // SQLite's aggregate answers these for a thread without rows
        t->message_count = 0;
        t->unread_count = 0;
        t->first_date.reset();
        t->last_date.reset();
        t->participants.clear();
    }
    auto q = run(c_, what,
                 sql({"SELECT m.thread_id, count(*), coalesce(sum(", kViewerUnread,
                      "), 0), "
                      "min(coalesce(m.date, m.received_at)), max(coalesce(m.date, "
                      "m.received_at)) FROM messages m WHERE m.thread_id = ANY($3::bigint[]) AND ",
                      kMessageVisible, " GROUP BY m.thread_id"}),
                 v.admin, v.user, ids);
    if (!q)
        return std::unexpected(q.error());
    for (int i = 0; i < q->rows(); ++i) {
        Cells c(*q, i);
        auto it = index.find(c.get<std::int64_t>(0));
        const auto count = c.get<std::int64_t>(1);
        const auto unread = c.get<std::int64_t>(2);
        const auto first = c.get<std::optional<std::int64_t>>(3);
        const auto last = c.get<std::optional<std::int64_t>>(4);
        if (c.error())
            return std::unexpected(*c.error());
        if (it == index.end())
            continue;
        it->second->message_count = count;
        it->second->unread_count = unread;
        it->second->first_date = first;
        it->second->last_date = last;
    }
    auto p =
        run(c_, what,
            sql({"SELECT m.thread_id, m.subject, (SELECT p.address FROM participants p "
                 "WHERE p.message_id = m.id AND p.role = 'from' AND p.address != '' ORDER BY "
                 "p.position LIMIT 1) FROM messages m WHERE m.thread_id = ANY($3::bigint[]) "
                 "AND ",
                 kMessageVisible, " ORDER BY m.thread_id, coalesce(m.date, m.received_at), m.id"}),
            v.admin, v.user, ids);
    if (!p)
        return std::unexpected(p.error());
    std::set<ThreadId> subject_set;
    for (int i = 0; i < p->rows(); ++i) {
        Cells c(*p, i);
        auto thread = c.get<std::int64_t>(0);
        auto subject = c.get<std::string>(1);
        auto from = c.get<std::optional<std::string>>(2);
        if (c.error())
            return std::unexpected(*c.error());
        auto it = index.find(thread);
        if (it == index.end())
            continue;
        if (subject_set.insert(thread).second) // the earliest visible message's
            it->second->subject = std::move(subject);
        if (from)
            add_unique(it->second->participants, std::move(*from));
    }
    return {};
}

// The threads as the viewer may see them. A thread linked to a deal the viewer sees shows all
// its messages; otherwise only the visible ones count (project_messages), a deal the viewer may
// not see is not named, and neither are such deals in the reason. SQLite's store does this
// thread by thread; here each step is one statement for the whole list.
Result<std::vector<ThreadSummary>> PgWebStore::read_threads(const ResultSet& rs, const Viewer& v) {
    std::vector<ThreadSummary> out;
    for (int i = 0; i < rs.rows(); ++i) {
        Cells c(rs, i);
        out.push_back(read_thread(c));
        if (c.error())
            return std::unexpected(*c.error());
    }
    std::vector<ThreadSummary*> whole, own;
    if (v.admin) {
        for (auto& t : out)
            whole.push_back(&t);
        if (auto p = add_participants(whole); !p)
            return std::unexpected(p.error());
        if (auto p = own_unread(v, whole); !p)
            return std::unexpected(p.error());
        return out;
    }
    std::vector<DealId> linked;
    for (const auto& t : out)
        if (t.deal)
            linked.push_back(*t.deal);
    auto seen = visible_deals(v, linked);
    if (!seen)
        return std::unexpected(seen.error());
    std::map<DealId, bool> known;
    for (auto d : linked)
        known[d] = seen->contains(d);
    for (auto& t : out) {
        if (t.deal && !known[*t.deal]) {
            t.deal.reset();
            t.deal_name.clear();
            t.manual = false;
            t.reason = "linked to another salesperson's deal";
            own.push_back(&t);
            continue;
        }
        auto reason = redact_reason(v, t.reason, known);
        if (!reason)
            return std::unexpected(reason.error());
        t.reason = std::move(*reason);
        (t.deal ? whole : own).push_back(&t);
    }
    if (auto p = add_participants(whole); !p)
        return std::unexpected(p.error());
    if (auto p = own_unread(v, whole); !p)
        return std::unexpected(p.error());
    if (auto p = project_messages(v, own); !p)
        return std::unexpected(p.error());
    return out;
}

// The viewer's own unread messages of threads they see whole (schema/postgresql/0009), in one
// statement; without a user, the threads' counters (unread for anyone).
Result<void> PgWebStore::own_unread(const Viewer& v, const std::vector<ThreadSummary*>& threads) {
    if (v.user == 0 || threads.empty())
        return {};
    auto r = run(c_, "counting the viewer's unread messages",
                 "SELECT m.thread_id, count(*) FROM messages m JOIN unread_marks uk ON "
                 "uk.message_id = m.id AND uk.user_id = $1 WHERE m.thread_id = ANY($2::bigint[]) "
                 "GROUP BY m.thread_id",
                 v.user, bigint_array(ids_of_threads(threads)));
    if (!r)
        return std::unexpected(r.error());
    auto index = by_id(threads);
    for (auto* t : threads)
        t->unread_count = 0;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        auto thread = c.get<std::int64_t>(0);
        auto n = c.get<std::int64_t>(1);
        if (c.error())
            return std::unexpected(*c.error());
        if (auto it = index.find(thread); it != index.end())
            it->second->unread_count = n;
    }
    return {};
}

Result<std::vector<WebDeal>> PgWebStore::deals(const Viewer& v) {
    auto r = run(c_, "listing deals",
                 sql({kDealSelect, "WHERE ", kDealVisible,
                      " ORDER BY (d.status = 'open') DESC, s.last_date DESC NULLS LAST, d.id"}),
                 v.admin, v.user);
    if (!r)
        return std::unexpected(r.error());
    std::vector<WebDeal> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back(read_deal(c));
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<DealPage> PgWebStore::deal_page(const Viewer& v, const std::optional<DealKey>& after,
                                       std::size_t limit) {
    constexpr std::string_view kWhat = "listing deals";
    DealPage page;
    auto n =
        run(c_, kWhat, sql({"SELECT count(*) FROM deals d WHERE ", kDealVisible}), v.admin, v.user);
    if (!n)
        return std::unexpected(n.error());
    {
        Cells c(*n, 0);
        page.total = c.get<std::int64_t>(0);
        if (c.error())
            return std::unexpected(*c.error());
    }
    // deals()'s order as three keys: open first, the last date newest first (none: the
    // smallest), the id ascending; $3 whether there is an `after`, $4..$6 its keys.
    constexpr const char* kKeyset =
        " AND (NOT $3::boolean OR (CASE WHEN d.status = 'open' THEN 1 ELSE 0 END) < $4::integer "
        "OR ((CASE WHEN d.status = 'open' THEN 1 ELSE 0 END) = $4::integer AND "
        "(coalesce(s.last_date, -9223372036854775808) < $5::bigint OR "
        "(coalesce(s.last_date, -9223372036854775808) = $5::bigint AND d.id > $6::bigint))))";
    auto r = run(c_, kWhat,
                 sql({kDealSelect, "WHERE ", kDealVisible, kKeyset,
                      " ORDER BY (d.status = 'open') DESC, s.last_date DESC NULLS LAST, d.id "
                      "LIMIT $7::bigint"}),
                 v.admin, v.user, after.has_value(), after && after->open ? 1 : 0,
                 after ? after->last_date.value_or(std::numeric_limits<std::int64_t>::min())
                       : std::int64_t{0},
                 after ? after->id : DealId{0}, static_cast<std::int64_t>(limit) + 1);
    if (!r)
        return std::unexpected(r.error());
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        page.deals.push_back(read_deal(c));
        if (c.error())
            return std::unexpected(*c.error());
    }
    if (page.deals.size() > limit) {
        page.deals.resize(limit);
        const auto& last = page.deals.back();
        page.next = DealKey{last.status == "open", last.last_date, last.id};
    }
    return page;
}

Result<bool> PgWebStore::deal_visible(const Viewer& v, DealId id) {
    auto r =
        run(c_, "checking a deal",
            sql({"SELECT 1 FROM deals d WHERE d.id = $3 AND ", kDealVisible}), v.admin, v.user, id);
    if (!r)
        return std::unexpected(r.error());
    return r->rows() > 0;
}

Result<std::optional<WebDeal>> PgWebStore::deal(const Viewer& v, DealId id) {
    auto r = run(c_, "reading a deal", sql({kDealSelect, "WHERE d.id = $3 AND ", kDealVisible}),
                 v.admin, v.user, id);
    if (!r)
        return fail_with<std::optional<WebDeal>>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells c(*r, 0);
    auto d = read_deal(c);
    if (c.error())
        return fail_with<std::optional<WebDeal>>(*c.error());
    return d;
}

Result<ThreadPage> PgWebStore::read_page(const ResultSet& r, const Viewer& v, std::size_t limit,
                                         ThreadPage page) {
    if (static_cast<std::size_t>(r.rows()) > limit) {
        Cells c(r, static_cast<int>(limit) - 1);
        const ThreadSummary last = read_thread(c); // its own date, before projection
        if (c.error())
            return std::unexpected(*c.error());
        page.next = ThreadKey{last.last_date, last.id};
    }
    auto threads = read_threads(r, v);
    if (!threads)
        return std::unexpected(threads.error());
    page.threads = std::move(*threads);
    if (page.threads.size() > limit)
        page.threads.resize(limit);
    return page;
}

// A page of the threads `where` selects ($3 is `deal`), newest first, after `after`; with the
// count of the whole list. The keyset's parameters: $4 whether there is an `after`, $5 its date
// (NULL for a thread without one), $6 its id; $7 the rows to read (one more than the page: is
// there a next one?).
Result<ThreadPage> PgWebStore::thread_list_page(const Viewer& v, std::string_view what,
                                                std::string_view where, DealId deal,
                                                const std::optional<ThreadKey>& after,
                                                std::size_t limit) {
    ThreadPage page;
    auto n = run(c_, what,
                 sql({"SELECT count(*) FROM threads t LEFT JOIN thread_deals td ON td.thread_id = "
                      "t.id LEFT JOIN unsorted u ON u.thread_id = t.id WHERE ",
                      where, " AND ", kThreadVisible}),
                 v.admin, v.user, deal);
    if (!n)
        return std::unexpected(n.error());
    if (n->rows() > 0) {
        Cells c(*n, 0);
        page.total = c.get<std::int64_t>(0);
        if (c.error())
            return std::unexpected(*c.error());
    }
    constexpr const char* kAfter =
        " AND (NOT $4::boolean OR CASE WHEN $5::bigint IS NULL THEN t.last_date IS NULL AND t.id "
        "< $6::bigint ELSE t.last_date < $5::bigint OR (t.last_date = $5::bigint AND t.id < "
        "$6::bigint) OR t.last_date IS NULL END)";
    auto r = run(c_, what,
                 sql({kThreadSelect, "WHERE ", where, kAfter, " AND ", kThreadVisible,
                      " ORDER BY t.last_date DESC NULLS LAST, t.id DESC LIMIT $7::bigint"}),
                 v.admin, v.user, deal, after.has_value(),
                 after ? after->last_date : std::optional<std::int64_t>(),
                 after ? after->id : ThreadId{0}, static_cast<std::int64_t>(limit) + 1);
    if (!r)
        return std::unexpected(r.error());
    return read_page(*r, v, limit, std::move(page));
}

Result<ThreadPage> PgWebStore::deal_threads(const Viewer& v, DealId deal,
                                            const std::optional<ThreadKey>& after,
                                            std::size_t limit) {
    constexpr std::string_view kWhat = "listing a deal's threads";
    auto seen = run(c_, kWhat,
                    sql({"SELECT coalesce(s.threads, 0) FROM deals d LEFT JOIN "
                         "deal_stats s ON s.deal_id = d.id WHERE d.id = $3 AND ",
                         kDealVisible}),
                    v.admin, v.user, deal);
    if (!seen)
        return std::unexpected(seen.error());
    if (seen->rows() == 0) // someone else's private deal: only the threads their mailboxes hold
        return thread_list_page(v, kWhat, "td.deal_id = $3::bigint", deal, after, limit);
    // A deal the viewer may see, so all of its threads: one page from the index on (deal_id,
    // sort_date, thread_id) from the cursor on (0010/0011), with the count from deal_stats. The
    // order and the cursors are thread_list_page's: sort_date is last_date, none the smallest.
    ThreadPage page;
    {
        Cells c(*seen, 0);
        page.total = c.get<std::int64_t>(0);
        if (c.error())
            return std::unexpected(*c.error());
    }
    // Two statements, with and without the cursor: an `OR` on a parameter would keep a
    // prepared statement's generic plan from starting the index scan at the cursor.
    constexpr const char* kOrder =
        " ORDER BY td.sort_date DESC, td.thread_id DESC LIMIT $2::bigint";
    const auto lim = static_cast<std::int64_t>(limit) + 1;
    auto r =
        after ? run(c_, kWhat,
                    sql({kThreadSelect,
                         "WHERE td.deal_id = $1::bigint AND (td.sort_date, td.thread_id) < "
                         "($3::bigint, $4::bigint)",
                         kOrder}),
                    deal, lim, after->last_date.value_or(std::numeric_limits<std::int64_t>::min()),
                    after->id)
              : run(c_, kWhat, sql({kThreadSelect, "WHERE td.deal_id = $1::bigint", kOrder}), deal,
                    lim);
    if (!r)
        return std::unexpected(r.error());
    return read_page(*r, v, limit, std::move(page));
}

Result<ThreadPage> PgWebStore::unsorted(const Viewer& v, const std::optional<ThreadKey>& after,
                                        std::size_t limit) {
    return thread_list_page(v, "listing unsorted threads",
                            "u.thread_id IS NOT NULL AND $3::bigint = 0", 0, after, limit);
}

Result<std::vector<ThreadSummary>> PgWebStore::list_threads(ThreadFilter f, DealId deal) {
    // The web page's thread lists as an admin sees them, without their 500-row page.
    constexpr Viewer kOperator{.user = 0, .admin = true};
    constexpr const char* kOrder = " ORDER BY t.last_date DESC NULLS LAST, t.id DESC";
    Result<ResultSet> r =
        f == ThreadFilter::Deal
            ? run(c_, "listing threads",
                  sql({kThreadSelect, "WHERE td.deal_id = $1::bigint", kOrder}), deal)
        : f == ThreadFilter::Unsorted
            ? run(c_, "listing threads",
                  sql({kThreadSelect, "WHERE u.thread_id IS NOT NULL", kOrder}))
            : run(c_, "listing threads", sql({kThreadSelect, kOrder}));
    if (!r)
        return std::unexpected(r.error());
    return read_threads(*r, kOperator);
}

Result<bool> PgWebStore::thread_visible(const Viewer& v, ThreadId thread) {
    auto r = run(c_, "checking a thread",
                 sql({"SELECT 1 FROM threads t WHERE t.id = $3 AND ", kThreadVisible}), v.admin,
                 v.user, thread);
    if (!r)
        return std::unexpected(r.error());
    return r->rows() > 0;
}

Result<std::optional<ThreadSummary>> PgWebStore::thread(const Viewer& v, ThreadId thread) {
    auto r =
        run(c_, "reading a thread", sql({kThreadSelect, "WHERE t.id = $3 AND ", kThreadVisible}),
            v.admin, v.user, thread);
    if (!r)
        return fail_with<std::optional<ThreadSummary>>(r.error());
    auto all = read_threads(*r, v);
    if (!all)
        return fail_with<std::optional<ThreadSummary>>(all.error());
    if (all->empty())
        return std::nullopt;
    return std::move(all->front());
}

namespace {

Result<std::vector<MessageRowId>> ids_of(const Result<ResultSet>& r) {
    if (!r)
        return std::unexpected(r.error());
    std::vector<MessageRowId> out;
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        auto id = r->get<std::int64_t>(i, 0);
        if (!id)
            return std::unexpected(id.error());
        out.push_back(*id);
    }
    return out;
}

} // namespace

Result<std::vector<MessageRowId>> PgWebStore::visible_messages(const Viewer& v, ThreadId thread) {
    return ids_of(run(c_, "listing visible messages",
                      sql({"SELECT m.id FROM messages m WHERE m.thread_id = $3 AND ",
                           kMessageVisible, " ORDER BY m.id"}),
                      v.admin, v.user, thread));
}

// The thread's message ids the viewer may see, in reading order: one query where SQLite filters
// the thread's ordered ids by the visible ones (the same list).
Result<std::vector<MessageRowId>> PgWebStore::visible_in_order(const Viewer& v, ThreadId thread) {
    return ids_of(run(c_, "listing a thread's messages",
                      sql({"SELECT m.id FROM messages m WHERE m.thread_id = $3 AND ",
                           kMessageVisible, " ORDER BY coalesce(m.date, m.received_at), m.id"}),
                      v.admin, v.user, thread));
}

Result<std::vector<MessageView>> PgWebStore::messages(std::span<const MessageRowId> ids) {
    constexpr std::string_view what = "reading messages";
    if (ids.empty())
        return std::vector<MessageView>{};
    // Three statements for the whole page (SQLite steps one prepared statement per message).
    const std::string array = bigint_array(ids);
    auto q = run(c_, what,
                 "SELECT id, message_id, date, from_name, from_address, subject, text_body, "
                 "html_body, unread, direction, unparsable, sort_reason, warnings_json, "
                 "suspicious, received_at, content_hash, auto_kind FROM messages WHERE id = "
                 "ANY($1::bigint[])",
                 array);
    if (!q)
        return std::unexpected(q.error());
    std::map<MessageRowId, MessageView> found;
    for (int i = 0; i < q->rows(); ++i) {
        Cells c(*q, i);
        MessageView m;
        m.id = c.get<std::int64_t>(0);
        m.message_id = c.get<std::string>(1);
        m.date = c.get<std::optional<std::int64_t>>(2);
        m.from_name = c.get<std::string>(3);
        m.from_address = c.get<std::string>(4);
        m.subject = c.get<std::string>(5);
        m.text_body = c.get<std::string>(6);
        m.html_body = c.get<std::string>(7);
        m.unread = c.flag(8);
        m.outgoing = c.get<std::string>(9) == "out";
        m.unparsable = c.flag(10);
        m.sort_reason = c.get<std::string>(11);
        m.warnings = stored::parse_string_array(c.get<std::string>(12));
        m.suspicious = c.get<std::string>(13);
        m.received_at = c.get<std::int64_t>(14);
        m.content_hash = c.get<std::string>(15);
        m.auto_kind = c.get<std::string>(16);
        if (c.error())
            return std::unexpected(*c.error());
        found.emplace(m.id, std::move(m));
    }
    auto p = run(c_, what,
                 "SELECT message_id, role, written, display_name FROM participants WHERE "
                 "message_id = ANY($1::bigint[]) AND role IN ('to', 'cc', 'reply-to') "
                 "ORDER BY message_id, role, position",
                 array);
    if (!p)
        return std::unexpected(p.error());
    for (int i = 0; i < p->rows(); ++i) {
        Cells c(*p, i);
        auto id = c.get<std::int64_t>(0);
        auto role = c.get<std::string>(1);
        auto w = c.get<std::string>(2);
        auto name = c.get<std::string>(3);
        if (c.error())
            return std::unexpected(*c.error());
        auto it = found.find(id);
        if (it == found.end())
            continue;
        auto& m = it->second;
        std::string shown = name.empty() ? w : name + " <" + w + ">";
        if (role == "reply-to")
            m.reply_to.push_back(std::move(w));
        else
            (role == "to" ? m.to : m.cc).push_back(std::move(shown));
    }
    auto a = run(c_, what,
                 "SELECT message_id, filename, content_type, sha256, size, is_inline, position, "
                 "content_id FROM attachments WHERE message_id = ANY($1::bigint[]) "
                 "ORDER BY message_id, position",
                 array);
    if (!a)
        return std::unexpected(a.error());
    for (int i = 0; i < a->rows(); ++i) {
        Cells c(*a, i);
        auto id = c.get<std::int64_t>(0);
        MessageView::Att att{c.get<std::string>(1),
                             c.get<std::string>(2),
                             c.get<std::string>(3),
                             c.get<std::int64_t>(4),
                             c.flag(5),
                             static_cast<int>(c.get<std::int64_t>(6)),
                             c.get<std::string>(7)};
        if (c.error())
            return std::unexpected(*c.error());
        if (auto it = found.find(id); it != found.end())
            it->second.attachments.push_back(std::move(att));
    }
    std::vector<MessageView> out;
    out.reserve(ids.size());
    for (auto id : ids)
        if (auto it = found.find(id); it != found.end()) // else deleted meanwhile
            out.push_back(it->second);
    return out;
}

Result<void> PgWebStore::fill_viewer_state(const Viewer& v, std::vector<MessageView>& page) {
    if (page.empty())
        return {};
    std::vector<std::int64_t> ids;
    for (const auto& m : page)
        ids.push_back(m.id);
    // Labels are a salesperson's own filing: only those of the viewer's mailboxes.
    auto r = run(c_, "reading Gmail labels",
                 "SELECT l.message_id, l.labels FROM locations l LEFT JOIN accounts a ON a.id = "
                 "l.account_id WHERE l.message_id = ANY($3::bigint[]) AND l.labels <> '[]' AND "
                 "($1::boolean OR CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id "
                 "END = $2::bigint)",
                 v.admin, v.user, bigint_array(ids));
    if (!r)
        return std::unexpected(r.error());
    std::map<MessageRowId, MessageView*> by_id;
    for (auto& m : page)
        by_id[m.id] = &m;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        auto id = c.get<std::int64_t>(0);
        auto labels = c.get<std::string>(1);
        if (c.error())
            return std::unexpected(*c.error());
        if (auto it = by_id.find(id); it != by_id.end())
            for (auto& l : stored::parse_string_array(labels))
                it->second->labels.push_back(std::move(l));
    }
    for (auto& m : page) {
        std::sort(m.labels.begin(), m.labels.end());
        m.labels.erase(std::unique(m.labels.begin(), m.labels.end()), m.labels.end());
    }
    if (v.user == 0) // the operator: unread for anyone, as read
        return {};
    // The read state is the viewer's own (schema/postgresql/0009).
    auto u = run(c_, "reading read marks",
                 "SELECT message_id FROM unread_marks WHERE user_id = $1 AND message_id = "
                 "ANY($2::bigint[])",
                 v.user, bigint_array(ids));
    if (!u)
        return std::unexpected(u.error());
    std::set<MessageRowId> unread;
    for (int i = 0; i < u->rows(); ++i) {
        auto id = u->get<std::int64_t>(i, 0);
        if (!id)
            return std::unexpected(id.error());
        unread.insert(*id);
    }
    for (auto& m : page)
        m.unread = unread.contains(m.id);
    return {};
}

Result<std::vector<MessageView>> PgWebStore::thread_messages(const Viewer& v, ThreadId thread) {
    auto ids = visible_in_order(v, thread);
    if (!ids)
        return std::unexpected(ids.error());
    auto page = messages(*ids);
    if (!page)
        return page;
    if (auto ok = fill_viewer_state(v, *page); !ok)
        return std::unexpected(ok.error());
    return page;
}

Result<std::optional<MessagePage>> PgWebStore::thread_page(const Viewer& v, ThreadId thread,
                                                           MessageRowId before, std::size_t limit) {
    auto ids = visible_in_order(v, thread);
    if (!ids)
        return fail_with<std::optional<MessagePage>>(ids.error());
    auto end = ids->end();
    if (before != 0) {
        end = std::find(ids->begin(), ids->end(), before);
        if (end == ids->end())
            return std::nullopt;
    }
    const auto upto = static_cast<std::size_t>(end - ids->begin());
    const auto older = upto - std::min(limit, upto);
    auto page = messages(std::span<const MessageRowId>(ids->data() + older, ids->data() + upto));
    if (!page)
        return fail_with<std::optional<MessagePage>>(page.error());
    if (auto ok = fill_viewer_state(v, *page); !ok)
        return fail_with<std::optional<MessagePage>>(ok.error());
    return MessagePage{std::move(*page), older};
}

Result<std::optional<ThreadId>> PgWebStore::message_thread(const Viewer& v, MessageRowId message) {
    auto r = run(c_, "finding a message",
                 sql({"SELECT m.thread_id FROM messages m WHERE m.id = $3 AND ", kMessageVisible}),
                 v.admin, v.user, message);
    if (!r)
        return fail_with<std::optional<ThreadId>>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    auto t = r->get<std::int64_t>(0, 0);
    if (!t)
        return fail_with<std::optional<ThreadId>>(t.error());
    return *t;
}

Result<MessageHtml> PgWebStore::message_html(MessageRowId message) {
    auto r = run(c_, "reading a message's HTML",
                 "SELECT html_body, content_hash FROM messages WHERE id = $1", message);
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return MessageHtml{};
    Cells c(*r, 0);
    MessageHtml h{c.get<std::string>(0), c.get<std::string>(1)};
    if (c.error())
        return std::unexpected(*c.error());
    return h;
}

Result<std::optional<AttachmentData>> PgWebStore::attachment(MessageRowId message, int position) {
    using Out = std::optional<AttachmentData>;
    // The bytes of a copy in blobs (schema before SQLite 0009), else those of the raw message.
    auto r = run(c_, "reading an attachment",
                 "SELECT a.filename, a.content_type, a.content_id, a.is_inline, a.sha256, "
                 "coalesce(b.codec, r.codec), coalesce(b.size, r.size), coalesce(b.data, r.data), "
                 "b.sha256 IS NULL FROM attachments a JOIN messages m ON m.id = a.message_id "
                 "LEFT JOIN blobs b ON b.sha256 = a.sha256 LEFT JOIN blobs r ON r.sha256 = "
                 "m.raw_sha256 WHERE a.message_id = $1 AND a.position = $2",
                 message, position);
    if (!r)
        return fail_with<Out>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    Cells c(*r, 0);
    AttachmentData a;
    a.filename = c.get<std::string>(0);
    a.content_type = c.get<std::string>(1);
    a.content_id = c.get<std::string>(2);
    a.is_inline = c.flag(3);
    a.sha256 = c.get<std::string>(4);
    if (c.null(5))
        return fail("store.blob", fmt::format("message {}: its raw bytes are missing", message));
    auto codec = c.get<std::string>(5);
    auto size = c.get<std::int64_t>(6);
    auto data = c.get<Bytea>(7);
    a.in_raw_message = c.get<bool>(8);
    if (c.error())
        return fail_with<Out>(*c.error());
    auto bytes = blob::unpack_blob(codec, data.bytes, static_cast<std::size_t>(size));
    if (!bytes)
        return fail_with<Out>(bytes.error());
    a.bytes = std::move(*bytes);
    return a;
}

Result<std::optional<int>> PgWebStore::attachment_by_cid(MessageRowId message,
                                                         const std::string& cid) {
    if (!can_match(cid))
        return std::nullopt;
    auto r = run(c_, "finding an inline image",
                 "SELECT position FROM attachments WHERE message_id = $1 AND content_id = $2 "
                 "ORDER BY position LIMIT 1",
                 message, cid);
    if (!r)
        return fail_with<std::optional<int>>(r.error());
    if (r->rows() == 0)
        return std::nullopt;
    auto p = r->get<std::int64_t>(0, 0);
    if (!p)
        return fail_with<std::optional<int>>(p.error());
    return static_cast<int>(*p);
}

Result<std::vector<std::pair<DealId, std::string>>>
PgWebStore::deal_names(const Viewer& v, const std::vector<DealId>& ids) {
    if (ids.empty())
        return std::vector<std::pair<DealId, std::string>>{};
    auto r = run(
        c_, "naming deals",
        sql({"SELECT d.id, d.name FROM deals d WHERE d.id = ANY($3::bigint[]) AND ", kDealVisible}),
        v.admin, v.user, bigint_array(ids));
    if (!r)
        return std::unexpected(r.error());
    std::map<DealId, std::string> names;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        auto id = c.get<std::int64_t>(0);
        auto name = c.get<std::string>(1);
        if (c.error())
            return std::unexpected(*c.error());
        names.emplace(id, std::move(name));
    }
    std::vector<std::pair<DealId, std::string>> out; // in the order asked, as SQLite's
    for (auto id : ids)
        if (auto it = names.find(id); it != names.end())
            out.emplace_back(id, it->second);
    return out;
}

Result<std::vector<SenderAccount>> PgWebStore::sender_accounts(UserId user) {
    auto r = run(c_, "listing sending accounts",
                 "SELECT id, name, address FROM accounts WHERE owner_id = $1 AND enabled = 1 "
                 "ORDER BY name",
                 user);
    if (!r)
        return std::unexpected(r.error());
    std::vector<SenderAccount> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back({c.get<std::int64_t>(0), c.get<std::string>(1), c.get<std::string>(2)});
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<std::vector<AccountRow>> PgWebStore::accounts() {
    auto r = run(c_, "listing accounts",
                 "SELECT a.id, a.name, a.address, a.state, coalesce(a.last_error_class, ''), "
                 "coalesce(a.last_error, ''), a.imap_host, a.owner_id, a.enabled, "
                 "a.last_success_at, a.last_error_at, a.lag_seconds, a.messages_synced, "
                 "a.initial_done, a.initial_total, "
                 "(SELECT count(*) FROM mailboxes m WHERE m.account_id = a.id), "
                 "a.initial_started_at, a.initial_started_done, a.updated_at, "
                 "a.backfill_pending FROM accounts a ORDER BY a.name");
    if (!r)
        return std::unexpected(r.error());
    std::vector<AccountRow> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        AccountRow a;
        a.id = c.get<std::int64_t>(0);
        a.name = c.get<std::string>(1);
        a.address = c.get<std::string>(2);
        // The schema admits only these (CHECK on accounts.state).
        a.state = parse_health(c.get<std::string>(3)).value_or(HealthState::Error);
        a.last_error_class = c.get<std::string>(4);
        a.last_error = c.get<std::string>(5);
        a.imap_host = c.get<std::string>(6);
        a.owner = c.get<std::optional<std::int64_t>>(7);
        a.enabled = c.flag(8);
        a.last_success_at = c.get<std::optional<std::int64_t>>(9);
        a.last_error_at = c.get<std::optional<std::int64_t>>(10);
        a.lag_seconds = c.get<std::optional<std::int64_t>>(11);
        a.messages = c.get<std::int64_t>(12);
        a.initial_done = c.get<std::int64_t>(13);
        a.initial_total = c.get<std::int64_t>(14);
        a.mailboxes = c.get<std::int64_t>(15);
        a.initial_started_at = c.get<std::optional<std::int64_t>>(16);
        a.initial_started_done = c.get<std::int64_t>(17);
        a.updated_at = c.get<std::int64_t>(18);
        a.backfill_pending = c.get<std::int64_t>(19);
        if (c.error())
            return std::unexpected(*c.error());
        out.push_back(std::move(a));
    }
    return out;
}

// ---- read marks --------------------------------------------------------------------------------

namespace {

// Locks the thread row until the caller's transaction ends. SQLite has one writer at a time;
// here two workers may mark messages of one thread at once: taken one after the other (the
// marks' triggers lock the same row first), the second sees the first's marks committed.
Result<void> lock_thread(Connection& c, ThreadId thread) {
    auto r =
        run(c, "locking a thread", "SELECT 1 FROM threads WHERE id = $1 FOR NO KEY UPDATE", thread);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace

// The viewer's own marks of `ids` (messages they may see; schema/postgresql/0009). For the
// changed messages' locations in the viewer's own mailboxes of a mirrored account, queues the
// \Seen change: another salesperson's copy keeps its flags. messages.unread and the counters
// follow by trigger. Returns the messages whose state changed for the viewer.
Result<std::int64_t> PgWebStore::set_own_marks(const Viewer& v,
                                               const std::vector<MessageRowId>& ids, bool unread,
                                               const std::vector<AccountId>& mirror,
                                               std::int64_t now) {
    constexpr std::string_view what = "marking messages";
    if (v.user == 0)
        return fail("read.no_user", "read state belongs to a user: marking needs one");
    auto c = run(c_, what,
                 std::string("SELECT m.id FROM messages m WHERE m.id = ANY($1::bigint[]) AND ") +
                     (unread ? "NOT " : "") +
                     "EXISTS (SELECT 1 FROM unread_marks uk WHERE uk.user_id = $2 AND "
                     "uk.message_id = m.id)",
                 bigint_array(ids), v.user);
    auto changed = ids_of(c);
    if (!changed)
        return std::unexpected(changed.error());
    if (changed->empty())
        return 0;
    const std::string list = bigint_array(*changed);
    if (!mirror.empty()) {
        auto q = run(c_, what,
                     "INSERT INTO seen_changes (location_id, seen, queued_at) SELECT l.id, $1, $2 "
                     "FROM locations l JOIN accounts a ON a.id = l.account_id WHERE l.message_id "
                     "= ANY($3::bigint[]) AND l.uid IS NOT NULL AND a.owner_id = $4 AND "
                     "l.account_id = ANY($5::bigint[]) ON CONFLICT (location_id) DO UPDATE SET "
                     "seen = excluded.seen, queued_at = excluded.queued_at, attempts = 0, "
                     "last_error = ''",
                     unread ? 0 : 1, now, list, v.user, bigint_array(mirror));
        if (!q)
            return std::unexpected(q.error());
    }
    auto w = unread ? run(c_, what,
                          "INSERT INTO unread_marks (user_id, message_id) SELECT $1, "
                          "unnest($2::bigint[]) ON CONFLICT DO NOTHING",
                          v.user, list)
                    : run(c_, what,
                          "DELETE FROM unread_marks WHERE user_id = $1 AND message_id = "
                          "ANY($2::bigint[])",
                          v.user, list);
    if (!w)
        return std::unexpected(w.error());
    auto t = run(c_, what,
                 "UPDATE threads SET updated_at = $2 WHERE id IN (SELECT thread_id FROM messages "
                 "WHERE id = ANY($1::bigint[]))",
                 list, now);
    if (!t)
        return std::unexpected(t.error());
    return w->affected();
}

Result<std::int64_t> PgWebStore::set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                   const std::vector<AccountId>& mirror,
                                                   std::int64_t now) {
    if (auto l = lock_thread(c_, thread); !l)
        return std::unexpected(l.error());
    auto visible = visible_messages(v, thread);
    if (!visible)
        return std::unexpected(visible.error());
    return set_own_marks(v, *visible, unread, mirror, now);
}

Result<std::int64_t> PgWebStore::set_message_unread(const Viewer& v, MessageRowId message,
                                                    bool unread,
                                                    const std::vector<AccountId>& mirror,
                                                    std::int64_t now) {
    auto t = run(c_, "marking a message", "SELECT thread_id FROM messages WHERE id = $1", message);
    if (!t)
        return std::unexpected(t.error());
    if (t->rows() == 0)
        return 0;
    auto thread = t->get<std::int64_t>(0, 0);
    if (!thread)
        return std::unexpected(thread.error());
    if (auto l = lock_thread(c_, *thread); !l)
        return std::unexpected(l.error());
    return set_own_marks(v, std::vector<MessageRowId>{message}, unread, mirror, now);
}

// ---- SeenMirror --------------------------------------------------------------------------------

Result<std::vector<SeenChange>> PgWebStore::pending_seen(std::size_t limit) {
    auto r = run(c_, "reading read-state changes",
                 "SELECT s.location_id, l.account_id, mb.name, l.uid_validity, l.uid, s.seen FROM "
                 "seen_changes s JOIN locations l ON l.id = s.location_id JOIN mailboxes mb ON "
                 "mb.id = l.mailbox_id WHERE s.attempts < 5 AND l.uid IS NOT NULL ORDER BY "
                 "s.queued_at, s.location_id LIMIT $1",
                 static_cast<std::int64_t>(limit));
    if (!r)
        return std::unexpected(r.error());
    std::vector<SeenChange> out;
    for (int i = 0; i < r->rows(); ++i) {
        Cells c(*r, i);
        out.push_back({c.get<std::int64_t>(0), c.get<std::int64_t>(1), c.get<std::string>(2),
                       static_cast<std::uint32_t>(c.get<std::int64_t>(3)),
                       static_cast<std::uint32_t>(c.get<std::int64_t>(4)), c.flag(5)});
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<void> PgWebStore::seen_done(const std::vector<std::int64_t>& locations) {
    if (locations.empty())
        return {};
    auto r = run(c_, "finishing read-state changes",
                 "DELETE FROM seen_changes WHERE location_id = ANY($1::bigint[])",
                 bigint_array(locations));
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<void> PgWebStore::seen_failed(const std::vector<std::int64_t>& locations,
                                     const std::string& error, bool give_up) {
    if (give_up)
        return seen_done(locations);
    if (locations.empty())
        return {};
    // The server's answer is shown to people, not matched: kept, with what text cannot hold
    // replaced.
    auto r = run(c_, "recording a read-state failure",
                 "UPDATE seen_changes SET attempts = attempts + 1, last_error = $1 WHERE "
                 "location_id = ANY($2::bigint[])",
                 detail::repair_text(error), bigint_array(locations));
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace crm::pg
