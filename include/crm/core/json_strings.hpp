#pragma once
// crm-mail's JSON encoding of strings and string arrays, as both stores keep them in TEXT columns
// (messages.headers_json, warnings_json, outbox.to_json ...): written and read byte for byte the
// same on SQLite and PostgreSQL. Control characters are escaped (\n \r \t, else \u00XX; a NUL is
// \u0000, which PostgreSQL TEXT can hold); other bytes, UTF-8 or not, are copied. Pure.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// Appends `s` as a JSON string. Runs of characters that need no escape are appended whole: this
// runs for every header of every stored message.
void append_json_string(std::string& out, std::string_view s);

// `["a","b"]`.
[[nodiscard]] std::string json_string_array(std::span<const std::string> v);

// `[["name","value"],...]`: a message's headers as messages.headers_json keeps them.
[[nodiscard]] std::string
json_pair_array(std::span<const std::pair<std::string, std::string>> pairs);

// Reads the JSON string whose opening quote is at s[i] (only the escapes append_json_string
// writes, and \u00XX for any control character); appends it to `cur` and returns the index after
// its closing quote.
std::size_t read_json_string(const std::string& s, std::size_t i, std::string& cur);

// Decodes a JSON array of strings written with append_json_string.
[[nodiscard]] std::vector<std::string> parse_string_array(const std::string& s);

} // namespace crm
