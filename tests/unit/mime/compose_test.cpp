// compose_reply(), reply_subject(), reply_references(), validate_envelope_address(): tables,
// round trips through parse(), injection refusals, SMTP smuggling, line lengths, CRLF.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "crm/mime/compose.hpp"
#include "test_util.hpp"

namespace crm::mime {
namespace {

using test::parse_str;
using test::valid_utf8;

ReplyDraft base_draft() {
    ReplyDraft d;
    d.from = {"Sales Person", "sales@acme.example"};
    d.to = {{"Bob Buyer", "bob@customer.example"}};
    d.subject = "Pricing for 2025";
    d.parent_message_id = "parent-1@customer.example";
    d.parent_references = {"root@customer.example", "mid@acme.example"};
    d.text_body = "Hello Bob,\nthanks for your mail.\n";
    d.message_id = "deal-42.abc123@crm.acme.example";
    d.date = 1'700'000'000; // Tue, 14 Nov 2023 22:13:20 +0000
    return d;
}

std::string compose_ok(const ReplyDraft &d) {
    auto r = compose_reply(d);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? *r : std::string();
}

// The header block (up to the first empty line), CRLF kept.
std::string header_block(const std::string &raw) {
    const std::size_t end = raw.find("\r\n\r\n");
    return end == std::string::npos ? raw : raw.substr(0, end + 2);
}

std::vector<std::string_view> crlf_lines(std::string_view raw) {
    std::vector<std::string_view> lines;
    std::size_t pos = 0;
    while (pos < raw.size()) {
        std::size_t e = raw.find("\r\n", pos);
        if (e == std::string_view::npos)
            e = raw.size();
        lines.push_back(raw.substr(pos, e - pos));
        pos = e + 2;
    }
    return lines;
}

void expect_crlf_only(std::string_view raw) {
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\n') {
            ASSERT_TRUE(i > 0 && raw[i - 1] == '\r') << "bare LF at " << i;
        }
        if (raw[i] == '\r') {
            ASSERT_TRUE(i + 1 < raw.size() && raw[i + 1] == '\n') << "bare CR at " << i;
        }
    }
}

void expect_line_limit(std::string_view raw, std::size_t max) {
    for (std::string_view line : crlf_lines(raw))
        ASSERT_LE(line.size(), max) << line.substr(0, 100);
}

// parse() gives decoded text with the CRLF of the wire; drafts are written with LF.
std::string lf(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n'))
            out += s[i];
    return out;
}

void expect_invalid(const ReplyDraft &d, std::string_view field) {
    auto r = compose_reply(d);
    ASSERT_FALSE(r.has_value()) << "accepted; expected an error about " << field;
    EXPECT_EQ(r.error().code, "compose.invalid");
    EXPECT_EQ(r.error().scope, ErrorScope::Message);
    EXPECT_NE(r.error().detail.find(field), std::string::npos) << r.error().detail;
}

// --- reply_subject ------------------------------------------------------------------------

