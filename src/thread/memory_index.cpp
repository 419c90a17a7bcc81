// In-memory ThreadIndex: plain maps, linear scans. Meant for tests, fuzzing and corpus tools,
// not for large mailboxes.

#include "crm/thread/memory_index.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace crm::thread {

Result<std::vector<ThreadId>> MemoryIndex::threads_for_keys(std::span<const std::string> keys) {
    std::vector<ThreadId> out;
    for (const std::string &key : keys)
        if (auto it = key_thread_.find(key); it != key_thread_.end())
            out.push_back(it->second);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<std::vector<SubjectCandidate>>
MemoryIndex::subject_candidates(std::string_view base_subject, std::int64_t from, std::int64_t to) {
    std::vector<SubjectCandidate> out;
    for (const Stored &s : messages_)
        if (s.base == base_subject && s.candidate.date >= from && s.candidate.date <= to)
            out.push_back(s.candidate);
    return out;
}

Result<ThreadId> MemoryIndex::create_thread() {
    return next_++;
}

Result<void> MemoryIndex::merge_threads(ThreadId into, ThreadId from) {
    if (into <= 0 || into >= next_ || from <= 0 || from >= next_)
        return fail("thread.merge", fmt::format("unknown thread {} or {}", into, from));
    if (into == from)
        return {};
    for (auto &[key, thread] : key_thread_)
        if (thread == from)
            thread = into;
    for (Stored &s : messages_)
        if (s.candidate.thread_id == from)
            s.candidate.thread_id = into;
    // The surviving thread keeps its link; else it takes the other's.
    if (auto it = deals_.find(from); it != deals_.end()) {
        deals_.emplace(into, it->second);
        deals_.erase(it);
    }
    for (auto &[a, b] : apart_) {
        if (a == from)
            a = into;
        if (b == from)
            b = into;
    }
    return {};
}

Result<void> MemoryIndex::add_keys(ThreadId thread, std::span<const std::string> keys) {
    if (thread <= 0 || thread >= next_)
        return fail("thread.add_keys", fmt::format("unknown thread {}", thread));
    for (const std::string &key : keys)
        if (!key.empty())
            key_thread_.emplace(key, thread); // a key already there stays where it is
    return {};
}

Result<std::optional<DealId>> MemoryIndex::linked_deal(ThreadId thread) {
    if (auto it = deals_.find(thread); it != deals_.end())
        return it->second;
    return std::nullopt;
}

Result<bool> MemoryIndex::kept_apart(ThreadId a, ThreadId b) {
    return std::any_of(apart_.begin(), apart_.end(), [&](const auto &p) {
        return (p.first == a && p.second == b) || (p.first == b && p.second == a);
    });
}

void MemoryIndex::link(ThreadId thread, DealId deal) {
    deals_[thread] = deal;
}

void MemoryIndex::keep_apart(ThreadId a, ThreadId b) {
    apart_.emplace_back(a, b);
}

void MemoryIndex::add_message(const ThreadInput &msg, ThreadId thread) {
    Stored s;
    s.candidate.message_id = msg.message_id;
    s.candidate.thread_id = thread;
    s.candidate.date = msg.date;
    s.candidate.participants = msg.participants;
    s.candidate.is_bulk = msg.is_bulk;
    s.candidate.subject_reply = is_reply_subject(msg.subject) && !msg.has_reference_headers;
    s.base = base_subject(msg.subject);
    messages_.push_back(std::move(s));
}

std::map<std::string, ThreadId> MemoryIndex::message_threads() const {
    std::map<std::string, ThreadId> out;
    for (const Stored &s : messages_)
        out[s.candidate.message_id] = s.candidate.thread_id;
    return out;
}

} // namespace crm::thread
