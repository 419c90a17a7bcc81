#include <gtest/gtest.h>

#include "crm/app/csv.hpp"

namespace crm::app {
namespace {

TEST(Csv, QuotesDoubledQuotesNewlinesAndBom) {
    auto r = parse_csv("\xEF\xBB\xBF" "a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].fields, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ((*r)[1].fields, (std::vector<std::string>{"x, y", "say \"hi\""}));
    EXPECT_EQ((*r)[2].fields, (std::vector<std::string>{"multi\nline", "z"}));
    EXPECT_EQ((*r)[2].line, 3u);
}

TEST(Csv, UnterminatedQuoteNamesLine) {
    auto r = parse_csv("a,b\n1,\"open\n2,3\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "csv.syntax");
    EXPECT_NE(r.error().detail.find("line 2"), std::string::npos);
}

TEST(Csv, UsersColumnsInAnyOrderUnknownIgnored) {
    auto r = users_from_csv("role,EMAIL,junk,name,id\nadmin,Carol@Example.COM,x,Carol,3\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_TRUE(r->problems.empty());
    EXPECT_EQ(r->rows[0].id, 3);
    EXPECT_EQ(r->rows[0].name, "Carol");
    EXPECT_EQ(r->rows[0].canonical_email, "carol@example.com");
    EXPECT_EQ(r->rows[0].role, "admin");
}

TEST(Csv, BadRowsReportedWithLineNumbers) {
    auto r = users_from_csv("id,name,email,role\n1,A,a@x.example,admin\nzero,B,b@x.example,admin\n"
                            "\n4,D,d@x.example,owner\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rows.size(), 1u);
    ASSERT_EQ(r->problems.size(), 2u);
    EXPECT_EQ(r->problems[0].line, 3u);
    EXPECT_NE(r->problems[0].what.find("id"), std::string::npos);
    EXPECT_EQ(r->problems[1].line, 5u);
    EXPECT_NE(r->problems[1].what.find("role"), std::string::npos);
}

TEST(Csv, MissingRequiredColumn) {
    auto r = deals_from_csv("name,status\nx,open\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "csv.header");
    EXPECT_NE(r.error().detail.find("id"), std::string::npos);
}

TEST(Csv, CompaniesDomainsCanonicalAndFreeMailRefused) {
    auto r = companies_from_csv("id,name,domains\n1,Acme,ACME.example  Bücher.example\n2,G,gmail.com\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].domains,
              (std::vector<std::string>{"acme.example", "xn--bcher-kva.example"}));
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_EQ(r->problems[0].line, 3u);
}

TEST(Csv, ContactsSeveralAddressesOptionalCompany) {
    auto r = contacts_from_csv("id,name,emails,company_id\n5,Jo,jo@a.example Jo+crm@B.example,\n"
                               "6,Al,al@a.example,7\n7,Bad,nope,\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->rows.size(), 2u);
    EXPECT_FALSE(r->rows[0].company);
    ASSERT_EQ(r->rows[0].emails.size(), 2u);
    EXPECT_EQ(r->rows[0].emails[1].first, "jo@b.example");
    EXPECT_EQ(r->rows[0].emails[1].second, "Jo+crm@B.example");
    EXPECT_EQ(r->rows[1].company, 7);
    ASSERT_EQ(r->problems.size(), 1u);
    EXPECT_EQ(r->problems[0].line, 4u);
}

TEST(Csv, DealsValidation) {
    auto r = deals_from_csv(
        "id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n"
        "1,Big,2,3 4,5,proposal,OPEN,1200.50,eur\n"
        "2,Bad status,,,,,paused,1,USD\n"
        "3,Bad value,,,,,open,12k,USD\n"
        "4,Bad currency,,,,,open,1,EURO\n");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->rows.size(), 1u);
    EXPECT_EQ(r->rows[0].contacts, (std::vector<ContactId>{3, 4}));
    EXPECT_EQ(r->rows[0].status, "open");
    EXPECT_EQ(r->rows[0].currency, "EUR");
    EXPECT_EQ(r->rows[0].value, "1200.50");
    ASSERT_EQ(r->problems.size(), 3u);
    EXPECT_EQ(r->problems[0].line, 3u);
    EXPECT_EQ(r->problems[1].line, 4u);
    EXPECT_EQ(r->problems[2].line, 5u);
}

} // namespace
} // namespace crm::app