TEST(ReplySubject, Table) {
    struct Case {
        std::string_view in;
        std::string_view want;
    };
    const Case cases[] = {
        {"Hello", "Re: Hello"},
        {"Re: Hello", "Re: Hello"},
        {"RE: Hello", "Re: Hello"},
        {"re: re: RE: Hello", "Re: Hello"},
        {"Re[2]: Hello", "Re: Hello"},
        {"Re(3): Hello", "Re: Hello"},
        {"Re^4: Hello", "Re: Hello"},
        {"Re : Hello", "Re: Hello"},
        {"AW: Hello", "Re: Hello"},
        {"AW: Re: [list] Hello", "Re: [list] Hello"},
        {"[list] Re: Hello", "Re: [list] Hello"},
        {"Re: [list] AW: [list] Hello", "Re: [list] Hello"},
        {"SV: Hello", "Re: Hello"},
        {"Antw: Hello", "Re: Hello"},
        {"ANTWORT: Hello", "Re: Hello"},
        {"Odp: Hello", "Re: Hello"},
        {"R: Ciao", "Re: Ciao"},
        {"RIF: Ciao", "Re: Ciao"},
        {"R\u00c9F : Bonjour", "Re: Bonjour"},
        {"\u56de\u590d\uff1a\u4f60\u597d\u5417", "Re: \u4f60\u597d\u5417"}, // 回复：
        {"\u7b54\u590d: \u62a5\u4ef7", "Re: \u62a5\u4ef7"},                 // 答复:
        {"\u041e\u0442\u0432: \u0426\u0435\u043d\u0430", "Re: \u0426\u0435\u043d\u0430"}, // Отв:
        {"\u0391\u03a0: \u03a4\u03b9\u03bc\u03ae", "Re: \u03a4\u03b9\u03bc\u03ae"},       // ΑΠ:
        {"Fwd: Hello", "Re: Fwd: Hello"},
        {"Re: Fwd: Hello", "Re: Fwd: Hello"},
        {"AW: WG: Angebot", "Re: WG: Angebot"},
        {"FW: Re: Hello", "Re: FW: Re: Hello"},
        {"  Re:   Hello  world  ", "Re: Hello  world"},
        {"Rest: of it", "Re: Rest: of it"},
        {"Research", "Re: Research"},
        {"Reply: x", "Re: Reply: x"},
        {"Re:", "Re:"},
        {"", "Re:"},
        {"   ", "Re:"},
        {"[list]", "Re: [list]"},
        {"Re: [list]", "Re: [list]"},
    };
    for (const auto &c : cases)
        EXPECT_EQ(reply_subject(c.in), c.want) << "input: '" << c.in << "'";
}

TEST(ReplySubject, IsIdempotent) {
    for (std::string_view s : {"AW: Re: [list] Hello", "Fwd: x", "", "\u56de\u590d: y"}) {
        const std::string once = reply_subject(s);
        EXPECT_EQ(reply_subject(once), once);
    }
}

// --- reply_references ---------------------------------------------------------------------

TEST(ReplyReferences, AppendsParentAndDedupes) {
    EXPECT_EQ(reply_references({}, "p"), (std::vector<std::string>{"p"}));
    EXPECT_EQ(reply_references({"a", "b"}, "p"), (std::vector<std::string>{"a", "b", "p"}));
    EXPECT_EQ(reply_references({"a", "b", "a", "", "b"}, "p"),
              (std::vector<std::string>{"a", "b", "p"}));
    // The parent id already in the chain moves to the end, once.
    EXPECT_EQ(reply_references({"a", "p", "b"}, "p"), (std::vector<std::string>{"a", "b", "p"}));
    EXPECT_EQ(reply_references({"a", "b"}, ""), (std::vector<std::string>{"a", "b"}));
}

TEST(ReplyReferences, CapsKeepingRootAndRecent) {
    std::vector<std::string> chain;
    for (int i = 0; i < 50; ++i)
        chain.push_back("id" + std::to_string(i) + "@x");
    const auto refs = reply_references(chain, "parent@x");
    ASSERT_EQ(refs.size(), kMaxReferences);
    EXPECT_EQ(refs.front(), "id0@x");
    EXPECT_EQ(refs.back(), "parent@x");
    EXPECT_EQ(refs[refs.size() - 2], "id49@x");
    EXPECT_EQ(refs[1], "id" + std::to_string(50 - (kMaxReferences - 2)) + "@x");
    // Exactly at the cap: nothing dropped.
    chain.resize(kMaxReferences - 1);
    EXPECT_EQ(reply_references(chain, "parent@x").size(), kMaxReferences);
    EXPECT_EQ(reply_references(chain, "parent@x")[1], "id1@x");
}

// --- validate_envelope_address ------------------------------------------------------------

