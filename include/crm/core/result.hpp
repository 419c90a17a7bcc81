#pragma once
// Expected failures are values: crm::Result<T> = std::expected<T, crm::Error>.

#include <expected>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace crm {

// How much work a failure makes us skip.
enum class ErrorScope { Message, Mailbox, Account, Fatal };

// What the caller should do about it.
enum class Retry { Never, Now, Backoff, NeedsConfig };

struct Error {
    std::string code;   // stable, machine-readable: "mime.parse", "store.sqlite", "csv.row" ...
    std::string detail; // human-readable: what and where
    ErrorScope scope = ErrorScope::Message;
    Retry retry = Retry::Never;

    [[nodiscard]] std::string to_string() const { return code + ": " + detail; }
};

template <class T> using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(std::string code, std::string detail,
                                   ErrorScope scope = ErrorScope::Message,
                                   Retry retry = Retry::Never) {
    return std::unexpected<Error>(Error{std::move(code), std::move(detail), scope, retry});
}

} // namespace crm
