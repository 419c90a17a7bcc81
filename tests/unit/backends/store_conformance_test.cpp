// The ingest and sync store ports on both databases: each scenario runs on SQLite (the spec) and
// on PostgreSQL (pipelined and not), and must come out the same.
#include <algorithm>

#include <fmt/ranges.h>

#include "crm/app/ingest.hpp"
#include "crm/blob/codec.hpp"
#include "crm/mime/parse.hpp"
#include "store_backends.hpp"

namespace crm::backends_test {
namespace {

template <class B> class StoreConformance : public B {
  protected:
    // Alice (salesperson, alice@s.example), Globex (company 10, globex.example), Hank (contact
    // 100 at Globex), deals 1000 (open, Hank) and 1001 (won).
    void seed_crm() {
        auto& s = this->store();
        ASSERT_TRUE(
            s.upsert_user({1, "Alice", "alice@s.example", "alice@s.example", "salesperson"}, 1));
        ASSERT_TRUE(s.upsert_company({10, "Globex", {"globex.example"}}, 1));
        ASSERT_TRUE(s.upsert_contact(
            {100, "Hank", {{"hank@globex.example", "Hank@Globex.example"}}, 10}, 1));
        ASSERT_TRUE(
            s.upsert_deal({1000, "Fleet", 10, {100}, 1, "proposal", "open", "10", "EUR"}, 1));
        ASSERT_TRUE(s.upsert_deal({1001, "Other", 10, {}, 1, "won", "won", "0", ""}, 1));
    }
    ThreadId thread() {
        auto t = this->store().create_thread();
        EXPECT_TRUE(t) << t.error().to_string();
        return t ? *t : 0;
    }
    MessageRowId message(ThreadId t, const Mail& m) {
        auto id = put(this->store(), t, m);
        EXPECT_TRUE(id) << id.error().to_string();
        return id ? *id : 0;
    }
    // Account `name` (NAME@x.example on imap.x.example) and its INBOX, as sync registers them.
    // Call with ASSERT_NO_FATAL_FAILURE.
    void inbox(AccountId& account, MailboxState& mailbox, const std::string& name = "a") {
        auto acc = this->sync().ensure_account(name, std::nullopt, name + "@x.example",
                                               "imap.x.example", true, 1);
        ASSERT_TRUE(acc) << acc.error().to_string();
        auto mb = this->sync().ensure_mailbox(*acc, "INBOX", "");
        ASSERT_TRUE(mb) << mb.error().to_string();
        account = *acc;
        mailbox = *mb;
    }
    std::int64_t count(const std::string& table) {
        return this->scalar("SELECT count(*) FROM " + table).value_or(-1);
    }
    std::int64_t num(const std::string& sql) { return this->scalar(sql).value_or(-1); }
    // The real ingest of raw messages into `account`'s `mailbox`, one transaction each, at
    // 5000 + its UID (a message without a Date is dated then).
    auto ingester(AccountId account, const MailboxState& mailbox) {
        return [this, account, mailbox, uid = std::int64_t{0},
                ingestor = std::make_shared<app::Ingestor>(this->store(), this->store())](
                   const std::string& raw) mutable {
            const ParsedMessage parsed = mime::parse(std::span<const char>(raw.data(), raw.size()));
            app::IngestSource src;
            src.raw = raw;
            src.where = {
                .account = account, .mailbox = mailbox.id, .uid_validity = 1, .uid = ++uid};
            app::IngestOutcome out;
            auto done = this->tx([&]() -> Result<void> {
                auto r = ingestor->ingest(src, parsed, 5000 + uid);
                if (!r)
                    return std::unexpected(r.error());
                out = *r;
                return {};
            });
            EXPECT_TRUE(done) << done.error().to_string();
            return out;
        };
    }
};

TYPED_TEST_SUITE(StoreConformance, Backends, BackendNames);

// ---- messages: dedup, blobs, raw bytes ---------------------------------------------------

TYPED_TEST(StoreConformance, DedupByMessageIdAndContentHash) {
    auto& s = this->store();
    const ThreadId t = this->thread();
    const auto a = this->message(t, {.message_id = "m1@x", .content_hash = "h1"});
    auto found = s.find_message("m1@x", "h1");
    ASSERT_TRUE(found) << found.error().to_string();
    EXPECT_EQ(*found, std::optional<MessageRowId>(a));
    auto other = s.find_message("m1@x", "h2");
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other) << "same Message-ID, other content: another message";
    const auto b = this->message(t, {.message_id = "m1@x", .content_hash = "h2"});
    EXPECT_NE(a, b);
    auto both = s.messages_with_id("m1@x");
    ASSERT_TRUE(both);
    EXPECT_EQ(*both, (std::vector<MessageRowId>{a, b}));
    auto none = s.messages_with_id("nobody@x");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    // The thread's counters moved with each insert.
    const auto tid = std::to_string(t);
    EXPECT_EQ(this->num("SELECT message_count FROM threads WHERE id = " + tid), 2);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + tid), 2);
}

TYPED_TEST(StoreConformance, SameRawIsOneBlobAndReadsBackExactly) {
    auto& s = this->store();
    const ThreadId t = this->thread();
    std::string raw;
    for (int i = 0; raw.size() < 40000; ++i)
        raw += "Received: from relay" + std::to_string(i % 7) + ".example.com\r\n";
    raw += std::string("\r\nbinary \0\x01\xff tail\r\n", 19);
    const auto a = this->message(
        t, {.message_id = "a@x", .content_hash = "h", .raw = raw, .raw_sha256 = "same"});
    const auto b = this->message(
        t, {.message_id = "b@x", .content_hash = "h", .raw = raw, .raw_sha256 = "same"});
    EXPECT_EQ(this->count("blobs"), 1);
    EXPECT_EQ(this->num("SELECT size FROM blobs"), static_cast<std::int64_t>(raw.size()));
    EXPECT_EQ(this->text("SELECT codec FROM blobs"), "zstd");
    for (auto id : {a, b}) {
        auto back = s.raw_message(id);
        ASSERT_TRUE(back) << back.error().to_string();
        ASSERT_TRUE(*back);
        EXPECT_EQ(**back, raw);
    }
    auto missing = s.raw_message(987654);
    ASSERT_TRUE(missing);
    EXPECT_FALSE(*missing);
}

TYPED_TEST(StoreConformance, PrepackedRawIsStoredAsGiven) {
    auto& s = this->store();
    const ThreadId t = this->thread();
    const std::string raw(3000, 'x');
    ParsedMessage p;
    p.content_hash = "h";
    PackedBlob packed = blob::pack_blob(raw);
    NewMessage n;
    n.parsed = &p;
    n.raw_packed = &packed; // raw itself left empty, as SyncSink::prepare leaves it
    n.raw_sha256 = "prepacked";
    n.message_id = "pre@x";
    n.thread = t;
    auto id = s.insert_message(n);
    ASSERT_TRUE(id) << id.error().to_string();
    auto back = s.raw_message(*id);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(**back, raw);
}

TYPED_TEST(StoreConformance, HeadersParticipantsAndAttachmentsAreStored) {
    this->seed_crm();
    const ThreadId t = this->thread();
    Attachment att;
    att.filename = "quote \"v2\".pdf";
    att.content_type = "application/pdf";
    att.size = 13;
    att.sha256 = std::string(64, 'c');
    Attachment inl;
    inl.filename = "logo.png";
    inl.content_type = "image/png";
    inl.content_id = "logo@x";
    inl.is_inline = true;
    inl.size = 7;
    inl.sha256 = std::string(64, 'd');
    Mail m{.message_id = "h@x", .content_hash = "h"};
    m.headers = {{"Subject", "say \"hi\" \\ tab\there"}, {"X-Nul", std::string("a\0b", 3)}};
    m.participants = {
        {"from",
         "hank@globex.example",
         "Hank <hank@globex.example>",
         "Hank",
         {100, 10, std::nullopt}},
        {"to", "alice@s.example", "alice@s.example", "", {std::nullopt, std::nullopt, 1}},
        {"to", "bob@y.example", "bob@y.example", "Bob", {}}};
    m.attachments = {att, inl};
    const auto id = this->message(t, m);
    const auto mid = std::to_string(id);
    EXPECT_EQ(this->text("SELECT headers_json FROM messages WHERE id = " + mid),
              R"([["Subject","say \"hi\" \\ tab\there"],["X-Nul","a\u0000b"]])");
    EXPECT_EQ(this->text("SELECT warnings_json FROM messages WHERE id = " + mid), "[]");
    EXPECT_EQ(this->num("SELECT count(*) FROM participants WHERE message_id = " + mid), 3);
    EXPECT_EQ(this->num("SELECT position FROM participants WHERE address = 'bob@y.example'"), 1);
    EXPECT_EQ(this->num("SELECT contact_id FROM participants WHERE role = 'from'"), 100);
    EXPECT_EQ(this->num("SELECT user_id FROM participants WHERE address = 'alice@s.example'"), 1);
    EXPECT_EQ(this->num("SELECT count(*) FROM attachments WHERE message_id = " + mid), 2);
    EXPECT_EQ(this->text("SELECT filename FROM attachments WHERE position = 0"), att.filename);
    EXPECT_EQ(this->num("SELECT is_inline FROM attachments WHERE position = 1"), 1);
    EXPECT_EQ(this->count("blobs"), 1) << "attachment bytes stay in the raw message";
    auto who = this->store().thread_participants(t);
    ASSERT_TRUE(who);
    std::vector<std::string> addresses;
    for (const auto& p : *who)
        addresses.push_back(p.address);
    std::sort(addresses.begin(), addresses.end());
    EXPECT_EQ(addresses, (std::vector<std::string>{"bob@y.example", "hank@globex.example"}))
        << "team members are left out";
}

// ---- locations ---------------------------------------------------------------------------

TYPED_TEST(StoreConformance, LocationsAreRecordedOnce) {
    auto& s = this->store();
    auto& sync = this->sync();
    auto acc = sync.ensure_account("a", std::nullopt, "a@x.example", "imap.x.example", true, 1);
    ASSERT_TRUE(acc) << acc.error().to_string();
    auto mb = sync.ensure_mailbox(*acc, "INBOX", "");
    ASSERT_TRUE(mb) << mb.error().to_string();
    const ThreadId t = this->thread();
    const auto id = this->message(t, {.message_id = "l@x", .content_hash = "h"});
    LocationRef imap{.account = *acc,
                     .mailbox = mb->id,
                     .uid_validity = 7,
                     .uid = 42,
                     .gm_msgid = 99,
                     .flags = "\\Seen"};
    auto first = s.add_location(id, imap, 5);
    ASSERT_TRUE(first) << first.error().to_string();
    EXPECT_TRUE(*first);
    auto again = s.add_location(id, imap, 6);
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
    LocationRef file{.source = "/tmp/x.mbox#3"};
    EXPECT_TRUE(*s.add_location(id, file, 7));
    EXPECT_FALSE(*s.add_location(id, file, 8));
    EXPECT_EQ(this->count("locations"), 2);
    auto uids = sync.stored_uids(mb->id, 7);
    ASSERT_TRUE(uids);
    EXPECT_EQ(*uids, std::vector<std::uint32_t>{42});
    EXPECT_TRUE(sync.stored_uids(mb->id, 8)->empty());
}

