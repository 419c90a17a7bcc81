// ResponseParser: tables of {input bytes, expected responses}, each fed whole, split at every
// point into two chunks, and one byte at a time; error tables; limits; linear big literals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace crm::imap {
namespace {

using namespace crm::imap::test;

// "{n}\r\n" + bytes
std::string lit(std::string_view bytes) {
    return "{" + std::to_string(bytes.size()) + "}\r\n" + std::string(bytes);
}

// A string literal with embedded NULs, without its terminator.
template <std::size_t N> std::string bin(const char (&s)[N]) { return std::string(s, N - 1); }

struct Case {
    std::string name;
    std::string input;
    std::vector<Response> expected;
};

const std::string kBody = std::string("Subject: hi\r\n\r\nA004 OK done\r\n") + bin("\0bin\0") +
                          "\r\nC1 OK fake\r\n* BYE inside literal\r\n)";

std::vector<Case> cases() {
    std::vector<Case> t;
    t.push_back({"greeting_capability",
                 "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
                 "AUTH=PLAIN] Dovecot ready.\r\n",
                 {status("OK", "Dovecot ready.", "CAPABILITY",
                         {A("IMAP4rev1"), A("SASL-IR"), A("LOGIN-REFERRALS"), A("ID"), A("ENABLE"),
                          A("IDLE"), A("LITERAL+"), A("AUTH=PLAIN")})}});
    t.push_back({"preauth",
                 "* PREAUTH IMAP4rev1 server logged in as Smith\r\n",
                 {status("PREAUTH", "IMAP4rev1 server logged in as Smith")}});
    t.push_back({"bye",
                 "* BYE [UNAVAILABLE] Autologout; idle for too long\r\n",
                 {status("BYE", "Autologout; idle for too long", "UNAVAILABLE")}});
    t.push_back({"tagged_with_codes",
                 "C1 OK [READ-WRITE] SELECT completed\r\n"
                 "C2 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
                 "C3 BAD Error in IMAP command: Unknown command\r\n"
                 "C4 OK [APPENDUID 38505 3955] APPEND completed\r\n"
                 "C5 ok [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
                 "C6 NO [ALERT] Quota exceeded [really]\r\n"
                 "a OK\r\n"
                 "C7 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n"
                 "C8 OK [REFERRAL imap://user;AUTH=*@SERVER2/] Go away\r\n",
                 {tagged("C1", "OK", "SELECT completed", "READ-WRITE"),
                  tagged("C2", "NO", "Authentication failed.", "AUTHENTICATIONFAILED"),
                  tagged("C3", "BAD", "Error in IMAP command: Unknown command"),
                  tagged("C4", "OK", "APPEND completed", "APPENDUID", {N(38505), N(3955)}),
                  tagged("C5", "OK", "Done", "COPYUID",
                         {N(38505), A("304,319:320"), A("3956:3958")}),
                  tagged("C6", "NO", "Quota exceeded [really]", "ALERT"),
                  tagged("a", "OK", ""),
                  tagged("C7", "NO", "charset", "BADCHARSET", {L({A("UTF-8"), A("US-ASCII")})}),
                  tagged("C8", "OK", "Go away", "REFERRAL",
                         {A("imap://user;AUTH=*@SERVER2/")})}});
    t.push_back({"select_responses",
                 "* 172 EXISTS\r\n* 1 RECENT\r\n* OK [UNSEEN 12] Message 12 is first unseen\r\n"
                 "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
                 "* OK [UIDNEXT 4392] Predicted next UID\r\n"
                 "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Junk)\r\n"
                 "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
                 "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
                 "* OK [NOMODSEQ] Sorry, no modsequences\r\n"
                 "* OK [CLOSED] Previous mailbox closed.\r\n"
                 "* 22 EXPUNGE\r\n",
                 {data("EXISTS", {}, 172), data("RECENT", {}, 1),
                  status("OK", "Message 12 is first unseen", "UNSEEN", {N(12)}),
                  status("OK", "UIDs valid", "UIDVALIDITY", {N(3857529045)}),
                  status("OK", "Predicted next UID", "UIDNEXT", {N(4392)}),
                  data("FLAGS", {L({A("\\Answered"), A("\\Flagged"), A("\\Deleted"), A("\\Seen"),
                                    A("\\Draft"), A("$Forwarded"), A("Junk")})}),
                  status("OK", "Limited", "PERMANENTFLAGS",
                         {L({A("\\Deleted"), A("\\Seen"), A("\\*")})}),
                  status("OK", "Highest", "HIGHESTMODSEQ", {N(715194045007)}),
                  status("OK", "Sorry, no modsequences", "NOMODSEQ"),
                  status("OK", "Previous mailbox closed.", "CLOSED"), data("EXPUNGE", {}, 22)}});
    t.push_back({"fetch_all_items_literal_body",
                 "* 12 FETCH (UID 4827 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 "
                 "02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (12121231000) X-GM-MSGID "
                 "1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox "
                 "\\Important \"Work stuff\" Clients) BODY[] " +
                     lit(kBody) + ")\r\nC7 OK Fetch completed.\r\n",
                 {data("FETCH",
                       {L({A("UID"), N(4827), A("FLAGS"), L({A("\\Seen"), A("$Forwarded")}),
                           A("INTERNALDATE"), S("17-Jul-1996 02:44:25 -0700"), A("RFC822.SIZE"),
                           N(4286), A("MODSEQ"), L({N(12121231000)}), A("X-GM-MSGID"),
                           N(1278455344230334865ULL), A("X-GM-THRID"), N(1266894439832287888ULL),
                           A("X-GM-LABELS"),
                           L({A("\\Inbox"), A("\\Important"), S("Work stuff"), A("Clients")}),
                           A("BODY[]"), Lit(kBody)})},
                       12),
                  tagged("C7", "OK", "Fetch completed.")}});
    t.push_back(
        {"bodystructure_nested",
         "* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
         "\"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
         "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) "
         "\"MIXED\"))\r\n",
         {data("FETCH",
               {L({A("BODYSTRUCTURE"),
                   L({L({S("TEXT"), S("PLAIN"), L({S("CHARSET"), S("US-ASCII")}), Nil(), Nil(),
                         S("7BIT"), N(1152), N(23)}),
                      L({S("TEXT"), S("PLAIN"),
                         L({S("CHARSET"), S("US-ASCII"), S("NAME"), S("cc.diff")}),
                         S("<960723163407.20117h@cac.washington.edu>"), S("Compiler diff"),
                         S("BASE64"), N(4554), N(73)}),
                      S("MIXED")})})},
               3)}});
    t.push_back({"fetch_sections_envelope",
                 "* 4 FETCH (UID 9 BODY[HEADER.FIELDS (FROM \"SUBJECT\")] " +
                     lit("From: a@b\r\n\r\n") +
                     " BODY[]<0> \"abc\" ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
                     "\"IMAP4rev1 \\\"WG\\\" \\\\ mtg\" ((\"Terry Gray\" NIL \"gray\" "
                     "\"cac.washington.edu\")) NIL NIL NIL NIL NIL nil \"<B27397@x>\"))\r\n",
                 {data("FETCH",
                       {L({A("UID"), N(9), A("BODY[HEADER.FIELDS (FROM \"SUBJECT\")]"),
                           Lit("From: a@b\r\n\r\n"), A("BODY[]<0>"), S("abc"), A("ENVELOPE"),
                           L({S("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
                              S("IMAP4rev1 \"WG\" \\ mtg"),
                              L({L({S("Terry Gray"), Nil(), S("gray"), S("cac.washington.edu")})}),
                              Nil(), Nil(), Nil(), Nil(), Nil(), Nil(), S("<B27397@x>")})})},
                       4)}});
    t.push_back({"list_variants",
                 "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
                 "* LIST (\\HasChildren \\Noselect) \"/\" \"[Gmail]\"\r\n"
                 "* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n"
                 "* LIST (\\Noselect) NIL \"\"\r\n"
                 "* LIST () \"/\" " +
                     lit("foo\"bar\\x") +
                     "\r\n"
                     "* LSUB (\\Sent) \".\" \"Gesendete Objekte\"\r\n"
                     "* LIST (\\HasNoChildren) \"/\" &ZeVnLIqe-\r\n"
                     "* LIST () \"/\" 2024\r\n",
                 {data("LIST", {L({A("\\HasNoChildren")}), S("/"), A("INBOX")}),
                  data("LIST", {L({A("\\HasChildren"), A("\\Noselect")}), S("/"), S("[Gmail]")}),
                  data("LIST", {L({A("\\All"), A("\\HasNoChildren")}), S("/"),
                                S("[Gmail]/All Mail")}),
                  data("LIST", {L({A("\\Noselect")}), Nil(), S("")}),
                  data("LIST", {L({}), S("/"), Lit("foo\"bar\\x")}),
                  data("LSUB", {L({A("\\Sent")}), S("."), S("Gesendete Objekte")}),
                  data("LIST", {L({A("\\HasNoChildren")}), S("/"), A("&ZeVnLIqe-")}),
                  data("LIST", {L({}), S("/"), N(2024)})}});
    t.push_back({"search_esearch",
                 "* SEARCH 2 3 6\r\n* SEARCH\r\n* SEARCH 2 5 (MODSEQ 917162500)\r\n"
                 "* ESEARCH (TAG \"C3\") UID MIN 2 MAX 11 COUNT 3 ALL 2,10:11\r\n"
                 "* ESEARCH (TAG \"C4\") UID COUNT 0\r\n",
                 {data("SEARCH", {N(2), N(3), N(6)}), data("SEARCH", {}),
                  data("SEARCH", {N(2), N(5), L({A("MODSEQ"), N(917162500)})}),
                  data("ESEARCH", {L({A("TAG"), S("C3")}), A("UID"), A("MIN"), N(2), A("MAX"),
                                   N(11), A("COUNT"), N(3), A("ALL"), A("2,10:11")}),
                  data("ESEARCH", {L({A("TAG"), S("C4")}), A("UID"), A("COUNT"), N(0)})}});
    t.push_back({"vanished",
                 "* VANISHED (EARLIER) 300:310,405,411\r\n* VANISHED 405\r\n",
                 {data("VANISHED", {L({A("EARLIER")}), A("300:310,405,411")}),
                  data("VANISHED", {N(405)})}});
    t.push_back({"status",
                 "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 UNSEEN 0 "
                 "HIGHESTMODSEQ 7011231777)\r\n* STATUS \"Sent Items\" (MESSAGES 0)\r\n",
                 {data("STATUS", {A("blurdybloop"),
                                  L({A("MESSAGES"), N(231), A("UIDNEXT"), N(44292),
                                     A("UIDVALIDITY"), N(1), A("UNSEEN"), N(0),
                                     A("HIGHESTMODSEQ"), N(7011231777)})}),
                  data("STATUS", {S("Sent Items"), L({A("MESSAGES"), N(0)})})}});
    t.push_back({"continuation",
                 "+ Ready for literal data\r\n+ \r\n+\r\n+ dGVzdA==\r\n+ [ALERT] hi\r\n",
                 {cont("Ready for literal data"), cont(""), cont(""), cont("dGVzdA=="),
                  [] {
                      Response r = cont("hi");
                      r.code_atom = "ALERT";
                      return r;
                  }()}});
    t.push_back({"capability_enabled_namespace_id",
                 "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI X-GM-EXT-1\r\n"
                 "* ENABLED CONDSTORE QRESYNC\r\n"
                 "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
                 "* ID (\"name\" \"Dovecot\")\r\n* ID NIL\r\n",
                 {data("CAPABILITY", {A("IMAP4rev1"), A("STARTTLS"), A("AUTH=GSSAPI"),
                                      A("X-GM-EXT-1")}),
                  data("ENABLED", {A("CONDSTORE"), A("QRESYNC")}),
                  data("NAMESPACE", {L({L({S(""), S("/")})}), Nil(), Nil()}),
                  data("ID", {L({S("name"), S("Dovecot")})}), data("ID", {Nil()})}});
    t.push_back({"gmail_labels",
                 "* 1 FETCH (X-GM-LABELS (\\Inbox \"Work stuff\" Clients &AOk-t&AOk- " +
                     lit("la)bel") + ") UID 7)\r\n* 2 FETCH (X-GM-LABELS () UID 8)\r\n",
                 {data("FETCH",
                       {L({A("X-GM-LABELS"),
                           L({A("\\Inbox"), S("Work stuff"), A("Clients"), A("&AOk-t&AOk-"),
                              Lit("la)bel")}),
                           A("UID"), N(7)})},
                       1),
                  data("FETCH", {L({A("X-GM-LABELS"), L({}), A("UID"), N(8)})}, 2)}});
    t.push_back({"lenient_forms",
                 "* 3 EXISTS\n* 2 FETCH (BINARY[] ~{3}\r\na" + std::string(1, '\0') +
                     "b UID 4)\r\n* 3 FETCH (BODY[] {2+}\r\nhi)\r\n* 4 FETCH (BODY[] {0}\r\n)\r\n"
                     "* SEARCH 1 2 \r\n* 5 FETCH (UID 1  FLAGS ())\r\n",
                 {data("EXISTS", {}, 3),
                  data("FETCH", {L({A("BINARY[]"), Lit(bin("a\0b")), A("UID"), N(4)})},
                       2),
                  data("FETCH", {L({A("BODY[]"), Lit("hi")})}, 3),
                  data("FETCH", {L({A("BODY[]"), Lit("")})}, 4), data("SEARCH", {N(1), N(2)}),
                  data("FETCH", {L({A("UID"), N(1), A("FLAGS"), L({})})}, 5)}});
    t.push_back({"two_literals_in_one_response",
                 "* 7 FETCH (BODY[HEADER] " + lit("H: v\r\n\r\n") + " BODY[TEXT] " +
                     lit("text\r\n") + ")\r\n",
                 {data("FETCH", {L({A("BODY[HEADER]"), Lit("H: v\r\n\r\n"), A("BODY[TEXT]"),
                                    Lit("text\r\n")})},
                       7)}});
    return t;
}

class ParserTable : public ::testing::TestWithParam<Case> {};

TEST_P(ParserTable, WholeEverySplitAndBytewiseAgree) {
    const Case& c = GetParam();
    const auto expected = debug_all(c.expected);
    const Outcome whole = run_whole(c.input);
    ASSERT_FALSE(whole.failed) << whole.error_detail;
    EXPECT_EQ(whole.responses, expected);
    for (std::size_t at = 0; at <= c.input.size(); ++at) {
        const Outcome split = run_split(c.input, at);
        ASSERT_FALSE(split.failed) << "split at " << at << ": " << split.error_detail;
        ASSERT_EQ(split.responses, expected) << "split at " << at;
    }
    const Outcome bytes = run_bytewise(c.input);
    ASSERT_FALSE(bytes.failed) << bytes.error_detail;
    EXPECT_EQ(bytes.responses, expected);
}

INSTANTIATE_TEST_SUITE_P(Responses, ParserTable, ::testing::ValuesIn(cases()),
                         [](const auto& p) { return p.param.name; });

struct ErrorCase {
    std::string name;
    std::string input;
    std::size_t good_before; // responses delivered before the error
    std::string detail_has;
};

std::vector<ErrorCase> error_cases() {
    return {
        {"absurd_literal", "* 1 FETCH (BODY[] {300000000}\r\n", 0, "exceeds limit"},
        {"max_u64_literal", "* 1 FETCH (BODY[] {18446744073709551615}\r\n", 0, "exceeds limit"},
        {"overflow_literal", "* 1 FETCH (BODY[] {99999999999999999999999}\r\n", 0, "overflow"},
        {"unbalanced_open", "* 1 EXISTS\r\n* 1 FETCH (UID 1 FLAGS (\\Seen)\r\n", 1, "unbalanced"},
        {"unbalanced_close", "* 1 FETCH UID 1)\r\n", 0, "unbalanced ')'"},
        {"unbalanced_code", "* OK [PERMANENTFLAGS (\\Seen] x\r\n", 0, "malformed response code"},
        {"garbage_greeting_ssh", "SSH-2.0-OpenSSH_9.2\r\n", 0, "expected SP after tag"},
        {"garbage_greeting_http", "HTTP/1.1 400 Bad Request\r\n", 0, "expected OK, NO or BAD"},
        {"garbage_tls", bin("\x16\x03\x01\x02\x00\x01\x00\r\n"), 0, "offset"},
        {"nul_in_text", bin("* OK hello\0world\r\n"), 0, "NUL"},
        {"nul_in_list", bin("* 1 FETCH (FLAGS (\\Seen\0))\r\n"), 0, "NUL"},
        {"nul_in_quoted", bin("* LIST () \"/\" \"a\0b\"\r\n"), 0, "NUL"},
        {"quoted_across_lines", "* LIST () \"/\" \"foo\r\nbar\"\r\n", 0, "unterminated quoted"},
        {"bad_literal_marker", "* 1 FETCH (BODY[] {12a}\r\n", 0, "bad literal marker"},
        {"literal_mid_line", "* 1 FETCH (BODY[] {3} abc)\r\n", 0, "literal marker"},
        {"tagged_not_status", "C1 FETCH foo\r\n", 0, "expected OK, NO or BAD"},
        {"empty_line", "\r\n", 0, "expected tag"},
        {"star_only", "* \r\n", 0, "expected keyword"},
        {"lone_cr", "* OK a\rb\r\n", 0, "expected CRLF"},
        {"text_then_literal", "C1 OK see {3}\r\nabc\r\n", 0, "data after end"},
    };
}

class ParserErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrors, FailsAtEverySplit) {
    const ErrorCase& c = GetParam();
    const Outcome whole = run_whole(c.input);
    ASSERT_TRUE(whole.failed);
    EXPECT_EQ(whole.error_code, "imap.protocol");
    EXPECT_NE(whole.error_detail.find(c.detail_has), std::string::npos) << whole.error_detail;
    EXPECT_NE(whole.error_detail.find("offset"), std::string::npos) << whole.error_detail;
    EXPECT_EQ(whole.responses.size(), c.good_before);
    for (std::size_t at = 0; at <= c.input.size(); ++at) {
        const Outcome split = run_split(c.input, at);
        ASSERT_TRUE(split.failed) << "split at " << at;
        ASSERT_EQ(split.responses, whole.responses);
        ASSERT_NE(split.error_detail.find(c.detail_has), std::string::npos) << split.error_detail;
    }
    const Outcome bytes = run_bytewise(c.input);
    ASSERT_TRUE(bytes.failed);
    EXPECT_EQ(bytes.responses, whole.responses);
}

INSTANTIATE_TEST_SUITE_P(Garbage, ParserErrors, ::testing::ValuesIn(error_cases()),
                         [](const auto& p) { return p.param.name; });

TEST(ResponseParser, NeedsMoreBytesReturnsNullopt) {
    ResponseParser p;
    auto r = p.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
    p.feed("* 1 FETCH (BODY[] {10}\r\nabc");
    r = p.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->has_value());
    p.feed("defghij)\r\n");
    r = p.next();
    ASSERT_TRUE(r.has_value() && r->has_value());
    EXPECT_EQ((**r).data[0].list[1].bytes, "abcdefghij");
}