TEST(EnvelopeAddress, Table) {
    const std::string_view valid[] = {
        "bob@example.com",
        "bob+deal-42@example.com",
        "first.last@sub.example.co.uk",
        "o'neil@example.ie",
        "x@localhost",
        "user@b\u00fccher.example",      // IDN domain
        "j\u00f6rg@m\u00fcller.example", // SMTPUTF8 local part
        "user@xn--bcher-kva.example",
        "a#$&'*+-/=?^_`{|}~@example.com",
    };
    for (std::string_view a : valid)
        EXPECT_TRUE(validate_envelope_address(a).has_value()) << a;

    const std::string_view invalid[] = {
        "",
        "bob@example.com\r\nRCPT TO:<evil@x>",
        "bob@example.com>\r\nRCPT TO:<x",
        ">\r\nRCPT TO:<x>",
        "bob@example.com\n",
        "bob@example.com\r",
        "bob @example.com",
        "bob@ example.com",
        "Bob <bob@example.com>",
        "<bob@example.com>",
        "bob",
        "@example.com",
        "bob@",
        "bob@@example.com",
        "a@b@example.com",
        ".bob@example.com",
        "bob.@example.com",
        "b..ob@example.com",
        "\"bob smith\"@example.com",
        "bob@[192.0.2.1]",
        "bob@-example.com",
        "bob@example..com",
        "bob@example.com.",
        "bob,eve@example.com",
        "bob@exa_mple.com",
        "bob\t@example.com",
        "bob\x7f@example.com",
        "bob@\xff\xfe.example",
        "victim%evil.example@relay.example", // relay routing: the percent hack
        "evil.example!victim@relay.example", // and a UUCP bang path
    };
    for (std::string_view a : invalid) {
        auto r = validate_envelope_address(a);
        EXPECT_FALSE(r.has_value()) << "accepted: " << a;
        if (!r) {
            EXPECT_EQ(r.error().code, "compose.invalid");
        }
    }
    EXPECT_FALSE(validate_envelope_address(std::string_view("bob\0@x.com", 10)).has_value());
    EXPECT_FALSE(validate_envelope_address(std::string(65, 'a') + "@example.com").has_value());
    EXPECT_TRUE(validate_envelope_address(std::string(64, 'a') + "@example.com").has_value());
}

// --- compose_reply: headers and round trips -----------------------------------------------

