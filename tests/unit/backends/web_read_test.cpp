// The read model, logins and read marks: the same scenarios on SQLite and PostgreSQL.
#include <algorithm>

#include <gtest/gtest.h>

#include "web_env.hpp"

namespace crm::backends::test {
namespace {

std::vector<DealId> deal_ids(const std::vector<WebDeal>& ds) {
    std::vector<DealId> out;
    for (const auto& d : ds)
        out.push_back(d.id);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<MessageRowId> view_ids(const std::vector<MessageView>& ms) {
    std::vector<MessageRowId> out;
    for (const auto& m : ms)
        out.push_back(m.id);
    return out;
}

// Two salespeople whose mail meets in one thread, an admin, and a deal of each.
//   t_meet (unsorted): m_ann via Ann's account, m_bob via Bob's account
//   t_ann_deal (linked to Ann's private deal): m_bob2 via Bob's account only
//   t_bob (unsorted): m_bob3 via Bob's account only
//   t_file (unsorted): an imported file owned by Ann
struct World {
    UserId ann = 0, bob = 0, admin = 0;
    DealId ann_deal = 0, bob_deal = 0, shared_deal = 0;
    AccountId ann_acc = 0, bob_acc = 0;
    std::int64_t ann_inbox = 0, bob_inbox = 0;
    ThreadId t_meet = 0, t_ann_deal = 0, t_bob = 0, t_file = 0;
    MessageRowId m_ann = 0, m_bob = 0, m_bob2 = 0, m_bob3 = 0, m_file = 0;
    std::int64_t loc_ann = 0, loc_bob = 0;

    explicit World(WebEnv& env) {
        Seed s(env);
        ann = s.user("Ann", "Ann@Example.com", "salesperson");
        bob = s.user("Bob", "bob@example.com", "salesperson");
        admin = s.user("Ada", "ada@example.com", "admin");
        s.user_address(ann, "ann@example.com");
        s.user_address(ann, "ann.alias@example.com");
        auto acme = s.company("Acme");
        ann_deal = s.deal("Ann's deal", ann, false, acme);
        bob_deal = s.deal("Bob's deal", bob);
        shared_deal = s.deal("Shared deal", admin, true);
        ann_acc = s.account("ann", "ann@example.com", ann);
        bob_acc = s.account("bob", "Bob@Example.com", bob);
        ann_inbox = s.mailbox(ann_acc, "INBOX");
        bob_inbox = s.mailbox(bob_acc, "INBOX");

        t_meet = s.thread("Pricing");
        m_ann = s.message(t_meet, "a1@x", "Pricing for Ann", "Carol", "carol@client.example", 100,
                          1000);
        m_bob = s.message(t_meet, "b1@x", "Re: Pricing for Bob", "Dave", "dave@client.example", 200,
                          1001);
        s.participant(m_ann, "from", 0, "carol@client.example", "Carol");
        s.participant(m_ann, "to", 0, "ann@example.com", "Ann");
        s.participant(m_bob, "from", 0, "dave@client.example", "Dave");
        s.participant(m_bob, "to", 0, "bob@example.com");
        loc_ann = s.location(m_ann, ann_acc, ann_inbox, 1);
        loc_bob = s.location(m_bob, bob_acc, bob_inbox, 1);
        s.unsort(t_meet,
                 "candidates: deals " + std::to_string(ann_deal) + ", " + std::to_string(bob_deal),
                 std::to_string(ann_deal) + " " + std::to_string(bob_deal));
        s.recount(t_meet);

        t_ann_deal = s.thread("Contract");
        m_bob2 =
            s.message(t_ann_deal, "b2@x", "Contract", "Erin", "erin@client.example", 300, 1002);
        s.participant(m_bob2, "from", 0, "erin@client.example");
        s.location(m_bob2, bob_acc, bob_inbox, 2);
        s.link(t_ann_deal, ann_deal,
               "contact erin@client.example of deal " + std::to_string(ann_deal));
        s.recount(t_ann_deal);

        t_bob = s.thread("Bob only");
        m_bob3 =
            s.message(t_bob, "b3@x", "Bob only", "Fay", "fay@client.example", std::nullopt, 1500);
        s.location(m_bob3, bob_acc, bob_inbox, 3);
        s.unsort(t_bob, "no match");
        s.recount(t_bob);

        t_file = s.thread("Imported");
        m_file = s.message(t_file, "f1@x", "Imported", "Gus", "gus@client.example", 50, 900);
        s.file_location(m_file, ann, "/tmp/mail.mbox#1");
        s.unsort(t_file, "no match");
        s.recount(t_file);
    }
    [[nodiscard]] Viewer as_ann() const { return {ann, false}; }
    [[nodiscard]] Viewer as_bob() const { return {bob, false}; }
    [[nodiscard]] Viewer as_admin() const { return {admin, true}; }
};

TYPED_TEST_SUITE(Web, Kinds, KindNames);

TYPED_TEST(Web, DealsAreThoseOwnedOrShared) {
    World w(this->env());
    auto& r = this->env().reads();
    EXPECT_EQ(deal_ids(ok(r.deals(w.as_ann()))), (std::vector<DealId>{w.ann_deal, w.shared_deal}));
    EXPECT_EQ(deal_ids(ok(r.deals(w.as_bob()))), (std::vector<DealId>{w.bob_deal, w.shared_deal}));
    EXPECT_EQ(deal_ids(ok(r.deals(w.as_admin()))),
              (std::vector<DealId>{w.ann_deal, w.bob_deal, w.shared_deal}));
    EXPECT_FALSE(ok(r.deal(w.as_bob(), w.ann_deal)));
    auto d = ok(r.deal(w.as_ann(), w.ann_deal));
    ASSERT_TRUE(d);
    EXPECT_EQ(d->name, "Ann's deal");
    EXPECT_EQ(d->owner_name, "Ann");
    EXPECT_EQ(d->company_name, "Acme");
    EXPECT_FALSE(d->shared);
    EXPECT_EQ(d->threads, 1); // deal_stats, kept by the triggers
    EXPECT_EQ(d->messages, 1);
    EXPECT_EQ(d->unread, 0) << "m_bob2 came through Bob's mailbox: unread for Bob, not Ann";
    EXPECT_EQ(ok(r.deal(Viewer{0, true}, w.ann_deal))->unread, 1) << "the operator: for anyone";
    EXPECT_EQ(d->last_date, 300);
    // Open deals first, the most recent first, deals without mail last.
    auto all = ok(r.deals(w.as_admin()));
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].id, w.ann_deal);
    EXPECT_EQ(all[1].id, w.bob_deal);
    EXPECT_FALSE(all[1].last_date);
    auto names = ok(r.deal_names(w.as_ann(), {w.shared_deal, w.bob_deal, w.ann_deal}));
    ASSERT_EQ(names.size(), 2U);
    EXPECT_EQ(names[0], (std::pair<DealId, std::string>{w.shared_deal, "Shared deal"}));
    EXPECT_EQ(names[1].first, w.ann_deal);
    EXPECT_TRUE(ok(r.deal_names(w.as_ann(), {})).empty());
}

TYPED_TEST(Web, MailThatMeetsInOneThreadShowsEachOnlyTheirOwn) {
    World w(this->env());
    auto& r = this->env().reads();
    for (const auto& v : {w.as_ann(), w.as_bob(), w.as_admin()})
        EXPECT_TRUE(ok(r.thread_visible(v, w.t_meet)));
    EXPECT_EQ(ok(r.visible_messages(w.as_ann(), w.t_meet)), std::vector<MessageRowId>{w.m_ann});
    EXPECT_EQ(ok(r.visible_messages(w.as_bob(), w.t_meet)), std::vector<MessageRowId>{w.m_bob});
    EXPECT_EQ(ok(r.visible_messages(w.as_admin(), w.t_meet)),
              (std::vector<MessageRowId>{w.m_ann, w.m_bob}));
    EXPECT_EQ(view_ids(ok(r.thread_messages(w.as_bob(), w.t_meet))),
              std::vector<MessageRowId>{w.m_bob});

    auto ann = ok(r.thread(w.as_ann(), w.t_meet));
    ASSERT_TRUE(ann);
    EXPECT_EQ(ann->message_count, 1);
    EXPECT_EQ(ann->unread_count, 1);
    EXPECT_EQ(ann->subject, "Pricing for Ann");
    EXPECT_EQ(ann->first_date, 100);
    EXPECT_EQ(ann->last_date, 100);
    EXPECT_EQ(ann->participants, std::vector<std::string>{"carol@client.example"});
    // Bob's deal is not named to Ann.
    EXPECT_EQ(ann->reason, "candidates: deals " + std::to_string(w.ann_deal) + ", another deal");
    EXPECT_EQ(ann->suggestions, (std::vector<DealId>{w.ann_deal, w.bob_deal}));

    auto bob = ok(r.thread(w.as_bob(), w.t_meet));
    ASSERT_TRUE(bob);
    EXPECT_EQ(bob->subject, "Re: Pricing for Bob");
    EXPECT_EQ(bob->participants, std::vector<std::string>{"dave@client.example"});
    EXPECT_EQ(bob->reason, "candidates: deals another deal, " + std::to_string(w.bob_deal));

    auto all = ok(r.thread(w.as_admin(), w.t_meet));
    ASSERT_TRUE(all);
    EXPECT_EQ(all->message_count, 2);
    EXPECT_EQ(all->subject, "Pricing");
    EXPECT_EQ(all->participants,
              (std::vector<std::string>{"carol@client.example", "dave@client.example"}));

    EXPECT_FALSE(ok(r.message_thread(w.as_ann(), w.m_bob)));
    EXPECT_EQ(ok(r.message_thread(w.as_bob(), w.m_bob)), w.t_meet);
    EXPECT_FALSE(ok(r.message_thread(w.as_ann(), 999999)));
}

TYPED_TEST(Web, ALinkedThreadShowsTheDealOwnerAllAndOthersTheirOwnWithoutTheDeal) {
    World w(this->env());
    auto& r = this->env().reads();
    // Ann sees Bob's message through her deal.
    EXPECT_EQ(ok(r.visible_messages(w.as_ann(), w.t_ann_deal)),
              std::vector<MessageRowId>{w.m_bob2});
    auto ann = ok(r.deal_threads(w.as_ann(), w.ann_deal, std::nullopt, 500)).threads;
    ASSERT_EQ(ann.size(), 1U);
    EXPECT_EQ(ann[0].deal, w.ann_deal);
    EXPECT_EQ(ann[0].deal_name, "Ann's deal");
    EXPECT_EQ(ann[0].reason, "contact erin@client.example of deal " + std::to_string(w.ann_deal));
    // Bob sees his own message, but not Ann's private deal.
    auto bob = ok(r.thread(w.as_bob(), w.t_ann_deal));
    ASSERT_TRUE(bob);
    EXPECT_FALSE(bob->deal);
    EXPECT_EQ(bob->deal_name, "");
    EXPECT_EQ(bob->reason, "linked to another salesperson's deal");
    EXPECT_EQ(bob->message_count, 1);
    // Listed under Ann's deal, Bob still sees only his own message and no deal.
    auto listed = ok(r.deal_threads(w.as_bob(), w.ann_deal, std::nullopt, 500)).threads;
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_FALSE(listed[0].deal);
    EXPECT_EQ(listed[0].reason, "linked to another salesperson's deal");
    EXPECT_EQ(listed[0].participants, std::vector<std::string>{"erin@client.example"});
    // Nobody else sees the imported file Ann owns, or Bob's own thread.
    EXPECT_FALSE(ok(r.thread_visible(w.as_bob(), w.t_file)));
    EXPECT_TRUE(ok(r.thread_visible(w.as_ann(), w.t_file)));
    EXPECT_FALSE(ok(r.thread_visible(w.as_ann(), w.t_bob)));
    EXPECT_FALSE(ok(r.thread(w.as_ann(), w.t_bob)));
    EXPECT_TRUE(ok(r.visible_messages(w.as_ann(), w.t_bob)).empty());
    EXPECT_TRUE(ok(r.thread_messages(w.as_ann(), w.t_bob)).empty());
}

TYPED_TEST(Web, UnsortedListsWhatTheViewerSeesNewestFirstNullDatesLast) {
    World w(this->env());
    auto& r = this->env().reads();
    auto ids = [](const std::vector<ThreadSummary>& ts) {
        std::vector<ThreadId> out;
        for (const auto& t : ts)
            out.push_back(t.id);
        return out;
    };
    auto ann = ok(r.unsorted(w.as_ann(), std::nullopt, 500)).threads;
    EXPECT_EQ(ids(ann), (std::vector<ThreadId>{w.t_meet, w.t_file}));
    // Each projected to Ann's own messages, in one list.
    ASSERT_EQ(ann.size(), 2U);
    EXPECT_EQ(ann[0].message_count, 1);
    EXPECT_EQ(ann[0].subject, "Pricing for Ann");
    EXPECT_EQ(ann[0].last_date, 100);
    EXPECT_EQ(ann[1].message_count, 1);
    EXPECT_EQ(ann[1].participants, std::vector<std::string>{});
    auto admin = ok(r.unsorted(w.as_admin(), std::nullopt, 500)).threads;
    ASSERT_EQ(admin.size(), 3U);
    EXPECT_EQ(ids(admin), (std::vector<ThreadId>{w.t_bob, w.t_meet, w.t_file}));
    EXPECT_EQ(admin[1].participants,
              (std::vector<std::string>{"carol@client.example", "dave@client.example"}));
    EXPECT_EQ(admin[1].message_count, 2);
    EXPECT_EQ(ids(ok(r.unsorted(w.as_bob(), std::nullopt, 500)).threads),
              (std::vector<ThreadId>{w.t_bob, w.t_meet}));
    // A thread without dates sorts last (NULL is last in SQLite's DESC).
    this->env().exec("UPDATE threads SET last_date = NULL, first_date = NULL WHERE id = " +
                     std::to_string(w.t_bob));
    EXPECT_EQ(ids(ok(r.unsorted(w.as_admin(), std::nullopt, 500)).threads),
              (std::vector<ThreadId>{w.t_meet, w.t_file, w.t_bob}));
    EXPECT_TRUE(ok(r.deal_threads(w.as_bob(), w.bob_deal, std::nullopt, 500)).threads.empty());
}

// Thread lists come a page at a time (issue 19): each page starts after the last thread of the
// one before (its own date and id, a thread without a date last), and every page carries the
// count of the whole list as the viewer sees it.
TYPED_TEST(Web, ThreadListsArePagedWithTrueCounts) {
    World w(this->env());
    auto& r = this->env().reads();
    Seed s(this->env());
    // 7 more unsorted threads in Bob's mailbox: two share a date, one has none.
    const auto bob_acc = this->env().scalar("SELECT id FROM accounts WHERE name = 'bob'").value();
    const auto bob_inbox =
        this->env()
            .scalar("SELECT id FROM mailboxes WHERE account_id = " + std::to_string(bob_acc))
            .value();
    for (int i = 0; i < 7; ++i) {
        auto t = s.thread("Page " + std::to_string(i));
        const std::optional<std::int64_t> date =
            i == 6 ? std::nullopt : std::optional<std::int64_t>(i == 5 ? 2004 : 2000 + i);
        auto m = s.message(t, "page" + std::to_string(i) + "@x", "Page", "Pat",
                           "pat@client.example", date, 3000 + i);
        s.location(m, bob_acc, bob_inbox, 100 + i);
        s.unsort(t, "no match");
        s.recount(t);
        if (!date)
            this->env().exec("UPDATE threads SET last_date = NULL, first_date = NULL WHERE id = " +
                             std::to_string(t));
    }
    auto walk = [&](const Viewer& v, std::size_t limit) {
        std::vector<ThreadId> all;
        std::optional<ThreadKey> after;
        int pages = 0;
        std::int64_t total = -1;
        do {
            auto page = ok(r.unsorted(v, after, limit));
            EXPECT_LE(page.threads.size(), limit);
            if (total >= 0) {
                EXPECT_EQ(page.total, total) << "the count is the same on every page";
            }
            total = page.total;
            for (const auto& t : page.threads)
                all.push_back(t.id);
            after = page.next;
        } while (after && ++pages < 50);
        EXPECT_EQ(static_cast<std::int64_t>(all.size()), total);
        return all;
    };
    const auto whole = ok(r.unsorted(w.as_admin(), std::nullopt, 500)).threads;
    std::vector<ThreadId> expected;
    for (const auto& t : whole)
        expected.push_back(t.id);
    ASSERT_EQ(expected.size(), 10U); // 3 of the world, 7 here
    for (std::size_t limit : {1U, 2U, 3U, 4U, 9U, 10U, 11U})
        EXPECT_EQ(walk(w.as_admin(), limit), expected) << "pages of " << limit;
    // Bob's 9 (t_bob, t_meet and the 7), Ann's 2: the counts are each viewer's own.
    EXPECT_EQ(walk(w.as_bob(), 2).size(), 9U);
    EXPECT_EQ(ok(r.unsorted(w.as_ann(), std::nullopt, 1)).total, 2);
    EXPECT_FALSE(ok(r.unsorted(w.as_ann(), std::nullopt, 2)).next);
    EXPECT_TRUE(ok(r.unsorted(w.as_ann(), std::nullopt, 1)).next);
    // A deal's threads page the same way.
    const auto deal_page = ok(r.deal_threads(w.as_ann(), w.ann_deal, std::nullopt, 1));
    EXPECT_EQ(deal_page.total, 1);
    EXPECT_EQ(deal_page.threads.size(), 1U);
    EXPECT_FALSE(deal_page.next);
}

// The deal list a page at a time (issue 19), in deals()'s order: open deals first, then by last
// activity (deals without mail last), then by id; the count is of all the viewer's deals.
TYPED_TEST(Web, TheDealListIsPagedInItsOrderWithTrueCounts) {
    World w(this->env());
    auto& r = this->env().reads();
    Seed s(this->env());
    // More deals: two closed, two sharing a last date, some without mail.
    for (int i = 0; i < 6; ++i) {
        auto d = s.deal("Paged deal " + std::to_string(i), i % 2 ? w.bob : w.ann, i >= 3);
        if (i == 1 || i == 4)
            this->env().exec("UPDATE deals SET status = 'won' WHERE id = " + std::to_string(d));
        if (i < 4) {
            auto t = s.thread("Paged deal thread " + std::to_string(i));
            s.message(t, "pd" + std::to_string(i) + "@x", "Paged", "Pat", "pat@client.example",
                      i == 2 ? 7001 : 7000 + i, 7000);
            s.link(t, d, "single open deal");
            s.recount(t);
        }
    }
    for (const Viewer& v : {w.as_ann(), w.as_bob(), w.as_admin()}) {
        std::vector<DealId> expected;
        for (const auto& d : ok(r.deals(v)))
            expected.push_back(d.id);
        for (std::size_t limit : {1U, 2U, 3U, 5U, 20U}) {
            std::vector<DealId> got;
            std::optional<DealKey> after;
            int pages = 0;
            do {
                auto page = ok(r.deal_page(v, after, limit));
                EXPECT_EQ(page.total, static_cast<std::int64_t>(expected.size()));
                EXPECT_LE(page.deals.size(), limit);
                for (const auto& d : page.deals)
                    got.push_back(d.id);
                after = page.next;
            } while (after && ++pages < 30);
            EXPECT_EQ(got, expected) << "pages of " << limit << " for user " << v.user;
        }
    }
    EXPECT_GE(ok(r.deal_page(w.as_admin(), std::nullopt, 1)).total, 9);
}

// A deal's threads are read in date order from thread_deals' own copy of each thread's date
// (schema 0018 / PostgreSQL 0010), which triggers keep whichever comes first, the link or the
// thread's mail, and however the thread's date moves later.
TYPED_TEST(Web, ADealsThreadsPageInDateOrderWhateverTheWriteOrder) {
    World w(this->env());
    auto& r = this->env().reads();
    Seed s(this->env());
    struct Made {
        ThreadId id;
        std::optional<std::int64_t> date;
    };
    std::vector<Made> made;
    for (int i = 0; i < 7; ++i) {
        auto t = s.thread("Deal page " + std::to_string(i));
        // Two share a date, one has none.
        const std::optional<std::int64_t> date =
            i == 6 ? std::nullopt : std::optional<std::int64_t>(i == 5 ? 5004 : 5000 + i);
        if (i % 2 == 0)
            s.link(t, w.shared_deal, "linked first");
        s.message(t, "dealpage" + std::to_string(i) + "@x", "Deal page", "Pat",
                  "pat@client.example", date, 6000 + i);
        s.recount(t);
        if (!date)
            this->env().exec("UPDATE threads SET last_date = NULL, first_date = NULL WHERE id = " +
                             std::to_string(t));
        if (i % 2 == 1)
            s.link(t, w.shared_deal, "linked after its mail");
        made.push_back({t, date});
    }
    // The oldest thread gets the newest message: it moves to the front.
    s.message(made[0].id, "dealpage-late@x", "Re: Deal page", "Pat", "pat@client.example", 9000,
              9000);
    s.recount(made[0].id);
    made[0].date = 9000;
    std::sort(made.begin(), made.end(), [](const Made& a, const Made& b) {
        if (a.date.has_value() != b.date.has_value())
            return a.date.has_value(); // without a date: last
        if (a.date != b.date)
            return *a.date > *b.date;
        return a.id > b.id;
    });
    std::vector<ThreadId> expected;
    for (const auto& m : made)
        expected.push_back(m.id);
    for (const Viewer& v : {w.as_bob(), w.as_admin()}) {
        for (std::size_t limit : {1U, 2U, 3U, 6U, 7U, 8U}) {
            std::vector<ThreadId> got;
            std::optional<ThreadKey> after;
            int pages = 0;
            do {
                auto page = ok(r.deal_threads(v, w.shared_deal, after, limit));
                EXPECT_EQ(page.total, 7) << "the deal's whole count on every page";
                EXPECT_LE(page.threads.size(), limit);
                for (const auto& t : page.threads)
                    got.push_back(t.id);
                after = page.next;
            } while (after && ++pages < 20);
            EXPECT_EQ(got, expected) << "pages of " << limit << " for user " << v.user;
        }
    }
    // A sort_date written by hand is put back to the thread's date.
    this->env().exec("UPDATE thread_deals SET sort_date = 1 WHERE thread_id = " +
                     std::to_string(expected[0]));
    EXPECT_EQ(ok(r.deal_threads(w.as_bob(), w.shared_deal, std::nullopt, 1)).threads.at(0).id,
              expected[0]);
    // Unlinked: gone from the deal's pages and its count.
    this->env().exec("DELETE FROM thread_deals WHERE thread_id = " + std::to_string(expected[0]));
    auto first = ok(r.deal_threads(w.as_bob(), w.shared_deal, std::nullopt, 10));
    EXPECT_EQ(first.total, 6);
    ASSERT_EQ(first.threads.size(), 6U);
    EXPECT_EQ(first.threads.front().id, expected[1]);
}

TYPED_TEST(Web, ThreadPagesWalkBackFromTheNewestVisible) {
    World w(this->env());
    Seed s(this->env());
    auto t = s.thread("Long");
    std::vector<MessageRowId> ann;
    MessageRowId bobs = 0;
    for (int i = 0; i < 6; ++i) {
        auto m = Seed::msg(t, "long" + std::to_string(i) + "@x", "Long", "Carol",
                           "carol@client.example", 1000 + i, 2000);
        // Dates out of id order: reading order is by date.
        m.date = 1000 + (i * 5) % 6;
        auto id = s.message(m);
        if (i == 3) {
            s.location(id, w.bob_acc, w.bob_inbox, 100 + i);
            bobs = id;
        } else {
            s.location(id, w.ann_acc, w.ann_inbox, 100 + i);
            ann.push_back(id);
        }
    }
    s.recount(t);
    auto& r = this->env().reads();
    auto order = ok(r.visible_messages(w.as_ann(), t));
    ASSERT_EQ(order.size(), 5U);
    auto all = view_ids(ok(r.thread_messages(w.as_ann(), t)));
    ASSERT_EQ(all.size(), 5U);
    EXPECT_EQ(std::count(all.begin(), all.end(), bobs), 0);

    auto last = ok(r.thread_page(w.as_ann(), t, 0, 2));
    ASSERT_TRUE(last);
    EXPECT_EQ(last->older, 3U);
    EXPECT_EQ(view_ids(last->messages), (std::vector<MessageRowId>{all[3], all[4]}));
    auto before = ok(r.thread_page(w.as_ann(), t, all[3], 2));
    ASSERT_TRUE(before);
    EXPECT_EQ(before->older, 1U);
    EXPECT_EQ(view_ids(before->messages), (std::vector<MessageRowId>{all[1], all[2]}));
    auto first = ok(r.thread_page(w.as_ann(), t, all[1], 10));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->older, 0U);
    EXPECT_EQ(view_ids(first->messages), std::vector<MessageRowId>{all[0]});
    // Bob's message is no page boundary for Ann, nor is another thread's.
    EXPECT_FALSE(ok(r.thread_page(w.as_ann(), t, bobs, 2)));
    EXPECT_FALSE(ok(r.thread_page(w.as_ann(), t, w.m_ann, 2)));
    auto admin = ok(r.thread_page(w.as_admin(), t, 0, 100));
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->messages.size(), 6U);
}