TEST(ResponseParser, ErrorIsStickyAndDropsLaterInput) {
    ResponseParser p;
    p.feed("* 1 EXISTS\r\n) junk\r\n* 2 EXISTS\r\n");
    auto r = p.next();
    ASSERT_TRUE(r.has_value() && r->has_value());
    r = p.next();
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().scope, ErrorScope::Account);
    p.feed("* 3 EXISTS\r\n");
    EXPECT_EQ(p.buffered_bytes(), 0U);
    r = p.next();
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(p.failed());
}

TEST(ResponseParser, ErrorDetailNeverContainsLiteralBytes) {
    const std::string input = "* 1 FETCH (BODY[] {18}\r\nSECRET-PASSWORD-XY junk))\r\n";
    for (std::size_t at = 0; at <= input.size(); ++at) {
        const Outcome o = run_split(input, at);
        ASSERT_TRUE(o.failed);
        EXPECT_EQ(o.error_detail.find("SECRET"), std::string::npos) << o.error_detail;
    }
}

TEST(ResponseParser, ErrorDetailNamesStreamOffset) {
    const Outcome o = run_whole("* 1 EXISTS\r\n* 2 FETCH )\r\n");
    ASSERT_TRUE(o.failed);
    // "* 1 EXISTS\r\n" is 12 bytes; the ')' is at 12 + 10.
    EXPECT_NE(o.error_detail.find("offset 22"), std::string::npos) << o.error_detail;
}

