// The ingest use case over a real (in-memory) store: identity and dedup, locations, threading in
// any arrival order, deal decisions, manual links.
#include <gtest/gtest.h>

#include <algorithm>

#include "crm/app/ingest.hpp"
#include "crm/mime/parse.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"

namespace crm::app {
namespace {

std::string msg(const std::string& id, const std::string& from, const std::string& subject,
                const std::string& extra = "", const std::string& body = "Hello there.\n",
                const std::string& to = "Alice <alice@sales.example>") {
    std::string m = "From: " + from + "\r\nTo: " + to + "\r\nSubject: " +
                    subject + "\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n";
    if (!id.empty())
        m += "Message-ID: <" + id + ">\r\n";
    m += extra + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body;
    return m;
}

class IngestTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto d = store::Database::open(":memory:");
        ASSERT_TRUE(d);
        db = std::move(*d);
        ASSERT_TRUE(db->migrate());
        s = std::make_unique<store::Store>(*db);
        ASSERT_TRUE(s->upsert_user({1, "Alice", "alice@sales.example", "alice@sales.example",
                                    "salesperson"}, 1));
        ASSERT_TRUE(s->upsert_company({10, "Globex", {"globex.example"}}, 1));
        ASSERT_TRUE(s->upsert_contact({100, "Hank", {{"hank@globex.example", "hank@globex.example"}},
                                       10}, 1));
        ASSERT_TRUE(s->upsert_deal({1000, "Fleet", 10, {100}, 1, "", "open", "1", "EUR"}, 1));
        ing = std::make_unique<Ingestor>(*s, *s);
    }
    Result<IngestOutcome> in(const std::string& raw, const std::string& source,
                             bool seen = false) {
        IngestSource src;
        src.raw = raw;
        src.where.source = source;
        src.seen = seen;
        src.owner = 1;
        return ing->ingest(src, mime::parse(raw), 1'800'000'000);
    }
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::Store> s;
    std::unique_ptr<Ingestor> ing;
};

TEST_F(IngestTest, SameMailTwiceIsOneMessageWithTwoLocations) {
    auto raw = msg("a@globex.example", "Hank <hank@globex.example>", "Quote");
    auto r1 = in(raw, "alice/1");
    ASSERT_TRUE(r1) << r1.error().to_string();
    EXPECT_EQ(r1->kind, IngestKind::New);
    // Same mail seen by another salesperson: other trace headers, same body.
    auto r2 = in("Received: from x by y; Mon, 02 Nov 2026 09:00:01 +0000\r\n" + raw, "bob/7");
    ASSERT_TRUE(r2);
    EXPECT_EQ(r2->kind, IngestKind::NewLocation);
    EXPECT_EQ(r2->message, r1->message);
    auto r3 = in(raw, "alice/1");
    ASSERT_TRUE(r3);
    EXPECT_EQ(r3->kind, IngestKind::Duplicate);
    auto c = s->counts();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->messages, 1);
}

TEST_F(IngestTest, SameIdDifferentContentIsKeptApartButThreadedTogether) {
    auto r1 = in(msg("dup@x.example", "Hank <hank@globex.example>", "One", "", "first\n"), "f1");
    auto r2 = in(msg("dup@x.example", "Hank <hank@globex.example>", "Two", "", "second\n"), "f2");
    ASSERT_TRUE(r1 && r2);
    EXPECT_NE(r1->message, r2->message);
    EXPECT_EQ(r1->thread, r2->thread);
    auto lines = s->export_threads();
    ASSERT_TRUE(lines);
    EXPECT_EQ(*lines, std::vector<std::string>{"dup@x.example"});
}

TEST_F(IngestTest, MissingMessageIdGetsStableSyntheticId) {
    auto raw = msg("", "Hank <hank@globex.example>", "No id");
    auto r1 = in(raw, "f1");
    auto r2 = in("X-Trace: other mailbox\r\n" + raw, "f2");
    ASSERT_TRUE(r1 && r2);
    EXPECT_EQ(r2->kind, IngestKind::NewLocation);
    auto lines = s->export_threads();
    ASSERT_TRUE(lines);
    ASSERT_EQ(lines->size(), 1u);
    EXPECT_TRUE((*lines)[0].starts_with("crm-sha256-"));
}

