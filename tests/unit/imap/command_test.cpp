// Command side: astring quoting, formatting with CRLF-injection refusal, sequence sets, tags.
#include <gtest/gtest.h>

#include <set>

#include "crm/imap/command.hpp"
#include "crm/imap/protocol.hpp"

namespace crm::imap {
namespace {

TEST(QuoteAString, Table) {
    using F = AString::Form;
    struct Row {
        std::string in;
        F form;
        std::string text;
    };
    const Row rows[] = {
        {"INBOX", F::Atom, "INBOX"},
        {"[Gmail]/Sent", F::Atom, "[Gmail]/Sent"},
        {"&ZeVnLIqe-", F::Atom, "&ZeVnLIqe-"},
        {"", F::Quoted, "\"\""},
        {"Sent Items", F::Quoted, "\"Sent Items\""},
        {"a\"b\\c", F::Quoted, "\"a\\\"b\\\\c\""},
        {"50%", F::Quoted, "\"50%\""},
        {"a*", F::Quoted, "\"a*\""},
        {"(x)", F::Quoted, "\"(x)\""},
        {"{3}", F::Quoted, "\"{3}\""},
        {"NIL", F::Quoted, "\"NIL\""},
        {"nil", F::Quoted, "\"nil\""},
        {"a\r\nC2 LOGOUT", F::Literal, "a\r\nC2 LOGOUT"},
        {"caf\xc3\xa9", F::Literal, "caf\xc3\xa9"},
        {std::string("a\0b", 3), F::Literal, std::string("a\0b", 3)},
    };
    for (const auto& r : rows) {
        const AString a = quote_astring(r.in);
        EXPECT_EQ(a.form, r.form) << r.in;
        EXPECT_EQ(a.text, r.text) << r.in;
        EXPECT_EQ(a.needs_literal(), r.form == F::Literal);
    }
}

// A quoted string produced by quote_astring parses back to the original.
TEST(QuoteAString, RoundTripsThroughParser) {
    for (std::string_view s : {"Sent Items", "a\"b\\c", "", "x y \"z\""}) {
        const AString a = quote_astring(s);
        ASSERT_EQ(a.form, AString::Form::Quoted);
        ResponseParser p;
        p.feed("* LIST () \"/\" " + a.text + "\r\n");
        auto r = p.next();
        ASSERT_TRUE(r.has_value() && r->has_value());
        EXPECT_EQ((**r).data[2].bytes, s);
    }
}

TEST(CommandBuilder, SimpleCommand) {
    auto c = CommandBuilder("C1", "UID FETCH")
                 .sequence_set({1, 2, 3, 5})
                 .raw("(UID FLAGS BODY.PEEK[])")
                 .build();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->tag, "C1");
    ASSERT_EQ(c->parts.size(), 1U);
    EXPECT_EQ(c->parts[0], "C1 UID FETCH 1:3,5 (UID FLAGS BODY.PEEK[])\r\n");
    c = CommandBuilder("C2", "SELECT").astring("Sent Items").raw("(CONDSTORE)").build();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->joined(), "C2 SELECT \"Sent Items\" (CONDSTORE)\r\n");
}

TEST(CommandBuilder, LiteralsSplitAtContinuations) {
    auto c = CommandBuilder("C3", "SELECT").astring("caf\xc3\xa9").build();
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->parts.size(), 2U);
    EXPECT_EQ(c->parts[0], "C3 SELECT {5}\r\n");
    EXPECT_EQ(c->parts[1], "caf\xc3\xa9\r\n");
    c = CommandBuilder("C4", "APPEND")
            .astring("INBOX")
            .raw("(\\Seen)")
            .literal("Subject: x\r\n\r\nbody\r\n")
            .build();
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->parts.size(), 2U);
    EXPECT_EQ(c->parts[0], "C4 APPEND INBOX (\\Seen) {20}\r\n");
    EXPECT_EQ(c->parts[1], "Subject: x\r\n\r\nbody\r\n\r\n");
    c = CommandBuilder("C5", "APPEND").astring("INBOX").literal("a\r\nb").literal_plus().build();
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->parts.size(), 1U);
    EXPECT_EQ(c->parts[0], "C5 APPEND INBOX {4+}\r\na\r\nb\r\n");
}

TEST(CommandBuilder, RejectsInjection) {
    const std::string_view bad[] = {"INBOX\r\nC9 DELETE INBOX", "a\nb", "a\rb",
                                    std::string_view("a\0b", 3)};
    for (auto b : bad) {
        auto c = CommandBuilder("C1", "SELECT").raw(b).build();
        ASSERT_FALSE(c.has_value());
        EXPECT_EQ(c.error().code, "imap.arg");
        EXPECT_NE(c.error().detail.find("argument 1"), std::string::npos);
        // The detail never echoes the argument.
        EXPECT_EQ(c.error().detail.find("DELETE"), std::string::npos);
        // A tagless builder, as the sessions use it, refuses the same.
        auto t = CommandBuilder("FETCH").raw("1").raw(b).build("C1");
        ASSERT_FALSE(t.has_value());
        EXPECT_EQ(t.error().code, "imap.arg");
    }
    EXPECT_FALSE(CommandBuilder("C1", "NOOP\r\nC2 LOGOUT").build().has_value());
    EXPECT_FALSE(CommandBuilder("C 1", "NOOP").build().has_value());
    EXPECT_FALSE(CommandBuilder("", "NOOP").build().has_value());
    EXPECT_FALSE(CommandBuilder("+", "NOOP").build().has_value());
    EXPECT_FALSE(CommandBuilder("C1", "NOOP").raw("").build().has_value());
    // Sent as an astring, CR/LF become a literal: safe.
    auto c = CommandBuilder("C1", "SELECT").astring("INBOX\r\nC9 DELETE INBOX").build();
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->parts[0], "C1 SELECT {22}\r\n");
    // NUL cannot go in an RFC 3501 literal either.
    EXPECT_FALSE(
        CommandBuilder("C1", "APPEND").literal(std::string_view("a\0b", 3)).build().has_value());
}