TEST(ResponseParser, LongLineWithoutCrlfFailsBeforeBufferingMuchMore) {
    ParserLimits limits; // default 64 KiB
    ResponseParser p(limits);
    const std::string chunk(4096, 'x');
    p.feed("* OK ");
    std::size_t fed = 5;
    bool failed = false;
    while (fed < 1024 * 1024) {
        p.feed(chunk);
        fed += chunk.size();
        EXPECT_LE(p.buffered_bytes(), limits.max_line_length + chunk.size());
        auto r = p.next();
        if (!r) {
            failed = true;
            EXPECT_NE(r.error().detail.find("without CRLF"), std::string::npos);
            break;
        }
        ASSERT_FALSE(r->has_value());
    }
    ASSERT_TRUE(failed);
    EXPECT_LE(fed, limits.max_line_length + 2 * chunk.size());
    // Later bytes are dropped, not buffered.
    p.feed(std::string(1024 * 1024, 'y'));
    EXPECT_EQ(p.buffered_bytes(), 0U);
}

TEST(ResponseParser, OneMegabyteInOneFeedIsDroppedAtOnce) {
    ResponseParser p;
    p.feed("* 5 EXISTS\r\n");
    p.feed(std::string(1024 * 1024, 'x'));
    EXPECT_LT(p.buffered_bytes(), 100U); // only the complete first response stays
    auto r = p.next();
    ASSERT_TRUE(r.has_value() && r->has_value());
    EXPECT_EQ((**r).number, 5U);
    r = p.next();
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().detail.find("65536"), std::string::npos);
}

