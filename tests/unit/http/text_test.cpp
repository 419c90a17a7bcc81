#include <gtest/gtest.h>

#include "internal.hpp"

namespace crm::http {
namespace {

struct Case {
    const char* text;
    std::optional<std::size_t> expected; // code point offset of the quoted tail
};

TEST(QuotedTail, Table) {
    const Case cases[] = {
        {"Thanks, see you.\n", std::nullopt},
        {"Sounds good.\n\nOn Mon, 3 Feb 2025, Bob <b@x.com> wrote:\n> earlier\n", 14},
        {"Ok\n> quoted\n> more\n", 3},
        {"Ok\n> inline answer\nmy reply below\n", std::nullopt}, // interleaved: keep all
        {"> all quote\n", std::nullopt},                          // nothing above to keep
        {"Danke\nAm 3. Feb. 2025 schrieb Bob <b@x.com>:\n> x\n", 6},
        {"Noted:\n- one\n- two\n", std::nullopt}, // a colon alone is no attribution
        {"See below\nBob said:\n> x\n", 10},          // a line ending in ':' before a quote
        {"Danke\nAm 3. Feb. 2025 um 10:00 schrieb Bob:\n> x\n", 6},
        {"Hi\n-----Original Message-----\nFrom: x\n", 3},
        {"Grüße €\n> q\n", 8}, // code points, not bytes: ü, ß and € are one each
        {"😀\n> q\n", 2},       // so is an emoji
    };
    for (const auto& c : cases)
        EXPECT_EQ(quoted_tail_offset(c.text), c.expected) << c.text;
}

} // namespace
} // namespace crm::http
