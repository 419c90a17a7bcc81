// The outbox, the unit of work and the metrics: the same scenarios on SQLite and PostgreSQL,
// then what only PostgreSQL has (several workers: SKIP LOCKED claims, the lease fence).
#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "crm/pg/connection.hpp"
#include "crm/pg/lease_fence.hpp"
#include "crm/pg/outbox.hpp"
#include "crm/pg/work.hpp"
#include "web_env.hpp"

namespace crm::backends::test {
namespace {

struct Sender {
    UserId user = 0;
    AccountId account = 0, other = 0;
    ThreadId thread = 0;
    MessageRowId first = 0, second = 0;

    explicit Sender(WebEnv& env) {
        Seed s(env);
        user = s.user("Ann", "ann@example.com", "salesperson");
        s.user_address(user, "ann@example.com");
        s.user_address(user, "ann.alias@example.com");
        account = s.account("ann", "Ann@Example.com", user);
        other = s.account("team", "team@example.com", std::nullopt);
        auto inbox = s.mailbox(account, "INBOX");
        thread = s.thread("Quote");
        // The newer by arrival has the older Date: arrival decides.
        first = s.message(thread, "q1@x", "Quote", "Carol", "carol@client.example", 900, 100);
        second = s.message(thread, "q2@x", "Re: Quote", "Dave", "dave@client.example", 10, 200);
        s.participant(first, "from", 0, "carol@client.example", "Carol");
        s.participant(second, "from", 0, "dave@client.example", "Dave");
        s.participant(second, "reply-to", 0, "desk@client.example", "Desk");
        s.participant(second, "to", 0, "ann@example.com", "Ann");
        s.participant(second, "cc", 0, "eve@client.example");
        s.location(first, account, inbox, 1);
    }

    [[nodiscard]] OutboxRow reply(const std::string& message_id,
                                  std::optional<AccountId> from = std::nullopt) const {
        OutboxRow r;
        r.account = from.value_or(account);
        r.user = user;
        r.thread = thread;
        r.parent = second;
        r.message_id = message_id;
        r.mode = "reply-all";
        r.to = {{"Dave \"D\" Smith", "dave@client.example"}};
        r.cc = {{"", "eve@client.example"}, {"Back\\slash", "x@y.example"}};
        r.bcc = {{"Ann", "ann@example.com"}};
        r.subject = "Re: Quote";
        r.in_reply_to = "q2@x";
        r.references = {"q1@x", "q2@x"};
        r.text_body = "Thanks,\r\n\tAnn";
        r.html_body = "<p>Thanks</p>";
        return r;
    }
};

TYPED_TEST_SUITE(Web, Kinds, KindNames);

TYPED_TEST(Web, OutboxQueueClaimSendAndSettle) {
    Sender s(this->env());
    auto& ob = this->env().outbox();
    auto row = s.reply("r1@crm");
    row.attachments = {{"quote.pdf", "application/pdf", "sha-pdf"}};
    const std::string pdf("%PDF\0\xff binary", 13);
    auto id = ok(ob.queue(row, {pdf}, 1000));
    auto id2 = ok(ob.queue(s.reply("r2@crm"), {}, 1001));
    EXPECT_GT(id2, id);
    EXPECT_EQ(ok(ob.depth()), 2);

    auto got = ok(ob.get(id));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->state, "queued");
    EXPECT_EQ(got->to, row.to);
    EXPECT_EQ(got->cc, row.cc);
    EXPECT_EQ(got->bcc, row.bcc);
    EXPECT_EQ(got->references, row.references);
    EXPECT_EQ(got->text_body, row.text_body);
    EXPECT_EQ(got->user, s.user);
    EXPECT_EQ(got->parent, s.second);
    EXPECT_FALSE(got->deal);
    EXPECT_EQ(got->next_attempt_at, 1000);
    ASSERT_EQ(got->attachments.size(), 1U);
    EXPECT_EQ(got->attachments[0].filename, "quote.pdf");
    EXPECT_EQ(ok(ob.attachment_content("sha-pdf")), pdf);
    auto missing = ob.attachment_content("sha-none");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "outbox.attachment");
    EXPECT_FALSE(ok(ob.get(999999)));

