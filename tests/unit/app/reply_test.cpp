#include <gtest/gtest.h>

#include "crm/app/reply.hpp"

namespace crm::app {
namespace {

ReplyParentInfo parent() {
    ReplyParentInfo p;
    p.message_id = "m1@customer.example";
    p.subject = "AW: Re: Pricing";
    p.references = {"m0@x.example"};
    p.from = {{"Chloé", "chloe@customer.example"}};
    p.to = {{"Alice", "alice@sales.example"}, {"Dan", "dan@customer.example"}};
    p.cc = {{"Bob", "Bob+crm@Sales.example"}, {"Eve", "eve@partner.example"}};
    p.deal = 42;
    return p;
}

const std::vector<std::string> kOwn = {"alice@sales.example", "bob@sales.example"};

TEST(PlanReply, ReplyGoesToTheSenderWithOneRe) {
    auto r = plan_reply(parent(), {}, "alice@sales.example", kOwn, "00112233445566778899aabb");
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->to.size(), 1u);
    EXPECT_EQ(r->to[0].address, "chloe@customer.example");
    EXPECT_TRUE(r->cc.empty());
    EXPECT_EQ(r->subject, "Re: Pricing");
    EXPECT_EQ(r->in_reply_to, "m1@customer.example");
    EXPECT_EQ(r->references, (std::vector<std::string>{"m0@x.example", "m1@customer.example"}));
    EXPECT_EQ(r->message_id, "crm.42.00112233445566778899aabb@sales.example");
    EXPECT_EQ(r->mode, "reply");
}

TEST(PlanReply, ASpoofedLookingMessageSuppliesNoRecipient) {
    auto p = parent();
    p.reply_to = {{"Chloé", "payments@evil.example"}};
    p.suspicious = "authentication failed (DKIM/DMARC/SPF)";
    for (bool all : {false, true}) {
        ReplyChoice c;
        c.all = all;
        auto r = plan_reply(p, c, "alice@sales.example", kOwn, "00112233445566778899aabb");
        ASSERT_FALSE(r.has_value());
        EXPECT_NE(r.error().detail.find("looks spoofed"), std::string::npos) << r.error().detail;
    }
    ReplyChoice named;
    named.to = {"chloe@customer.example"};
    auto r = plan_reply(p, named, "alice@sales.example", kOwn, "00112233445566778899aabb");
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->to.size(), 1U);
    EXPECT_EQ(r->to[0].address, "chloe@customer.example");
}

TEST(PlanReply, ReplyToHeaderWins) {
    auto p = parent();
    p.reply_to = {{"Desk", "desk@customer.example"}};
    auto r = plan_reply(p, {}, "alice@sales.example", kOwn, "aa");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->to.size(), 1u);
    EXPECT_EQ(r->to[0].address, "desk@customer.example");
}

TEST(PlanReply, ReplyAllAddsExternalsNeverOurOwn) {
    ReplyChoice c;
    c.all = true;
    auto r = plan_reply(parent(), c, "alice@sales.example", kOwn, "aa");
    ASSERT_TRUE(r);
    std::vector<std::string> to, cc;
    for (const auto& a : r->to)
        to.push_back(a.address);
    for (const auto& a : r->cc)
        cc.push_back(a.address);
    EXPECT_EQ(to, (std::vector<std::string>{"chloe@customer.example", "dan@customer.example"}));
    EXPECT_EQ(cc, (std::vector<std::string>{"eve@partner.example"})); // Bob+crm is ours
    EXPECT_EQ(r->mode, "reply-all");
}

TEST(PlanReply, ChosenRecipientsAndBcc) {
    ReplyChoice c;
    c.to = {"x@new.example"};
    c.cc = {"y@new.example", "x@new.example"};
    c.bcc = {"audit@sales.example"};
    auto r = plan_reply(parent(), c, "alice@sales.example", kOwn, "aa");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->to.size(), 1u);
    EXPECT_EQ(r->cc.size(), 1u); // the duplicate of To is dropped
    EXPECT_EQ(r->bcc.size(), 1u);
    EXPECT_EQ(r->mode, "custom");
}

TEST(PlanReply, InjectionAndBadAddressesRefused) {
    for (const char* bad :
         {"a@b.example>\r\nRCPT TO:<x@y.example", "a@b\r\n", "no-at-sign", "a b@c.example",
          "<a@b.example>", "victim%evil.example@relay.example"}) {
        // Each list names itself in the code (the API's 422 names the field).
        for (const char* field : {"to", "cc", "bcc"}) {
            ReplyChoice c;
            (std::string_view(field) == "to"   ? c.to
             : std::string_view(field) == "cc" ? c.cc
                                               : c.bcc) = {bad};
            auto r = plan_reply(parent(), c, "alice@sales.example", kOwn, "aa");
            ASSERT_FALSE(r) << bad;
            EXPECT_EQ(r.error().code, std::string("reply.invalid.") + field) << bad;
        }
    }
}

TEST(PlanReply, NoExternalRecipientIsAnError) {
    auto p = parent();
    p.from = {{"Alice", "alice@sales.example"}};
    p.to = {{"Bob", "bob@sales.example"}};
    p.cc.clear();
    auto r = plan_reply(p, {}, "alice@sales.example", kOwn, "aa");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("--to"), std::string::npos);
}

TEST(PlanReply, ReplyingToOurOwnMessageAnswersItsRecipients) {
    auto p = parent();
    p.from = {{"Alice", "alice@sales.example"}};
    auto r = plan_reply(p, {}, "alice@sales.example", kOwn, "aa");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->to.size(), 1u);
    EXPECT_EQ(r->to[0].address, "dan@customer.example");
}

TEST(PlanReply, MessageIdWithoutDeal) {
    EXPECT_EQ(make_message_id(std::nullopt, "a@b.example", "ff"), "crm.0.ff@b.example");
}

} // namespace
} // namespace crm::app
