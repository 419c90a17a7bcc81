// The full-text index's tokenizer "crm" (schema/0014): SQLite's unicode61 with diacritics
// removed ("Bucuresti" finds "București", "Muller" finds "Müller"), and Chinese, Japanese and
// Korean text, which has no spaces between words, cut into overlapping pairs of characters (the
// CJK bigrams of Lucene's CJKAnalyzer): "报价单" is indexed as "报", "价" and "单", each at a
// position of its own, with the pairs "报价" and "价单" as synonyms at the positions of their
// first characters, so one character is a token and any longer substring a phrase of pairs.
// Registered on every connection the store opens (Database::open); the sqlite3 shell does not
// know it, and only the index itself needs it.
#include "search_tokenizer.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "crm/core/utf8.hpp"

namespace crm::store {

bool is_cjk(char32_t c) {
    return (c >= 0x3040 && c <= 0x30FF) || // Hiragana, Katakana
           (c >= 0x31F0 && c <= 0x31FF) || // Katakana phonetic extensions
           (c >= 0x3400 && c <= 0x4DBF) || // CJK extension A
           (c >= 0x4E00 && c <= 0x9FFF) || // CJK unified ideographs
           (c >= 0xAC00 && c <= 0xD7AF) || // Hangul syllables
           (c >= 0xF900 && c <= 0xFAFF) || // CJK compatibility ideographs
           (c >= 0xFF66 && c <= 0xFF9F) || // half-width Katakana
           (c >= 0x20000 && c <= 0x3FFFF); // CJK extensions B..H
}

namespace {

struct Tokenizer {
    fts5_tokenizer inner_api{};
    Fts5Tokenizer* inner = nullptr;
};

struct Call {
    void* ctx = nullptr;
    int (*emit)(void*, int, const char*, int, int, int) = nullptr;
    int flags = 0;
    const char* text = nullptr; // the text being tokenized (offsets are into it)
};

// One token from unicode61 (already folded), split where CJK characters are.
int on_token(void* p, int tflags, const char* token, int size, int start, int end) {
    auto& call = *static_cast<Call*>(p);
    const std::string_view t(token, static_cast<std::size_t>(size));
    // Every CJK character is three or four bytes in UTF-8 with a lead byte of 0xE3 or more: a
    // token without such a byte (most of them) goes through without being decoded.
    const bool maybe_cjk = std::any_of(
        t.begin(), t.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0xE3; });
    if (!maybe_cjk || (tflags & FTS5_TOKEN_COLOCATED) != 0)
        return call.emit(call.ctx, tflags, token, size, start, end);

    // The token's parts: runs of CJK characters and what lies between them.
    struct Char {
        std::size_t at, size; // in the token
    };
    struct Part {
        bool cjk = false;
        std::size_t at = 0, size = 0; // in the token
        std::vector<Char> chars;      // of a CJK run
        int from = 0, to = 0;         // in the original text
    };
    std::vector<Part> parts;
    for (std::size_t i = 0; i < t.size();) {
        const auto c = decode_utf8_at(t, i);
        const bool cjk = is_cjk(c.cp);
        if (parts.empty() || parts.back().cjk != cjk)
            parts.push_back({cjk, i, 0, {}, 0, 0});
        parts.back().size += c.size;
        if (cjk)
            parts.back().chars.push_back({i, c.size});
        i += c.size;
    }
    if (parts.empty() || (parts.size() == 1 && !parts.front().cjk)) // no CJK character after all
        return call.emit(call.ctx, tflags, token, size, start, end);
    // Where each part is in the original text. CJK characters fold to themselves, so a run's
    // bytes are found there as they are; what lies between two runs is what the original has
    // between them (folding may have changed its length). Spans never overlap, which FTS5's
    // highlighter needs.
    const std::string_view original(call.text + start, static_cast<std::size_t>(end - start));
    std::size_t cursor = 0;
    bool mapped = true;
    for (std::size_t k = 0; k < parts.size(); ++k) {
        auto& part = parts[k];
        if (!part.cjk)
            continue;
        const auto found =
            mapped ? original.find(t.substr(part.at, part.size), cursor) : std::string_view::npos;
        if (found == std::string_view::npos) {
            mapped = false; // not expected: then the rest shares what is left of the span
            break;
        }
        if (k > 0) {
            parts[k - 1].from = start + static_cast<int>(cursor);
            parts[k - 1].to = start + static_cast<int>(found);
        }
        part.from = start + static_cast<int>(found);
        part.to = part.from + static_cast<int>(part.size);
        cursor = found + part.size;
    }
    if (!parts.back().cjk || !mapped) {
        for (auto& part : parts)
            if (!mapped && part.to == 0) {
                part.from = start + static_cast<int>(cursor);
                part.to = end;
            }
        if (!parts.back().cjk) {
            parts.back().from = start + static_cast<int>(cursor);
            parts.back().to = end;
        }
    }

