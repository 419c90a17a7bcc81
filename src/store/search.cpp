// Full-text search on SQLite (see crm/store/search.hpp and schema/0014_search.sql).
#include "crm/store/search.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/utf8.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

namespace {

// A hit's score, lower is better: crm_rank (search_tokenizer.cpp, BM25 without the phrases'
// document frequencies) with the index's columns weighed, in their order: a hit in the subject
// most, then the sender, then recipients and file names, then the body.
constexpr const char* kRank = "crm_rank(message_search, 8.0, 1.0, 4.0, 2.0, 2.0)";

// A hit's columns (read_hit): the deal only when the viewer may see it (`d`: the thread's deal,
// as kDealVisible names it).
const std::string& hit_columns() {
    static const std::string sql =
        std::string("SELECT m.id, m.thread_id, m.subject, m.from_name, m.from_address, m.date, "
                    "m.received_at, CASE WHEN ") +
        kDealVisible + " THEN td.deal_id END, CASE WHEN " + kDealVisible +
        " THEN d.name ELSE '' END, " + kViewerUnread +
        ", m.direction = 'out', EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id AND "
        "a.is_inline = 0)";
    return sql;
}
// One message's hit by id (:id), for an admin (the read state is still the admin's own).
const std::string& hit_by_id() {
    static const std::string sql = hit_columns() +
                                   " FROM messages m LEFT JOIN thread_deals td ON td.thread_id = "
                                   "m.thread_id LEFT JOIN deals d ON d.id = td.deal_id WHERE m.id "
                                   "= :id";
    return sql;
}

std::string_view column_of(SearchTerm::Field f) {
    switch (f) {
    case SearchTerm::Field::From:
        return "sender";
    case SearchTerm::Field::To:
        return "recipients";
    case SearchTerm::Field::Subject:
        return "subject";
    case SearchTerm::Field::Filename:
        return "files";
    case SearchTerm::Field::Any:
        break;
    }
    return "";
}

// True when the text has something the tokenizer indexes (a letter, digit or any non-ASCII
// character); "-" or "&" alone find nothing.
bool searchable(std::string_view text) {
    for (const char ch : text)
        if (const auto c = static_cast<unsigned char>(ch);
            c >= 0x80 || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            return true;
    return false;
}

// One term as an FTS5 phrase: a string (quotes doubled, so nothing the user types is FTS5
// syntax), under its column.
std::string fts_phrase(const SearchTerm& t) {
    std::string out;
    if (const auto col = column_of(t.field); !col.empty()) {
        out += col;
        out += " : ";
    }
    out += '"';
    for (const char c : t.text) {
        out += c;
        if (c == '"')
            out += '"';
    }
    out += '"';
    return out;
}

// The MATCH expression of the positive (or the negated) terms: AND of the positive ones, OR of
// the negated ones. Empty when there are none.
std::string fts_match(const SearchQuery& q, bool negated) {
    std::string out;
    for (const auto& t : q.terms) {
        if (t.negated != negated || !searchable(t.text))
            continue;
        if (!out.empty())
            out += negated ? " OR " : " AND ";
        out += fts_phrase(t);
    }
    return out;
}

// The snippet with its hits marked by STX and ETX (which mail text does not hold: they are
// removed from the parts).
std::vector<SnippetPart> parse_snippet(std::string_view s) {
    std::vector<SnippetPart> out;
    bool hit = false;
    std::string cur;
    auto push = [&] {
        if (!cur.empty())
            out.push_back({std::move(cur), hit});
        cur.clear();
    };
    for (const char c : s) {
        if (c == '\x02' || c == '\x03') {
            push();
            hit = c == '\x02';
        } else if (c == '\n' || c == '\r' || c == '\t') {
            if (cur.empty() || cur.back() != ' ')
                cur += ' ';
        } else {
            cur += c;
        }
    }
    push();
    return out;
}

// The first characters of a body, for hits found by filters alone.
std::vector<SnippetPart> opening_of(std::string_view body) {
    std::string cut;
    std::size_t chars = 0;
    for (std::size_t i = 0; i < body.size() && chars < 160;) {
        const auto c = decode_utf8_at(body, i);
        cut.append(body.substr(i, c.size));
        i += c.size;
        ++chars;
    }
    if (cut.size() < body.size())
        cut += "…";
    return parse_snippet(cut);
}

// The hit of a row of hit_columns() (and, when `with_opening`, the body's opening after them).
SearchHit read_hit(SQLite::Statement& s, bool with_opening = false) {
    SearchHit h;
    h.message = s.getColumn(0).getInt64();
    h.thread = s.getColumn(1).getInt64();
    h.subject = s.getColumn(2).getString();
    h.from_name = s.getColumn(3).getString();
    h.from_address = s.getColumn(4).getString();
    h.date = opt_col(s.getColumn(5));
    h.received_at = s.getColumn(6).getInt64();
    h.deal = opt_col(s.getColumn(7));
    h.deal_name = s.getColumn(8).getString();
    h.unread = s.getColumn(9).getInt() != 0;
    h.outgoing = s.getColumn(10).getInt() != 0;
    h.has_attachment = s.getColumn(11).getInt() != 0;
    if (with_opening)
        h.snippet = opening_of(s.getColumn(12).getString());
    return h;
}

// The page `offset`.. `offset + limit` of a text query's hits: the rows of `walk` (a hit's id and
// score, most recently stored first, at most `cap` + 1 of them), ranked by score (then the most
// recently stored first), read by id. Sets the total: the rows walked, at most `cap`.
void rank_page(Database::Impl& d, const Viewer& v, SearchPage& page, SQLite::Statement& walk,
               std::size_t offset, std::size_t limit, std::int64_t cap) {
    std::vector<std::pair<double, MessageRowId>> scored;
    while (walk.executeStep())
        scored.emplace_back(walk.getColumn(1).getDouble(), walk.getColumn(0).getInt64());
    walk.reset();
    page.total = static_cast<std::int64_t>(scored.size());
    if (page.total > cap) {
        page.total = cap;
        page.total_capped = true;
        scored.resize(static_cast<std::size_t>(cap));
    }
    if (offset >= scored.size())
        return;
    std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    const auto end = std::min(scored.size(), offset + limit);
    auto& row = d.stmt(hit_by_id());
    for (std::size_t k = offset; k < end; ++k) {
        row.reset();
        bind_viewer(row, v);
        row.bind(":id", scored[k].second);
        if (row.executeStep())
            page.hits.push_back(read_hit(row));
    }
    row.reset();
}

// The best passage of each hit of the page: FTS5 tokenizes only these rows again.
void add_snippets(Database::Impl& d, SearchPage& page, const std::string& match) {
    auto& sn = d.stmt("SELECT snippet(message_search, -1, char(2), char(3), '…', 24) "
                      "FROM message_search WHERE message_search MATCH :match AND rowid = "
                      ":id");
    for (auto& h : page.hits) {
        sn.reset();
        sn.bind(":match", match);
        sn.bind(":id", h.message);
        if (sn.executeStep())
            h.snippet = parse_snippet(sn.getColumn(0).getString());
    }
    sn.reset();
}

} // namespace

Result<SearchPage> SearchStore::search(const Viewer& v, const SearchQuery& q, std::size_t offset,
                                       std::size_t limit) {
    return guard("searching", [&]() -> Result<SearchPage> {
        auto& d = db_.impl();
        SearchPage page;
        const std::string match = fts_match(q, false);
        const std::string exclude = fts_match(q, true);
        if (match.empty() && q.has_text())
            return page; // only punctuation to search for: nothing matches
        // Text queries walk the index's matches most recently stored first (FTS5 gives them in
        // rowid order without reading them all) and join each to its message; filters alone walk
        // the messages. `d`: the thread's deal, as kDealVisible names it.
        std::string from = match.empty() ? std::string("messages m ")
                                         : std::string("message_search CROSS JOIN messages m ON "
                                                       "m.id = message_search.rowid ");
        from += "LEFT JOIN thread_deals td ON td.thread_id = m.thread_id "
                "LEFT JOIN deals d ON d.id = td.deal_id ";
        std::string where = std::string("WHERE ") + kMessageVisible;
        if (!match.empty())
            where += " AND message_search MATCH :match";
        if (!exclude.empty())
            where += " AND m.id NOT IN (SELECT rowid FROM message_search WHERE message_search "
                     "MATCH :exclude)";
        if (q.deal) // a deal the viewer may not see finds nothing (its links are not theirs)
            where += std::string(" AND td.deal_id = :deal AND ") + kDealVisible;
        if (q.has_attachment)
            where += " AND EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = m.id AND "
                     "a.is_inline = 0)";
        if (q.after)
            where += " AND coalesce(m.date, m.received_at) >= :after";
        if (q.before)
            where += " AND coalesce(m.date, m.received_at) < :before";
        if (q.unread)
            where += std::string(" AND ") + kViewerUnread + " = :unread";
        if (q.unsorted)
            where += " AND EXISTS (SELECT 1 FROM unsorted u WHERE u.thread_id = m.thread_id)";
        auto bind_all = [&](SQLite::Statement& s) {
            bind_viewer(s, v);
            if (!match.empty())
                s.bind(":match", match);
            if (!exclude.empty())
                s.bind(":exclude", exclude);
            if (q.deal)
                s.bind(":deal", *q.deal);
            if (q.after)
                s.bind(":after", *q.after);
            if (q.before)
                s.bind(":before", *q.before);
            if (q.unread)
                s.bind(":unread", *q.unread ? 1 : 0);
        };
        if (!match.empty()) {
            // A text query: its hits the viewer may see, most recently stored first (FTS5 walks a
            // word's matches in rowid order and stops), at most `cap_` + 1, each with its score;
            // ranked in memory. An admin without filters on the messages' rows walks the index
            // alone.
            const bool filtered =
                q.deal || q.has_attachment || q.after || q.before || q.unread || q.unsorted;
            const std::string walk_sql =
                v.admin && !filtered
                    ? std::string("SELECT rowid, ") + kRank +
                          " FROM message_search WHERE message_search MATCH :match" +
                          (exclude.empty() ? ""
                                           : " AND rowid NOT IN (SELECT rowid FROM "
                                             "message_search WHERE message_search MATCH "
                                             ":exclude)") +
                          " ORDER BY rowid DESC LIMIT :walk"
                    : "SELECT m.id, " + std::string(kRank) + " FROM " + from + where +
                          " ORDER BY message_search.rowid DESC LIMIT :walk";
            auto& walk = d.stmt(walk_sql);
            if (v.admin && !filtered) {
                walk.bind(":match", match);
                if (!exclude.empty())
                    walk.bind(":exclude", exclude);
            } else {
                bind_all(walk);
            }
            walk.bind(":walk", cap_ + 1);
            rank_page(d, v, page, walk, offset, limit, cap_);
            add_snippets(d, page, match);
            return page;
        }
        // Filters alone: the newest first, counted up to `cap_`; the pages end there too.
        auto& count =
            d.stmt("SELECT count(*) FROM (SELECT 1 FROM " + from + where + " LIMIT :cap)");
        bind_all(count);
        count.bind(":cap", cap_ + 1);
        if (count.executeStep())
            page.total = count.getColumn(0).getInt64();
        count.reset();
        if (page.total > cap_) {
            page.total = cap_;
            page.total_capped = true;
        }
        if (offset >= static_cast<std::size_t>(page.total))
            return page;
        limit = std::min(limit, static_cast<std::size_t>(page.total) - offset);
        auto& s = d.stmt(hit_columns() + ", substr(m.text_body, 1, 800) FROM " + from + where +
                         " ORDER BY coalesce(m.date, m.received_at) DESC, m.id DESC LIMIT :limit "
                         "OFFSET :offset");
        bind_all(s);
        s.bind(":limit", static_cast<std::int64_t>(limit));
        s.bind(":offset", static_cast<std::int64_t>(offset));
        while (s.executeStep())
            page.hits.push_back(read_hit(s, true));
        s.reset();
        return page;
    });
}

Result<std::int64_t> SearchStore::reindex() {
    return guard("rebuilding the search index", [&]() -> Result<std::int64_t> {
        auto& d = db_.impl();
        d.db.exec("INSERT INTO message_search (message_search) VALUES ('rebuild')");
        auto& q = d.stmt("SELECT count(*) FROM messages");
        q.executeStep();
        const auto n = q.getColumn(0).getInt64();
        q.reset();
        return n;
    });
}

} // namespace crm::store
