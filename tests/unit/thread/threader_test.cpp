// Thread shapes, each delivered in every arrival order through MemoryIndex + assign_thread:
// the partition of message ids into threads must be the expected one every time.

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crm/thread/memory_index.hpp"
#include "crm/thread/threader.hpp"

namespace {

using crm::ThreadId;
using crm::thread::ThreadInput;
using Partition = std::set<std::set<std::string>>;
using Strings = std::vector<std::string>;

constexpr std::int64_t kDay = 24 * 3600;
constexpr std::int64_t kT0 = 1'700'000'000;

// Builder for test messages.
struct M {
    ThreadInput in;

    explicit M(std::string id) {
        in.message_id = std::move(id);
        in.date = kT0;
    }
    M &refs(Strings r) {
        in.references = std::move(r);
        in.has_reference_headers = !in.references.empty();
        in.parent = in.references.empty() ? std::string() : in.references.back();
        return *this;
    }
    M &ref_headers(bool present) {
        in.has_reference_headers = present;
        return *this;
    }
    M &subject(std::string s) {
        in.subject = std::move(s);
        return *this;
    }
    M &day(std::int64_t d) {
        in.date = kT0 + d * kDay;
        return *this;
    }
    M &who(Strings p) {
        in.participants = std::move(p);
        return *this;
    }
    M &bulk() {
        in.is_bulk = true;
        return *this;
    }
    M &gm(std::string id) {
        in.gmail_thread_id = std::move(id);
        return *this;
    }
    M &thread_index(std::string v) {
        in.thread_index = std::move(v);
        return *this;
    }
    operator ThreadInput() const { return in; } // NOLINT(google-explicit-constructor)
};

std::string describe(const std::vector<ThreadInput> &msgs, const std::vector<std::size_t> &order) {
    std::string s = "arrival order:";
    for (std::size_t i : order)
        s += " " + msgs[i].message_id;
    return s;
}

// Delivers `msgs` in `order`; returns the partition of message ids. Checks the per-step
// invariants: every message gets a thread, and right after assignment all its keys belong to it.
Partition deliver(const std::vector<ThreadInput> &msgs, const std::vector<std::size_t> &order,
                  const crm::thread::SubjectPolicy &policy) {
    crm::thread::MemoryIndex index;
    for (std::size_t i : order) {
        auto thread = crm::thread::assign_thread(msgs[i], index, policy);
        EXPECT_TRUE(thread.has_value()) << (thread ? "" : thread.error().to_string());
        if (!thread)
            return {};
        EXPECT_GT(thread->thread, 0);
        EXPECT_TRUE(thread->conflict_deals.empty()); // no deals in these shapes
        const Strings keys = crm::thread::link_keys(msgs[i]);
        auto owners = index.threads_for_keys(keys);
        EXPECT_TRUE(owners.has_value());
        if (owners) {
            EXPECT_EQ(*owners, std::vector<ThreadId>{thread->thread});
        }
        index.add_message(msgs[i], thread->thread);
    }
    const std::map<std::string, ThreadId> threads = index.message_threads();
    std::map<ThreadId, std::set<std::string>> groups;
    for (const ThreadInput &m : msgs) {
        auto it = threads.find(m.message_id);
        EXPECT_NE(it, threads.end()) << m.message_id << " has no thread";
        if (it != threads.end()) {
            groups[it->second].insert(m.message_id);
        }
    }
    Partition p;
    for (auto &[id, members] : groups)
        p.insert(std::move(members));
    return p;
}

// Every arrival order of `msgs` must give `expected`.
void expect_all_orders(const std::vector<ThreadInput> &msgs, const Partition &expected,
                       const crm::thread::SubjectPolicy &policy = {}) {
    std::vector<std::size_t> order(msgs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::size_t runs = 0;
    do {
        ++runs;
        const Partition got = deliver(msgs, order, policy);
        if (got != expected) {
            ADD_FAILURE() << "wrong grouping for " << describe(msgs, order);
            EXPECT_EQ(got, expected);
            return; // one report is enough
        }
    } while (std::next_permutation(order.begin(), order.end()));
    std::size_t factorial = 1;
    for (std::size_t n = 2; n <= msgs.size(); ++n)
        factorial *= n;
    EXPECT_EQ(runs, factorial);
}

TEST(ThreadShapes, Chain) {
    expect_all_orders({M("a"), M("b").refs({"a"}), M("c").refs({"a", "b"}),
                       M("d").refs({"a", "b", "c"}), M("e").refs({"d"})},
                      {{"a", "b", "c", "d", "e"}});
}

TEST(ThreadShapes, FanOutAndUnrelated) {
    expect_all_orders({M("r"), M("k1").refs({"r"}), M("k2").refs({"r"}), M("k3").refs({"r"}),
                       M("x"), M("y").refs({"x"})},
                      {{"r", "k1", "k2", "k3"}, {"x", "y"}});
}

TEST(ThreadShapes, MissingParentGhost) {
    // b and c share the ghost parent g (never delivered); d hangs off another ghost.
    expect_all_orders(
        {M("b").refs({"g"}), M("c").refs({"g"}), M("d").refs({"h"}), M("e").refs({"root", "d"})},
        {{"b", "c"}, {"d", "e"}});
}

TEST(ThreadShapes, LateMessageJoinsTwoThreads) {
    const std::vector<ThreadInput> two = {M("a"), M("b").refs({"a"}), M("c"), M("d").refs({"c"})};
    expect_all_orders(two, {{"a", "b"}, {"c", "d"}});
    std::vector<ThreadInput> joined = two;
    joined.push_back(M("e").refs({"b", "d"}));
    expect_all_orders(joined, {{"a", "b", "c", "d", "e"}});
}

TEST(ThreadShapes, ThreeThreadsJoinedThroughGhosts) {
    expect_all_orders({M("a").refs({"g1"}), M("b").refs({"g2"}), M("c").refs({"g3"}),
                       M("d").refs({"g1", "g2"}), M("e").refs({"g3", "g2"}), M("f")},
                      {{"a", "b", "c", "d", "e"}, {"f"}});
}

TEST(ThreadShapes, ReferenceLoop) {
    expect_all_orders({M("a").refs({"b"}), M("b").refs({"a"}), M("c").refs({"d"}),
                       M("d").refs({"e"}), M("e").refs({"c"}), M("z")},
                      {{"a", "b"}, {"c", "d", "e"}, {"z"}});
}

TEST(ThreadShapes, SelfReference) {
    expect_all_orders({M("s").refs({"s"}), M("t").refs({"t", "s"}), M("u").refs({"u"})},
                      {{"s", "t"}, {"u"}});
}

TEST(ThreadShapes, DuplicateMessageId) {
    // Two copies of "dup" with different References: both link into one thread.
    expect_all_orders({M("p"), M("q"), M("dup").refs({"p"}), M("dup").refs({"q"}), M("r")},
                      {{"p", "q", "dup"}, {"r"}});
    expect_all_orders({M("dup"), M("dup"), M("kid").refs({"dup"})}, {{"dup", "kid"}});
}

TEST(ThreadShapes, InReplyToOnly) {
    crm::ParsedMessage parent;
    parent.message_id = "parent@x";
    parent.subject = "Plan";
    crm::ParsedMessage reply;
    reply.message_id = "reply@x";
    reply.subject = "Something else entirely";
    reply.in_reply_to = {"parent@x"};
    crm::ParsedMessage other;
    other.message_id = "other@x";
    other.subject = "Plan";
    expect_all_orders({crm::thread::make_input(parent, parent.message_id, {"ann@x"}),
                       crm::thread::make_input(reply, reply.message_id, {"bob@x"}),
                       crm::thread::make_input(other, other.message_id, {"ann@x"})},
                      {{"parent@x", "reply@x"}, {"other@x"}});
}

TEST(ThreadShapes, GmailThreadId) {
    expect_all_orders({M("a").gm("77"), M("b").gm("77"), M("c").gm("78"), M("d").refs({"c"})},
                      {{"a", "b"}, {"c", "d"}});
}

TEST(ThreadShapes, OutlookThreadIndex) {
    expect_all_orders({M("a").thread_index("AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcg=="),
                       M("b").thread_index("AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcgAAADfQ"),
                       M("c").thread_index("AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcw=="),
                       M("d").thread_index("not base64!"), M("e").thread_index("not base64!")},
                      {{"a", "b"}, {"c"}, {"d"}, {"e"}});
}

// Subject fallback.

M original(std::string id) {
    M m(std::move(id));
    m.subject("Quarterly budget review").who({"ann@example.com", "bob@example.com"});
    return m;
}

M subject_reply(std::string id, std::int64_t day) {
    M m(std::move(id));
    m.subject("RE: Quarterly  Budget Review").who({"bob@example.com", "ann@example.com"}).day(day);
    return m;
}

TEST(SubjectFallback, SubjectOnlyReplySharingParticipantJoins) {
    expect_all_orders({original("o"), subject_reply("r", 2), M("x").subject("Other topic here")},
                      {{"o", "r"}, {"x"}});
}

TEST(SubjectFallback, NoSharedParticipantStaysApart) {
    expect_all_orders({original("o"), subject_reply("r", 2).who({"eve@example.com"})},
                      {{"o"}, {"r"}});
}

TEST(SubjectFallback, OutsideWindowStaysApart) {
    expect_all_orders({original("o"), subject_reply("r", 31), subject_reply("r2", -31)},
                      {{"o"}, {"r"}, {"r2"}}); // r and r2 are 62 days apart
}

TEST(SubjectFallback, WindowFollowsPolicy) {
    crm::thread::SubjectPolicy narrow;
    narrow.window_seconds = kDay;
    expect_all_orders({original("o"), subject_reply("r", 2)}, {{"o"}, {"r"}}, narrow);
    expect_all_orders({original("o"), subject_reply("r", 1)}, {{"o", "r"}}, narrow);
}

TEST(SubjectFallback, ChainOfRepliesWithinWindowEachStep) {
    // o..r1 are 20 days apart, r1..r2 another 20: o and r2 are outside the window of each other
    // but connected through r1, whatever order they come in.
    expect_all_orders({original("o"), subject_reply("r1", 20), subject_reply("r2", 40)},
                      {{"o", "r1", "r2"}});
}

TEST(SubjectFallback, GenericSubjectJoinsOnlyWithinTwoWeeks) {
    // "Meeting" is everyone's subject: a reply that lost its headers joins by it only close by,
    // and only through the same external party.
    expect_all_orders({M("p").subject("Meeting").who({"ann@x"}),
                       M("q").subject("AW: Meeting").who({"ann@x"}).day(14),
                       M("s").subject("Meeting").who({"bea@y"}),
                       M("t").subject("Re: Meeting").who({"cid@z"}).day(1),
                       M("u").subject("Termin").who({"dan@w"}).day(40),
                       M("v").subject("AW: Termin").who({"dan@w"}).day(55)},
                      {{"p", "q"}, {"s"}, {"t"}, {"u"}, {"v"}});
}

TEST(SubjectFallback, MeaninglessSubjectNeverJoins) {
    expect_all_orders({M("o").subject("Hi").who({"ann@x"}),
                       M("r").subject("Re: hi").who({"ann@x"}).day(1),
                       M("a").subject("2026-11-02").who({"ann@x"}),
                       M("b").subject("Re: 2026-11-02").who({"ann@x"}).day(1),
                       M("e").subject("").who({"ann@x"}),
                       M("f").subject("Re:").who({"ann@x"}).day(1)},
                      {{"o"}, {"r"}, {"a"}, {"b"}, {"e"}, {"f"}});
}

TEST(SubjectFallback, BulkStaysApart) {
    expect_all_orders({original("o").bulk(), subject_reply("r", 1)}, {{"o"}, {"r"}});
    expect_all_orders({original("o"), subject_reply("r", 1).bulk()}, {{"o"}, {"r"}});
}

TEST(SubjectFallback, NeitherIsSubjectOnlyReplyStaysApart) {
    // Same subject, no reply prefix on either: two conversations that happen to share a subject.
    expect_all_orders({original("o"), original("p").day(1)}, {{"o"}, {"p"}});
    // A reply prefix but with References (to a ghost): not a subject-only reply.
    expect_all_orders({original("o"), subject_reply("r", 1).refs({"ghost"})}, {{"o"}, {"r"}});
    // A reply prefix and an In-Reply-To header whose id did not parse: not subject-only either.
    expect_all_orders({original("o"), subject_reply("r", 1).ref_headers(true)}, {{"o"}, {"r"}});
}

TEST(SubjectFallback, TwoSubjectOnlyRepliesJoinEachOther) {
    expect_all_orders({subject_reply("r1", 0), subject_reply("r2", 1)}, {{"r1", "r2"}});
}

TEST(SubjectFallback, LocalisedPrefixesShareBaseSubject) {
    expect_all_orders(
        {original("o"),
         M("aw").subject("AW: WG: quarterly budget review").who({"ann@example.com"}).day(1)},
        {{"o", "aw"}});
}

TEST(SubjectFallback, SubjectLinkMergesReferenceThreads) {
    // Two reference threads, bridged by a subject-only reply to the first thread's root.
    expect_all_orders({original("o"), M("o2").refs({"o"}),
                       M("p").subject("Quarterly budget review").who({"carl@x"}),
                       M("p2").refs({"p"}).who({"carl@x"}),
                       subject_reply("r", 1).who({"bob@example.com", "carl@x"})},
                      {{"o", "o2", "p", "p2", "r"}});
}

TEST(SubjectFallback, NewMessageWithoutPrefixNeverJoinsBySubject) {
    // A new conversation with a reused subject does not join an older thread just because that
    // thread holds a subject-only reply: only the reply side may be joined, to what came before.
    expect_all_orders({original("o"), subject_reply("r", 2), original("n").day(5)},
                      {{"o", "r"}, {"n"}});
}

TEST(SubjectFallback, AnotherContactOfTheSameCompanyCounts) {
    // Lena answers Günther's mail without headers: both are contacts of CRM company 7.
    expect_all_orders({original("o").who({"guenther@muehlheim.example", "company:7"}),
                       subject_reply("r", 2).who({"lena@muehlheim.example", "company:7"}),
                       subject_reply("x", 3).who({"kim@elsewhere.example", "company:8"})},
                      {{"o", "r"}, {"x"}});
}

TEST(SubjectFallback, ReplyDatedBeforeTheMessageStaysApart) {
    expect_all_orders({original("o").day(3), subject_reply("r", 2)}, {{"o"}, {"r"}});
}

TEST(SubjectFallback, TeamAddressesAreNeverTheSharedParticipant) {
    // The salesperson (and the team's sales@) are in every conversation of their mailbox: two
    // customers writing "Partnership terms" share only them.
    crm::thread::SubjectPolicy team;
    team.internal_domains = {"acme-sales.example"};
    const auto first = [](std::string id, Strings who, std::int64_t d) {
        return M(std::move(id)).subject("Partnership terms").who(std::move(who)).day(d);
    };
    const auto reply = [](std::string id, Strings who, std::int64_t d) {
        return M(std::move(id)).subject("Re: Partnership terms").who(std::move(who)).day(d);
    };
    expect_all_orders({first("a1", {"ann@gmail.com", "me@acme-sales.example"}, 0),
                       first("b1", {"bea@gmail.com", "sales@acme-sales.example"}, 1),
                       reply("b2", {"me@acme-sales.example", "bea@gmail.com"}, 2),
                       reply("a2", {"ann@gmail.com", "sales@acme-sales.example"}, 3)},
                      {{"a1", "a2"}, {"b1", "b2"}}, team);
    // Without the team's domain every message shares me@: the guard would guard nothing.
    expect_all_orders({first("a1", {"ann@gmail.com", "me@acme-sales.example"}, 0),
                       reply("b2", {"me@acme-sales.example", "bea@gmail.com"}, 2)},
                      {{"a1"}, {"b2"}}, team);
}

// Deals and splits: decided by people and the sorter between arrivals, so one order each.

crm::thread::Assignment file(crm::thread::MemoryIndex &index, const ThreadInput &m,
                             const crm::thread::SubjectPolicy &policy = {}) {
    auto a = crm::thread::assign_thread(m, index, policy);
    EXPECT_TRUE(a.has_value());
    if (!a)
        return {};
    index.add_message(m, a->thread);
    return *a;
}

TEST(SubjectFallback, NeverJoinsThreadsOfTwoDeals) {
    crm::thread::MemoryIndex index;
    const ThreadId a = file(index, original("a")).thread;
    const ThreadId b = file(index, original("b").day(1)).thread;
    ASSERT_NE(a, b);
    index.link(a, 1001);
    index.link(b, 1002);
    const auto r = file(index, subject_reply("r", 3));
    EXPECT_NE(r.thread, a);
    EXPECT_NE(r.thread, b);
    EXPECT_EQ(r.conflict_deals, (std::vector<crm::DealId>{1001, 1002}));
    EXPECT_FALSE(r.joined_by_subject);
}

TEST(SubjectFallback, JoinsOneDealsThreadAndAnUnlinkedOne) {
    crm::thread::MemoryIndex index;
    const ThreadId a = file(index, original("a")).thread;
    const ThreadId b = file(index, original("b").day(1)).thread;
    index.link(b, 1002);
    const auto r = file(index, subject_reply("r", 3));
    EXPECT_EQ(r.thread, std::min(a, b));
    EXPECT_TRUE(r.conflict_deals.empty());
    EXPECT_TRUE(r.joined_by_subject);
    EXPECT_EQ(index.linked_deal(r.thread).value(), std::optional<crm::DealId>(1002));
}

TEST(SubjectFallback, ReferencesDecideOverASubjectMatchOfAnotherDeal) {
    crm::thread::MemoryIndex index;
    const ThreadId a = file(index, original("a")).thread;
    const ThreadId b = file(index, original("b").day(1)).thread;
    index.link(a, 1001);
    index.link(b, 1002);
    const auto r = file(index, subject_reply("r", 3).refs({"a"}));
    EXPECT_EQ(r.thread, a);
    EXPECT_TRUE(r.conflict_deals.empty());
}

TEST(References, JoiningTwoDealsIsAConflict) {
    crm::thread::MemoryIndex index;
    const ThreadId a = file(index, M("a")).thread;
    const ThreadId b = file(index, M("b")).thread;
    index.link(a, 7);
    index.link(b, 5);
    const auto r = file(index, M("r").refs({"a", "b"}));
    EXPECT_EQ(r.thread, std::min(a, b)); // the references are the conversation: joined
    EXPECT_EQ(r.conflict_deals, (std::vector<crm::DealId>{5, 7}));
}

TEST(Split, ThreadsKeptApartAreNeverJoinedAgain) {
    crm::thread::MemoryIndex index;
    const ThreadId a = file(index, original("a")).thread;
    const ThreadId b = file(index, original("b").day(1)).thread;
    index.keep_apart(a, b);
    // A reply referencing both goes to the thread of the message it answers.
    const auto r = file(index, M("r").refs({"a", "b"}).subject("Re: x"));
    EXPECT_EQ(r.thread, b);
    EXPECT_TRUE(r.kept_apart);
    auto r2 = crm::thread::assign_thread(M("r2").refs({"b", "a"}), index);
    ASSERT_TRUE(r2.has_value());
    EXPECT_EQ(r2->thread, a);
    // A subject-only reply matching both joins neither.
    const auto s = file(index, subject_reply("s", 3));
    EXPECT_NE(s.thread, a);
    EXPECT_NE(s.thread, b);
    EXPECT_TRUE(s.kept_apart);
    // Merges carry the separation along.
    const ThreadId c = index.create_thread().value();
    ASSERT_TRUE(index.merge_threads(c, b).has_value());
    EXPECT_TRUE(index.kept_apart(a, c).value());
}

TEST(MemoryIndex, MergeRejectsUnknownThreads) {
    crm::thread::MemoryIndex index;
    auto t = index.create_thread();
    ASSERT_TRUE(t.has_value());
    EXPECT_FALSE(index.merge_threads(*t, *t + 1).has_value());
    EXPECT_FALSE(index.add_keys(0, Strings{"k"}).has_value());
    EXPECT_TRUE(index.merge_threads(*t, *t).has_value());
}

TEST(MemoryIndex, KeysAlreadyPresentStay) {
    crm::thread::MemoryIndex index;
    const ThreadId a = index.create_thread().value();
    const ThreadId b = index.create_thread().value();
    ASSERT_TRUE(index.add_keys(a, Strings{"k1"}).has_value());
    ASSERT_TRUE(index.add_keys(b, Strings{"k1", "k2"}).has_value());
    EXPECT_EQ(index.threads_for_keys(Strings{"k1"}).value(), std::vector<ThreadId>{a});
    EXPECT_EQ(index.threads_for_keys(Strings{"k1", "k2", "nope"}).value(),
              (std::vector<ThreadId>{a, b}));
    ASSERT_TRUE(index.merge_threads(a, b).has_value());
    EXPECT_EQ(index.threads_for_keys(Strings{"k1", "k2"}).value(), std::vector<ThreadId>{a});
}

TEST(MemoryIndex, SubjectCandidatesFollowMerges) {
    crm::thread::MemoryIndex index;
    const ThreadId a = index.create_thread().value();
    const ThreadId b = index.create_thread().value();
    index.add_message(subject_reply("r", 0), b);
    index.add_message(original("o"), a);
    ASSERT_TRUE(index.merge_threads(a, b).has_value());
    auto c = index.subject_candidates("quarterly budget review", kT0, kT0);
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->size(), 2U);
    for (const crm::SubjectCandidate &s : *c) {
        EXPECT_EQ(s.thread_id, a);
        EXPECT_EQ(s.subject_reply, s.message_id == "r");
    }
    EXPECT_TRUE(index.subject_candidates("quarterly budget review", kT0 + 1, kT0 + 9)->empty());
    EXPECT_TRUE(index.subject_candidates("other", kT0, kT0)->empty());
    EXPECT_EQ(index.message_threads(), (std::map<std::string, ThreadId>{{"o", a}, {"r", a}}));
}

} // namespace
