// Thread assignment through the ThreadIndex port (notmuch's link-key model plus a guarded
// base-subject fallback).

#include "crm/core/base64.hpp"
#include "crm/thread/threader.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crm::thread {
namespace {

// Outlook's Thread-Index: base64 of a 22-byte header (6 bytes FILETIME + 16 bytes GUID) that
// every message of the conversation shares, then 5 bytes per reply.
constexpr std::size_t kThreadIndexHeaderBytes = 22;

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// Strict base64 (whitespace ignored, '=' padding only at the end); nullopt when malformed.
std::optional<std::string> decode_base64(std::string_view in) {
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (char c : in) {
        if (is_ascii_space(c))
            continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding != 0)
            return std::nullopt; // data after padding
        const int v = crm::base64_value(c);
        if (v < 0)
            return std::nullopt;
        ++symbols;
        acc = ((acc << 6U) | static_cast<std::uint32_t>(v)) & 0xFFFFFFU;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xFFU));
        }
    }
    if (symbols % 4 == 1 || padding > 2)
        return std::nullopt; // a lone 6-bit symbol cannot encode a byte
    if (padding != 0 && (symbols + padding) % 4 != 0)
        return std::nullopt;
    return out;
}

std::string hex(std::string_view bytes) {
    constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char b : bytes) {
        const auto u = static_cast<unsigned char>(b);
        out.push_back(kDigits[u >> 4U]);
        out.push_back(kDigits[u & 0x0FU]);
    }
    return out;
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    return r;
}

std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
    std::int64_t r = 0;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? std::numeric_limits<std::int64_t>::min()
                     : std::numeric_limits<std::int64_t>::max();
    return r;
}

// |a - b| without overflow.
std::uint64_t distance(std::int64_t a, std::int64_t b) {
    const auto ua = static_cast<std::uint64_t>(a);
    const auto ub = static_cast<std::uint64_t>(b);
    return a >= b ? ua - ub : ub - ua;
}

} // namespace

std::vector<std::string> link_keys(const ThreadInput &msg) {
    std::vector<std::string> keys;
    keys.reserve(msg.references.size() + 3);
    auto add = [&keys](std::string key) {
        if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end())
            keys.push_back(std::move(key));
    };
    add(msg.message_id);
    for (const std::string &ref : msg.references)
        if (ref != msg.message_id) // a self-reference links nothing
            add(ref);
    if (!msg.gmail_thread_id.empty())
        add("gm-thrid:" + msg.gmail_thread_id);
    if (!msg.thread_index.empty()) {
        // An undecodable or short Thread-Index is ignored: it identifies nothing.
        if (auto bytes = decode_base64(msg.thread_index);
            bytes && bytes->size() >= kThreadIndexHeaderBytes)
            add("thread-index:" + hex(std::string_view(*bytes).substr(0, kThreadIndexHeaderBytes)));
    }
    return keys;
}

bool subject_link(const SubjectCandidate &a, const SubjectCandidate &b,
                  const SubjectPolicy &policy) {
    if (a.is_bulk || b.is_bulk)
        return false;
    if (!a.subject_reply && !b.subject_reply)
        return false;
    if (policy.window_seconds < 0 ||
        distance(a.date, b.date) > static_cast<std::uint64_t>(policy.window_seconds))
        return false;
    for (const std::string &p : a.participants)
        if (!p.empty() &&
            std::find(b.participants.begin(), b.participants.end(), p) != b.participants.end())
            return true;
    return false;
}

Result<ThreadId> assign_thread(const ThreadInput &msg, ThreadIndex &index,
                               const SubjectPolicy &policy) {
    const std::vector<std::string> keys = link_keys(msg);
    auto owners = index.threads_for_keys(keys);
    if (!owners)
        return std::unexpected(std::move(owners.error()));
    std::vector<ThreadId> threads = std::move(*owners);

    // Subject fallback. The check is symmetric in the two messages and every pair is looked at
    // when the later of the two arrives, so the grouping does not depend on arrival order.
    const std::string base = base_subject(msg.subject);
    if (!msg.is_bulk && !is_generic_subject(base, policy)) {
        const SubjectCandidate self{
            .message_id = msg.message_id,
            .thread_id = 0,
            .date = msg.date,
            .participants = msg.participants,
            .is_bulk = msg.is_bulk,
            .subject_reply = is_reply_subject(msg.subject) && !msg.has_reference_headers,
        };
        const std::int64_t window = std::max<std::int64_t>(policy.window_seconds, 0);
        auto candidates = index.subject_candidates(base, saturating_sub(msg.date, window),
                                                   saturating_add(msg.date, window));
        if (!candidates)
            return std::unexpected(std::move(candidates.error()));
        for (const SubjectCandidate &c : *candidates)
            if (c.thread_id != 0 && subject_link(self, c, policy))
                threads.push_back(c.thread_id);
    }

    std::sort(threads.begin(), threads.end());
    threads.erase(std::unique(threads.begin(), threads.end()), threads.end());

    ThreadId target = 0;
    if (threads.empty()) {
        auto created = index.create_thread();
        if (!created)
            return std::unexpected(std::move(created.error()));
        target = *created;
    } else {
        target = threads.front();
        for (std::size_t i = 1; i < threads.size(); ++i)
            if (auto merged = index.merge_threads(target, threads[i]); !merged)
                return std::unexpected(std::move(merged.error()));
    }
    if (auto added = index.add_keys(target, keys); !added)
        return std::unexpected(std::move(added.error()));
    return target;
}

ThreadInput make_input(const ParsedMessage &m, std::string message_id,
                       std::vector<std::string> participants) {
    ThreadInput in;
    in.message_id = std::move(message_id);
    in.references.reserve(m.references.size() + m.in_reply_to.size());
    in.references.insert(in.references.end(), m.references.begin(), m.references.end());
    in.references.insert(in.references.end(), m.in_reply_to.begin(), m.in_reply_to.end());
    // A References/In-Reply-To header whose ids did not parse still marks a real reply: such a
    // message is not a "subject-only" reply.
    in.has_reference_headers = !m.references.empty() || !m.in_reply_to.empty() ||
                               find_header(m, "References") != nullptr ||
                               find_header(m, "In-Reply-To") != nullptr;
    in.subject = m.subject;
    in.date = m.date.value_or(0);
    in.participants = std::move(participants);
    in.is_bulk = m.is_bulk;
    in.gmail_thread_id = m.gmail_thread_id;
    in.thread_index = m.thread_index;
    return in;
}

} // namespace crm::thread