    // Document (and highlighting, which must see the same positions): each character at a
    // position of its own, with the pair it starts as a synonym there (FTS5_TOKEN_COLOCATED),
    // so one character is a token and any longer substring a phrase of pairs. The highlighter
    // marks the main tokens, the characters, whose spans never overlap. Query: the pairs, then
    // the last character, so a run takes as many positions as in a document and what follows it
    // in a phrase lines up.
    const bool query = (call.flags & FTS5_TOKENIZE_QUERY) != 0;
    for (const auto& part : parts) {
        if (!part.cjk) {
            if (const int rc = call.emit(call.ctx, 0, token + part.at, static_cast<int>(part.size),
                                         part.from, part.to);
                rc != SQLITE_OK)
                return rc;
            continue;
        }
        // The span of characters k..l of the run in the original text.
        auto from_of = [&](std::size_t k) {
            return mapped ? part.from + static_cast<int>(part.chars[k].at - part.at) : part.from;
        };
        auto to_of = [&](std::size_t k) {
            return mapped ? part.from +
                                static_cast<int>(part.chars[k].at + part.chars[k].size - part.at)
                          : part.to;
        };
        const auto& ch = part.chars;
        for (std::size_t k = 0; k < ch.size(); ++k) {
            const bool last = k + 1 == ch.size();
            const int pair_size = last ? 0 : static_cast<int>(ch[k].size + ch[k + 1].size);
            int rc = SQLITE_OK;
            if (!query) {
                rc = call.emit(call.ctx, 0, token + ch[k].at, static_cast<int>(ch[k].size),
                               from_of(k), to_of(k));
                if (rc == SQLITE_OK && !last)
                    rc = call.emit(call.ctx, FTS5_TOKEN_COLOCATED, token + ch[k].at, pair_size,
                                   from_of(k), to_of(k + 1));
            } else if (!last) {
                rc = call.emit(call.ctx, 0, token + ch[k].at, pair_size, from_of(k), to_of(k + 1));
            } else {
                rc = call.emit(call.ctx, 0, token + ch[k].at, static_cast<int>(ch[k].size),
                               from_of(k), to_of(k));
            }
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    return SQLITE_OK;
}

int create(void* user, const char** /*args*/, int /*n*/, Fts5Tokenizer** out) {
    auto* api = static_cast<fts5_api*>(user);
    auto* tok = new (std::nothrow) Tokenizer;
    if (tok == nullptr)
        return SQLITE_NOMEM;
    void* unicode_user = nullptr;
    int rc = api->xFindTokenizer(api, "unicode61", &unicode_user, &tok->inner_api);
    const char* args[] = {"remove_diacritics", "2"};
    if (rc == SQLITE_OK)
        rc = tok->inner_api.xCreate(unicode_user, args, 2, &tok->inner);
    if (rc != SQLITE_OK) {
        delete tok;
        return rc;
    }
    *out = reinterpret_cast<Fts5Tokenizer*>(tok);
    return SQLITE_OK;
}

void destroy(Fts5Tokenizer* p) {
    auto* tok = reinterpret_cast<Tokenizer*>(p);
    if (tok->inner != nullptr)
        tok->inner_api.xDelete(tok->inner);
    delete tok;
}

int tokenize(Fts5Tokenizer* p, void* ctx, int flags, const char* text, int size,
             int (*emit)(void*, int, const char*, int, int, int)) {
    auto* tok = reinterpret_cast<Tokenizer*>(p);
    Call call{ctx, emit, flags, text};
    return tok->inner_api.xTokenize(tok->inner, &call, flags, text, size, on_token);
}

// crm_rank(message_search, weight of each column...): a hit's score for ranking, lower is better
// (as bm25()'s). Per column, the query's instances in the row, damped by the column's length
// against its average (BM25's k1 = 1.2 and b = 0.75) and weighed; summed. It is BM25 without the
// inverse document frequency of each phrase, which FTS5's bm25() gets by walking every row that
// holds the phrase: for "next week" about 20,000 rows, to rank the 1,000 hits a search considers
// (crm/core/search.hpp). All words of a query must occur, so that weight only told apart hits
// that hold all of them anyway.
void rank(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int n_weights,
          sqlite3_value** weights) {
    constexpr double k1 = 1.2, b = 0.75;
    const int columns = api->xColumnCount(fts);
    std::vector<double> hits(static_cast<std::size_t>(std::max(columns, 0)), 0.0);
    int instances = 0;
    int rc = api->xInstCount(fts, &instances);
    for (int i = 0; rc == SQLITE_OK && i < instances; ++i) {
        int phrase = 0, column = 0, offset = 0;
        rc = api->xInst(fts, i, &phrase, &column, &offset);
        if (rc == SQLITE_OK && column >= 0 && column < columns)
            hits[static_cast<std::size_t>(column)] += 1.0;
    }
    sqlite3_int64 rows = 0;
    if (rc == SQLITE_OK)
        rc = api->xRowCount(fts, &rows);
    double score = 0.0;
    for (int c = 0; rc == SQLITE_OK && c < columns; ++c) {
        const double tf = hits[static_cast<std::size_t>(c)];
        if (tf == 0.0)
            continue;
        int length = 0;
        sqlite3_int64 total = 0;
        rc = api->xColumnSize(fts, c, &length);
        if (rc == SQLITE_OK)
            rc = api->xColumnTotalSize(fts, c, &total);
        const double average =
            rows > 0 && total > 0 ? static_cast<double>(total) / static_cast<double>(rows) : 1.0;
        const double weight = c < n_weights ? sqlite3_value_double(weights[c]) : 1.0;
        score += weight * tf * (k1 + 1.0) /
                 (tf + k1 * (1.0 - b + b * static_cast<double>(length) / average));
    }
    if (rc != SQLITE_OK) {
        sqlite3_result_error_code(ctx, rc);
        return;
    }
    sqlite3_result_double(ctx, -score);
}

} // namespace

bool register_search_tokenizer(sqlite3* db) {
    fts5_api* api = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK)
        return false;
    sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(st);
    sqlite3_finalize(st);
    if (api == nullptr)
        return false;
    static fts5_tokenizer methods{create, destroy, tokenize};
    return api->xCreateTokenizer(api, "crm", api, &methods, nullptr) == SQLITE_OK &&
           api->xCreateFunction(api, "crm_rank", nullptr, rank, nullptr) == SQLITE_OK;
}

} // namespace crm::store