    // Not due before next_attempt_at; then oldest first, once.
    EXPECT_FALSE(ok(ob.claim_due(999)));
    auto claimed = ok(ob.claim_due(1000));
    ASSERT_TRUE(claimed);
    EXPECT_EQ(claimed->id, id);
    EXPECT_EQ(claimed->state, "sending");
    EXPECT_EQ(claimed->attempts, 1);
    EXPECT_EQ(claimed->subject, "Re: Quote");
    EXPECT_FALSE(ok(ob.claim_due(1000)));
    EXPECT_EQ(ok(ob.depth()), 2);

    // Sent: end of DATA first, then the state.
    ok(ob.mark_data_done(id, 1010));
    EXPECT_EQ(ok(ob.get(id))->data_done_at, 1010);
    ok(ob.set_state(id, "sent", "", std::nullopt, 1020));
    got = ok(ob.get(id));
    EXPECT_EQ(got->state, "sent");
    EXPECT_EQ(got->sent_at, 1020);
    EXPECT_EQ(got->updated_at, 1020);
    EXPECT_FALSE(got->next_attempt_at);
    auto not_sending = ob.mark_data_done(id, 1030);
    ASSERT_FALSE(not_sending);
    EXPECT_EQ(not_sending.error().code, "outbox.not_found");
    auto none = ob.set_state(999999, "sent", "", std::nullopt, 1);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "outbox.not_found");

    // A retry: queued again later, data_done_at cleared, the reason kept.
    auto second = ok(ob.claim_due(2000));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->id, id2);
    ok(ob.mark_data_done(id2, 2001));
    ok(ob.set_state(id2, "queued", "451 try later", 2600, 2002));
    got = ok(ob.get(id2));
    EXPECT_EQ(got->state, "queued");
    EXPECT_FALSE(got->data_done_at);
    EXPECT_EQ(got->last_error, "451 try later");
    EXPECT_FALSE(ok(ob.claim_due(2500)));
    EXPECT_EQ(ok(ob.claim_due(2600))->attempts, 2);
    ok(ob.set_state(id2, "failed", "550 no such user", std::nullopt, 2700));

    EXPECT_EQ(ok(ob.depth()), 0);
    auto sent = ok(ob.list(std::string("sent")));
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].id, id);
    EXPECT_EQ(ok(ob.list()).size(), 2U);
    EXPECT_TRUE(ok(ob.list(std::string("cancelled"))).empty());
}

// The outbox a page at a time (issue 19): newest first, filtered by state and by who queued it,
// with the count of the whole filtered list on every page.
// A bounce that came back while its reply was still "sending" (issue 20): its report is kept, and
// the reply settles as "bounced", with the failed recipient as its reason, not "sent".
TYPED_TEST(Web, ABounceBeforeTheReplySettlesMakesItBounced) {
    Sender s(this->env());
    auto& ob = this->env().outbox();
    const auto early = ok(ob.queue(s.reply("early@crm"), {}, 1000));
    const auto plain = ok(ob.queue(s.reply("plain@crm"), {}, 1000));
    ASSERT_TRUE(ok(ob.claim_due(1000)));
    ASSERT_TRUE(ok(ob.claim_due(1000)));
    this->env().exec("INSERT INTO outbox_reports (outbox_id, recipient, action, status, "
                     "diagnostic, reported_at) VALUES (" +
                     std::to_string(early) +
                     ", 'dave@client.example', 'failed', '5.1.1', '550 no such user', 1001), (" +
                     std::to_string(early) +
                     ", 'eve@client.example', 'delayed', '4.4.1', '', 1001)");
    ASSERT_TRUE(ob.set_state(early, "sent", "", std::nullopt, 1002));
    ASSERT_TRUE(ob.set_state(plain, "sent", "", std::nullopt, 1002));
    const auto e = ok(ob.get(early));
    ASSERT_TRUE(e);
    EXPECT_EQ(e->state, "bounced");
    EXPECT_EQ(e->last_error, "bounced: dave@client.example 5.1.1: 550 no such user");
    EXPECT_EQ(e->sent_at, std::optional<std::int64_t>(1002));
    ASSERT_EQ(e->reports.size(), 2U);
    EXPECT_EQ(e->reports[0].recipient, "dave@client.example");
    EXPECT_EQ(e->reports[1].action, "delayed");
    EXPECT_EQ(ok(ob.get(plain))->state, "sent");
}

