// Fuzzes assign_thread + MemoryIndex. The input is text, one message per line:
//   id|ref ref ...|subject|date|participant participant ...|flags|gmail-thread-id|thread-index
// flags: 'b' bulk, 'h' has reference headers (set anyway when refs are present).
// Invariants: every message gets a thread; the grouping is the same for the input order, the
// reversed order and a rotation; and it equals the connected components of the key-sharing and
// subject-link graph computed directly.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crm/thread/memory_index.hpp"
#include "crm/thread/threader.hpp"

namespace {

using crm::thread::ThreadInput;
using Partition = std::set<std::set<std::string>>;

constexpr std::size_t kMaxMessages = 10;

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (;;) {
        const std::size_t p = s.find(sep);
        out.push_back(s.substr(0, p));
        if (p == std::string_view::npos)
            return out;
        s.remove_prefix(p + 1);
    }
}

std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    for (std::string_view w : split(s, ' '))
        if (!w.empty())
            out.emplace_back(w);
    return out;
}

std::vector<ThreadInput> parse(std::string_view data) {
    std::vector<ThreadInput> msgs;
    for (std::string_view line : split(data, '\n')) {
        if (msgs.size() == kMaxMessages)
            break;
        const std::vector<std::string_view> f = split(line, '|');
        ThreadInput in;
        in.message_id = std::string(f[0]);
        if (in.message_id.empty())
            continue; // the contract: the caller supplies an id
        if (f.size() > 1)
            in.references = words(f[1]);
        if (f.size() > 2)
            in.subject = std::string(f[2]);
        if (f.size() > 3) {
            std::int64_t d = 0;
            if (std::from_chars(f[3].data(), f[3].data() + f[3].size(), d).ec == std::errc{})
                in.date = d;
        }
        if (f.size() > 4)
            in.participants = words(f[4]);
        if (f.size() > 5) {
            in.is_bulk = f[5].find('b') != std::string_view::npos;
            in.has_reference_headers = f[5].find('h') != std::string_view::npos;
        }
        in.has_reference_headers = in.has_reference_headers || !in.references.empty();
        if (f.size() > 6)
            in.gmail_thread_id = std::string(f[6]);
        if (f.size() > 7)
            in.thread_index = std::string(f[7]);
        msgs.push_back(std::move(in));
    }
    return msgs;
}

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

Partition deliver(const std::vector<ThreadInput> &msgs, const std::vector<std::size_t> &order) {
    crm::thread::MemoryIndex index;
    for (std::size_t i : order) {
        auto thread = crm::thread::assign_thread(msgs[i], index);
        check(thread.has_value() && thread->thread > 0 && thread->conflict_deals.empty());
        index.add_message(msgs[i], thread->thread);
    }
    const auto threads = index.message_threads();
    std::map<crm::ThreadId, std::set<std::string>> groups;
    for (const ThreadInput &m : msgs) {
        auto it = threads.find(m.message_id);
        check(it != threads.end());
        groups[it->second].insert(m.message_id);
    }
    Partition p;
    for (auto &[id, members] : groups)
        p.insert(members);
    return p;
}

struct UnionFind {
    std::vector<std::size_t> parent;
    explicit UnionFind(std::size_t n) : parent(n) {
        std::iota(parent.begin(), parent.end(), std::size_t{0});
    }
    std::size_t find(std::size_t x) {
        while (parent[x] != x)
            x = parent[x] = parent[parent[x]];
        return x;
    }
    void unite(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }
};

crm::SubjectCandidate candidate(const ThreadInput &m) {
    crm::SubjectCandidate c;
    c.message_id = m.message_id;
    c.date = m.date;
    c.participants = m.participants;
    c.is_bulk = m.is_bulk;
    c.subject_reply = crm::thread::is_reply_subject(m.subject) && !m.has_reference_headers;
    return c;
}

// The grouping computed directly: connected components of "shares a link key" and
// "subject_link with the same non-generic base subject".
Partition oracle(const std::vector<ThreadInput> &msgs) {
    const crm::thread::SubjectPolicy policy;
    UnionFind uf(msgs.size());
    std::vector<std::vector<std::string>> keys;
    std::vector<std::string> bases;
    for (const ThreadInput &m : msgs) {
        keys.push_back(crm::thread::link_keys(m));
        bases.push_back(crm::thread::base_subject(m.subject));
    }
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        for (std::size_t j = i + 1; j < msgs.size(); ++j) {
            const bool share = std::any_of(keys[i].begin(), keys[i].end(), [&](const auto &k) {
                return std::find(keys[j].begin(), keys[j].end(), k) != keys[j].end();
            });
            const bool subject =
                bases[i] == bases[j] && crm::thread::subject_policy_for(bases[i], policy) &&
                crm::thread::subject_link(candidate(msgs[i]), candidate(msgs[j]),
                                          *crm::thread::subject_policy_for(bases[i], policy));
            if (share || subject)
                uf.unite(i, j);
        }
    }
    std::map<std::size_t, std::set<std::string>> groups;
    for (std::size_t i = 0; i < msgs.size(); ++i)
        groups[uf.find(i)].insert(msgs[i].message_id);
    // Copies of one id share their own-id key, so they are in one group already.
    Partition p;
    for (auto &[root, members] : groups)
        p.insert(members);
    return p;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const std::vector<ThreadInput> msgs = parse(text);
    if (msgs.empty())
        return 0;
    // The pure helpers must not crash on any subject.
    for (const ThreadInput &m : msgs) {
        const std::string base = crm::thread::base_subject(m.subject);
        (void)crm::thread::is_generic_subject(base);
    }
    std::vector<std::size_t> order(msgs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const Partition forward = deliver(msgs, order);
    std::reverse(order.begin(), order.end());
    const Partition backward = deliver(msgs, order);
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(order.size() / 2),
                order.end());
    const Partition rotated = deliver(msgs, order);
    check(forward == backward);
    check(forward == rotated);
    check(forward == oracle(msgs));
    return 0;
}