// Gmail: a stored X-GM-MSGID names its message, for that account only.
TYPED_TEST(StoreConformance, MessagesByGmailIdAreTheAccountsOwn) {
    auto& s = this->store();
    auto& sync = this->sync();
    AccountId a = 0, b = 0;
    MailboxState mb, mb_b;
    ASSERT_NO_FATAL_FAILURE(this->inbox(a, mb, "a"));
    ASSERT_NO_FATAL_FAILURE(this->inbox(b, mb_b, "b"));
    const ThreadId t = this->thread();
    const auto m1 = this->message(t, {.message_id = "g1@x", .content_hash = "h1"});
    const auto m2 = this->message(t, {.message_id = "g2@x", .content_hash = "h2"});
    ASSERT_TRUE(s.add_location(
        m1, {.account = a, .mailbox = mb.id, .uid_validity = 7, .uid = 1, .gm_msgid = 501}, 5));
    ASSERT_TRUE(s.add_location(
        m2, {.account = b, .mailbox = mb_b.id, .uid_validity = 7, .uid = 1, .gm_msgid = 502}, 5));
    auto found = sync.messages_by_gm_msgid(a, {501, 502, 503});
    ASSERT_TRUE(found) << found.error().to_string();
    EXPECT_EQ(*found, (std::vector<std::pair<std::int64_t, MessageRowId>>{{501, m1}}))
        << "502 belongs to another account, 503 to none";
    auto none = sync.messages_by_gm_msgid(a, {});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

// Gmail: labels fetched with the flags replace the location's; an update without labels (other
// servers) leaves them.
TYPED_TEST(StoreConformance, FlagUpdatesCarryGmailLabels) {
    auto& s = this->store();
    auto& sync = this->sync();
    AccountId acc = 0;
    MailboxState mb;
    ASSERT_NO_FATAL_FAILURE(this->inbox(acc, mb));
    const ThreadId t = this->thread();
    const auto id = this->message(t, {.message_id = "lab@x", .content_hash = "h"});
    ASSERT_TRUE(s.add_location(
        id, {.account = acc, .mailbox = mb.id, .uid_validity = 7, .uid = 5, .labels = {"\\Inbox"}},
        5));
    auto n = sync.update_flags(
        mb.id, 7, {FlagUpdate{5, {"\\Seen"}, std::vector<std::string>{"Deals/Acme"}}}, 6);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(this->text("SELECT labels FROM locations WHERE uid = 5"), "[\"Deals/Acme\"]");
    ASSERT_TRUE(sync.update_flags(mb.id, 7, {FlagUpdate{5, {}, std::nullopt}}, 7));
    EXPECT_EQ(this->text("SELECT labels FROM locations WHERE uid = 5"), "[\"Deals/Acme\"]");
    EXPECT_EQ(this->text("SELECT flags FROM locations WHERE uid = 5"), "");
}

// MailStore::read_ahead: every read it announces answers exactly what the read itself answers
// (PostgreSQL asks them all in one round trip), a read with other arguments is asked anew, and
// an answer does not outlive a write that changes it (a merge).
TYPED_TEST(StoreConformance, ReadAheadAnswersWhatTheReadsThemselvesAnswer) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId t = this->thread();
    const ThreadId other = this->thread();
    ParticipantRow hank{.role = "from", .address = "hank@globex.example"};
    hank.facts.contact = 100;
    hank.facts.company = 10;
    const MessageRowId m1 = this->message(t, {.message_id = "ra1@x",
                                              .content_hash = "h",
                                              .subject = "Fleet offer",
                                              .base_subject = "fleet offer",
                                              .date = 5000,
                                              .participants = {hank}});
    ASSERT_TRUE(s.add_keys(t, std::vector<std::string>{"ra1@x", "ra0@x"}));
    ASSERT_TRUE(s.add_keys(other, std::vector<std::string>{"ra9@x"}));
    ASSERT_TRUE(s.place(t, m1, Placement{1000, "single open deal", 0.9, {}, false}, 5));

    ReadAhead a;
    a.message_id = "ra1@x";
    a.content_hash = "h";
    a.thread_keys = {"ra0@x", "ra9@x", "none@x"};
    a.subject = SubjectQuery{"fleet offer", 0, 10000};
    a.token_ids = {"ra0@x"};
    a.addresses = {"hank@globex.example", "nobody@else.example", "alice@s.example"};
    a.open_deals = ReadAhead::Deals{{100}, {10}};
    a.facts_of = t;
    // Everything the reads answer, as text.
    auto answers = [&](const std::vector<ContactId>& contacts) {
        std::string out;
        auto found = s.find_message(a.message_id, a.content_hash);
        EXPECT_TRUE(found);
        out += fmt::format("found={} ", found && *found ? **found : -1);
        auto keys = s.threads_for_keys(a.thread_keys);
        EXPECT_TRUE(keys);
        out += fmt::format("keys={} ", keys ? fmt::format("{}", fmt::join(*keys, ",")) : "");
        auto cands = s.subject_candidates(a.subject->base, a.subject->from, a.subject->to);
        EXPECT_TRUE(cands);
        for (const auto& c : cands ? *cands : std::vector<SubjectCandidate>{})
            out += fmt::format("cand={}/{}/{}/{}/{}/[{}] ", c.message_id, c.thread_id, c.date,
                               c.is_bulk, c.subject_reply, fmt::join(c.participants, ","));
        auto tokens = s.deals_of_our_message_ids(a.token_ids);
        EXPECT_TRUE(tokens);
        out += fmt::format("tokens={} ", tokens ? tokens->size() : 99);
        for (const auto& addr : a.addresses) {
            auto f = s.lookup_address(addr);
            EXPECT_TRUE(f);
            if (f)
                out += fmt::format("{}={}/{}/{} ", addr, f->user.value_or(0),
                                   f->contact.value_or(0), f->company.value_or(0));
        }
        auto deals = s.open_deals(contacts, a.open_deals->companies);
        EXPECT_TRUE(deals);
        for (const auto& d : deals ? *deals : std::vector<DealRecord>{})
            out += fmt::format("deal={}/{}/[{}] ", d.id, d.name, fmt::join(d.contacts, ","));
        auto facts = s.thread_facts(t);
        EXPECT_TRUE(facts);
        if (facts) {
            out +=
                fmt::format("link={} held={} ", facts->link ? facts->link->deal : 0, facts->held);
            for (const auto& p : facts->participants)
                out += fmt::format("who={}/{} ", p.address, p.contact.value_or(0));
        }
        return out;
    };
    const std::string direct = answers({100});
    EXPECT_NE(direct.find("found="), std::string::npos);
    EXPECT_NE(direct.find("deal=1000/Fleet/[100]"), std::string::npos) << direct;
    EXPECT_NE(direct.find("cand=ra1@x"), std::string::npos) << direct;
    EXPECT_NE(direct.find("who=hank@globex.example/100"), std::string::npos) << direct;

    auto in_tx = this->tx([&]() -> Result<void> {
        if (auto r = s.read_ahead(a); !r)
            return r;
        EXPECT_EQ(answers({100}), direct);
        // The same arguments in another order are the same question.
        if (auto r = s.read_ahead(a); !r)
            return r;
        EXPECT_EQ(answers({100, 100}), direct);
        // A merge moves the keys: what was read ahead of it is not answered after it.
        if (auto r = s.read_ahead(a); !r)
            return r;
        if (auto r = s.merge_threads(t, other); !r)
            return r;
        auto keys = s.threads_for_keys(a.thread_keys);
        EXPECT_TRUE(keys);
        EXPECT_EQ(keys ? *keys : std::vector<ThreadId>{}, std::vector<ThreadId>{t});
        return {};
    });
    ASSERT_TRUE(in_tx) << in_tx.error().to_string();
}

TYPED_TEST(StoreConformance, StoreNewMessageIsInsertLocationAndPlaceAtOnce) {
    this->seed_crm();
    auto& s = this->store();
    auto acc = this->sync().ensure_account("a", std::nullopt, "a@x.example", "imap", true, 1);
    ASSERT_TRUE(acc) << acc.error().to_string();
    auto mb = this->sync().ensure_mailbox(*acc, "INBOX", "");
    ASSERT_TRUE(mb) << mb.error().to_string();
    const ThreadId linked = this->thread();
    const LocationRef imap{.account = *acc, .mailbox = mb->id, .uid_validity = 7, .uid = 1};
    auto first = put_whole(s, linked, {.message_id = "w1@x", .content_hash = "h"}, imap,
                           Placement{1000, "single open deal", 0.9, {}, false}, 5);
    ASSERT_TRUE(first) << first.error().to_string();
    const auto id = std::to_string(*first);
    const auto tid = std::to_string(linked);
    EXPECT_EQ(this->text("SELECT sort_reason FROM messages WHERE id = " + id), "single open deal");
    EXPECT_EQ(this->num("SELECT message_id FROM locations WHERE uid = 1"), *first);
    EXPECT_EQ(this->num("SELECT deal_id FROM thread_deals WHERE thread_id = " + tid), 1000);
    EXPECT_EQ(this->num("SELECT message_count FROM threads WHERE id = " + tid), 1);

    // Unsorted, with a file location (no account).
    const ThreadId queued = this->thread();
    auto second = put_whole(s, queued, {.message_id = "w2@x", .content_hash = "h"},
                            LocationRef{.source = "/tmp/w2.eml"},
                            Placement{std::nullopt, "unknown sender", 0, {1000}, false}, 6);
    ASSERT_TRUE(second) << second.error().to_string();
    EXPECT_EQ(this->text("SELECT reason FROM unsorted WHERE thread_id = " + std::to_string(queued)),
              "unknown sender");
    EXPECT_EQ(this->num("SELECT message_id FROM locations WHERE source = '/tmp/w2.eml'"), *second);
    EXPECT_EQ(this->count("locations"), 2);
}

TYPED_TEST(StoreConformance, ThreadFactsAreTheLinkTheQueueAndTheParticipantsThatCount) {
    this->seed_crm();
    auto& s = this->store();
    const ParticipantRow hank{
        "from", "hank@globex.example", "hank@globex.example", "Hank", {100, 10, std::nullopt}};
    auto thread_with_mail = [&](const std::string& id) {
        const ThreadId t = this->thread();
        this->message(t, {.message_id = id, .content_hash = "h", .participants = {hank}});
        return t;
    };
    // Unlinked and not held: its participants.
    const ThreadId open = thread_with_mail("f1@x");
    ASSERT_TRUE(s.place(open, 0, Placement{std::nullopt, "unknown sender", 0, {}, false}, 1));
    auto f = s.thread_facts(open);
    ASSERT_TRUE(f) << f.error().to_string();
    EXPECT_FALSE(f->link);
    EXPECT_FALSE(f->held);
    ASSERT_EQ(f->participants.size(), 1U);
    EXPECT_EQ(f->participants[0].address, "hank@globex.example");
    EXPECT_EQ(f->participants[0].contact, std::optional<ContactId>(100));
    // Linked automatically: the link, its deal and the participants.
    const ThreadId linked = thread_with_mail("f2@x");
    ASSERT_TRUE(s.place(linked, 0, Placement{1000, "single open deal", 1, {}, false}, 2));
    f = s.thread_facts(linked);
    ASSERT_TRUE(f) << f.error().to_string();
    ASSERT_TRUE(f->link);
    EXPECT_EQ(f->link->deal, 1000);
    EXPECT_FALSE(f->link->manual);
    ASSERT_TRUE(f->linked_deal);
    EXPECT_EQ(f->linked_deal->name, "Fleet");
    EXPECT_EQ(f->participants.size(), 1U);
    // Linked by hand: no deal record, no participants.
    const ThreadId manual = thread_with_mail("f3@x");
    ASSERT_TRUE(s.link_thread(manual, 1001, 1, 3));
    f = s.thread_facts(manual);
    ASSERT_TRUE(f) << f.error().to_string();
    ASSERT_TRUE(f->link);
    EXPECT_TRUE(f->link->manual);
    EXPECT_FALSE(f->linked_deal);
    EXPECT_TRUE(f->participants.empty());
    // Held for a person: held, no participants.
    const ThreadId held = thread_with_mail("f4@x");
    ASSERT_TRUE(s.place(held, 0, Placement{.reason = "two deals", .hold = true}, 4));
    f = s.thread_facts(held);
    ASSERT_TRUE(f) << f.error().to_string();
    EXPECT_FALSE(f->link);
    EXPECT_TRUE(f->held);
    EXPECT_TRUE(f->participants.empty());
}