TEST(ResponseParser, LongLineBetweenLiteralsCounts) {
    ParserLimits limits;
    limits.max_line_length = 100;
    const std::string ok = "* 1 FETCH (BODY[] " + lit(std::string(500, 'z')) + " UID 1)\r\n";
    EXPECT_FALSE(run_whole(ok, limits).failed); // literal bytes are not a line
    const std::string bad = "* 1 FETCH (BODY[] " + lit("z") + " X " + std::string(200, 'a') +
                            ")\r\n";
    EXPECT_TRUE(run_whole(bad, limits).failed);
}

TEST(ResponseParser, AbsurdLiteralAllocatesNothing) {
    ResponseParser p;
    p.feed("* 1 FETCH (BODY[] {268435457}\r\n"); // 256 MiB + 1
    EXPECT_EQ(p.buffered_bytes(), 0U);
    auto r = p.next();
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().detail.find("268435457"), std::string::npos);
}

TEST(ResponseParser, LiteralAtLimitIsAccepted) {
    ParserLimits limits;
    limits.max_literal_size = 8;
    EXPECT_FALSE(run_whole("* 1 FETCH (BODY[] {8}\r\n12345678)\r\n", limits).failed);
    EXPECT_TRUE(run_whole("* 1 FETCH (BODY[] {9}\r\n123456789)\r\n", limits).failed);
}

