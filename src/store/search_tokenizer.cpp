// The full-text index's tokenizer "crm" (schema/0014): SQLite's unicode61 with diacritics
// removed ("Bucuresti" finds "București", "Muller" finds "Müller"), and Chinese, Japanese and
// Korean text, which has no spaces between words, cut into overlapping pairs of characters (the
// CJK bigrams of Lucene's CJKAnalyzer): "报价单" is indexed as "报价", "价单" and "单", with "报"
// and "价" as synonyms at the positions of the pairs they start, so any substring of two or more
// characters is a phrase of pairs and one character is a token of its own.
// Registered on every connection the store opens (Database::open); the sqlite3 shell does not
// know it, and only the index itself needs it.
#include "search_tokenizer.hpp"

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
};

// One token from unicode61 (already folded), split where CJK characters are.
int on_token(void* p, int tflags, const char* token, int size, int start, int end) {
    auto& call = *static_cast<Call*>(p);
    const std::string_view t(token, static_cast<std::size_t>(size));
    // Every CJK character is three or four bytes in UTF-8 with a lead byte of 0xE3 or more: a
    // token without such a byte (most of them) goes through without being decoded.
    bool any_cjk = false;
    for (const char ch : t)
        if (static_cast<unsigned char>(ch) >= 0xE3) {
            any_cjk = true;
            break;
        }
    for (std::size_t i = 0; any_cjk && i < t.size();) {
        const auto c = decode_utf8_at(t, i);
        if (is_cjk(c.cp))
            break;
        i += c.size;
        any_cjk = i < t.size();
    }
    if (!any_cjk || (tflags & FTS5_TOKEN_COLOCATED) != 0)
        return call.emit(call.ctx, tflags, token, size, start, end);
    // Offsets inside the token are the original's when folding kept its length (CJK characters
    // fold to themselves); otherwise every part is given the whole token's span.
    const bool exact = size == end - start;
    auto span = [&](std::size_t from, std::size_t to, int* s, int* e) {
        *s = exact ? start + static_cast<int>(from) : start;
        *e = exact ? start + static_cast<int>(to) : end;
    };
    const bool query = (call.flags & FTS5_TOKENIZE_QUERY) != 0;
    struct Char {
        std::size_t at, size;
    };
    std::vector<Char> run; // the CJK characters of the current run
    auto flush = [&]() -> int {
        if (run.empty())
            return SQLITE_OK;
        // Document (and highlighting): every pair, each with its first character as a synonym
        // at the same position (FTS5_TOKEN_COLOCATED), then the run's last character alone: a
        // one-character query is a token of its own. Query: the pairs only (a phrase), or the one
        // character of a one-character run.
        for (std::size_t k = 0; k + 1 < run.size(); ++k) {
            int s = 0, e = 0;
            span(run[k].at, run[k + 1].at + run[k + 1].size, &s, &e);
            int rc = call.emit(call.ctx, 0, token + run[k].at,
                               static_cast<int>(run[k].size + run[k + 1].size), s, e);
            if (rc == SQLITE_OK && !query) {
                span(run[k].at, run[k].at + run[k].size, &s, &e);
                rc = call.emit(call.ctx, FTS5_TOKEN_COLOCATED, token + run[k].at,
                               static_cast<int>(run[k].size), s, e);
            }
            if (rc != SQLITE_OK)
                return rc;
        }
        if (!query || run.size() == 1) {
            const auto& last = run.back();
            int s = 0, e = 0;
            span(last.at, last.at + last.size, &s, &e);
            const int rc =
                call.emit(call.ctx, 0, token + last.at, static_cast<int>(last.size), s, e);
            if (rc != SQLITE_OK)
                return rc;
        }
        run.clear();
        return SQLITE_OK;
    };
    std::size_t other = std::string_view::npos; // start of the current non-CJK part
    for (std::size_t i = 0; i <= t.size();) {
        const bool done = i == t.size();
        const auto c = done ? Utf8Char{} : decode_utf8_at(t, i);
        const bool cjk = !done && is_cjk(c.cp);
        if ((done || cjk) && other != std::string_view::npos) {
            int s = 0, e = 0;
            span(other, i, &s, &e);
            if (const int rc =
                    call.emit(call.ctx, 0, token + other, static_cast<int>(i - other), s, e);
                rc != SQLITE_OK)
                return rc;
            other = std::string_view::npos;
        }
        if (done || !cjk)
            if (const int rc = flush(); rc != SQLITE_OK)
                return rc;
        if (done)
            break;
        if (cjk)
            run.push_back({i, c.size});
        else if (other == std::string_view::npos)
            other = i;
        i += c.size;
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
    Call call{ctx, emit, flags};
    return tok->inner_api.xTokenize(tok->inner, &call, flags, text, size, on_token);
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
    return api->xCreateTokenizer(api, "crm", api, &methods, nullptr) == SQLITE_OK;
}

} // namespace crm::store