TYPED_TEST(Web, OutboxPagesNewestFirstWithTrueCounts) {
    Sender s(this->env());
    Seed seed(this->env());
    const auto bob = seed.user("Bob", "bob@example.com", "salesperson");
    auto& ob = this->env().outbox();
    std::vector<std::int64_t> anns, all;
    for (int i = 0; i < 7; ++i) {
        auto row = s.reply("page" + std::to_string(i) + "@crm");
        if (i % 3 == 2)
            row.user = bob;
        const auto id = ok(ob.queue(row, {}, 1000 + i));
        all.push_back(id);
        if (i % 3 != 2)
            anns.push_back(id);
    }
    ok(ob.set_state(all[1], "cancelled", "by hand", std::nullopt, 2000));
    std::reverse(all.begin(), all.end());
    std::reverse(anns.begin(), anns.end());
    auto walk = [&](const OutboxFilter& f, std::size_t limit) {
        std::vector<std::int64_t> got;
        std::optional<std::int64_t> before;
        std::int64_t total = -1;
        int pages = 0;
        do {
            auto page = ok(ob.page(f, before, limit));
            EXPECT_LE(page.rows.size(), limit);
            if (total >= 0) {
                EXPECT_EQ(page.total, total) << "the same count on every page";
            }
            total = page.total;
            for (const auto& r : page.rows)
                got.push_back(r.id);
            before = page.next;
        } while (before && ++pages < 20);
        EXPECT_EQ(static_cast<std::int64_t>(got.size()), total);
        return got;
    };
    for (std::size_t limit : {1U, 2U, 3U, 7U, 8U}) {
        EXPECT_EQ(walk({}, limit), all) << "pages of " << limit;
        EXPECT_EQ(walk({std::nullopt, s.user}, limit), anns) << "Ann's, pages of " << limit;
    }
    EXPECT_EQ(walk({std::string("cancelled"), std::nullopt}, 2),
              (std::vector<std::int64_t>{all[5]}));
    EXPECT_EQ(walk({std::string("cancelled"), bob}, 2), std::vector<std::int64_t>{});
    EXPECT_EQ(walk({std::string("no such state"), std::nullopt}, 2), std::vector<std::int64_t>{});
}

TYPED_TEST(Web, OutboxReplyContextAndAccounts) {
    Sender s(this->env());
    auto& ob = this->env().outbox();
    auto p = ok(ob.reply_parent(s.thread, std::nullopt));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->id, s.second);
    EXPECT_EQ(p->subject, "Re: Quote");
    EXPECT_EQ(p->from, (std::vector<Address>{{"Dave", "dave@client.example"}}));
    EXPECT_EQ(p->reply_to, (std::vector<Address>{{"Desk", "desk@client.example"}}));
    EXPECT_EQ(p->cc, (std::vector<Address>{{"", "eve@client.example"}}));
    EXPECT_FALSE(p->account); // no copy in an account yet, no reply of ours
    auto f = ok(ob.reply_parent(s.thread, std::string("q1@x")));
    ASSERT_TRUE(f);
    EXPECT_EQ(f->id, s.first);
    EXPECT_EQ(f->account, s.account);
    EXPECT_FALSE(ok(ob.reply_parent(s.thread, std::string("nope@x"))));
    EXPECT_FALSE(ok(ob.reply_parent(999999, std::nullopt)));
    // Our own reply whose Sent copy is not synced yet: the account it went out from.
    Seed seed(this->env());
    auto own = seed.message(s.thread, "r9@crm", "Re: Quote", "Ann", "ann@example.com", 5, 300);
    (void)own;
    ok(ob.queue(s.reply("r9@crm", s.other), {}, 300));
    auto mine = ok(ob.reply_parent(s.thread, std::nullopt));
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->message_id, "r9@crm");
    EXPECT_EQ(mine->account, s.other);

    auto a = ok(ob.account(s.account));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->name, "ann");
    EXPECT_EQ(a->owner, s.user);
    EXPECT_EQ(a->owner_name, "Ann");
    auto t = ok(ob.account_by_name("team"));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->id, s.other);
    EXPECT_FALSE(t->owner);
    EXPECT_FALSE(ok(ob.account_by_name("nobody")));
    EXPECT_FALSE(ok(ob.account(999999)));
    auto team = ok(ob.team_addresses());
    std::sort(team.begin(), team.end());
    EXPECT_EQ(team, (std::vector<std::string>{"ann.alias@example.com", "ann@example.com",
                                              "team@example.com"}));
}