TEST(ResponseParser, DepthLimit) {
    auto nested = [](std::size_t depth) {
        return "* 1 FETCH " + std::string(depth, '(') + "X" + std::string(depth, ')') + "\r\n";
    };
    EXPECT_FALSE(run_whole(nested(64)).failed);
    const Outcome o = run_whole(nested(65));
    ASSERT_TRUE(o.failed);
    EXPECT_NE(o.error_detail.find("nested"), std::string::npos);
    ParserLimits limits;
    limits.max_depth = 3;
    EXPECT_FALSE(run_whole(nested(3), limits).failed);
    EXPECT_TRUE(run_whole(nested(4), limits).failed);
}

TEST(ResponseParser, ItemLimit) {
    ParserLimits limits;
    limits.max_items = 10;
    std::string ten = "* SEARCH";
    for (int k = 1; k <= 10; ++k)
        ten += " " + std::to_string(k);
    EXPECT_FALSE(run_whole(ten + "\r\n", limits).failed);
    const Outcome o = run_whole(ten + " 11\r\n", limits);
    ASSERT_TRUE(o.failed);
    EXPECT_NE(o.error_detail.find("too many items"), std::string::npos);
}

TEST(ResponseParser, ResponseSizeLimit) {
    ParserLimits limits;
    limits.max_response_size = 100;
    const std::string in = "* 1 FETCH (A " + lit(std::string(60, 'a')) + " B " +
                           lit(std::string(60, 'b')) + ")\r\n";
    const Outcome o = run_whole(in, limits);
    ASSERT_TRUE(o.failed);
    EXPECT_NE(o.error_detail.find("response larger"), std::string::npos);
}

