#pragma once
#include <string>
#include <type_traits>

#include "impl.hpp"

namespace crm::store {

// Runs `f` and turns any SQLite/std exception into a store error naming `what`.
template <class F> auto guard(const std::string& what, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const std::exception& e) {
        return std::unexpected(sql_error(what, e));
    }
}

inline std::string join_ids(const auto& ids, char sep = ' ') {
    std::string out;
    for (const auto& id : ids) {
        if (!out.empty())
            out += sep;
        out += std::to_string(id);
    }
    return out;
}

} // namespace crm::store
