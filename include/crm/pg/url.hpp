#pragma once
// Connection strings without their secrets, for every message and log line that names a database.

#include <string>
#include <string_view>

namespace crm::pg {

// `url` without its password, as far as libpq would read one:
// - postgresql:// and postgres:// URLs: the password of the user info (user:password@host) and the
//   query parameters password= and sslpassword= are dropped; the rest is kept as written, so
//   "postgresql://crm:s3cret@db:5432/crm?sslmode=require" →
//   "postgresql://crm@db:5432/crm?sslmode=require". The user info is taken to end at the last '@'
//   before the query, so a password with an unencoded '/' or '@' is still removed.
// - "key=value" conninfo strings: the password and sslpassword values (quoted or not) are dropped.
// Anything else is returned unchanged (it holds no password libpq would use).
[[nodiscard]] std::string redact_url(std::string_view url);

// `text` with every occurrence of `secret` (and of its percent-encoded form) replaced by "***":
// for messages that libpq builds from the connection string, which may quote a malformed part of
// it. An empty secret leaves the text unchanged.
[[nodiscard]] std::string scrub_secret(std::string text, std::string_view secret);

} // namespace crm::pg
