#pragma once
// crm-mail's own encodings of lists in TEXT columns, the same in both databases (SQLite's store
// and PostgreSQL's pg write and read them alike, and a copy from one to the other keeps them
// byte for byte): JSON arrays of strings (messages.warnings_json, headers_json), arrays of string
// rows (outbox.to_json, attachments_json), and space-separated lists (refs, in_reply_to,
// unsorted.suggestions). Only what these writers produce is read back. Pure: values in, out.

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "crm/core/message.hpp"

namespace crm::stored {

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
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            out += fmt::format("\\u{:04x}", u);
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

// `["a","b"]` (messages.warnings_json).
inline std::string json_string_array(std::span<const std::string> v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i)
            out += ',';
        append_json_string(out, v[i]);
    }
    return out + "]";
}

// `[["name","value"],...]`: a message's headers as messages.headers_json keeps them.
inline std::string json_pair_array(std::span<const std::pair<std::string, std::string>> pairs) {
    std::size_t bytes = 2;
    for (const auto& [name, value] : pairs)
        bytes += name.size() + value.size() + 8;
    std::string out;
    out.reserve(bytes);
    out += '[';
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        if (i)
            out += ',';
        out += '[';
        append_json_string(out, pairs[i].first);
        out += ',';
        append_json_string(out, pairs[i].second);
        out += ']';
    }
    out += ']';
    return out;
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

// [[a, b, ...], ...] of strings.
inline std::string encode_rows(const std::vector<std::vector<std::string>>& rows) {
    std::string out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        out += i ? ",[" : "[";
        for (std::size_t j = 0; j < rows[i].size(); ++j) {
            if (j)
                out += ',';
            append_json_string(out, rows[i][j]);
        }
        out += ']';
    }
    return out + "]";
}

inline std::vector<std::vector<std::string>> decode_rows(const std::string& s) {
    std::vector<std::vector<std::string>> rows;
    int depth = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '[') {
            if (++depth == 2)
                rows.emplace_back();
        } else if (c == ']') {
            --depth;
        } else if (c == '"' && depth == 2) {
            std::string cur;
            i = read_json_string(s, i, cur) - 1; // the loop's ++i steps past the quote
            rows.back().push_back(std::move(cur));
        }
    }
    return rows;
}

// Addresses as [[name, address], ...].
inline std::string encode_addresses(const std::vector<Address>& v) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : v)
        rows.push_back({a.name, a.address});
    return encode_rows(rows);
}

inline std::vector<Address> decode_addresses(const std::string& s) {
    std::vector<Address> out;
    for (auto& r : decode_rows(s))
        if (r.size() == 2)
            out.push_back({r[0], r[1]});
    return out;
}

// The words of a space-separated list.
inline std::vector<std::string> split_ws(const std::string& s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && s[i] == ' ')
            ++i;
        auto j = s.find(' ', i);
        if (j == std::string::npos)
            j = s.size();
        if (j > i)
            out.push_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

inline std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) {
        if (!out.empty())
            out += ' ';
        out += x;
    }
    return out;
}

// The ids of a space-separated list ("12 7 30"), up to the first that is not a number.
inline std::vector<std::int64_t> parse_ids(const std::string& s) {
    std::vector<std::int64_t> out;
    const char* p = s.data();
    const char* end = p + s.size();
    while (p < end) {
        while (p < end && *p == ' ')
            ++p;
        std::int64_t v = 0;
        auto r = std::from_chars(p, end, v);
        if (r.ec != std::errc())
            break;
        out.push_back(v);
        p = r.ptr;
    }
    return out;
}

} // namespace crm::stored
