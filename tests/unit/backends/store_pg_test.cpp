// What only PostgreSQL has: several connections (workers) writing at once, and the epoch fence
// of issue 17 in front of every sync write.
#include <chrono>
#include <future>
#include <thread>

#include "store_backends.hpp"

namespace crm::backends_test {
namespace {

using pg::Connection;
using pg::Transaction;

class PgConcurrency : public PgBackend {
  protected:
    // Waits until `other` waits for a lock (pg_stat_activity), or fails the test after 20 s.
    void wait_until_blocked(const Connection& other) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < until) {
            auto r = db().exec("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1::int",
                               other.backend_pid());
            ASSERT_TRUE(r) << r.error().to_string();
            if (r->rows() == 1 && !r->is_null(0, 0) && *r->get<std::string>(0, 0) == "Lock")
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        FAIL() << "the second connection never waited for the first";
    }
};

// Two workers storing the same message at once (both looked it up and found nothing): the second
// waits on the unique index; when the first commits, the second writes nothing and says so
// ("message.exists", run it again: find_message then finds it); when the first rolls back, the
// second stores it. Either way the message is stored once.
TEST_F(PgConcurrency, TwoConnectionsInsertingTheSameMessageStoreItOnce) {
    for (const bool first_commits : {true, false}) {
        SCOPED_TRACE(first_commits ? "first commits" : "first rolls back");
        const std::string mid = first_commits ? "same-1@x" : "same-2@x";
        auto thread = store().create_thread();
        ASSERT_TRUE(thread);
        auto other = connect();
        ASSERT_TRUE(other) << other.error().to_string();
        pg::PgStore second(*other);
        const Mail mail{.message_id = mid,
                        .content_hash = "h",
                        .raw = "Subject: x\r\n\r\nsame\r\n",
                        .raw_sha256 = "sha-" + mid};

        auto tx = Transaction::begin(db());
        ASSERT_TRUE(tx);
        auto first = put(store(), *thread, mail);
        ASSERT_TRUE(first) << first.error().to_string();
        auto later = std::async(std::launch::async, [&]() -> Result<MessageRowId> {
            return pg::in_transaction(*other, [&] { return put(second, *thread, mail); });
        });
        wait_until_blocked(*other);
        ASSERT_TRUE(first_commits ? tx->commit() : tx->rollback());
        auto r = later.get();
        if (first_commits) {
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().code, "message.exists");
            EXPECT_EQ(r.error().scope, ErrorScope::Message);
            EXPECT_EQ(r.error().retry, Retry::Now);
            auto found = second.find_message(mid, "h");
            ASSERT_TRUE(found && *found);
            EXPECT_EQ(**found, *first);
        } else {
            ASSERT_TRUE(r) << r.error().to_string();
        }
        EXPECT_EQ(
            value<std::int64_t>("SELECT count(*) FROM messages WHERE message_id = '" + mid + "'"),
            1);
        EXPECT_EQ(
            value<std::int64_t>("SELECT count(*) FROM blobs WHERE sha256 = 'sha-" + mid + "'"), 1);
        EXPECT_EQ(value<std::int64_t>("SELECT message_count FROM threads WHERE id = " +
                                      std::to_string(*thread)),
                  1)
            << "the counters moved once";
    }
}

