#include <gtest/gtest.h>

#include "throttle.hpp"

namespace crm::http {
namespace {

std::vector<Network> nets(std::initializer_list<const char*> list) {
    std::vector<Network> out;
    for (const char* n : list)
        out.emplace_back(n);
    return out;
}

TEST(Network, ParsesAddressesAndBlocks) {
    EXPECT_TRUE(Network::valid("10.0.0.0/8"));
    EXPECT_TRUE(Network::valid("::1"));
    EXPECT_TRUE(Network::valid("fd00::/8"));
    EXPECT_FALSE(Network::valid("10.0.0.0/33"));
    EXPECT_FALSE(Network::valid("10.0.0.1:80"));
    EXPECT_FALSE(Network::valid("proxy.example"));
    EXPECT_FALSE(Network::valid("10.0.0.0/"));
    EXPECT_TRUE(Network("10.0.0.0/8").contains("10.200.3.4"));
    EXPECT_FALSE(Network("10.0.0.0/8").contains("11.0.0.1"));
    EXPECT_TRUE(Network("10.0.0.0/8").contains("::ffff:10.1.1.1")); // mapped
    EXPECT_TRUE(Network("fd00::/8").contains("fd12::5"));
    EXPECT_FALSE(Network("fd00::/8").contains("10.0.0.1"));
    EXPECT_TRUE(Network("192.168.1.0/23").contains("192.168.0.77"));
    EXPECT_FALSE(Network("192.168.1.0/24").contains("192.168.0.77"));
    EXPECT_FALSE(Network("garbage").contains("10.0.0.1"));
}

TEST(ClientAddress, BelievesForwardedForOnlyFromTrustedProxies) {
    const auto proxies = nets({"127.0.0.1", "10.0.0.0/8"});
    EXPECT_EQ(client_address("127.0.0.1", {"203.0.113.9"}, proxies), "203.0.113.9");
    EXPECT_EQ(client_address("198.51.100.1", {"203.0.113.9"}, proxies), "198.51.100.1");
    EXPECT_EQ(client_address("::ffff:127.0.0.1", {"203.0.113.9"}, proxies), "203.0.113.9");
    // Right-most untrusted hop: the client's own claims to the left are not believed.
    EXPECT_EQ(client_address("127.0.0.1", {"1.1.1.1, 203.0.113.9, 10.2.3.4"}, proxies),
              "203.0.113.9");
    EXPECT_EQ(client_address("127.0.0.1", {"1.1.1.1", "203.0.113.9"}, proxies), "203.0.113.9");
    // Garbage stops the walk at the last good hop.
    EXPECT_EQ(client_address("127.0.0.1", {"<script>, 10.2.3.4"}, proxies), "10.2.3.4");
    EXPECT_EQ(client_address("127.0.0.1", {"not-an-ip"}, proxies), "127.0.0.1");
    EXPECT_EQ(client_address("127.0.0.1", {}, proxies), "127.0.0.1");
    EXPECT_EQ(client_address("127.0.0.1", {"[2001:db8::5]:4711"}, proxies), "2001:db8::5");
    EXPECT_EQ(client_address("127.0.0.1", {"192.0.2.4:1234"}, proxies), "192.0.2.4");
    EXPECT_EQ(client_address("127.0.0.1", {"203.0.113.9"}, {}), "127.0.0.1");
}

TEST(ClientKey, GroupsIpv6ByItsSlash64) {
    EXPECT_EQ(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:2:ffff::9"));
    EXPECT_NE(client_key("2001:db8:1:2::1"), client_key("2001:db8:1:3::1"));
    EXPECT_EQ(client_key("192.0.2.1"), "192.0.2.1");
    EXPECT_NE(client_key("192.0.2.1"), client_key("192.0.2.2"));
}

TEST(LoginThrottle, RefillsOneTokenPerShareOfTheWindow) {
    LoginThrottle t({.per_pair = 5, .per_client = 20, .window = 900});
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(t.begin("c", "a", 1000).retry_after, 0);
        EXPECT_EQ(t.failed("c", "a", 1000),
                  i == 4 ? LoginThrottle::Lockout::Pair : LoginThrottle::Lockout::None);
    }
    const auto wait = t.begin("c", "a", 1000).retry_after; // 900 s / 5 tokens
    EXPECT_GE(wait, 180);
    EXPECT_LE(wait, 181);
    EXPECT_GT(t.begin("c", "a", 1170).retry_after, 0);
    EXPECT_EQ(t.begin("c", "a", 1181).retry_after, 0); // one attempt more, then wait again
    EXPECT_EQ(t.failed("c", "a", 1181), LoginThrottle::Lockout::Pair);
    EXPECT_GT(t.begin("c", "a", 1182).retry_after, 0);
    EXPECT_EQ(t.begin("other", "a", 1182).retry_after, 0); // another client is not affected
    t.succeeded("other", "a", 1182);
}

TEST(LoginThrottle, SuccessForgetsThePairsFailures) {
    LoginThrottle t({.per_pair = 3, .per_client = 20, .window = 900});
    for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(t.begin("c", "a", 0).retry_after, 0);
        t.failed("c", "a", 0);
    }
    ASSERT_EQ(t.begin("c", "a", 0).retry_after, 0);
    t.succeeded("c", "a", 0);
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(t.begin("c", "a", 0).retry_after, 0) << i;
}

TEST(LoginThrottle, StaysBoundedUnderASprayOfClients) {
    LoginThrottle t({.per_pair = 5, .per_client = 20, .window = 900});
    for (int i = 0; i < 300000; ++i) {
        const auto client = std::to_string(i);
        t.begin(client, "a", i / 1000);
        t.failed(client, "a", i / 1000);
    }
    EXPECT_LE(t.size(), 200000u);
    EXPECT_GT(t.size(), 0u);
}

// Shared buckets (the database's, several workers): a scripted stand-in that counts calls and
// can fail like a lost database connection.
class ScriptedBuckets final : public ThrottleBuckets {
  public:
    Result<Take> take(const std::string&, const std::string&, const ThrottleLimits&) override {
        ++takes;
        if (down)
            return fail("pg.connection", "gone");
        return Take{left > 0, {static_cast<double>(left--), 10}};
    }
    Result<BucketLevels> levels(const std::string&, const std::string&,
                                const ThrottleLimits&) override {
        if (down)
            return fail("pg.connection", "gone");
        return BucketLevels{static_cast<double>(std::max(left, 0)), 10};
    }
    Result<void> give_back(const std::string&, const std::string&, const ThrottleLimits&) override {
        ++given_back;
        if (down)
            return fail("pg.connection", "gone");
        return {};
    }
    int left = 2, takes = 0, given_back = 0;
    bool down = false;
};

TEST(LoginThrottle, SharedBucketsDecideWhenGivenAndMemoryWhenTheyFail) {
    LoginThrottle t({.per_pair = 5, .per_client = 20, .window = 900});
    ScriptedBuckets shared;
    EXPECT_EQ(t.begin("c", "a", 0, &shared).retry_after, 0);
    EXPECT_EQ(t.failed("c", "a", 0, &shared), LoginThrottle::Lockout::None);
    EXPECT_EQ(t.begin("c", "a", 0, &shared).retry_after, 0);
    EXPECT_EQ(t.failed("c", "a", 0, &shared), LoginThrottle::Lockout::Pair);
    // Empty pair bucket: refused for one token's refill (900 s / 5).
    EXPECT_EQ(t.begin("c", "a", 0, &shared).retry_after, 180);
    t.succeeded("c", "a", 0, &shared);
    EXPECT_EQ(shared.takes, 3);
    EXPECT_EQ(shared.given_back, 1);
    EXPECT_EQ(t.size(), 0U); // this process's buckets were not touched
    // The database fails: this process's buckets take over, still throttling.
    shared.down = true;
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(t.begin("c", "a", 0, &shared).retry_after, 0) << i;
        t.failed("c", "a", 0, &shared);
    }
    EXPECT_GT(t.begin("c", "a", 0, &shared).retry_after, 0);
    EXPECT_GT(t.size(), 0U);
}

} // namespace
} // namespace crm::http
