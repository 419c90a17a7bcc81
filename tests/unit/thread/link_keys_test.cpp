// link_keys, subject_link and make_input.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crm/thread/threader.hpp"

namespace {

using crm::thread::link_keys;
using crm::thread::ThreadInput;
using Keys = std::vector<std::string>;

ThreadInput input(std::string id, Keys refs = {}) {
    ThreadInput in;
    in.message_id = std::move(id);
    in.references = std::move(refs);
    in.has_reference_headers = !in.references.empty();
    return in;
}

TEST(LinkKeys, OwnIdThenReferencesInOrder) {
    EXPECT_EQ(link_keys(input("c@x", {"a@x", "b@x"})), (Keys{"c@x", "a@x", "b@x"}));
}

TEST(LinkKeys, DropsSelfReferenceDuplicatesAndEmpty) {
    EXPECT_EQ(link_keys(input("c@x", {"a@x", "c@x", "", "a@x", "b@x", "b@x"})),
              (Keys{"c@x", "a@x", "b@x"}));
    EXPECT_EQ(link_keys(input("self@x", {"self@x"})), (Keys{"self@x"}));
}

TEST(LinkKeys, GmailThreadId) {
    ThreadInput in = input("a@x", {"p@x"});
    in.gmail_thread_id = "1234567890";
    EXPECT_EQ(link_keys(in), (Keys{"a@x", "p@x", "gm-thrid:1234567890"}));
}

struct ThreadIndexCase {
    std::string header;
    std::string key; // empty: no thread-index key
};

TEST(LinkKeys, ThreadIndexTable) {
    // Expected hex computed independently (python base64/bytes.hex).
    const std::string conv = "thread-index:01c67c779350f13dedd0bad24c988abd84f340451b72";
    const std::vector<ThreadIndexCase> cases = {
        {"AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcg==", conv},        // 22 bytes: the original
        {"AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcgAAADfQ", conv},    // 27 bytes: a reply
        {" AcZ8d5NQ8T3t0LrS\r\n TJiKvYTzQEUbcg== ", conv}, // folded, whitespace
        {"AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcg", conv},          // unpadded
        {"AAECAwQFBgcICQoLDA0ODxAREhMU", ""},              // 21 bytes: too short
        {"AcZ8d5NQ8T3t0LrS!JiKvYTzQEUbcg==", ""},          // not base64
        {"AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcg==AAAA", ""},      // data after padding
        {"AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcgAAA", ""},         // dangling 6-bit symbol
        {"====", ""},
        {"", ""},
    };
    for (const ThreadIndexCase &c : cases) {
        SCOPED_TRACE(c.header);
        ThreadInput in = input("a@x");
        in.thread_index = c.header;
        Keys expected{"a@x"};
        if (!c.key.empty())
            expected.push_back(c.key);
        EXPECT_EQ(link_keys(in), expected);
    }
}

crm::SubjectCandidate candidate(std::int64_t date, std::vector<std::string> who, bool reply,
                                bool bulk = false) {
    crm::SubjectCandidate c;
    c.message_id = "m" + std::to_string(date);
    c.date = date;
    c.participants = std::move(who);
    c.subject_reply = reply;
    c.is_bulk = bulk;
    return c;
}

TEST(SubjectLink, GuardRails) {
    const crm::thread::SubjectPolicy policy; // 30 days
    const std::int64_t day = 24 * 3600;
    const auto a = candidate(0, {"ann@x", "bob@x"}, false);
    EXPECT_TRUE(crm::thread::subject_link(a, candidate(day, {"bob@x"}, true), policy));
    EXPECT_TRUE(crm::thread::subject_link(candidate(day, {"bob@x"}, true), a, policy));
    EXPECT_TRUE(crm::thread::subject_link(a, candidate(30 * day, {"bob@x"}, true), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(30 * day + 1, {"bob@x"}, true), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(-31 * day, {"bob@x"}, true), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(day, {"eve@x"}, true), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(day, {"bob@x"}, false), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(day, {"bob@x"}, true, true), policy));
    EXPECT_FALSE(crm::thread::subject_link(a, candidate(day, {}, true), policy));
    // Extreme dates do not overflow.
    EXPECT_FALSE(crm::thread::subject_link(candidate(INT64_MIN, {"bob@x"}, true),
                                           candidate(INT64_MAX, {"bob@x"}, true), policy));
}

TEST(MakeInput, CopiesThreadingFields) {
    crm::ParsedMessage m;
    m.references = {"a@x", "b@x"};
    m.in_reply_to = {"b@x"};
    m.subject = "Re: Plan";
    m.date = 1700000000;
    m.is_bulk = true;
    m.gmail_thread_id = "42";
    m.thread_index = "AcZ8d5NQ8T3t0LrSTJiKvYTzQEUbcg==";
    const ThreadInput in = crm::thread::make_input(m, "id@x", {"ann@x"});
    EXPECT_EQ(in.message_id, "id@x");
    EXPECT_EQ(in.references, (Keys{"a@x", "b@x", "b@x"}));
    EXPECT_TRUE(in.has_reference_headers);
    EXPECT_EQ(in.subject, "Re: Plan");
    EXPECT_EQ(in.date, 1700000000);
    EXPECT_EQ(in.participants, (Keys{"ann@x"}));
    EXPECT_TRUE(in.is_bulk);
    EXPECT_EQ(in.gmail_thread_id, "42");
    EXPECT_EQ(in.thread_index, m.thread_index);
}

TEST(MakeInput, ReferenceHeaderPresence) {
    crm::ParsedMessage m;
    m.subject = "Re: Plan";
    EXPECT_FALSE(crm::thread::make_input(m, "id@x", {}).has_reference_headers);
    EXPECT_EQ(crm::thread::make_input(m, "id@x", {}).date, 0);

    m.headers = {{"in-reply-to", "garbage without brackets"}};
    EXPECT_TRUE(crm::thread::make_input(m, "id@x", {}).has_reference_headers);
    m.headers = {{"REFERENCES", ""}};
    EXPECT_TRUE(crm::thread::make_input(m, "id@x", {}).has_reference_headers);
    m.headers = {{"Subject", "Re: Plan"}};
    EXPECT_FALSE(crm::thread::make_input(m, "id@x", {}).has_reference_headers);

    crm::ParsedMessage only_irt;
    only_irt.in_reply_to = {"p@x"};
    const ThreadInput in = crm::thread::make_input(only_irt, "id@x", {});
    EXPECT_TRUE(in.has_reference_headers);
    EXPECT_EQ(in.references, (Keys{"p@x"}));
}

} // namespace
