// The HTTP API's queries: logins and the viewer-filtered thread view (see web_store.hpp).
#include "crm/store/web_store.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "crm/core/reason_text.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

// A thread `t` the viewer may see: linked to a visible deal, or holding a message the viewer may
// see (through their own mailbox). The thread then shows only the visible messages.
constexpr const char* kThreadVisible =
    "(:admin OR EXISTS (SELECT 1 FROM thread_deals vtd JOIN deals vd ON vd.id = vtd.deal_id "
    "WHERE vtd.thread_id = t.id AND (vd.owner_id = :me OR vd.shared = 1)) "
    "OR EXISTS (SELECT 1 FROM messages vm JOIN locations vl ON vl.message_id = vm.id "
    "LEFT JOIN accounts va ON va.id = vl.account_id WHERE vm.thread_id = t.id AND "
    "CASE WHEN vl.account_id IS NULL THEN vl.owner_id ELSE va.owner_id END = :me))";

WebUser read_user(SQLite::Statement& q, int first) {
    // The schema admits only these two (CHECK on users.role).
    return WebUser{q.getColumn(first).getInt64(), q.getColumn(first + 1).getString(),
                   q.getColumn(first + 2).getString(),
                   parse_role(q.getColumn(first + 3).getString()).value_or(Role::Salesperson)};
}

// Counts come from deal_stats (kept by triggers, schema/0007): one row per deal, no aggregation.
// The unread count is the viewer's own (schema/0017): their marks, grouped by deal once (`mine`),
// which reads only the viewer's marks however many deals there are.
constexpr const char* kDealSelect =
    "WITH mine (deal_id, n) AS (SELECT utd.deal_id, count(*) FROM unread_marks uk JOIN messages "
    "um ON um.id = uk.message_id JOIN thread_deals utd ON utd.thread_id = um.thread_id WHERE "
    "uk.user_id = :me GROUP BY utd.deal_id) "
    "SELECT d.id, d.name, d.stage, d.status, d.shared, d.owner_id, coalesce(u.name, ''), "
    "d.company_id, coalesce(c.name, ''), coalesce(s.threads, 0), coalesce(s.messages, 0), "
    "CASE WHEN :me = 0 THEN coalesce(s.unread, 0) ELSE coalesce(mine.n, 0) END, s.last_date "
    "FROM deals d LEFT JOIN users u ON u.id = d.owner_id "
    "LEFT JOIN companies c ON c.id = d.company_id LEFT JOIN deal_stats s ON s.deal_id = d.id "
    "LEFT JOIN mine ON mine.deal_id = d.id ";

WebDeal read_deal(SQLite::Statement& q) {
    WebDeal d;
    d.id = q.getColumn(0).getInt64();
    d.name = q.getColumn(1).getString();
    d.stage = q.getColumn(2).getString();
    d.status = q.getColumn(3).getString();
    d.shared = q.getColumn(4).getInt() != 0;
    d.owner = opt_col(q.getColumn(5));
    d.owner_name = q.getColumn(6).getString();
    d.company = opt_col(q.getColumn(7));
    d.company_name = q.getColumn(8).getString();
    d.threads = q.getColumn(9).getInt64();
    d.messages = q.getColumn(10).getInt64();
    d.unread = q.getColumn(11).getInt64();
    d.last_date = opt_col(q.getColumn(12));
    return d;
}

// A thread without a date, as thread_deals.sort_date and the deal list's keyset hold it: the
// smallest integer, so it sorts last (schema/0018).
constexpr std::int64_t kNoDate = std::numeric_limits<std::int64_t>::min();

// Whether the deal exists and the viewer may see it.
bool visible_deal_exists(Database::Impl& d, const Viewer& v, DealId deal) {
    auto& q = d.stmt(std::string("SELECT 1 FROM deals d WHERE d.id = :id AND ") + kDealVisible);
    bind_viewer(q, v);
    q.bind(":id", deal);
    const bool yes = q.executeStep();
    q.reset();
    return yes;
}

// Whether the viewer may see the deal; for an admin any id, without a lookup.
bool deal_visible(Database::Impl& d, const Viewer& v, DealId deal) {
    return v.admin || visible_deal_exists(d, v, deal);
}

// "deals 1001, 1002" in a reason: the ids the viewer may not see become "another deal", so a
// reason never names someone else's private deal.
std::string redact_reason(Database::Impl& d, const Viewer& v, const std::string& reason) {
    if (v.admin)
        return reason;
    // deal_visible throws on a database error (guard() turns it into one), so this never fails.
    return redact_deal_ids(reason, [&](DealId id) { return !deal_visible(d, v, id); })
        .value_or(reason);
}