// In a sync batch the store keeps a new message's statements back (its id reserved by the read
// ahead) and sends them with the next statement: a copy another worker stored meanwhile is still
// found, when they are sent ("message.exists" from settle(), the message's own error), and
// nothing of the message is written twice.
TEST_F(PgConcurrency, AMessageKeptBackFindsTheCopyAnotherWorkerStoredMeanwhile) {
    const std::string mid = "kept-back@x";
    auto thread = store().create_thread();
    ASSERT_TRUE(thread);
    auto other = connect();
    ASSERT_TRUE(other) << other.error().to_string();
    pg::PgStore second(*other);
    const Mail mail{.message_id = mid,
                    .content_hash = "h",
                    .raw = "Subject: x\r\n\r\nkept\r\n",
                    .raw_sha256 = "sha-" + mid};

    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    auto first = put(store(), *thread, mail);
    ASSERT_TRUE(first) << first.error().to_string();
    std::optional<MessageRowId> kept;
    auto later = std::async(std::launch::async, [&]() -> Result<void> {
        return pg::in_transaction(*other, [&]() -> Result<void> {
            ReadAhead ahead;
            ahead.message_id = mid;
            ahead.content_hash = "h";
            if (auto asked = second.read_ahead(ahead); !asked)
                return asked;
            auto found = second.find_message(mid, "h"); // answered by the read ahead
            if (!found)
                return std::unexpected(found.error());
            if (*found)
                return fail("test", "the uncommitted copy was visible");
            auto id = put_whole(second, *thread, mail, {}, Placement{}, 1);
            if (!id)
                return std::unexpected(id.error());
            kept = *id;
            if (other->deferred().empty())
                return fail("test", "the message's statements were sent at once");
            return second.settle(); // waits on the unique index until the first commits
        });
    });
    wait_until_blocked(*other);
    ASSERT_TRUE(tx->commit());
    auto r = later.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "message.exists") << r.error().to_string();
    EXPECT_EQ(r.error().scope, ErrorScope::Message);
    EXPECT_EQ(r.error().retry, Retry::Now);
    ASSERT_TRUE(kept.has_value());
    EXPECT_NE(*kept, *first) << "a reserved id, not the first worker's";
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM messages WHERE message_id = '" + mid + "'"),
              1);
    EXPECT_EQ(value<std::int64_t>("SELECT message_count FROM threads WHERE id = " +
                                  std::to_string(*thread)),
              1);
}

// A message kept back and a thread created in the same transaction: both go out with the next
// statement, under their reserved ids, and are what a direct store would have written.
TEST_F(PgConcurrency, KeptBackWritesArriveWithTheNextStatementUnderTheirReservedIds) {
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ReadAhead ahead;
    ahead.message_id = "new@x";
    ahead.content_hash = "h";
    ASSERT_TRUE(store().read_ahead(ahead));
    auto thread = store().create_thread();
    ASSERT_TRUE(thread);
    const Mail mail{.message_id = "new@x",
                    .content_hash = "h",
                    .participants = {{.role = "from", .address = "a@x.example"}}};
    auto id = put_whole(store(), *thread, mail, {}, Placement{.reason = "why"}, 5);
    ASSERT_TRUE(id) << id.error().to_string();
    EXPECT_FALSE(db().deferred().empty());
    // The next statement carries them.
    EXPECT_EQ(
        value<std::int64_t>("SELECT thread_id FROM messages WHERE id = " + std::to_string(*id)),
        *thread);
    EXPECT_TRUE(db().deferred().empty());
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM participants WHERE message_id = " +
                                  std::to_string(*id)),
              1);
    EXPECT_EQ(
        value<std::string>("SELECT sort_reason FROM messages WHERE id = " + std::to_string(*id)),
        "why");
    EXPECT_EQ(value<std::int64_t>("SELECT message_count FROM threads WHERE id = " +
                                  std::to_string(*thread)),
              1);
    ASSERT_TRUE(tx->commit());
}

// The same thread key from two workers for two threads: the second waits, then leaves the key
// with the first's thread, as if it had run after it.
TEST_F(PgConcurrency, TwoConnectionsAddingTheSameKeyKeepTheFirst) {
    auto t1 = store().create_thread();
    auto t2 = store().create_thread();
    ASSERT_TRUE(t1 && t2);
    auto other = connect();
    ASSERT_TRUE(other);
    pg::PgStore second(*other);
    const std::vector<std::string> keys = {"shared@x", "only-second@x"};
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx);
    ASSERT_TRUE(store().add_keys(*t1, std::vector<std::string>{"shared@x"}));
    auto later = std::async(std::launch::async, [&]() -> Result<void> {
        return pg::in_transaction(*other, [&] { return second.add_keys(*t2, keys); });
    });
    wait_until_blocked(*other);
    ASSERT_TRUE(tx->commit());
    ASSERT_TRUE(later.get());
    auto owner = store().threads_for_keys(std::vector<std::string>{"shared@x"});
    ASSERT_TRUE(owner);
    EXPECT_EQ(*owner, std::vector<ThreadId>{*t1});
    EXPECT_EQ(*store().threads_for_keys(std::vector<std::string>{"only-second@x"}),
              std::vector<ThreadId>{*t2});
}

