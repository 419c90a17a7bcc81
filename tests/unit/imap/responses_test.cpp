// Typed helpers over parsed responses: the input goes through the real parser first.
#include <gtest/gtest.h>

#include "crm/imap/responses.hpp"
#include "test_util.hpp"

namespace crm::imap {
namespace {

Response parse_one(std::string_view bytes) {
    ResponseParser p;
    p.feed(bytes);
    auto r = p.next();
    EXPECT_TRUE(r.has_value() && r->has_value()) << (r ? "incomplete" : r.error().detail);
    if (!r || !*r)
        return {};
    return std::move(**r);
}

TEST(ParseFetch, AllItems) {
    const std::string body = std::string("Subject: x\r\n\r\nA004 OK done\r\n") +
                             std::string(1, '\0') + "tail";
    const std::string in =
        "* 12 FETCH (UID 4827 FLAGS (\\Seen $Forwarded) INTERNALDATE \"17-Jul-1996 02:44:25 "
        "-0700\" RFC822.SIZE 4286 MODSEQ (12121231000) X-GM-MSGID 1278455344230334865 "
        "X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \"Work stuff\" 2024 &AOk-t&AOk- "
        "R&-D) BODY[HEADER.FIELDS (MESSAGE-ID)] {6}\r\nM: x\r\n BODY[] {" +
        std::to_string(body.size()) + "}\r\n" + body + ")\r\n";
    const auto f = parse_fetch(parse_one(in));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->seq, 12U);
    EXPECT_EQ(f->uid, 4827U);
    ASSERT_TRUE(f->flags.has_value());
    EXPECT_EQ(*f->flags, (std::vector<std::string>{"\\Seen", "$Forwarded"}));
    EXPECT_EQ(f->internaldate, 837596665); // 1996-07-17T09:44:25Z
    EXPECT_EQ(f->rfc822_size, 4286U);
    EXPECT_EQ(f->modseq, 12121231000U);
    EXPECT_EQ(f->x_gm_msgid, 1278455344230334865ULL);
    EXPECT_EQ(f->x_gm_thrid, 1266894439832287888ULL);
    ASSERT_TRUE(f->x_gm_labels.has_value());
    EXPECT_EQ(*f->x_gm_labels,
              (std::vector<std::string>{"\\Inbox", "Work stuff", "2024", "\xc3\xa9t\xc3\xa9",
                                        "R&D"}));
    ASSERT_TRUE(f->body.has_value());
    EXPECT_EQ(*f->body, body);
    ASSERT_EQ(f->sections.size(), 1U);
    EXPECT_EQ(f->sections[0].first, "BODY[HEADER.FIELDS (MESSAGE-ID)]");
    EXPECT_EQ(f->sections[0].second, "M: x\r\n");
}

TEST(ParseFetch, TakeFetchMovesTheBytesAndAgreesWithParseFetch) {
    const std::string body(100000, 'b');
    Response r = parse_one("* 3 FETCH (UID 9 BODY[HEADER] {4}\r\nH: x BODY[] {" +
                           std::to_string(body.size()) + "}\r\n" + body + " FLAGS (\\Seen))\r\n");
    const auto copied = parse_fetch(r);
    const auto taken = take_fetch(r);
    ASSERT_TRUE(copied.has_value());
    ASSERT_TRUE(taken.has_value());
    EXPECT_EQ(taken->uid, 9U);
    EXPECT_EQ(taken->body, body);
    EXPECT_EQ(taken->body, copied->body);
    EXPECT_EQ(taken->sections, copied->sections);
    EXPECT_EQ(taken->flags, copied->flags);
    // The bytes were moved out of the response, not copied: nothing large is left in it.
    for (const auto& v : r.data[0].list)
        EXPECT_LT(v.bytes.size(), 100U);
}

TEST(ParseFetch, BodyVariantsAndAbsentItems) {
    for (std::string_view item : {"BODY[]", "body.peek[]", "BINARY[]", "RFC822"}) {
        const auto f =
            parse_fetch(parse_one("* 1 FETCH (" + std::string(item) + " {2}\r\nhi)\r\n"));
        ASSERT_TRUE(f.has_value()) << item;
        EXPECT_EQ(f->body, "hi") << item;
    }
    const auto f = parse_fetch(parse_one("* 2 FETCH (FLAGS () BODY[] NIL)\r\n"));
    ASSERT_TRUE(f.has_value());
    EXPECT_FALSE(f->body.has_value());
    EXPECT_FALSE(f->uid.has_value());
    EXPECT_TRUE(f->flags.has_value() && f->flags->empty());
    EXPECT_FALSE(f->x_gm_labels.has_value());
}

TEST(ParseFetch, Rejects) {
    EXPECT_FALSE(parse_fetch(parse_one("* 1 EXISTS\r\n")).has_value());
    EXPECT_FALSE(parse_fetch(parse_one("* 1 FETCH (UID)\r\n")).has_value());
    EXPECT_FALSE(parse_fetch(parse_one("* 1 FETCH (UID abc)\r\n")).has_value());
    EXPECT_FALSE(parse_fetch(parse_one("* 1 FETCH (INTERNALDATE \"garbage\")\r\n")).has_value());
    EXPECT_FALSE(parse_fetch(parse_one("* 1 FETCH (MODSEQ (1 2))\r\n")).has_value());
    EXPECT_FALSE(parse_fetch(parse_one("* FETCH (UID 1)\r\n")).has_value());
}

TEST(InternalDate, Table) {
    struct Row {
        std::string_view in;
        std::optional<std::int64_t> out;
    };
    const Row rows[] = {
        {"17-Jul-1996 02:44:25 -0700", 837596665},
        {" 7-Jul-1996 02:44:25 -0700", 836732665},
        {"7-Jul-1996 02:44:25 -0700", 836732665},
        {"01-Jan-1970 00:00:00 +0000", 0},
        {"01-Jan-1970 01:00:00 +0100", 0},
        {"29-Feb-2024 23:59:59 +0000", 1709251199},
        {"29-Feb-2023 00:00:00 +0000", std::nullopt},
        {"17-Foo-1996 02:44:25 -0700", std::nullopt},
        {"17-Jul-1996 24:44:25 -0700", std::nullopt},
        {"17-Jul-1996 02:44:25 0700", std::nullopt},
        {"17-Jul-1996", std::nullopt},
        {"", std::nullopt},
    };
    for (const auto& r : rows)
        EXPECT_EQ(parse_internaldate(r.in), r.out) << r.in;
}

// RFC 7162 §3.2.10: VANISHED with and without EARLIER, a single UID as a number, and ranges
// kept as ranges (a server may name far more UIDs than the client ever had).
TEST(ParseVanished, EarlierRangesAndSingleUids) {
    auto v = parse_vanished(parse_one("* VANISHED (EARLIER) 300:310,405,1:4000000000\r\n"));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->earlier);
    ASSERT_EQ(v->uids.size(), 3u);
    EXPECT_EQ(v->uids[0], (SeqRange{300, 310}));
    EXPECT_TRUE(v->contains(305));
    EXPECT_TRUE(v->contains(3999999999));
    auto one = parse_vanished(parse_one("* VANISHED 405\r\n"));
    ASSERT_TRUE(one);
    EXPECT_FALSE(one->earlier);
    EXPECT_TRUE(one->contains(405));
    EXPECT_FALSE(one->contains(404));
    EXPECT_FALSE(parse_vanished(parse_one("* 3 EXPUNGE\r\n")));
    EXPECT_FALSE(parse_vanished(parse_one("* VANISHED (EARLIER)\r\n"))) << "no UID set";
    EXPECT_FALSE(parse_vanished(parse_one("* VANISHED (EARLIER) 0\r\n"))) << "UID 0";
    EXPECT_FALSE(parse_vanished(parse_one("* VANISHED x:y\r\n")));
}

