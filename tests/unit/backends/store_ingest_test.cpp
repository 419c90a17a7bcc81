// The ingest use case (app::IngestBatch, app::Ingestor) on pg::PgStore, with two workers storing
// the same message at once: the result is the one of storing it twice one after the other.
#include <chrono>
#include <future>
#include <thread>

#include "crm/app/ingest.hpp"
#include "crm/app/ingest_batch.hpp"
#include "store_backends.hpp"

namespace crm::backends_test {
namespace {

// The UnitOfWork of a test: a transaction and savepoints on one pg::Connection.
class TestWork final : public UnitOfWork {
  public:
    explicit TestWork(pg::Connection& c) : c_(c) {}
    Result<void> transaction(const std::function<Result<void>()>& body) override {
        return pg::in_transaction(c_, body);
    }
    Result<void> savepoint(const std::function<Result<void>()>& body) override {
        auto sp = pg::Savepoint::begin(c_);
        if (!sp)
            return std::unexpected(sp.error());
        if (auto r = body(); !r)
            return r; // ~Savepoint rolls back to it
        return sp->release();
    }

  private:
    pg::Connection& c_;
};

class PgIngest : public PgBackend {};

// Worker A stores a message and, before it commits, worker B starts storing the same message from
// another mailbox: B waits for A (on the thread key or the message's unique index), then its
// insert finds A's row ("message.exists"), IngestBatch runs the batch again, and B's copy becomes
// a second location of A's message: one message, one thread, two locations.
TEST_F(PgIngest, TwoWorkersIngestingTheSameMessageGiveOneMessageWithTwoLocations) {
    ParsedMessage parsed;
    parsed.message_id = "race@x.example";
    parsed.content_hash = std::string(64, 'e');
    parsed.subject = "Race";
    parsed.date = 1000;
    parsed.from = {{"Hank", "hank@globex.example"}};
    const std::string raw = "Message-ID: <race@x.example>\r\nSubject: Race\r\n\r\nbody\r\n";
    auto item = [&](const char* source) {
        app::BatchItem it;
        it.source.raw = raw;
        it.source.where.source = source;
        it.parsed = &parsed;
        return it;
    };
    const app::BatchItem a_items[] = {item("a.mbox#1")};
    const app::BatchItem b_items[] = {item("b.mbox#1")};

    auto other = connect();
    ASSERT_TRUE(other) << other.error().to_string();
    pg::PgStore b_store(*other);
    TestWork a_work(db()), b_work(*other);
    app::Ingestor a_ingest(store(), store()), b_ingest(b_store, b_store);
    app::IngestBatch a_batch(a_work, a_ingest), b_batch(b_work, b_ingest);

    std::future<Result<app::BatchOutcome>> b_done;
    app::BatchHooks hooks;
    hooks.before_commit = [&](const app::BatchOutcome&) -> Result<void> {
        b_done = std::async(std::launch::async, [&] { return b_batch.run(b_items, 2); });
        // Until B waits for this transaction.
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < until) {
            auto r = db().exec("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid "
                               "= $1::int",
                               other->backend_pid());
            if (r && r->rows() == 1 && !r->is_null(0, 0) && *r->get<bool>(0, 0))
                return {};
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return fail("test", "worker B never waited for worker A");
    };
    auto a = a_batch.run(a_items, 1, nullptr, hooks);
    ASSERT_TRUE(a) << a.error().to_string();
    EXPECT_EQ(a->stored, 1u);
    ASSERT_TRUE(b_done.valid());
    auto b = b_done.get();
    ASSERT_TRUE(b) << b.error().to_string();
    EXPECT_EQ(b->stored, 0u);
    EXPECT_EQ(b->locations, 1u);
    EXPECT_TRUE(b->failures.empty());
    ASSERT_TRUE(b->outcomes[0]);
    EXPECT_EQ(b->outcomes[0]->kind, app::IngestKind::NewLocation);
    EXPECT_EQ(b->outcomes[0]->message, a->outcomes[0]->message);

    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM messages"), 1);
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM locations"), 2);
    EXPECT_EQ(value<std::int64_t>("SELECT count(*) FROM threads"), 1)
        << "B's first attempt (and the thread it made) was rolled back";
    EXPECT_EQ(value<std::int64_t>("SELECT message_count FROM threads"), 1);
}

} // namespace
} // namespace crm::backends_test
