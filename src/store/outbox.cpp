// The outbox and reply context over SQLite.
#include "crm/store/outbox.hpp"

#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

void bind_opt(SQLite::Statement& s, int i, const std::optional<std::int64_t>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

using stored::decode_addresses;
using stored::decode_rows;
using stored::encode_addresses;
using stored::encode_rows;
using stored::join;
using stored::split_ws;

constexpr const char* kSelect =
    "SELECT id, account_id, user_id, thread_id, parent_id, deal_id, message_id, mode, to_json, "
    "cc_json, bcc_json, subject, text_body, html_body, attachments_json, state, attempts, "
    "next_attempt_at, last_error, created_at, updated_at, sent_at, in_reply_to, refs, "
    "data_done_at, "
    "(SELECT json_group_array(json_array(recipient, action, status, diagnostic, "
    "coalesce(CAST(report_id AS TEXT), ''), CAST(reported_at AS TEXT))) FROM (SELECT * FROM "
    "outbox_reports r WHERE r.outbox_id = outbox.id ORDER BY reported_at, recipient)) "
    "FROM outbox ";

OutboxRow read_row(SQLite::Statement& q) {
    OutboxRow r;
    r.id = q.getColumn(0).getInt64();
    r.account = q.getColumn(1).getInt64();
    r.user = opt_col(q.getColumn(2));
    r.thread = opt_col(q.getColumn(3));
    r.parent = opt_col(q.getColumn(4));
    r.deal = opt_col(q.getColumn(5));
    r.message_id = q.getColumn(6).getString();
    r.mode = q.getColumn(7).getString();
    r.to = decode_addresses(q.getColumn(8).getString());
    r.cc = decode_addresses(q.getColumn(9).getString());
    r.bcc = decode_addresses(q.getColumn(10).getString());
    r.subject = q.getColumn(11).getString();
    r.text_body = q.getColumn(12).getString();
    r.html_body = q.getColumn(13).getString();
    for (auto& a : decode_rows(q.getColumn(14).getString()))
        if (a.size() == 3)
            r.attachments.push_back({a[0], a[1], a[2]});
    r.state = q.getColumn(15).getString();
    r.attempts = q.getColumn(16).getInt64();
    r.next_attempt_at = opt_col(q.getColumn(17));
    r.last_error = q.getColumn(18).getString();
    r.created_at = q.getColumn(19).getInt64();
    r.updated_at = q.getColumn(20).getInt64();
    r.sent_at = opt_col(q.getColumn(21));
    r.in_reply_to = q.getColumn(22).getString();
    r.references = split_ws(q.getColumn(23).getString());
    r.data_done_at = opt_col(q.getColumn(24));
    r.reports = decode_outbox_reports(q.getColumn(25).getString());
    return r;
}

} // namespace

Result<std::optional<ReplyParent>>
OutboxStore::reply_parent(ThreadId thread, const std::optional<std::string>& message_id) {
    return guard("reading the message to reply to", [&]() -> Result<std::optional<ReplyParent>> {
        auto& d = db_.impl();
        // The newest by arrival here, never by the Date header: the sender writes that, and a
        // forged "Date: 2100-01-01" must not make its message the one a plain Reply answers.
        std::string sql = "SELECT m.id, m.thread_id, m.message_id, m.subject, m.refs, "
                          "m.in_reply_to, td.deal_id, m.suspicious FROM messages m LEFT JOIN "
                          "thread_deals td ON td.thread_id = m.thread_id WHERE m.thread_id = ? ";
        sql += message_id ? "AND m.message_id = ? " : "";
        sql += "ORDER BY m.received_at DESC, m.id DESC LIMIT 1";
        auto& q = d.stmt(sql);
        q.bind(1, thread);
        if (message_id)
            q.bind(2, *message_id);
        if (!q.executeStep())
            return std::nullopt;
        ReplyParent p;
        p.id = q.getColumn(0).getInt64();
        p.thread = q.getColumn(1).getInt64();
        p.message_id = q.getColumn(2).getString();
        p.subject = q.getColumn(3).getString();
        p.references = split_ws(q.getColumn(4).getString());
        p.in_reply_to = split_ws(q.getColumn(5).getString());
        p.deal = opt_col(q.getColumn(6));
        p.suspicious = q.getColumn(7).getString();
        auto& pp = d.stmt("SELECT role, written, display_name FROM participants WHERE "
                          "message_id = ? ORDER BY role, position");
        pp.bind(1, p.id);
        while (pp.executeStep()) {
            std::string role = pp.getColumn(0).getString();
            Address a{pp.getColumn(2).getString(), pp.getColumn(1).getString()};
            if (role == "from")
                p.from.push_back(a);
            else if (role == "reply-to")
                p.reply_to.push_back(a);
            else if (role == "to")
                p.to.push_back(a);
            else if (role == "cc")
                p.cc.push_back(a);
        }
        // The account it came in through; for a reply of ours whose Sent copy is not synced yet
        // (its only location is "outbox:ID"), the account it was sent from. Replying again at
        // once must not ask for --account.
        auto& l = d.stmt("SELECT account_id FROM (SELECT account_id, 0 AS k, id FROM locations "
                         "WHERE message_id = ?1 AND account_id IS NOT NULL UNION ALL SELECT "
                         "account_id, 1, id FROM outbox WHERE message_id = ?2) ORDER BY k, id "
                         "LIMIT 1");
        l.bind(1, p.id);
        l.bind(2, p.message_id);
        if (l.executeStep())
            p.account = l.getColumn(0).getInt64();
        return p;
    });
}

