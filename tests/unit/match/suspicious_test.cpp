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
    if (c.auth_failed)
        m.authentication_results = {"mx.test; dmarc=fail header.from=" +
                                    c.address.substr(c.address.rfind('@') + 1)};
    EXPECT_EQ(suspicious_sender(Address{c.name, c.address}, m, kKnown), c.expected);
}

struct AuthCase {
    std::string value;
    bool failed;
};

TEST(AuthenticationResults, TrustedServerTable) {
    const std::vector<std::string> ours = {"mx.example.net"};
    const std::vector<AuthCase> cases = {
        {"mx.example.net; dkim=fail header.d=example.com", true},
        {"mx.example.net; dkim=pass header.d=example.com", false},
        {"mx.example.net; dkim=fail header.d=list.other.org; dkim=pass header.d=example.com",
         false},
        {"mx.example.net; dkim=fail (bad signature) header.i=@example.com", true},
        {"mx.example.net; spf=softfail smtp.mailfrom=example.com", false},
        {"mx.example.net; spf=fail smtp.mailfrom=bounce.example.com", true},
        {"mx.example.net; dmarc=fail (p=reject) header.from=example.com", true},
        {"MX.Example.NET 1; DMARC=FAIL header.from=example.com", true},
        {"mx.example.net; dkim=none; spf=pass smtp.mailfrom=example.com", false},
        {"mx.example.net; none", false},
        // Another server's results are not ours to believe, fail or pass.
        {"evil.example; dmarc=fail header.from=example.com", false},
    };
    for (const auto& c : cases) {
        const std::vector<std::string> v = {c.value};
        EXPECT_EQ(crm::match::authentication_failed(v, "example.com", ours), c.failed) << c.value;
    }
}

TEST(AuthenticationResults, AForgedPassNeverCancelsAFail) {
    const std::vector<std::string> values = {
        "mx.example.net; dkim=fail header.d=example.com",
        "mx.example.net; dkim=pass header.d=example.com (forged, below ours)",
        "attacker.example; dkim=pass header.d=example.com"};
    // Ours named: the forged header with our id... is still ours by name: an MTA must strip
    // such headers (RFC 8601 §5); one written by another server is ignored.
    const std::vector<std::string> forged_only = {values[0], values[2]};
    EXPECT_TRUE(crm::match::authentication_failed(forged_only, "example.com",
                                                  std::vector<std::string>{"mx.example.net"}));
    // None named: any fail counts, no pass does.
    EXPECT_TRUE(crm::match::authentication_failed(forged_only, "example.com", {}));
    EXPECT_FALSE(crm::match::authentication_failed(
        std::vector<std::string>{"anyone.example; dkim=pass header.d=example.com"}, "example.com", {}));
    // The spoof guard follows.
    ParsedMessage m;
    m.authentication_results = forged_only;
    EXPECT_EQ(suspicious_sender(Address{"Ann", "ann@example.com"}, m, kKnown),
              "authentication failed (DKIM/DMARC/SPF)");
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