// The thread as the viewer may see it. A thread linked to a deal the viewer sees shows all its
// messages; otherwise only the visible ones count: the subject, dates, counters and senders
// are those of the viewer's messages, a deal the viewer may not see is not named, and neither
// are such deals in the reason.
// The viewer's own unread messages of each of `threads`, which they see whole (schema/0017);
// without a user, each thread's counter (unread for anyone). One query for the page.
void own_unread(Database::Impl& d, const Viewer& v, const std::vector<ThreadSummary*>& threads) {
    if (v.user == 0 || threads.empty())
        return;
    std::unordered_map<ThreadId, ThreadSummary*> by_id;
    for (auto* t : threads) {
        t->unread_count = 0;
        by_id.emplace(t->id, t);
    }
    // Each message of the threads looked up in the viewer's marks (a join would let SQLite walk
    // all of the viewer's marks for every thread: 0.5 s a page of 100 with 12,000 marks).
    auto& q = d.stmt("SELECT m.thread_id, count(*) FROM messages m WHERE m.thread_id IN (SELECT "
                     "value FROM json_each(?1)) AND EXISTS (SELECT 1 FROM unread_marks uk WHERE "
                     "uk.user_id = ?2 AND uk.message_id = m.id) GROUP BY m.thread_id");
    q.bind(1, thread_ids_json(threads));
    q.bind(2, v.user);
    while (q.executeStep())
        by_id.at(q.getColumn(0).getInt64())->unread_count = q.getColumn(1).getInt64();
    q.reset();
}

// A thread the viewer does not see whole (see project_all): only their own messages count.
void project_partial(Database::Impl& d, const Viewer& v, ThreadSummary& t) {
    if (t.deal) {
        t.deal.reset();
        t.deal_name.clear();
        t.manual = false;
        t.reason = "linked to another salesperson's deal";
    } else {
        t.reason = redact_reason(d, v, t.reason);
    }
    auto& q = d.stmt(std::string("SELECT count(*), coalesce(sum(") + kViewerUnread +
                     "), 0), min(coalesce(m.date, m.received_at)), max(coalesce(m.date, "
                     "m.received_at)) FROM messages m WHERE m.thread_id = :thread AND " +
                     kMessageVisible);
    bind_viewer(q, v);
    q.bind(":thread", t.id);
    if (q.executeStep()) {
        t.message_count = q.getColumn(0).getInt64();
        t.unread_count = q.getColumn(1).getInt64();
        t.first_date = opt_col(q.getColumn(2));
        t.last_date = opt_col(q.getColumn(3));
    }
    q.reset();
    auto& p = d.stmt(std::string(
                         "SELECT m.subject, (SELECT p.address FROM participants p WHERE "
                         "p.message_id = m.id AND p.role = 'from' AND p.address != '' ORDER BY "
                         "p.position LIMIT 1) FROM messages m WHERE m.thread_id = :thread AND ") +
                     kMessageVisible + " ORDER BY coalesce(m.date, m.received_at), m.id");
    bind_viewer(p, v);
    p.bind(":thread", t.id);
    bool first = true;
    t.participants.clear();
    while (p.executeStep()) {
        if (first)
            t.subject = p.getColumn(0).getString();
        first = false;
        if (p.getColumn(1).isNull())
            continue;
        auto a = p.getColumn(1).getString();
        if (std::find(t.participants.begin(), t.participants.end(), a) == t.participants.end())
            t.participants.push_back(std::move(a));
    }
}

// Each thread as the viewer sees it. An admin sees every thread whole, and a salesperson the
// threads of the deals they see: their senders and own unread counts are read for all of them
// at once, and only a reason's deal ids are redacted. Other threads are projected one by one.
void project_all(Database::Impl& d, const Viewer& v, std::vector<ThreadSummary>& threads) {
    std::vector<ThreadSummary*> whole;
    std::unordered_map<DealId, bool> deals; // deal_visible, once per deal of the page
    for (auto& t : threads) {
        bool sees = v.admin;
        if (!sees && t.deal) {
            auto it = deals.find(*t.deal);
            if (it == deals.end())
                it = deals.emplace(*t.deal, deal_visible(d, v, *t.deal)).first;
            sees = it->second;
        }
        if (!sees) {
            project_partial(d, v, t);
            continue;
        }
        if (!v.admin)
            t.reason = redact_reason(d, v, t.reason);
        whole.push_back(&t);
    }
    add_participants(d, whole);
    own_unread(d, v, whole);
}

std::vector<ThreadSummary> read_threads(Database::Impl& d, SQLite::Statement& q, const Viewer& v) {
    std::vector<ThreadSummary> out;
    while (q.executeStep())
        out.push_back(read_thread(q));
    q.reset();
    project_all(d, v, out);
    return out;
}

