#pragma once
// Port interfaces: what the pure core needs from storage, implemented by adapters (store).
// Every call may fail with a store error (scope Fatal or Message); the core passes it up.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

// A stored message that shares a base subject with a new one (subject fallback threading).
struct SubjectCandidate {
    std::string message_id;
    ThreadId thread_id = 0;
    std::int64_t date = 0;                 // Unix seconds
    std::vector<std::string> participants; // canonical addresses
    bool is_bulk = false;
    bool subject_reply = false; // reply prefix in its subject and no References/In-Reply-To
};

// The link-key index behind threading (notmuch's model): every key - a real Message-ID, a ghost
// (an ID referenced but not yet seen) or a synthetic key such as "gm-thrid:123" - belongs to
// exactly one thread.
class ThreadIndex {
  public:
    virtual ~ThreadIndex() = default;
    // Distinct threads that own any of `keys`, ascending.
    virtual Result<std::vector<ThreadId>> threads_for_keys(std::span<const std::string> keys) = 0;
    // Stored messages whose base subject equals `base_subject` and whose date is in [from, to].
    virtual Result<std::vector<SubjectCandidate>>
    subject_candidates(std::string_view base_subject, std::int64_t from, std::int64_t to) = 0;
    virtual Result<ThreadId> create_thread() = 0;
    // Moves every key and message of `from` into `into`; `from` no longer exists afterwards.
    virtual Result<void> merge_threads(ThreadId into, ThreadId from) = 0;
    // Records that `keys` belong to `thread` (keys already there are left alone).
    virtual Result<void> add_keys(ThreadId thread, std::span<const std::string> keys) = 0;
};

} // namespace crm