Result<std::optional<SendingAccount>> OutboxStore::account(AccountId id) {
    return guard("reading an account", [&]() -> Result<std::optional<SendingAccount>> {
        auto& q = db_.impl().stmt("SELECT a.id, a.name, a.address, a.owner_id, coalesce(u.name, "
                                  "'') FROM accounts a LEFT JOIN users u ON u.id = a.owner_id "
                                  "WHERE a.id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            return std::nullopt;
        return SendingAccount{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                              q.getColumn(2).getString(), opt_col(q.getColumn(3)),
                              q.getColumn(4).getString()};
    });
}

Result<std::optional<SendingAccount>> OutboxStore::account_by_name(const std::string& name) {
    return guard("reading an account", [&]() -> Result<std::optional<SendingAccount>> {
        auto& q = db_.impl().stmt("SELECT id FROM accounts WHERE name = ?");
        q.bind(1, name);
        if (!q.executeStep())
            return std::nullopt;
        auto id = q.getColumn(0).getInt64();
        return account(id);
    });
}

Result<std::vector<std::string>> OutboxStore::team_addresses() {
    return guard("reading team addresses", [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        auto& q = db_.impl().stmt("SELECT address FROM user_addresses UNION SELECT lower(address) "
                                  "FROM accounts");
        while (q.executeStep())
            out.push_back(q.getColumn(0).getString());
        return out;
    });
}

Result<std::int64_t> OutboxStore::queue(const OutboxRow& r,
                                        const std::vector<std::string>& contents,
                                        std::int64_t now) {
    return guard("queueing a reply", [&]() -> Result<std::int64_t> {
        auto& d = db_.impl();
        std::vector<std::vector<std::string>> atts;
        for (std::size_t i = 0; i < r.attachments.size(); ++i) {
            const auto& a = r.attachments[i];
            auto& b = d.stmt("INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) "
                             "ON CONFLICT (sha256) DO NOTHING");
            b.bind(1, a.sha256);
            b.bind(2, static_cast<std::int64_t>(contents.at(i).size()));
            b.bindNoCopy(3, contents[i].data(), static_cast<int>(contents[i].size()));
            b.exec();
            atts.push_back({a.filename, a.content_type, a.sha256});
        }
        auto& s = d.stmt(
            "INSERT INTO outbox (account_id, user_id, thread_id, parent_id, deal_id, message_id, "
            "mode, to_json, cc_json, bcc_json, subject, text_body, html_body, attachments_json, "
            "state, attempts, next_attempt_at, created_at, updated_at, in_reply_to, refs) VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,'queued',0,?,?,?,?,?)");
        s.bind(1, r.account);
        bind_opt(s, 2, r.user);
        bind_opt(s, 3, r.thread);
        bind_opt(s, 4, r.parent);
        bind_opt(s, 5, r.deal);
        s.bind(6, r.message_id);
        s.bind(7, r.mode);
        s.bind(8, encode_addresses(r.to));
        s.bind(9, encode_addresses(r.cc));
        s.bind(10, encode_addresses(r.bcc));
        s.bind(11, r.subject);
        s.bind(12, r.text_body);
        s.bind(13, r.html_body);
        s.bind(14, encode_rows(atts));
        s.bind(15, now);
        s.bind(16, now);
        s.bind(17, now);
        s.bind(18, r.in_reply_to);
        s.bind(19, join(r.references));
        s.exec();
        return d.db.getLastInsertRowid();
    });
}

Result<std::vector<OutboxRow>> OutboxStore::list(const std::optional<std::string>& state) {
    return guard("listing the outbox", [&]() -> Result<std::vector<OutboxRow>> {
        auto& q = db_.impl().stmt(std::string(kSelect) +
                                  (state ? "WHERE state = ? ORDER BY id" : "ORDER BY id"));
        if (state)
            q.bind(1, *state);
        std::vector<OutboxRow> out;
        while (q.executeStep())
            out.push_back(read_row(q));
        return out;
    });
}

Result<OutboxPage> OutboxStore::page(const OutboxFilter& f, std::optional<std::int64_t> before,
                                     std::size_t limit) {
    return guard("listing the outbox", [&]() -> Result<OutboxPage> {
        auto& d = db_.impl();
        constexpr const char* kWhere =
            "WHERE (:state IS NULL OR state = :state) AND (:user IS NULL OR user_id = :user) ";
        const auto bind = [&](SQLite::Statement& q) {
            if (f.state)
                q.bind(":state", *f.state);
            if (f.user)
                q.bind(":user", *f.user);
        };
        OutboxPage out;
        auto& n = d.stmt(std::string("SELECT count(*) FROM outbox ") + kWhere);
        bind(n);
        if (n.executeStep())
            out.total = n.getColumn(0).getInt64();
        n.reset();
        auto& q = d.stmt(std::string(kSelect) + kWhere + (before ? "AND id < :before " : "") +
                         "ORDER BY id DESC LIMIT :limit");
        bind(q);
        if (before)
            q.bind(":before", *before);
        q.bind(":limit", static_cast<std::int64_t>(limit) + 1); // one more: is there a next page?
        while (q.executeStep())
            out.rows.push_back(read_row(q));
        q.reset();
        if (out.rows.size() > limit) {
            out.rows.resize(limit);
            out.next = out.rows.back().id;
        }
        return out;
    });
}

Result<std::optional<OutboxRow>> OutboxStore::get(std::int64_t id) {
    return guard("reading an outbox entry", [&]() -> Result<std::optional<OutboxRow>> {
        auto& q = db_.impl().stmt(std::string(kSelect) + "WHERE id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            return std::nullopt;
        return read_row(q);
    });
}

Result<std::optional<OutboxRow>> OutboxStore::claim_due(std::int64_t now) {
    return guard("claiming a reply", [&]() -> Result<std::optional<OutboxRow>> {
        auto& q = db_.impl().stmt(std::string(kSelect) +
                                  "WHERE state = 'queued' AND coalesce(next_attempt_at, 0) <= ? "
                                  "ORDER BY id LIMIT 1");
        q.bind(1, now);
        if (!q.executeStep())
            return std::nullopt;
        auto row = read_row(q);
        q.reset();
        auto& u = db_.impl().stmt("UPDATE outbox SET state = 'sending', attempts = attempts + 1, "
                                  "updated_at = ? WHERE id = ? AND state = 'queued'");
        u.bind(1, now);
        u.bind(2, row.id);
        if (u.exec() != 1)
            return std::nullopt; // someone else took it
        row.state = "sending";
        ++row.attempts;
        return row;
    });
}

Result<std::string> OutboxStore::attachment_content(const std::string& sha256) {
    return guard("reading an attachment", [&]() -> Result<std::string> {
        auto& q = db_.impl().stmt("SELECT codec, size, data FROM blobs WHERE sha256 = ?");
        q.bind(1, sha256);
        if (!q.executeStep())
            return fail("outbox.attachment", "attachment content " + sha256 + " is missing");
        return blob_of(q, 0);
    });
}

Result<void> OutboxStore::set_state(std::int64_t id, const std::string& state,
                                    const std::string& error,
                                    std::optional<std::int64_t> next_attempt_at, std::int64_t now) {
    return guard("updating an outbox entry", [&]() -> Result<void> {
        // A bounce that came back while the reply was still "sending" (its report recorded,
        // MailStore::record_delivery_report): "sent" is "bounced" then, with its reason.
        auto& s = db_.impl().stmt(
            "UPDATE outbox SET state = CASE WHEN ?1 = 'sent' AND EXISTS (SELECT 1 FROM "
            "outbox_reports r WHERE r.outbox_id = outbox.id AND r.action = 'failed') THEN "
            "'bounced' ELSE ?1 END, last_error = CASE WHEN ?1 = 'sent' THEN coalesce((SELECT "
            "'bounced: ' || r.recipient || CASE WHEN r.status <> '' THEN ' ' || r.status ELSE '' "
            "END || CASE WHEN r.diagnostic <> '' THEN ': ' || r.diagnostic ELSE '' END FROM "
            "outbox_reports r WHERE r.outbox_id = outbox.id AND r.action = 'failed' ORDER BY "
            "r.reported_at, r.recipient LIMIT 1), ?2) ELSE ?2 END, next_attempt_at = ?3, "
            "updated_at = ?4, sent_at = CASE WHEN ?1 = 'sent' THEN ?4 ELSE sent_at END, "
            "data_done_at = CASE WHEN ?1 = 'queued' THEN NULL ELSE data_done_at END WHERE id = ?5");
        s.bind(1, state);
        s.bind(2, error);
        bind_opt(s, 3, next_attempt_at);
        s.bind(4, now);
        s.bind(5, id);
        if (s.exec() != 1)
            return fail("outbox.not_found", fmt::format("outbox entry {} does not exist", id));
        return {};
    });
}

Result<void> OutboxStore::mark_data_done(std::int64_t id, std::int64_t now) {
    return guard("marking the end of a reply's data", [&]() -> Result<void> {
        auto& s = db_.impl().stmt("UPDATE outbox SET data_done_at = ?1, updated_at = ?1 WHERE id = "
                                  "?2 AND state = 'sending'");
        s.bind(1, now);
        s.bind(2, id);
        if (s.exec() != 1)
            return fail("outbox.not_found", fmt::format("outbox entry {} is not being sent", id));
        return {};
    });
}

Result<std::int64_t> OutboxStore::depth() {
    return guard("counting the outbox", [&]() -> Result<std::int64_t> {
        auto& q = db_.impl().stmt(
            "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')");
        q.executeStep();
        return q.getColumn(0).getInt64();
    });
}

} // namespace crm::store
