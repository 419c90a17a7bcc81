// The outbox and reply context on PostgreSQL (see outbox.hpp): store::OutboxStore's statements
// (src/store/outbox.cpp) in PostgreSQL's dialect, and the lease fence across workers.
#include "crm/pg/outbox.hpp"

#include <fmt/format.h>

#include "crm/blob/codec.hpp"
#include "crm/core/stored_json.hpp"
#include "web_support.hpp"

namespace crm::pg {

using detail::bigint_array;
using detail::Cells;
using detail::run;

namespace {

// The columns read_row() reads, for SELECT and for UPDATE ... RETURNING.
constexpr std::string_view kColumns =
    "id, account_id, user_id, thread_id, parent_id, deal_id, message_id, mode, to_json, cc_json, "
    "bcc_json, subject, text_body, html_body, attachments_json, state, attempts, next_attempt_at, "
    "last_error, created_at, updated_at, sent_at, in_reply_to, refs, data_done_at, "
    "(SELECT coalesce(json_agg(json_build_array(r.recipient, r.action, r.status, r.diagnostic, "
    "coalesce(r.report_id::text, ''), r.reported_at::text) ORDER BY r.reported_at, r.recipient), "
    "'[]')::text FROM outbox_reports r WHERE r.outbox_id = outbox.id)";

// "SELECT <columns> FROM outbox " followed by `rest`.
std::string select_rows(std::string_view rest) {
    return fmt::format("SELECT {} FROM outbox {}", kColumns, rest);
}

OutboxRow read_row(Cells& c) {
    using Opt = std::optional<std::int64_t>;
    OutboxRow r;
    r.id = c.get<std::int64_t>(0);
    r.account = c.get<std::int64_t>(1);
    r.user = c.get<Opt>(2);
    r.thread = c.get<Opt>(3);
    r.parent = c.get<Opt>(4);
    r.deal = c.get<Opt>(5);
    r.message_id = c.get<std::string>(6);
    r.mode = c.get<std::string>(7);
    r.to = stored::decode_addresses(c.get<std::string>(8));
    r.cc = stored::decode_addresses(c.get<std::string>(9));
    r.bcc = stored::decode_addresses(c.get<std::string>(10));
    r.subject = c.get<std::string>(11);
    r.text_body = c.get<std::string>(12);
    r.html_body = c.get<std::string>(13);
    for (auto& a : stored::decode_rows(c.get<std::string>(14)))
        if (a.size() == 3)
            r.attachments.push_back({a[0], a[1], a[2]});
    r.state = c.get<std::string>(15);
    r.attempts = c.get<std::int64_t>(16);
    r.next_attempt_at = c.get<Opt>(17);
    r.last_error = c.get<std::string>(18);
    r.created_at = c.get<std::int64_t>(19);
    r.updated_at = c.get<std::int64_t>(20);
    r.sent_at = c.get<Opt>(21);
    r.in_reply_to = c.get<std::string>(22);
    r.references = stored::split_ws(c.get<std::string>(23));
    r.data_done_at = c.get<Opt>(24);
    r.reports = decode_outbox_reports(c.get<std::string>(25));
    return r;
}

Result<std::vector<OutboxRow>> read_rows(const ResultSet& rs) {
    std::vector<OutboxRow> out;
    for (int i = 0; i < rs.rows(); ++i) {
        Cells c(rs, i);
        out.push_back(read_row(c));
        if (c.error())
            return std::unexpected(*c.error());
    }
    return out;
}

Result<std::optional<SendingAccount>> read_account(const ResultSet& rs) {
    if (rs.rows() == 0)
        return std::nullopt;
    Cells c(rs, 0);
    SendingAccount a{c.get<std::int64_t>(0), c.get<std::string>(1), c.get<std::string>(2),
                     c.get<std::optional<std::int64_t>>(3), c.get<std::string>(4)};
    if (c.error())
        return std::unexpected(*c.error());
    return a;
}

} // namespace

std::optional<std::int64_t> PgOutbox::worker() const {
    if (!fence_)
        return std::nullopt;
    return fence_->worker();
}

Result<std::optional<ReplyParent>>
PgOutbox::reply_parent(ThreadId thread, const std::optional<std::string>& message_id) {
    constexpr std::string_view what = "reading the message to reply to";
    if (message_id && !detail::can_match(*message_id))
        return std::nullopt;
    // The newest by arrival here, never by the Date header: the sender writes that, and a forged
    // "Date: 2100-01-01" must not make its message the one a plain Reply answers.
    std::string sql = "SELECT m.id, m.thread_id, m.message_id, m.subject, m.refs, m.in_reply_to, "
                      "td.deal_id, m.suspicious FROM messages m LEFT JOIN thread_deals td ON "
                      "td.thread_id = m.thread_id WHERE m.thread_id = $1 ";
    sql += message_id ? "AND m.message_id = $2 " : "";
    sql += "ORDER BY m.received_at DESC, m.id DESC LIMIT 1";
    auto q = message_id ? run(c_, what, sql, thread, *message_id) : run(c_, what, sql, thread);
    if (!q)
        return std::unexpected(q.error());
    if (q->rows() == 0)
        return std::nullopt;
    ReplyParent p;
    {
        Cells c(*q, 0);
        p.id = c.get<std::int64_t>(0);
        p.thread = c.get<std::int64_t>(1);
        p.message_id = c.get<std::string>(2);
        p.subject = c.get<std::string>(3);
        p.references = stored::split_ws(c.get<std::string>(4));
        p.in_reply_to = stored::split_ws(c.get<std::string>(5));
        p.deal = c.get<std::optional<std::int64_t>>(6);
        p.suspicious = c.get<std::string>(7);
        if (c.error())
            return std::unexpected(*c.error());
    }
    auto pp = run(c_, what,
                  "SELECT role, written, display_name FROM participants WHERE message_id = $1 "
                  "ORDER BY role, position",
                  p.id);
    if (!pp)
        return std::unexpected(pp.error());
    for (int i = 0; i < pp->rows(); ++i) {
        Cells c(*pp, i);
        auto role = c.get<std::string>(0);
        Address a{c.get<std::string>(2), c.get<std::string>(1)};
        if (c.error())
            return std::unexpected(*c.error());
        if (role == "from")
            p.from.push_back(a);
        else if (role == "reply-to")
            p.reply_to.push_back(a);
        else if (role == "to")
            p.to.push_back(a);
        else if (role == "cc")
            p.cc.push_back(a);
    }
    // The account it came in through; for a reply of ours whose Sent copy is not synced yet (its
    // only location is "outbox:ID"), the account it was sent from. Replying again at once must
    // not ask for --account.
    auto l = run(c_, what,
                 "SELECT account_id FROM (SELECT account_id, 0 AS k, id FROM locations WHERE "
                 "message_id = $1 AND account_id IS NOT NULL UNION ALL SELECT account_id, 1, id "
                 "FROM outbox WHERE message_id = $2) AS via ORDER BY k, id LIMIT 1",
                 p.id, p.message_id);
    if (!l)
        return std::unexpected(l.error());
    if (l->rows() > 0) {
        auto a = l->get<std::int64_t>(0, 0);
        if (!a)
            return std::unexpected(a.error());
        p.account = *a;
    }
    return p;
}

Result<std::optional<SendingAccount>> PgOutbox::account(AccountId id) {
    auto r = run(c_, "reading an account",
                 "SELECT a.id, a.name, a.address, a.owner_id, coalesce(u.name, '') FROM accounts "
                 "a LEFT JOIN users u ON u.id = a.owner_id WHERE a.id = $1",
                 id);
    if (!r)
        return std::unexpected(r.error());
    return read_account(*r);
}

Result<std::optional<SendingAccount>> PgOutbox::account_by_name(const std::string& name) {
    if (!detail::can_match(name))
        return std::nullopt;
    auto r = run(c_, "reading an account",
                 "SELECT a.id, a.name, a.address, a.owner_id, coalesce(u.name, '') FROM accounts "
                 "a LEFT JOIN users u ON u.id = a.owner_id WHERE a.name = $1",
                 name);
    if (!r)
        return std::unexpected(r.error());
    return read_account(*r);
}

Result<std::vector<std::string>> PgOutbox::team_addresses() {
    // Sorted, as SQLite's UNION happens to return them (its DISTINCT walks a b-tree).
    auto r = run(c_, "reading team addresses",
                 "SELECT address FROM user_addresses UNION SELECT lower(address) FROM accounts "
                 "ORDER BY 1");
    if (!r)
        return std::unexpected(r.error());
    std::vector<std::string> out;
    for (int i = 0; i < r->rows(); ++i) {
        auto a = r->get<std::string>(i, 0);
        if (!a)
            return std::unexpected(a.error());
        out.push_back(std::move(*a));
    }
    return out;
}

Result<std::int64_t> PgOutbox::queue(const OutboxRow& r, const std::vector<std::string>& contents,
                                     std::int64_t now) {
    constexpr std::string_view what = "queueing a reply";
    if (contents.size() < r.attachments.size())
        return fail("outbox.attachment", fmt::format("{}: {} attachments but {} contents", what,
                                                     r.attachments.size(), contents.size()));
    std::vector<std::vector<std::string>> atts;
    for (const auto& a : r.attachments)
        atts.push_back({a.filename, a.content_type, a.sha256});
    const std::string to = stored::encode_addresses(r.to), cc = stored::encode_addresses(r.cc),
                      bcc = stored::encode_addresses(r.bcc), att = stored::encode_rows(atts),
                      refs = stored::join(r.references);
    // Every text column, checked before anything is written: a reply is queued whole or not.
    const std::pair<std::string_view, const std::string*> texts[] = {
        {"the Message-ID", &r.message_id},
        {"the mode", &r.mode},
        {"the recipients", &to},
        {"the Cc recipients", &cc},
        {"the Bcc recipients", &bcc},
        {"the subject", &r.subject},
        {"the text body", &r.text_body},
        {"the HTML body", &r.html_body},
        {"the attachments", &att},
        {"In-Reply-To", &r.in_reply_to},
        {"References", &refs}};
    for (const auto& [field, value] : texts)
        if (auto ok = detail::text_ok(*value, field, what); !ok)
            return std::unexpected(ok.error());
    for (std::size_t i = 0; i < r.attachments.size(); ++i) {
        // Attachments are kept as they are (codec 'none'), as SQLite's outbox keeps them.
        auto b = run(c_, what,
                     "INSERT INTO blobs (sha256, size, data) VALUES ($1, $2, $3) "
                     "ON CONFLICT (sha256) DO NOTHING",
                     r.attachments[i].sha256, static_cast<std::int64_t>(contents[i].size()),
                     Param::bytea(contents[i]));
        if (!b)
            return std::unexpected(b.error());
    }
    auto s = run(c_, what,
                 "INSERT INTO outbox (account_id, user_id, thread_id, parent_id, deal_id, "
                 "message_id, mode, to_json, cc_json, bcc_json, subject, text_body, html_body, "
                 "attachments_json, state, attempts, next_attempt_at, created_at, updated_at, "
                 "in_reply_to, refs) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
                 "$13, $14, 'queued', 0, $15, $16, $17, $18, $19) RETURNING id",
                 r.account, r.user, r.thread, r.parent, r.deal, r.message_id, r.mode, to, cc, bcc,
                 r.subject, r.text_body, r.html_body, att, now, now, now, r.in_reply_to, refs);
    if (!s)
        return std::unexpected(s.error());
    return s->get<std::int64_t>(0, 0);
}

Result<std::vector<OutboxRow>> PgOutbox::list(const std::optional<std::string>& state) {
    constexpr std::string_view what = "listing the outbox";
    if (state && !detail::can_match(*state))
        return std::vector<OutboxRow>{};
    auto r = state ? run(c_, what, select_rows("WHERE state = $1 ORDER BY id"), *state)
                   : run(c_, what, select_rows("ORDER BY id"));
    if (!r)
        return std::unexpected(r.error());
    return read_rows(*r);
}

Result<OutboxPage> PgOutbox::page(const OutboxFilter& f, std::optional<std::int64_t> before,
                                  std::size_t limit) {
    constexpr std::string_view what = "listing the outbox";
    OutboxPage out;
    if (f.state && !detail::can_match(*f.state))
        return out;
    constexpr const char* kWhere = "WHERE ($1::text IS NULL OR state = $1::text) AND ($2::bigint "
                                   "IS NULL OR user_id = $2::bigint) ";
    auto n = run(c_, what, std::string("SELECT count(*) FROM outbox ") + kWhere, f.state, f.user);
    if (!n)
        return std::unexpected(n.error());
    Cells c(*n, 0);
    out.total = c.get<std::int64_t>(0);
    if (c.error())
        return std::unexpected(*c.error());
    // With and without the cursor, two statements: an `OR` on a parameter would keep a
    // prepared statement's generic plan from starting the scan at the cursor.
    const auto lim = static_cast<std::int64_t>(limit) + 1;
    auto r = before ? run(c_, what,
                          select_rows(std::string(kWhere) +
                                      "AND id < $4::bigint ORDER BY id DESC LIMIT $3::bigint"),
                          f.state, f.user, lim, *before)
                    : run(c_, what,
                          select_rows(std::string(kWhere) + "ORDER BY id DESC LIMIT $3::bigint"),
                          f.state, f.user, lim);
    if (!r)
        return std::unexpected(r.error());
    auto rows = read_rows(*r);
    if (!rows)
        return std::unexpected(rows.error());
    out.rows = std::move(*rows);
    if (out.rows.size() > limit) {
        out.rows.resize(limit);
        out.next = out.rows.back().id;
    }
    return out;
}

Result<std::optional<OutboxRow>> PgOutbox::get(std::int64_t id) {
    auto r = run(c_, "reading an outbox entry", select_rows("WHERE id = $1"), id);
    if (!r)
        return std::unexpected(r.error());
    auto rows = read_rows(*r);
    if (!rows)
        return std::unexpected(rows.error());
    if (rows->empty())
        return std::nullopt;
    return std::move(rows->front());
}

Result<std::optional<OutboxRow>> PgOutbox::claim_due(std::int64_t now) {
    constexpr std::string_view what = "claiming a reply";
    const auto me = worker();
    std::vector<std::int64_t> accounts, epochs;
    if (me) {
        for (const auto& [account, epoch] : fence_->held()) {
            accounts.push_back(account);
            epochs.push_back(epoch);
        }
        if (accounts.empty())
            return std::nullopt; // no lease, nothing of ours to send
    }
    return detail::in_some_transaction(c_, [&]() -> Result<std::optional<OutboxRow>> {
        // FOR UPDATE SKIP LOCKED: a row another worker is claiming is passed over, not waited
        // for, and never claimed twice (SQLite's single daemon needed only the state check).
        // With a worker, only accounts whose lease it holds, in the epoch the database has now:
        // a lease lost but not yet noticed by the lease loop does not block the others' replies.
        std::string sql = "SELECT o.id, o.account_id FROM outbox o ";
        if (me)
            sql += "JOIN account_leases l ON l.account_id = o.account_id AND l.worker_id = $2 AND "
                   "l.expires_at > now() AND (l.account_id, l.epoch) IN (SELECT * FROM "
                   "unnest($3::bigint[], $4::bigint[])) ";
        sql += "WHERE o.state = 'queued' AND coalesce(o.next_attempt_at, 0) <= $1 ORDER BY o.id "
               "LIMIT 1 FOR UPDATE OF o SKIP LOCKED";
        auto pick = me ? run(c_, what, sql, now, *me, bigint_array(accounts), bigint_array(epochs))
                       : run(c_, what, sql, now);
        if (!pick)
            return std::unexpected(pick.error());
        if (pick->rows() == 0)
            return std::nullopt;
        Cells c(*pick, 0);
        const auto id = c.get<std::int64_t>(0);
        const AccountId account = c.get<std::int64_t>(1);
        if (c.error())
            return std::unexpected(*c.error());
        std::optional<std::int64_t> epoch;
        if (me) {
            // Holds the lease row FOR SHARE until this transaction ends: another worker's claim
            // of the account waits for the commit.
            if (auto held = fence_->check(c_, account); !held)
                return std::unexpected(detail::doing(what, held.error()));
            epoch = fence_->epoch(account);
        }
        auto u = run(c_, what,
                     fmt::format("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                                 "updated_at = $1, sending_worker_id = $2, sending_epoch = $3 "
                                 "WHERE id = $4 AND state = 'queued' RETURNING {}",
                                 kColumns),
                     now, me, epoch, id);
        if (!u)
            return std::unexpected(u.error());
        auto rows = read_rows(*u);
        if (!rows)
            return std::unexpected(rows.error());
        if (rows->empty())
            return std::nullopt; // someone else took it
        return std::move(rows->front());
    });
}

Result<std::string> PgOutbox::attachment_content(const std::string& sha256) {
    constexpr std::string_view what = "reading an attachment";
    if (!detail::can_match(sha256))
        return fail("outbox.attachment", "attachment content " + sha256 + " is missing");
    auto r = run(c_, what, "SELECT codec, size, data FROM blobs WHERE sha256 = $1", sha256);
    if (!r)
        return std::unexpected(r.error());
    if (r->rows() == 0)
        return fail("outbox.attachment", "attachment content " + sha256 + " is missing");
    Cells c(*r, 0);
    auto codec = c.get<std::string>(0);
    auto size = c.get<std::int64_t>(1);
    auto data = c.get<Bytea>(2);
    if (c.error())
        return std::unexpected(*c.error());
    return blob::unpack_blob(codec, data.bytes, static_cast<std::size_t>(size));
}

Result<void> PgOutbox::check_reply_lease(std::int64_t id, const std::string& missing) {
    // FOR UPDATE: the reply's state cannot change under this transaction (the CRM cancelling it,
    // another worker's recovery) between the check and the write.
    auto a = run(c_, "checking the lease of a reply's account",
                 "SELECT account_id FROM outbox WHERE id = $1 FOR UPDATE", id);
    if (!a)
        return std::unexpected(a.error());
    if (a->rows() == 0)
        return fail("outbox.not_found", missing);
    auto account = a->get<std::int64_t>(0, 0);
    if (!account)
        return std::unexpected(account.error());
    return fence_->check(c_, *account);
}

Result<void> PgOutbox::set_state(std::int64_t id, const std::string& state,
                                 const std::string& error,
                                 std::optional<std::int64_t> next_attempt_at, std::int64_t now) {
    constexpr std::string_view what = "updating an outbox entry";
    const std::string missing = fmt::format("outbox entry {} does not exist", id);
    if (!detail::can_match(state))
        return fail("outbox.not_found", missing);
    return detail::in_some_transaction(c_, [&]() -> Result<void> {
        if (worker())
            if (auto held = check_reply_lease(id, missing); !held)
                return held;
        // The server's reason is shown to people, not matched: what text cannot hold is replaced.
        // A bounce recorded while the reply was "sending": "sent" is "bounced" (see SQLite's).
        auto s = run(c_, what,
                     "UPDATE outbox SET state = CASE WHEN $1::text = 'sent' AND EXISTS (SELECT 1 "
                     "FROM outbox_reports r WHERE r.outbox_id = outbox.id AND r.action = "
                     "'failed') THEN 'bounced' ELSE $1::text END, last_error = CASE WHEN "
                     "$1::text = 'sent' THEN coalesce((SELECT 'bounced: ' || r.recipient || CASE "
                     "WHEN r.status <> '' THEN ' ' || r.status ELSE '' END || CASE WHEN "
                     "r.diagnostic <> '' THEN ': ' || r.diagnostic ELSE '' END FROM outbox_reports "
                     "r WHERE r.outbox_id = outbox.id AND r.action = 'failed' ORDER BY "
                     "r.reported_at, r.recipient LIMIT 1), $2) ELSE $2 END, next_attempt_at = $3, "
                     "updated_at = $4::bigint, sent_at = CASE WHEN $1::text = 'sent' THEN "
                     "$4::bigint ELSE sent_at END, data_done_at = CASE WHEN $1::text = 'queued' "
                     "THEN NULL ELSE data_done_at END WHERE id = $5",
                     state, detail::repair_text(error), next_attempt_at, now, id);
        if (!s)
            return std::unexpected(s.error());
        if (s->affected() != 1)
            return fail("outbox.not_found", missing);
        return {};
    });
}

Result<void> PgOutbox::mark_data_done(std::int64_t id, std::int64_t now) {
    const std::string missing = fmt::format("outbox entry {} is not being sent", id);
    return detail::in_some_transaction(c_, [&]() -> Result<void> {
        if (worker())
            if (auto held = check_reply_lease(id, missing); !held)
                return held;
        auto s = run(c_, "marking the end of a reply's data",
                     "UPDATE outbox SET data_done_at = $1, updated_at = $1 WHERE id = $2 AND "
                     "state = 'sending'",
                     now, id);
        if (!s)
            return std::unexpected(s.error());
        if (s->affected() != 1)
            return fail("outbox.not_found", missing);
        return {};
    });
}

Result<std::int64_t> PgOutbox::depth() {
    auto r = run(c_, "counting the outbox",
                 "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')");
    if (!r)
        return std::unexpected(r.error());
    return r->get<std::int64_t>(0, 0);
}

Result<std::vector<OutboxRow>> PgOutbox::interrupted(AccountId account) {
    constexpr std::string_view what = "listing interrupted replies";
    const auto me = worker();
    if (!me) {
        auto r =
            run(c_, what, select_rows("WHERE account_id = $1 AND state = 'sending' ORDER BY id"),
                account);
        if (!r)
            return std::unexpected(r.error());
        return read_rows(*r);
    }
    const auto epoch = fence_->epoch(account);
    if (!epoch)
        return fail(
            "lease.lost",
            fmt::format("{}: worker {} does not hold the lease of account {}", what, *me, account),
            ErrorScope::Account, Retry::Never);
    // IS DISTINCT FROM: a reply whose worker row was deleted (sending_worker_id NULL) or that was
    // claimed before workers existed (no epoch) is interrupted too.
    auto r =
        run(c_, what,
            select_rows("WHERE account_id = $1 AND state = 'sending' AND (sending_worker_id IS "
                        "DISTINCT FROM $2::bigint OR sending_epoch IS DISTINCT FROM "
                        "$3::bigint) ORDER BY id"),
            account, *me, *epoch);
    if (!r)
        return std::unexpected(r.error());
    return read_rows(*r);
}

} // namespace crm::pg
