// Address lists: stalwart-mail-parser's header table and flanker's mailbox lists.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <boost/json/src.hpp> // header-only Boost.JSON, compiled into this one test TU

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace crm::mime {
namespace {

namespace json = boost::json;
using test::corpora;
using test::read_file;
using test::valid_utf8;

std::string str_or_empty(const json::value &v) {
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

void collect(const json::value &list, std::vector<Address> &out) {
    for (const auto &a : list.as_array()) {
        const auto &o = a.as_object();
        if (!o.at("address").is_string())
            continue; // a bare name or comment: our contract only returns mailboxes
        out.push_back({str_or_empty(o.at("name")), str_or_empty(o.at("address"))});
    }
}

// Expected mailboxes of one table entry, groups flattened (our contract flattens groups).
std::vector<Address> expected_of(const json::object &expected) {
    std::vector<Address> out;
    if (const auto *list = expected.if_contains("List"))
        collect(*list, out);
    if (const auto *groups = expected.if_contains("Group"))
        for (const auto &g : groups->as_array())
            collect(g.as_object().at("addresses"), out);
    return out;
}

TEST(AddressList, StalwartTable) {
    const auto doc =
        json::parse(read_file(corpora() / "stalwart-mail-parser" / "headers" / "address.json"));
    const auto &cases = doc.as_array();
    ASSERT_EQ(cases.size(), 60U);
    // Cases skipped on purpose, by index, with the reason:
    const std::set<std::size_t> skip_all = {
        // 9: obsolete quoted-pair of a line break ("\\" + CRLF, RFC 5322 §4.1 obs-qp) inside a
        //    comment; GMime gives up on the whole entry (case 8 is the same text without it).
        9,
        // 13: obsolete route "<@node.test:mary@example.net>" (GMime drops the route and keeps
        //     the addr-spec) and "jdoe@test  . example" (stalwart keeps the blanks in the domain).
        13,
        // 14: "jdoe@machine(comment).  example": stalwart keeps the blanks inside the domain;
        //     we remove the comment and blanks ("jdoe@machine.example").
        14,
        // 37..47: List-* header syntax (RFC 2369 URLs such as <http://...>, "NO (comment)"),
        //     not RFC 5322 address lists; List-* headers are never fed to the address parser.
        37,
        38,
        39,
        40,
        41,
        42,
        43,
        44,
        45,
        46,
        47,
    };
    // Cases whose addresses we check but whose display names differ on purpose: stalwart folds
    // comments into the display name ("Pete (A nice ) chap his account his host)", "John Doe
    // (comment)"), or takes text after the address as the name; GMime keeps the phrase only.
    // Case 33 keeps leading blanks of a quoted name, which we trim; case 31 is a broken
    // encoded word inside quotes whose exact rendering is arbitrary.
    const std::set<std::size_t> skip_names = {8, 10, 14, 22, 31, 33, 55, 56};
    std::size_t checked = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        if (skip_all.contains(i))
            continue;
        const auto &c = cases[i].as_object();
        const std::string header(c.at("header").as_string());
        const auto expected = expected_of(c.at("expected").as_object());
        const auto got = parse_address_list(header);
        ASSERT_EQ(got.size(), expected.size()) << "case " << i << ": " << header;
        for (std::size_t k = 0; k < got.size(); ++k) {
            EXPECT_EQ(got[k].address, expected[k].address) << "case " << i << ": " << header;
            if (!skip_names.contains(i)) {
                EXPECT_EQ(got[k].name, expected[k].name) << "case " << i << ": " << header;
            }
            EXPECT_TRUE(valid_utf8(got[k].name));
        }
        ++checked;
    }
    EXPECT_GE(checked, 40U);
}

// flanker's lists: one address per line; "# ..." lines and trailing "   # note" are comments.
std::vector<std::string> read_list(const char *file) {
    std::vector<std::string> out;
    const std::string text = read_file(corpora() / "flanker" / file);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos)
            nl = text.size();
        std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line == "#" || line.starts_with("# "))
            continue;
        const std::size_t note = line.find("  #");
        if (note != std::string::npos)
            line.resize(note);
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        if (!line.empty())
            out.push_back(line);
    }
    return out;
}

TEST(AddressList, FlankerValidMailboxesYieldOneAddress) {
    const auto lines = read_list("mailbox_valid.txt");
    ASSERT_GT(lines.size(), 50U);
    for (const auto &l : lines) {
        std::vector<std::string> warnings;
        const auto got = parse_address_list(l, &warnings);
        EXPECT_EQ(got.size(), 1U) << l;
        for (const auto &a : got)
            EXPECT_TRUE(valid_utf8(a.address)) << l;
    }
}

TEST(AddressList, FlankerInvalidMailboxesAreRejectedOrFlagged) {
    const auto lines = read_list("mailbox_invalid.txt");
    ASSERT_GT(lines.size(), 50U);
    std::size_t flagged = 0;
    std::vector<std::string> accepted;
    for (const auto &l : lines) {
        std::vector<std::string> warnings;
        const auto got = parse_address_list(l, &warnings);
        if (got.empty() || !warnings.empty())
            ++flagged;
        else
            accepted.push_back(l);
    }
    // Inherently ambiguous for a lenient parser (measured, not hidden; these are printed):
    //  - "gatsby@f.sc.ot.t.f.i.tzg.era.l.d.", "test@example.", "a@bar.com.": GMime drops the
    //    trailing dot of the domain (an absolute DNS name), leaving a valid addr-spec;
    //  - "\"foo\"(yay)@(hoopla)[1.2.3.4]": RFC 5322 CFWS is removed by the parser, leaving the
    //    valid "foo"@[1.2.3.4];
    //  - "test@xn--example.com": invalid only under IDNA rules, not RFC 5322 syntax.
    // Other lax readings ("hello world@iana.org" as display name + mailbox) are flagged
    // because the remaining mailbox has no usable domain or local part.
    for (const auto &a : accepted)
        std::printf("accepted (documented as ambiguous): %s\n", a.c_str());
    const double ratio = static_cast<double>(flagged) / static_cast<double>(lines.size());
    std::printf("invalid mailboxes rejected or flagged: %zu / %zu (%.0f%%)\n", flagged,
                lines.size(), ratio * 100.0);
    EXPECT_GE(ratio, 0.90);
}

