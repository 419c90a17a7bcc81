// The login throttle's buckets shared through PostgreSQL (pg::PgThrottle): http's LoginThrottle
// gives the same answers with them as with its own memory, and workers attempting at once are
// counted one after the other.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "crm/pg/connection.hpp"
#include "crm/pg/throttle.hpp"
#include "throttle.hpp" // http's LoginThrottle (src/http, on this test's include path)
#include "web_env.hpp"

namespace crm::backends::test {
namespace {

using http::LoginThrottle;

class SharedThrottle : public PgFixture {
  protected:
    // The database's clock moves `seconds` on, as far as the buckets can tell.
    void advance(std::int64_t seconds) {
        env().exec("UPDATE login_throttle SET updated_at = updated_at - " +
                   std::to_string(seconds));
    }
};

TEST_F(SharedThrottle, SameAnswersAsThisProcesssBuckets) {
    const ThrottleLimits limits{.per_pair = 3, .per_client = 5, .window = 300};
    LoginThrottle memory(limits), shared(limits);
    pg::PgThrottle buckets(env().connection());
    std::int64_t now = 1000;
    // One step of the script on both; retry_after within a second or two (the database's clock
    // goes on while the test runs).
    auto begin = [&](const std::string& c, const std::string& a) {
        const auto m = memory.begin(c, a, now).retry_after;
        const auto s = shared.begin(c, a, 0, &buckets).retry_after;
        EXPECT_EQ(m > 0, s > 0) << c << " " << a << " at " << now;
        EXPECT_NEAR(static_cast<double>(m), static_cast<double>(s), 2.0) << c << " " << a;
        return m;
    };
    auto failed = [&](const std::string& c, const std::string& a) {
        const auto m = memory.failed(c, a, now);
        EXPECT_EQ(m, shared.failed(c, a, 0, &buckets)) << c << " " << a << " at " << now;
        return m;
    };
    auto succeeded = [&](const std::string& c, const std::string& a) {
        memory.succeeded(c, a, now);
        shared.succeeded(c, a, 0, &buckets);
    };
    auto later = [&](std::int64_t s) {
        now += s;
        advance(s);
    };
    using L = LoginThrottle::Lockout;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(begin("c1", "a"), 0);
        EXPECT_EQ(failed("c1", "a"), i == 2 ? L::Pair : L::None);
    }
    EXPECT_NEAR(static_cast<double>(begin("c1", "a")), 100, 1); // 300 s / 3 tokens
    later(100);
    EXPECT_EQ(begin("c1", "a"), 0);
    EXPECT_EQ(failed("c1", "a"), L::Pair);
    // The client's bucket refilled too (100 s of 5 per 300 s): 3.67 tokens before that attempt.
    EXPECT_EQ(begin("c1", "b"), 0);
    EXPECT_EQ(failed("c1", "b"), L::None);
    EXPECT_EQ(begin("c1", "c"), 0);
    EXPECT_EQ(failed("c1", "c"), L::Client);
    EXPECT_NEAR(static_cast<double>(begin("c1", "d")), 20, 1); // 0.67 tokens, 60 s per token
    EXPECT_EQ(begin("c2", "a"), 0);                            // another client is not affected
    succeeded("c2", "a");
    later(60);
    EXPECT_EQ(begin("c1", "c"), 0);
    succeeded("c1", "c");
    EXPECT_GT(begin("c1", "a"), 0); // 0.6 tokens: wait 40 s
    EXPECT_EQ(begin("c1", "b"), 0);
    EXPECT_GT(memory.size(), 0U);
    EXPECT_EQ(shared.size(), 0U); // the shared side never fell back to its memory
}

TEST_F(SharedThrottle, WorkersAttemptingAtOnceAreCountedOnce) {
    const ThrottleLimits limits{.per_pair = 5, .per_client = 20, .window = 900};
    constexpr int kWorkers = 6, kAttempts = 3;
    std::vector<pg::Connection> conns;
    for (int i = 0; i < kWorkers; ++i)
        conns.push_back(env().connect());
    std::atomic<int> taken{0}, refused{0};
    std::vector<std::thread> workers;
    for (int i = 0; i < kWorkers; ++i)
        workers.emplace_back([&, i] {
            pg::PgThrottle t(conns[static_cast<std::size_t>(i)]);
            for (int j = 0; j < kAttempts; ++j) {
                auto r = t.take("203.0.113.7", "ann@example.com", limits);
                ASSERT_TRUE(r) << r.error().to_string();
                ++(r->taken ? taken : refused);
            }
        });
    for (auto& w : workers)
        w.join();
    EXPECT_EQ(taken.load(), 5);
    EXPECT_EQ(refused.load(), kWorkers * kAttempts - 5);
    pg::PgThrottle t(env().connection());
    auto l = ok(t.levels("203.0.113.7", "ann@example.com", limits));
    EXPECT_LT(l.pair, 1.0);
    EXPECT_NEAR(l.client, 15, 0.1);
}

TEST_F(SharedThrottle, SuccessForgetsThePairAndOldBucketsAreSwept) {
    const ThrottleLimits limits{.per_pair = 5, .per_client = 20, .window = 900};
    pg::PgThrottle t(env().connection());
    ASSERT_TRUE(ok(t.take("c", "a", limits)).taken);
    ASSERT_TRUE(ok(t.take("c", "a", limits)).taken);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM login_throttle"), 2);
    ok(t.give_back("c", "a", limits));
    EXPECT_EQ(env().scalar("SELECT count(*) FROM login_throttle WHERE kind = 'pair'"), 0);
    auto l = ok(t.levels("c", "a", limits));
    EXPECT_EQ(l.pair, 5);
    EXPECT_NEAR(l.client, 19, 0.1);
    // Untouched for a whole window: full again, deleted by a later take (every 64th).
    advance(901);
    pg::PgThrottle fresh(env().connection());
    ASSERT_TRUE(ok(fresh.take("d", "a", limits)).taken);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM login_throttle WHERE client = 'c'"), 0);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM login_throttle WHERE client = 'd'"), 2);
    auto bad = t.take(std::string("c\0", 2), "a", limits);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "pg.text");
}

} // namespace
} // namespace crm::backends::test