TYPED_TEST(Web, OutboxKeepsLargeValuesWhole) {
    Sender s(this->env());
    auto& ob = this->env().outbox();
    auto row = s.reply("big@crm");
    row.text_body.assign(3 << 20, 'x');
    row.text_body += "\xc3\xa9nd";
    std::string content(2 << 20, '\0');
    for (std::size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>((i * 131) & 0xff);
    row.attachments = {{"big.bin", "application/octet-stream", "sha-big"}};
    auto id = ok(ob.queue(row, {content}, 1));
    auto got = ok(ob.get(id));
    ASSERT_TRUE(got);
    EXPECT_EQ(got->text_body, row.text_body);
    EXPECT_EQ(ok(ob.attachment_content("sha-big")), content);
}

TYPED_TEST(Web, WorkCommitsRollsBackAndNestsWithSavepoints) {
    Sender s(this->env());
    auto& env = this->env();
    auto tokens = [&] { return env.scalar("SELECT count(*) FROM api_tokens").value_or(-1); };
    ok(env.work().transaction([&]() -> Result<void> {
        auto t = env.logins().create_token(s.user, "a", "h-a", 1);
        if (!t)
            return std::unexpected(t.error());
        return {};
    }));
    EXPECT_EQ(tokens(), 1);
    // A failing body: its writes are gone, its error comes back.
    auto failed = env.work().transaction([&]() -> Result<void> {
        (void)env.logins().create_token(s.user, "b", "h-b", 1);
        return fail("test.body", "no");
    });
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, "test.body");
    EXPECT_EQ(tokens(), 1);
    // A throwing body: rolled back too, an error not an exception.
    auto threw = env.work().transaction([&]() -> Result<void> {
        (void)env.logins().create_token(s.user, "c", "h-c", 1);
        throw std::runtime_error("boom");
    });
    ASSERT_FALSE(threw);
    EXPECT_EQ(tokens(), 1);
    // Savepoints: a failing item is undone, the transaction goes on; a nested transaction()
    // is refused without running its body and leaves the outer one open.
    bool inner_ran = false;
    ok(env.work().transaction([&]() -> Result<void> {
        auto one = env.work().savepoint([&]() -> Result<void> {
            (void)env.logins().create_token(s.user, "d", "h-d", 1);
            return fail("test.item", "bad item");
        });
        EXPECT_FALSE(one);
        auto two = env.work().savepoint([&]() -> Result<void> {
            auto t = env.logins().create_token(s.user, "e", "h-e", 1);
            if (!t)
                return std::unexpected(t.error());
            return {};
        });
        EXPECT_TRUE(two);
        auto nested = env.work().transaction([&]() -> Result<void> {
            inner_ran = true;
            return {};
        });
        EXPECT_FALSE(nested);
        auto t = env.logins().create_token(s.user, "f", "h-f", 1);
        if (!t)
            return std::unexpected(t.error());
        return {};
    }));
    EXPECT_FALSE(inner_ran);
    EXPECT_EQ(tokens(), 3);
    EXPECT_EQ(env.scalar("SELECT count(*) FROM api_tokens WHERE name = 'd'"), 0);
    // A savepoint outside a transaction is one.
    ok(env.work().savepoint([&]() -> Result<void> {
        auto t = env.logins().create_token(s.user, "g", "h-g", 1);
        if (!t)
            return std::unexpected(t.error());
        return {};
    }));
    EXPECT_EQ(tokens(), 4);
    EXPECT_FALSE(env.work().savepoint([&]() -> Result<void> {
        (void)env.logins().create_token(s.user, "h", "h-h", 1);
        return fail("test.item", "bad");
    }));
    EXPECT_EQ(tokens(), 4);
}