// Sets the viewer's own read marks (schema/0017) of the messages `ids` (a JSON array of ids they
// may see) and returns those that changed. For the changed messages' locations in the viewer's
// own mailboxes of a mirrored account, queues the \Seen change for the daemon: another
// salesperson's copy keeps its flags. messages.unread and the counters follow by trigger.
std::int64_t set_own_marks(Database::Impl& d, const Viewer& v, const std::string& ids, bool unread,
                           const std::vector<AccountId>& mirror, std::int64_t now) {
    auto& c = d.stmt(std::string("SELECT json_group_array(j.value) FROM json_each(?1) j JOIN "
                                 "messages m ON m.id = j.value WHERE ") +
                     (unread ? "NOT " : "") +
                     "EXISTS (SELECT 1 FROM unread_marks uk WHERE uk.user_id = ?2 AND "
                     "uk.message_id = m.id)");
    c.bind(1, ids);
    c.bind(2, v.user);
    std::string changed = "[]";
    if (c.executeStep())
        changed = c.getColumn(0).getString();
    c.reset();
    if (changed == "[]")
        return 0;
    if (!mirror.empty()) {
        auto& q = d.stmt(
            "INSERT INTO seen_changes (location_id, seen, queued_at) SELECT l.id, ?1, ?2 FROM "
            "locations l JOIN accounts a ON a.id = l.account_id WHERE l.message_id IN (SELECT "
            "value FROM json_each(?3)) AND l.uid IS NOT NULL AND a.owner_id = ?4 AND "
            "l.account_id IN (SELECT value FROM json_each(?5)) ON CONFLICT (location_id) DO "
            "UPDATE SET seen = excluded.seen, queued_at = excluded.queued_at, attempts = 0, "
            "last_error = ''");
        q.bind(1, unread ? 0 : 1);
        q.bind(2, now);
        q.bind(3, changed);
        q.bind(4, v.user);
        q.bind(5, "[" + join_ids(mirror, ',') + "]");
        q.exec();
    }
    auto& w = d.stmt(unread ? "INSERT OR IGNORE INTO unread_marks (user_id, message_id) SELECT ?2, "
                              "value FROM json_each(?1)"
                            : "DELETE FROM unread_marks WHERE user_id = ?2 AND message_id IN "
                              "(SELECT value FROM json_each(?1))");
    w.bind(1, changed);
    w.bind(2, v.user);
    const auto n = w.exec();
    auto& t = d.stmt("UPDATE threads SET updated_at = ?2 WHERE id IN (SELECT thread_id FROM "
                     "messages WHERE id IN (SELECT value FROM json_each(?1)))");
    t.bind(1, changed);
    t.bind(2, now);
    t.exec();
    return n;
}

Result<void> need_user(const Viewer& v) {
    if (v.user == 0)
        return fail("read.no_user", "read state belongs to a user: marking needs one");
    return {};
}

} // namespace

Result<std::optional<Login>> WebStore::login_by_email(const std::string& email) {
    return guard("looking up a login", [&]() -> Result<std::optional<Login>> {
        auto& q = db_.impl().stmt(
            "SELECT u.id, u.name, u.email, u.role, coalesce(c.password_hash, '') FROM users u "
            "LEFT JOIN user_credentials c ON c.user_id = u.id WHERE lower(u.email) = lower(?1) "
            "OR u.id = (SELECT user_id FROM user_addresses WHERE address = lower(?1)) "
            "ORDER BY (lower(u.email) = lower(?1)) DESC, u.id LIMIT 1");
        q.bind(1, email);
        if (!q.executeStep())
            return std::nullopt;
        return Login{read_user(q, 0), q.getColumn(4).getString()};
    });
}

Result<std::optional<WebUser>> WebStore::user(UserId id) {
    return guard("reading a user", [&]() -> Result<std::optional<WebUser>> {
        auto& q = db_.impl().stmt("SELECT id, name, email, role FROM users WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            return std::nullopt;
        return read_user(q, 0);
    });
}

Result<void> WebStore::set_password_hash(UserId user, const std::string& hash, std::int64_t now) {
    return guard("setting a password", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& e = d.stmt("SELECT 1 FROM users WHERE id = ?");
        e.bind(1, user);
        if (!e.executeStep())
            return fail("user.not_found", fmt::format("user {} does not exist", user));
        auto& q = d.stmt("INSERT INTO user_credentials (user_id, password_hash, updated_at) VALUES "
                         "(?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET password_hash = "
                         "excluded.password_hash, updated_at = excluded.updated_at");
        q.bind(1, user);
        q.bind(2, hash);
        q.bind(3, now);
        q.exec();
        return {};
    });
}

Result<void> WebStore::create_session(const std::string& token_hash, UserId user,
                                      std::int64_t now, std::int64_t expires_at,
                                      const std::string& client_address,
                                      const std::string& user_agent) {
    return guard("creating a session", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& gc = d.stmt("DELETE FROM sessions WHERE expires_at <= ?");
        gc.bind(1, now);
        gc.exec();
        auto& q = d.stmt("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, "
                         "expires_at, client_address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)");
        q.bind(1, token_hash);
        q.bind(2, user);
        q.bind(3, now);
        q.bind(4, now);
        q.bind(5, expires_at);
        q.bind(6, client_address);
        q.bind(7, user_agent.substr(0, 256));
        q.exec();
        return {};
    });
}