// Gmail labels are a salesperson's own filing: in a thread two salespeople see (a shared deal),
// each sees the labels of the message in their own mailbox only; an admin sees all of them.
TYPED_TEST(Web, GmailLabelsShowOnlyTheViewersOwnFiling) {
    World w(this->env());
    Seed s(this->env());
    auto t = s.thread("Renewal");
    auto id = s.message(t, "labels@x", "Renewal", "Carol", "carol@client.example", 1000, 2000);
    auto ann_loc = s.location(id, w.ann_acc, w.ann_inbox, 40);
    auto bob_loc = s.location(id, w.bob_acc, w.bob_inbox, 41);
    s.link(t, w.shared_deal, "test");
    s.recount(t);
    this->env().exec("UPDATE locations SET labels = '[\"\\\\Inbox\",\"Deals/Acme\"]' WHERE id = " +
                     std::to_string(ann_loc));
    this->env().exec("UPDATE locations SET labels = '[\"Bob/Private\"]' WHERE id = " +
                     std::to_string(bob_loc));
    auto& r = this->env().reads();
    auto labels_for = [&](const Viewer& v) {
        auto page = ok(r.thread_page(v, t, 0, 10));
        EXPECT_TRUE(page);
        return page && page->messages.size() == 1 ? page->messages[0].labels
                                                  : std::vector<std::string>{"?"};
    };
    EXPECT_EQ(labels_for(w.as_ann()), (std::vector<std::string>{"Deals/Acme", "\\Inbox"}));
    EXPECT_EQ(labels_for(w.as_bob()), (std::vector<std::string>{"Bob/Private"}));
    EXPECT_EQ(labels_for(w.as_admin()),
              (std::vector<std::string>{"Bob/Private", "Deals/Acme", "\\Inbox"}));
    auto all = ok(r.thread_messages(w.as_bob(), t));
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].labels, (std::vector<std::string>{"Bob/Private"}));
}

