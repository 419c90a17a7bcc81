#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crm/match/sort.hpp"

namespace {

using crm::DealId;
using crm::match::DealFacts;
using crm::match::decide;
using crm::match::ExistingLink;
using crm::match::Participant;
using crm::match::SortDecision;
using crm::match::SortInput;
using crm::match::SortPolicy;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kDay = 86'400;

Participant external(std::string role, std::string address, std::optional<crm::ContactId> contact,
                     std::optional<crm::CompanyId> company) {
    return Participant{std::move(role), std::move(address), "", contact, company, std::nullopt};
}

Participant internal(std::string role, std::string address, crm::UserId user) {
    return Participant{std::move(role), std::move(address), "", std::nullopt, std::nullopt, user};
}

DealFacts deal(DealId id, std::string name, std::optional<crm::CompanyId> company = std::nullopt,
               std::vector<crm::ContactId> contacts = {},
               std::optional<crm::UserId> owner = std::nullopt,
               std::int64_t updated_at = kNow - 1000 * kDay) {
    return DealFacts{id, std::move(name), company, std::move(contacts), owner, updated_at};
}

// Alice (contact 1, company 10) writes to Bob (user 100).
SortInput base() {
    SortInput in;
    in.participants = {external("from", "alice@acme.com", 1, 10),
                       internal("to", "bob@us.com", 100)};
    in.subject = "Hello";
    in.mailbox_owner = 100;
    in.now = kNow;
    return in;
}

struct Expect {
    std::optional<DealId> deal;
    std::string reason;
    bool keep_existing = false;
    std::vector<DealId> suggestions = {};
};

void check(const SortDecision& d, const Expect& e) {
    EXPECT_EQ(d.deal, e.deal);
    EXPECT_EQ(d.reason, e.reason);
    EXPECT_EQ(d.keep_existing, e.keep_existing);
    EXPECT_EQ(d.suggestions, e.suggestions);
}

TEST(Decide, ManualLinkWinsOverEverything) {
    auto in = base();
    in.thread_link = ExistingLink{7, true};
    in.token_deals = {9};
    in.is_bulk = true;
    in.suspicious_sender = "authentication failed (DKIM/DMARC/SPF)";
    in.open_deals = {deal(9, "Other")};
    check(decide(in), {7, "manual link kept", true});
}

TEST(Decide, AutomaticLinkKept) {
    auto in = base();
    in.thread_link = ExistingLink{7, false};
    in.linked_deal = deal(7, "Fleet", 10, {1});
    in.token_deals = {7};
    check(decide(in), {7, "thread already linked to deal 7", true});
    // A new participant of the deal's company, or one the CRM knows nothing of: still deal 7.
    in.participants.push_back(external("cc", "carl@acme.com", std::nullopt, 10));
    in.participants.push_back(external("cc", "someone@gmail.com", std::nullopt, std::nullopt));
    in.open_deals = {deal(7, "Fleet", 10, {1}), deal(8, "Spare parts", 10, {1})};
    check(decide(in), {7, "thread already linked to deal 7", true});
}

TEST(Decide, OurTokenForAnotherDealHoldsTheThread) {
    auto in = base();
    in.thread_link = ExistingLink{7, false};
    in.linked_deal = deal(7, "Fleet", 10, {1});
    in.token_deals = {9};
    const auto d = decide(in);
    check(d, {std::nullopt, "conflict: deals 7, 9", false, {7, 9}});
    EXPECT_TRUE(d.hold);
}

TEST(Decide, NewParticipantOfAnotherDealHoldsTheThread) {
    // The thread is deal 7's (Alice, company 10). A later message brings Dora of company 20,
    // whose own open deal is 12: not silently kept on 7.
    auto in = base();
    in.thread_link = ExistingLink{7, false};
    in.linked_deal = deal(7, "Fleet", 10, {1});
    in.thread_participants = {external("thread", "alice@acme.com", 1, 10)};
    in.participants = {external("from", "dora@globex.com", 4, 20), internal("to", "bob@us.com", 100)};
    in.open_deals = {deal(12, "Globex pilot", 20, {4})};
    const auto d = decide(in);
    check(d, {std::nullopt, "conflict: deals 7, 12", false, {7, 12}});
    EXPECT_TRUE(d.hold);
    // Dora was in the thread already when it was linked: no new evidence, the link stays.
    in.thread_participants.push_back(external("thread", "dora@globex.com", 4, 20));
    check(decide(in), {7, "thread already linked to deal 7", true});
    // A manual link is never questioned.
    in.thread_participants.pop_back();
    in.thread_link = ExistingLink{7, true};
    check(decide(in), {7, "manual link kept", true});
}

TEST(Decide, TwoCustomersInOneThreadNeedTheDealsName) {
    // Alice's company (deal 7, a colleague's) and a reseller's contact Rita (deal 9, the mailbox
    // owner's) both write: owning a deal says nothing about which customer this is about.
    auto in = base();
    in.participants.push_back(external("cc", "rita@reseller.com", 5, 50));
    in.open_deals = {deal(7, "Fleet renewal", 10, {1}, 200, kNow),
                     deal(9, "Reseller programme", 50, {5}, 100, kNow)};
    const auto d = decide(in);
    EXPECT_EQ(d.deal, std::nullopt);
    EXPECT_EQ(d.reason, "ambiguous: deals 7, 9");
    in.subject = "Re: Fleet renewal next steps";
    check(decide(in), {7, "deal name in subject (deal 7), another customer taking part"});
    in.subject = "Fleet renewal and Reseller programme";
    EXPECT_EQ(decide(in).deal, std::nullopt);
    // One customer's two deals: the owner and recency may still tell them apart.
    in.participants.pop_back();
    in.subject = "Hello";
    in.open_deals = {deal(7, "Fleet renewal", 10, {1}, 200, kNow),
                     deal(8, "Spare parts", 10, {1}, 100, kNow)};
    EXPECT_EQ(decide(in).deal, std::optional<DealId>(8));
}

TEST(Decide, ThreaderConflictAndHeldThreads) {
    auto in = base();
    in.open_deals = {deal(3, "Only", 10, {1})};
    in.conflict_deals = {5, 3};
    auto d = decide(in);
    check(d, {std::nullopt, "conflict: deals 3, 5", false, {3, 5}});
    EXPECT_TRUE(d.hold);
    in.conflict_deals.clear();
    in.thread_held = true; // a person has yet to decide: a single open deal does not link it
    d = decide(in);
    check(d, {std::nullopt, "thread held for a person", true});
    EXPECT_FALSE(d.hold);
}

TEST(Decide, ThreadParticipantsDecideAnUnlinkedThread) {
    // The first message came from an unknown address; the thread's earlier participant Alice
    // has one open deal: the conversation is hers.
    auto in = base();
    in.participants = {external("from", "new@unknown.example", std::nullopt, std::nullopt),
                       internal("to", "bob@us.com", 100)};
    check(decide(in), {std::nullopt, "unknown sender"});
    in.thread_participants = {external("thread", "alice@acme.com", 1, 10)};
    in.open_deals = {deal(3, "Only", 10, {1})};
    check(decide(in), {3, "single open deal"});
}

TEST(Decide, TokenDeals) {
    auto in = base();
    in.is_bulk = true; // a verified token outranks the bulk rule
    in.token_deals = {5};
    check(decide(in), {5, "deal token in References"});
    in.token_deals = {5, 8, 8};
    check(decide(in), {8, "deal token in References"});
    in.token_deals = {8, 5, 5, 8}; // tie: first seen
    check(decide(in), {8, "deal token in References"});
}

TEST(Decide, BulkMail) {
    auto in = base();
    in.is_bulk = true;
    in.open_deals = {deal(3, "Only")};
    check(decide(in), {std::nullopt, "bulk mail"});
}

TEST(Decide, SuspiciousSenderStillSuggests) {
    auto in = base();
    in.suspicious_sender = "lookalike of acme.com";
    in.open_deals = {deal(3, "Renewal", 10), deal(4, "Hello", 10)};
    check(decide(in), {std::nullopt, "suspicious sender: lookalike of acme.com", false, {4, 3}});
}

TEST(Decide, InternalMail) {
    auto in = base();
    in.participants = {internal("from", "carol@us.com", 101), internal("to", "bob@us.com", 100)};
    in.open_deals = {deal(3, "Only")};
    check(decide(in), {std::nullopt, "internal mail"});
}

TEST(Decide, UnknownSender) {
    auto in = base();
    in.participants = {external("from", "stranger@x.com", std::nullopt, std::nullopt),
                       internal("to", "bob@us.com", 100)};
    check(decide(in), {std::nullopt, "unknown sender"});
}

TEST(Decide, UnknownParticipantsOnOutgoingMail) {
    auto in = base();
    in.participants = {internal("from", "bob@us.com", 100),
                       external("to", "stranger@x.com", std::nullopt, std::nullopt)};
    check(decide(in), {std::nullopt, "unknown participants"});
}

TEST(Decide, NoOpenDeal) {
    auto in = base();
    check(decide(in), {std::nullopt, "no open deal for contact 1"});
    in.participants = {external("from", "info@acme.com", std::nullopt, 10)};
    check(decide(in), {std::nullopt, "no open deal for company 10"});
}

TEST(Decide, SingleOpenDeal) {
    auto in = base();
    in.open_deals = {deal(3, "Anything")};
    check(decide(in), {3, "single open deal"});
    in.open_deals = {deal(3, "Anything"), deal(3, "Anything")}; // duplicates collapse
    check(decide(in), {3, "single open deal"});
}

TEST(Decide, OutgoingMailToKnownContact) {
    auto in = base();
    in.participants = {internal("from", "bob@us.com", 100),
                       external("to", "alice@acme.com", 1, 10)};
    in.open_deals = {deal(3, "Anything")};
    check(decide(in), {3, "single open deal"});
}

TEST(Decide, BestScoreWins) {
    auto in = base();
    in.subject = "Re: ACME renewal 2024 - pricing";
    // 12: company only (1). 17: name in subject (3) + contact (2) + company (1) = 6.
    in.open_deals = {deal(12, "Website"), deal(17, "Acme Renewal", 10, {1})};
    in.open_deals[0].company = 10;
    const auto d = decide(in);
    check(d, {17, "best score 6.0 vs 1.0 (deal 17)"});
    EXPECT_DOUBLE_EQ(d.score, 6.0);
}

TEST(Decide, NameMustBeAWordSequence) {
    auto in = base();
    in.subject = "Renewals acmeish";
    in.open_deals = {deal(12, "Renewal", 10), deal(17, "Acme", 10)};
    check(decide(in), {std::nullopt, "ambiguous: deals 12, 17", false, {12, 17}});
}

TEST(Decide, TieIsAmbiguous) {
    auto in = base();
    in.open_deals = {deal(17, "X", 10, {1}), deal(12, "Y", 10, {1}), deal(30, "Z")};
    // 12 and 17 both score 3; 30 scores 0.
    check(decide(in), {std::nullopt, "ambiguous: deals 12, 17", false, {12, 17, 30}});
}

TEST(Decide, MarginDecides) {
    auto in = base();
    // 17: contact (2) + owner (2) = 4; 12: contact (2) + company (1) = 3. 4 < 1.5 * 3.
    in.open_deals = {deal(12, "X", 10, {1}), deal(17, "Y", std::nullopt, {1}, 100)};
    check(decide(in), {std::nullopt, "ambiguous: deals 12, 17", false, {17, 12}});
    SortPolicy loose;
    loose.margin = 1.2;
    check(decide(in, loose), {17, "best score 4.0 vs 3.0 (deal 17)"});
}

TEST(Decide, MinScore) {
    auto in = base();
    // 12: company (1); 17: nothing. Best below min_score 2.0.
    in.open_deals = {deal(17, "Y"), deal(12, "X", 10)};
    check(decide(in), {std::nullopt, "ambiguous: deals 12, 17", false, {12, 17}});
    SortPolicy low;
    low.min_score = 1.0;
    check(decide(in, low), {12, "best score 1.0 vs 0.0 (deal 12)"});
}

TEST(Decide, Recency) {
    auto in = base();
    // Same evidence (contact, 2); 17 updated today (+1), 12 45 days ago (+0.5).
    in.open_deals = {deal(12, "X", std::nullopt, {1}, std::nullopt, kNow - 45 * kDay),
                     deal(17, "Y", std::nullopt, {1}, std::nullopt, kNow)};
    SortPolicy p;
    p.margin = 1.1;
    const auto d = decide(in, p);
    check(d, {17, "best score 3.0 vs 2.5 (deal 17)"});
    EXPECT_DOUBLE_EQ(d.score, 3.0);
    in.open_deals[1].updated_at = kNow + 10 * kDay; // future timestamps count as today
    EXPECT_DOUBLE_EQ(decide(in, p).score, 3.0);
}

TEST(Decide, ContactCountsPerDistinctParticipant) {
    auto in = base();
    in.participants.push_back(external("cc", "dave@acme.com", 2, 10));
    in.participants.push_back(external("reply-to", "alice@acme.com", 1, 10));
    // 17 has both contacts: 2 + 2 + company 1 = 5; 12 has Alice only: 2 + 1 = 3.
    in.open_deals = {deal(12, "X", 10, {1}), deal(17, "Y", 10, {1, 2})};
    check(decide(in), {17, "best score 5.0 vs 3.0 (deal 17)"});
}

TEST(Decide, SuggestionsOrderAndLimit) {
    auto in = base();
    in.subject = "alpha";
    in.open_deals = {deal(9, "Z"), deal(8, "Z"), deal(7, "Z", 10), deal(6, "Z"),
                     deal(5, "Alpha"), deal(4, "Z", 10), deal(3, "Z")};
    in.open_deals[4].company = 10; // 5: name 3 + company 1 = 4
    in.open_deals[0].owner = 100;  // 9: owner 2
    // 4 vs 2 wins by margin; make it ambiguous with a second strong deal.
    in.open_deals[1].contacts = {1}; // 8: contact 2 + ... = 2
    in.open_deals[1].owner = 100;    // 8: 4
    check(decide(in), {std::nullopt, "ambiguous: deals 5, 8", false, {5, 8, 9, 4, 7}});
}

TEST(Decide, Deterministic) {
    auto in = base();
    in.open_deals = {deal(17, "X", 10, {1}), deal(12, "Y", 10, {1})};
    auto reversed = in;
    std::swap(reversed.open_deals[0], reversed.open_deals[1]);
    const auto a = decide(in);
    const auto b = decide(reversed);
    EXPECT_EQ(a.reason, b.reason);
    EXPECT_EQ(a.suggestions, b.suggestions);
}

} // namespace