// The epoch fence: a worker writes for an account only while it holds the lease in the epoch it
// claimed; otherwise "lease.lost" and nothing is written.
class PgFence : public PgBackend {
  protected:
    void SetUp() override {
        PgBackend::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        me_ = value<std::int64_t>("INSERT INTO workers (host, pid) VALUES ('me', 1) RETURNING id");
        rival_ =
            value<std::int64_t>("INSERT INTO workers (host, pid) VALUES ('rival', 2) RETURNING id");
        auto acc = sync().ensure_account("a", std::nullopt, "a@x.example", "imap", true, 1);
        ASSERT_TRUE(acc);
        account_ = *acc;
        auto mb = sync().ensure_mailbox(account_, "INBOX", "");
        ASSERT_TRUE(mb);
        mailbox_ = mb->id;
        ASSERT_TRUE(sync().set_checkpoint(mailbox_, 7, 10, 100, 1));
        auto t = store().create_thread();
        ASSERT_TRUE(t);
        thread_ = *t;
        auto m = put(store(), *t, {.message_id = "f@x", .content_hash = "h"});
        ASSERT_TRUE(m);
        message_ = *m;
        ASSERT_TRUE(store().add_location(
            message_, {.account = account_, .mailbox = mailbox_, .uid_validity = 7, .uid = 1}, 1));
        fence_ = std::make_shared<pg::LeaseFence>();
        fence_->set_worker(me_);
    }

    // Claims the lease as `worker` would (the trigger computes the epoch).
    std::int64_t claim(std::int64_t worker) {
        return value<std::int64_t>(
            "UPDATE account_leases SET worker_id = " + std::to_string(worker) +
            ", expires_at = now() + interval '75 s' WHERE account_id = " +
            std::to_string(account_) + " RETURNING epoch");
    }

    // Every fenced write, each in a transaction of its own, through a fresh PgSyncState (its
    // mailbox -> account cache empty: the account is looked up) and a fenced PgStore.
    std::vector<std::pair<std::string, Result<void>>> all_writes() {
        pg::PgSyncState s(db(), fence_);
        pg::PgStore st(db(), fence_);
        auto void_of = [](auto r) -> Result<void> {
            if (!r)
                return std::unexpected(r.error());
            return {};
        };
        using W = std::function<Result<void>()>;
        const std::string late = fmt::format("late-{}@x", ++rounds_); // a new message each time
        const std::pair<std::string, W> writes[] = {
            {"set_checkpoint", [&] { return s.set_checkpoint(mailbox_, 7, 20, 200, 50); }},
            {"reset_uid_validity", [&] { return void_of(s.reset_uid_validity(mailbox_, 8)); }},
            {"update_flags",
             [&] {
                 return void_of(s.update_flags(mailbox_, 7, {{1, {"\\Seen"}}}, 50));
             }},
            {"expunge", [&] { return void_of(s.expunge(mailbox_, 7, {1}, 50)); }},
            {"record_failure",
             [&] { return void_of(s.record_failure(mailbox_, 7, 5, "broken", 50)); }},
            {"set_health",
             [&] {
                 return s.set_health(account_, {.state = HealthState::Error, .error_class = "x"},
                                     50);
             }},
            {"add_synced", [&] { return s.add_synced(account_, 5); }},
            {"ensure_mailbox", [&] { return void_of(s.ensure_mailbox(account_, "Sent", "")); }},
            {"add_location",
             [&] {
                 return void_of(st.add_location(
                     message_,
                     {.account = account_, .mailbox = mailbox_, .uid_validity = 7, .uid = 2}, 50));
             }},
            {"store_new_message",
             [&] {
                 return void_of(put_whole(
                     st, thread_, {.message_id = late, .content_hash = "h"},
                     {.account = account_, .mailbox = mailbox_, .uid_validity = 7, .uid = 3},
                     Placement{std::nullopt, "late", 0, {}, false}, 50));
             }},
            // Kept back (ids reserved by a read ahead) and sent by settle(): the fence travels
            // with them and refuses them the same way.
            {"store_new_message kept back",
             [&]() -> Result<void> {
                 ReadAhead ahead;
                 ahead.message_id = "kept-" + late;
                 ahead.content_hash = "h";
                 if (auto asked = st.read_ahead(ahead); !asked)
                     return asked;
                 auto id = put_whole(
                     st, thread_, {.message_id = "kept-" + late, .content_hash = "h"},
                     {.account = account_, .mailbox = mailbox_, .uid_validity = 7, .uid = 4},
                     Placement{std::nullopt, "late", 0, {}, false}, 50);
                 if (!id)
                     return std::unexpected(id.error());
                 if (db().deferred().empty())
                     return fail("test", "store_new_message was not kept back");
                 return st.settle();
             }},
        };
        std::vector<std::pair<std::string, Result<void>>> out;
        for (const auto& [name, w] : writes)
            out.emplace_back(name, pg::in_transaction(db(), w));
        return out;
    }