// ---- ThreadIndex -------------------------------------------------------------------------

TYPED_TEST(StoreConformance, KeysMergeAndMove) {
    auto& s = this->store();
    const ThreadId t1 = this->thread(), t2 = this->thread();
    std::vector<std::string> k1 = {"a@x", "b@x"}, k2 = {"c@x", "quote\"d\\@x"};
    ASSERT_TRUE(s.add_keys(t1, k1));
    ASSERT_TRUE(s.add_keys(t2, k2));
    ASSERT_TRUE(s.add_keys(t2, k1)); // already owned by t1: left alone
    std::vector<std::string> q = {"b@x", "quote\"d\\@x", "zzz"};
    auto found = s.threads_for_keys(q);
    ASSERT_TRUE(found) << found.error().to_string();
    EXPECT_EQ(*found, (std::vector<ThreadId>{t1, t2}));
    EXPECT_TRUE(s.threads_for_keys(std::vector<std::string>{})->empty());
    this->message(t1, {.message_id = "a@x", .content_hash = "h", .date = 100});
    this->message(t2, {.message_id = "c@x",
                       .content_hash = "h",
                       .subject = "Earlier",
                       .date = 50,
                       .unread = false});
    ASSERT_TRUE(s.merge_threads(t1, t2));
    ASSERT_TRUE(s.merge_threads(t1, t1)); // nothing to do
    found = s.threads_for_keys(q);
    ASSERT_TRUE(found);
    EXPECT_EQ(*found, (std::vector<ThreadId>{t1}));
    const auto tid = std::to_string(t1);
    EXPECT_EQ(this->num("SELECT count(*) FROM threads"), 1);
    EXPECT_EQ(this->num("SELECT message_count FROM threads WHERE id = " + tid), 2);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + tid), 1);
    EXPECT_EQ(this->num("SELECT first_date FROM threads WHERE id = " + tid), 50);
    EXPECT_EQ(this->num("SELECT last_date FROM threads WHERE id = " + tid), 100);
    EXPECT_EQ(this->text("SELECT subject FROM threads WHERE id = " + tid), "Earlier");
}

TYPED_TEST(StoreConformance, SubjectCandidatesInRangeWithExternalParticipants) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId t = this->thread();
    Mail m{.message_id = "s1@x", .content_hash = "h", .base_subject = "fleet offer", .date = 500};
    m.participants = {{"from", "hank@globex.example", "hank@globex.example", "", {100, 10, {}}},
                      {"to", "alice@s.example", "alice@s.example", "", {{}, {}, 1}},
                      {"cc", "bob@y.example", "bob@y.example", "", {}},
                      {"bcc", "secret@y.example", "secret@y.example", "", {}}};
    this->message(t, m);
    this->message(
        t,
        {.message_id = "s2@x", .content_hash = "h", .base_subject = "fleet offer", .date = 5000});
    this->message(
        t, {.message_id = "s3@x", .content_hash = "h", .base_subject = "other", .date = 500});
    auto c = s.subject_candidates("fleet offer", 100, 1000);
    ASSERT_TRUE(c) << c.error().to_string();
    ASSERT_EQ(c->size(), 1u);
    EXPECT_EQ((*c)[0].message_id, "s1@x");
    EXPECT_EQ((*c)[0].thread_id, t);
    EXPECT_EQ((*c)[0].date, 500);
    auto who = (*c)[0].participants;
    std::sort(who.begin(), who.end());
    EXPECT_EQ(who,
              (std::vector<std::string>{"bob@y.example", "company:10", "hank@globex.example"}));
    auto none = s.subject_candidates("fleet offer", 6000, 7000);
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

// ---- filing: place, hold, link, unlink, merge, split -------------------------------------

TYPED_TEST(StoreConformance, ManualLinkIsNeverOverwritten) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId t = this->thread();
    ASSERT_TRUE(s.link_thread(t, 1001, 1, 5));
    // place() records its reason on a message row; 0 matches none.
    ASSERT_TRUE(s.place(t, 0, Placement{1000, "single open deal", 1.0, {}, false}, 6));
    auto link = s.thread_link(t);
    ASSERT_TRUE(link && *link);
    EXPECT_EQ((*link)->deal, 1001);
    EXPECT_TRUE((*link)->manual);
    auto deal = s.linked_deal(t);
    ASSERT_TRUE(deal);
    EXPECT_EQ(*deal, std::optional<DealId>(1001));
}

TYPED_TEST(StoreConformance, UnsortedThenLinkedThenUnlinkedAndHeld) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId t = this->thread();
    const auto m = this->message(t, {.message_id = "p@x", .content_hash = "h"});
    const auto tid = std::to_string(t);
    ASSERT_TRUE(
        s.place(t, m, Placement{std::nullopt, "unknown sender", 0, {1000, 1001}, false}, 1));
    EXPECT_EQ(this->text("SELECT reason FROM unsorted WHERE thread_id = " + tid), "unknown sender");
    EXPECT_EQ(this->text("SELECT suggestions FROM unsorted WHERE thread_id = " + tid), "1000 1001");
    EXPECT_EQ(this->text("SELECT sort_reason FROM messages WHERE id = " + std::to_string(m)),
              "unknown sender");
    EXPECT_FALSE(*s.thread_held(t));
    ASSERT_TRUE(s.place(t, m, Placement{1000, "single open deal", 0.75, {}, false}, 2));
    EXPECT_EQ(this->count("unsorted"), 0);
    EXPECT_EQ(this->num("SELECT manual FROM thread_deals WHERE thread_id = " + tid), 0);
    // keep_existing: only the reason changes.
    ASSERT_TRUE(s.place(t, m, Placement{.reason = "kept", .keep_existing = true}, 3));
    EXPECT_EQ(this->num("SELECT deal_id FROM thread_deals WHERE thread_id = " + tid), 1000);
    // Conflicting evidence: the automatic link goes and the thread waits for a person.
    ASSERT_TRUE(s.place(t, m, Placement{.reason = "two deals", .hold = true}, 4));
    EXPECT_FALSE(*s.thread_link(t));
    EXPECT_TRUE(*s.thread_held(t));
    // A later unsure placement never lowers the hold.
    ASSERT_TRUE(s.place(t, m, Placement{.reason = "again"}, 5));
    EXPECT_TRUE(*s.thread_held(t));
    ASSERT_TRUE(s.link_thread(t, 1000, std::nullopt, 6));
    EXPECT_FALSE(*s.thread_held(t));
    EXPECT_EQ(this->count("unsorted"), 0);
    ASSERT_TRUE(s.unlink_thread(t, 7));
    EXPECT_FALSE(*s.thread_link(t));
    EXPECT_TRUE(*s.thread_held(t));
    EXPECT_EQ(this->text("SELECT reason FROM unsorted WHERE thread_id = " + tid),
              "not this deal: unlinked by hand from deal 1000");
}

TYPED_TEST(StoreConformance, MergeKeepsManualLinkAndTheHold) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId a = this->thread(), b = this->thread(), c = this->thread();
    ASSERT_TRUE(s.place(a, 0, Placement{1000, "single open deal", 1, {}, false}, 1));
    ASSERT_TRUE(s.link_thread(b, 1001, std::nullopt, 1));
    ASSERT_TRUE(s.merge_threads(a, b));
    auto link = s.thread_link(a);
    ASSERT_TRUE(link && *link);
    EXPECT_EQ((*link)->deal, 1001);
    EXPECT_TRUE((*link)->manual);
    EXPECT_EQ(this->num("SELECT count(*) FROM threads WHERE id = " + std::to_string(b)), 0);
    // An unlinked thread merged into another unlinked one carries its hold over.
    const ThreadId d = this->thread();
    ASSERT_TRUE(s.place(c, 0, Placement{.reason = "unsure"}, 1));
    ASSERT_TRUE(s.place(d, 0, Placement{.reason = "held", .hold = true}, 1));
    ASSERT_TRUE(s.merge_threads(c, d));
    EXPECT_TRUE(*s.thread_held(c));
}

TYPED_TEST(StoreConformance, LinkErrorsNameWhatIsMissing) {
    this->seed_crm();
    auto& s = this->store();
    auto r = s.link_thread(424242, 1000, std::nullopt, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "thread.not_found");
    const ThreadId t = this->thread();
    auto r2 = s.link_thread(t, 777, std::nullopt, 1);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, "deal.not_found");
    auto r3 = s.unlink_thread(424242, 1);
    ASSERT_FALSE(r3);
    EXPECT_EQ(r3.error().code, "thread.not_found");
}