Result<std::optional<WebUser>> WebStore::session_user(const std::string& token_hash,
                                                      std::int64_t now) {
    return guard("checking a session", [&]() -> Result<std::optional<WebUser>> {
        auto& d = db_.impl();
        auto& q = d.stmt("SELECT u.id, u.name, u.email, u.role, s.expires_at, s.last_seen_at "
                         "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?");
        q.bind(1, token_hash);
        if (!q.executeStep())
            return std::nullopt;
        auto u = read_user(q, 0);
        auto expires = q.getColumn(4).getInt64();
        auto seen = q.getColumn(5).getInt64();
        q.reset();
        if (expires <= now) {
            auto& del = d.stmt("DELETE FROM sessions WHERE token_hash = ?");
            del.bind(1, token_hash);
            del.exec();
            return std::nullopt;
        }
        // Touch at most once a minute: reads stay reads. Best effort: a busy database must not
        // turn a valid session into an error.
        if (now - seen >= 60) {
            try {
                auto& t = d.stmt("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?");
                t.bind(1, now);
                t.bind(2, token_hash);
                t.exec();
            } catch (const SQLite::Exception&) {
            }
        }
        return u;
    });
}

Result<void> WebStore::delete_session(const std::string& token_hash) {
    return guard("ending a session", [&]() -> Result<void> {
        auto& q = db_.impl().stmt("DELETE FROM sessions WHERE token_hash = ?");
        q.bind(1, token_hash);
        q.exec();
        return {};
    });
}

Result<std::int64_t> WebStore::delete_user_sessions(UserId user) {
    return guard("ending sessions", [&]() -> Result<std::int64_t> {
        auto& q = db_.impl().stmt("DELETE FROM sessions WHERE user_id = ?");
        q.bind(1, user);
        return q.exec();
    });
}

Result<std::int64_t> WebStore::create_token(UserId user, const std::string& name,
                                            const std::string& token_hash, std::int64_t now) {
    return guard("creating an API token", [&]() -> Result<std::int64_t> {
        auto& d = db_.impl();
        auto& e = d.stmt("SELECT 1 FROM users WHERE id = ?");
        e.bind(1, user);
        if (!e.executeStep())
            return fail("user.not_found", fmt::format("user {} does not exist", user));
        auto& q = d.stmt("INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                         "VALUES (?, ?, ?, ?)");
        q.bind(1, user);
        q.bind(2, name);
        q.bind(3, token_hash);
        q.bind(4, now);
        q.exec();
        return d.db.getLastInsertRowid();
    });
}

Result<std::optional<WebUser>> WebStore::token_user(const std::string& token_hash,
                                                    std::int64_t now) {
    return guard("checking an API token", [&]() -> Result<std::optional<WebUser>> {
        auto& d = db_.impl();
        auto& q = d.stmt("SELECT u.id, u.name, u.email, u.role, t.id, coalesce(t.last_used_at, 0) "
                         "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE "
                         "t.token_hash = ? AND t.revoked_at IS NULL");
        q.bind(1, token_hash);
        if (!q.executeStep())
            return std::nullopt;
        auto u = read_user(q, 0);
        auto id = q.getColumn(4).getInt64();
        auto used = q.getColumn(5).getInt64();
        q.reset();
        if (now - used >= 60) { // best effort, as for sessions
            try {
                auto& t = d.stmt("UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
                t.bind(1, now);
                t.bind(2, id);
                t.exec();
            } catch (const SQLite::Exception&) {
            }
        }
        return u;
    });
}

Result<bool> WebStore::revoke_token(std::int64_t id, std::int64_t now) {
    return guard("revoking an API token", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(
            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
        q.bind(1, now);
        q.bind(2, id);
        return q.exec() > 0;
    });
}

Result<std::vector<TokenRow>> WebStore::tokens() {
    return guard("listing API tokens", [&]() -> Result<std::vector<TokenRow>> {
        auto& q = db_.impl().stmt("SELECT id, user_id, name, created_at, last_used_at, revoked_at "
                                  "FROM api_tokens ORDER BY id");
        std::vector<TokenRow> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                           q.getColumn(2).getString(), q.getColumn(3).getInt64(),
                           opt_col(q.getColumn(4)), opt_col(q.getColumn(5))});
        return out;
    });
}

Result<std::vector<WebDeal>> WebStore::deals(const Viewer& v) {
    return guard("listing deals", [&]() -> Result<std::vector<WebDeal>> {
        auto& q = db_.impl().stmt(std::string(kDealSelect) + "WHERE " + kDealVisible +
                                  " ORDER BY (d.status = 'open') DESC, s.last_date DESC NULLS "
                                  "LAST, d.id");
        bind_viewer(q, v);
        std::vector<WebDeal> out;
        while (q.executeStep())
            out.push_back(read_deal(q));
        return out;
    });
}