TYPED_TEST(Web, MessagesCarryRecipientsAttachmentsAndWarnings) {
    World w(this->env());
    Seed s(this->env());
    auto t = s.thread("Rich");
    auto m = Seed::msg(t, "rich@x", "Rich", "Carol", "carol@client.example", 10, 20);
    m.html_body = "<p>hi</p>";
    m.warnings_json = R"(["bad \"charset\"","line\nbreak"])";
    m.unread = false;
    auto id = s.message(m);
    s.location(id, w.ann_acc, w.ann_inbox, 50);
    s.participant(id, "from", 0, "carol@client.example", "Carol");
    s.participant(id, "to", 0, "ann@example.com", "Ann");
    s.participant(id, "to", 1, "bob@example.com");
    s.participant(id, "cc", 0, "cc@client.example", "Cee");
    s.participant(id, "reply-to", 0, "replies@client.example", "Replies");
    s.attachment(id, 1, "b.png", "", "shab", 5);
    s.attachment(id, 0, "a.png", "img1@x", "shaa", 3);
    auto views = ok(this->env().reads().thread_messages(w.as_ann(), t));
    ASSERT_EQ(views.size(), 1U);
    const auto& v = views[0];
    EXPECT_EQ(v.message_id, "rich@x");
    EXPECT_EQ(v.date, 10);
    EXPECT_EQ(v.received_at, 20);
    EXPECT_EQ(v.from_name, "Carol");
    EXPECT_EQ(v.html_body, "<p>hi</p>");
    EXPECT_FALSE(v.unread);
    EXPECT_FALSE(v.outgoing);
    EXPECT_EQ(v.content_hash, "hash-rich@x");
    EXPECT_EQ(v.to, (std::vector<std::string>{"Ann <ann@example.com>", "bob@example.com"}));
    EXPECT_EQ(v.cc, std::vector<std::string>{"Cee <cc@client.example>"});
    EXPECT_EQ(v.reply_to, std::vector<std::string>{"replies@client.example"});
    EXPECT_EQ(v.warnings, (std::vector<std::string>{"bad \"charset\"", "line\nbreak"}));
    ASSERT_EQ(v.attachments.size(), 2U);
    EXPECT_EQ(v.attachments[0].filename, "a.png");
    EXPECT_EQ(v.attachments[0].content_id, "img1@x");
    EXPECT_TRUE(v.attachments[0].is_inline);
    EXPECT_EQ(v.attachments[1].position, 1);
    EXPECT_EQ(v.attachments[1].size, 5);

    auto& r = this->env().reads();
    EXPECT_EQ(ok(r.attachment_by_cid(id, "img1@x")), 0);
    EXPECT_FALSE(ok(r.attachment_by_cid(id, "nope@x")));
    EXPECT_FALSE(ok(r.attachment_by_cid(id, std::string("bad\xff", 4))));
    auto html = ok(r.message_html(id));
    EXPECT_EQ(html.html, "<p>hi</p>");
    EXPECT_EQ(html.content_hash, "hash-rich@x");
    EXPECT_EQ(ok(r.message_html(999999)).html, "");
    // Bytes in the raw message (schema 0009 on): the whole raw message comes back.
    auto a = ok(r.attachment(id, 0));
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->in_raw_message);
    EXPECT_EQ(a->bytes, "raw message");
    EXPECT_EQ(a->sha256, "shaa");
    // A copy in blobs (stored before 0009) is served from there.
    this->env().insert_blob("shab", std::string("\x89PNG\0", 5));
    auto b = ok(r.attachment(id, 1));
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->in_raw_message);
    EXPECT_EQ(b->bytes, std::string("\x89PNG\0", 5));
    EXPECT_FALSE(ok(r.attachment(id, 7)));
}