TYPED_TEST(StoreConformance, SplitMovesTheRepliesAndKeepsThreadsApart) {
    this->seed_crm();
    auto& s = this->store();
    const ThreadId t = this->thread();
    const auto root = this->message(t, {.message_id = "root@x", .content_hash = "h", .date = 10});
    const auto reply = this->message(
        t, {.message_id = "r1@x", .content_hash = "h", .date = 20, .references = {"root@x"}});
    const auto deeper = this->message(
        t, {.message_id = "r2@x", .content_hash = "h", .date = 30, .references = {"r1@x"}});
    const auto other = this->message(
        t, {.message_id = "o@x", .content_hash = "h", .date = 40, .references = {"root@x"}});
    std::vector<std::string> keys = {"root@x", "r1@x", "r2@x", "o@x", "gm-thrid:1"};
    ASSERT_TRUE(s.add_keys(t, keys));
    auto split = s.split_message(reply, 1, 50);
    ASSERT_TRUE(split) << split.error().to_string();
    EXPECT_EQ(split->from, t);
    EXPECT_EQ(split->moved, 2u);
    const ThreadId n = split->thread;
    EXPECT_TRUE(*s.kept_apart(t, n));
    EXPECT_TRUE(*s.kept_apart(n, t));
    EXPECT_EQ(this->num("SELECT thread_id FROM messages WHERE id = " + std::to_string(deeper)), n);
    EXPECT_EQ(this->num("SELECT thread_id FROM messages WHERE id = " + std::to_string(other)), t);
    EXPECT_EQ(this->text("SELECT sort_reason FROM messages WHERE id = " + std::to_string(reply)),
              "split from thread " + std::to_string(t) + " by Alice");
    auto moved_keys = s.threads_for_keys(std::vector<std::string>{"r1@x", "r2@x"});
    EXPECT_EQ(*moved_keys, std::vector<ThreadId>{n});
    auto stayed = s.threads_for_keys(std::vector<std::string>{"gm-thrid:1", "root@x"});
    EXPECT_EQ(*stayed, std::vector<ThreadId>{t});
    EXPECT_EQ(this->num("SELECT message_count FROM threads WHERE id = " + std::to_string(t)), 2);
    EXPECT_EQ(this->num("SELECT message_count FROM threads WHERE id = " + std::to_string(n)), 2);
    EXPECT_EQ(this->num("SELECT first_date FROM threads WHERE id = " + std::to_string(n)), 20);
    EXPECT_TRUE(*s.thread_held(n));
    // Only what may move moves: the deeper reply stays when not movable.
    const ThreadId t2 = this->thread();
    const auto a = this->message(t2, {.message_id = "a@y", .content_hash = "h"});
    const auto b =
        this->message(t2, {.message_id = "b@y", .content_hash = "h", .references = {"a@y"}});
    this->message(t2, {.message_id = "c@y", .content_hash = "h", .references = {"b@y"}});
    this->message(t2, {.message_id = "d@y", .content_hash = "h"});
    auto partial = s.split_message(b, std::nullopt, 60, std::vector<MessageRowId>{b});
    ASSERT_TRUE(partial);
    EXPECT_EQ(partial->moved, 1u);
    EXPECT_EQ(this->text("SELECT sort_reason FROM messages WHERE id = " + std::to_string(b)),
              "split from thread " + std::to_string(t2) + " by crm-mailctl");
    (void)a;
    // root@x and o@x (its reply) are all that is left of t: nothing would stay behind.
    auto whole = s.split_message(root, std::nullopt, 70);
    ASSERT_FALSE(whole);
    EXPECT_EQ(whole.error().code, "thread.split_whole");
    auto lone = this->thread();
    const auto only = this->message(lone, {.message_id = "lone@x", .content_hash = "h"});
    auto nothing_left = s.split_message(only, std::nullopt, 80);
    ASSERT_FALSE(nothing_left);
    EXPECT_EQ(nothing_left.error().code, "thread.split_whole");
    auto missing = s.split_message(999999, std::nullopt, 80);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "message.not_found");
}

// ---- read state per user (schema 0017 / postgresql 0009) ----------------------------------

// A message arriving unseen is unread for the mailbox's owner; \Seen on the server is that
// owner's read state only; the operator's messages.unread holds while anyone has it unread.
TYPED_TEST(StoreConformance, SeenOnTheServerIsTheMailboxOwnersReadState) {
    this->seed_crm();
    auto& s = this->store();
    auto& sync = this->sync();
    ASSERT_TRUE(s.upsert_user({2, "Bob", "bob@s.example", "bob@s.example", "salesperson"}, 1));
    auto a = sync.ensure_account("alice", 1, "alice@s.example", "imap.x.example", true, 1);
    auto b = sync.ensure_account("bob", 2, "bob@s.example", "imap.x.example", true, 1);
    ASSERT_TRUE(a && b);
    auto ma = sync.ensure_mailbox(*a, "INBOX", "");
    auto mb = sync.ensure_mailbox(*b, "INBOX", "");
    ASSERT_TRUE(ma && mb);
    const ThreadId t = this->thread();
    const auto m1 = this->message(t, {.message_id = "r1@x", .content_hash = "h"});
    const auto m2 = this->message(t, {.message_id = "r2@x", .content_hash = "h", .unread = false});
    ASSERT_TRUE(s.add_location(
        m1, {.account = *a, .mailbox = ma->id, .uid_validity = 1, .uid = 1, .owner = 1}, 1));
    ASSERT_TRUE(s.add_location(
        m1, {.account = *b, .mailbox = mb->id, .uid_validity = 1, .uid = 1, .owner = 2}, 1));
    ASSERT_TRUE(s.add_location(m2,
                               {.account = *a,
                                .mailbox = ma->id,
                                .uid_validity = 1,
                                .uid = 2,
                                .flags = "\\Seen",
                                .owner = 1},
                               1));
    auto marks = [&](MessageRowId m) {
        return this->num("SELECT count(*) FROM unread_marks WHERE message_id = " +
                         std::to_string(m));
    };
    auto mark_of = [&](UserId u, MessageRowId m) {
        return this->num("SELECT count(*) FROM unread_marks WHERE user_id = " + std::to_string(u) +
                         " AND message_id = " + std::to_string(m));
    };
    const std::string m1s = std::to_string(m1), ts = std::to_string(t);
    EXPECT_EQ(marks(m1), 2) << "unseen in two owners' mailboxes: unread for both";
    EXPECT_EQ(marks(m2), 0) << "arrived \\Seen";
    // Alice reads it in her mail client: hers alone.
    auto n = sync.update_flags(ma->id, 1, {{1, {"\\Seen"}}}, 2);
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(mark_of(1, m1), 0);
    EXPECT_EQ(mark_of(2, m1), 1);
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + m1s), 1);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + ts), 1);
    // Bob too: nobody has it unread.
    n = sync.update_flags(mb->id, 1, {{1, {"\\Seen"}}}, 3);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + m1s), 0);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + ts), 0);
    // Bob marks it unread on his server again.
    n = sync.update_flags(mb->id, 1, {{1, {}}}, 4);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(mark_of(2, m1), 1);
    EXPECT_EQ(mark_of(1, m1), 0);
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + m1s), 1);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + ts), 1);
    // Bob's account passes to Alice: its unseen mail is unread for her now, and Bob, who gets it
    // through no other mailbox, no longer has marks on it.
    ASSERT_TRUE(sync.ensure_account("bob", 1, "bob@s.example", "imap.x.example", true, 5));
    EXPECT_EQ(mark_of(1, m1), 1);
    EXPECT_EQ(mark_of(2, m1), 0);
    EXPECT_EQ(mark_of(1, m2), 0) << "Alice's copy of m2 is \\Seen, and Bob's mailbox has none";
    // An account with no owner: nobody's; given one later, its unseen mail becomes theirs.
    ASSERT_TRUE(
        sync.ensure_account("alice", std::nullopt, "alice@s.example", "imap.x.example", true, 6));
    ASSERT_TRUE(
        sync.ensure_account("bob", std::nullopt, "bob@s.example", "imap.x.example", true, 6));
    EXPECT_EQ(marks(m1), 0);
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + m1s), 0);
    ASSERT_TRUE(sync.ensure_account("bob", 2, "bob@s.example", "imap.x.example", true, 7));
    EXPECT_EQ(mark_of(2, m1), 1);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + ts), 1);
}

// ---- deal_stats, kept by triggers on both ------------------------------------------------

TYPED_TEST(StoreConformance, DealStatsFollowLinksMessagesAndReadMarks) {
    this->seed_crm();
    auto& s = this->store();
    auto& sync = this->sync();
    auto acc = sync.ensure_account("a", std::nullopt, "a@x.example", "imap.x.example", true, 1);
    auto mb = sync.ensure_mailbox(*acc, "INBOX", "");
    ASSERT_TRUE(acc && mb);
    const ThreadId t = this->thread();
    const auto m1 = this->message(t, {.message_id = "d1@x", .content_hash = "h", .date = 100});
    this->message(t, {.message_id = "d2@x", .content_hash = "h", .date = 200, .unread = false});
    ASSERT_TRUE(
        s.add_location(m1, {.account = *acc, .mailbox = mb->id, .uid_validity = 1, .uid = 1}, 1));
    ASSERT_TRUE(s.place(t, m1, Placement{1000, "single open deal", 1, {}, false}, 1));
    auto stats = [&](const char* col) {
        return this->num(std::string("SELECT ") + col + " FROM deal_stats WHERE deal_id = 1000");
    };
    EXPECT_EQ(stats("threads"), 1);
    EXPECT_EQ(stats("messages"), 2);
    EXPECT_EQ(stats("unread"), 1);
    EXPECT_EQ(stats("last_date"), 200);
    this->message(t, {.message_id = "d3@x", .content_hash = "h", .date = 300});
    EXPECT_EQ(stats("messages"), 3);
    EXPECT_EQ(stats("unread"), 2);
    EXPECT_EQ(stats("last_date"), 300);
    auto read = sync.update_flags(mb->id, 1, {{1, {"\\Seen"}}}, 2);
    ASSERT_TRUE(read) << read.error().to_string();
    EXPECT_EQ(*read, 1);
    EXPECT_EQ(stats("unread"), 1);
    ASSERT_TRUE(s.link_thread(t, 1001, 1, 3));
    EXPECT_EQ(stats("threads"), 0);
    EXPECT_EQ(stats("messages"), 0);
    EXPECT_EQ(this->num("SELECT messages FROM deal_stats WHERE deal_id = 1001"), 3);
    ASSERT_TRUE(s.unlink_thread(t, 4));
    EXPECT_EQ(this->num("SELECT threads FROM deal_stats WHERE deal_id = 1001"), 0);
}

// ---- CRM records -------------------------------------------------------------------------

TYPED_TEST(StoreConformance, CrmLookupsAndUpserts) {
    this->seed_crm();
    auto& s = this->store();
    auto f = s.lookup_address("hank@globex.example");
    ASSERT_TRUE(f) << f.error().to_string();
    EXPECT_EQ(f->contact, 100);
    EXPECT_EQ(f->company, 10);
    EXPECT_FALSE(f->user);
    auto g = s.lookup_address("someone@globex.example");
    ASSERT_TRUE(g);
    EXPECT_FALSE(g->contact);
    EXPECT_EQ(g->company, 10);
    auto u = s.lookup_address("alice@s.example");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->user, 1);
    EXPECT_FALSE(u->company);
    auto nobody = s.lookup_address("no-at-sign");
    ASSERT_TRUE(nobody);
    EXPECT_FALSE(nobody->user || nobody->contact || nobody->company);

    auto open = s.open_deals(std::vector<ContactId>{100}, std::vector<CompanyId>{10});
    ASSERT_TRUE(open);
    ASSERT_EQ(open->size(), 1u);
    EXPECT_EQ((*open)[0].id, 1000);
    EXPECT_EQ((*open)[0].name, "Fleet");
    EXPECT_EQ((*open)[0].company, 10);
    EXPECT_EQ((*open)[0].owner, 1);
    EXPECT_EQ((*open)[0].contacts, std::vector<ContactId>{100});
    EXPECT_TRUE(s.open_deals({}, {})->empty());
    auto won = s.deal_record(1001);
    ASSERT_TRUE(won && *won);
    EXPECT_TRUE((*won)->contacts.empty());
    EXPECT_FALSE(*s.deal_record(4242));

    // Upserts keep the id and replace the lists.
    ASSERT_TRUE(s.upsert_company({10, "Globex Corp", {"globex.example", "globex.test"}}, 2));
    EXPECT_EQ(*s.company_domains(), (std::vector<std::string>{"globex.example", "globex.test"}));
    ASSERT_TRUE(s.upsert_contact({101, "Ivy", {{"ivy@globex.test", "Ivy@Globex.test"}}, 10}, 2));
    ASSERT_TRUE(
        s.upsert_deal({1000, "Fleet 2", 10, {100, 101}, 1, "won", "won", "12", "EUR", true}, 3));
    auto d = s.deal_record(1000);
    ASSERT_TRUE(d && *d);
    EXPECT_EQ((*d)->name, "Fleet 2");
    EXPECT_EQ((*d)->contacts, (std::vector<ContactId>{100, 101}));
    EXPECT_EQ((*d)->updated_at, 3);
    EXPECT_EQ(this->num("SELECT shared FROM deals WHERE id = 1000"), 1);
    EXPECT_TRUE(s.open_deals(std::vector<ContactId>{100}, {})->empty());
    ASSERT_TRUE(s.upsert_user({2, "Bob", "bob@t.example", "bob@t.example", "admin"}, 4));
    EXPECT_EQ(*s.users(), (std::vector<UserId>{1, 2}));
    EXPECT_EQ(*s.team_domains(), (std::vector<std::string>{"s.example", "t.example"}));
    // Rows numbered by the database afterwards do not collide with the ids given.
    this->exec("INSERT INTO companies (name, created_at, updated_at) VALUES ('New', 1, 1)");
    EXPECT_EQ(this->count("companies"), 2);
}

