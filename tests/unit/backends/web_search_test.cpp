// Full-text search (issue 19) on SQLite: languages (diacritics folded, Chinese and Japanese by
// substrings), the query language, ranking and paging, and visibility: two salespeople whose
// mail meets in one thread each find only what they may see.
#include <algorithm>

#include <gtest/gtest.h>

#include "crm/app/search.hpp"
#include "crm/core/cursor.hpp"
#include "crm/core/search_query.hpp"
#include "crm/store/search.hpp"
#include "web_env.hpp"

namespace crm::backends::test {
namespace {

// Ann and Bob, each with a mailbox, and an admin.
//   t_meet (unsorted): m_bob_offer via Bob's account, m_ann_reply via Ann's: their mail meets
//   t_ro (linked to Ann's deal): m_ro via Ann's account, Romanian and German, an attachment
//   t_cn (unsorted): m_cn via Bob's account, Chinese
//   t_jp (unsorted): m_jp via Ann's account, Japanese
struct World {
    UserId ann = 0, bob = 0, admin = 0;
    DealId ann_deal = 0;
    ThreadId t_meet = 0, t_ro = 0, t_cn = 0, t_jp = 0;
    MessageRowId m_bob_offer = 0, m_ann_reply = 0, m_ro = 0, m_cn = 0, m_jp = 0;

    explicit World(WebEnv& env) {
        Seed s(env);
        ann = s.user("Ann", "ann@example.com", "salesperson");
        bob = s.user("Bob", "bob@example.com", "salesperson");
        admin = s.user("Ada", "ada@example.com", "admin");
        ann_deal = s.deal("Bucharest fleet", ann);
        const auto ann_acc = s.account("ann", "ann@example.com", ann);
        const auto bob_acc = s.account("bob", "bob@example.com", bob);
        const auto ann_inbox = s.mailbox(ann_acc, "INBOX");
        const auto bob_inbox = s.mailbox(bob_acc, "INBOX");

        t_meet = s.thread("Meeting");
        auto m = Seed::msg(t_meet, "offer@x", "Meeting", "Dave Client", "dave@client.example", 1000,
                           1000);
        m.text_body = "Here is our price offer for the meeting on Tuesday.";
        m_bob_offer = s.message(m);
        s.participant(m_bob_offer, "from", 0, "dave@client.example", "Dave Client");
        s.participant(m_bob_offer, "to", 0, "bob@example.com", "Bob");
        s.participant(m_bob_offer, "bcc", 0, "secret@private.example", "Secret Person");
        s.location(m_bob_offer, bob_acc, bob_inbox, 1);
        m = Seed::msg(t_meet, "reply@x", "Re: Meeting", "Ann", "ann@example.com", 2000, 2000);
        m.text_body = "Thanks, the offer is accepted.";
        m.unread = false;
        m_ann_reply = s.message(m);
        s.participant(m_ann_reply, "from", 0, "ann@example.com", "Ann");
        s.participant(m_ann_reply, "to", 0, "dave@client.example", "Dave Client");
        s.location(m_ann_reply, ann_acc, ann_inbox, 1);
        s.unsort(t_meet, "no match");

        t_ro = s.thread("Ofertă");
        m = Seed::msg(t_ro, "ro@x", "Ofertă de preț pentru București", "Ion Popescu",
                      "ion@client.ro", 3000, 3000);
        m.text_body = "Vă trimitem oferta pentru flota din București. Partener: Müller & Söhne.";
        m_ro = s.message(m);
        s.participant(m_ro, "from", 0, "ion@client.ro", "Ion Popescu");
        s.participant(m_ro, "to", 0, "ann@example.com", "Ann");
        env.insert_blob("att-ro", "%PDF");
        s.attachment(m_ro, 0, "Angebot_Q3.pdf", "", "att-ro", 4);
        s.location(m_ro, ann_acc, ann_inbox, 2);
        s.link(t_ro, ann_deal, "contact");

        t_cn = s.thread("报价单");
        m = Seed::msg(t_cn, "cn@x", "报价单", "王伟", "wang@client.cn", 4000, 4000);
        m.text_body = "您好，请查收附件中的报价单和价格表。合计100元，报价 合同。";
        m_cn = s.message(m);
        s.participant(m_cn, "from", 0, "wang@client.cn", "王伟");
        s.location(m_cn, bob_acc, bob_inbox, 2);
        s.unsort(t_cn, "no match");

        t_jp = s.thread("見積書");
        m = Seed::msg(t_jp, "jp@x", "見積書の送付", "佐藤", "sato@client.jp", 5000, 5000);
        m.text_body = "お世話になっております。見積書を送ります。";
        m_jp = s.message(m);
        s.participant(m_jp, "from", 0, "sato@client.jp", "佐藤");
        s.location(m_jp, ann_acc, ann_inbox, 3);
        s.unsort(t_jp, "no match");
        for (auto t : {t_meet, t_ro, t_cn, t_jp})
            s.recount(t);
        // Seeded with SQL, not through the store: the index is built as db reindex does.
        auto n = env.search()->reindex();
        EXPECT_TRUE(n) << n.error().to_string();
    }
    [[nodiscard]] Viewer as_ann() const { return {ann, false}; }
    [[nodiscard]] Viewer as_bob() const { return {bob, false}; }
    [[nodiscard]] Viewer as_admin() const { return {admin, true}; }
};

class SearchTest : public ::testing::Test {
  protected:
    void SetUp() override { env_ = make_sqlite_env(); }
    WebEnv& env() { return *env_; }