Result<DealPage> WebStore::deal_page(const Viewer& v, const std::optional<DealKey>& after,
                                     std::size_t limit) {
    return guard("listing deals", [&]() -> Result<DealPage> {
        auto& d = db_.impl();
        DealPage page;
        auto& n = d.stmt(std::string("SELECT count(*) FROM deals d WHERE ") + kDealVisible);
        bind_viewer(n, v);
        if (n.executeStep())
            page.total = n.getColumn(0).getInt64();
        n.reset();
        // deals()'s order as three keys: open first, the last date newest first (none: the
        // smallest), the id ascending.
        constexpr const char* kOpen = "(d.status = 'open')";
        constexpr const char* kDate = "coalesce(s.last_date, -9223372036854775808)";
        std::string keyset;
        if (after)
            keyset = fmt::format(" AND ({0} < :open OR ({0} = :open AND ({1} < :ld OR ({1} = :ld "
                                 "AND d.id > :id))))",
                                 kOpen, kDate);
        auto& q =
            d.stmt(std::string(kDealSelect) + "WHERE " + kDealVisible + keyset +
                   fmt::format(" ORDER BY {} DESC, {} DESC, d.id LIMIT :limit", kOpen, kDate));
        bind_viewer(q, v);
        if (after) {
            q.bind(":open", after->open ? 1 : 0);
            q.bind(":ld", after->last_date.value_or(kNoDate));
            q.bind(":id", after->id);
        }
        q.bind(":limit", static_cast<std::int64_t>(limit) + 1); // one more: is there a next page?
        while (q.executeStep())
            page.deals.push_back(read_deal(q));
        q.reset();
        if (page.deals.size() > limit) {
            page.deals.resize(limit);
            const auto& last = page.deals.back();
            page.next = DealKey{last.status == "open", last.last_date, last.id};
        }
        return page;
    });
}

Result<bool> WebStore::deal_visible(const Viewer& v, DealId id) {
    return guard("checking a deal", [&]() -> Result<bool> {
        // Not deal_visible(), which takes any id for an admin: here the deal must exist.
        return visible_deal_exists(db_.impl(), v, id);
    });
}

Result<std::optional<WebDeal>> WebStore::deal(const Viewer& v, DealId id) {
    return guard("reading a deal", [&]() -> Result<std::optional<WebDeal>> {
        auto& q = db_.impl().stmt(std::string(kDealSelect) + "WHERE d.id = :id AND " +
                                  kDealVisible);
        bind_viewer(q, v);
        q.bind(":id", id);
        if (!q.executeStep())
            return std::nullopt;
        return read_deal(q);
    });
}

namespace {

// Reads the rows of `q` (kThreadSelect's, bound but for :limit, one page of `limit` in list
// order) into `page`, with the cursor of the next page when there is one.
void read_page(Database::Impl& d, const Viewer& v, SQLite::Statement& q, std::size_t limit,
               ThreadPage& page) {
    q.bind(":limit", static_cast<std::int64_t>(limit) + 1); // one more: is there a next page?
    std::vector<ThreadKey> keys;
    while (q.executeStep()) {
        page.threads.push_back(read_thread(q));
        keys.push_back({page.threads.back().last_date, page.threads.back().id});
    }
    q.reset();
    if (page.threads.size() > limit) {
        page.threads.resize(limit);
        page.next = keys[limit - 1]; // the key as ordered, before projection changes the dates
    }
    project_all(d, v, page.threads);
}

// A page of the threads `where` selects (kThreadSelect's aliases; its parameters bound by
// `bind`), newest first, after `after`; with the count of the whole list.
ThreadPage thread_list_page(Database::Impl& d, const Viewer& v, const std::string& where,
                            const std::function<void(SQLite::Statement&)>& bind,
                            const std::optional<ThreadKey>& after, std::size_t limit) {
    ThreadPage page;
    auto& n = d.stmt("SELECT count(*) FROM threads t LEFT JOIN thread_deals td ON td.thread_id = "
                     "t.id LEFT JOIN unsorted u ON u.thread_id = t.id WHERE " +
                     where + " AND " + kThreadVisible);
    bind_viewer(n, v);
    bind(n);
    if (n.executeStep())
        page.total = n.getColumn(0).getInt64();
    n.reset();
    // Newest first; threads without a date last (SQLite orders NULL lowest).
    std::string keyset;
    if (after)
        keyset = after->last_date ? " AND (t.last_date < :ld OR (t.last_date = :ld AND t.id < :id) "
                                    "OR t.last_date IS NULL)"
                                  : " AND t.last_date IS NULL AND t.id < :id";
    auto& q = d.stmt(std::string(kThreadSelect) + "WHERE " + where + keyset + " AND " +
                     kThreadVisible + " ORDER BY t.last_date DESC, t.id DESC LIMIT :limit");
    bind_viewer(q, v);
    bind(q);
    if (after) {
        if (after->last_date)
            q.bind(":ld", *after->last_date);
        q.bind(":id", after->id);
    }
    read_page(d, v, q, limit, page);
    return page;
}

// A page of the threads of a deal the viewer may see, which are all of its threads: read from
// the index on (deal_id, sort_date, thread_id) from the cursor on (schema/0018), with the count
// from deal_stats, so a page costs the same wherever it is in a deal of any size. The order and
// the cursors are thread_list_page's: sort_date is last_date, a thread without one the smallest.
ThreadPage visible_deal_page(Database::Impl& d, const Viewer& v, DealId deal,
                             const std::optional<ThreadKey>& after, std::size_t limit) {
    ThreadPage page;
    auto& n = d.stmt("SELECT threads FROM deal_stats WHERE deal_id = ?");
    n.bind(1, deal);
    if (n.executeStep())
        page.total = n.getColumn(0).getInt64();
    n.reset();
    auto& q = d.stmt(std::string(kThreadSelect) + "WHERE td.deal_id = :deal" +
                     (after ? " AND (td.sort_date, td.thread_id) < (:sd, :id)" : "") +
                     " ORDER BY td.sort_date DESC, td.thread_id DESC LIMIT :limit");
    q.bind(":deal", deal);
    if (after) {
        q.bind(":sd", after->last_date.value_or(kNoDate));
        q.bind(":id", after->id);
    }
    read_page(d, v, q, limit, page);
    return page;
}

} // namespace

