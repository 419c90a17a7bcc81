// Account leases and the epoch fence against a real PostgreSQL 15 (schema/postgresql/0002): two
// workers never hold one account, a lost lease is noticed by renew() and refused by the fence,
// released and expired leases are taken over, dead workers are reaped.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "crm/pg/leases.hpp"
#include "crm/pg/migrate.hpp"
#include "pg_test_support.hpp"

namespace crm::pg {
namespace {

using namespace std::chrono_literals;

class LeasesTest : public test::PgTest {
  protected:
    void SetUp() override {
        PgTest::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        auto m = migrate(db());
        ASSERT_TRUE(m) << m.error().to_string();
        for (int i = 1; i <= 4; ++i) {
            auto r = db().exec("INSERT INTO accounts (name, address, created_at, updated_at) "
                               "VALUES ($1, $2, 1, 1) RETURNING id",
                               fmt::format("acct{}", i), fmt::format("a{}@sales.example", i));
            ASSERT_TRUE(r) << r.error().to_string();
            accounts.push_back(*r->get<std::int64_t>(0, 0));
        }
    }

    // A worker on a connection of its own, with a lease of `lease`.
    Leases worker(const char* host, std::chrono::seconds lease = 60s,
                  std::shared_ptr<LeaseFence> fence = std::make_shared<LeaseFence>()) {
        auto c = connect();
        EXPECT_TRUE(c) << c.error().to_string();
        // A lock wait is a failure of these tests, not a hang.
        EXPECT_TRUE(c->execute_script("SET lock_timeout = '1s'"));
        auto l =
            Leases::start(std::move(*c), std::move(fence), WorkerInfo{host, 4242, {}, "t"}, lease);
        EXPECT_TRUE(l) << l.error().to_string();
        return std::move(*l);
    }

    static std::set<AccountId> ids(const std::vector<HeldLease>& held) {
        std::set<AccountId> out;
        for (const auto& [a, e] : held)
            out.insert(a);
        return out;
    }

    std::vector<AccountId> accounts;
};

TEST_F(LeasesTest, TwoWorkersClaimingAtOnceTakeDifferentAccounts) {
    auto a = worker("a");
    auto b = worker("b");
    ASSERT_NE(a.worker_id(), b.worker_id());
    std::vector<HeldLease> got_a, got_b;
    std::thread ta([&] { got_a = *a.claim(accounts, 2); });
    std::thread tb([&] { got_b = *b.claim(accounts, 2); });
    ta.join();
    tb.join();
    EXPECT_EQ(got_a.size(), 2u);
    EXPECT_EQ(got_b.size(), 2u);
    auto sa = ids(got_a), sb = ids(got_b);
    for (auto x : sa)
        EXPECT_FALSE(sb.contains(x)) << "account " << x << " claimed by both";
    // Nothing left to claim; the fences know their own accounts only.
    EXPECT_TRUE(a.claim(accounts, 4)->empty());
    for (auto x : sa) {
        EXPECT_TRUE(a.fence().holds(x));
        EXPECT_FALSE(b.fence().holds(x));
    }
    EXPECT_EQ(value<std::int64_t>("SELECT count(DISTINCT worker_id) FROM account_leases"), 2);
}

TEST_F(LeasesTest, RenewKeepsTheEpochAndAnExpiredLeaseIsLostAndFenced) {
    auto a = worker("a", 1s);
    auto got = a.claim(std::span(accounts).first(1), 1);
    ASSERT_TRUE(got);
    ASSERT_EQ(got->size(), 1u);
    const auto [account, epoch] = got->front();
    EXPECT_EQ(epoch, 1);
    auto lost = a.renew();
    ASSERT_TRUE(lost) << lost.error().to_string();
    EXPECT_TRUE(lost->empty());
    EXPECT_EQ(a.fence().epoch(account), epoch);

    // The fence lets the holder write, inside its transaction.
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        EXPECT_TRUE(a.fence().check(db(), account));
    }
    // Paused past its lease: another worker takes the account in a new epoch.
    std::this_thread::sleep_for(1500ms);
    auto b = worker("b");
    auto taken = b.claim(accounts, 1);
    ASSERT_TRUE(taken);
    ASSERT_EQ(taken->size(), 1u);
    EXPECT_EQ(taken->front(), HeldLease(account, epoch + 1));
    // The late writer's fence check is refused by the database (its epoch is old) ...
    {
        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        auto refused = a.fence().check(db(), account);
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, "lease.lost");
        EXPECT_EQ(refused.error().scope, ErrorScope::Account);
    }
    // ... and renew() reports the account lost and drops it from the fence.
    lost = a.renew();
    ASSERT_TRUE(lost);
    EXPECT_EQ(*lost, std::vector<AccountId>{account});
    EXPECT_FALSE(a.fence().holds(account));
    auto again = a.fence().check(db(), account);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, "lease.lost");
}

