// ThreadIndex and MailStore over SQLite.
#include "crm/store/store.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <span>

#include "crm/blob/codec.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/core/thread_split.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

// `data` is `size` original bytes encoded with `codec` (blob_codec.hpp).
void put_blob(Database::Impl& d, const std::string& sha, std::size_t size, const std::string& codec,
              std::string_view data) {
    auto& ins = d.stmt("INSERT INTO blobs (sha256, size, codec, data) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (sha256) DO NOTHING");
    ins.bind(1, sha);
    ins.bind(2, static_cast<std::int64_t>(size));
    ins.bindNoCopy(3, codec);
    // The bytes outlive exec(): let SQLite read them in place instead of copying.
    ins.bindNoCopy(4, data.data(), static_cast<int>(data.size()));
    ins.exec();
}

void bind_opt(SQLite::Statement& s, int i, const std::optional<std::int64_t>& v) {
    if (v)
        s.bind(i, *v);
    else
        s.bind(i);
}

// Recomputes the cached counters of a thread from its messages.
void refresh_thread(Database::Impl& d, ThreadId t, std::int64_t now) {
    auto& s = d.stmt(
        "UPDATE threads SET"
        " message_count = (SELECT count(*) FROM messages WHERE thread_id = ?1),"
        " unread_count = (SELECT count(*) FROM messages WHERE thread_id = ?1 AND unread),"
        " first_date = (SELECT min(coalesce(date, received_at)) FROM messages WHERE thread_id = ?1),"
        " last_date = (SELECT max(coalesce(date, received_at)) FROM messages WHERE thread_id = ?1),"
        " subject = coalesce((SELECT subject FROM messages WHERE thread_id = ?1"
        "   ORDER BY coalesce(date, received_at), id LIMIT 1), subject),"
        " updated_at = ?2 WHERE id = ?1");
    s.bind(1, t);
    s.bind(2, now);
    s.exec();
}

// One deal with its contacts; nullopt when it does not exist.
std::optional<DealRecord> read_deal(Database::Impl& d, DealId id) {
    auto& q = d.stmt("SELECT name, company_id, owner_id, updated_at FROM deals WHERE id = ?");
    q.bind(1, id);
    if (!q.executeStep())
        return std::nullopt;
    DealRecord r;
    r.id = id;
    r.name = q.getColumn(0).getString();
    r.company = opt_col(q.getColumn(1));
    r.owner = opt_col(q.getColumn(2));
    r.updated_at = q.getColumn(3).getInt64();
    q.reset();
    auto& qc = d.stmt("SELECT contact_id FROM deal_contacts WHERE deal_id = ? ORDER BY contact_id");
    qc.bind(1, id);
    while (qc.executeStep())
        r.contacts.push_back(qc.getColumn(0).getInt64());
    return r;
}

} // namespace

// ---- ThreadIndex -------------------------------------------------------------------------

