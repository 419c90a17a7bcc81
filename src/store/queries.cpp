// Read queries and manual link changes for crm-mailctl (and later the HTTP API).
#include <algorithm>
#include <charconv>
#include <map>

#include "crm/core/exports.hpp"
#include "crm/core/reason_text.hpp"
#include "crm/store/store.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {


Result<std::vector<ThreadSummary>> Store::list_threads(ThreadFilter f, DealId deal) {
    return guard("listing threads", [&]() -> Result<std::vector<ThreadSummary>> {
        auto& d = db_.impl();
        std::string sql = kThreadSelect;
        if (f == ThreadFilter::Deal)
            sql += "WHERE td.deal_id = ? ";
        else if (f == ThreadFilter::Unsorted)
            sql += "WHERE u.thread_id IS NOT NULL ";
        sql += "ORDER BY t.last_date DESC, t.id DESC";
        auto& q = d.stmt(sql);
        if (f == ThreadFilter::Deal)
            q.bind(1, deal);
        std::vector<ThreadSummary> out;
        while (q.executeStep())
            out.push_back(read_thread(q));
        add_participants(d, out);
        return out;
    });
}

Result<std::optional<ThreadSummary>> Store::thread(ThreadId id) {
    return guard("reading a thread", [&]() -> Result<std::optional<ThreadSummary>> {
        auto& d = db_.impl();
        auto& q = d.stmt(std::string(kThreadSelect) + "WHERE t.id = ?");
        q.bind(1, id);
        if (!q.executeStep())
            return std::nullopt;
        auto t = read_thread(q);
        add_participants(d, t);
        return t;
    });
}