TEST_F(IngestTest, ReplyChainInEveryArrivalOrderGivesOneThread) {
    std::vector<std::string> mails = {
        msg("m1@x", "Hank <hank@globex.example>", "Plan"),
        msg("m2@x", "Alice <alice@sales.example>", "Re: Plan", "In-Reply-To: <m1@x>\r\n"),
        msg("m3@x", "Hank <hank@globex.example>", "Re: Plan",
            "References: <m1@x> <m2@x>\r\n"),
        msg("m4@x", "Hank <hank@globex.example>", "Re: Plan", "References: <m9@x>\r\n"),
        msg("m9@x", "Hank <hank@globex.example>", "Re: Plan", "References: <m1@x>\r\n"),
    };
    std::vector<int> order = {0, 1, 2, 3, 4};
    int runs = 0;
    do {
        SetUp();
        for (int i : order)
            ASSERT_TRUE(in(mails[static_cast<std::size_t>(i)], "f" + std::to_string(i)));
        auto lines = s->export_threads();
        ASSERT_TRUE(lines);
        ASSERT_EQ(*lines, std::vector<std::string>{"m1@x m2@x m3@x m4@x m9@x"});
        auto links = s->export_deal_links();
        ASSERT_TRUE(links);
        for (const auto& l : *links)
            EXPECT_NE(l.find("\t1000\t"), std::string::npos) << l;
        ++runs;
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(runs, 120);
}

TEST_F(IngestTest, DecisionsCarryReasons) {
    auto known = in(msg("k@x", "Hank <hank@globex.example>", "Fleet"), "f1");
    ASSERT_TRUE(known);
    EXPECT_EQ(known->deal, 1000);
    EXPECT_FALSE(known->reason.empty());
    auto unknown = in(msg("u@x", "Zed <zed@elsewhere.example>", "Hi there friend"), "f2");
    ASSERT_TRUE(unknown);
    EXPECT_FALSE(unknown->deal);
    EXPECT_EQ(unknown->reason, "unknown sender");
    auto bulk = in(msg("b@x", "Hank <hank@globex.example>", "News",
                       "List-Id: <news.globex.example>\r\n"),
                   "f3");
    ASSERT_TRUE(bulk);
    EXPECT_FALSE(bulk->deal);
    EXPECT_EQ(bulk->reason, "bulk mail");
}

TEST_F(IngestTest, OutgoingMailIsReadAndIncomingSeenFlagKept) {
    ASSERT_TRUE(in(msg("o@x", "Alice <alice@sales.example>", "Offer", "", "Our offer.\n",
                       "Hank <hank@globex.example>"),
                   "f1"));
    ASSERT_TRUE(in(msg("s@x", "Hank <hank@globex.example>", "Seen one"), "f2", true));
    ASSERT_TRUE(in(msg("n@x", "Hank <hank@globex.example>", "New one"), "f3"));
    auto deals = s->deals();
    ASSERT_TRUE(deals);
    ASSERT_EQ(deals->size(), 1u);
    EXPECT_EQ((*deals)[0].messages, 3);
    EXPECT_EQ((*deals)[0].unread, 1);
}

TEST_F(IngestTest, UnparsableBytesAreStoredAndFlagged) {
    std::string garbage("\x00\x01\x02 not a mail at all \xff\xfe", 24);
    auto r = in(garbage, "junk");
    ASSERT_TRUE(r) << r.error().to_string();
    auto c = s->counts();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->messages, 1);
}

} // namespace
} // namespace crm::app

namespace crm::app {
namespace {

// Our own DKIM/DMARC verdict (crm::auth, made on the parser threads) reaches messages.suspicious
// and the deal decision; with trusted authserv-ids the receiving server's headers rule instead.
TEST_F(IngestTest, OwnVerificationFailureMarksTheSenderSuspicious) {
    const auto raw = msg("forged@globex.example", "Hank <hank@globex.example>", "Fleet invoice",
                         "Authentication-Results: mx.sales.example; dkim=pass "
                         "header.d=globex.example\r\n");
    auto suspicious_of = [&](const IngestOutcome& o) {
        auto msgs = s->thread_messages(o.thread);
        EXPECT_TRUE(msgs && msgs->size() == 1);
        return msgs && !msgs->empty() ? msgs->front().suspicious : std::string("?");
    };
    auto forged = mime::parse(raw);
    forged.verification = SenderVerification{
        "DKIM signature of globex.example does not verify (body changed after signing)", false,
        "dkim=fail (d=globex.example: body changed after signing); dmarc=fail (p=reject)"};
    IngestSource src;
    src.raw = raw;
    src.where.source = "alice/forged";
    src.owner = 1;
    auto r = ing->ingest(src, forged, 1'800'000'000);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_FALSE(r->deal); // Hank has one open deal: without the verdict it would link
    EXPECT_EQ(r->reason, "suspicious sender: authentication failed: DKIM signature of "
                         "globex.example does not verify (body changed after signing)");
    EXPECT_EQ(suspicious_of(*r),
              "authentication failed: DKIM signature of globex.example does not verify (body "
              "changed after signing)");

    // The same verdict with the receiving server trusted: its dkim=pass header is believed.
    IngestOptions o;
    o.trusted_authserv_ids = {"mx.sales.example"};
    Ingestor trusting(*s, *s, o);
    const auto raw2 = msg("forged2@globex.example", "Hank <hank@globex.example>", "Fleet",
                          "Authentication-Results: mx.sales.example; dkim=pass "
                          "header.d=globex.example\r\n");
    auto m2 = mime::parse(raw2);
    m2.verification = forged.verification;
    src.raw = raw2;
    src.where.source = "alice/forged2";
    auto r2 = trusting.ingest(src, m2, 1'800'000'000);
    ASSERT_TRUE(r2) << r2.error().to_string();
    EXPECT_EQ(suspicious_of(*r2), "");
    EXPECT_EQ(r2->deal, DealId{1000});
}

} // namespace
} // namespace crm::app
