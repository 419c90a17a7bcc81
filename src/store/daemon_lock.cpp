#include "crm/store/daemon_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

namespace crm::store {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kLockSuffix = ".daemon.lock";
// The file holds four short lines; anything longer is not ours and is not read further.
constexpr std::size_t kMaxLockFileBytes = 4096;
constexpr std::size_t kMaxFieldBytes = 255;

std::unexpected<Error> lock_failure(std::string detail) {
    return fail("db.lock", std::move(detail), ErrorScope::Fatal, Retry::NeedsConfig);
}

// Whoever can write the database's directory can write the lock file: keep printable ASCII
// only, so that a message quoting it cannot carry control characters into a terminal or a log.
std::string printable(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, kMaxFieldBytes))
        out += c >= 0x20 && c < 0x7f ? c : '?';
    return out;
}

std::string utc(std::int64_t t) {
    const auto tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr)
        return std::to_string(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<std::int64_t> number(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

// "key=value" lines, as write_holder() writes them; unknown keys and other lines are skipped.
std::optional<LockHolder> parse_holder(std::string_view text) {
    LockHolder h;
    bool has_pid = false;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        const auto key = line.substr(0, eq);
        const auto value = line.substr(eq + 1);
        if (key == "pid") {
            if (auto v = number(value); v && *v > 0) {
                h.pid = *v;
                has_pid = true;
            }
        } else if (key == "since") {
            h.since = number(value).value_or(0);
        } else if (key == "host") {
            h.host = printable(value);
        } else if (key == "program") {
            h.program = printable(value);
        }
    }
    if (!has_pid)
        return std::nullopt;
    return h;
}

// Calls io(offset) (a pread or pwrite of what is left from offset on) until `size` bytes are
// done, retrying EINTR. Returns the bytes done: fewer at end of file, or on an error (errno set).
template <class Io> std::size_t whole(std::size_t size, Io io) {
    std::size_t done = 0;
    while (done < size) {
        errno = 0;
        const auto n = io(done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

std::string read_prefix(int fd) {
    std::string out(kMaxLockFileBytes, '\0');
    out.resize(whole(out.size(), [&](std::size_t at) {
        return ::pread(fd, out.data() + at, out.size() - at, static_cast<off_t>(at));
    }));
    return out;
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "unknown";
    return printable(buf);
}

// Replaces the file's content with this process's record. Not fsynced: after a crash of the
// host the kernel lock is gone anyway, and the record is only read while someone holds it.
Result<void> write_holder(int fd, const std::string& lock_path, std::string_view program,
                          const Clock& clock) {
    const auto text = fmt::format("pid={}\nhost={}\nsince={}\nprogram={}\n", ::getpid(),
                                  host_name(), clock.now(), printable(program));
    if (::ftruncate(fd, 0) != 0)
        return lock_failure(fmt::format("cannot write the daemon lock file {}: {}", lock_path,
                                        std::strerror(errno)));
    const auto done = whole(text.size(), [&](std::size_t at) {
        return ::pwrite(fd, text.data() + at, text.size() - at, static_cast<off_t>(at));
    });
    if (done != text.size())
        return lock_failure(fmt::format("cannot write the daemon lock file {}: {}", lock_path,
                                        errno != 0 ? std::strerror(errno) : "short write"));
    return {};
}

// The refusal, naming the holder. The holder writes its record just after it took the lock, so
// a daemon refused in that instant may find the file empty (or still the previous holder's):
// read it again for up to ~100 ms before saying the holder is unknown.
Error in_use(int fd, const std::string& lock_path) {
    std::optional<LockHolder> holder;
    for (int attempt = 0; attempt < 20 && !holder; ++attempt) {
        if (attempt > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        holder = parse_holder(read_prefix(fd));
    }
    const auto db = lock_path.substr(0, lock_path.size() - kLockSuffix.size());
    std::string who =
        holder ? fmt::format("{} pid {} on host {} since {}",
                             holder->program.empty() ? "a process" : holder->program, holder->pid,
                             holder->host.empty() ? "?" : holder->host, utc(holder->since))
               : std::string("another process (its lock file names no holder yet)");
    return Error{"db.in_use",
                 fmt::format("database {} is already synced by {} (lock file {}); only one daemon "
                             "may sync a database: stop that one first",
                             db, who, lock_path),
                 ErrorScope::Fatal, Retry::NeedsConfig};
}

} // namespace

Result<std::string> daemon_lock_path(const std::string& db_path) {
    if (db_path.empty())
        return lock_failure("no database path");
    std::error_code ec;
    // weakly_canonical resolves the part that exists (the directory of a database not created
    // yet) and keeps the rest; absolute() first, or a path of which nothing exists stays relative.
    const auto abs = fs::absolute(db_path, ec);
    const auto canon = ec ? fs::path{} : fs::weakly_canonical(abs, ec);
    if (ec)
        return lock_failure(
            fmt::format("cannot resolve the database path {}: {}", db_path, ec.message()));
    if (fs::is_directory(canon, ec))
        return lock_failure(fmt::format("the database path {} is a directory", db_path));
    return canon.string() + std::string(kLockSuffix);
}

std::optional<LockHolder> read_lock_holder(const std::string& lock_path) {
    const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return std::nullopt;
    auto holder = parse_holder(read_prefix(fd));
    ::close(fd);
    return holder;
}

Result<DaemonLock> DaemonLock::acquire(const std::string& db_path, std::string_view program,
                                       const Clock& clock) {
    if (db_path == ":memory:")
        return DaemonLock(-1, {});
    auto lock_path = daemon_lock_path(db_path);
    if (!lock_path)
        return std::unexpected(lock_path.error());
    // O_NOFOLLOW: the lock file is ours, never a link to somewhere else.
    const int fd = ::open(lock_path->c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        const int e = errno;
        std::string why = std::strerror(e);
        if (e == ENOENT)
            why += fmt::format(": the database's directory {} does not exist",
                               fs::path(*lock_path).parent_path().string());
        else if (e == EACCES || e == EROFS || e == EPERM)
            why += fmt::format(": {} needs write access to the database's directory (SQLite "
                               "too, for its -wal and -shm files)",
                               program);
        return lock_failure(
            fmt::format("cannot open the daemon lock file {}: {}", *lock_path, why));
    }
    // flock, not fcntl(F_SETLK): a POSIX record lock belongs to the process and is dropped when
    // the process closes *any* descriptor of the file, and never conflicts within the process.
    // A flock belongs to this open file description: released when it is closed, which the
    // kernel does when the process dies however it dies. It is inherited by fork() (crm-maild
    // does not fork) but not by exec (O_CLOEXEC).
    int r = 0;
    do {
        r = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        const int e = errno;
        if (e == EWOULDBLOCK) {
            auto err = in_use(fd, *lock_path);
            ::close(fd);
            return std::unexpected(std::move(err));
        }
        ::close(fd);
        return lock_failure(
            fmt::format("cannot lock the daemon lock file {}: {}", *lock_path, std::strerror(e)));
    }
    DaemonLock lock(fd, std::move(*lock_path));
    if (auto w = write_holder(lock.fd_, lock.path_, program, clock); !w)
        return std::unexpected(w.error());
    return lock;
}

DaemonLock::DaemonLock(DaemonLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
    }
    return *this;
}

DaemonLock::~DaemonLock() {
    if (fd_ >= 0)
        ::close(fd_);
}

} // namespace crm::store