TYPED_TEST(StoreConformance, BadCrmReferencesAreClearErrors) {
    this->seed_crm();
    auto& s = this->store();
    auto r = s.upsert_contact({101, "X", {}, 99}, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "crm.no_company");
    auto r2 = s.upsert_contact({102, "Y", {{"hank@globex.example", "hank@globex.example"}}, 10}, 1);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, "crm.address_taken");
    auto r3 = s.upsert_deal({1002, "Z", 10, {555}, 1, "", "open", "0", ""}, 1);
    ASSERT_FALSE(r3);
    EXPECT_EQ(r3.error().code, "crm.no_contact");
    EXPECT_NE(r3.error().detail.find("555"), std::string::npos);
    auto r4 = s.upsert_deal({1002, "Z", 10, {}, 77, "", "open", "0", ""}, 1);
    ASSERT_FALSE(r4);
    EXPECT_EQ(r4.error().code, "crm.no_user");
    auto r5 = s.upsert_company({11, "Initech", {"globex.example"}}, 1);
    ASSERT_FALSE(r5);
    EXPECT_EQ(r5.error().code, "crm.domain_taken");
}

// ---- SyncState ---------------------------------------------------------------------------

TYPED_TEST(StoreConformance, AccountsRegisterAndDisable) {
    auto& sync = this->sync();
    auto id = sync.ensure_account("a", 55, "a@x.example", "imap.x.example", true, 1);
    ASSERT_TRUE(id) << id.error().to_string();
    auto rows = sync.accounts();
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ(rows->front().state, HealthState::New);
    EXPECT_FALSE(rows->front().owner) << "user 55 does not exist (yet)";
    auto same = sync.ensure_account("a", std::nullopt, "a2@x.example", "imap2", false, 2);
    ASSERT_TRUE(same);
    EXPECT_EQ(*same, *id);
    rows = sync.accounts();
    EXPECT_EQ(rows->front().state, HealthState::Disabled);
    EXPECT_FALSE(rows->front().enabled);
    EXPECT_EQ(rows->front().address, "a2@x.example");
    EXPECT_EQ(rows->front().updated_at, 2);
    ASSERT_TRUE(sync.ensure_account("a", std::nullopt, "a2@x.example", "imap2", true, 3));
    EXPECT_EQ(sync.accounts()->front().state, HealthState::New);
    EXPECT_FALSE(*sync.user_exists(55));
    EXPECT_FALSE(sync.user_name(55));
    ASSERT_TRUE(this->store().upsert_user({55, "Eve", "e@x", "e@x", "admin"}, 1));
    EXPECT_TRUE(*sync.user_exists(55));
    EXPECT_EQ(sync.user_name(55), std::optional<std::string>("Eve"));
    ASSERT_TRUE(sync.add_synced(*id, 5));
    ASSERT_TRUE(sync.add_synced(*id, 2));
    EXPECT_EQ(sync.accounts()->front().messages, 7);
}

TYPED_TEST(StoreConformance, CheckpointsUidValidityFlagsAndExpunge) {
    auto& s = this->store();
    auto& sync = this->sync();
    AccountId acc = 0;
    MailboxState mb;
    ASSERT_NO_FATAL_FAILURE(this->inbox(acc, mb));
    EXPECT_FALSE(mb.uid_validity);
    ASSERT_TRUE(sync.set_checkpoint(mb.id, 7, 10, 900, 2));
    ASSERT_TRUE(sync.set_checkpoint(mb.id, 7, std::nullopt, std::nullopt, 3)); // keeps them
    auto st = sync.ensure_mailbox(acc, "INBOX", "\\Inbox");
    ASSERT_TRUE(st);
    EXPECT_EQ(st->id, mb.id);
    EXPECT_EQ(st->uid_validity, std::optional<std::uint32_t>(7));
    EXPECT_EQ(st->uid_next, std::optional<std::uint32_t>(10));
    EXPECT_EQ(st->highest_modseq, std::optional<std::uint64_t>(900));
    EXPECT_EQ(this->num("SELECT last_sync_at FROM mailboxes"), 3);
    // A 64-bit MODSEQ and a UID above 2^31 fit.
    ASSERT_TRUE(sync.set_checkpoint(mb.id, 4000000000u, 4000000001u, 9000000000000ull, 4));
    st = sync.ensure_mailbox(acc, "INBOX", "");
    EXPECT_EQ(st->uid_validity, std::optional<std::uint32_t>(4000000000u));
    EXPECT_EQ(st->highest_modseq, std::optional<std::uint64_t>(9000000000000ull));
    ASSERT_TRUE(sync.set_checkpoint(mb.id, 7, 10, 900, 5));

    const ThreadId t = this->thread();
    std::vector<MessageRowId> ids;
    for (std::uint32_t uid = 1; uid <= 3; ++uid) {
        ids.push_back(this->message(
            t, {.message_id = "u" + std::to_string(uid) + "@x", .content_hash = "h"}));
        ASSERT_TRUE(s.add_location(ids.back(),
                                   {.account = acc,
                                    .mailbox = mb.id,
                                    .uid_validity = 7,
                                    .uid = uid,
                                    .flags = uid == 3 ? "\\Seen" : ""},
                                   1));
    }
    const auto tid = std::to_string(t);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + tid), 3);
    // \Seen set on 1, kept on 3 (no change: the CRM's own read mark stays), unknown UID 9.
    auto changed = sync.update_flags(
        mb.id, 7, {{1, {"\\Answered", "\\SEEN"}}, {3, {"\\Seen"}}, {9, {"\\Seen"}}}, 6);
    ASSERT_TRUE(changed) << changed.error().to_string();
    EXPECT_EQ(*changed, 1);
    EXPECT_EQ(this->text("SELECT flags FROM locations WHERE uid = 1"), "\\Answered \\SEEN");
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + std::to_string(ids[0])), 0);
    EXPECT_EQ(this->num("SELECT unread FROM messages WHERE id = " + std::to_string(ids[2])), 1)
        << "\\Seen did not change on the server: the CRM's unread stays";
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + tid), 2);
    changed = sync.update_flags(mb.id, 7, {{1, {}}}, 7);
    EXPECT_EQ(*changed, 1);
    EXPECT_EQ(this->num("SELECT unread_count FROM threads WHERE id = " + tid), 3);

    auto gone = sync.expunge(mb.id, 7, {2, 2, 8}, 8);
    ASSERT_TRUE(gone);
    EXPECT_EQ(*gone, 1);
    EXPECT_EQ(*sync.stored_uids(mb.id, 7), (std::vector<std::uint32_t>{1, 3}));
    EXPECT_EQ(this->count("messages"), 3) << "messages keep their history";
    EXPECT_EQ(*sync.expunge(mb.id, 7, {}, 8), 0);

    auto dropped = sync.reset_uid_validity(mb.id, 8);
    ASSERT_TRUE(dropped);
    EXPECT_EQ(*dropped, 2);
    st = sync.ensure_mailbox(acc, "INBOX", "");
    EXPECT_EQ(st->uid_validity, std::optional<std::uint32_t>(8));
    EXPECT_FALSE(st->uid_next);
    EXPECT_FALSE(st->highest_modseq);
    EXPECT_TRUE(sync.stored_uids(mb.id, 7)->empty());
}

TYPED_TEST(StoreConformance, QuarantineAfterThreeFailures) {
    auto& sync = this->sync();
    auto acc = sync.ensure_account("a", std::nullopt, "a@x.example", "imap.x.example", true, 1);
    auto mb = sync.ensure_mailbox(*acc, "INBOX", "");
    ASSERT_TRUE(acc && mb);
    for (std::int64_t n = 1; n <= 3; ++n) {
        auto attempts = sync.record_failure(mb->id, 7, 42, "mime: broken " + std::to_string(n), n);
        ASSERT_TRUE(attempts) << attempts.error().to_string();
        EXPECT_EQ(*attempts, n);
        EXPECT_EQ(sync.quarantined_uids(mb->id, 7)->empty(), n < 3);
    }
    ASSERT_TRUE(sync.record_failure(mb->id, 7, 43, "once", 1));
    EXPECT_EQ(*sync.quarantined_uids(mb->id, 7), std::vector<std::uint32_t>{42});
    EXPECT_TRUE(sync.quarantined_uids(mb->id, 8)->empty());
    EXPECT_EQ(this->text("SELECT reason FROM quarantine WHERE uid = 42"), "mime: broken 3");
    EXPECT_EQ(this->num("SELECT first_failed_at FROM quarantine WHERE uid = 42"), 1);
    EXPECT_EQ(this->num("SELECT last_failed_at FROM quarantine WHERE uid = 42"), 3);
}