    // What the writes would change.
    std::string state() {
        auto r = db().exec(
            "SELECT concat((SELECT concat_ws('/', uid_validity, uid_next, highest_modseq) FROM "
            "mailboxes WHERE id = $1::bigint), ' mailboxes=', (SELECT count(*) FROM mailboxes), "
            "' messages=', (SELECT count(*) FROM messages), ' locations=', (SELECT "
            "string_agg(concat_ws(':', uid, uid_validity, flags), ',' "
            "ORDER BY uid) FROM locations), ' quarantine=', (SELECT count(*) FROM quarantine), "
            "' account=', (SELECT concat_ws('/', state, messages_synced) FROM accounts WHERE id "
            "= $2::bigint))",
            mailbox_, account_);
        EXPECT_TRUE(r) << r.error().to_string();
        return r ? *r->get<std::string>(0, 0) : std::string();
    }

    std::int64_t me_ = 0, rival_ = 0;
    AccountId account_ = 0;
    MailboxId mailbox_ = 0;
    MessageRowId message_ = 0;
    ThreadId thread_ = 0;
    int rounds_ = 0;
    std::shared_ptr<pg::LeaseFence> fence_;
};

TEST_F(PgFence, WithoutTheLeaseEveryWriteIsRefusedAndNothingWritten) {
    const std::string before = state();
    ASSERT_NE(before, "");
    for (auto& [name, r] : all_writes()) {
        ASSERT_FALSE(r) << name;
        EXPECT_EQ(r.error().code, "lease.lost") << name;
        EXPECT_EQ(r.error().scope, ErrorScope::Account) << name;
        EXPECT_NE(r.error().detail.find(std::to_string(account_)), std::string::npos)
            << r.error().detail;
    }
    EXPECT_EQ(state(), before);
}

TEST_F(PgFence, TheHolderWritesAndLosesItAfterAnotherWorkerClaims) {
    const std::int64_t epoch = claim(me_);
    fence_->hold(account_, epoch);
    for (auto& [name, r] : all_writes())
        EXPECT_TRUE(r) << name << ": " << r.error().to_string();
    const std::string after_holder = state();
    EXPECT_NE(after_holder.find("account=error/5"), std::string::npos) << after_holder;

    // The lease expires and another worker claims it: a new epoch. This worker still believes
    // it holds the old one; the database refuses its late writes (SQLSTATE CR001).
    EXPECT_EQ(claim(rival_), epoch + 1);
    ASSERT_TRUE(sync().set_checkpoint(mailbox_, 7, 10, 100, 60)); // unfenced: the rival's view
    const std::string before = state();
    for (auto& [name, r] : all_writes()) {
        ASSERT_FALSE(r) << name;
        EXPECT_EQ(r.error().code, "lease.lost") << name;
        EXPECT_NE(r.error().detail.find("CR001"), std::string::npos) << r.error().detail;
    }
    EXPECT_EQ(state(), before);

    // Without a worker (crm-mailctl) nothing is fenced.
    fence_->set_worker(std::nullopt);
    for (auto& [name, r] : all_writes())
        EXPECT_TRUE(r) << name << ": " << r.error().to_string();
}

} // namespace
} // namespace crm::backends_test