Result<ThreadPage> WebStore::deal_threads(const Viewer& v, DealId deal,
                                          const std::optional<ThreadKey>& after,
                                          std::size_t limit) {
    return guard("listing a deal's threads", [&]() -> Result<ThreadPage> {
        auto& d = db_.impl();
        if (store::deal_visible(d, v, deal))
            return visible_deal_page(d, v, deal, after, limit);
        // Someone else's private deal: only the threads the viewer's own mailboxes hold.
        return thread_list_page(
            d, v, "td.deal_id = :deal", [&](SQLite::Statement& q) { q.bind(":deal", deal); }, after,
            limit);
    });
}

Result<ThreadPage> WebStore::unsorted(const Viewer& v, const std::optional<ThreadKey>& after,
                                      std::size_t limit) {
    return guard("listing unsorted threads", [&]() -> Result<ThreadPage> {
        return thread_list_page(
            db_.impl(), v, "u.thread_id IS NOT NULL", [](SQLite::Statement&) {}, after, limit);
    });
}

Result<bool> WebStore::thread_visible(const Viewer& v, ThreadId thread) {
    return guard("checking a thread", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(std::string("SELECT 1 FROM threads t WHERE t.id = :id AND ") +
                                  kThreadVisible);
        bind_viewer(q, v);
        q.bind(":id", thread);
        return q.executeStep();
    });
}

Result<std::optional<ThreadSummary>> WebStore::thread(const Viewer& v, ThreadId thread) {
    return guard("reading a thread", [&]() -> Result<std::optional<ThreadSummary>> {
        auto& d = db_.impl();
        auto& q = d.stmt(std::string(kThreadSelect) + "WHERE t.id = :id AND " + kThreadVisible);
        bind_viewer(q, v);
        q.bind(":id", thread);
        auto all = read_threads(d, q, v);
        if (all.empty())
            return std::nullopt;
        return std::move(all.front());
    });
}

