#include "crm/runtime/secrets.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace crm::runtime {

namespace {
Result<std::string> read_secret_file(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail("secret.missing", fmt::format("cannot read {} {}: {}", what, path,
                                                  std::strerror(errno)),
                    ErrorScope::Account, Retry::NeedsConfig);
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.pop_back();
    if (s.empty())
        return fail("secret.missing", fmt::format("{} {} is empty", what, path),
                    ErrorScope::Account, Retry::NeedsConfig);
    return s;
}
} // namespace

Result<std::string> resolve_secret(const settings::SecretRef& ref) {
    using K = settings::SecretRef::Kind;
    switch (ref.kind) {
    case K::File:
        return read_secret_file(ref.value, "secret file");
    case K::Env: {
        const char* v = std::getenv(ref.value.c_str());
        if (!v || !*v)
            return fail("secret.missing",
                        fmt::format("environment variable {} is not set", ref.value),
                        ErrorScope::Account, Retry::NeedsConfig);
        return std::string(v);
    }
    case K::Credential: {
        const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
        if (!dir || !*dir)
            return fail("secret.missing",
                        fmt::format("credential {} named, but CREDENTIALS_DIRECTORY is not set "
                                    "(LoadCredential= in the unit)",
                                    ref.value),
                        ErrorScope::Account, Retry::NeedsConfig);
        return read_secret_file(std::string(dir) + "/" + ref.value, "credential");
    }
    case K::Inline:
        return ref.value;
    }
    return fail("secret.missing", "unknown secret kind", ErrorScope::Account, Retry::NeedsConfig);
}

} // namespace crm::runtime
