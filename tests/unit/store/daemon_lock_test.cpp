// The daemon lock: one holder at a time, the holder named to the one refused, released when the
// holder closes it or dies (SIGKILL included), the same lock whichever path names the database.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "crm/store/daemon_lock.hpp"

namespace crm::store {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class DaemonLockTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               fmt::format("crm_daemon_lock_{}_{}", info->name(), ::getpid());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        dir_ = fs::canonical(dir_); // the lock names the canonical path
        db_ = (dir_ / "crm.db").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::string db_;
    ManualClock clock_{1764240000}; // 2025-11-27T10:40:00Z
};

// Kills and reaps a forked child when a check fails before the test does it.
struct ChildGuard {
    pid_t pid;
    ~ChildGuard() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

TEST_F(DaemonLockTest, SecondAcquireIsRefusedNamingTheHolder) {
    auto first = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(first->path(), db_ + ".daemon.lock");

    auto holder = read_lock_holder(first->path());
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->pid, ::getpid());
    EXPECT_EQ(holder->since, 1764240000);
    EXPECT_EQ(holder->program, "crm-maild");
    EXPECT_FALSE(holder->host.empty());

    // flock conflicts between two open file descriptions even within one process.
    auto second = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, "db.in_use");
    EXPECT_EQ(second.error().scope, ErrorScope::Fatal);
    const auto& d = second.error().detail;
    EXPECT_NE(d.find("database " + db_ + " is already synced by crm-maild pid " +
                     std::to_string(::getpid()) + " on host " + holder->host +
                     " since 2025-11-27T10:40:00Z"),
              std::string::npos)
        << d;
    EXPECT_NE(d.find(first->path()), std::string::npos) << d;
    // The refused attempt leaves the holder's record alone.
    auto after = read_lock_holder(first->path());
    ASSERT_TRUE(after);
    EXPECT_EQ(after->pid, ::getpid());
}

TEST_F(DaemonLockTest, ReleasedWhenDestroyedAndTheFileStays) {
    {
        auto first = DaemonLock::acquire(db_, "crm-maild", clock_);
        ASSERT_TRUE(first) << first.error().to_string();
        // Moving keeps it held.
        DaemonLock moved = std::move(*first);
        EXPECT_FALSE(DaemonLock::acquire(db_, "crm-maild", clock_));
    }
    EXPECT_TRUE(fs::exists(db_ + ".daemon.lock"));
    clock_.set(1764243600);
    auto again = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_TRUE(again) << again.error().to_string();
    auto holder = read_lock_holder(again->path());
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->since, 1764243600);
}

// A child takes the lock and is killed with SIGKILL: the kernel releases it, and the stale file
// it leaves (naming the dead PID) does not block the next holder.
TEST_F(DaemonLockTest, SigkilledHolderReleasesIt) {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(ready[0]);
        auto lock = DaemonLock::acquire(db_, "crm-maild", clock_);
        const char c = lock ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        for (;;)
            ::pause();
    }
    ChildGuard guard{child};
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    ASSERT_EQ(c, 'y');

    auto refused = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "db.in_use");
    EXPECT_NE(refused.error().detail.find("pid " + std::to_string(child) + " "), std::string::npos)
        << refused.error().detail;

    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    guard.pid = 0;
    ASSERT_TRUE(WIFSIGNALED(status));
    auto stale = read_lock_holder(db_ + ".daemon.lock");
    ASSERT_TRUE(stale);
    EXPECT_EQ(stale->pid, child);

    auto next = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_TRUE(next) << next.error().to_string();
    auto holder = read_lock_holder(next->path());
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->pid, ::getpid());
}