Result<std::vector<MessageRowId>> WebStore::visible_messages(const Viewer& v, ThreadId thread) {
    return guard("listing visible messages", [&]() -> Result<std::vector<MessageRowId>> {
        auto& q = db_.impl().stmt(std::string("SELECT m.id FROM messages m WHERE m.thread_id = "
                                              ":thread AND ") +
                                  kMessageVisible + " ORDER BY m.id");
        bind_viewer(q, v);
        q.bind(":thread", thread);
        std::vector<MessageRowId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

// The thread's message ids in reading order that the viewer may see.
Result<std::vector<MessageRowId>> WebStore::visible_in_order(const Viewer& v, ThreadId thread) {
    auto visible = visible_messages(v, thread);
    if (!visible || visible->empty())
        return visible;
    auto ordered = Store(db_).thread_message_ids(thread);
    if (ordered && !v.admin)
        std::erase_if(*ordered, [&](MessageRowId id) {
            return !std::binary_search(visible->begin(), visible->end(), id);
        });
    return ordered;
}

Result<void> WebStore::fill_viewer_state(const Viewer& v, std::vector<MessageView>& page) {
    return guard("reading Gmail labels and read marks", [&]() -> Result<void> {
        // The read state is the viewer's own (schema/0017); without a user, unread for anyone.
        if (v.user != 0) {
            auto& r =
                db_.impl().stmt("SELECT 1 FROM unread_marks WHERE user_id = ? AND message_id = ?");
            for (auto& m : page) {
                r.reset();
                r.bind(1, v.user);
                r.bind(2, m.id);
                m.unread = r.executeStep();
            }
            r.reset();
        }
        // Labels are a salesperson's own filing: only those of the viewer's mailboxes.
        auto& q = db_.impl().stmt(
            "SELECT l.labels FROM locations l LEFT JOIN accounts a ON a.id = l.account_id WHERE "
            "l.message_id = :id AND l.labels <> '[]' AND (:admin OR CASE WHEN l.account_id IS "
            "NULL THEN l.owner_id ELSE a.owner_id END = :me)");
        for (auto& m : page) {
            q.reset();
            bind_viewer(q, v);
            q.bind(":id", m.id);
            while (q.executeStep())
                for (auto& l : parse_string_array(q.getColumn(0).getString()))
                    m.labels.push_back(std::move(l));
            std::sort(m.labels.begin(), m.labels.end());
            m.labels.erase(std::unique(m.labels.begin(), m.labels.end()), m.labels.end());
        }
        q.reset();
        return {};
    });
}

Result<std::vector<MessageView>> WebStore::thread_messages(const Viewer& v, ThreadId thread) {
    auto ids = visible_in_order(v, thread);
    if (!ids)
        return std::unexpected(ids.error());
    auto page = Store(db_).messages(*ids);
    if (!page)
        return page;
    if (auto ok = fill_viewer_state(v, *page); !ok)
        return std::unexpected(ok.error());
    return page;
}

Result<std::optional<MessagePage>> WebStore::thread_page(const Viewer& v, ThreadId thread,
                                                         MessageRowId before, std::size_t limit) {
    auto ids = visible_in_order(v, thread);
    if (!ids)
        return std::unexpected(ids.error());
    auto end = ids->end();
    if (before != 0) {
        end = std::find(ids->begin(), ids->end(), before);
        if (end == ids->end())
            return std::nullopt;
    }
    const auto older = static_cast<std::size_t>(end - ids->begin()) -
                       std::min<std::size_t>(limit, static_cast<std::size_t>(end - ids->begin()));
    auto page = Store(db_).messages(
        std::span<const MessageRowId>(ids->data() + older, ids->data() + (end - ids->begin())));
    if (!page)
        return std::unexpected(page.error());
    if (auto ok = fill_viewer_state(v, *page); !ok)
        return std::unexpected(ok.error());
    return MessagePage{std::move(*page), older};
}

Result<std::optional<ThreadId>> WebStore::message_thread(const Viewer& v, MessageRowId message) {
    return guard("finding a message", [&]() -> Result<std::optional<ThreadId>> {
        auto& q = db_.impl().stmt(
            std::string("SELECT m.thread_id FROM messages m WHERE m.id = :id AND ") +
            kMessageVisible);
        bind_viewer(q, v);
        q.bind(":id", message);
        if (!q.executeStep())
            return std::nullopt;
        return q.getColumn(0).getInt64();
    });
}

Result<MessageHtml> WebStore::message_html(MessageRowId message) {
    return guard("reading a message's HTML", [&]() -> Result<MessageHtml> {
        auto& q = db_.impl().stmt("SELECT html_body, content_hash FROM messages WHERE id = ?");
        q.bind(1, message);
        if (!q.executeStep())
            return MessageHtml{};
        return MessageHtml{q.getColumn(0).getString(), q.getColumn(1).getString()};
    });
}

Result<std::optional<AttachmentData>> WebStore::attachment(MessageRowId message, int position) {
    return guard("reading an attachment", [&]() -> Result<std::optional<AttachmentData>> {
        // The bytes of a copy in blobs (schema before 0009), else those of the raw message.
        auto& q = db_.impl().stmt(
            "SELECT a.filename, a.content_type, a.content_id, a.is_inline, a.sha256, "
            "coalesce(b.codec, r.codec), coalesce(b.size, r.size), coalesce(b.data, r.data), "
            "b.sha256 IS NULL FROM attachments a JOIN messages m ON m.id = a.message_id "
            "LEFT JOIN blobs b ON b.sha256 = a.sha256 LEFT JOIN blobs r ON r.sha256 = m.raw_sha256 "
            "WHERE a.message_id = ? AND a.position = ?");
        q.bind(1, message);
        q.bind(2, position);
        if (!q.executeStep())
            return std::nullopt;
        AttachmentData a;
        a.filename = q.getColumn(0).getString();
        a.content_type = q.getColumn(1).getString();
        a.content_id = q.getColumn(2).getString();
        a.is_inline = q.getColumn(3).getInt() != 0;
        a.sha256 = q.getColumn(4).getString();
        if (q.getColumn(5).isNull())
            return fail("store.blob", fmt::format("message {}: its raw bytes are missing", message));
        auto bytes = blob_of(q, 5);
        if (!bytes)
            return std::unexpected(bytes.error());
        a.bytes = std::move(*bytes);
        a.in_raw_message = q.getColumn(8).getInt() != 0;
        return a;
    });
}

Result<std::optional<int>> WebStore::attachment_by_cid(MessageRowId message,
                                                       const std::string& cid) {
    return guard("finding an inline image", [&]() -> Result<std::optional<int>> {
        auto& q = db_.impl().stmt("SELECT position FROM attachments WHERE message_id = ? AND "
                                  "content_id = ? ORDER BY position LIMIT 1");
        q.bind(1, message);
        q.bind(2, cid);
        if (!q.executeStep())
            return std::nullopt;
        return q.getColumn(0).getInt();
    });
}

Result<std::vector<std::pair<DealId, std::string>>>
WebStore::deal_names(const Viewer& v, const std::vector<DealId>& ids) {
    return guard("naming deals", [&]() -> Result<std::vector<std::pair<DealId, std::string>>> {
        auto& q = db_.impl().stmt(std::string("SELECT d.id, d.name FROM deals d WHERE d.id = :id "
                                              "AND ") + kDealVisible);
        std::vector<std::pair<DealId, std::string>> out;
        for (auto id : ids) {
            q.reset();
            bind_viewer(q, v);
            q.bind(":id", id);
            if (q.executeStep())
                out.emplace_back(id, q.getColumn(1).getString());
        }
        return out;
    });
}

Result<std::int64_t> WebStore::set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                 const std::vector<AccountId>& mirror,
                                                 std::int64_t now) {
    if (auto ok = need_user(v); !ok)
        return std::unexpected(ok.error());
    auto visible = visible_messages(v, thread);
    if (!visible)
        return std::unexpected(visible.error());
    return guard("marking a thread", [&]() -> Result<std::int64_t> {
        // Only the messages the viewer sees, and only for the viewer.
        return set_own_marks(db_.impl(), v, "[" + join_ids(*visible, ',') + "]", unread, mirror,
                             now);
    });
}

Result<std::int64_t> WebStore::set_message_unread(const Viewer& v, MessageRowId message,
                                                  bool unread, const std::vector<AccountId>& mirror,
                                                  std::int64_t now) {
    if (auto ok = need_user(v); !ok)
        return std::unexpected(ok.error());
    return guard("marking a message", [&]() -> Result<std::int64_t> {
        return set_own_marks(db_.impl(), v, fmt::format("[{}]", message), unread, mirror, now);
    });
}

Result<std::vector<SeenChange>> WebStore::pending_seen(std::size_t limit) {
    return guard("reading read-state changes", [&]() -> Result<std::vector<SeenChange>> {
        auto& q = db_.impl().stmt(
            "SELECT s.location_id, l.account_id, mb.name, l.uid_validity, l.uid, s.seen FROM "
            "seen_changes s JOIN locations l ON l.id = s.location_id JOIN mailboxes mb ON "
            "mb.id = l.mailbox_id WHERE s.attempts < 5 AND l.uid IS NOT NULL ORDER BY "
            "s.queued_at, s.location_id LIMIT ?");
        q.bind(1, static_cast<std::int64_t>(limit));
        std::vector<SeenChange> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                           q.getColumn(2).getString(),
                           static_cast<std::uint32_t>(q.getColumn(3).getInt64()),
                           static_cast<std::uint32_t>(q.getColumn(4).getInt64()),
                           q.getColumn(5).getInt() != 0});
        return out;
    });
}