TEST(SequenceSet, FormatTable) {
    struct Row {
        std::vector<std::uint64_t> in;
        std::string out;
    };
    const Row rows[] = {
        {{}, ""},
        {{7}, "7"},
        {{1, 2, 3, 4, 5, 7, 9, 10, 11, 12}, "1:5,7,9:12"},
        {{1, 3, 5}, "1,3,5"},
        {{1, 1, 2, 2, 3}, "1:3"},
        {{0, 0, 4, 5}, "4:5"},
        {{UINT64_MAX - 1, UINT64_MAX}, "18446744073709551614:18446744073709551615"},
        {{10, 11, 20, 21, 22, 40}, "10:11,20:22,40"},
    };
    for (const auto& r : rows) {
        EXPECT_EQ(format_sequence_set(std::span<const std::uint64_t>(r.in)), r.out);
        EXPECT_EQ(format_sequence_set(std::set<std::uint64_t>(r.in.begin(), r.in.end())), r.out);
    }
}

// The pieces the sync engine builds its commands from (no string concatenation in sync.cpp).
TEST(CommandBuilder, SyncCommandPieces) {
    auto line = [](const CommandBuilder& b) {
        auto c = b.build("A1");
        return c ? c->joined() : "ERROR " + c.error().code;
    };
    const std::vector<std::uint32_t> uids = {1, 2, 3, 7};
    EXPECT_EQ(line(CommandBuilder("UID FETCH").sequence_set(uids).list({"UID", "RFC822.SIZE"})),
              "A1 UID FETCH 1:3,7 (UID RFC822.SIZE)\r\n");
    EXPECT_EQ(
        line(CommandBuilder("UID FETCH").range(1, 41).list({"UID", "FLAGS"}).changed_since(12345)),
        "A1 UID FETCH 1:41 (UID FLAGS) (CHANGEDSINCE 12345)\r\n");
    EXPECT_EQ(line(CommandBuilder("UID SEARCH").raw("UID").range(42, std::nullopt)),
              "A1 UID SEARCH UID 42:*\r\n");
    // RFC 3501 date: day without padding, English month, UTC.
    EXPECT_EQ(line(CommandBuilder("UID SEARCH").raw("SINCE").date(1756857600)),
              "A1 UID SEARCH SINCE 3-Sep-2025\r\n");
    EXPECT_EQ(line(CommandBuilder("UID SEARCH").raw("SINCE").date(1767225599)),
              "A1 UID SEARCH SINCE 31-Dec-2025\r\n");
    EXPECT_EQ(line(CommandBuilder("EXAMINE").astring("Sent Items").list({"CONDSTORE"})),
              "A1 EXAMINE \"Sent Items\" (CONDSTORE)\r\n");
    EXPECT_EQ(line(CommandBuilder("STORE").number(4)), "A1 STORE 4\r\n");
    EXPECT_EQ(line(list_mailboxes(false)), "A1 LIST \"\" \"*\"\r\n");
    EXPECT_EQ(line(list_mailboxes(true)), "A1 LIST \"\" \"*\" RETURN (SPECIAL-USE)\r\n");
    // An empty UID set is refused, not sent as "UID FETCH  (...)".
    EXPECT_EQ(line(CommandBuilder("UID FETCH").sequence_set(std::vector<std::uint32_t>{})),
              "ERROR imap.arg");
}

TEST(CommandBuilder, TaglessBuilderNeedsATag) {
    const CommandBuilder b("NOOP");
    EXPECT_FALSE(b.build().has_value()); // no tag given
    auto c = b.build("C9");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->tag, "C9");
    EXPECT_EQ(c->joined(), "C9 NOOP\r\n");
    EXPECT_EQ(b.verb(), "NOOP");
}

TEST(Tagger, SequentialAndNeverCurlShaped) {
    Tagger t;
    EXPECT_EQ(t.next(), "C1");
    EXPECT_EQ(t.next(), "C2");
    for (int k = 0; k < 200; ++k) {
        const std::string tag = t.next();
        // curl: one letter + >= 3 zero-padded digits; ours never start with a zero digit.
        EXPECT_NE(tag[1], '0');
        EXPECT_TRUE(CommandBuilder(tag, "NOOP").build().has_value());
    }
    EXPECT_EQ(t.issued(), 202U);
}

} // namespace
} // namespace crm::imap
