#include <gtest/gtest.h>

#include "crm/runtime/ingest_options.hpp"

namespace crm::runtime {
namespace {

// Every [matching] key that shapes ingest reaches IngestOptions (the daemon and crm-mailctl
// import both build their options here).
TEST(IngestOptions, CarryEveryMatchingSetting) {
    settings::MatchingConfig m;
    m.strip_plus_tags = false;
    m.plus_separator = '-';
    m.gmail_dot_folding = false;
    m.extra_free_mail_domains = {"mail.example"};
    m.trusted_authserv_ids = {"mx.team.example"};
    const auto o = ingest_options(m);
    EXPECT_FALSE(o.addresses.strip_plus_tags);
    EXPECT_EQ(o.addresses.plus_separator, '-');
    EXPECT_FALSE(o.addresses.gmail_dot_folding);
    EXPECT_EQ(o.addresses.extra_free_mail_domains, std::vector<std::string>{"mail.example"});
    EXPECT_EQ(o.trusted_authserv_ids, std::vector<std::string>{"mx.team.example"});

    const auto d = ingest_options(settings::MatchingConfig{});
    EXPECT_TRUE(d.addresses.strip_plus_tags);
    EXPECT_EQ(d.addresses.plus_separator, '+');
    EXPECT_TRUE(d.trusted_authserv_ids.empty());
}

} // namespace
} // namespace crm::runtime