Result<std::vector<ThreadId>> Store::threads_for_keys(std::span<const std::string> keys) {
    return guard("looking up thread keys", [&]() -> Result<std::vector<ThreadId>> {
        // One statement for all keys (References chains can be long).
        const std::string arr = json_string_array(keys);
        auto& q = db_.impl().stmt("SELECT DISTINCT thread_id FROM thread_keys WHERE key IN "
                                  "(SELECT value FROM json_each(?)) ORDER BY thread_id");
        q.bindNoCopy(1, arr);
        std::vector<ThreadId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

Result<std::vector<SubjectCandidate>> Store::subject_candidates(std::string_view base_subject,
                                                                std::int64_t from,
                                                                std::int64_t to) {
    return guard("looking up subject candidates", [&]() -> Result<std::vector<SubjectCandidate>> {
        std::vector<SubjectCandidate> out;
        auto& q = db_.impl().stmt(
            "SELECT id, message_id, thread_id, coalesce(date, received_at), is_bulk, subject_reply"
            " FROM messages WHERE base_subject = ? AND coalesce(date, received_at) BETWEEN ? AND ?"
            " LIMIT 200");
        q.bind(1, std::string(base_subject));
        q.bind(2, from);
        q.bind(3, to);
        std::vector<MessageRowId> rows;
        while (q.executeStep()) {
            SubjectCandidate c;
            rows.push_back(q.getColumn(0).getInt64());
            c.message_id = q.getColumn(1).getString();
            c.thread_id = q.getColumn(2).getInt64();
            c.date = q.getColumn(3).getInt64();
            c.is_bulk = q.getColumn(4).getInt() != 0;
            c.subject_reply = q.getColumn(5).getInt() != 0;
            out.push_back(std::move(c));
        }
        // Team members are in every conversation of a mailbox: they never tie two together.
        auto& p = db_.impl().stmt(
            "SELECT DISTINCT address, company_id FROM participants WHERE message_id = ? AND "
            "address != '' AND user_id IS NULL AND role IN ('from', 'to', 'cc', 'reply-to')");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            p.reset();
            p.bind(1, rows[i]);
            auto& who = out[i].participants;
            while (p.executeStep()) {
                who.push_back(p.getColumn(0).getString());
                if (!p.getColumn(1).isNull()) {
                    std::string company = fmt::format("company:{}", p.getColumn(1).getInt64());
                    if (std::find(who.begin(), who.end(), company) == who.end())
                        who.push_back(std::move(company));
                }
            }
        }
        return out;
    });
}

Result<ThreadId> Store::create_thread() {
    return guard("creating a thread", [&]() -> Result<ThreadId> {
        auto& s = db_.impl().stmt(
            "INSERT INTO threads (created_at, updated_at) VALUES (strftime('%s','now'), "
            "strftime('%s','now'))");
        s.exec();
        return db_.impl().db.getLastInsertRowid();
    });
}

Result<void> Store::merge_threads(ThreadId into, ThreadId from) {
    if (into == from)
        return {};
    return guard("merging threads", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto run = [&](const char* sql) {
            auto& s = d.stmt(sql);
            s.bind(1, into);
            s.bind(2, from);
            s.exec();
        };
        run("UPDATE thread_keys SET thread_id = ?1 WHERE thread_id = ?2");
        run("UPDATE messages SET thread_id = ?1 WHERE thread_id = ?2");
        run("UPDATE outbox SET thread_id = ?1 WHERE thread_id = ?2");
        // Deal links: a manual link wins; else the surviving thread's link; else the other's.
        run("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, linked_by, "
            "linked_at) SELECT ?1, deal_id, manual, reason, score, linked_by, linked_at "
            "FROM thread_deals WHERE thread_id = ?2 "
            "ON CONFLICT (thread_id) DO UPDATE SET deal_id = excluded.deal_id, manual = 1, "
            "reason = excluded.reason, linked_by = excluded.linked_by, linked_at = "
            "excluded.linked_at WHERE excluded.manual = 1 AND thread_deals.manual = 0");
        run("DELETE FROM thread_deals WHERE thread_id = ?2 AND ?1 = ?1");
        // The unsorted entry goes when the merged thread is linked.
        run("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
            "SELECT ?1, reason, suggestions, queued_at, held FROM unsorted WHERE thread_id = ?2 "
            "ON CONFLICT (thread_id) DO UPDATE SET held = max(unsorted.held, excluded.held)");
        run("DELETE FROM unsorted WHERE thread_id = ?2 AND ?1 = ?1");
        run("DELETE FROM unsorted WHERE thread_id = ?1 AND EXISTS (SELECT 1 FROM thread_deals "
            "WHERE thread_id = ?1) AND ?2 = ?2");
        run("UPDATE thread_splits SET thread_id = ?1 WHERE thread_id = ?2");
        run("UPDATE thread_splits SET from_thread_id = ?1 WHERE from_thread_id = ?2");
        run("DELETE FROM threads WHERE id = ?2 AND ?1 = ?1");
        refresh_thread(d, into, 0);
        return {};
    });
}

Result<void> Store::add_keys(ThreadId thread, std::span<const std::string> keys) {
    return guard("recording thread keys", [&]() -> Result<void> {
        auto& s = db_.impl().stmt(
            "INSERT INTO thread_keys (key, thread_id) VALUES (?, ?) ON CONFLICT (key) DO NOTHING");
        for (const auto& k : keys) {
            s.reset();
            s.bind(1, k);
            s.bind(2, thread);
            s.exec();
        }
        return {};
    });
}

Result<std::optional<DealId>> Store::linked_deal(ThreadId thread) {
    auto link = thread_link(thread);
    if (!link)
        return std::unexpected(link.error());
    if (!*link)
        return std::nullopt;
    return (*link)->deal;
}

Result<bool> Store::kept_apart(ThreadId a, ThreadId b) {
    return guard("looking up thread splits", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(
            "SELECT 1 FROM thread_splits WHERE (thread_id = ?1 AND from_thread_id = ?2) OR "
            "(thread_id = ?2 AND from_thread_id = ?1) LIMIT 1");
        q.bind(1, a);
        q.bind(2, b);
        const bool found = q.executeStep();
        q.reset();
        return found;
    });
}