TYPED_TEST(Web, SendersAndAccounts) {
    World w(this->env());
    auto& r = this->env().reads();
    auto mine = ok(r.sender_accounts(w.ann));
    ASSERT_EQ(mine.size(), 1U);
    EXPECT_EQ(mine[0].name, "ann");
    this->env().exec("UPDATE accounts SET enabled = 0 WHERE id = " + std::to_string(w.ann_acc));
    EXPECT_TRUE(ok(r.sender_accounts(w.ann)).empty());
    auto accs = ok(r.accounts());
    ASSERT_EQ(accs.size(), 2U);
    EXPECT_EQ(accs[0].name, "ann");
    EXPECT_FALSE(accs[0].enabled);
    EXPECT_EQ(accs[0].mailboxes, 1);
    EXPECT_EQ(accs[0].owner, w.ann);
    EXPECT_EQ(accs[0].state, HealthState::New);
    EXPECT_EQ(accs[1].imap_host, "imap.example");
    EXPECT_FALSE(accs[1].last_success_at);
}

TYPED_TEST(Web, LoginsSessionsAndTokens) {
    World w(this->env());
    auto& l = this->env().logins();
    EXPECT_FALSE(ok(l.login_by_email("nobody@example.com")));
    auto by_mail = ok(l.login_by_email("ann@EXAMPLE.com"));
    ASSERT_TRUE(by_mail);
    EXPECT_EQ(by_mail->user.id, w.ann);
    EXPECT_EQ(by_mail->password_hash, "");
    auto by_alias = ok(l.login_by_email("Ann.Alias@example.com"));
    ASSERT_TRUE(by_alias);
    EXPECT_EQ(by_alias->user.id, w.ann);
    EXPECT_FALSE(ok(l.login_by_email(std::string("ann\xff@example.com"))));
    ok(l.set_password_hash(w.ann, "$argon2id$x", 5));
    ok(l.set_password_hash(w.ann, "$argon2id$y", 6));
    EXPECT_EQ(ok(l.login_by_email("ann@example.com"))->password_hash, "$argon2id$y");
    auto missing = l.set_password_hash(999999, "h", 5);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "user.not_found");
    auto admin = ok(l.user(w.admin));
    ASSERT_TRUE(admin);
    EXPECT_EQ(admin->role, Role::Admin);
    EXPECT_FALSE(ok(l.user(999999)));

    // Sessions: valid until expires_at, sliding last_seen_at at most once a minute.
    ok(l.create_session("s1", w.ann, 1000, 2000, "192.0.2.1", "Firefox"));
    ok(l.create_session("s2", w.ann, 1000, 5000, "192.0.2.1", std::string("Bad\xff\xfeUA\0x", 9)));
    ok(l.create_session("s3", w.bob, 1000, 5000, "192.0.2.2", "Chrome"));
    EXPECT_EQ(ok(l.session_user("s1", 1030))->id, w.ann);
    EXPECT_EQ(this->env().scalar("SELECT last_seen_at FROM sessions WHERE token_hash = 's1'"),
              1000);
    EXPECT_EQ(ok(l.session_user("s1", 1100))->id, w.ann);
    EXPECT_EQ(this->env().scalar("SELECT last_seen_at FROM sessions WHERE token_hash = 's1'"),
              1100);
    EXPECT_FALSE(ok(l.session_user("s1", 2000)));
    EXPECT_EQ(this->env().scalar("SELECT count(*) FROM sessions WHERE token_hash = 's1'"), 0);
    EXPECT_FALSE(ok(l.session_user("nope", 1100)));
    ok(l.delete_session("s3"));
    EXPECT_FALSE(ok(l.session_user("s3", 1100)));
    EXPECT_EQ(ok(l.delete_user_sessions(w.ann)), 1);
    EXPECT_FALSE(ok(l.session_user("s2", 1100)));
    // An expired session is cleared when the next one is made.
    ok(l.create_session("s4", w.bob, 1000, 1500, "", ""));
    ok(l.create_session("s5", w.bob, 1600, 9000, "", ""));
    EXPECT_EQ(this->env().scalar("SELECT count(*) FROM sessions"), 1);

    // API tokens: only hashes; revoked ones stop working.
    auto t1 = ok(l.create_token(w.bob, "ci", "th1", 100));
    auto t2 = ok(l.create_token(w.admin, "ops", "th2", 200));
    EXPECT_GT(t2, t1);
    auto none = l.create_token(999999, "x", "th3", 1);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, "user.not_found");
    EXPECT_EQ(ok(l.token_user("th1", 150))->id, w.bob);
    EXPECT_EQ(
        this->env().scalar("SELECT last_used_at FROM api_tokens WHERE id = " + std::to_string(t1)),
        150);
    EXPECT_TRUE(ok(l.revoke_token(t1, 300)));
    EXPECT_FALSE(ok(l.revoke_token(t1, 301)));
    EXPECT_FALSE(ok(l.revoke_token(999999, 301)));
    EXPECT_FALSE(ok(l.token_user("th1", 400)));
    auto list = ok(l.tokens());
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].id, t1);
    EXPECT_EQ(list[0].name, "ci");
    EXPECT_EQ(list[0].revoked_at, 300);
    EXPECT_EQ(list[0].last_used_at, 150);
    EXPECT_FALSE(list[1].revoked_at);
    EXPECT_FALSE(list[1].last_used_at);
}