TEST_F(DaemonLockTest, SameLockThroughSymlinksAndOtherPaths) {
    // The database exists behind a symlinked file, a symlinked directory and a path with "..".
    { std::ofstream(db_) << ""; }
    fs::create_directories(dir_ / "sub");
    fs::create_symlink(db_, dir_ / "link.db");
    fs::create_directory_symlink(dir_, dir_ / "sub" / "dirlink");

    auto first = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_TRUE(first) << first.error().to_string();
    for (const auto& other : {dir_ / "link.db", dir_ / "sub" / "dirlink" / "crm.db",
                              dir_ / "sub" / ".." / "." / "crm.db"}) {
        EXPECT_EQ(daemon_lock_path(other.string()), first->path()) << other;
        auto second = DaemonLock::acquire(other.string(), "crm-maild", clock_);
        ASSERT_FALSE(second) << other;
        EXPECT_EQ(second.error().code, "db.in_use") << other;
    }

    // A relative path, from another working directory.
    const auto cwd = fs::current_path();
    fs::current_path(dir_ / "sub");
    auto relative = DaemonLock::acquire("../crm.db", "crm-maild", clock_);
    fs::current_path(cwd);
    ASSERT_FALSE(relative);
    EXPECT_EQ(relative.error().code, "db.in_use");
}

// First start: the database does not exist yet, the lock goes next to where it will be.
TEST_F(DaemonLockTest, DatabaseNotCreatedYet) {
    fs::create_directory_symlink(dir_, dir_ / "alias");
    auto first = DaemonLock::acquire((dir_ / "alias" / "crm.db").string(), "crm-maild", clock_);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_EQ(first->path(), db_ + ".daemon.lock");
    EXPECT_FALSE(DaemonLock::acquire(db_, "crm-maild", clock_));
}

TEST_F(DaemonLockTest, MissingDirectoryIsAClearError) {
    const auto db = (dir_ / "nowhere" / "crm.db").string();
    auto r = DaemonLock::acquire(db, "crm-maild", clock_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.lock");
    EXPECT_NE(r.error().detail.find(db + ".daemon.lock"), std::string::npos) << r.error().detail;
    EXPECT_NE(r.error().detail.find("directory " + (dir_ / "nowhere").string() + " does not exist"),
              std::string::npos)
        << r.error().detail;
    EXPECT_FALSE(fs::exists(dir_ / "nowhere"));
}

TEST_F(DaemonLockTest, DirectoryIsNotADatabase) {
    auto r = DaemonLock::acquire(dir_.string(), "crm-maild", clock_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.lock");
}

// The lock file may be written by anyone who can write the directory: a link is refused, and a
// record with control characters or no PID is not believed.
TEST_F(DaemonLockTest, LockFileContentIsNotTrusted) {
    fs::create_symlink(dir_ / "elsewhere", db_ + ".daemon.lock");
    auto linked = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_FALSE(linked);
    EXPECT_EQ(linked.error().code, "db.lock");
    EXPECT_FALSE(fs::exists(dir_ / "elsewhere"));
    fs::remove(db_ + ".daemon.lock");

    { std::ofstream(db_ + ".daemon.lock") << "host=evil\x1b[2J\nprogram=x\n"; }
    EXPECT_FALSE(read_lock_holder(db_ + ".daemon.lock"));
    { std::ofstream(db_ + ".daemon.lock") << "pid=12x\n"; }
    EXPECT_FALSE(read_lock_holder(db_ + ".daemon.lock"));
    { std::ofstream(db_ + ".daemon.lock") << "junk\npid=42\nhost=evil\x1b[2J\n"; }
    auto h = read_lock_holder(db_ + ".daemon.lock");
    ASSERT_TRUE(h);
    EXPECT_EQ(h->pid, 42);
    EXPECT_EQ(h->host, "evil?[2J");

    // A stale record longer than ours is replaced entirely.
    { std::ofstream(db_ + ".daemon.lock") << "pid=42\nhost=" << std::string(300, 'h') << "\n"; }
    auto lock = DaemonLock::acquire(db_, "crm-maild", clock_);
    ASSERT_TRUE(lock) << lock.error().to_string();
    std::ifstream in(db_ + ".daemon.lock");
    std::string text, line;
    while (std::getline(in, line))
        text += line + '\n';
    EXPECT_EQ(text.find("hhhh"), std::string::npos) << text;
    EXPECT_EQ(text.rfind("pid=" + std::to_string(::getpid()) + "\n", 0), 0U) << text;
}

TEST_F(DaemonLockTest, InMemoryDatabaseNeedsNoLock) {
    auto a = DaemonLock::acquire(":memory:", "crm-maild", clock_);
    auto b = DaemonLock::acquire(":memory:", "crm-maild", clock_);
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    EXPECT_TRUE(a->path().empty());
}

} // namespace
} // namespace crm::store
