#include <gtest/gtest.h>

#include "crm/core/stored_json.hpp"
#include "crm/core/thread_split.hpp"

namespace crm {
namespace {

using stored::append_json_string;
using stored::json_pair_array;
using stored::json_string_array;
using stored::parse_string_array;
using stored::read_json_string;

TEST(StoredJson, EncodeTable) {
    const struct {
        std::string in, out;
    } cases[] = {
        {"plain", R"("plain")"},
        {"", R"("")"},
        {"say \"hi\" C:\\dir\\", R"("say \"hi\" C:\\dir\\")"},
        {"tab\tnl\ncr\r", R"("tab\tnl\ncr\r")"},
        {std::string("nul\0bell\x07", 9), R"("nul\u0000bell\u0007")"},
        {"Gr\xc3\xbc\xc3\x9f"
         "e",
         "\"Gr\xc3\xbc\xc3\x9f"
         "e\""},
        {"latin1 \xfc", "\"latin1 \xfc\""}, // bytes that are not UTF-8 are copied
    };
    for (const auto& c : cases) {
        std::string out;
        append_json_string(out, c.in);
        EXPECT_EQ(out, c.out);
        std::string back;
        EXPECT_EQ(read_json_string(out, 0, back), out.size());
        EXPECT_EQ(back, c.in);
    }
}

TEST(StoredJson, ArraysRoundTrip) {
    const std::vector<std::string> v = {"a", "b \"c\"", std::string("\0", 1), ""};
    const std::string json = json_string_array(v);
    EXPECT_EQ(json, R"(["a","b \"c\"","\u0000",""])");
    EXPECT_EQ(parse_string_array(json), v);
    EXPECT_EQ(json_string_array({}), "[]");
    const std::vector<std::pair<std::string, std::string>> headers = {{"Subject", "x"},
                                                                      {"X-A", "1\n2"}};
    EXPECT_EQ(json_pair_array(headers), R"([["Subject","x"],["X-A","1\n2"]])");
    EXPECT_EQ(json_pair_array({}), "[]");
}

TEST(PlanSplit, MovesTheChosenMessageAndItsRepliesOnly) {
    const std::vector<SplitCandidate> thread = {
        {1, "root", {}},        {2, "r1", {"root"}}, {3, "r2", {"x", "r1"}},
        {4, "other", {"root"}}, {5, "r3", {"r2"}},   {6, "lone", {}},
    };
    auto p = plan_split(thread, 2, std::nullopt);
    EXPECT_EQ(p.moved, (std::vector<MessageRowId>{2, 3, 5}));
    EXPECT_EQ(p.moved_ids, (std::set<std::string>{"r1", "r2", "r3"}));
    // Only what may move: r2 stays, and so does r3 (a reply to it).
    auto q = plan_split(thread, 2, std::vector<MessageRowId>{2, 5});
    EXPECT_EQ(q.moved, (std::vector<MessageRowId>{2}));
    EXPECT_TRUE(plan_split(thread, 99, std::nullopt).moved.empty());
}

} // namespace
} // namespace crm
