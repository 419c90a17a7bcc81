// Passwords and tokens with libsodium (see auth.hpp).
#include "crm/http/auth.hpp"

#include <mutex>
#include <vector>

#include <sodium.h>

namespace crm::http {

namespace {

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0)
            throw std::runtime_error("libsodium failed to initialise");
    });
}

} // namespace

Result<std::string> hash_password(std::string_view password) {
    init();
    if (password.empty() || password.size() > 1024)
        return fail("auth.password", "a password must be 1 to 1024 bytes");
    std::string out(crypto_pwhash_STRBYTES, '\0');
    if (crypto_pwhash_str(out.data(), password.data(), password.size(),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return fail("auth.hash", "not enough memory to hash the password");
    out.resize(std::char_traits<char>::length(out.c_str()));
    return out;
}

bool verify_password(const std::string& hash, std::string_view password) {
    init();
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES)
        return false;
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string new_token() {
    init();
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    std::vector<char> out(sodium_base64_ENCODED_LEN(sizeof raw,
                                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING));
    sodium_bin2base64(out.data(), out.size(), raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return std::string(out.data());
}

std::string token_hash(std::string_view token) {
    init();
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(token.data()), token.size());
    char hex[crypto_hash_sha256_BYTES * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return hex;
}

bool same_secret(std::string_view a, std::string_view b) {
    init();
    unsigned char ha[crypto_hash_sha256_BYTES], hb[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(ha, reinterpret_cast<const unsigned char*>(a.data()), a.size());
    crypto_hash_sha256(hb, reinterpret_cast<const unsigned char*>(b.data()), b.size());
    return sodium_memcmp(ha, hb, sizeof ha) == 0;
}

std::string random_hex(std::size_t n) {
    init();
    std::vector<unsigned char> raw(n);
    randombytes_buf(raw.data(), n);
    std::string hex(n * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), raw.data(), n);
    hex.resize(n * 2);
    return hex;
}

} // namespace crm::http
