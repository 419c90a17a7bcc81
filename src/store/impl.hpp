#pragma once
// Private to the store module: the connection and a cache of prepared statements.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <SQLiteCpp/SQLiteCpp.h>

#include "crm/core/result.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

struct Database::Impl {
    explicit Impl(const std::string& p, int flags) : path(p), db(p, flags) {}
    std::string path;
    SQLite::Database db;
    // Transparent lookup: call sites pass string literals without building a std::string.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>, Hash, std::equal_to<>>
        cache;

    // A prepared statement for `sql`, reset and with bindings cleared, ready to bind.
    SQLite::Statement& stmt(std::string_view sql) {
        auto it = cache.find(sql);
        if (it == cache.end()) {
            std::string key(sql);
            auto st = std::make_unique<SQLite::Statement>(db, key);
            it = cache.emplace(std::move(key), std::move(st)).first;
        }
        it->second->reset();
        it->second->clearBindings();
        return *it->second;
    }
};

// Converts a SQLite exception at the adapter boundary into an Error naming what failed.
inline Error sql_error(const std::string& what, const std::exception& e) {
    return Error{"store.sqlite", what + ": " + e.what(), ErrorScope::Fatal, Retry::Backoff};
}

} // namespace crm::store