TYPED_TEST(Web, MetricsSnapshot) {
    Sender s(this->env());
    auto& env = this->env();
    env.exec("UPDATE accounts SET state = 'idle', last_success_at = 77, messages_synced = 12 "
             "WHERE name = 'ann'");
    ok(env.outbox().queue(s.reply("m1@crm"), {}, 1));
    ok(env.outbox().queue(s.reply("m2@crm"), {}, 1));
    auto id = ok(env.outbox().queue(s.reply("m3@crm"), {}, 1));
    ok(env.outbox().set_state(id, "cancelled", "", std::nullopt, 2));
    // Ann's quarantine: one still retried, one given up on, one dropped (not counted).
    const auto inbox = env.scalar("SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = "
                                  "m.account_id WHERE a.name = 'ann'");
    if (!inbox)
        env.exec("INSERT INTO mailboxes (account_id, name) SELECT id, 'INBOX' FROM accounts "
                 "WHERE name = 'ann'");
    const auto mb = std::to_string(*env.scalar("SELECT m.id FROM mailboxes m JOIN accounts a ON "
                                               "a.id = m.account_id WHERE a.name = 'ann'"));
    env.exec("INSERT INTO quarantine (mailbox_id, uid_validity, uid, attempts, reason, "
             "first_failed_at, last_failed_at, dropped_at) VALUES (" +
             mb +
             ", 1, 1, 1, 'x', 1, 1, "
             "NULL), (" +
             mb + ", 1, 2, 3, 'x', 1, 1, NULL), (" + mb + ", 1, 3, 3, 'x', 1, 1, 5)");
    auto m = ok(env.metrics());
    EXPECT_EQ(m.accounts.at(0).quarantine_retrying, 1);
    EXPECT_EQ(m.accounts.at(0).quarantine_given_up, 1);
    EXPECT_EQ(m.messages, 2);
    EXPECT_EQ(m.raw_bytes, 2 * static_cast<std::int64_t>(std::string("raw message").size()));
    ASSERT_EQ(m.accounts.size(), 2U);
    EXPECT_EQ(m.accounts[0].name, "ann");
    EXPECT_EQ(m.accounts[0].state, "idle");
    EXPECT_EQ(m.accounts[0].last_success_at, 77);
    EXPECT_EQ(m.accounts[0].messages_synced, 12);
    EXPECT_EQ(m.accounts[1].name, "team");
    EXPECT_FALSE(m.accounts[1].last_success_at);
    EXPECT_EQ(m.outbox,
              (std::vector<std::pair<std::string, std::int64_t>>{{"cancelled", 1}, {"queued", 2}}));
}

// ---- PostgreSQL only: several workers ----------------------------------------------------------

class PgWorkers : public PgFixture {
  protected:
    pg::Connection& db() { return env_->connection(); }

    // A running worker's row, as crm-maild inserts it.
    std::int64_t worker(int pid) {
        return env()
            .scalar("INSERT INTO workers (host, pid) VALUES ('host', " + std::to_string(pid) +
                    ") RETURNING id")
            .value_or(0);
    }
    // `worker` claims the account's lease as the lease loop does; the trigger sets the epoch.
    std::int64_t claim_lease(std::int64_t worker, AccountId account) {
        return env()
            .scalar("UPDATE account_leases SET worker_id = " + std::to_string(worker) +
                    ", expires_at = now() + interval '75 s' WHERE account_id = " +
                    std::to_string(account) + " RETURNING epoch")
            .value_or(-1);
    }
    std::shared_ptr<pg::LeaseFence> fence(std::int64_t worker) {
        auto f = std::make_shared<pg::LeaseFence>();
        f->set_worker(worker);
        return f;
    }
};

