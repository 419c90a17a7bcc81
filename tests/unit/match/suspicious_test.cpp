#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crm/match/sort.hpp"

namespace {

using crm::Address;
using crm::ParsedMessage;
using crm::match::suspicious_sender;

struct Case {
    std::string name;
    std::string address;
    bool auth_failed;
    std::string expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.name << "\" <" << c.address << '>'; }

const std::vector<std::string> kKnown = {"acme.com", "Example.ORG", "microsoft.com", "bücher.de",
                                         "ab.io",    "x.io"};

class Suspicious : public testing::TestWithParam<Case> {};

TEST_P(Suspicious, Table) {
    const auto& c = GetParam();
    ParsedMessage m;
    m.auth_failed = c.auth_failed;
    EXPECT_EQ(suspicious_sender(Address{c.name, c.address}, m, kKnown), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Suspicious,
    testing::Values(
        // legitimate
        Case{"Alice", "alice@acme.com", false, ""},
        Case{"Alice", "Alice+tag@ACME.com", false, ""},
        Case{"alice@acme.com", "alice@acme.com", false, ""},
        Case{"Alice (ALICE@acme.com)", "alice+x@acme.com", false, ""},
        Case{"Bob", "bob@unrelated-startup.io", false, ""},
        Case{"Bob", "bob@gmail.com", false, ""},
        Case{"Bob", "bob@xn--bcher-kva.de", false, ""}, // the known IDN itself
        Case{"Bob", "bob@y.io", false, ""}, // one edit from x.io, but shorter than 5
        Case{"Joe @ Acme", "joe@acme.com", false, ""},  // '@' without an address
        // authentication
        Case{"Alice", "alice@acme.com", true, "authentication failed (DKIM/DMARC/SPF)"},
        // display-name spoof
        Case{"ceo@acme.com", "attacker@evil.net", false, "display name shows another address"},
        Case{"\"CEO\" <ceo@acme.com>", "ceo@acme.co", false, "display name shows another address"},
        // homoglyphs: Cyrillic а (U+0430) in "аcme", Greek ο in "micrοsoft", digits, rn, vv
        Case{"Alice", "alice@\xd0\xb0""cme.com", false, "lookalike of acme.com"},
        Case{"IT", "it@micr\xce\xbfsoft.com", false, "lookalike of microsoft.com"},
        Case{"IT", "it@micros0ft.com", false, "lookalike of microsoft.com"},
        Case{"IT", "it@rnicrosoft.com", false, "lookalike of microsoft.com"},
        Case{"IT", "it@exarnp1e.org", false, "lookalike of example.org"},
        Case{"Bob", "bob@bucher.de", false, "lookalike of xn--bcher-kva.de"},
        // one edit away
        Case{"Alice", "alice@acme.co", false, "lookalike of acme.com"},
        Case{"Alice", "alice@acmee.com", false, "lookalike of acme.com"},
        Case{"Alice", "alice@amce.com", false, "lookalike of acme.com"},
        Case{"Alice", "alice@acne.com", false, "lookalike of acme.com"},
        Case{"IT", "it@microsfot.com", false, "lookalike of microsoft.com"},
        Case{"Bob", "bob@ac.io", false, "lookalike of ab.io"}, // exactly 5 long
        // two edits: not flagged
        Case{"Alice", "alice@acne.co", false, ""}));

TEST(Suspicious, InvalidSenderAddress) {
    ParsedMessage m;
    EXPECT_EQ(suspicious_sender(Address{"", "not an address"}, m, kKnown), "");
    EXPECT_EQ(suspicious_sender(Address{"boss@acme.com", "not an address"}, m, kKnown),
              "display name shows another address");
}

TEST(Suspicious, NoKnownDomains) {
    ParsedMessage m;
    EXPECT_EQ(suspicious_sender(Address{"", "alice@acme.co"}, m, {}), "");
}

} // namespace
