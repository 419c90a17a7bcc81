// Config and secret files (see config_files.hpp).
#include "crm/runtime/config_files.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace crm::runtime {

namespace fs = std::filesystem;

namespace {
constexpr const char* kServiceUser = "crm-mail";

std::unexpected<Error> write_error(std::string what) {
    return fail("config.write", std::move(what), ErrorScope::Fatal, Retry::NeedsConfig);
}
} // namespace

std::optional<std::pair<uid_t, gid_t>> service_owner() {
    if (geteuid() != 0)
        return std::nullopt;
    if (const passwd* pw = getpwnam(kServiceUser))
        return std::pair{pw->pw_uid, pw->pw_gid};
    return std::nullopt;
}

Result<void> write_atomic(const std::string& path, const std::string& content, mode_t mode,
                          std::optional<std::pair<uid_t, gid_t>> owner, bool inherit) {
    struct stat st{};
    if (inherit && ::stat(path.c_str(), &st) == 0) {
        mode = st.st_mode & 07777;
        owner = std::pair{st.st_uid, st.st_gid};
    }
    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        return write_error(fmt::format("cannot create a temporary file next to {}: {}", path,
                                       std::strerror(errno)));
    bool ok = ::fchmod(fd, mode) == 0;
    if (ok && owner && geteuid() == 0)
        ok = ::fchown(fd, owner->first, owner->second) == 0;
    for (std::size_t off = 0; ok && off < content.size();) {
        auto n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        if (ok)
            off += static_cast<std::size_t>(n);
    }
    ok = ok && ::fsync(fd) == 0;
    const int err = errno;
    ok = (::close(fd) == 0) && ok;
    if (ok && ::rename(tmp.c_str(), path.c_str()) == 0)
        return {};
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return write_error(fmt::format("cannot write {}: {}", path, std::strerror(e)));
}

std::string absolute_path(const std::string& p) {
    std::error_code ec;
    auto a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

std::string secrets_dir(const std::string& config_path) {
    return (fs::path(absolute_path(config_path)).parent_path() / "secrets").string();
}

std::string secret_path(const std::string& config_path, const std::string& name) {
    return (fs::path(secrets_dir(config_path)) / name).string();
}

std::string smtp_secret_name(const std::string& account_name) {
    return account_name + "+smtp";
}

Result<void> store_secret(const std::string& config_path, const std::string& name,
                          const std::string& secret) {
    const auto dir = secrets_dir(config_path);
    const auto owner = service_owner();
    if (::mkdir(dir.c_str(), 0700) == 0) {
        if (owner && ::chown(dir.c_str(), owner->first, owner->second) != 0)
            return write_error(fmt::format("cannot hand {} to {}: {}", dir, kServiceUser,
                                           std::strerror(errno)));
    } else if (errno != EEXIST) {
        return write_error(fmt::format("cannot create {}: {}", dir, std::strerror(errno)));
    }
    // Always 0600: a secret file never inherits a looser mode from an older file.
    return write_atomic(secret_path(config_path, name), secret + "\n", 0600, owner, false);
}

std::optional<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace crm::runtime
