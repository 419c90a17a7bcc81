#pragma once
// Passwords and tokens (libsodium): Argon2id password hashes (crypto_pwhash_str, salted, cost in
// the string), 256-bit random tokens, and the SHA-256 under which a token is stored.

#include <string>
#include <string_view>

#include "crm/core/result.hpp"

namespace crm::http {

// Errors: "auth.password" (empty or over 1024 bytes), "auth.hash" (out of memory).
Result<std::string> hash_password(std::string_view password);
// Constant-time as far as libsodium goes; false for a malformed hash.
bool verify_password(const std::string& hash, std::string_view password);
// A fresh random token, base64url without padding (43 characters).
std::string new_token();
// Lower-case hex SHA-256 of the token: what the database keeps.
std::string token_hash(std::string_view token);
// Equal secrets? In constant time, revealing neither content nor length (compares SHA-256s).
bool same_secret(std::string_view a, std::string_view b);
// `n` random bytes as lower-case hex.
std::string random_hex(std::size_t n);

} // namespace crm::http
