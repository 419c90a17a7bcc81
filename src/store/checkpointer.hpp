#pragma once
// Private to the store module: WAL checkpoints on a thread of their own (checkpointer.cpp).

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "impl.hpp"

struct sqlite3;

namespace crm::store {

class Checkpointer {
  public:
    // Hooks into `writer`'s commits; checkpoints on a second connection to `path` whenever a
    // commit leaves at least `wal_pages` pages in the log.
    Checkpointer(const std::string& path, sqlite3* writer, int wal_pages);
    ~Checkpointer();
    Checkpointer(const Checkpointer&) = delete;
    Checkpointer& operator=(const Checkpointer&) = delete;

    // Called by the writer before BEGIN: waits for the checkpoint in flight when the log is
    // long, so that it can rewind.
    void before_write();

  private:
    static int on_commit(void* self, sqlite3* db, const char* name, int pages);
    void loop();

    sqlite3* writer_;
    const int wal_pages_;
    const int wait_pages_;
    std::atomic<int> wal_frames_{0}; // the log's length after the writer's last commit
    SQLite::Database conn_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool due_ = false;
    bool running_ = false;
    bool stop_ = false;
    std::thread thread_;
};

} // namespace crm::store