Result<void> WebStore::seen_done(const std::vector<std::int64_t>& locations) {
    return guard("finishing read-state changes", [&]() -> Result<void> {
        auto& q = db_.impl().stmt("DELETE FROM seen_changes WHERE location_id = ?");
        for (auto l : locations) {
            q.reset();
            q.bind(1, l);
            q.exec();
        }
        return {};
    });
}

Result<void> WebStore::seen_failed(const std::vector<std::int64_t>& locations,
                                   const std::string& error, bool give_up) {
    if (give_up)
        return seen_done(locations);
    return guard("recording a read-state failure", [&]() -> Result<void> {
        auto& q = db_.impl().stmt("UPDATE seen_changes SET attempts = attempts + 1, last_error = ? "
                                  "WHERE location_id = ?");
        for (auto l : locations) {
            q.reset();
            q.bind(1, error);
            q.bind(2, l);
            q.exec();
        }
        return {};
    });
}

Result<std::vector<SenderAccount>> WebStore::sender_accounts(UserId user) {
    return guard("listing sending accounts", [&]() -> Result<std::vector<SenderAccount>> {
        auto& q = db_.impl().stmt("SELECT id, name, address FROM accounts WHERE owner_id = ? AND "
                                  "enabled = 1 ORDER BY name");
        q.bind(1, user);
        std::vector<SenderAccount> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                           q.getColumn(2).getString()});
        return out;
    });
}

} // namespace crm::store