TEST_F(PgWorkers, ConcurrentClaimsNeverTakeTheSameReply) {
    Sender s(env());
    for (int i = 0; i < 40; ++i)
        ok(env().outbox().queue(s.reply("c" + std::to_string(i) + "@crm"), {}, 1));
    // One claim holds its row until it commits: the other connection skips it, without waiting.
    auto other = env().connect();
    // Were the row waited for instead of skipped, this test would fail rather than hang.
    ASSERT_TRUE(other.execute_script("SET lock_timeout = '2s'"));
    pg::PgOutbox mine(db()), theirs(other);
    {
        auto tx = pg::Transaction::begin(db());
        ASSERT_TRUE(tx);
        auto a = ok(mine.claim_due(1));
        auto b = ok(pg::in_transaction(other, [&] { return theirs.claim_due(1); }));
        ASSERT_TRUE(a && b);
        EXPECT_NE(a->id, b->id);
        ASSERT_TRUE(tx->rollback());
    }
    // Two workers claiming as fast as they can, each in its own transactions.
    std::vector<std::int64_t> got[2];
    auto drain = [&](pg::Connection& c, std::vector<std::int64_t>& out) {
        pg::PgOutbox ob(c);
        for (;;) {
            auto r = pg::in_transaction(c, [&] { return ob.claim_due(1); });
            ASSERT_TRUE(r) << r.error().to_string();
            if (!*r)
                return;
            out.push_back((*r)->id);
        }
    };
    auto third = env().connect();
    std::thread t0([&] { drain(other, got[0]); });
    std::thread t1([&] { drain(third, got[1]); });
    t0.join();
    t1.join();
    std::set<std::int64_t> all(got[0].begin(), got[0].end());
    all.insert(got[1].begin(), got[1].end());
    // 40 less the one the other connection committed above; none twice.
    EXPECT_EQ(got[0].size() + got[1].size(), 39U);
    EXPECT_EQ(all.size(), 39U);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM outbox WHERE state = 'sending' AND attempts = 1"),
              40);
}

TEST_F(PgWorkers, OnlyTheLeaseHolderClaimsAndItIsRecorded) {
    Sender s(env());
    auto w1 = worker(101);
    auto epoch = claim_lease(w1, s.account);
    ASSERT_GT(epoch, 0);
    auto r_other = ok(env().outbox().queue(s.reply("o1@crm", s.other), {}, 1));
    auto r_mine = ok(env().outbox().queue(s.reply("m1@crm"), {}, 2));
    // A worker that holds nothing claims nothing.
    auto f = fence(w1);
    pg::PgOutbox fenced(db(), f);
    EXPECT_FALSE(ok(fenced.claim_due(10)));
    f->hold(s.account, epoch);
    auto c = ok(fenced.claim_due(10));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, r_mine); // not the older reply of the account it does not hold
    EXPECT_EQ(
        env().scalar("SELECT sending_worker_id FROM outbox WHERE id = " + std::to_string(r_mine)),
        w1);
    EXPECT_EQ(env().scalar("SELECT sending_epoch FROM outbox WHERE id = " + std::to_string(r_mine)),
              epoch);
    EXPECT_FALSE(ok(fenced.claim_due(10)));
    // Its own claim in this epoch is not interrupted; it marks it sent.
    EXPECT_TRUE(ok(fenced.interrupted(s.account)).empty());
    ok(fenced.mark_data_done(r_mine, 11));
    ok(fenced.set_state(r_mine, "sent", "", std::nullopt, 12));
    // Without a worker (crm-mailctl), any reply: as SQLite.
    auto free = ok(env().outbox().claim_due(10));
    ASSERT_TRUE(free);
    EXPECT_EQ(free->id, r_other);
    EXPECT_FALSE(
        env().scalar("SELECT sending_worker_id FROM outbox WHERE id = " + std::to_string(r_other)));
    auto lost = fenced.interrupted(s.other);
    ASSERT_FALSE(lost);
    EXPECT_EQ(lost.error().code, "lease.lost");
}