TEST(ParseCapabilities, DataAndCode) {
    auto c = parse_capabilities(
        parse_one("* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN condstore] ready\r\n"));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->atoms,
              (std::vector<std::string>{"IMAP4REV1", "LITERAL+", "AUTH=PLAIN", "CONDSTORE"}));
    EXPECT_TRUE(c->has("CondStore"));
    EXPECT_FALSE(c->has("QRESYNC"));
    c = parse_capabilities(parse_one("* CAPABILITY IMAP4rev1 X-GM-EXT-1 QRESYNC\r\n"));
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->has("x-gm-ext-1"));
    EXPECT_TRUE(c->has("QRESYNC"));
    c = parse_capabilities(parse_one("C1 OK [CAPABILITY IMAP4rev1 ENABLE] Logged in\r\n"));
    ASSERT_TRUE(c.has_value());
    EXPECT_TRUE(c->has("ENABLE"));
    EXPECT_FALSE(parse_capabilities(parse_one("* OK [UIDNEXT 5] x\r\n")).has_value());
}

TEST(ParseList, Table) {
    struct Row {
        std::string in;
        std::vector<std::string> flags;
        std::optional<char> delimiter;
        std::string name, raw_name;
        SpecialUse use;
    };
    const Row rows[] = {
        {"* LIST (\\HasNoChildren) \"/\" inbox\r\n", {"\\HasNoChildren"}, '/', "INBOX", "INBOX",
         SpecialUse::None},
        {"* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n",
         {"\\HasNoChildren", "\\Sent"}, '/', "Sent Items", "Sent Items", SpecialUse::Sent},
        {"* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n",
         {"\\All", "\\HasNoChildren"}, '/', "[Gmail]/All Mail", "[Gmail]/All Mail",
         SpecialUse::All},
        {"* LIST (\\Drafts) \".\" Drafts\r\n", {"\\Drafts"}, '.', "Drafts", "Drafts",
         SpecialUse::Drafts},
        {"* LIST (\\Trash) \".\" Trash\r\n", {"\\Trash"}, '.', "Trash", "Trash",
         SpecialUse::Trash},
        {"* LIST (\\junk) \".\" Spam\r\n", {"\\junk"}, '.', "Spam", "Spam", SpecialUse::Junk},
        {"* LIST (\\Archive) \".\" Archive\r\n", {"\\Archive"}, '.', "Archive", "Archive",
         SpecialUse::Archive},
        {"* LIST (\\Flagged) \".\" Flagged\r\n", {"\\Flagged"}, '.', "Flagged", "Flagged",
         SpecialUse::Flagged},
        {"* LIST (\\Noselect) NIL \"\"\r\n", {"\\Noselect"}, std::nullopt, "", "",
         SpecialUse::None},
        {"* LIST () \"/\" {7}\r\nfoo\"bar\r\n", {}, '/', "foo\"bar", "foo\"bar", SpecialUse::None},
        {"* LIST () \"/\" &ZeVnLIqe-\r\n", {}, '/', "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
         "&ZeVnLIqe-", SpecialUse::None},
        {"* LIST () \"/\" \"A&-B\"\r\n", {}, '/', "A&B", "A&-B", SpecialUse::None},
        {"* LIST () \"/\" \"bad&name\"\r\n", {}, '/', "bad&name", "bad&name", SpecialUse::None},
        {"* LIST () \"/\" 2024\r\n", {}, '/', "2024", "2024", SpecialUse::None},
        {"* XLIST (\\HasNoChildren \\Spam) \"/\" \"[Gmail]/Spam\"\r\n",
         {"\\HasNoChildren", "\\Spam"}, '/', "[Gmail]/Spam", "[Gmail]/Spam", SpecialUse::Junk},
    };
    for (const auto& r : rows) {
        const auto e = parse_list(parse_one(r.in));
        ASSERT_TRUE(e.has_value()) << r.in;
        EXPECT_EQ(e->flags, r.flags) << r.in;
        EXPECT_EQ(e->delimiter, r.delimiter) << r.in;
        EXPECT_EQ(e->name, r.name) << r.in;
        EXPECT_EQ(e->raw_name, r.raw_name) << r.in;
        EXPECT_EQ(e->special_use, r.use) << r.in;
    }
    EXPECT_FALSE(parse_list(parse_one("* LIST (\\Noselect) \"/\" foo\r\n"))->selectable());
    EXPECT_TRUE(parse_list(parse_one("* LIST () \"/\" foo\r\n"))->selectable());
    EXPECT_FALSE(parse_list(parse_one("* LIST () \"//\" foo\r\n")).has_value());
    EXPECT_FALSE(parse_list(parse_one("* LIST () \"/\"\r\n")).has_value());
    EXPECT_FALSE(parse_list(parse_one("* STATUS x (MESSAGES 1)\r\n")).has_value());
}