// 10 MB literal fed in 1 KiB chunks with next() after each: framing skips literal bytes
// without rescanning, so this stays linear (a quadratic rescan would take minutes).
TEST(ResponseParser, TenMegabyteLiteralIsLinear) {
    const std::size_t size = 10 * 1024 * 1024;
    std::string body(size, 'm');
    for (std::size_t k = 0; k < size; k += 1000)
        body[k] = (k % 3000 == 0) ? '\n' : '\r';
    const std::string in = "* 1 FETCH (UID 7 BODY[] {" + std::to_string(size) + "}\r\n" + body +
                           ")\r\nC9 OK done\r\n";
    ResponseParser p;
    std::vector<Response> got;
    for (std::size_t k = 0; k < in.size(); k += 1024) {
        p.feed(std::string_view(in).substr(k, 1024));
        while (true) {
            auto r = p.next();
            ASSERT_TRUE(r.has_value()) << r.error().detail;
            if (!*r)
                break;
            got.push_back(std::move(**r));
        }
    }
    ASSERT_EQ(got.size(), 2U);
    ASSERT_EQ(got[0].data.size(), 1U);
    EXPECT_EQ(got[0].data[0].list[3].bytes.size(), size);
    EXPECT_TRUE(got[0].data[0].list[3].bytes == body);
    EXPECT_EQ(got[1].tag, "C9");
    EXPECT_LT(p.buffered_bytes(), 1024U);
}