TEST_F(PgWorkers, ALostLeaseRefusesTheOldHolderAndTheNewOneFindsItsReplies) {
    Sender s(env());
    auto w1 = worker(201), w2 = worker(202);
    auto e1 = claim_lease(w1, s.account);
    auto f1 = fence(w1);
    f1->hold(s.account, e1);
    pg::PgOutbox old_holder(db(), f1);
    auto first = ok(env().outbox().queue(s.reply("l1@crm"), {}, 1));
    auto second = ok(env().outbox().queue(s.reply("l2@crm"), {}, 1));
    auto third = ok(env().outbox().queue(s.reply("l3@crm"), {}, 1));
    ASSERT_EQ(ok(old_holder.claim_due(5))->id, first);
    ok(old_holder.mark_data_done(first, 6));
    ASSERT_EQ(ok(old_holder.claim_due(5))->id, second);

    // Worker 2 takes the lease (w1 paused past its expiry): a new epoch.
    env().exec("UPDATE account_leases SET expires_at = now() - interval '1 s' WHERE account_id = " +
               std::to_string(s.account));
    auto e2 = claim_lease(w2, s.account);
    EXPECT_EQ(e2, e1 + 1);

    // The old holder's late writes are refused, not applied.
    auto sent = old_holder.set_state(first, "sent", "", std::nullopt, 7);
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, "lease.lost");
    EXPECT_EQ(env().text("SELECT state FROM outbox WHERE id = " + std::to_string(first)),
              "sending");
    auto done = old_holder.mark_data_done(second, 7);
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, "lease.lost");
    EXPECT_FALSE(
        env().scalar("SELECT data_done_at FROM outbox WHERE id = " + std::to_string(second)));
    // And it claims nothing more: its epoch is not the database's.
    EXPECT_FALSE(ok(old_holder.claim_due(8)));

    // The new holder finds both replies left 'sending' and settles them as after a crash.
    auto f2 = fence(w2);
    f2->hold(s.account, e2);
    pg::PgOutbox holder(db(), f2);
    auto left = ok(holder.interrupted(s.account));
    ASSERT_EQ(left.size(), 2U);
    EXPECT_EQ(left[0].id, first);
    EXPECT_EQ(left[0].data_done_at, 6); // maybe delivered: the Sent probe decides
    EXPECT_EQ(left[1].id, second);
    EXPECT_FALSE(left[1].data_done_at); // nothing delivered: queued again
    auto mine = ok(holder.claim_due(9));
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->id, third);
    EXPECT_EQ(ok(holder.interrupted(s.account)).size(), 2U); // its own claim is not interrupted
    ok(holder.set_state(second, "queued", "interrupted", std::nullopt, 10));
    ok(holder.set_state(first, "unknown", "interrupted after the end of DATA", std::nullopt, 10));
    EXPECT_TRUE(ok(holder.interrupted(s.account)).empty());
    EXPECT_EQ(ok(holder.claim_due(11))->id, second);
    // A claim whose worker row is gone (deleted as dead: ON DELETE SET NULL) is interrupted too.
    env().exec("UPDATE outbox SET sending_worker_id = NULL WHERE id = " + std::to_string(third));
    auto orphan = ok(holder.interrupted(s.account));
    ASSERT_EQ(orphan.size(), 1U);
    EXPECT_EQ(orphan[0].id, third);
}

TEST_F(PgWorkers, TextPostgreSqlCannotHoldIsRefusedWhole) {
    Sender s(env());
    auto row = s.reply("t1@crm");
    row.subject = std::string("Re: \0Quote", 10);
    auto nul = env().outbox().queue(row, {}, 1);
    ASSERT_FALSE(nul);
    EXPECT_EQ(nul.error().code, "pg.text");
    EXPECT_NE(nul.error().detail.find("the subject contains a NUL byte"), std::string::npos)
        << nul.error().detail;
    row = s.reply("t2@crm");
    row.text_body = "caf\xe9"; // Latin-1, not UTF-8
    row.attachments = {{"a.bin", "application/octet-stream", "sha-t2"}};
    auto latin1 = env().outbox().queue(row, {"bytes"}, 1);
    ASSERT_FALSE(latin1);
    EXPECT_EQ(latin1.error().code, "pg.text");
    EXPECT_NE(latin1.error().detail.find("the text body is not valid UTF-8"), std::string::npos);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM outbox"), 0);
    EXPECT_EQ(env().scalar("SELECT count(*) FROM blobs WHERE sha256 = 'sha-t2'"), 0);
    auto token = env().logins().create_token(s.user, std::string("a\0b", 3), "h", 1);
    ASSERT_FALSE(token);
    EXPECT_EQ(token.error().code, "pg.text");
}

} // namespace
} // namespace crm::backends::test
