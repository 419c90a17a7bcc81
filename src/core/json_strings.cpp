#include "crm/core/json_strings.hpp"

#include <fmt/format.h>

namespace crm {

// Appends `s` as a JSON string. Runs of characters that need no escape are appended whole:
// this runs for every header of every stored message.
void append_json_string(std::string& out, std::string_view s) {
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
std::size_t read_json_string(const std::string& s, std::size_t i, std::string& cur) {
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
std::vector<std::string> parse_string_array(const std::string& s) {
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

std::string json_string_array(std::span<const std::string> v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i)
            out += ',';
        append_json_string(out, v[i]);
    }
    return out + "]";
}

std::string json_pair_array(std::span<const std::pair<std::string, std::string>> pairs) {
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

} // namespace crm
