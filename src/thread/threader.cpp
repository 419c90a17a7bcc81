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
        if (auto bytes = crm::base64_decode(msg.thread_index);
            bytes && bytes->size() >= kThreadIndexHeaderBytes)
            add("thread-index:" + hex(std::string_view(*bytes).substr(0, kThreadIndexHeaderBytes)));
    }
    return keys;
}

namespace {

// An address the whole team shares in every conversation: never evidence of one conversation.
bool is_internal(std::string_view address, const SubjectPolicy &policy) {
    const auto at = address.rfind('@');
    if (at == std::string_view::npos)
        return false;
    const std::string_view domain = address.substr(at + 1);
    return std::find(policy.internal_domains.begin(), policy.internal_domains.end(), domain) !=
           policy.internal_domains.end();
}

template <class T> bool contains(const std::vector<T> &v, const T &x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

bool subject_link(const SubjectCandidate &a, const SubjectCandidate &b,
                  const SubjectPolicy &policy) {
    if (a.is_bulk || b.is_bulk || a.date == b.date)
        return false;
    const SubjectCandidate &later = a.date > b.date ? a : b;
    const SubjectCandidate &earlier = a.date > b.date ? b : a;
    // Only a reply that lost its headers is joined by subject, and only to what came before it:
    // a new message never joins an old thread because that thread holds such a reply.
    if (!later.subject_reply)
        return false;
    if (policy.window_seconds < 0 ||
        distance(later.date, earlier.date) > static_cast<std::uint64_t>(policy.window_seconds))
        return false;
    for (const std::string &p : later.participants)
        if (!p.empty() && !is_internal(p, policy) && contains(earlier.participants, p))
            return true;
    return false;
}

FirstLookups first_lookups(const ThreadInput& msg, const SubjectPolicy& policy) {
    FirstLookups out;
    out.keys = link_keys(msg);
    if (msg.is_bulk)
        return out;
    std::string base = base_subject(msg.subject);
    if (const auto rules = subject_policy_for(base, policy)) {
        const std::int64_t window = std::max<std::int64_t>(rules->window_seconds, 0);
        out.subject = SubjectQuery{std::move(base), saturating_sub(msg.date, window),
                                   saturating_add(msg.date, window)};
    }
    return out;
}

Result<Assignment> assign_thread(const ThreadInput &msg, ThreadIndex &index,
                                 const SubjectPolicy &policy) {
    Assignment out;
    const FirstLookups first = first_lookups(msg, policy);
    const std::vector<std::string>& keys = first.keys;
    auto owners = index.threads_for_keys(keys);
    if (!owners)
        return std::unexpected(std::move(owners.error()));
    std::vector<ThreadId> threads = std::move(*owners);

    // Threads a person split apart stay apart even when one reply references both: the thread
    // of the message it answers wins.
    if (threads.size() > 1) {
        ThreadId anchor = threads.front();
        if (!msg.parent.empty()) {
            const std::string parent[] = {msg.parent};
            auto parent_thread = index.threads_for_keys(parent);
            if (!parent_thread)
                return std::unexpected(std::move(parent_thread.error()));
            if (!parent_thread->empty())
                anchor = parent_thread->front();
        }
        std::vector<ThreadId> joined{anchor};
        for (ThreadId t : threads) {
            if (t == anchor)
                continue;
            auto apart = index.kept_apart(anchor, t);
            if (!apart)
                return std::unexpected(std::move(apart.error()));
            if (*apart)
                out.kept_apart = true;
            else
                joined.push_back(t);
        }
        threads = std::move(joined);
        std::sort(threads.begin(), threads.end());
    }

    // Subject fallback. The check is symmetric in the two messages and every pair is looked at
    // when the later of the two arrives, so the grouping does not depend on arrival order.
    std::vector<ThreadId> by_subject;
    if (first.subject) {
        const SubjectPolicy rules = *subject_policy_for(first.subject->base, policy);
        const SubjectCandidate self{
            .message_id = msg.message_id,
            .thread_id = 0,
            .date = msg.date,
            .participants = msg.participants,
            .is_bulk = msg.is_bulk,
            .subject_reply = is_reply_subject(msg.subject) && !msg.has_reference_headers,
        };
        auto candidates =
            index.subject_candidates(first.subject->base, first.subject->from, first.subject->to);
        if (!candidates)
            return std::unexpected(std::move(candidates.error()));
        for (const SubjectCandidate &c : *candidates)
            if (c.thread_id != 0 && !contains(threads, c.thread_id) &&
                !contains(by_subject, c.thread_id) && subject_link(self, c, rules))
                by_subject.push_back(c.thread_id);
    }
    if (!by_subject.empty()) {
        // Never by subject into (or across) threads a person split apart.
        std::vector<ThreadId> kept;
        for (ThreadId s : by_subject) {
            bool apart = false;
            for (const auto *others : {&threads, &by_subject})
                for (ThreadId t : *others) {
                    if (t == s)
                        continue;
                    auto a = index.kept_apart(s, t);
                    if (!a)
                        return std::unexpected(std::move(a.error()));
                    apart = apart || *a;
                }
            if (apart)
                out.kept_apart = true;
            else
                kept.push_back(s);
        }
        by_subject = std::move(kept);
    }

    // Deals of the threads to be joined: the subject fallback never joins two deals.
    std::vector<DealId> key_deals;
    std::vector<DealId> all_deals;
    if (threads.size() > 1 || !by_subject.empty()) {
        auto deal_of = [&](ThreadId t, std::vector<DealId> &into) -> Result<void> {
            auto d = index.linked_deal(t);
            if (!d)
                return std::unexpected(std::move(d.error()));
            if (*d && !contains(into, **d))
                into.push_back(**d);
            return {};
        };
        for (ThreadId t : threads) {
            if (auto r = deal_of(t, key_deals); !r)
                return std::unexpected(std::move(r.error()));
        }
        all_deals = key_deals;
        for (ThreadId t : by_subject)
            if (auto r = deal_of(t, all_deals); !r)
                return std::unexpected(std::move(r.error()));
    }
    if (all_deals.size() > 1 && !by_subject.empty()) {
        // The reference headers (if any) say which conversation this is; alone, the subject
        // cannot choose between two deals' threads.
        if (threads.empty())
            out.conflict_deals = all_deals;
        by_subject.clear();
    }
    if (key_deals.size() > 1)
        out.conflict_deals = key_deals;
    std::sort(out.conflict_deals.begin(), out.conflict_deals.end());
    out.joined_by_subject = !by_subject.empty();
    threads.insert(threads.end(), by_subject.begin(), by_subject.end());

    std::sort(threads.begin(), threads.end());
    threads.erase(std::unique(threads.begin(), threads.end()), threads.end());

    ThreadId target = 0;
    if (threads.empty()) {
        auto created = index.create_thread();
        if (!created)
            return std::unexpected(std::move(created.error()));
        target = *created;
        out.created = true;
    } else {
        target = threads.front();
        for (std::size_t i = 1; i < threads.size(); ++i)
            if (auto merged = index.merge_threads(target, threads[i]); !merged)
                return std::unexpected(std::move(merged.error()));
    }
    if (auto added = index.add_keys(target, keys); !added)
        return std::unexpected(std::move(added.error()));
    out.thread = target;
    return out;
}

ThreadInput make_input(const ParsedMessage &m, std::string message_id,
                       std::vector<std::string> participants) {
    ThreadInput in;
    in.message_id = std::move(message_id);
    in.references.reserve(m.references.size() + m.in_reply_to.size());
    in.references.insert(in.references.end(), m.references.begin(), m.references.end());
    in.references.insert(in.references.end(), m.in_reply_to.begin(), m.in_reply_to.end());
    if (!m.in_reply_to.empty())
        in.parent = m.in_reply_to.back();
    else if (!m.references.empty())
        in.parent = m.references.back();
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
