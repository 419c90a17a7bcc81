#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crm/match/address.hpp"

namespace {

using crm::match::AddressPolicy;
using crm::match::canonical_address;
using crm::match::canonical_domain;
using crm::match::domain_of;
using crm::match::is_free_mail_domain;

struct Case {
    std::string input;
    std::optional<std::string> expected;
};

void PrintTo(const Case& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class CanonicalAddress : public testing::TestWithParam<Case> {};

TEST_P(CanonicalAddress, DefaultPolicy) {
    const auto& c = GetParam();
    EXPECT_EQ(canonical_address(c.input), c.expected) << "input: " << c.input;
    if (c.expected) { // idempotent
        EXPECT_EQ(canonical_address(*c.expected), c.expected);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CanonicalAddress,
    testing::Values(
        // case and whitespace
        Case{"Bob@Example.COM", "bob@example.com"}, Case{"  bob@example.com\t", "bob@example.com"},
        Case{"<Bob@example.com>", "bob@example.com"}, Case{"bob@example.com.", "bob@example.com"},
        // IDNA2008 A-labels
        Case{"user@Bücher.example", "user@xn--bcher-kva.example"},
        Case{"user@BÜCHER.example", "user@xn--bcher-kva.example"},
        Case{"user@xn--bcher-kva.example", "user@xn--bcher-kva.example"},
        Case{"user@faß.de", "user@xn--fa-hia.de"}, // non-transitional: ß kept
        Case{"用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"},
        Case{"DÖrte@Sörensen.example.com", "dÖrte@xn--srensen-90a.example.com"},
        // plus tags
        Case{"bob+crm@x.com", "bob@x.com"}, Case{"bob+a+b@x.com", "bob@x.com"},
        Case{"+tag@x.com", "+tag@x.com"}, Case{"+@b.c", "+@b.c"},
        // Gmail
        Case{"B.o.B@gmail.com", "bob@gmail.com"}, Case{"b.o.b+news@googlemail.com", "bob@gmail.com"},
        Case{"first.last@example.com", "first.last@example.com"}, Case{"...@gmail.com", "...@gmail.com"},
        // quoted local parts
        Case{"\"quoted\"@sld.com", "quoted@sld.com"}, Case{"\"Ima.Fool\"@iana.org", "ima.fool@iana.org"},
        Case{"\"\\e\\s\\c\"@sld.com", "esc@sld.com"}, Case{"\"Fred Bloggs\"@example.com", std::nullopt},
        Case{"\"Abc@def\"@example.com", std::nullopt}, Case{"\"\"@example.com", std::nullopt},
        // single-label domains (intranet hosts) are kept
        Case{"admin@mailserver1", "admin@mailserver1"}, Case{"root@localhost", "root@localhost"},
        Case{"bob@under_scope", "bob@under_scope"}, Case{"foobar@192.168.0.1", "foobar@192.168.0.1"},
        // invalid
        Case{"", std::nullopt}, Case{"   ", std::nullopt}, Case{"no-at-sign", std::nullopt},
        Case{"@example.com", std::nullopt}, Case{"bob@", std::nullopt},
        Case{"bob smith@example.com", std::nullopt}, Case{"bob@exa mple.com", std::nullopt},
        Case{"bob\x01@example.com", std::nullopt}, Case{"bob@example..com", std::nullopt},
        Case{".@.", std::nullopt}, Case{"bob@.example.com", std::nullopt},
        Case{"bob@-example.com", std::nullopt}, Case{"bob@example-.com", std::nullopt},
        Case{"a@b@c.com", std::nullopt}, Case{"a,b@c.com", std::nullopt},
        Case{"bob@[1.2.3.4]", std::nullopt}, Case{"bob@xn--zz.example", std::nullopt},
        Case{"bob@ex!ample.com", std::nullopt}, Case{"b\xff@example.com", std::nullopt},
        Case{"bob@\xff.com", std::nullopt},
        Case{"bob@" + std::string(64, 'a') + ".com", std::nullopt},
        Case{"bob@" + std::string(63, 'a') + ".com", "bob@" + std::string(63, 'a') + ".com"},
        Case{std::string(65, 'a') + "@x.com", std::nullopt},
        Case{"bob@" + std::string(50, 'a') + "." + std::string(50, 'b') + "." +
                 std::string(50, 'c') + "." + std::string(50, 'd') + "." + std::string(50, 'e'),
             std::nullopt}));

TEST(CanonicalAddress, PolicyOff) {
    AddressPolicy p;
    p.strip_plus_tags = false;
    p.gmail_dot_folding = false;
    EXPECT_EQ(canonical_address("B.o.b+x@googlemail.com", p), "b.o.b+x@googlemail.com");
    p.strip_plus_tags = true;
    p.plus_separator = '-';
    EXPECT_EQ(canonical_address("bob-crm+x@x.com", p), "bob@x.com");
    EXPECT_EQ(canonical_address("-bob@x.com", p), "-bob@x.com");
}

TEST(CanonicalDomain, Table) {
    const std::vector<Case> cases = {
        {"Example.COM.", "example.com"}, {"bücher.example", "xn--bcher-kva.example"},
        {"localhost", "localhost"},      {"", std::nullopt},
        {".", std::nullopt},             {"a..b", std::nullopt},
        {"a.b..", std::nullopt},         {"ex ample.com", std::nullopt},
    };
    for (const auto& c : cases)
        EXPECT_EQ(canonical_domain(c.input), c.expected) << c.input;
}

TEST(DomainOf, Basic) {
    EXPECT_EQ(domain_of("bob@example.com"), "example.com");
    EXPECT_EQ(domain_of("nothing"), "");
}

TEST(FreeMail, Table) {
    const std::vector<std::pair<std::string, bool>> cases = {
        {"gmail.com", true},        {"googlemail.com", true}, {"outlook.com", true},
        {"hotmail.com", true},      {"hotmail.co.uk", true},  {"hotmail.fr", true},
        {"live.com", true},         {"yahoo.com", true},      {"yahoo.co.jp", true},
        {"yahoo.com.br", true},     {"gmx.de", true},         {"gmx.net", true},
        {"web.de", true},           {"icloud.com", true},     {"proton.me", true},
        {"yandex.ru", true},        {"qq.com", true},         {"163.com", true},
        {"fastmail.com", true},     {"hey.com", true},        {"tutanota.com", true},
        {"acme.com", false},        {"mail.acme.com", false}, {"yahoo.acme.com", false},
        {"gmail.com.evil.io", false}, {"notgmail.com", false}, {"", false},
    };
    for (const auto& [d, expected] : cases)
        EXPECT_EQ(is_free_mail_domain(d), expected) << d;
}

TEST(FreeMail, PolicyExtras) {
    AddressPolicy p;
    p.extra_free_mail_domains = {"Example-Mail.org.", "bücher.example"};
    EXPECT_TRUE(is_free_mail_domain("example-mail.org", p));
    EXPECT_TRUE(is_free_mail_domain("xn--bcher-kva.example", p));
    EXPECT_FALSE(is_free_mail_domain("example-mail.org"));
}

// Bare addr-specs of flanker's mailbox_valid.txt: no display name, angle brackets, comments
// or whitespace outside quotes.
bool bare_addr_spec(const std::string& line) {
    if (line.empty() || line.front() == '#')
        return false;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted && c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == '<' || c == '>' || c == '(' || c == ')' || c == ' ' ||
                               c == '\t')) {
            return false;
        }
    }
    return !quoted;
}