Result<std::vector<MessageRowId>> Store::thread_message_ids(ThreadId id) {
    return guard("listing thread messages", [&]() -> Result<std::vector<MessageRowId>> {
        auto& q = db_.impl().stmt("SELECT id FROM messages WHERE thread_id = ? "
                                  "ORDER BY coalesce(date, received_at), id");
        q.bind(1, id);
        std::vector<MessageRowId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

Result<std::vector<MessageView>> Store::thread_messages(ThreadId id) {
    auto ids = thread_message_ids(id);
    if (!ids)
        return std::unexpected(ids.error());
    return messages(*ids);
}

Result<std::vector<MessageView>> Store::messages(std::span<const MessageRowId> ids) {
    return guard("reading messages", [&]() -> Result<std::vector<MessageView>> {
        auto& d = db_.impl();
        auto& q =
            d.stmt("SELECT id, message_id, date, from_name, from_address, subject, "
                   "text_body, html_body, unread, direction, unparsable, sort_reason, "
                   "warnings_json, suspicious, received_at, content_hash, auto_kind FROM messages "
                   "WHERE id = ?");
        std::vector<MessageView> out;
        out.reserve(ids.size());
        for (const auto id : ids) {
            q.reset();
            q.bind(1, id);
            if (!q.executeStep())
                continue; // deleted meanwhile
            MessageView m;
            m.id = q.getColumn(0).getInt64();
            m.message_id = q.getColumn(1).getString();
            m.date = opt_col(q.getColumn(2));
            m.from_name = q.getColumn(3).getString();
            m.from_address = q.getColumn(4).getString();
            m.subject = q.getColumn(5).getString();
            m.text_body = q.getColumn(6).getString();
            m.html_body = q.getColumn(7).getString();
            m.unread = q.getColumn(8).getInt() != 0;
            m.outgoing = q.getColumn(9).getString() == "out";
            m.unparsable = q.getColumn(10).getInt() != 0;
            m.sort_reason = q.getColumn(11).getString();
            m.warnings = parse_string_array(q.getColumn(12).getString());
            m.suspicious = q.getColumn(13).getString();
            m.received_at = q.getColumn(14).getInt64();
            m.content_hash = q.getColumn(15).getString();
            m.auto_kind = q.getColumn(16).getString();
            out.push_back(std::move(m));
        }
        q.reset();
        auto& p = d.stmt("SELECT role, written, display_name FROM participants WHERE message_id = ?"
                         " AND role IN ('to', 'cc', 'reply-to') ORDER BY role, position");
        auto& a = d.stmt("SELECT filename, content_type, sha256, size, is_inline, position, "
                         "content_id FROM attachments WHERE message_id = ? ORDER BY position");
        for (auto& m : out) {
            p.reset();
            p.bind(1, m.id);
            while (p.executeStep()) {
                std::string name = p.getColumn(2).getString();
                std::string w = p.getColumn(1).getString();
                std::string shown = name.empty() ? w : name + " <" + w + ">";
                const std::string role = p.getColumn(0).getString();
                if (role == "reply-to")
                    m.reply_to.push_back(std::move(w));
                else
                    (role == "to" ? m.to : m.cc).push_back(std::move(shown));
            }
            a.reset();
            a.bind(1, m.id);
            while (a.executeStep())
                m.attachments.push_back({a.getColumn(0).getString(), a.getColumn(1).getString(),
                                         a.getColumn(2).getString(), a.getColumn(3).getInt64(),
                                         a.getColumn(4).getInt() != 0, a.getColumn(5).getInt(),
                                         a.getColumn(6).getString()});
        }
        return out;
    });
}

Result<std::vector<DealSummary>> Store::deals() {
    return guard("listing deals", [&]() -> Result<std::vector<DealSummary>> {
        auto& q = db_.impl().stmt(
            "SELECT d.id, d.name, d.stage, d.status, count(t.id), coalesce(sum(t.message_count), 0),"
            " coalesce(sum(t.unread_count), 0) FROM deals d LEFT JOIN thread_deals td ON "
            "td.deal_id = d.id LEFT JOIN threads t ON t.id = td.thread_id GROUP BY d.id ORDER BY d.id");
        std::vector<DealSummary> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                           q.getColumn(2).getString(), q.getColumn(3).getString(),
                           q.getColumn(4).getInt64(), q.getColumn(5).getInt64(),
                           q.getColumn(6).getInt64()});
        return out;
    });
}

Result<std::vector<UserId>> Store::users() {
    return guard("listing users", [&]() -> Result<std::vector<UserId>> {
        auto& q = db_.impl().stmt("SELECT id FROM users ORDER BY id");
        std::vector<UserId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

Result<bool> Store::deal_exists(DealId id) {
    return guard("looking up a deal", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("SELECT 1 FROM deals WHERE id = ?");
        q.bind(1, id);
        return q.executeStep();
    });
}

Result<void> Store::link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                                std::int64_t now) {
    return guard("linking a thread", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& t = d.stmt("SELECT 1 FROM threads WHERE id = ?");
        t.bind(1, thread);
        if (!t.executeStep())
            return fail("thread.not_found", fmt::format("thread {} does not exist", thread));
        auto& dq = d.stmt("SELECT 1 FROM deals WHERE id = ?");
        dq.bind(1, deal);
        if (!dq.executeStep())
            return fail("deal.not_found", fmt::format("deal {} does not exist", deal));
        auto& s = d.stmt("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, "
                         "linked_by, linked_at) VALUES (?, ?, 1, 'manual link', 0, ?, ?) "
                         "ON CONFLICT (thread_id) DO UPDATE SET deal_id = excluded.deal_id, "
                         "manual = 1, reason = excluded.reason, score = 0, linked_by = "
                         "excluded.linked_by, linked_at = excluded.linked_at");
        s.bind(1, thread);
        s.bind(2, deal);
        if (by)
            s.bind(3, *by);
        else
            s.bind(3);
        s.bind(4, now);
        s.exec();
        auto& del = d.stmt("DELETE FROM unsorted WHERE thread_id = ?");
        del.bind(1, thread);
        del.exec();
        return {};
    });
}

Result<void> Store::unlink_thread(ThreadId thread, std::int64_t now) {
    return guard("unlinking a thread", [&]() -> Result<void> {
        auto& d = db_.impl();
        auto& t = d.stmt("SELECT 1 FROM threads WHERE id = ?");
        t.bind(1, thread);
        if (!t.executeStep())
            return fail("thread.not_found", fmt::format("thread {} does not exist", thread));
        // The reason names the deal it was taken from: "not this deal", which the sorter
        // respects (the thread is held for a person from now on).
        auto& was = d.stmt("SELECT deal_id FROM thread_deals WHERE thread_id = ?");
        was.bind(1, thread);
        const std::optional<DealId> from =
            was.executeStep() ? std::optional<DealId>(was.getColumn(0).getInt64()) : std::nullopt;
        was.reset();
        auto& del = d.stmt("DELETE FROM thread_deals WHERE thread_id = ?");
        del.bind(1, thread);
        del.exec();
        auto& u = d.stmt("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
                         "VALUES (?, ?, '', ?, 1) ON CONFLICT (thread_id) DO "
                         "UPDATE SET reason = excluded.reason, held = 1");
        u.bind(1, thread);
        u.bind(2, unlink_reason(from));
        u.bind(3, now);
        u.exec();
        return {};
    });
}

Result<std::vector<MessageRowId>> Store::messages_with_id(std::string_view message_id) {
    return guard("looking up a Message-ID", [&]() -> Result<std::vector<MessageRowId>> {
        auto& q = db_.impl().stmt("SELECT id FROM messages WHERE message_id = ? ORDER BY id");
        q.bind(1, std::string(message_id));
        std::vector<MessageRowId> out;
        while (q.executeStep())
            out.push_back(q.getColumn(0).getInt64());
        return out;
    });
}

Result<Counts> Store::counts() {
    return guard("counting", [&]() -> Result<Counts> {
        auto& q = db_.impl().stmt(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM threads), "
            "(SELECT count(*) FROM thread_deals), (SELECT count(*) FROM unsorted)");
        q.executeStep();
        return Counts{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                      q.getColumn(2).getInt64(), q.getColumn(3).getInt64()};
    });
}

Result<std::vector<std::string>> Store::export_threads() {
    return guard("exporting threads", [&]() -> Result<std::vector<std::string>> {
        auto& q = db_.impl().stmt("SELECT DISTINCT thread_id, message_id FROM messages");
        std::vector<std::pair<ThreadId, std::string>> rows;
        while (q.executeStep())
            rows.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
        return exports::thread_lines(rows);
    });
}

Result<std::vector<std::string>> Store::export_deal_links() {
    return guard("exporting deal links", [&]() -> Result<std::vector<std::string>> {
        auto& q = db_.impl().stmt(
            "SELECT m.message_id, td.deal_id, td.manual, m.sort_reason, coalesce(u.reason, '') "
            "FROM messages m LEFT JOIN thread_deals td ON td.thread_id = m.thread_id "
            "LEFT JOIN unsorted u ON u.thread_id = m.thread_id");
        std::vector<std::string> lines;
        while (q.executeStep())
            lines.push_back(
                exports::deal_link_line(q.getColumn(0).getString(), opt_col(q.getColumn(1)),
                                        !q.getColumn(2).isNull() && q.getColumn(2).getInt() != 0,
                                        q.getColumn(3).getString(), q.getColumn(4).getString()));
        exports::sort_unique(lines);
        return lines;
    });
}

} // namespace crm::store
