#pragma once
// How a PostgreSQL failure maps onto crm::Error, decided from its SQLSTATE (PostgreSQL manual,
// Appendix A), the way store's sql_error() decides from SQLite's result code:
//
// | SQLSTATE                     | code            | scope    | retry       | what to do |
// |------------------------------|-----------------|----------|-------------|-------------------------|
// | 23xxx constraint violation   | pg.constraint   | Message  | Backoff     | skip / isolate the
// item | | 22xxx data exception         | pg.data         | Message  | Backoff     | skip / isolate
// the item | | 40001, 40P01 serialization,  | pg.retry        | Mailbox  | Now         | run the
// transaction     | |   deadlock                   |                 |          |             |
// again                 | | 55P03, 57014 lock/statement  | pg.timeout      | Mailbox  | Backoff |
// try again later         | |   timeout, cancel            |                 |          | | | |
// 08xxx, 57P01-57P03 lost or   | pg.connection   | Fatal    | Backoff     | reconnect (a new | |
// shut-down connection       |                 |          |             |   Connection)           |
// | 28xxx, 3D000 login, database | pg.auth         | Fatal    | NeedsConfig | fix the configuration
// | | 42xxx syntax, undefined,     | pg.query        | Fatal    | Never       | a bug or a schema
// this  | |   privilege                  |                 |          |             |   binary does
// not know  | | anything else (53xxx disk,   | pg.query        | Fatal    | Backoff     | the
// database's problem  | |   memory, ...)               |                 |          |             |
// |
//
// A failure libpq reports without a SQLSTATE (the socket closed, the server gone) is
// pg.connection.

#include <string>
#include <string_view>

#include "crm/core/result.hpp"

namespace crm::pg {

// The Error for SQLSTATE `sqlstate` (five characters; empty when the server sent none) with the
// given detail, which should already name what failed and where.
[[nodiscard]] Error error_for_sqlstate(std::string_view sqlstate, std::string detail);

// The SQLSTATE an Error from this module carries in its detail ("[SQLSTATE 23505]"), or "".
[[nodiscard]] std::string_view sqlstate_of(const Error& e) noexcept;

} // namespace crm::pg
