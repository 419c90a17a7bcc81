#pragma once
// Private to the store module: row readers and the JSON string encoding shared by its sources.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crm/core/stored_json.hpp"
#include "crm/store/store.hpp"
#include "impl.hpp"

namespace crm::store {

// A deal `d` the viewer may see. Parameters :admin and :me.
inline constexpr const char* kDealVisible = "(:admin OR d.owner_id = :me OR d.shared = 1)";

// A message `m` the viewer may see: it came in through a mailbox the viewer owns now (an IMAP
// location follows its account's current owner; an imported file the owner given at import), or
// its thread is linked to a deal the viewer owns or that is shared.
inline constexpr const char* kMessageVisible =
    "(:admin OR EXISTS (SELECT 1 FROM locations vl LEFT JOIN accounts va ON va.id = vl.account_id "
    "WHERE vl.message_id = m.id AND CASE WHEN vl.account_id IS NULL THEN vl.owner_id ELSE "
    "va.owner_id END = :me) "
    "OR EXISTS (SELECT 1 FROM thread_deals vtd JOIN deals vd ON vd.id = vtd.deal_id "
    "WHERE vtd.thread_id = m.thread_id AND (vd.owner_id = :me OR vd.shared = 1)))";

// Whether message `m` is unread for the viewer: their own mark (schema/0017). Without a user (the
// operator on the host), unread for anyone. Parameter :me.
inline constexpr const char* kViewerUnread =
    "(CASE WHEN :me = 0 THEN m.unread ELSE EXISTS (SELECT 1 FROM unread_marks uk WHERE "
    "uk.user_id = :me AND uk.message_id = m.id) END)";

// A quarantine record `q` of a message that has not been stored since (a later pass stored it:
// it is neither listed, counted nor kept from the sync).
inline constexpr const char* kQuarantineNotStored =
    "NOT EXISTS (SELECT 1 FROM locations l WHERE l.mailbox_id = q.mailbox_id AND l.uid_validity = "
    "q.uid_validity AND l.uid = q.uid)";

inline void bind_viewer(SQLite::Statement& q, const Viewer& v) {
    q.bind(":admin", v.admin ? 1 : 0);
    q.bind(":me", v.user);
}

inline std::optional<std::int64_t> opt_col(const SQLite::Column& c) {
    if (c.isNull())
        return std::nullopt;
    return c.getInt64();
}

// The list encodings shared with PostgreSQL's store (crm/core/stored_json.hpp).
using stored::append_json_string;
using stored::json_pair_array;
using stored::json_string_array;
using stored::parse_ids;
using stored::parse_string_array;
using stored::read_json_string;

inline constexpr const char* kThreadSelect =
    "SELECT t.id, t.subject, t.message_count, t.unread_count, t.first_date, t.last_date, "
    "td.deal_id, coalesce(dl.name, ''), coalesce(td.manual, 0), "
    "coalesce(td.reason, u.reason, ''), coalesce(u.suggestions, '') "
    "FROM threads t LEFT JOIN thread_deals td ON td.thread_id = t.id "
    "LEFT JOIN deals dl ON dl.id = td.deal_id LEFT JOIN unsorted u ON u.thread_id = t.id ";

inline ThreadSummary read_thread(SQLite::Statement& q) {
    ThreadSummary t;
    t.id = q.getColumn(0).getInt64();
    t.subject = q.getColumn(1).getString();
    t.message_count = q.getColumn(2).getInt64();
    t.unread_count = q.getColumn(3).getInt64();
    t.first_date = opt_col(q.getColumn(4));
    t.last_date = opt_col(q.getColumn(5));
    t.deal = opt_col(q.getColumn(6));
    t.deal_name = q.getColumn(7).getString();
    t.manual = q.getColumn(8).getInt() != 0;
    t.reason = q.getColumn(9).getString();
    t.suggestions = parse_ids(q.getColumn(10).getString());
    return t;
}

// A JSON array of the threads' ids, for json_each.
inline std::string thread_ids_json(const std::vector<ThreadSummary*>& threads) {
    std::string ids = "[";
    for (const auto* t : threads) {
        if (ids.size() > 1)
            ids += ',';
        ids += std::to_string(t->id);
    }
    return ids + "]";
}

// The senders of each of `threads` (their From addresses in reading order, each once), read
// with one query per 500 threads rather than one per thread.
inline void add_participants(Database::Impl& d, const std::vector<ThreadSummary*>& threads) {
    constexpr std::size_t kChunk = 500;
    for (std::size_t at = 0; at < threads.size(); at += kChunk) {
        const std::vector<ThreadSummary*> chunk(
            threads.begin() + static_cast<std::ptrdiff_t>(at),
            threads.begin() + static_cast<std::ptrdiff_t>(std::min(threads.size(), at + kChunk)));
        std::unordered_map<ThreadId, ThreadSummary*> by_id;
        for (auto* t : chunk)
            by_id.emplace(t->id, t);
        auto& p = d.stmt("SELECT m.thread_id, p.address FROM messages m JOIN participants p ON "
                         "p.message_id = m.id WHERE m.thread_id IN (SELECT value FROM "
                         "json_each(?)) AND p.role = 'from' AND p.address != '' ORDER BY "
                         "m.thread_id, coalesce(m.date, m.received_at), m.id, p.position");
        p.bind(1, thread_ids_json(chunk));
        while (p.executeStep()) {
            auto& t = *by_id.at(p.getColumn(0).getInt64());
            auto a = p.getColumn(1).getString();
            if (std::find(t.participants.begin(), t.participants.end(), a) == t.participants.end())
                t.participants.push_back(std::move(a));
        }
        p.reset();
    }
}

inline void add_participants(Database::Impl& d, std::vector<ThreadSummary>& threads) {
    std::vector<ThreadSummary*> all;
    for (auto& t : threads)
        all.push_back(&t);
    add_participants(d, all);
}

inline void add_participants(Database::Impl& d, ThreadSummary& t) {
    add_participants(d, std::vector<ThreadSummary*>{&t});
}

} // namespace crm::store
