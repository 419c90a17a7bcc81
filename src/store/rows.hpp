#pragma once
// Private to the store module: row readers and the JSON string encoding shared by its sources.
#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/store/store.hpp"
#include "impl.hpp"

namespace crm::store {

inline std::optional<std::int64_t> opt_col(const SQLite::Column& c) {
    if (c.isNull())
        return std::nullopt;
    return c.getInt64();
}

inline std::vector<DealId> parse_ids(const std::string& s) {
    std::vector<DealId> out;
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        while (p < end && *p == ' ')
            ++p;
        DealId v = 0;
        auto r = std::from_chars(p, end, v);
        if (r.ec != std::errc())
            break;
        out.push_back(v);
        p = r.ptr;
    }
    return out;
}

// Appends `s` as a JSON string. Runs of characters that need no escape are appended whole:
// this runs for every header of every stored message.
inline void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        if (u >= 0x20 && u != '"' && u != '\\')
            continue;
        out.append(s.substr(run, i - run));
        run = i + 1;
        switch (u) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += fmt::format("\\u{:04x}", u);
        }
    }
    out.append(s.substr(run));
    out += '"';
}

// Reads the JSON string whose opening quote is at s[i] (only the escapes append_json_string
// writes); returns the index after its closing quote.
inline std::size_t read_json_string(const std::string& s, std::size_t i, std::string& cur) {
    ++i;
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char e = s[++i];
            if (e == 'n')
                cur += '\n';
            else if (e == 'r')
                cur += '\r';
            else if (e == 't')
                cur += '\t';
            else if (e == 'u' && i + 4 < s.size()) {
                cur += static_cast<char>(std::stoi(s.substr(i + 1, 4), nullptr, 16));
                i += 4;
            } else
                cur += e;
        } else {
            cur += s[i];
        }
        ++i;
    }
    return i + 1;
}

// Decodes a JSON array of strings written with append_json_string.
inline std::vector<std::string> parse_string_array(const std::string& s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] != '"') {
            ++i;
            continue;
        }
        std::string cur;
        i = read_json_string(s, i, cur);
        out.push_back(std::move(cur));
    }
    return out;
}

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

inline void add_participants(Database::Impl& d, ThreadSummary& t) {
    auto& p = d.stmt("SELECT p.address FROM participants p JOIN messages m ON m.id = p.message_id "
                     "WHERE m.thread_id = ? AND p.role = 'from' AND p.address != '' "
                     "ORDER BY coalesce(m.date, m.received_at), m.id");
    p.bind(1, t.id);
    while (p.executeStep()) {
        auto a = p.getColumn(0).getString();
        if (std::find(t.participants.begin(), t.participants.end(), a) == t.participants.end())
            t.participants.push_back(a);
    }
}


} // namespace crm::store