TEST(Compose, HeadersOfAPlainReply) {
    const std::string raw = compose_ok(base_draft());
    const std::string h = header_block(raw);
    EXPECT_NE(h.find("From: Sales Person <sales@acme.example>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("To: Bob Buyer <bob@customer.example>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("Subject: Re: Pricing for 2025\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("Message-Id: <deal-42.abc123@crm.acme.example>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("In-Reply-To: <parent-1@customer.example>\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("References: <root@customer.example> <mid@acme.example>"), std::string::npos)
        << h;
    EXPECT_NE(h.find("MIME-Version: 1.0\r\n"), std::string::npos) << h;
    EXPECT_NE(h.find("User-Agent: crm-mail\r\n"), std::string::npos) << h;
    EXPECT_EQ(h.find("Cc:"), std::string::npos) << h;
    EXPECT_NE(raw.find("charset=utf-8"), std::string::npos);
    EXPECT_NE(raw.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
    // One header of each, exactly once.
    for (std::string_view name : {"\r\nMIME-Version:", "\r\nDate:", "\r\nSubject:"}) {
        const std::size_t first = ("\r\n" + h).find(name);
        ASSERT_NE(first, std::string::npos) << name;
        EXPECT_EQ(("\r\n" + h).find(name, first + 1), std::string::npos) << name;
    }
    expect_crlf_only(raw);
}

TEST(Compose, DateRendering) {
    auto d = base_draft();
    d.date = 0;
    EXPECT_NE(compose_ok(d).find("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"), std::string::npos);
    d.date = 951'782'400; // leap day 2000
    EXPECT_NE(compose_ok(d).find("Date: Tue, 29 Feb 2000 00:00:00 +0000\r\n"), std::string::npos);
    d.date = -1;
    expect_invalid(d, "date");
    const auto m = parse_str(compose_ok(base_draft()));
    ASSERT_TRUE(m.date.has_value());
    EXPECT_EQ(*m.date, 1'700'000'000);
}

TEST(Compose, RoundTripNonAsciiEverything) {
    auto d = base_draft();
    d.from = {"J\u00fcrgen M\u00fcller-\u00d6zt\u00fcrk", "juergen@acme.example"};
    d.to = {{"\u5f20\u4f1f", "zhang@customer.example"}, {"", "plain@customer.example"}};
    d.cc = {{"Ren\u00e9e \"the boss\" O'Hara, CFO", "renee@customer.example"}};
    d.bcc = {{"Hidden Manager", "boss@acme.example"}};
    d.subject = "AW: Re: Angebot f\u00fcr Gr\u00f6\u00dfe \u201eXL\u201c \u2014 \u62a5\u4ef7";
    d.text_body =
        "Gr\u00fc\u00dfe aus K\u00f6ln \u2014 \u4f60\u597d\n\nZeile 2 = mit Gleichheitszeichen\n";
    d.html_body = "<p>Gr\u00fc\u00dfe <b>aus</b> K\u00f6ln \u2014 \u4f60\u597d</p>";
    d.attachments = {
        {"Angebot \u00dcbersicht 2025.pdf", "application/pdf",
         std::string("%PDF-1.4\0\xff\x01", 11)},
        {"\u62a5\u4ef7\u5355.txt", "text/plain", "plain text attachment\n"},
        {"", "", "no name"},
    };
    const std::string raw = compose_ok(d);
    expect_crlf_only(raw);
    expect_line_limit(raw, 998);
    EXPECT_EQ(raw.find("Bcc"), std::string::npos);
    EXPECT_EQ(raw.find("boss@acme.example"), std::string::npos);
    EXPECT_EQ(raw.find("Hidden Manager"), std::string::npos);
    // Headers are 7-bit (RFC 2047 / RFC 2231 encodings).
    for (const char c : header_block(raw))
        ASSERT_LT(static_cast<unsigned char>(c), 0x80) << header_block(raw);

    const auto m = parse_str(raw);
    EXPECT_FALSE(m.unparsable);
    EXPECT_EQ(m.message_id, d.message_id);
    ASSERT_EQ(m.from.size(), 1u);
    EXPECT_EQ(m.from[0], d.from);
    ASSERT_EQ(m.to.size(), 2u);
    EXPECT_EQ(m.to[0], d.to[0]);
    EXPECT_EQ(m.to[1].address, "plain@customer.example");
    ASSERT_EQ(m.cc.size(), 1u);
    EXPECT_EQ(m.cc[0], d.cc[0]);
    EXPECT_TRUE(m.bcc.empty());
    EXPECT_EQ(m.subject, "Re: Angebot f\u00fcr Gr\u00f6\u00dfe \u201eXL\u201c \u2014 \u62a5\u4ef7");
    EXPECT_EQ(m.in_reply_to, (std::vector<std::string>{"parent-1@customer.example"}));
    EXPECT_EQ(m.references, (std::vector<std::string>{"root@customer.example", "mid@acme.example",
                                                      "parent-1@customer.example"}));
    EXPECT_EQ(lf(m.text_body), d.text_body);
    EXPECT_EQ(m.html_body, d.html_body);
    ASSERT_EQ(m.attachments.size(), 3u);
    EXPECT_EQ(m.attachments[0].filename, d.attachments[0].filename);
    EXPECT_EQ(m.attachments[0].content_type, "application/pdf");
    EXPECT_EQ(m.attachments[0].content, d.attachments[0].content);
    EXPECT_EQ(m.attachments[1].filename, d.attachments[1].filename);
    EXPECT_EQ(m.attachments[1].content, d.attachments[1].content);
    EXPECT_EQ(m.attachments[2].filename, "");
    EXPECT_EQ(m.attachments[2].content_type, "application/octet-stream");
    EXPECT_EQ(m.attachments[2].content, "no name");
    EXPECT_TRUE(valid_utf8(m.text_body));
    // Bcc is still an envelope recipient.
    auto rcpt = envelope_recipients(d);
    ASSERT_TRUE(rcpt.has_value());
    EXPECT_EQ(*rcpt, (std::vector<std::string>{"zhang@customer.example", "plain@customer.example",
                                               "renee@customer.example", "boss@acme.example"}));
}

TEST(Compose, HtmlOnlyGetsATextAlternative) {
    auto d = base_draft();
    d.text_body.clear();
    d.html_body = "<p>Hello <b>Bob</b></p><p>Second paragraph</p>";
    const auto m = parse_str(compose_ok(d));
    EXPECT_EQ(m.html_body, d.html_body);
    EXPECT_NE(m.text_body.find("Hello Bob"), std::string::npos) << m.text_body;
    EXPECT_NE(m.text_body.find("Second paragraph"), std::string::npos) << m.text_body;
    EXPECT_EQ(m.text_body.find('<'), std::string::npos) << m.text_body;
}

TEST(Compose, NewConversationKeepsSubjectAndHasNoThreadingHeaders) {
    auto d = base_draft();
    d.parent_message_id.clear();
    d.parent_references.clear();
    d.subject = "AW: kept as written";
    const std::string raw = compose_ok(d);
    EXPECT_EQ(raw.find("In-Reply-To"), std::string::npos);
    EXPECT_EQ(raw.find("References"), std::string::npos);
    EXPECT_EQ(parse_str(raw).subject, "AW: kept as written");
}

TEST(Compose, LongReferencesChainIsCappedAndFolded) {
    auto d = base_draft();
    d.parent_references.clear();
    for (int i = 0; i < 60; ++i)
        d.parent_references.push_back("a-rather-long-message-identifier-" + std::to_string(i) +
                                      "@mail.customer.example");
    d.parent_references.emplace_back("has space@x");  // unusable: dropped
    d.parent_references.emplace_back("has<angle>@x"); // unusable: dropped
    const std::string raw = compose_ok(d);
    expect_line_limit(raw, 998);
    const auto m = parse_str(raw);
    ASSERT_EQ(m.references.size(), kMaxReferences);
    EXPECT_EQ(m.references.front(), d.parent_references.front());
    EXPECT_EQ(m.references.back(), d.parent_message_id);
    EXPECT_EQ(m.references[m.references.size() - 2], d.parent_references[59]);
}

TEST(Compose, AnIdWithoutAtIsDroppedAloneAndTheChainKept) {
    // GMime stops reading References at an id without "@": such an id must not cut the chain.
    auto d = base_draft();
    d.parent_references = {"root@customer.example", "local-only-id", "mid@acme.example",
                           "@x", "y@", "a@b@c", "last@customer.example"};
    auto m = parse_str(compose_ok(d));
    EXPECT_EQ(m.references, (std::vector<std::string>{"root@customer.example", "mid@acme.example",
                                                      "last@customer.example",
                                                      d.parent_message_id}));
    // A parent without "@" (or our own synthetic id) is answered, with what can be written.
    d.parent_message_id = "crm-sha256-0123abcd";
    const std::string raw = compose_ok(d);
    EXPECT_EQ(raw.find("In-Reply-To"), std::string::npos) << raw;
    EXPECT_EQ(raw.find("crm-sha256"), std::string::npos) << raw;
    m = parse_str(raw);
    EXPECT_EQ(m.references, (std::vector<std::string>{"root@customer.example", "mid@acme.example",
                                                      "last@customer.example"}));
    EXPECT_EQ(m.subject, "Re: Pricing for 2025");
}

TEST(Compose, LongSubjectAndNamesStayUnder998) {
    auto d = base_draft();
    d.subject = std::string(3000, 'x');
    d.from.name = std::string(2000, 'n');
    d.to[0].name = std::string(1500, '\xc3'); // invalid UTF-8 is refused
    expect_invalid(d, "to[0].name");
    d.to[0].name.clear();
    for (int i = 0; i < 400; ++i)
        d.to[0].name += "\u00e9";
    const std::string raw = compose_ok(d);
    expect_line_limit(raw, 998);
    expect_crlf_only(raw);
    const auto m = parse_str(raw);
    EXPECT_EQ(m.subject, "Re: " + std::string(3000, 'x'));
    EXPECT_EQ(m.to.at(0).name, d.to[0].name);
}

// --- body encoding: long lines, CRLF, smuggling -------------------------------------------

TEST(Compose, LongLineBodyIsWrappedAndRoundTrips) {
    auto d = base_draft();
    std::string line;
    for (int i = 0; i < 5000; ++i)
        line += static_cast<char>('a' + (i % 26));
    d.text_body = line + "\n" + std::string(3000, ' ') + "x\n" + std::string(2000, '=') + "\n";
    for (int i = 0; i < 1000; ++i)
        d.text_body += "\u00fc";
    d.html_body = "<p>" + line + "</p>";
    d.attachments = {{"big.bin", "application/octet-stream", std::string(10000, '\x01')}};
    const std::string raw = compose_ok(d);
    expect_crlf_only(raw);
    expect_line_limit(raw, 998);
    // The body parts we encode keep to RFC 2045's 76.
    const std::size_t body = raw.find("\r\n\r\n");
    ASSERT_NE(body, std::string::npos);
    expect_line_limit(std::string_view(raw).substr(body + 4), 78);
    const auto m = parse_str(raw);
    EXPECT_EQ(lf(m.text_body), d.text_body);
    EXPECT_EQ(m.html_body, d.html_body);
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].content, d.attachments[0].content);
}

TEST(Compose, OutputIsCrlfOnlyWhateverTheInputLineEndings) {
    auto d = base_draft();
    d.text_body = "unix\nwindows\r\nold mac\rmixed\n\r\n\r\rend";
    d.html_body = "<p>a</p>\n<p>b</p>\r<p>c</p>\r\n";
    d.attachments = {{"notes.txt", "text/plain", "a\nb\rc\r\n"}};
    const std::string raw = compose_ok(d);
    expect_crlf_only(raw);
    const auto m = parse_str(raw);
    // Every line break became CRLF in transit, which parse() gives back as LF.
    EXPECT_EQ(lf(m.text_body), "unix\nwindows\nold mac\nmixed\n\n\n\nend");
    // Attachments are base64: bytes untouched.
    ASSERT_EQ(m.attachments.size(), 1u);
    EXPECT_EQ(m.attachments[0].content, "a\nb\rc\r\n");
}

TEST(Compose, SmtpSmugglingSequencesAreNeutralised) {
    auto d = base_draft();
    d.text_body = "line\n.\nMAIL FROM:<evil@x>\r\n.\r\nRCPT TO:<v@x>\n.\r\nx\r.\rDATA\r\n"
                  ".leading dot\n..two dots\n.\nFrom the start\n";
    d.html_body = "<p>x</p>\n.\n<p>y</p>\r\n.\r\n";
    const std::string raw = compose_ok(d);
    expect_crlf_only(raw);
    for (std::string_view line : crlf_lines(raw)) {
        EXPECT_NE(line, ".") << "a lone dot line would end the SMTP DATA";
        EXPECT_FALSE(line.starts_with('.')) << line; // no dot-stuffing needed in our parts
    }
    EXPECT_EQ(raw.find("\r\n.\r\n"), std::string::npos);
    EXPECT_EQ(raw.find("\n.\n"), std::string::npos);
    EXPECT_EQ(raw.find("\n.\r"), std::string::npos);
    EXPECT_EQ(raw.find("\r.\n"), std::string::npos);
    EXPECT_EQ(raw.find("\r.\r"), std::string::npos);
    EXPECT_EQ(raw.find("\r\nFrom the"), std::string::npos);
    const auto m = parse_str(raw);
    EXPECT_EQ(lf(m.text_body), "line\n.\nMAIL FROM:<evil@x>\n.\nRCPT TO:<v@x>\n.\nx\n.\nDATA\n"
                               ".leading dot\n..two dots\n.\nFrom the start\n");
}

TEST(Compose, DotAfterSoftBreakIsEncoded) {
    // Put a '.' exactly where quoted-printable wraps, for every alignment.
    for (std::size_t n = 70; n < 80; ++n) {
        auto d = base_draft();
        d.text_body = std::string(n, 'a') + "....." + std::string(n, 'b') + "\n";
        const std::string raw = compose_ok(d);
        for (std::string_view line : crlf_lines(raw))
            ASSERT_FALSE(line.starts_with('.')) << "n=" << n << ": " << line;
        EXPECT_EQ(lf(parse_str(raw).text_body), d.text_body) << n;
    }
}

TEST(Compose, TrailingWhitespaceAndControlsSurvive) {
    auto d = base_draft();
    d.text_body = std::string("tab\t\nspace \nnul\0byte\n", 21) + "esc\x1b\n";
    const auto m = parse_str(compose_ok(d));
    EXPECT_EQ(lf(m.text_body).substr(0, 11), "tab\t\nspace ");
    EXPECT_NE(m.text_body.find("esc"), std::string::npos);
}

// --- refusals -----------------------------------------------------------------------------

TEST(Compose, HeaderInjectionIsRefused) {
    const std::string inj = "x\r\nBcc: victim@evil.example";
    {
        auto d = base_draft();
        d.subject = inj;
        expect_invalid(d, "subject");
    }
    {
        auto d = base_draft();
        d.subject = "x\nBcc: v@evil.example";
        expect_invalid(d, "subject");
    }
    {
        auto d = base_draft();
        d.subject = "x\rBcc: v@evil.example";
        expect_invalid(d, "subject");
    }
    {
        auto d = base_draft();
        d.subject = std::string("x\0y", 3);
        expect_invalid(d, "subject");
    }
    {
        auto d = base_draft();
        d.from.name = inj;
        expect_invalid(d, "from.name");
    }
    {
        auto d = base_draft();
        d.to[0].name = inj;
        expect_invalid(d, "to[0].name");
    }
    {
        auto d = base_draft();
        d.cc = {{"ok", "ok@x.example"}, {inj, "cc@x.example"}};
        expect_invalid(d, "cc[1].name");
    }
    {
        auto d = base_draft();
        d.bcc = {{"", "bob@x.example\r\nRCPT TO:<evil@x>"}};
        expect_invalid(d, "bcc[0].address");
    }
    {
        auto d = base_draft();
        d.to[0].address = "bob@customer.example>\r\nRCPT TO:<evil@x";
        expect_invalid(d, "to[0].address");
    }
    {
        auto d = base_draft();
        d.from.address = "sales@acme.example\r\nBcc: x@y";
        expect_invalid(d, "from.address");
    }
    {
        auto d = base_draft();
        d.attachments = {{"a.pdf" + inj, "application/pdf", "x"}};
        expect_invalid(d, "attachments[0].filename");
    }
    {
        auto d = base_draft();
        d.attachments = {{"a.pdf", "application/pdf\r\nBcc: x@y", "x"}};
        expect_invalid(d, "attachments[0].content_type");
    }
    {
        auto d = base_draft();
        d.attachments = {{"a.pdf", "application/pdf; name=evil", "x"}};
        expect_invalid(d, "attachments[0].content_type");
    }
    {
        auto d = base_draft();
        d.message_id = "id@x\r\nBcc: y@z";
        expect_invalid(d, "message_id");
    }
    {
        auto d = base_draft();
        d.parent_message_id = "p@x\r\nBcc: y@z";
        expect_invalid(d, "parent_message_id");
    }
    {
        auto d = base_draft();
        d.parent_references = {"a@x", "b@x\nBcc: y@z"};
        expect_invalid(d, "parent_references[1]");
    }
    {
        auto d = base_draft();
        d.subject = "bell\x07";
        expect_invalid(d, "subject");
    }
}

TEST(Compose, BadAddressesAndIdsAreRefused) {
    {
        auto d = base_draft();
        d.to.clear();
        expect_invalid(d, "to");
        d.cc = {{"", "cc@x.example"}}; // Cc alone is not enough
        expect_invalid(d, "to");
    }
    for (std::string_view bad : {"", "bob", "bob smith@x.example", "<bob@x.example>", "a@b@c"}) {
        auto d = base_draft();
        d.to[0].address = bad;
        expect_invalid(d, "to[0].address");
    }
    for (std::string_view bad : {"", "no-at-sign", "two@@x", "sp ace@x", "<id@x>", "a@b@c", "id@x>",
                                 "\u00fc@x", "(c)@x", ".dot@x", "id@x."}) {
        auto d = base_draft();
        d.message_id = bad;
        expect_invalid(d, "message_id");
    }
    {
        auto d = base_draft();
        d.message_id = std::string(300, 'a') + "@x";
        expect_invalid(d, "message_id");
    }
    for (std::string_view bad : {"p@x> <q@y", "sp ace@x", "(comment)"}) {
        auto d = base_draft();
        d.parent_message_id = bad;
        expect_invalid(d, "parent_message_id");
    }
    {
        auto d = base_draft();
        d.attachments = {{"a", "nonsense", "x"}};
        expect_invalid(d, "attachments[0].content_type");
    }
}

TEST(Compose, EnvelopeRecipientsDedupesAndValidates) {
    auto d = base_draft();
    d.to = {{"", "a@x.example"}, {"", "A@X.example"}};
    d.cc = {{"", "b@x.example"}};
    d.bcc = {{"", "a@x.example"}, {"", "c@x.example"}};
    auto r = envelope_recipients(d);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, (std::vector<std::string>{"a@x.example", "b@x.example", "c@x.example"}));
    d.bcc.push_back({"", "evil@x\r\nRCPT TO:<y@z>"});
    auto bad = envelope_recipients(d);
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().detail.find("bcc[2]"), std::string::npos);
}

TEST(Compose, IdnAddressesRoundTrip) {
    auto d = base_draft();
    d.to.push_back({"Idn", "user@b\u00fccher.example"});
    const std::string raw = compose_ok(d);
    // The domain goes out as an A-label (7-bit header); parse() gives the U-label back.
    EXPECT_NE(header_block(raw).find("<user@xn--bcher-kva.example>"), std::string::npos) << raw;
    const auto m = parse_str(raw);
    ASSERT_EQ(m.to.size(), 2u);
    EXPECT_EQ(m.to[1], d.to[1]);
}

TEST(Compose, TrickyAttachmentNamesRoundTrip) {
    auto d = base_draft();
    std::string long_name;
    for (int i = 0; i < 120; ++i)
        long_name += "\u00e4\u62a5";
    long_name += ".docx";
    d.attachments = {
        {"a \"quoted\"; name=evil.exe; x.txt", "text/plain", "one"},
        {long_name, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "two"},
        {"=?utf-8?q?not_decoded?=.txt", "TEXT/Plain", "three"},
        {"back\\slash (paren).txt", "text/plain", "four"},
    };
    const std::string raw = compose_ok(d);
    expect_crlf_only(raw);
    expect_line_limit(raw, 998);
    const auto m = parse_str(raw);
    ASSERT_EQ(m.attachments.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_EQ(m.attachments[i].content, d.attachments[i].content) << i;
    EXPECT_EQ(m.attachments[0].filename, d.attachments[0].filename);
    EXPECT_EQ(m.attachments[1].filename, long_name);
    EXPECT_EQ(m.attachments[1].content_type, d.attachments[1].content_type);
    EXPECT_EQ(m.attachments[2].content_type, "text/plain");
    EXPECT_EQ(m.attachments[3].filename, d.attachments[3].filename);
}

TEST(Compose, IsDeterministic) {
    auto d = base_draft();
    d.html_body = "<p>x</p>";
    d.attachments = {{"a.txt", "text/plain", "abc"}};
    EXPECT_EQ(compose_ok(d), compose_ok(d));
}

} // namespace
} // namespace crm::mime
