#pragma once
// One syncing daemon per SQLite database. SQLite has one writer host, and two crm-maild on one
// database would sync the same accounts and work the same outbox (a reply could go out twice),
// so crm-maild takes this exclusive lock before it opens the database and holds it for its whole
// life. The lock is the kernel's (flock(2) on `<canonical database path>.daemon.lock`): it goes
// away when the holder's file descriptor is closed, i.e. when the process exits or is killed
// (SIGKILL included), so a lock file left behind by a crashed daemon never blocks the next one.
// The holder writes its PID, host name and start time into the file so that a refused daemon can
// name it. Only crm-maild takes it: crm-mailctl (import, db migrate, admin commands) works while
// the daemon runs, through SQLite's own locking.
//
// Not a guard across hosts: SQLite in WAL mode keeps its shared memory (`-shm`) per host and is
// unsupported on NFS and other network file systems; run the daemon on the host whose local disk
// holds the database.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "crm/core/clock.hpp"
#include "crm/core/result.hpp"

namespace crm::store {

// Who holds a database's daemon lock, as the holder wrote it into the lock file (informational:
// the lock itself is the kernel's).
struct LockHolder {
    std::int64_t pid = 0;
    std::string host;
    std::int64_t since = 0; // Unix time at which the holder took the lock
    std::string program;
};

// The lock file of a database: its canonical path (absolute, symlinks resolved, `.` and `..`
// removed; for a database not created yet, its directory's canonical path and its name) plus
// ".daemon.lock", so that the same database reached through a symlink or another relative path
// has the same lock. Errors: "db.lock" when the path cannot be resolved. A hard link under
// another name is a different path: don't give one database two names.
[[nodiscard]] Result<std::string> daemon_lock_path(const std::string& db_path);

// What the lock file at `lock_path` says about its holder; nullopt when it cannot be read or
// names no PID (never written, or written by nobody we know). The content is not trusted:
// fields are length-limited and reduced to printable ASCII.
[[nodiscard]] std::optional<LockHolder> read_lock_holder(const std::string& lock_path);

// An exclusive daemon lock, held until this object is destroyed (or the process ends).
// Move-only. Used from the thread that owns it; holding it needs no thread at all.
class DaemonLock {
  public:
    // Takes the lock of the database at `db_path` for this process without waiting, and records
    // the holder: this process's PID, the host name, `clock.now()` and `program`. The file is
    // opened O_CLOEXEC (no program this process runs inherits it) and never removed (removing
    // it while a daemon holds it would let a second daemon lock a new file of the same name).
    // ":memory:" needs no lock: it is private to its connection.
    // Errors:
    //   "db.in_use"  another process holds it; the detail names the database, the holder's
    //                program, PID, host and start time, and the lock file;
    //   "db.lock"    the lock file cannot be created, opened, locked or written (missing or
    //                read-only directory, permissions): the detail names the file and the cause.
    [[nodiscard]] static Result<DaemonLock> acquire(const std::string& db_path,
                                                    std::string_view program,
                                                    const Clock& clock = system_clock());

    DaemonLock(DaemonLock&& other) noexcept;
    DaemonLock& operator=(DaemonLock&& other) noexcept;
    DaemonLock(const DaemonLock&) = delete;
    DaemonLock& operator=(const DaemonLock&) = delete;
    // Releases the lock (closes the file; the file stays).
    ~DaemonLock();

    // The lock file; empty for ":memory:".
    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    DaemonLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    int fd_ = -1;
    std::string path_;
};

} // namespace crm::store