// What an admin sees of the quarantine and does about it (issue 19): the list by account, one
// entry, retry (fetched again: no longer excluded) and drop (never fetched again, off the list).
TYPED_TEST(StoreConformance, QuarantineIsListedRetriedAndDropped) {
    auto& sync = this->sync();
    QuarantineAdmin& qa = sync;
    AccountId a = 0, b = 0;
    MailboxState mb_a, mb_b;
    ASSERT_NO_FATAL_FAILURE(this->inbox(a, mb_a, "a"));
    ASSERT_NO_FATAL_FAILURE(this->inbox(b, mb_b, "b"));
    for (std::int64_t n = 1; n <= 3; ++n)
        ASSERT_TRUE(sync.record_failure(mb_a.id, 7, 42, "mime: broken", 100 + n));
    ASSERT_TRUE(sync.record_failure(mb_a.id, 7, 43, "store: too large", 200));
    ASSERT_TRUE(sync.record_failure(mb_b.id, 9, 5, "parse: loop", 300));
    auto all = qa.quarantine_list(std::nullopt);
    ASSERT_TRUE(all) << all.error().to_string();
    ASSERT_EQ(all->size(), 3U);
    EXPECT_EQ((*all)[0].account, "a");
    EXPECT_EQ((*all)[0].mailbox, "INBOX");
    EXPECT_EQ((*all)[0].key, (QuarantineKey{mb_a.id, 7, 42}));
    EXPECT_EQ((*all)[0].attempts, 3);
    EXPECT_TRUE((*all)[0].given_up());
    EXPECT_EQ((*all)[0].first_failed_at, 101);
    EXPECT_EQ((*all)[0].last_failed_at, 103);
    EXPECT_FALSE((*all)[1].given_up()); // UID 43: one failure, still retried
    EXPECT_EQ((*all)[2].account, "b");
    EXPECT_EQ(qa.quarantine_list(std::string("b"))->size(), 1U);
    EXPECT_TRUE(qa.quarantine_list(std::string("nobody"))->empty());
    auto one = qa.quarantine_entry({mb_a.id, 7, 43});
    ASSERT_TRUE(one && *one);
    EXPECT_EQ((*one)->reason, "store: too large");
    EXPECT_FALSE(*qa.quarantine_entry({mb_a.id, 7, 999}));

    // Retry: the record goes, the UID is fetched again (no longer excluded).
    EXPECT_EQ(*sync.quarantined_uids(mb_a.id, 7), std::vector<std::uint32_t>{42});
    EXPECT_TRUE(*qa.quarantine_retry({mb_a.id, 7, 42}));
    EXPECT_TRUE(sync.quarantined_uids(mb_a.id, 7)->empty());
    EXPECT_FALSE(*qa.quarantine_retry({mb_a.id, 7, 42}));
    // Drop: never fetched again, even before it was given up on, and off the list.
    EXPECT_TRUE(*qa.quarantine_drop({mb_a.id, 7, 43}, 400));
    EXPECT_EQ(*sync.quarantined_uids(mb_a.id, 7), std::vector<std::uint32_t>{43});
    EXPECT_FALSE(*qa.quarantine_entry({mb_a.id, 7, 43}));
    EXPECT_FALSE(*qa.quarantine_drop({mb_a.id, 7, 43}, 401));
    EXPECT_FALSE(*qa.quarantine_retry({mb_a.id, 7, 43})); // a dropped message stays dropped
    EXPECT_EQ(qa.quarantine_list(std::nullopt)->size(), 1U);
    // A message that failed and was then stored is no longer quarantined: not listed, not
    // excluded from the sync (a dropped record of it would count it twice otherwise).
    ASSERT_TRUE(sync.record_failure(mb_a.id, 7, 50, "busy", 500));
    ASSERT_TRUE(qa.quarantine_drop({mb_a.id, 7, 50}, 501));
    ASSERT_TRUE(sync.record_failure(mb_a.id, 7, 51, "busy", 500));
    const auto id = this->message(this->thread(), {.message_id = "later@x", .content_hash = "h"});
    for (std::uint32_t uid : {50U, 51U})
        ASSERT_TRUE(this->store().add_location(
            id, LocationRef{.account = a, .mailbox = mb_a.id, .uid_validity = 7, .uid = uid}, 600));
    EXPECT_EQ(*sync.quarantined_uids(mb_a.id, 7), std::vector<std::uint32_t>{43});
    EXPECT_FALSE(*qa.quarantine_entry({mb_a.id, 7, 51}));
    EXPECT_EQ(qa.quarantine_list(std::nullopt)->size(), 1U);
}

TYPED_TEST(StoreConformance, HealthErrorsAndRecovery) {
    auto& sync = this->sync();
    auto id = sync.ensure_account("a", std::nullopt, "a@x.example", "imap.x.example", true, 1);
    ASSERT_TRUE(id);
    AccountHealth bad{.state = HealthState::Backoff,
                      .error_class = "net.timeout",
                      .error_text = "no answer",
                      .lag_seconds = 30};
    ASSERT_TRUE(sync.set_health(*id, bad, 10));
    auto row = sync.accounts()->front();
    EXPECT_EQ(row.state, HealthState::Backoff);
    EXPECT_EQ(row.last_error_class, "net.timeout");
    EXPECT_EQ(row.last_error, "no answer");
    EXPECT_EQ(row.last_error_at, 10);
    EXPECT_EQ(row.lag_seconds, 30);
    EXPECT_FALSE(row.last_success_at);
    AccountHealth ok{.state = HealthState::Idle, .success = true};
    ASSERT_TRUE(sync.set_health(*id, ok, 20));
    row = sync.accounts()->front();
    EXPECT_EQ(row.state, HealthState::Idle);
    EXPECT_EQ(row.last_success_at, 20);
    EXPECT_EQ(row.last_error_class, "");
    EXPECT_EQ(row.last_error_at, 10);
    EXPECT_EQ(row.lag_seconds, 30);
}

// The initial-sync clock behind the rate/ETA of `accounts status`: starts at the first progress
// report, survives later ones, restarts when progress goes backwards (a new folder) and stops
// when the sync completes.
TYPED_TEST(StoreConformance, InitialSyncClockStartsKeepsRestartsAndStops) {
    auto& sync = this->sync();
    auto id = sync.ensure_account("a", std::nullopt, "a@example.com", "imap.example.com", true, 1);
    ASSERT_TRUE(id);
    auto report = [&](std::uint64_t done, std::uint64_t total, std::int64_t now) {
        AccountHealth h;
        h.state = HealthState::Syncing;
        h.initial_done = done;
        h.initial_total = total;
        ASSERT_TRUE(sync.set_health(*id, h, now));
    };
    auto row = [&] {
        auto rows = sync.accounts();
        EXPECT_TRUE(rows && rows->size() == 1);
        return rows->front();
    };
    report(200, 1000, 100);
    EXPECT_EQ(row().initial_started_at, 100);
    EXPECT_EQ(row().initial_started_done, 200);
    report(400, 1000, 150);
    EXPECT_EQ(row().initial_started_at, 100);
    EXPECT_EQ(row().initial_started_done, 200);
    EXPECT_EQ(row().updated_at, 150);
    AccountHealth idle;
    idle.state = HealthState::Syncing;
    ASSERT_TRUE(sync.set_health(*id, idle, 160));
    EXPECT_EQ(row().initial_started_at, 100);
    report(50, 300, 170);
    EXPECT_EQ(row().initial_started_at, 170);
    EXPECT_EQ(row().initial_started_done, 50);
    report(300, 300, 180);
    EXPECT_EQ(row().initial_started_at, std::nullopt);
}

TYPED_TEST(StoreConformance, ResyncClearsCheckpointsAndProgressKeepsMail) {
    auto& sync = this->sync();
    auto id = sync.ensure_account("a", std::nullopt, "a@example.com", "imap.example.com", true, 1);
    ASSERT_TRUE(id);
    for (const char* name : {"INBOX", "Sent"}) {
        auto mb = sync.ensure_mailbox(*id, name, "");
        ASSERT_TRUE(mb);
        ASSERT_TRUE(sync.set_checkpoint(mb->id, 7, 500, 900, 2));
    }
    AccountHealth h;
    h.state = HealthState::Syncing;
    h.initial_done = 10;
    h.initial_total = 20;
    ASSERT_TRUE(sync.set_health(*id, h, 3));
    auto n = sync.resync_account("a");
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, std::optional<std::int64_t>(2));
    for (const char* name : {"INBOX", "Sent"}) {
        auto mb = sync.ensure_mailbox(*id, name, "");
        ASSERT_TRUE(mb);
        EXPECT_EQ(mb->uid_validity, std::optional<std::uint32_t>(7)) << name;
        EXPECT_FALSE(mb->uid_next) << name;
        EXPECT_FALSE(mb->highest_modseq) << name;
    }
    auto rows = sync.accounts();
    ASSERT_TRUE(rows);
    EXPECT_EQ(rows->front().initial_done, 0);
    EXPECT_EQ(rows->front().initial_total, 0);
    EXPECT_EQ(rows->front().mailboxes, 2);
    EXPECT_FALSE(rows->front().initial_started_at);
    auto none = sync.resync_account("nobody");
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
}

// ---- text PostgreSQL cannot hold ---------------------------------------------------------

// SQLite stores any bytes; PostgreSQL TEXT refuses NUL and invalid UTF-8. Either the message is
// stored whole (SQLite, and a NUL inside a header value, which headers_json escapes), or it is a
// clear error and nothing of it was written: never a half-written message, never a value cut
// short at a NUL.
TYPED_TEST(StoreConformance, NulAndInvalidUtf8AreStoredWholeOrRefusedWhole) {
    auto& s = this->store();
    const ThreadId t = this->thread();
    // A NUL in a header value: escaped in headers_json, so both keep it.
    Mail nul_header{.message_id = "nulh@x", .content_hash = "h"};
    nul_header.headers = {{"X-Nul", std::string("before\0after", 12)}};
    const auto kept = this->message(t, nul_header);
    EXPECT_EQ(this->text("SELECT headers_json FROM messages WHERE id = " + std::to_string(kept)),
              R"([["X-Nul","before\u0000after"]])");

    struct Case {
        const char* name;
        Mail mail;
        const char* field;
    };
    Mail nul_subject{
        .message_id = "nuls@x", .content_hash = "h", .subject = std::string("Quote\0 tail", 11)};
    Mail bad_header{.message_id = "badh@x", .content_hash = "h"};
    bad_header.headers = {{"X-Latin1", "Gr\xfc\xdf"
                                       "e"}};
    Mail bad_participant{.message_id = "badp@x", .content_hash = "h"};
    bad_participant.participants = {{"from", "a@x", "a@x", "Jos\xe9", {}}};
    const Case cases[] = {{"NUL in Subject", nul_subject, "Subject"},
                          {"Latin-1 header", bad_header, "header"},
                          {"Latin-1 display name", bad_participant, "participant"}};
    for (const auto& c : cases) {
        const auto before_messages = this->count("messages");
        const auto before_blobs = this->count("blobs");
        const auto before_participants = this->count("participants");
        const auto before_count =
            this->num("SELECT message_count FROM threads WHERE id = " + std::to_string(t));
        auto r = put(s, t, c.mail);
        if (TypeParam::kPg) {
            ASSERT_FALSE(r) << c.name;
            EXPECT_EQ(r.error().code, "pg.text") << c.name;
            EXPECT_EQ(r.error().scope, ErrorScope::Message) << c.name;
            EXPECT_NE(r.error().detail.find(c.field), std::string::npos) << r.error().detail;
            EXPECT_NE(r.error().detail.find(c.mail.message_id), std::string::npos)
                << r.error().detail;
            EXPECT_EQ(this->count("messages"), before_messages) << c.name;
            EXPECT_EQ(this->count("blobs"), before_blobs) << c.name;
            EXPECT_EQ(this->count("participants"), before_participants) << c.name;
            EXPECT_EQ(
                this->num("SELECT message_count FROM threads WHERE id = " + std::to_string(t)),
                before_count)
                << c.name;
            // The connection is still usable afterwards.
            EXPECT_TRUE(s.find_message(c.mail.message_id, "h")) << c.name;
        } else {
            ASSERT_TRUE(r) << c.name << ": " << r.error().to_string();
            EXPECT_EQ(this->count("messages"), before_messages + 1) << c.name;
        }
    }
    // Keys and lookups with such bytes: found nowhere on SQLite, a clear error on PostgreSQL.
    std::vector<std::string> keys = {std::string("k\0ey", 4)};
    auto found = s.threads_for_keys(keys);
    if (TypeParam::kPg) {
        ASSERT_FALSE(found);
        EXPECT_EQ(found.error().code, "pg.text");
    } else {
        ASSERT_TRUE(found);
        EXPECT_TRUE(found->empty());
    }
}

