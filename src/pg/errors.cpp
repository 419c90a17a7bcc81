#include "crm/pg/errors.hpp"

namespace crm::pg {

namespace {

constexpr std::string_view kSqlstateTag = "[SQLSTATE ";

} // namespace

Error error_for_sqlstate(std::string_view s, std::string detail) {
    auto make = [&](const char* code, ErrorScope scope, Retry retry) {
        return Error{code, std::move(detail), scope, retry};
    };
    // No SQLSTATE: libpq itself failed (the socket closed, the server went away mid-answer).
    if (s.size() != 5)
        return make("pg.connection", ErrorScope::Fatal, Retry::Backoff);
    const std::string_view cls = s.substr(0, 2);
    // Refused for its data, like SQLITE_CONSTRAINT / TOOBIG / MISMATCH in store's sql_error: the
    // item being written is to blame, the batch goes on without it.
    // account_lease_held() (schema/postgresql/0002_workers.sql): this worker lost the account's
    // lease (expired while it was paused, or another worker claimed it). Its writes for that
    // account are refused; it stops the account at once.
    if (s == "CR001")
        return make("lease.lost", ErrorScope::Account, Retry::Never);
    if (cls == "23")
        return make("pg.constraint", ErrorScope::Message, Retry::Backoff);
    if (cls == "22")
        return make("pg.data", ErrorScope::Message, Retry::Backoff);
    // The server chose this transaction as the loser of a race; nothing is wrong with it or with
    // the connection, and running it again is the documented remedy (manual §13.6).
    if (s == "40001" || s == "40P01")
        return make("pg.retry", ErrorScope::Mailbox, Retry::Now);
    if (s == "55P03" || s == "57014")
        return make("pg.timeout", ErrorScope::Mailbox, Retry::Backoff);
    // The connection is gone or the server is shutting down (admin_shutdown, crash_shutdown,
    // cannot_connect_now): every statement on this connection fails until a new one is opened.
    if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03")
        return make("pg.connection", ErrorScope::Fatal, Retry::Backoff);
    if (cls == "28" || s == "3D000")
        return make("pg.auth", ErrorScope::Fatal, Retry::NeedsConfig);
    // Syntax, an undefined table or column, a missing privilege: our SQL and the database
    // disagree, and trying again will not change that.
    if (cls == "42")
        return make("pg.query", ErrorScope::Fatal, Retry::Never);
    return make("pg.query", ErrorScope::Fatal, Retry::Backoff);
}

std::string_view sqlstate_of(const Error& e) noexcept {
    const std::string_view d = e.detail;
    const auto at = d.rfind(kSqlstateTag);
    if (at == std::string_view::npos || d.size() < at + kSqlstateTag.size() + 6)
        return {};
    return d.substr(at + kSqlstateTag.size(), 5);
}

} // namespace crm::pg