// ---- MailStore ---------------------------------------------------------------------------

Result<std::optional<MessageRowId>> Store::find_message(std::string_view message_id,
                                                        std::string_view content_hash) {
    return guard("looking up a message", [&]() -> Result<std::optional<MessageRowId>> {
        auto& q = db_.impl().stmt(
            "SELECT id FROM messages WHERE message_id = ? AND content_hash = ?");
        q.bind(1, std::string(message_id));
        q.bind(2, std::string(content_hash));
        if (q.executeStep())
            return q.getColumn(0).getInt64();
        return std::nullopt;
    });
}

Result<bool> Store::add_location(MessageRowId message, const LocationRef& w, std::int64_t now) {
    return guard("recording a location", [&]() -> Result<bool> {
        auto& s = db_.impl().stmt(
            "INSERT INTO locations (message_id, account_id, mailbox_id, uid_validity, uid, "
            "gm_msgid, flags, source, owner_id, created_at, labels) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "?, "
            "?, ?, ?) ON CONFLICT DO NOTHING");
        s.bind(1, message);
        bind_opt(s, 2, w.account);
        bind_opt(s, 3, w.mailbox);
        bind_opt(s, 4, w.uid_validity);
        bind_opt(s, 5, w.uid);
        bind_opt(s, 6, w.gm_msgid);
        s.bind(7, w.flags);
        if (w.source.empty())
            s.bind(8);
        else
            s.bind(8, w.source);
        bind_opt(s, 9, w.owner);
        s.bind(10, now);
        s.bind(11, stored::json_string_array(w.labels));
        return s.exec() > 0;
    });
}

Result<AddressFacts> Store::lookup_address(std::string_view canonical) {
    return guard("looking up an address", [&]() -> Result<AddressFacts> {
        AddressFacts f;
        auto& d = db_.impl();
        std::string addr(canonical);
        auto& u = d.stmt("SELECT user_id FROM user_addresses WHERE address = ?");
        u.bind(1, addr);
        if (u.executeStep())
            f.user = u.getColumn(0).getInt64();
        auto& c = d.stmt("SELECT c.id, c.company_id FROM contact_addresses a JOIN contacts c "
                         "ON c.id = a.contact_id WHERE a.address = ?");
        c.bind(1, addr);
        if (c.executeStep()) {
            f.contact = c.getColumn(0).getInt64();
            f.company = opt_col(c.getColumn(1));
        }
        if (!f.company) {
            auto at = addr.rfind('@');
            if (at != std::string::npos) {
                auto& dq = d.stmt("SELECT company_id FROM company_domains WHERE domain = ?");
                dq.bind(1, addr.substr(at + 1));
                if (dq.executeStep())
                    f.company = dq.getColumn(0).getInt64();
            }
        }
        return f;
    });
}