// Read state is per user (issue 19): Ann reading a message that is also in Bob's mailbox leaves
// it unread for Bob, and only Ann's copy gets \Seen.
TYPED_TEST(Web, ReadMarksAreEachUsersOwnAndMirrorOnlyToTheirMailboxes) {
    World w(this->env());
    auto& env = this->env();
    Seed s(env);
    const auto loc_bob_copy = s.location(w.m_ann, w.bob_acc, w.bob_inbox, 9); // m_ann for Bob too
    const std::vector<AccountId> mirror{w.ann_acc, w.bob_acc};
    const std::string t = std::to_string(w.t_meet);
    auto unread_for = [&](const Viewer& v, ThreadId thread) {
        return ok(env.reads().thread(v, thread))->unread_count;
    };
    auto mark_thread = [&](const Viewer& v, ThreadId thread, bool unread,
                           const std::vector<AccountId>& m, std::int64_t now) {
        return ok(in_transaction(env.work(),
                                 [&] { return env.set_thread_unread(v, thread, unread, m, now); }));
    };
    auto mark_message = [&](const Viewer& v, MessageRowId message, bool unread,
                            const std::vector<AccountId>& m, std::int64_t now) {
        return ok(in_transaction(
            env.work(), [&] { return env.set_message_unread(v, message, unread, m, now); }));
    };
    // Arrival: each mailbox's owner has the message unread.
    EXPECT_EQ(unread_for(w.as_ann(), w.t_meet), 1);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 2);
    EXPECT_EQ(unread_for(w.as_admin(), w.t_meet), 0) << "the admin owns no mailbox here";
    EXPECT_EQ(env.scalar("SELECT unread_count FROM threads WHERE id = " + t), 2);

    // Ann reads what she sees (m_ann): hers alone.
    EXPECT_EQ(mark_thread(w.as_ann(), w.t_meet, false, mirror, 5000), 1);
    EXPECT_EQ(unread_for(w.as_ann(), w.t_meet), 0);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 2) << "Ann's reading changed Bob's read state";
    auto bobs = ok(env.reads().thread_messages(w.as_bob(), w.t_meet));
    ASSERT_EQ(bobs.size(), 2U);
    EXPECT_TRUE(bobs[0].unread && bobs[1].unread);
    EXPECT_FALSE(ok(env.reads().thread_messages(w.as_ann(), w.t_meet)).front().unread);
    EXPECT_EQ(env.scalar("SELECT unread FROM messages WHERE id = " + std::to_string(w.m_ann)), 1)
        << "still unread for Bob: the operator's flag stays";
    auto pending = ok(env.seen().pending_seen(10));
    ASSERT_EQ(pending.size(), 1U) << "only Ann's copy is mirrored, not Bob's";
    EXPECT_EQ(pending[0].location, w.loc_ann);
    EXPECT_EQ(pending[0].account, w.ann_acc);
    EXPECT_EQ(pending[0].mailbox, "INBOX");
    EXPECT_EQ(pending[0].uid_validity, 7U);
    EXPECT_EQ(pending[0].uid, 1U);
    EXPECT_TRUE(pending[0].seen);
    // Marking again changes nothing and queues nothing new.
    EXPECT_EQ(mark_thread(w.as_ann(), w.t_meet, false, mirror, 5001), 0);
    // The admin reading the thread changes nobody else's state.
    EXPECT_EQ(mark_thread(w.as_admin(), w.t_meet, false, mirror, 5002), 0);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 2);
    EXPECT_EQ(ok(env.seen().pending_seen(10)).size(), 1U);

    // Bob reads m_ann: his copy is mirrored; nobody has it unread now.
    EXPECT_EQ(mark_message(w.as_bob(), w.m_ann, false, {w.bob_acc}, 5003), 1);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 1);
    EXPECT_EQ(env.scalar("SELECT unread FROM messages WHERE id = " + std::to_string(w.m_ann)), 0);
    EXPECT_EQ(env.scalar("SELECT unread_count FROM threads WHERE id = " + t), 1);
    pending = ok(env.seen().pending_seen(10));
    ASSERT_EQ(pending.size(), 2U);
    EXPECT_EQ(pending[1].location, loc_bob_copy);

    // Ann marks it unread again: her queued change flips to unseen, attempts reset.
    ok(env.seen().seen_failed({w.loc_ann}, "NO [SERVERBUG] \xff", false));
    EXPECT_EQ(env.scalar("SELECT attempts FROM seen_changes WHERE location_id = " +
                         std::to_string(w.loc_ann)),
              1);
    EXPECT_EQ(mark_message(w.as_ann(), w.m_ann, true, mirror, 5004), 1);
    EXPECT_EQ(unread_for(w.as_ann(), w.t_meet), 1);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 1);
    EXPECT_EQ(env.scalar("SELECT unread_count FROM threads WHERE id = " + t), 2);
    EXPECT_EQ(env.scalar("SELECT attempts FROM seen_changes WHERE location_id = " +
                         std::to_string(w.loc_ann)),
              0);
    pending = ok(env.seen().pending_seen(10));
    ASSERT_EQ(pending.size(), 2U);
    EXPECT_EQ(pending.back().location, w.loc_ann); // queued last
    EXPECT_FALSE(pending.back().seen);
    EXPECT_EQ(ok(env.seen().pending_seen(1)).size(), 1U);
    // Five failures and it is no longer pending; give_up drops it.
    for (int i = 0; i < 5; ++i)
        ok(env.seen().seen_failed({w.loc_ann}, "timeout", false));
    pending = ok(env.seen().pending_seen(10));
    ASSERT_EQ(pending.size(), 1U);
    EXPECT_EQ(pending[0].location, loc_bob_copy);
    ok(env.seen().seen_failed({loc_bob_copy}, "gone", true));
    ok(env.seen().seen_done({w.loc_ann}));
    EXPECT_TRUE(ok(env.seen().pending_seen(10)).empty());
    EXPECT_EQ(env.scalar("SELECT count(*) FROM seen_changes"), 0);

    // The admin marks a message unread for themselves: nothing queued, nobody else changed.
    EXPECT_EQ(mark_message(w.as_admin(), w.m_bob, true, mirror, 5005), 1);
    EXPECT_EQ(unread_for(w.as_admin(), w.t_meet), 1);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_meet), 1);
    EXPECT_EQ(env.scalar("SELECT count(*) FROM seen_changes"), 0);
    EXPECT_EQ(mark_message(w.as_ann(), 999999, true, mirror, 5006), 0);
    // Read state needs a user.
    auto nobody = in_transaction(env.work(), [&] {
        return env.set_thread_unread(Viewer{0, true}, w.t_meet, false, {}, 5007);
    });
    ASSERT_FALSE(nobody);
    EXPECT_EQ(nobody.error().code, "read.no_user");

    // Deals count the viewer's own: m_bob2 (Bob's mailbox, Ann's deal) is unread for Bob only.
    EXPECT_EQ(ok(env.reads().deal(w.as_ann(), w.ann_deal))->unread, 0);
    EXPECT_EQ(ok(env.reads().deal(Viewer{0, true}, w.ann_deal))->unread, 1)
        << "the operator sees unread for anyone";
    EXPECT_EQ(mark_thread(w.as_ann(), w.t_ann_deal, false, mirror, 5008), 0);
    EXPECT_EQ(unread_for(w.as_bob(), w.t_ann_deal), 1);
    EXPECT_EQ(mark_thread(w.as_bob(), w.t_ann_deal, false, mirror, 5009), 1);
    EXPECT_EQ(ok(env.reads().deal(Viewer{0, true}, w.ann_deal))->unread, 0)
        << "deal_stats follows the thread counters (triggers on both)";
    EXPECT_EQ(mark_thread(w.as_ann(), w.t_ann_deal, true, mirror, 5010), 1);
    EXPECT_EQ(ok(env.reads().deal(w.as_ann(), w.ann_deal))->unread, 1);
    EXPECT_EQ(ok(env.reads().deal(w.as_admin(), w.ann_deal))->unread, 0);
    auto anns = ok(env.reads().deals(w.as_ann()));
    auto it = std::find_if(anns.begin(), anns.end(),
                           [&](const WebDeal& d) { return d.id == w.ann_deal; });
    ASSERT_NE(it, anns.end());
    EXPECT_EQ(it->unread, 1);
}

} // namespace
} // namespace crm::backends::test