// A transaction that checked the fence keeps other workers from claiming the lease until it
// ends, but never holds up the holder's own renewal (schema/postgresql/0004).
TEST_F(LeasesTest, AnOpenFencedTransactionBlocksClaimsButNotRenewal) {
    auto a = worker("a", 2s);
    ASSERT_EQ(a.claim(std::span(accounts).first(1), 1)->size(), 1u);
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ASSERT_TRUE(a.fence().check(db(), accounts[0]));
    // The renewal goes through at once (lock_timeout makes a wait an error here).
    auto t0 = std::chrono::steady_clock::now();
    auto lost = a.renew();
    ASSERT_TRUE(lost) << lost.error().to_string();
    EXPECT_TRUE(lost->empty());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    // Past the lease, another worker still cannot take it while the transaction is open ...
    std::this_thread::sleep_for(2500ms);
    auto b = worker("b");
    const auto first = std::span(accounts).first(1);
    EXPECT_TRUE(b.claim(first, 1)->empty());
    // ... and takes it once the transaction has ended.
    ASSERT_TRUE(tx->rollback());
    auto taken = b.claim(first, 1);
    ASSERT_TRUE(taken);
    ASSERT_EQ(taken->size(), 1u);
    EXPECT_EQ(taken->front().first, accounts[0]);
}

TEST_F(LeasesTest, ReleasedAccountsAreTakenAtOnceAndLeaveFreesEverything) {
    auto a = worker("a");
    ASSERT_EQ(a.claim(accounts, 4)->size(), 4u);
    auto b = worker("b");
    EXPECT_TRUE(b.claim(accounts, 4)->empty());
    const std::vector<AccountId> two{accounts[0], accounts[1]};
    ASSERT_TRUE(a.release(two));
    EXPECT_FALSE(a.fence().holds(accounts[0]));
    EXPECT_EQ(ids(*b.claim(accounts, 4)), std::set<AccountId>(two.begin(), two.end()));
    ASSERT_TRUE(a.leave());
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM workers"), 1);
    EXPECT_EQ(b.claim(accounts, 4)->size(), 2u);
    EXPECT_EQ(value<std::int64_t>(fmt::format(
                  "SELECT count(*) FROM account_leases WHERE worker_id = {}", b.worker_id())),
              4);
}

TEST_F(LeasesTest, DeadWorkersAreReapedAndAReapedWorkerRegistersAgain) {
    auto a = worker("a");
    auto b = worker("b");
    ASSERT_EQ(a.claim(accounts, 2)->size(), 2u);
    EXPECT_EQ(*b.live_workers(), 2);
    ASSERT_TRUE(db().exec("UPDATE workers SET heartbeat_at = now() - interval '1 hour' "
                          "WHERE id = $1::bigint",
                          a.worker_id()));
    EXPECT_EQ(*b.live_workers(), 1);
    EXPECT_EQ(*b.reap_dead(), 1);
    // Its leases went with its row.
    EXPECT_EQ(b.claim(accounts, 4)->size(), 4u);
    const auto old_id = a.worker_id();
    auto lost = a.renew();
    ASSERT_TRUE(lost) << lost.error().to_string();
    EXPECT_EQ(lost->size(), 2u);
    EXPECT_NE(a.worker_id(), old_id);
    EXPECT_EQ(a.fence().worker(), a.worker_id());
    EXPECT_TRUE(a.fence().held().empty());
}

TEST_F(LeasesTest, ListWorkersShowsEachWorkersAccountsAndTheUnheld) {
    auto a = worker("host-a");
    ASSERT_EQ(a.claim(std::span(accounts).first(3), 3)->size(), 3u);
    auto rows = list_workers(db());
    ASSERT_TRUE(rows) << rows.error().to_string();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].host, "host-a");
    EXPECT_EQ((*rows)[0].accounts.size(), 3u);
    EXPECT_GT((*rows)[0].accounts[0].expires_in, 50);
    EXPECT_LE((*rows)[0].heartbeat_age, 5);
    EXPECT_EQ((*rows)[1].id, 0);
    ASSERT_EQ((*rows)[1].accounts.size(), 1u);
    EXPECT_EQ((*rows)[1].accounts[0].name, "acct4");
}

TEST(LeasesShare, FairShareRoundsUpAndRespectsTheCap) {
    EXPECT_EQ(Leases::fair_share(12, 3, std::nullopt), 4u);
    EXPECT_EQ(Leases::fair_share(13, 3, std::nullopt), 5u);
    EXPECT_EQ(Leases::fair_share(12, 3, 2), 2u);
    EXPECT_EQ(Leases::fair_share(12, 0, std::nullopt), 12u);
    EXPECT_EQ(Leases::fair_share(0, 3, std::nullopt), 0u);
}

} // namespace
} // namespace crm::pg