TEST(ParseSearch, Search) {
    auto s = parse_search(parse_one("* SEARCH 2 3 6\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->numbers, (std::vector<std::uint64_t>{2, 3, 6}));
    EXPECT_FALSE(s->modseq.has_value());
    s = parse_search(parse_one("* SEARCH\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->numbers.empty());
    s = parse_search(parse_one("* SEARCH 2 5 (MODSEQ 917162500)\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->numbers, (std::vector<std::uint64_t>{2, 5}));
    EXPECT_EQ(s->modseq, 917162500U);
    s = parse_search(parse_one("* SEARCH 1 2 3 4\r\n"), 2);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->numbers.size(), 2U);
    EXPECT_TRUE(s->truncated);
    EXPECT_FALSE(parse_search(parse_one("* SEARCH 1 x\r\n")).has_value());
}

TEST(ParseSearch, Esearch) {
    auto s = parse_search(parse_one("* ESEARCH (TAG \"C3\") UID MIN 2 MAX 11 COUNT 4 ALL "
                                    "2,10:11,20\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->tag, "C3");
    EXPECT_TRUE(s->uid);
    EXPECT_EQ(s->min, 2U);
    EXPECT_EQ(s->max, 11U);
    EXPECT_EQ(s->count, 4U);
    EXPECT_EQ(s->numbers, (std::vector<std::uint64_t>{2, 10, 11, 20}));
    EXPECT_FALSE(s->truncated);
    s = parse_search(parse_one("* ESEARCH (TAG \"C4\") COUNT 0\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_FALSE(s->uid);
    EXPECT_EQ(s->count, 0U);
    EXPECT_TRUE(s->numbers.empty());
    s = parse_search(parse_one("* ESEARCH UID ALL 7\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->numbers, (std::vector<std::uint64_t>{7}));
    EXPECT_FALSE(s->tag.has_value());
    // Expansion is capped: a hostile "1:4294967295" does not allocate 4G entries.
    s = parse_search(parse_one("* ESEARCH (TAG \"C5\") UID ALL 1:4294967295\r\n"), 1000);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->numbers.size(), 1000U);
    EXPECT_TRUE(s->truncated);
    s = parse_search(parse_one("* ESEARCH (TAG \"C6\") UID ALL 5 MODSEQ 123\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->modseq, 123U);
    EXPECT_FALSE(parse_search(parse_one("* ESEARCH (TAG \"C7\") ALL 1:x\r\n")).has_value());
    EXPECT_FALSE(parse_search(parse_one("* ESEARCH (TAG \"C7\") COUNT\r\n")).has_value());
}

TEST(ParseStatus, Table) {
    auto s = parse_status(parse_one("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 "
                                    "UIDVALIDITY 3857529045 UNSEEN 3 RECENT 1 HIGHESTMODSEQ "
                                    "7011231777)\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->mailbox, "blurdybloop");
    EXPECT_EQ(s->messages, 231U);
    EXPECT_EQ(s->uidnext, 44292U);
    EXPECT_EQ(s->uidvalidity, 3857529045U);
    EXPECT_EQ(s->unseen, 3U);
    EXPECT_EQ(s->recent, 1U);
    EXPECT_EQ(s->highestmodseq, 7011231777U);
    s = parse_status(parse_one("* STATUS \"Sent Items\" (MESSAGES 0)\r\n"));
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->mailbox, "Sent Items");
    EXPECT_EQ(s->messages, 0U);
    EXPECT_FALSE(s->uidnext.has_value());
    EXPECT_FALSE(parse_status(parse_one("* STATUS x (MESSAGES)\r\n")).has_value());
    EXPECT_FALSE(parse_status(parse_one("* STATUS x (MESSAGES y)\r\n")).has_value());
}

TEST(SequenceSet, ParseTable) {
    struct Row {
        std::string_view in;
        std::optional<std::vector<SeqRange>> out;
    };
    const Row rows[] = {
        {"1", std::vector<SeqRange>{{1, 1}}},
        {"1:5,7,9:12", std::vector<SeqRange>{{1, 5}, {7, 7}, {9, 12}}},
        {"12:9", std::vector<SeqRange>{{9, 12}}},
        {"18446744073709551615", std::vector<SeqRange>{{UINT64_MAX, UINT64_MAX}}},
        {"18446744073709551616", std::nullopt},
        {"", std::nullopt},
        {"1,", std::nullopt},
        {",1", std::nullopt},
        {"1::2", std::nullopt},
        {"0", std::nullopt},
        {"1:*", std::nullopt},
        {"a", std::nullopt},
    };
    for (const auto& r : rows)
        EXPECT_EQ(parse_sequence_set(r.in), r.out) << r.in;
    bool truncated = true;
    EXPECT_EQ(expand_sequence_set({{UINT64_MAX - 1, UINT64_MAX}}, 10, &truncated),
              (std::vector<std::uint64_t>{UINT64_MAX - 1, UINT64_MAX}));
    EXPECT_FALSE(truncated);
    EXPECT_EQ(expand_sequence_set({{1, 5}, {9, 9}}, 3, &truncated),
              (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_TRUE(truncated);
}

} // namespace
} // namespace crm::imap