TEST(CanonicalAddress, FlankerValidMailboxes) {
    std::ifstream in(CRM_TEST_DATA_DIR "/corpora/flanker/mailbox_valid.txt");
    ASSERT_TRUE(in) << "missing corpus";
    // Deliberately rejected (the canonical form is an unquoted key, so it cannot carry these):
    // quoted local parts containing spaces, '@', '"' or '\', or RFC 5322 specials.
    const std::vector<std::string> expected_rejects = {
        "\"much.more unusual\"@example.com",
        "\"very.unusual.@.unusual.com\"@example.com",
        "\"very.(),:;<>[]\\\".VERY.\\\"very@\\\\ \\\"very\\\".unusual\"@strange.example.com",
        "\"()<>[]:,;@\\\\\\\"!#$%&'*+-/=?^_`{}| ~.a\"@example.org",
        "\" \"@example.org",
        "\"quoted-at-sign@sld.org\"@sld.com",
        "\"escaped\\\"quote\"@sld.com",
        "\"tom+[a]\"@s.com",
        "\"Abc@def\"@example.com",
        "\"Fred\\ Bloggs\"@example.com",
        "\"Fred\\@Bloggs\"@example.com",
        "\"first\\\"last\"@iana.org",
        "\"first@last\"@iana.org",
        "\"Abc\\@def\"@iana.org",
        "\"Fred\\ Bloggs\"@iana.org",
        "\"Abc@def\"@iana.org",
        "\"Fred Bloggs\"@iana.org",
        "\"Doug \\\"Ace\\\" L.\"@iana.org",
        "\"[[ test ]]\"@iana.org",
        "\"test@test\"@iana.org",
        "\"test\\\"blah\"@iana.org",
        "\"Austin@Powers\"@iana.org",
        "\"Ima Fool\"@iana.org",
        "\"first\\\\\\\"last\"@iana.org",
        "\"test blah\"@iana.org",
        "\"hello my name is\"@stutter.com",
        "\"Test \\\"Fail\\\" Ing\"@iana.org",
        "\"Fred Bloggs\"@example.com",
        "\"Joe.\\\\Blow\"@example.com",
    };
    std::size_t total = 0;
    std::size_t accepted = 0;
    std::vector<std::string> rejected;
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (!bare_addr_spec(line))
            continue;
        ++total;
        if (canonical_address(line))
            ++accepted;
        else
            rejected.push_back(line);
    }
    for (const auto& r : rejected)
        EXPECT_NE(std::find(expected_rejects.begin(), expected_rejects.end(), r),
                  expected_rejects.end())
            << "unexpectedly rejected: " << r;
    ASSERT_GT(total, 140U);
    const double ratio = static_cast<double>(accepted) / static_cast<double>(total);
    RecordProperty("accepted", static_cast<int>(accepted));
    RecordProperty("total", static_cast<int>(total));
    std::cout << "flanker bare addr-specs accepted: " << accepted << "/" << total << "\n";
    // Measured: 113 of 143 accepted; every reject is listed in expected_rejects above.
    constexpr double kAchieved = 113.0 / 143.0;
    EXPECT_GE(ratio, kAchieved) << accepted << "/" << total;
    EXPECT_EQ(rejected.size(), total - accepted);
}

} // namespace
