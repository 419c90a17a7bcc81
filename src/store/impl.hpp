#pragma once
// Private to the store module: the connection and a cache of prepared statements.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "crm/blob/codec.hpp"
#include "crm/core/result.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

class Checkpointer; // checkpointer.cpp

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
    // Declared last, so it stops (and unhooks itself from `db`) before the rest goes.
    std::unique_ptr<Checkpointer, void (*)(Checkpointer*)> checkpointer{nullptr, nullptr};

    // A prepared statement for `sql`, reset and with bindings cleared, ready to bind.
    SQLite::Statement& stmt(std::string_view sql) {
        auto it = cache.find(sql);
        if (it == cache.end()) {
            std::string key(sql);
            auto st = std::make_unique<SQLite::Statement>(db, key);
            it = cache.emplace(std::move(key), std::move(st)).first;
        }
        // tryReset(): sqlite3_reset() repeats the error of the statement's last step, which was
        // reported when it happened; reset() would throw it again and fail this unrelated use
        // (the message after a message that could not be stored).
        (void)it->second->tryReset();
        it->second->clearBindings();
        return *it->second;
    }
};

// The original bytes of a blob from a row whose columns `first`, `first + 1`, `first + 2` are
// blobs.codec, blobs.size and blobs.data.
inline Result<std::string> blob_of(SQLite::Statement& q, int first) {
    auto data = q.getColumn(first + 2);
    return blob::unpack_blob(q.getColumn(first).getString(),
                             std::string_view(static_cast<const char*>(data.getBlob()),
                                              static_cast<std::size_t>(data.getBytes())),
                             static_cast<std::size_t>(q.getColumn(first + 1).getInt64()));
}

// Converts a SQLite exception at the adapter boundary into an Error naming what failed.
// The scope is decided here, where the failure is known: a statement refused for its data (a
// constraint, a value too big or of the wrong type) concerns that one message; anything else (a
// full disk, I/O, a lock, corruption, memory) is the database's, and no message is to blame.
inline Error sql_error(const std::string& what, const std::exception& e) {
    ErrorScope scope = ErrorScope::Fatal;
    if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
        switch (se->getErrorCode() & 0xff) {
        case SQLITE_CONSTRAINT:
        case SQLITE_TOOBIG:
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
            scope = ErrorScope::Message;
            break;
        default:
            break;
        }
    }
    return Error{"store.sqlite", what + ": " + e.what(), scope, Retry::Backoff};
}

} // namespace crm::store
