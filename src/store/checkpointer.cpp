// WAL checkpoints on a background thread (Database::checkpoint_in_background).
//
// In WAL mode every committed page is written twice: appended to the log, then copied into the
// database file by a checkpoint. By default the committing connection checkpoints inline once
// the log passes 1000 pages, so the daemon's event loop, which commits each sync batch, also
// paid for copying every batch into the (growing) database file: a third of its time in an
// initial sync. Here a commit hook only signals a thread that checkpoints on its own
// connection. A passive checkpoint never waits for, nor blocks, the writer or readers; once it
// has caught up, the writer's next transaction rewinds the log, as with inline checkpoints.

#include "checkpointer.hpp"

#include <chrono>

#include <sqlite3.h>

namespace crm::store {

Checkpointer::Checkpointer(const std::string& path, sqlite3* writer, int wal_pages)
    : writer_(writer), wal_pages_(wal_pages), wait_pages_(4 * wal_pages),
      conn_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_FULLMUTEX) {
    // A connection only knows the database is in WAL mode once it has read it; until then a
    // checkpoint is a no-op.
    SQLite::Statement wal(conn_, "PRAGMA journal_mode = WAL");
    wal.executeStep();
    // When the log rewinds, cut the file back to 64 MiB: an initial sync may have grown it to
    // ~4x the checkpoint interval, and a quiet daemon should not keep that on disk.
    sqlite3_exec(writer_, "PRAGMA journal_size_limit = 67108864", nullptr, nullptr, nullptr);
    thread_ = std::thread([this] { loop(); });
    // Replaces the connection's automatic checkpoints (sqlite3_wal_autocheckpoint installs this
    // same hook).
    sqlite3_wal_hook(writer_, &Checkpointer::on_commit, this);
}

Checkpointer::~Checkpointer() {
    sqlite3_wal_autocheckpoint(writer_, 1000); // SQLite's default again, for what follows
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

int Checkpointer::on_commit(void* self, sqlite3* /*db*/, const char* /*name*/, int pages) {
    auto* c = static_cast<Checkpointer*>(self);
    c->wal_frames_.store(pages, std::memory_order_relaxed);
    if (pages >= c->wal_pages_) {
        {
            std::lock_guard lock(c->mu_);
            c->due_ = true;
        }
        c->cv_.notify_all();
    }
    return SQLITE_OK;
}

void Checkpointer::before_write() {
    // The log rewinds only when a write transaction starts after a checkpoint has copied all of
    // it; the writer commits again so soon that it would otherwise keep growing. Past a few
    // batches' worth, let the checkpoint in flight finish first (the next write then starts
    // the log from the beginning, where its pages are still in memory).
    if (wal_frames_.load(std::memory_order_relaxed) < wait_pages_)
        return;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stop_ || (!due_ && !running_); });
}

void Checkpointer::loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        // Also every 30 s: other connections of the process (the HTTP API's) leave their commits
        // to this thread, and may be the only writers for a while.
        cv_.wait_for(lock, std::chrono::seconds(30), [&] { return stop_ || due_; });
        if (stop_)
            return; // closing the last connection checkpoints what is left
        due_ = false;
        running_ = true;
        lock.unlock();
        int log = 0, done = 0;
        // SQLITE_BUSY: another process is checkpointing; the next commit signals again.
        (void)sqlite3_wal_checkpoint_v2(conn_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                        &log, &done);
        lock.lock();
        running_ = false;
        cv_.notify_all();
    }
}

Result<void> Database::checkpoint_in_background(int wal_pages) {
    if (impl_->checkpointer)
        return {};
    try {
        impl_->checkpointer = {new Checkpointer(impl_->path, impl_->db.getHandle(), wal_pages),
                               [](Checkpointer* c) { delete c; }};
        return {};
    } catch (const std::exception& e) {
        return fail("db.open",
                    "cannot open a checkpoint connection to " + impl_->path + ": " + e.what(),
                    ErrorScope::Fatal, Retry::Backoff);
    }
}

} // namespace crm::store
