#include <gtest/gtest.h>

#include "crm/app/compose.hpp"

namespace crm::app {
namespace {

MessageView original() {
    MessageView m;
    m.id = 7;
    m.from_name = "Ana Pop";
    m.from_address = "ana@client.example";
    m.date = 1764581400; // Mon, 01 Dec 2025 09:30:00 +0000
    m.text_body = "Hello,\r\ncan you send the offer?\n\n> older quote\nAna\n";
    m.html_body = "<p onclick=\"steal()\">Hello,</p><script>alert(1)</script>"
                  "<img src=\"https://tracker.example/p.gif\"><p>can you send the offer?</p>";
    return m;
}

TEST(ComposeText, AsWrittenWithoutSignatureOrQuote) {
    EXPECT_EQ(compose_text("Hi there\n\n", "", nullptr), "Hi there\n\n");
}

TEST(ComposeText, SignatureAfterTheDashDashLine) {
    EXPECT_EQ(compose_text("Hi there\n\n", "Ion Ionescu\nSales", nullptr),
              "Hi there\n\n-- \nIon Ionescu\nSales");
    EXPECT_EQ(compose_text("", "Ion", nullptr), "-- \nIon");
}

TEST(ComposeText, QuoteHasTheAttributionAndEveryLineMarked) {
    const auto m = original();
    const auto t = compose_text("Here it is.", "Ion", &m);
    EXPECT_EQ(t, "Here it is.\n\n-- \nIon\n\n"
                 "On Mon, 01 Dec 2025 09:30:00 +0000, Ana Pop <ana@client.example> wrote:\n"
                 "> Hello,\n"
                 "> can you send the offer?\n"
                 ">\n"
                 ">> older quote\n"
                 "> Ana\n");
}

TEST(ComposeText, QuoteOfAnHtmlOnlyMessageUsesItsText) {
    auto m = original();
    m.text_body.clear();
    const auto t = compose_text("Ok", "", &m);
    EXPECT_NE(t.find("> can you send the offer?"), std::string::npos) << t;
    EXPECT_EQ(t.find("alert"), std::string::npos) << t;
}

TEST(ComposeHtml, OriginalIsSanitisedAndWhatWasWrittenEscaped) {
    const auto m = original();
    const auto h = compose_html("1 < 2 & <b>not bold</b>", "Ion <ion@sales.example>", m);
    EXPECT_NE(h.find("1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;"), std::string::npos) << h;
    EXPECT_NE(h.find("Ion &lt;ion@sales.example&gt;"), std::string::npos) << h;
    EXPECT_NE(h.find("<blockquote type=\"cite\""), std::string::npos) << h;
    EXPECT_NE(h.find("can you send the offer?"), std::string::npos) << h;
    EXPECT_NE(h.find("Ana Pop &lt;ana@client.example&gt; wrote:"), std::string::npos) << h;
    for (const char* bad : {"<script", "onclick", "tracker.example", "alert(1)"})
        EXPECT_EQ(h.find(bad), std::string::npos) << bad << " in " << h;
}

TEST(CheckAttachments, LimitsNameTheFileAndTheLimit) {
    const ComposeLimits limits{1024, 1536};
    std::vector<OutboxAttachment> atts{{"offer.pdf", "application/pdf", ""}};
    EXPECT_TRUE(check_attachments(atts, {std::string(1024, 'x')}, limits));
    auto big = check_attachments(atts, {std::string(1025, 'x')}, limits);
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, "compose.too_large");
    EXPECT_NE(big.error().detail.find("'offer.pdf'"), std::string::npos) << big.error().detail;
    EXPECT_NE(big.error().detail.find("1 KiB"), std::string::npos) << big.error().detail;
    atts.push_back({"terms.pdf", "application/pdf", ""});
    auto total = check_attachments(atts, {std::string(1000, 'x'), std::string(1000, 'y')}, limits);
    ASSERT_FALSE(total);
    EXPECT_EQ(total.error().code, "compose.too_large");
    EXPECT_NE(total.error().detail.find("together"), std::string::npos) << total.error().detail;
}

TEST(CheckAttachments, BadNamesAndTypesRefused) {
    const ComposeLimits limits;
    const std::vector<std::pair<OutboxAttachment, std::string>> bad{
        {{"", "text/plain", ""}, "no file name"},
        {{"a\r\nBcc: x@evil.example", "text/plain", ""}, "CR, LF or NUL"},
        {{std::string("a\0b", 3), "text/plain", ""}, "CR, LF or NUL"},
        {{"../etc/passwd", "text/plain", ""}, "not a path"},
        {{"..", "text/plain", ""}, "not a path"},
        {{"x.txt", "text/plain\r\nX-Evil: 1", ""}, "not a content type"},
        {{"x.txt", "textplain", ""}, "not a content type"},
        {{std::string(300, 'n'), "text/plain", ""}, "over 255"},
        {{"bell\a.txt", "text/plain", ""}, "control character"},
        {{"Preis\xfc.csv", "text/plain", ""}, "not valid UTF-8"},
    };
    for (const auto& [att, why] : bad) {
        auto r = check_attachments({att}, {"x"}, limits);
        ASSERT_FALSE(r) << att.filename;
        EXPECT_EQ(r.error().code, "compose.invalid.attachments");
        EXPECT_NE(r.error().detail.find(why), std::string::npos) << r.error().detail;
        EXPECT_EQ(r.error().detail.find('\n'), std::string::npos) << r.error().detail;
    }
}

TEST(DraftKey, OnlyThreadAndDealKeys) {
    for (const char* good : {"thread-1", "deal-42", "thread-123456789012345678"})
        EXPECT_TRUE(draft_key(good)) << good;
    for (const char* bad : {"", "thread-", "thread-0", "thread-01", "deal-1x", "deal--1",
                            "message-3", "thread-1234567890123456789", "../deal-1"})
        EXPECT_FALSE(draft_key(bad)) << bad;
}

} // namespace
} // namespace crm::app
