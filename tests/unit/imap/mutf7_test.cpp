// Modified UTF-7 (RFC 3501 §5.1.3) tables and round trips.
#include <gtest/gtest.h>

#include "crm/imap/mutf7.hpp"

namespace crm::imap {
namespace {

struct Pair {
    std::string utf8;
    std::string mutf7;
};

const Pair kPairs[] = {
    {"INBOX", "INBOX"},
    {"", ""},
    {"&", "&-"},
    {"R&D", "R&-D"},
    {"&&", "&-&-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},                        // RFC 3501 example
    {"\xc3\xa9t\xc3\xa9", "&AOk-t&AOk-"},                      // "été"
    {"Entw\xc3\xbc rfe", "Entw&APw- rfe"},                     // ü
    {"\xf0\x9f\x98\x80", "&2D3eAA-"},                          // U+1F600, surrogate pair
    {"a\xf0\x9f\x93\xa7" "b\xf0\x90\x80\x80", "a&2D3c5w-b&2ADcAA-"}, // U+1F4E7, U+10000
    {"\xe2\x82\xac\xf0\x9f\x98\x80", "&IKzYPd4A-"},            // BMP + non-BMP in one shift
    {"tab\there", "tab&AAk-here"},                             // control characters are shifted
    {"\xef\xbf\xbd", "&,,0-"},                                 // U+FFFD
};

TEST(Mutf7, EncodeDecodeTable) {
    for (const auto& p : kPairs) {
        auto e = mutf7_encode(p.utf8);
        ASSERT_TRUE(e.has_value()) << p.utf8;
        EXPECT_EQ(*e, p.mutf7) << p.utf8;
        auto d = mutf7_decode(p.mutf7);
        ASSERT_TRUE(d.has_value()) << p.mutf7 << ": " << d.error().detail;
        EXPECT_EQ(*d, p.utf8) << p.mutf7;
    }
}

TEST(Mutf7, RoundTripNonBmp) {
    std::string s;
    for (std::uint32_t cp : {0x1F600U, 0x10000U, 0x10FFFFU, 0x20AC0U, 0xE9U, 0x41U, 0x26U}) {
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xc0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            s += static_cast<char>(0xf0 | (cp >> 18));
            s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            s += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }
    auto e = mutf7_encode(s);
    ASSERT_TRUE(e.has_value());
    auto d = mutf7_decode(*e);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
}

TEST(Mutf7, DecodeRejects) {
    const std::string_view bad[] = {
        "&",           // unterminated
        "abc&ZeVn",    // unterminated shift
        "&Ze!n-",      // outside alphabet
        "&ZeVnLIqe/-", // '/' is not modified BASE64
        "&ZeVnLIq=-",  // padding
        "&2D0-",       // lone high surrogate (truncated)
        "&2D3YPQ-",    // high surrogate followed by high surrogate
        "&3gA-",       // lone low surrogate
        "&AGE-",       // shifted printable ASCII 'a'
        "&AOl-",       // non-zero padding bits
        "&AOkA-",      // an extra BASE64 character (6+ leftover bits)
        "caf\xc3\xa9", // raw 8-bit
        "a\tb",        // raw control character
    };
    for (auto b : bad) {
        auto d = mutf7_decode(b);
        EXPECT_FALSE(d.has_value()) << b;
        if (!d) {
            EXPECT_EQ(d.error().code, "imap.mutf7");
        }
    }
}

TEST(Mutf7, EncodeRejectsInvalidUtf8) {
    const std::string_view bad[] = {
        "\xc3",                 // truncated
        "\xc0\xaf",             // overlong '/'
        "\xed\xa0\x80",         // UTF-8 encoded surrogate
        "\xf4\x90\x80\x80",     // > U+10FFFF
        "\xff",                 // invalid lead byte
        "a\x80",                // stray continuation
    };
    for (auto b : bad) {
        auto e = mutf7_encode(b);
        EXPECT_FALSE(e.has_value()) << b;
        if (!e) {
            EXPECT_EQ(e.error().code, "imap.mutf7");
        }
    }
}

} // namespace
} // namespace crm::imap