// A large message and many participants in one insert.
TYPED_TEST(StoreConformance, LargeValuesRoundTrip) {
    auto& s = this->store();
    const ThreadId t = this->thread();
    Mail m{.message_id = "big@x", .content_hash = "h"};
    std::string body;
    for (int i = 0; body.size() < 3 * 1024 * 1024; ++i)
        body += "Line " + std::to_string(i) + " of a long quoted history, \xc3\xbc\xe6\x97\xa5.\n";
    m.raw = "Subject: big\r\n\r\n" + body;
    for (int i = 0; i < 300; ++i)
        m.participants.push_back({"to", "p" + std::to_string(i) + "@y.example", "w", "", {}});
    m.headers = {{"X-Long", std::string(100000, 'h')}};
    const auto id = this->message(t, m);
    auto back = s.raw_message(id);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(**back, m.raw);
    EXPECT_EQ(
        this->num("SELECT count(*) FROM participants WHERE message_id = " + std::to_string(id)),
        300);
    EXPECT_EQ(this->num("SELECT max(position) FROM participants"), 299);
    EXPECT_EQ(this->num("SELECT length(headers_json) FROM messages"), 100015);
}

// A bounce of a reply we sent (issue 20): the real ingest on each backend. The bounce joins the
// reply's conversation (and so its deal), is stored as a bounce, and marks the outbox entry
// 'bounced' with the recipient and the server's words; an out-of-office answer is stored as one
// and changes nothing in the outbox; a bounce of mail the outbox never sent marks nothing.
TYPED_TEST(StoreConformance, BouncesMarkTheirOutboxEntryAndJoinTheConversation) {
    this->seed_crm();
    AccountId account = 0;
    MailboxState inbox;
    ASSERT_NO_FATAL_FAILURE(this->inbox(account, inbox));
    auto ingest = this->ingester(account, inbox);
    const auto customer = ingest("Message-ID: <c1@globex.example>\r\nFrom: Hank "
                                 "<hank@globex.example>\r\nTo: alice@s.example\r\nSubject: "
                                 "Fleet offer\r\nDate: Tue, 1 Dec 2026 09:00:00 +0000\r\n\r\n"
                                 "Please send the offer.\r\n");
    ASSERT_EQ(customer.deal, std::optional<DealId>(1000));
    this->exec("INSERT INTO outbox (account_id, user_id, thread_id, deal_id, message_id, state, "
               "to_json, subject, created_at, updated_at, sent_at) VALUES (" +
               std::to_string(account) + ", 1, " + std::to_string(customer.thread) +
               ", 1000, 'r1.d1000@s.example', 'sent', '[[\"\",\"hank@globex.example\"]]', "
               "'Re: Fleet offer', 10, 10, 10)");
    const auto sent = ingest("Message-ID: <r1.d1000@s.example>\r\nFrom: alice@s.example\r\nTo: "
                             "hank@globex.example\r\nIn-Reply-To: <c1@globex.example>\r\n"
                             "Subject: Re: Fleet offer\r\n\r\nHere it is.\r\n");
    EXPECT_EQ(sent.thread, customer.thread);

    const std::string dsn =
        "Message-ID: <dsn1@mx.s.example>\r\nFrom: MAILER-DAEMON@mx.s.example (Mail Delivery "
        "System)\r\nTo: alice@s.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
        "report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain"
        "\r\n\r\nI'm sorry to have to inform you that your message could not be delivered."
        "\r\n\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; "
        "mx.s.example\r\n\r\nFinal-Recipient: rfc822; hank@globex.example\r\nAction: failed"
        "\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <hank@globex.example>: User "
        "unknown\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: "
        "<r1.d1000@s.example>\r\nFrom: alice@s.example\r\n\r\n--B--\r\n";
    const auto bounce = ingest(dsn);
    EXPECT_EQ(bounce.thread, customer.thread);
    EXPECT_EQ(bounce.deal, std::optional<DealId>(1000));
    const auto bid = std::to_string(bounce.message);
    EXPECT_EQ(this->text("SELECT auto_kind FROM messages WHERE id = " + bid), "bounce");
    EXPECT_EQ(this->count("unsorted"), 0);
    EXPECT_EQ(this->text("SELECT state FROM outbox"), "bounced");
    EXPECT_EQ(this->text("SELECT last_error FROM outbox"),
              "bounced: hank@globex.example 5.1.1: 550 5.1.1 <hank@globex.example>: User unknown");
    EXPECT_EQ(this->num("SELECT report_id FROM outbox_reports WHERE recipient = "
                        "'hank@globex.example' AND action = 'failed' AND status = '5.1.1'"),
              bounce.message);
    // The same report again (another copy) records nothing twice.
    ingest(dsn + "\r\n");
    EXPECT_EQ(this->count("outbox_reports"), 1);

    // An out-of-office answer: marked, the outbox unchanged.
    const auto away = ingest("Message-ID: <ooo1@globex.example>\r\nFrom: hank@globex.example"
                             "\r\nTo: alice@s.example\r\nSubject: Automatic reply: Re: Fleet "
                             "offer\r\nAuto-Submitted: auto-replied\r\nIn-Reply-To: "
                             "<r1.d1000@s.example>\r\n\r\nI am away until Monday.\r\n");
    EXPECT_EQ(
        this->text("SELECT auto_kind FROM messages WHERE id = " + std::to_string(away.message)),
        "autoreply");
    EXPECT_EQ(away.thread, customer.thread);
    EXPECT_EQ(this->count("outbox_reports"), 1);

    // A report about someone the reply never went to (anyone who saw our Message-ID could send
    // one): nothing recorded, the entry unchanged.
    auto forged = this->store().record_delivery_report(DeliveryReportRow{
        "r1.d1000@s.example",
        bounce.message,
        AutoKind::Bounce,
        {ReportedRecipient{"victim@elsewhere.example", "failed", "5.1.1", "gone"}},
        9});
    ASSERT_TRUE(forged) << forged.error().to_string();
    EXPECT_FALSE(*forged);
    EXPECT_EQ(this->count("outbox_reports"), 1);

    // A bounce of mail sent by another program: stored as a bounce, no outbox entry touched.
    auto other = this->store().record_delivery_report(
        DeliveryReportRow{"not-ours@s.example", bounce.message, AutoKind::Bounce, {}, 9});
    ASSERT_TRUE(other) << other.error().to_string();
    EXPECT_FALSE(*other);
    EXPECT_EQ(this->count("outbox_reports"), 1);
    // A person's mail is not automatic.
    EXPECT_EQ(
        this->text("SELECT auto_kind FROM messages WHERE id = " + std::to_string(customer.message)),
        "");
}

// Follow-ups (issue 20) on each backend: the thread's last_in_at / last_out_at follow the real
// ingest (an out-of-office answer never counts as the customer's), a merge and a deletion; the
// Followups port pre-selects the owner's due threads, keeps a deal's periods and snoozes.
TYPED_TEST(StoreConformance, FollowupDatesFollowTheMailAndThePortListsTheOwnersThreads) {
    this->seed_crm();
    AccountId account = 0;
    MailboxState inbox;
    ASSERT_NO_FATAL_FAILURE(this->inbox(account, inbox));
    auto ingest = this->ingester(account, inbox);
    auto mail = [](const std::string& id, const std::string& from, const std::string& date,
                   const std::string& extra = "") {
        return "Message-ID: <" + id + ">\r\nFrom: " + from + "\r\nTo: " +
               (from == "alice@s.example" ? "hank@globex.example" : "alice@s.example") +
               "\r\nSubject: Fleet\r\nDate: " + date + "\r\n" + extra + "\r\nBody\r\n";
    };
    // Tue 1 Dec 2026 09:00 UTC = 1796115600.
    const auto first =
        ingest(mail("f1@globex.example", "hank@globex.example", "Tue, 1 Dec 2026 09:00:00 +0000"));
    ASSERT_EQ(first.deal, std::optional<DealId>(1000));
    const auto tid = std::to_string(first.thread);
    EXPECT_EQ(this->num("SELECT last_in_at FROM threads WHERE id = " + tid), 1796115600);
    EXPECT_EQ(this->scalar("SELECT last_out_at FROM threads WHERE id = " + tid), std::nullopt);
    ingest(mail("f2@s.example", "alice@s.example", "Tue, 1 Dec 2026 11:00:00 +0000",
                "In-Reply-To: <f1@globex.example>\r\n"));
    EXPECT_EQ(this->num("SELECT last_out_at FROM threads WHERE id = " + tid), 1796122800);
    // Their out-of-office answer: stored in the thread, not their answer.
    const auto away =
        ingest(mail("f3@globex.example", "hank@globex.example", "Tue, 1 Dec 2026 11:01:00 +0000",
                    "In-Reply-To: <f2@s.example>\r\nAuto-Submitted: auto-replied\r\n"));
    EXPECT_EQ(away.thread, first.thread);
    EXPECT_EQ(this->num("SELECT last_in_at FROM threads WHERE id = " + tid), 1796115600);

    // The activity reads: the customer's first message and our answer; the out-of-office is not
    // a message a person wrote.
    auto written = this->activity().deal_messages(1000);
    ASSERT_TRUE(written) << written.error().to_string();
    ASSERT_EQ(written->size(), 2U);
    std::sort(written->begin(), written->end(),
              [](const ActivityMessage& a, const ActivityMessage& b) { return a.at < b.at; });
    EXPECT_EQ((*written)[0].at, 1796115600);
    EXPECT_FALSE((*written)[0].outgoing);
    EXPECT_TRUE((*written)[1].outgoing);
    EXPECT_EQ((*written)[1].owner, std::optional<UserId>(1));
    auto ranged = this->activity().owner_messages(1, 1796115600 + 1, 1796115600 + 86400);
    ASSERT_TRUE(ranged) << ranged.error().to_string();
    ASSERT_EQ(ranged->size(), 1U); // ours only: the first is before the range
    EXPECT_EQ(this->activity().owner_messages(2, 0, 1796115600 + 86400)->size(), 0U);
    EXPECT_EQ(this->activity().owner_messages(std::nullopt, 0, 1796115600 + 86400)->size(), 2U);

    auto& f = this->followups();
    const std::int64_t now = 1796115600 + 5 * 86400; // Sunday 6 Dec 09:00
    auto c = f.candidates(1, now, now - 3 * 86400, now - 24 * 3600, 10);
    ASSERT_TRUE(c) << c.error().to_string();
    ASSERT_EQ(c->size(), 1U);
    EXPECT_EQ((*c)[0].thread, first.thread);
    EXPECT_EQ((*c)[0].deal_name, "Fleet");
    EXPECT_EQ((*c)[0].last_out_at, std::optional<std::int64_t>(1796122800));
    // Not the owner's deal: nothing for user 2.
    auto other = f.candidates(2, now, now - 3 * 86400, now - 24 * 3600, 10);
    ASSERT_TRUE(other);
    EXPECT_TRUE(other->empty());

    // A deal's own periods, refused out of range, cleared with both unset.
    ASSERT_TRUE(this->tx([&] { return f.set_deal_settings(1000, {1, std::nullopt}, 1, now); }));
    auto set = f.deal_settings(1000);
    ASSERT_TRUE(set);
    EXPECT_EQ(set->awaiting_days, std::optional<int>(1));
    EXPECT_EQ(set->answer_hours, std::nullopt);
    auto shortest = f.shortest_settings(1);
    ASSERT_TRUE(shortest);
    EXPECT_EQ(shortest->awaiting_days, std::optional<int>(1));
    EXPECT_FALSE(f.set_deal_settings(1000, {0, std::nullopt}, 1, now));
    EXPECT_EQ(f.deal_settings(1000)->awaiting_days, std::optional<int>(1));

    // Snoozed until after now: left out; lifted: back.
    ASSERT_TRUE(this->tx([&] { return f.snooze(1, first.thread, now + 3600, now); }));
    EXPECT_TRUE(f.candidates(1, now, now - 86400, now - 3600, 10)->empty());
    EXPECT_EQ(f.candidates(1, now + 7200, now - 86400, now - 3600, 10)->size(), 1U);
    ASSERT_TRUE(this->tx([&] { return f.snooze(1, first.thread, std::nullopt, now); }));
    EXPECT_EQ(f.candidates(1, now, now - 86400, now - 3600, 10)->size(), 1U);

    // Their real answer: theirs is last now, and too recent to be due.
    ingest(mail("f4@globex.example", "hank@globex.example", "Wed, 2 Dec 2026 09:00:00 +0000",
                "In-Reply-To: <f2@s.example>\r\n"));
    EXPECT_EQ(this->num("SELECT last_in_at FROM threads WHERE id = " + tid), 1796202000);
    EXPECT_TRUE(f.candidates(1, 1796202000 + 3600, 1796202000 + 3600 - 86400,
                             1796202000 + 3600 - 24 * 3600, 10)
                    ->empty());
    // Our message split off into a thread of its own (with the answer that references it): the
    // first keeps only the customer's first message.
    const auto ours = this->num("SELECT id FROM messages WHERE message_id = 'f2@s.example'");
    auto split = this->store().split_message(ours, 1, now, std::nullopt);
    ASSERT_TRUE(split) << split.error().to_string();
    EXPECT_EQ(this->scalar("SELECT last_out_at FROM threads WHERE id = " + tid), std::nullopt);
    EXPECT_EQ(this->num("SELECT last_in_at FROM threads WHERE id = " + tid), 1796115600);
    const auto moved = std::to_string(split->thread);
    EXPECT_EQ(this->num("SELECT last_out_at FROM threads WHERE id = " + moved), 1796122800);
    EXPECT_EQ(this->num("SELECT last_in_at FROM threads WHERE id = " + moved), 1796202000);

    // The owners of open deals.
    auto owners = f.deal_owners();
    ASSERT_TRUE(owners);
    EXPECT_EQ(*owners, std::vector<UserId>{1});

    // A message deleted (by the CRM, by hand): its thread reads its dates again.
    this->exec("DELETE FROM messages WHERE message_id = 'f4@globex.example'");
    EXPECT_EQ(this->scalar("SELECT last_in_at FROM threads WHERE id = " + moved), std::nullopt);
    EXPECT_EQ(this->num("SELECT last_out_at FROM threads WHERE id = " + moved), 1796122800);
}

