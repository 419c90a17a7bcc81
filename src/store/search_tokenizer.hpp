#pragma once
// Private to the store module: the full-text index's tokenizer (see search_tokenizer.cpp).

#include <sqlite3.h>

namespace crm::store {

// True for Chinese, Japanese and Korean characters, which the tokenizer cuts into pairs.
[[nodiscard]] bool is_cjk(char32_t c);

// Registers the FTS5 tokenizer "crm" and the ranking function crm_rank on the connection. False
// when SQLite has no FTS5.
bool register_search_tokenizer(sqlite3* db);

} // namespace crm::store