Result<MessageRowId> Store::insert_message(const NewMessage& n) {
    return guard("storing message " + n.message_id, [&]() -> Result<MessageRowId> {
        auto& d = db_.impl();
        const ParsedMessage& m = *n.parsed;
        PackedBlob packed_here;
        const PackedBlob* raw = n.raw_packed;
        if (raw == nullptr) {
            packed_here = blob::pack_blob(n.raw);
            raw = &packed_here;
        }
        put_blob(d, n.raw_sha256, raw->size, raw->codec, raw->bytes);
        auto& s = d.stmt(
            "INSERT INTO messages (message_id, synthetic_id, content_hash, thread_id, subject, "
            "base_subject, subject_reply, from_name, from_address, date, received_at, refs, "
            "in_reply_to, headers_json, text_body, html_body, raw_sha256, raw_size, is_bulk, "
            "list_id, direction, unread, unparsable, warnings_json, parser_version, suspicious, "
            "auto_kind) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        s.bind(1, n.message_id);
        s.bind(2, n.synthetic_id ? 1 : 0);
        s.bind(3, m.content_hash);
        s.bind(4, n.thread);
        s.bind(5, m.subject);
        s.bind(6, n.base_subject);
        s.bind(7, n.subject_reply ? 1 : 0);
        s.bind(8, m.from.empty() ? std::string() : m.from.front().name);
        s.bind(9, n.from_address);
        bind_opt(s, 10, m.date);
        s.bind(11, n.received_at);
        s.bind(12, stored::join(m.references));
        s.bind(13, stored::join(m.in_reply_to));
        const std::string headers = json_pair_array(m.headers);
        s.bindNoCopy(14, headers);
        s.bindNoCopy(15, m.text_body);
        s.bindNoCopy(16, m.html_body);
        s.bind(17, n.raw_sha256);
        s.bind(18, static_cast<std::int64_t>(raw->size));
        s.bind(19, m.is_bulk ? 1 : 0);
        s.bind(20, m.list_id);
        s.bind(21, n.outgoing ? "out" : "in");
        s.bind(22, n.unread ? 1 : 0);
        s.bind(23, m.unparsable ? 1 : 0);
        const std::string warnings = json_string_array(m.warnings);
        s.bindNoCopy(24, warnings);
        s.bind(25, n.parser_version);
        s.bind(26, n.suspicious);
        s.bind(27, std::string(auto_kind_name(m.report.kind)));
        s.exec();
        MessageRowId id = d.db.getLastInsertRowid();

        auto& p = d.stmt("INSERT INTO participants (message_id, role, position, address, written, "
                         "display_name, contact_id, company_id, user_id) VALUES "
                         "(?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING");
        std::map<std::string, int> positions;
        for (const auto& r : n.participants) {
            p.reset();
            p.bind(1, id);
            p.bind(2, r.role);
            p.bind(3, positions[r.role]++);
            p.bind(4, r.address);
            p.bind(5, r.written);
            p.bind(6, r.name);
            bind_opt(p, 7, r.facts.contact);
            bind_opt(p, 8, r.facts.company);
            bind_opt(p, 9, r.facts.user);
            p.exec();
        }
        auto& a = d.stmt("INSERT INTO attachments (message_id, position, filename, content_type, "
                         "content_id, is_inline, size, sha256) VALUES (?,?,?,?,?,?,?,?)");
        int pos = 0;
        // Only the metadata: the bytes are in the raw message (schema/0009), which the reader
        // decodes again (WebStore::attachment).
        for (const auto& att : m.attachments) {
            a.reset();
            a.bind(1, id);
            a.bind(2, pos++);
            a.bind(3, att.filename);
            a.bind(4, att.content_type);
            a.bind(5, att.content_id);
            a.bind(6, att.is_inline ? 1 : 0);
            a.bind(7, static_cast<std::int64_t>(att.size));
            a.bind(8, att.sha256);
            a.exec();
        }
        // The full-text index (schema/0014), from the rows just written, in this transaction.
        auto& fts = d.stmt("INSERT INTO message_search (rowid, subject, body, sender, recipients, "
                           "files) SELECT id, subject, body, sender, recipients, files FROM "
                           "message_search_content WHERE id = ?");
        fts.bind(1, id);
        fts.exec();
        // Counters move incrementally (a full recount per insert would be quadratic in the
        // thread's size); merges and flag changes recount.
        const std::int64_t when = m.date.value_or(n.received_at);
        auto& t = d.stmt(
            "UPDATE threads SET message_count = message_count + 1, unread_count = unread_count + ?2,"
            " subject = CASE WHEN first_date IS NULL OR ?3 < first_date THEN ?4 ELSE subject END,"
            " first_date = min(coalesce(first_date, ?3), ?3), last_date = max(coalesce(last_date,"
            " ?3), ?3), updated_at = ?5 WHERE id = ?1");
        t.bind(1, n.thread);
        t.bind(2, n.unread ? 1 : 0);
        t.bind(3, when);
        t.bindNoCopy(4, m.subject);
        t.bind(5, n.received_at);
        t.exec();
        return id;
    });
}

Result<std::optional<std::string>> Store::raw_message(MessageRowId id) {
    return guard("reading a raw message", [&]() -> Result<std::optional<std::string>> {
        auto& q = db_.impl().stmt("SELECT b.codec, b.size, b.data FROM messages m JOIN blobs b ON "
                                  "b.sha256 = m.raw_sha256 WHERE m.id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            return std::nullopt;
        auto raw = blob_of(q, 0);
        if (!raw)
            return std::unexpected(raw.error());
        return std::optional<std::string>(std::move(*raw));
    });
}

Result<std::optional<ThreadLink>> Store::thread_link(ThreadId thread) {
    return guard("reading a thread link", [&]() -> Result<std::optional<ThreadLink>> {
        auto& q = db_.impl().stmt("SELECT deal_id, manual FROM thread_deals WHERE thread_id = ?");
        q.bind(1, thread);
        if (q.executeStep())
            return ThreadLink{q.getColumn(0).getInt64(), q.getColumn(1).getInt() != 0};
        return std::nullopt;
    });
}

Result<std::vector<DealId>> Store::deals_of_our_message_ids(std::span<const std::string> ids) {
    return guard("looking up deal tokens", [&]() -> Result<std::vector<DealId>> {
        std::vector<DealId> out;
        if (ids.empty())
            return out;
        const std::string arr = json_string_array(ids);
        auto& q = db_.impl().stmt(
            "SELECT deal_id FROM outbox WHERE message_id IN (SELECT value FROM json_each(?)) "
            "AND deal_id IS NOT NULL ORDER BY id");
        q.bindNoCopy(1, arr);
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

Result<bool> Store::is_followup_reminder(const std::string& message_id) {
    return guard("looking up a follow-up reminder", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("SELECT 1 FROM followup_reminders WHERE message_id = ?");
        q.bind(1, message_id);
        const bool found = q.executeStep();
        q.reset();
        return found;
    });
}

Result<std::vector<DealRecord>> Store::open_deals(std::span<const ContactId> contacts,
                                                  std::span<const CompanyId> companies) {
    return guard("looking up open deals", [&]() -> Result<std::vector<DealRecord>> {
        auto& d = db_.impl();
        std::set<DealId> ids;
        auto& byc = d.stmt("SELECT dc.deal_id FROM deal_contacts dc JOIN deals x ON x.id = "
                           "dc.deal_id WHERE dc.contact_id = ? AND x.status = 'open'");
        for (auto c : contacts) {
            byc.reset();
            byc.bind(1, c);
            while (byc.executeStep())
                ids.insert(byc.getColumn(0).getInt64());
        }
        auto& byco = d.stmt("SELECT id FROM deals WHERE company_id = ? AND status = 'open'");
        for (auto c : companies) {
            byco.reset();
            byco.bind(1, c);
            while (byco.executeStep())
                ids.insert(byco.getColumn(0).getInt64());
        }
        std::vector<DealRecord> out;
        for (auto id : ids)
            if (auto r = read_deal(d, id))
                out.push_back(std::move(*r));
        return out;
    });
}

Result<std::vector<std::string>> Store::company_domains() {
    return guard("reading company domains", [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        auto& q = db_.impl().stmt("SELECT domain FROM company_domains ORDER BY domain");
        while (q.executeStep())
            out.push_back(q.getColumn(0).getString());
        return out;
    });
}

Result<void> Store::place(ThreadId thread, MessageRowId message, const Placement& p,
                          std::int64_t now) {
    return guard("filing a thread", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& r = d.stmt("UPDATE messages SET sort_reason = ? WHERE id = ?");
        r.bind(1, p.reason);
        r.bind(2, message);
        r.exec();
        if (p.keep_existing)
            return {};
        if (p.deal) {
            // Never overwrite a manual link (the sorter asked to keep it, but be sure).
            auto& s = d.stmt(
                "INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, linked_at) "
                "VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET "
                "deal_id = excluded.deal_id, reason = excluded.reason, score = excluded.score, "
                "linked_at = excluded.linked_at WHERE thread_deals.manual = 0");
            s.bind(1, thread);
            s.bind(2, *p.deal);
            s.bind(3, p.reason);
            s.bind(4, p.score);
            s.bind(5, now);
            s.exec();
            auto& del = d.stmt("DELETE FROM unsorted WHERE thread_id = ?");
            del.bind(1, thread);
            del.exec();
        } else {
            if (p.hold) {
                auto& del = d.stmt("DELETE FROM thread_deals WHERE thread_id = ? AND manual = 0");
                del.bind(1, thread);
                del.exec();
            }
            auto& s = d.stmt(
                "INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
                "SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS (SELECT 1 FROM thread_deals WHERE "
                "thread_id = ?1) ON CONFLICT (thread_id) DO UPDATE SET reason = excluded.reason, "
                "suggestions = excluded.suggestions, held = max(unsorted.held, excluded.held)");
            s.bind(1, thread);
            s.bind(2, p.reason);
            s.bind(3, join_ids(p.suggestions));
            s.bind(4, now);
            s.bind(5, p.hold ? 1 : 0);
            s.exec();
        }
        return {};
    });
}

Result<Store::SplitResult> Store::split_message(MessageRowId message, std::optional<UserId> by,
                                               std::int64_t now,
                                               const std::optional<std::vector<MessageRowId>>& movable) {
    return guard("splitting a thread", [&]() -> Result<SplitResult> {
        auto& d = db_.impl();
        auto& q = d.stmt("SELECT thread_id FROM messages WHERE id = ?");
        q.bind(1, message);
        if (!q.executeStep())
            return fail("message.not_found", fmt::format("message {} does not exist", message));
        SplitResult out;
        out.from = q.getColumn(0).getInt64();
        q.reset();

        // The thread's messages and what each references.
        std::vector<SplitCandidate> rows;
        auto& m = d.stmt("SELECT id, message_id, refs || ' ' || in_reply_to FROM messages "
                         "WHERE thread_id = ?");
        m.bind(1, out.from);
        while (m.executeStep())
            rows.push_back({m.getColumn(0).getInt64(), m.getColumn(1).getString(),
                            stored::split_ws(m.getColumn(2).getString())});
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
        const std::string ids = "[" + join_ids(moved, ',') + "]";
        auto& mv = d.stmt("UPDATE messages SET thread_id = ?1, sort_reason = ?3 WHERE id IN "
                          "(SELECT value FROM json_each(?2))");
        std::string who = "crm-mailctl";
        if (by) {
            auto& u = d.stmt("SELECT name FROM users WHERE id = ?");
            u.bind(1, *by);
            if (u.executeStep())
                who = u.getColumn(0).getString();
            u.reset();
        }
        const std::string reason = fmt::format("split from thread {} by {}", out.from, who);
        mv.bind(1, out.thread);
        mv.bind(2, ids);
        mv.bind(3, reason);
        mv.exec();
        // Their own ids go with them; ghosts and conversation keys (gm-thrid, thread-index)
        // stay with the thread they were split from.
        std::vector<std::string> keys(moved_ids.begin(), moved_ids.end());
        const std::string key_arr = json_string_array(keys);
        auto& k = d.stmt("UPDATE thread_keys SET thread_id = ?1 WHERE thread_id = ?2 AND key IN "
                         "(SELECT value FROM json_each(?3))");
        k.bind(1, out.thread);
        k.bind(2, out.from);
        k.bind(3, key_arr);
        k.exec();
        auto& ob = d.stmt("UPDATE outbox SET thread_id = ?1 WHERE parent_id IN "
                          "(SELECT value FROM json_each(?2))");
        ob.bind(1, out.thread);
        ob.bind(2, ids);
        ob.exec();
        auto& sp = d.stmt("INSERT INTO thread_splits (thread_id, from_thread_id, message_id, moved, "
                          "split_by, split_at) VALUES (?, ?, ?, ?, ?, ?)");
        sp.bind(1, out.thread);
        sp.bind(2, out.from);
        sp.bind(3, message);
        sp.bind(4, static_cast<std::int64_t>(out.moved));
        bind_opt(sp, 5, by);
        sp.bind(6, now);
        sp.exec();
        auto& un = d.stmt("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
                          "VALUES (?, ?, '', ?, 1)");
        un.bind(1, out.thread);
        un.bind(2, reason);
        un.bind(3, now);
        un.exec();
        refresh_thread(d, out.from, now);
        refresh_thread(d, out.thread, now);
        return out;
    });
}

Result<std::vector<ThreadParticipant>> Store::thread_participants(ThreadId thread) {
    return guard("reading a thread's participants", [&]() -> Result<std::vector<ThreadParticipant>> {
        std::vector<ThreadParticipant> out;
        auto& q = db_.impl().stmt(
            "SELECT DISTINCT p.address, p.contact_id, p.company_id FROM messages m "
            "JOIN participants p ON p.message_id = m.id WHERE m.thread_id = ? AND m.is_bulk = 0 "
            "AND p.user_id IS NULL AND p.address != '' AND p.role IN ('from', 'to', 'cc', "
            "'reply-to') LIMIT 500");
        q.bind(1, thread);
        while (q.executeStep())
            out.push_back({q.getColumn(0).getString(), opt_col(q.getColumn(1)),
                           opt_col(q.getColumn(2))});
        return out;
    });
}

Result<std::optional<DealRecord>> Store::deal_record(DealId deal) {
    return guard("reading a deal", [&]() -> Result<std::optional<DealRecord>> {
        return read_deal(db_.impl(), deal);
    });
}

Result<bool> Store::thread_held(ThreadId thread) {
    return guard("reading a thread's queue entry", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("SELECT held FROM unsorted WHERE thread_id = ?");
        q.bind(1, thread);
        const bool held = q.executeStep() && q.getColumn(0).getInt() != 0;
        q.reset();
        return held;
    });
}

Result<std::vector<std::string>> Store::team_domains() {
    return guard("reading the team's domains", [&]() -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        auto& q = db_.impl().stmt(
            "SELECT DISTINCT substr(address, instr(address, '@') + 1) FROM user_addresses "
            "WHERE instr(address, '@') > 0 ORDER BY 1");
        while (q.executeStep())
            out.push_back(q.getColumn(0).getString());
        return out;
    });
}

Result<std::optional<std::int64_t>> Store::record_delivery_report(const DeliveryReportRow& r) {
    return guard(
        "recording a delivery report on " + r.original_message_id,
        [&]() -> Result<std::optional<std::int64_t>> {
            auto& d = db_.impl();
            auto& q =
                d.stmt("SELECT id, to_json, cc_json, bcc_json FROM outbox WHERE message_id = ?");
            q.bind(1, r.original_message_id);
            if (!q.executeStep()) {
                q.reset();
                return std::nullopt;
            }
            const std::int64_t id = q.getColumn(0).getInt64();
            std::vector<Address> sent_to;
            for (int c = 1; c <= 3; ++c)
                for (auto& a : stored::decode_addresses(q.getColumn(c).getString()))
                    sent_to.push_back(std::move(a));
            q.reset();
            const auto about = report_for_entry(r, sent_to);
            if (!about)
                return std::nullopt;
            auto& ins = d.stmt(
                "INSERT INTO outbox_reports (outbox_id, recipient, action, status, diagnostic, "
                "report_id, reported_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (outbox_id, recipient, "
                "action) DO UPDATE SET status = excluded.status, diagnostic = excluded.diagnostic, "
                "report_id = excluded.report_id, reported_at = excluded.reported_at");
            for (const auto& x : delivery_report_rows(*about)) {
                ins.reset();
                ins.bind(1, id);
                ins.bind(2, x.address);
                ins.bind(3, x.action);
                ins.bind(4, x.status);
                ins.bind(5, x.diagnostic);
                ins.bind(6, r.report);
                ins.bind(7, r.at);
                ins.exec();
            }
            // Only a failure of one of its own recipients bounces the entry.
            if (r.kind == AutoKind::Bounce && !about->recipients.empty()) {
                auto& up =
                    d.stmt("UPDATE outbox SET state = 'bounced', last_error = ?, updated_at = ? "
                           "WHERE id = ? AND state IN ('sent', 'unknown', 'bounced')");
                up.bind(1, bounce_reason(*about));
                up.bind(2, r.at);
                up.bind(3, id);
                up.exec();
                up.reset();
            }
            return std::optional<std::int64_t>(id);
        });
}

} // namespace crm::store