TEST(AddressList, GroupsAreFlattenedAndWarningsReported) {
    std::vector<std::string> warnings;
    const auto got = parse_address_list(
        "Team: a@x.test, \"B, Bob\" <b@y.test>;, undisclosed-recipients:;, c@z.test", &warnings);
    ASSERT_EQ(got.size(), 3U);
    EXPECT_EQ(got[0].address, "a@x.test");
    EXPECT_EQ(got[1].name, "B, Bob");
    EXPECT_EQ(got[2].address, "c@z.test");
    std::vector<std::string> w2;
    EXPECT_TRUE(parse_address_list("not an address at all", &w2).empty());
    EXPECT_FALSE(w2.empty());
    EXPECT_TRUE(w2.front().starts_with("address: ")) << w2.front();
}

TEST(AddressList, EncodedAndRawNames) {
    const auto a = parse_address_list("=?UTF-8?B?5pel?= =?UTF-8?B?5pys?= <jp@example.jp>");
    ASSERT_EQ(a.size(), 1U);
    EXPECT_EQ(a[0].name, "\xE6\x97\xA5\xE6\x9C\xAC");
    // U+65E5 split across two B words, bare and inside quotes; specials in a decoded name.
    for (const char *v : {"=?UTF-8?B?5pc=?= =?UTF-8?B?pQ==?= <a@x.test>",
                          "\"=?UTF-8?B?5pc=?= =?UTF-8?B?pQ==?=\" <a@x.test>"}) {
        const auto s = parse_address_list(v);
        ASSERT_EQ(s.size(), 1U) << v;
        EXPECT_EQ(s[0].name, "\xE6\x97\xA5") << v;
    }
    const auto comma = parse_address_list("=?utf-8?q?Doe=2C_John?= <j@x.test>, k@x.test");
    ASSERT_EQ(comma.size(), 2U);
    EXPECT_EQ(comma[0].name, "Doe, John");
    const auto b = parse_address_list("Ren\xE9 Dupont <rene@example.fr>");
    ASSERT_EQ(b.size(), 1U);
    EXPECT_EQ(b[0].name, "Ren\xC3\xA9 Dupont");
    EXPECT_EQ(b[0].address, "rene@example.fr");
}

// GMime 3.2.13 leaks the address it was building when a comment after an addr-spec never
// closes (address_fuzz under LSan; corpus files domain-literal-open-comment.txt and
// unmatched-quote-open-comment.txt). Such a '(' is read as a space before GMime parses the list,
// with a warning: the result is that of the blanked text, and a closed comment is untouched.
TEST(AddressList, UnclosedCommentIsReadAsASpaceWithAWarning) {
    auto same = [](const std::string& open, const std::string& blanked) {
        std::vector<std::string> w_open;
        std::vector<std::string> w_blanked;
        const auto got = parse_address_list(open, &w_open);
        const auto want = parse_address_list(blanked, &w_blanked);
        ASSERT_EQ(got.size(), want.size()) << open;
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].address, want[i].address) << open;
            EXPECT_EQ(got[i].name, want[i].name) << open;
        }
        ASSERT_EQ(w_open.size(), w_blanked.size() + 1) << open;
        EXPECT_NE(w_open.front().find("comment never closed in address list"), std::string::npos)
            << w_open.front();
    };
    const auto literal = parse_address_list("a@[1.2.3.4]");
    ASSERT_EQ(literal.size(), 1U);
    EXPECT_EQ(literal[0].address, "a@[1.2.3.4]");
    const auto open = parse_address_list("a@[1.2.3.4](x");
    ASSERT_FALSE(open.empty());
    EXPECT_EQ(open[0].address, literal[0].address);
    same("a@[1.2.3.4](x", "a@[1.2.3.4] x");
    same("a@[](", "a@[] ");
    same("b@x.test (x", "b@x.test  x");
    // Comments nest and a backslash takes the next byte: only the outer '(' never closes.
    same("b@x.test (one (two) \\) three", "b@x.test  one (two) \\) three");
    same("b@x.test (x\\", "b@x.test  x\\");
    // GMime's loose reading skips an unmatched '"', so a '(' after one may open a comment for
    // GMime though not for RFC 5322: every '(' is checked, quoted or not.
    same("\"x <a@[n](s", "\"x <a@[n] s");
    same("\"(Bob\" <b@x.test>", "\" Bob\" <b@x.test>");
    // What closes is left alone: the comment stays the display name, a quoted "(" too.
    std::vector<std::string> w;
    const auto named = parse_address_list("b@x.test (Bob)", &w);
    ASSERT_EQ(named.size(), 1U);
    EXPECT_EQ(named[0].name, "Bob");
    const auto quoted = parse_address_list("\"(Bob)\" <b@x.test>", &w);
    ASSERT_EQ(quoted.size(), 1U);
    EXPECT_EQ(quoted[0].name, "(Bob)");
    EXPECT_TRUE(w.empty());
    const auto in_literal = parse_address_list("c@[1.2.(3.4], d@x.test");
    ASSERT_FALSE(in_literal.empty());
    EXPECT_EQ(in_literal.back().address, "d@x.test");
}

} // namespace
} // namespace crm::mime