// Signatures, drafts and a deal's recipients (issue 20, part 1) behave alike on both backends:
// a draft is its user's alone, replaced in place, and a user keeps at most kMaxDraftsPerUser.
TYPED_TEST(StoreConformance, SignaturesDraftsAndDealRecipients) {
    this->seed_crm();
    auto& s = this->store();
    ASSERT_TRUE(s.upsert_user({2, "Bob", "bob@s.example", "bob@s.example", "salesperson"}, 1));
    ASSERT_TRUE(s.upsert_contact(
        {101,
         "Ann",
         {{"ann@globex.example", "Ann@globex.example"}, {"ann@home.example", "ann@home.example"}},
         10},
        1));
    ASSERT_TRUE(
        s.upsert_deal({1000, "Fleet", 10, {100, 101}, 1, "proposal", "open", "10", "EUR"}, 1));
    auto& c = this->compose();
    EXPECT_EQ(c.signature(1).value_or("?"), "");
    ASSERT_TRUE(this->tx([&] { return c.set_signature(1, "Alice\nSales — Ünïcode", 5); }));
    EXPECT_EQ(c.signature(1).value_or("?"), "Alice\nSales — Ünïcode");
    EXPECT_EQ(c.signature(2).value_or("?"), "");
    ASSERT_TRUE(this->tx([&] { return c.set_signature(1, "", 6); }));
    EXPECT_EQ(c.signature(1).value_or("?"), "");
    // The page's language and time zone share the row, each kept when the other changes.
    EXPECT_EQ(c.preferences(1).value(), PagePreferences{});
    ASSERT_TRUE(this->tx([&] { return c.set_signature(1, "Al", 7); }));
    ASSERT_TRUE(this->tx([&] { return c.set_preferences(1, {"ro", "Europe/Bucharest"}, 8); }));
    EXPECT_EQ(c.preferences(1).value(), (PagePreferences{"ro", "Europe/Bucharest"}));
    EXPECT_EQ(c.signature(1).value_or("?"), "Al");
    ASSERT_TRUE(this->tx([&] { return c.set_signature(1, "Alice", 9); }));
    EXPECT_EQ(c.preferences(1).value(), (PagePreferences{"ro", "Europe/Bucharest"}));
    EXPECT_EQ(c.preferences(2).value(), PagePreferences{});

    ASSERT_TRUE(this->tx([&] { return c.put_draft(1, "thread-7", R"({"body":"a"})", 10); }));
    ASSERT_TRUE(this->tx([&] { return c.put_draft(1, "thread-7", R"({"body":"ab"})", 11); }));
    ASSERT_TRUE(this->tx([&] { return c.put_draft(1, "deal-1000", "{}", 12); }));
    auto d = c.draft(1, "thread-7");
    ASSERT_TRUE(d && *d) << (d ? "none" : d.error().to_string());
    EXPECT_EQ((*d)->content, R"({"body":"ab"})");
    EXPECT_EQ((*d)->updated_at, 11);
    EXPECT_FALSE(c.draft(2, "thread-7").value());
    auto list = c.drafts(1);
    ASSERT_TRUE(list);
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].key, "deal-1000");
    EXPECT_EQ((*list)[1].key, "thread-7");
    EXPECT_TRUE((*list)[0].content.empty());
    auto gone = c.delete_draft(1, "thread-7");
    ASSERT_TRUE(gone);
    EXPECT_TRUE(*gone);
    EXPECT_FALSE(c.delete_draft(1, "thread-7").value());
    // The most drafts kept: a new one past it is refused, the ones kept may still change.
    for (std::size_t i = 1; i < kMaxDraftsPerUser; ++i)
        ASSERT_TRUE(this->tx([&] { return c.put_draft(2, fmt::format("thread-{}", i), "{}", 1); }));
    ASSERT_TRUE(this->tx([&] { return c.put_draft(2, "deal-1", "{}", 1); }));
    auto over = this->tx([&] { return c.put_draft(2, "deal-2", "{}", 2); });
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code, "draft.too_many");
    EXPECT_TRUE(this->tx([&] { return c.put_draft(2, "deal-1", R"({"x":1})", 3); }));
    EXPECT_EQ(c.drafts(2).value().size(), kMaxDraftsPerUser);
    EXPECT_EQ(c.drafts(1).value().size(), 1u);

    auto r = c.deal_recipients(1000);
    ASSERT_TRUE(r) << r.error().to_string();
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].name, "Ann");
    EXPECT_EQ((*r)[0].address, "Ann@globex.example");
    EXPECT_EQ((*r)[1].address, "ann@home.example");
    EXPECT_EQ((*r)[2].name, "Hank");
    EXPECT_EQ((*r)[2].address, "Hank@Globex.example");
    EXPECT_TRUE(c.deal_recipients(1001).value().empty());
}

// The daily follow-up reminder (issue 20): claimed once a day per user whoever asks, and its
// copies are stored on no deal and not in the unsorted queue; a customer's message is never
// taken for one.
TYPED_TEST(StoreConformance, FollowupRemindersAreClaimedOnceAndFiledNowhere) {
    this->seed_crm();
    auto& f = this->followups();
    const std::string mid = "crm-reminder.2026-12-01.0123456789abcdef01234567@s.example";
    auto first = this->tx([&]() -> Result<void> {
        auto c = f.claim_reminder(1, "2026-12-01", mid, 2, 100);
        if (!c)
            return std::unexpected(c.error());
        EXPECT_TRUE(*c);
        return {};
    });
    ASSERT_TRUE(first) << first.error().to_string();
    auto again = f.claim_reminder(1, "2026-12-01", mid + "x", 2, 101);
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again) << "one a day";
    auto next = f.claim_reminder(1, "2026-12-02", mid + "y", 1, 102);
    ASSERT_TRUE(next);
    EXPECT_TRUE(*next);
    EXPECT_TRUE(this->store().is_followup_reminder(mid).value());
    EXPECT_FALSE(this->store().is_followup_reminder("crm-reminder.other@s.example").value());

    AccountId account = 0;
    MailboxState inbox;
    ASSERT_NO_FATAL_FAILURE(this->inbox(account, inbox));
    auto ingest = this->ingester(account, inbox);
    const auto copy = ingest("Message-ID: <" + mid +
                             ">\r\nFrom: alice@s.example\r\nTo: alice@s.example, "
                             "hank@globex.example\r\nSubject: Follow up today: 2 conversations\r\n"
                             "Date: Tue, 1 Dec 2026 07:00:00 +0000\r\n\r\nFleet\r\n");
    EXPECT_EQ(copy.deal, std::nullopt);
    const auto tid = std::to_string(copy.thread);
    EXPECT_EQ(this->num("SELECT count(*) FROM unsorted WHERE thread_id = " + tid), 0);
    EXPECT_EQ(this->num("SELECT count(*) FROM thread_deals WHERE thread_id = " + tid), 0);
    EXPECT_NE(this->text("SELECT sort_reason FROM messages WHERE thread_id = " + tid)
                  .find("daily follow-up reminder"),
              std::string::npos);
    // The same Message-ID from a customer is a customer's message, sorted as any other.
    const std::string forged = "crm-reminder.2026-12-02.0123456789abcdef01234567@s.example";
    ASSERT_TRUE(this->tx([&]() -> Result<void> {
        auto c = f.claim_reminder(1, "2026-12-03", forged, 1, 103);
        return c ? Result<void>{} : std::unexpected(c.error());
    }));
    const auto theirs = ingest("Message-ID: <" + forged +
                               ">\r\nFrom: hank@globex.example\r\nTo: alice@s.example\r\n"
                               "Subject: Fleet order\r\nDate: Tue, 1 Dec 2026 08:00:00 +0000\r\n"
                               "\r\nBody\r\n");
    EXPECT_EQ(theirs.deal, std::optional<DealId>(1000));
}

} // namespace
} // namespace crm::backends_test