TEST(ResponseParser, ManySmallResponsesCompact) {
    ResponseParser p;
    std::size_t n = 0;
    for (int k = 0; k < 20000; ++k) {
        p.feed("* " + std::to_string(k) + " EXISTS\r\n");
        while (true) {
            auto r = p.next();
            ASSERT_TRUE(r.has_value());
            if (!*r)
                break;
            ASSERT_EQ((**r).number, static_cast<std::uint64_t>(k));
            ++n;
        }
    }
    EXPECT_EQ(n, 20000U);
    EXPECT_EQ(p.buffered_bytes(), 0U);
}

TEST(Value, Accessors) {
    EXPECT_EQ(A("12").as_number(), 12U);
    EXPECT_EQ(S("x").as_text(), "x");
    EXPECT_FALSE(N(3).as_text().has_value());
    EXPECT_FALSE(Nil().as_number().has_value());
    EXPECT_TRUE(A("uid").is_atom("UID"));
    EXPECT_FALSE(S("UID").is_atom("UID"));
    Response r = status("OK", "x", "UIDNEXT", {N(4392)});
    EXPECT_EQ(r.code_number(), 4392U);
    EXPECT_TRUE(r.is_ok());
    EXPECT_FALSE(data("EXISTS", {}, 1).is_status());
}

} // namespace
} // namespace crm::imap
