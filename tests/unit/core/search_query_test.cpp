// The search box's query language (issue 19): what each part means, and where a malformed
// query is wrong.
#include "crm/core/quarantine.hpp"
#include "crm/core/search_query.hpp"

#include <gtest/gtest.h>

namespace crm {
namespace {

using Field = SearchTerm::Field;

SearchQuery ok(std::string_view text) {
    auto q = parse_search_query(text);
    EXPECT_TRUE(q.has_value()) << text << ": " << (q ? "" : q.error().message);
    return q ? *q : SearchQuery{};
}

QueryError bad(std::string_view text) {
    auto q = parse_search_query(text);
    EXPECT_FALSE(q.has_value()) << text;
    return q ? QueryError{} : q.error();
}

TEST(SearchQuery, WordsPhrasesAndNegation) {
    const auto q = ok("price  \"offer for Q3\" -draft -\"old quote\"");
    ASSERT_EQ(q.terms.size(), 4U);
    EXPECT_EQ(q.terms[0].text, "price");
    EXPECT_EQ(q.terms[1].text, "offer for Q3");
    EXPECT_FALSE(q.terms[1].negated);
    EXPECT_EQ(q.terms[2].text, "draft");
    EXPECT_TRUE(q.terms[2].negated);
    EXPECT_EQ(q.terms[3].text, "old quote");
    EXPECT_TRUE(q.terms[3].negated);
    EXPECT_TRUE(q.has_text());
}

TEST(SearchQuery, FieldOperators) {
    const auto q = ok("from:acme.com to:\"Bob Buyer\" subject:offer filename:pdf -from:noreply");
    ASSERT_EQ(q.terms.size(), 5U);
    EXPECT_EQ(q.terms[0].field, Field::From);
    EXPECT_EQ(q.terms[0].text, "acme.com");
    EXPECT_EQ(q.terms[1].field, Field::To);
    EXPECT_EQ(q.terms[1].text, "Bob Buyer");
    EXPECT_EQ(q.terms[2].field, Field::Subject);
    EXPECT_EQ(q.terms[3].field, Field::Filename);
    EXPECT_EQ(q.terms[4].field, Field::From);
    EXPECT_TRUE(q.terms[4].negated);
}

TEST(SearchQuery, Filters) {
    const auto q = ok("deal:1001 has:attachment after:2026-01-31 before:2026/03/01 is:unread "
                      "is:unsorted");
    EXPECT_TRUE(q.terms.empty());
    EXPECT_EQ(q.deal, 1001);
    EXPECT_TRUE(q.has_attachment);
    EXPECT_EQ(q.after, 1769817600);  // 2026-01-31T00:00:00Z
    EXPECT_EQ(q.before, 1772323200); // 2026-03-01T00:00:00Z
    EXPECT_EQ(q.unread, true);
    EXPECT_TRUE(q.unsorted);
    EXPECT_EQ(ok("is:read x").unread, false);
    EXPECT_EQ(ok("before:2024-02-29 x").before, 1709164800); // a leap day
}

TEST(SearchQuery, TextThatOnlyLooksLikeAnOperatorIsAWord) {
    // Upper case, digits and a lone dash are words, and so is a colon inside a word.
    const auto q = ok("Re:Offer 10:30 - \"from:me\"");
    ASSERT_EQ(q.terms.size(), 4U);
    EXPECT_EQ(q.terms[0].text, "Re:Offer");
    EXPECT_EQ(q.terms[1].text, "10:30");
    EXPECT_EQ(q.terms[2].text, "-");
    EXPECT_EQ(q.terms[3].text, "from:me");
    EXPECT_EQ(q.terms[3].field, Field::Any);
}

TEST(SearchQuery, ChineseAndIdeographicSpaces) {
    const auto q = ok("价格\u3000报价单 București");
    ASSERT_EQ(q.terms.size(), 3U);
    EXPECT_EQ(q.terms[0].text, "价格");
    EXPECT_EQ(q.terms[1].text, "报价单");
    EXPECT_EQ(q.terms[2].text, "București");
}

TEST(SearchQuery, ErrorsNameThePosition) {
    // Positions count characters from 1, so text before the error in any script counts once.
    auto e = bad("offer \"price list");
    EXPECT_EQ(e.position, 7U);
    EXPECT_NE(e.message.find("never closed"), std::string::npos) << e.message;
    e = bad("ș from:");
    EXPECT_EQ(e.position, 8U);
    EXPECT_NE(e.message.find("needs a value"), std::string::npos) << e.message;
    e = bad("价格 form:acme");
    EXPECT_EQ(e.position, 4U);
    EXPECT_NE(e.message.find("form: is not an operator"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("from:"), std::string::npos) << e.message; // names the known ones
    e = bad("x before:2026-02-30");
    EXPECT_EQ(e.position, 10U);
    EXPECT_NE(e.message.find("YYYY-MM-DD"), std::string::npos) << e.message;
    e = bad("x deal:acme");
    EXPECT_EQ(e.position, 8U);
    e = bad("x is:starred");
    EXPECT_NE(e.message.find("is:starred is unknown"), std::string::npos) << e.message;
    e = bad("x has:pdf");
    EXPECT_NE(e.message.find("has:attachment"), std::string::npos) << e.message;
    e = bad("x -deal:5");
    EXPECT_EQ(e.position, 3U);
    EXPECT_NE(e.message.find("cannot be negated"), std::string::npos) << e.message;
    e = bad("x \"\"");
    EXPECT_EQ(e.position, 3U);
}

TEST(SearchQuery, EmptyNegatedOnlyAndOversizedQueriesAreRefused) {
    EXPECT_NE(bad("   ").message.find("empty"), std::string::npos);
    EXPECT_NE(bad("-draft -spam").message.find("excluded words"), std::string::npos);
    EXPECT_EQ(ok("-draft deal:7").deal, 7); // a filter beside it is enough
    EXPECT_NE(bad(std::string(1001, 'a')).message.find("longer than 1000"), std::string::npos);
    std::string many;
    for (int i = 0; i < 51; ++i)
        many += "w ";
    EXPECT_NE(bad(many).message.find("more than 50 parts"), std::string::npos);
    EXPECT_NE(bad("caf\xE9").message.find("UTF-8"), std::string::npos);
}

// Quarantine ids: what crm-mailctl and the API print, and read back; anything else refused.
TEST(QuarantineId, RoundTripsAndRefusesWhatIsNotOne) {
    const QuarantineKey k{12, 4000000000U, 77};
    EXPECT_EQ(quarantine_id(k), "12:4000000000:77");
    EXPECT_EQ(parse_quarantine_id("12:4000000000:77"), k);
    for (const char* bad : {"", "12", "12:3", "12:3:", ":3:4", "12:3:4:5", "12:x:4", "0:3:4",
                            "12:3:0", "12:4294967296:1", "-1:3:4", "12:3:4 "})
        EXPECT_FALSE(parse_quarantine_id(bad)) << bad;
}

} // namespace
} // namespace crm
