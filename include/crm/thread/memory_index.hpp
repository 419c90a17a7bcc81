#pragma once
// An in-memory ThreadIndex for tests, fuzzing and the corpus tools.

#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "crm/core/ports.hpp"
#include "crm/thread/threader.hpp"

namespace crm::thread {

class MemoryIndex final : public ThreadIndex {
  public:
    Result<std::vector<ThreadId>> threads_for_keys(std::span<const std::string> keys) override;
    Result<std::vector<SubjectCandidate>> subject_candidates(std::string_view base_subject,
                                                             std::int64_t from,
                                                             std::int64_t to) override;
    Result<ThreadId> create_thread() override;
    Result<void> merge_threads(ThreadId into, ThreadId from) override;
    Result<void> add_keys(ThreadId thread, std::span<const std::string> keys) override;
    Result<std::optional<DealId>> linked_deal(ThreadId thread) override;
    Result<bool> kept_apart(ThreadId a, ThreadId b) override;

    // Links a thread to a deal (what the sorter does through the store).
    void link(ThreadId thread, DealId deal);
    // Records that a person split `b` off `a` (the store's thread split).
    void keep_apart(ThreadId a, ThreadId b);

    // Records a stored message so subject_candidates() can find it (the store does this when
    // it stores the message row).
    void add_message(const ThreadInput& msg, ThreadId thread);

    // Thread of each recorded message, by message id.
    [[nodiscard]] std::map<std::string, ThreadId> message_threads() const;

  private:
    std::map<std::string, ThreadId> key_thread_;
    struct Stored {
        SubjectCandidate candidate;
        std::string base;
    };
    std::vector<Stored> messages_;
    std::map<ThreadId, DealId> deals_;
    std::vector<std::pair<ThreadId, ThreadId>> apart_;
    ThreadId next_ = 1;
};

} // namespace crm::thread