    SearchPage find(const Viewer& v, std::string_view text, std::size_t offset = 0,
                    std::size_t limit = 50) {
        auto q = parse_search_query(text);
        EXPECT_TRUE(q) << text << ": " << (q ? "" : q.error().message);
        if (!q)
            return {};
        return ok(env().search()->search(v, *q, offset, limit));
    }
    std::vector<MessageRowId> ids(const Viewer& v, std::string_view text) {
        std::vector<MessageRowId> out;
        for (const auto& h : find(v, text).hits)
            out.push_back(h.message);
        std::sort(out.begin(), out.end());
        return out;
    }
    std::unique_ptr<WebEnv> env_;
};

using Ids = std::vector<MessageRowId>;

// A search considers only the hits most recently stored that the viewer may see (kSearchCap):
// a text query ranks those, and the count and the pages stop there and say so. With a cap of 3:
// the oldest message, whose subject holds the word (the best match of all), is left out, and
// Ann's 3 are hers, not the newer ones of Bob's.
TEST_F(SearchTest, ASearchRanksAndCountsTheNewestHitsUpToACap) {
    World w(env());
    auto* store = dynamic_cast<store::SearchStore*>(env().search());
    ASSERT_NE(store, nullptr);
    store->set_cap(3);
    Seed s(env());
    const auto ann_acc = env().scalar("SELECT id FROM accounts WHERE name = 'ann'").value();
    const auto ann_inbox =
        env()
            .scalar("SELECT id FROM mailboxes WHERE account_id = " + std::to_string(ann_acc))
            .value();
    const auto bob_acc = env().scalar("SELECT id FROM accounts WHERE name = 'bob'").value();
    const auto bob_inbox =
        env()
            .scalar("SELECT id FROM mailboxes WHERE account_id = " + std::to_string(bob_acc))
            .value();
    std::vector<MessageRowId> anns, bobs; // in the order stored
    for (int i = 0; i < 9; ++i) {
        auto t = s.thread("Zoo " + std::to_string(i));
        auto m = Seed::msg(t, "zoo" + std::to_string(i) + "@x",
                           i == 0 ? "Zebra zebra zebra" : "Zoo visit", "Zed", "zed@zoo.example",
                           9000 + i, 9000 + i);
        m.text_body = "A note that mentions a zebra once among many other words about the zoo.";
        m.unread = false;
        const auto id = s.message(m);
        // The two stored last are Bob's.
        if (i >= 7) {
            s.location(id, bob_acc, bob_inbox, 100 + i);
            bobs.push_back(id);
        } else {
            s.location(id, ann_acc, ann_inbox, 100 + i);
            anns.push_back(id);
        }
        s.unsort(t, "no match");
    }
    ASSERT_TRUE(env().search()->reindex());
    const auto sorted = [](const SearchPage& p) {
        std::vector<MessageRowId> out;
        for (const auto& h : p.hits)
            out.push_back(h.message);
        std::sort(out.begin(), out.end());
        return out;
    };
    // The admin (the index alone) and Ann (her messages' rows), with and without a filter.
    const auto all = find(w.as_admin(), "zebra");
    EXPECT_EQ(all.total, 3);
    EXPECT_TRUE(all.total_capped);
    EXPECT_EQ(sorted(all), (std::vector<MessageRowId>{anns[6], bobs[0], bobs[1]}));
    for (const char* text : {"zebra", "zebra is:unsorted"}) {
        const auto hers = find(w.as_ann(), text);
        EXPECT_EQ(hers.total, 3) << text;
        EXPECT_TRUE(hers.total_capped) << text;
        EXPECT_EQ(sorted(hers), (std::vector<MessageRowId>{anns[4], anns[5], anns[6]})) << text;
    }
    EXPECT_EQ(find(w.as_admin(), "zebra is:unsorted").total, 3);
    // Filters alone stop at the cap too.
    const auto unsorted = find(w.as_ann(), "is:unsorted");
    EXPECT_EQ(unsorted.total, 3);
    EXPECT_TRUE(unsorted.total_capped);
    EXPECT_EQ(unsorted.hits.size(), 3U);
    // Pages of 2 read the same order, without repeats.
    for (const Viewer& v : {w.as_admin(), w.as_ann()}) {
        std::vector<MessageRowId> expected, paged;
        for (const auto& h : find(v, "zebra").hits)
            expected.push_back(h.message);
        for (std::size_t off = 0; off < 6; off += 2)
            for (const auto& h : find(v, "zebra", off, 2).hits)
                paged.push_back(h.message);
        EXPECT_EQ(paged, expected) << "user " << v.user;
    }
    // Under the cap: every hit, counted exactly, and the best match ranks first.
    store->set_cap(kSearchCap);
    const auto ranked = find(w.as_ann(), "zebra");
    ASSERT_EQ(ranked.hits.size(), 7U);
    EXPECT_EQ(ranked.hits.front().message, anns.front());
    EXPECT_EQ(ranked.total, 7);
    EXPECT_FALSE(ranked.total_capped);
}

TEST_F(SearchTest, DiacriticsAndCaseFold) {
    World w(env());
    for (const char* q :
         {"Bucuresti", "bucurești", "BUCUREȘTI", "muller", "Müller", "oferta", "ofertă", "pret"})
        EXPECT_EQ(ids(w.as_ann(), q), Ids{w.m_ro}) << q;
}

TEST_F(SearchTest, ChineseAndJapaneseAreFoundBySubstrings) {
    World w(env());
    const Viewer admin = w.as_admin();
    // 报价单 and 价格表 are runs of a longer sentence: any part of two or more characters is
    // found, and so is one character.
    for (const char* q : {"报价单", "报价", "价格", "价格表", "格表", "表", "查收附件"})
        EXPECT_EQ(ids(admin, q), Ids{w.m_cn}) << q;
    EXPECT_TRUE(ids(admin, "价表").empty()); // not next to each other
    EXPECT_TRUE(ids(admin, "报价表").empty());
    for (const char* q : {"見積書", "見積", "送ります", "お世話"})
        EXPECT_EQ(ids(admin, q), Ids{w.m_jp}) << q;
    EXPECT_EQ(ids(admin, "from:王伟"), Ids{w.m_cn});
    // A run followed by digits or letters in one term, and a phrase of two runs: each run takes
    // as many positions in the query as in the text.
    EXPECT_EQ(ids(admin, "合计100元"), Ids{w.m_cn});
    EXPECT_EQ(ids(admin, "\"报价 合同\""), Ids{w.m_cn});
    EXPECT_EQ(ids(admin, "报价单和价格表"), Ids{w.m_cn});
    // One character is marked alone; hits that overlap in pairs are marked each, and the passage
    // is a passage, not the rest of the body.
    for (const char* q : {"价", "报价 价格"}) {
        const auto h = find(admin, q).hits.at(0);
        std::string all;
        for (const auto& p : h.snippet) {
            all += p.text;
            if (p.hit && std::string_view(q) == "价") {
                EXPECT_EQ(p.text, "价") << q;
            }
        }
        EXPECT_LE(all.size(),
                  std::string("您好，请查收附件中的报价单和价格表。合计100元，报价 合同。").size() +
                      6)
            << q << ": " << all;
    }
    // The passage shown marks the characters found, as they are written.
    const auto hit = find(admin, "价格表").hits.at(0);
    std::string marked;
    for (const auto& p : hit.snippet)
        if (p.hit)
            marked += p.text;
    EXPECT_EQ(marked, "价格表");
}

TEST_F(SearchTest, TwoSalespeopleFindOnlyWhatTheyMaySee) {
    World w(env());
    // "offer" is in Bob's message and in Ann's reply, one thread: each finds their own.
    EXPECT_EQ(ids(w.as_ann(), "offer"), Ids{w.m_ann_reply});
    EXPECT_EQ(ids(w.as_bob(), "offer"), Ids{w.m_bob_offer});
    EXPECT_EQ(ids(w.as_admin(), "offer"), (Ids{w.m_bob_offer, w.m_ann_reply}));
    EXPECT_TRUE(ids(w.as_bob(), "Bucuresti").empty()); // Ann's deal's mail
    EXPECT_TRUE(ids(w.as_ann(), "报价").empty());      // Bob's mailbox
    EXPECT_TRUE(ids(w.as_bob(), "tuesday -accepted").size() == 1);
    // Bcc is shown nowhere, so it is not searchable either.
    EXPECT_TRUE(ids(w.as_admin(), "to:secret").empty());
    EXPECT_TRUE(ids(w.as_admin(), "\"Secret Person\"").empty());

    // The count is the viewer's too.
    EXPECT_EQ(find(w.as_ann(), "offer").total, 1);
    EXPECT_EQ(find(w.as_admin(), "offer").total, 2);
    // Filters do not widen it.
    EXPECT_EQ(ids(w.as_bob(), "is:unsorted"), (Ids{w.m_bob_offer, w.m_cn}));
    EXPECT_EQ(ids(w.as_ann(), "after:1970-01-01"), (Ids{w.m_ann_reply, w.m_ro, w.m_jp}));
    // A deal the viewer may not see is not named in a hit.
    EXPECT_TRUE(find(w.as_ann(), "Bucuresti").hits.at(0).deal);
    EXPECT_EQ(find(w.as_admin(), "Bucuresti").hits.at(0).deal_name, "Bucharest fleet");
    // deal: finds nothing in a deal the viewer may not see, even their own mail in its threads:
    // Bob's Chinese mail, linked to Ann's private deal, is his, but the link is not.
    env().exec("DELETE FROM unsorted WHERE thread_id = " + std::to_string(w.t_cn));
    env().exec("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, linked_at) VALUES (" +
               std::to_string(w.t_cn) + ", " + std::to_string(w.ann_deal) + ", 1, 'manual', 1)");
    const std::string in_deal = "deal:" + std::to_string(w.ann_deal);
    EXPECT_EQ(ids(w.as_bob(), "报价"), Ids{w.m_cn});
    EXPECT_TRUE(ids(w.as_bob(), in_deal).empty());
    EXPECT_EQ(ids(w.as_ann(), in_deal), (Ids{w.m_ro, w.m_cn}));
    EXPECT_FALSE(find(w.as_bob(), "报价").hits.at(0).deal); // and the hit does not name it
}

TEST_F(SearchTest, TheQueryLanguage) {
    World w(env());
    const Viewer admin = w.as_admin();
    EXPECT_EQ(ids(admin, "\"price offer\""), Ids{w.m_bob_offer});
    EXPECT_TRUE(ids(admin, "\"offer price\"").empty());
    EXPECT_EQ(ids(admin, "offer -accepted"), Ids{w.m_bob_offer});
    EXPECT_EQ(ids(admin, "offer -from:ann"), Ids{w.m_bob_offer});
    EXPECT_EQ(ids(admin, "from:client.ro"), Ids{w.m_ro});
    EXPECT_EQ(ids(admin, "from:popescu"), Ids{w.m_ro});
    EXPECT_EQ(ids(admin, "to:\"Dave Client\""), Ids{w.m_ann_reply});
    EXPECT_EQ(ids(admin, "subject:meeting"), (Ids{w.m_bob_offer, w.m_ann_reply}));
    EXPECT_EQ(ids(admin, "filename:angebot"), Ids{w.m_ro});
    EXPECT_EQ(ids(admin, "angebot"), Ids{w.m_ro}); // file names are in every word's reach
    EXPECT_EQ(ids(admin, "has:attachment"), Ids{w.m_ro});
    EXPECT_EQ(ids(admin, "deal:" + std::to_string(w.ann_deal)), Ids{w.m_ro});
    // Read state is the viewer's own: the offer arrived unseen in Bob's mailbox, Ann's reply
    // is read; the admin owns no mailbox and has nothing unread.
    EXPECT_EQ(ids(w.as_bob(), "meeting is:unread"), Ids{w.m_bob_offer});
    EXPECT_TRUE(ids(w.as_ann(), "meeting is:unread").empty());
    EXPECT_EQ(ids(w.as_ann(), "meeting is:read"), Ids{w.m_ann_reply});
    EXPECT_TRUE(ids(admin, "is:unread").empty());
    EXPECT_EQ(ids(admin, "is:read").size(), 5U);
    // Days are UTC; after: includes the day, before: excludes it. The seeds' dates are seconds
    // after 1970-01-01T00:00Z: all on that day.
    EXPECT_EQ(ids(admin, "before:1970-01-02").size(), 5U);
    EXPECT_TRUE(ids(admin, "after:1970-01-02").empty());
    // What the user types is text, never FTS5 syntax.
    for (const char* text : {"NEAR(offer price)", "offer OR accepted", "offer*", "\"a\"\"b\"", "*",
                             "^offer", "\"sender:dave\"", "{subject}"}) {
        const auto q = parse_search_query(text);
        ASSERT_TRUE(q) << text;
        EXPECT_TRUE(env().search()->search(admin, *q, 0, 10)) << text;
    }
    EXPECT_TRUE(ids(admin, "*").empty());
    EXPECT_TRUE(ids(admin, "offer OR accepted").empty()); // OR is a word here, not in the mail
}

TEST_F(SearchTest, RankedPagesWithCounts) {
    World w(env());
    const Viewer admin = w.as_admin();
    // The sender weighs more than a recipient: Dave wrote one and received the other.
    const auto page = find(admin, "dave");
    ASSERT_EQ(page.total, 2);
    EXPECT_EQ(page.hits.at(0).message, w.m_bob_offer);
    EXPECT_EQ(page.hits.at(1).message, w.m_ann_reply);
    // Filters alone: newest first.
    const auto all = find(admin, "after:1970-01-01", 0, 2);
    EXPECT_EQ(all.total, 5);
    ASSERT_EQ(all.hits.size(), 2U);
    EXPECT_EQ(all.hits[0].message, w.m_jp);
    EXPECT_EQ(all.hits[1].message, w.m_cn);
    EXPECT_FALSE(all.hits[0].snippet.empty()); // the body's opening
    const auto rest = find(admin, "after:1970-01-01", 4, 2);
    ASSERT_EQ(rest.hits.size(), 1U);
    EXPECT_EQ(rest.hits[0].message, w.m_bob_offer);
    EXPECT_TRUE(find(admin, "after:1970-01-01", 9, 2).hits.empty());
}

// app::search: the cursor of each page leads to the next, and is refused by another query or
// list.
TEST_F(SearchTest, CursorsPageThroughAndBelongToTheirQuery) {
    World w(env());
    Backend& b = *env().backend();
    const std::string text = "after:1970-01-01";
    const auto q = *parse_search_query(text);
    std::vector<MessageRowId> seen;
    std::string cursor;
    int pages = 0;
    do {
        auto r = ok(app::search(b, w.as_admin(), q, text, cursor, 2));
        EXPECT_EQ(r.page.total, 5);
        for (const auto& h : r.page.hits)
            seen.push_back(h.message);
        cursor = r.next_cursor.value_or("");
    } while (!cursor.empty() && ++pages < 10);
    EXPECT_EQ(pages, 2); // three pages: 2, 2, 1
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (Ids{w.m_bob_offer, w.m_ann_reply, w.m_ro, w.m_cn, w.m_jp}));

    const auto first = ok(app::search(b, w.as_admin(), q, text, "", 2));
    ASSERT_TRUE(first.next_cursor);
    auto other =
        app::search(b, w.as_admin(), *parse_search_query("offer"), "offer", *first.next_cursor, 2);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, "cursor.invalid");
    auto foreign = app::search(b, w.as_admin(), q, text, encode_cursor("unsorted", "x", "2"), 2);
    ASSERT_FALSE(foreign);
    EXPECT_NE(foreign.error().detail.find("another list (unsorted)"), std::string::npos)
        << foreign.error().detail;
    auto garbage = app::search(b, w.as_admin(), q, text, "not-a-cursor", 2);
    ASSERT_FALSE(garbage);
    EXPECT_EQ(garbage.error().code, "cursor.invalid");
}

} // namespace
} // namespace crm::backends::test
