#pragma once
// Transactions as a port: the use cases decide what is one unit of work (a batch of mail, a
// queued reply, a link) without knowing the database. Implemented by the store.

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "crm/core/result.hpp"

namespace crm {

class UnitOfWork {
  public:
    virtual ~UnitOfWork() = default;
    // Runs `body` in one write transaction: committed when it succeeds, rolled back when it
    // fails or throws (the exception becomes an error of the store, scope Account).
    virtual Result<void> transaction(const std::function<Result<void>()>& body) = 0;
    // Inside a transaction: `body`'s writes are undone when it fails, and the transaction goes
    // on (one message that cannot be stored does not take its batch with it).
    virtual Result<void> savepoint(const std::function<Result<void>()>& body) = 0;
};

// transaction() for a body that returns a value.
template <class F> auto in_transaction(UnitOfWork& work, F&& body) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_same_v<R, Result<void>>) {
        return work.transaction(std::forward<F>(body));
    } else {
        std::optional<R> out;
        auto done = work.transaction([&]() -> Result<void> {
            out.emplace(body());
            if (!*out)
                return std::unexpected(out->error());
            return {};
        });
        if (!done)
            return std::unexpected(done.error());
        return std::move(*out);
    }
}

} // namespace crm
