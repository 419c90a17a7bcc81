#include <gtest/gtest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>

#include "crm/blob/codec.hpp"
#include "crm/store/database.hpp"
#include "crm/store/outbox.hpp"
#include "crm/store/search.hpp"
#include "crm/store/store.hpp"
#include "crm/store/sync_store.hpp"
#include "crm/store/web_store.hpp"
#include "impl.hpp" // white-box: raw SQL to tamper with the database
#include "search_tokenizer.hpp"

namespace crm::store {
namespace {

std::unique_ptr<Database> fresh() {
    auto db = Database::open(":memory:");
    EXPECT_TRUE(db.has_value());
    auto m = (*db)->migrate();
    EXPECT_TRUE(m.has_value()) << (m ? "" : m.error().to_string());
    return std::move(*db);
}

std::filesystem::path temp_db(const char* name) {
    auto p = std::filesystem::temp_directory_path() /
             (std::string("crm_store_test_") + name + "_" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(p);
    std::filesystem::remove(p.string() + "-wal");
    std::filesystem::remove(p.string() + "-shm");
    return p;
}

// Creates the migrations table and applies the first `count` known migrations by hand, as an
// older binary would have left the database.
void apply_first_migrations(SQLite::Database& raw, std::size_t count) {
    raw.exec("PRAGMA foreign_keys = ON");
    // As Database::open does: 0014's full-text index uses crm-mail's own tokenizer.
    ASSERT_TRUE(register_search_tokenizer(raw.getHandle()));
    raw.exec("CREATE TABLE schema_migrations ( version INTEGER PRIMARY KEY, name TEXT NOT "
             "NULL, checksum TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    for (std::size_t i = 0; i < count; ++i) {
        const auto& m = known_migrations()[i];
        raw.exec(m.sql);
        SQLite::Statement rec(raw, "INSERT INTO schema_migrations VALUES (?, ?, ?, 0)");
        rec.bind(1, m.version);
        rec.bind(2, m.name);
        rec.bind(3, m.checksum);
        rec.exec();
    }
}

TEST(Migrations, ApplyFromEmptyThenNothingPending) {
    auto db = Database::open(":memory:");
    ASSERT_TRUE(db);
    auto st0 = (*db)->status();
    ASSERT_TRUE(st0);
    EXPECT_EQ(st0->database_version, 0);
    EXPECT_EQ(st0->pending.size(), known_migrations().size());
    auto applied = (*db)->migrate();
    ASSERT_TRUE(applied);
    EXPECT_EQ(applied->size(), known_migrations().size());
    auto again = (*db)->migrate();
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty());
    EXPECT_TRUE((*db)->require_current());
}

TEST(Migrations, EveryEarlierVersionUpgradesToTheSameSchema) {
    // Apply the first k migrations by hand, then migrate(): the schema must equal a fresh one.
    auto schema_of = [](const std::string& path) {
        SQLite::Database raw(path, SQLite::OPEN_READONLY);
        SQLite::Statement q(raw, "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE "
                                 "'sqlite_%' ORDER BY type, name");
        std::string out;
        while (q.executeStep())
            out += q.getColumn(0).getString() + " " + q.getColumn(1).getString() + " " +
                   (q.getColumn(2).isNull() ? "" : q.getColumn(2).getString()) + "\n";
        return out;
    };
    auto ref_path = temp_db("ref");
    {
        auto ref = Database::open(ref_path.string());
        ASSERT_TRUE(ref);
        ASSERT_TRUE((*ref)->migrate());
    }
    const std::string expected = schema_of(ref_path.string());
    ASSERT_NE(expected.find("table messages"), std::string::npos);
    for (std::size_t k = 1; k < known_migrations().size(); ++k) {
        auto p = temp_db("partial");
        {
            SQLite::Database raw(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            apply_first_migrations(raw, k);
        }
        auto db = Database::open(p.string());
        ASSERT_TRUE(db);
        auto applied = (*db)->migrate();
        ASSERT_TRUE(applied) << applied.error().to_string();
        EXPECT_EQ(applied->size(), known_migrations().size() - k);
        db->reset();
        EXPECT_EQ(schema_of(p.string()), expected) << "upgrade from version " << k;
    }
}

TEST(Migrations, RefusesNewerDatabase) {
    auto db = fresh();
    {
        SQLite::Database& raw = db->impl().db;
        raw.exec("INSERT INTO schema_migrations VALUES (9999, 'future', 'x', 0)");
    }
    auto r = db->migrate();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.too_new");
    EXPECT_NE(r.error().detail.find("9999"), std::string::npos);
    EXPECT_FALSE(db->require_current());
}

TEST(Migrations, RefusesEditedMigration) {
    auto db = fresh();
    db->impl().db.exec("UPDATE schema_migrations SET checksum = 'bad' WHERE version = 1");
    auto r = db->migrate();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "db.checksum");
    auto st = db->status();
    ASSERT_TRUE(st);
    ASSERT_EQ(st->problems.size(), 1u);
}

TEST(Migrations, ChecksumsAreSha256OfFiles) {
    for (const auto& m : known_migrations()) {
        EXPECT_EQ(m.checksum.size(), 64u) << m.name;
        EXPECT_FALSE(m.sql.empty());
    }
}

TEST(Database, OpenFailureNamesThePath) {
    auto db = Database::open("/nonexistent-dir/x/crm.db");
    ASSERT_FALSE(db);
    EXPECT_EQ(db.error().code, "db.open");
    EXPECT_NE(db.error().detail.find("/nonexistent-dir/x/crm.db"), std::string::npos);
}

TEST(Database, FileDatabaseUsesWal) {
    auto p = temp_db("wal");
    auto db = Database::open(p.string());
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->migrate());
    auto st = (*db)->status();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->journal_mode, "wal");
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
    auto db = fresh();
    Store s(*db);
    {
        Database::Transaction tx(*db);
        ASSERT_TRUE(s.upsert_user({1, "A", "a@x.example", "a@x.example", "admin"}, 1));
    }
    EXPECT_EQ(db->impl().db.execAndGet("SELECT count(*) FROM users").getInt(), 0);
    {
        Database::Transaction tx(*db);
        ASSERT_TRUE(s.upsert_user({1, "A", "a@x.example", "a@x.example", "admin"}, 1));
        ASSERT_TRUE(tx.commit());
    }
    EXPECT_EQ(db->impl().db.execAndGet("SELECT count(*) FROM users").getInt(), 1);
}

// The ThreadIndex, MailStore, CrmRecords and SyncState scenarios (thread keys, CRM lookups and
// upserts, place / link / unlink / merge / split, checkpoints, flags, health and the initial-sync
// clock) run on both databases in tests/unit/backends/store_conformance_test.cpp.

class LinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        db = fresh();
        s = std::make_unique<Store>(*db);
        ASSERT_TRUE(s->upsert_user({1, "Alice", "alice@s.example", "alice@s.example",
                                    "salesperson"}, 1));
        ASSERT_TRUE(s->upsert_company({10, "Globex", {"globex.example"}}, 1));
        ASSERT_TRUE(s->upsert_contact({100, "Hank", {{"hank@globex.example", "Hank@Globex.example"}},
                                       10}, 1));
        DealInput d1{1000, "Fleet", 10, {100}, 1, "proposal", "open", "10", "EUR"};
        DealInput d2{1001, "Other", 10, {}, 1, "won", "won", "0", ""};
        ASSERT_TRUE(s->upsert_deal(d1, 1));
        ASSERT_TRUE(s->upsert_deal(d2, 1));
    }
    std::unique_ptr<Database> db;
    std::unique_ptr<Store> s;
};

TEST_F(LinkTest, UnsortedThenLinkedLeavesQueue) {
    auto t = s->create_thread();
    ASSERT_TRUE(t);
    ASSERT_TRUE(s->place(*t, 0, Placement{std::nullopt, "unknown sender", 0, {1000}, false}, 1));
    auto uns = s->list_threads(Store::ThreadFilter::Unsorted);
    ASSERT_TRUE(uns);
    ASSERT_EQ(uns->size(), 1u);
    EXPECT_EQ((*uns)[0].reason, "unknown sender");
    EXPECT_EQ((*uns)[0].suggestions, std::vector<DealId>{1000});
    ASSERT_TRUE(s->place(*t, 0, Placement{1000, "single open deal", 1, {}, false}, 2));
    uns = s->list_threads(Store::ThreadFilter::Unsorted);
    ASSERT_TRUE(uns);
    EXPECT_TRUE(uns->empty());
    ASSERT_TRUE(s->unlink_thread(*t, 3));
    uns = s->list_threads(Store::ThreadFilter::Unsorted);
    ASSERT_TRUE(uns);
    ASSERT_EQ(uns->size(), 1u);
    EXPECT_EQ((*uns)[0].reason, "not this deal: unlinked by hand from deal 1000");
}

} // namespace
} // namespace crm::store

namespace crm::store {
namespace {

std::string mail_like(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; s.size() < n; ++i)
        s += "Received: from relay" + std::to_string(i % 7) + ".example.com\r\nSubject: Quote " +
             std::to_string(i) + "\r\n\r\nPlease find the revised quote attached.\r\n";
    s.resize(n);
    return s;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    for (auto& c : s) {
        seed = seed * 1103515245u + 12345u;
        c = static_cast<char>(seed >> 16);
    }
    return s;
}

TEST(BlobCodec, MailCompressesAndRoundTrips) {
    const auto raw = mail_like(50000);
    auto p = blob::pack_blob(raw);
    EXPECT_EQ(p.codec, "zstd");
    EXPECT_LT(p.bytes.size(), raw.size() / 2);
    auto back = blob::unpack_blob(p.codec, p.bytes, raw.size());
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(*back, raw);
}

TEST(BlobCodec, IncompressibleAndTinyBlobsStayAsTheyAre) {
    for (const auto& raw : {random_bytes(40000, 7), std::string("Subject: hi\r\n\r\nok\r\n"),
                            std::string()}) {
        auto p = blob::pack_blob(raw);
        EXPECT_EQ(p.codec, "none");
        EXPECT_EQ(p.bytes, raw);
        auto back = blob::unpack_blob(p.codec, p.bytes, raw.size());
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, raw);
    }
}

TEST(BlobCodec, DamageIsAClearError) {
    const auto raw = mail_like(20000);
    auto p = blob::pack_blob(raw);
    ASSERT_EQ(p.codec, "zstd");
    auto unknown = blob::unpack_blob("lz4", p.bytes, raw.size());
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, "blob.codec");
    EXPECT_NE(unknown.error().detail.find("lz4"), std::string::npos);
    auto short_size = blob::unpack_blob("zstd", p.bytes, raw.size() - 1);
    ASSERT_FALSE(short_size);
    EXPECT_EQ(short_size.error().code, "blob.codec");
    std::string corrupt = p.bytes;
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5a);
    corrupt.resize(corrupt.size() - 3);
    auto bad = blob::unpack_blob("zstd", corrupt, raw.size());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, "blob.codec");
    auto wrong_plain = blob::unpack_blob("none", "abc", 4);
    ASSERT_FALSE(wrong_plain);
}

// A store with one thread, for messages made by message().
struct RawFixture {
    std::unique_ptr<Database> db = fresh();
    Store s{*db};
    ThreadId thread = *s.create_thread();
    ParsedMessage parsed;
    NewMessage message(std::string_view raw, const char* sha, const char* message_id) {
        NewMessage n;
        n.parsed = &parsed;
        n.raw = raw;
        n.raw_sha256 = sha;
        n.message_id = message_id;
        n.thread = thread;
        return n;
    }
};

TEST(BlobCodec, RawMessagesAreKeptCompressedAndReadBackExactly) {
    RawFixture f;
    auto& s = f.s;
    auto& db = f.db;
    const auto raw = mail_like(30000);
    for (bool prepacked : {false, true}) {
        NewMessage n = prepacked ? f.message(raw, "sha-prepacked", "raw-2@example.com")
                                 : f.message(raw, "sha-packed-by-store", "raw-1@example.com");
        PackedBlob pb = blob::pack_blob(raw);
        if (prepacked)
            n.raw_packed = &pb;
        auto id = s.insert_message(n);
        ASSERT_TRUE(id) << id.error().to_string();
        auto back = s.raw_message(*id);
        ASSERT_TRUE(back) << back.error().to_string();
        ASSERT_TRUE(back->has_value());
        EXPECT_EQ(**back, raw);
        SQLite::Statement q(db->impl().db, "SELECT codec, size, length(data) FROM blobs WHERE sha256 = ?");
        q.bind(1, n.raw_sha256);
        ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getString(), "zstd");
        EXPECT_EQ(q.getColumn(1).getInt64(), static_cast<std::int64_t>(raw.size()));
        EXPECT_LT(q.getColumn(2).getInt64(), static_cast<std::int64_t>(raw.size() / 2));
    }
    auto none = s.raw_message(987654);
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
}

// The full-text index is written with the message, in its transaction: a stored message is
// found at once, and one whose transaction rolled back is not (issue 19).
TEST(Search, AStoredMessageIsFoundAtOnceAndARolledBackOneNot) {
    RawFixture f;
    f.parsed.subject = "Angebot für die Flotte";
    f.parsed.text_body = "Sehr geehrter Herr Müller, anbei das Angebot.";
    f.parsed.attachments.push_back({});
    f.parsed.attachments.back().filename = "Preisliste_2027.pdf";
    f.parsed.attachments.back().sha256 = "att-sha";
    f.parsed.attachments.back().size = 3;
    SearchStore search(*f.db);
    const Viewer admin{0, true};
    auto find = [&](std::string_view text) {
        auto q = parse_search_query(text);
        EXPECT_TRUE(q) << text;
        auto page = search.search(admin, *q, 0, 10);
        EXPECT_TRUE(page) << page.error().to_string();
        return page ? page->total : -1;
    };
    {
        Database::Transaction tx(*f.db);
        ASSERT_TRUE(f.s.insert_message(f.message(mail_like(500), "sha-rolled", "rolled@x")));
        EXPECT_EQ(find("muller"), 1); // seen inside its own transaction
    }                                 // rolled back
    EXPECT_EQ(find("muller"), 0);
    ASSERT_TRUE(f.s.insert_message(f.message(mail_like(500), "sha-kept", "kept@x")));
    EXPECT_EQ(find("muller"), 1);
    EXPECT_EQ(find("subject:flotte"), 1);
    EXPECT_EQ(find("filename:preisliste"), 1);
    EXPECT_EQ(find("preisliste_2027"), 1);
    // db reindex builds the same index again from the stored rows.
    auto n = search.reindex();
    ASSERT_TRUE(n) << n.error().to_string();
    EXPECT_EQ(*n, 1);
    EXPECT_EQ(find("muller angebot"), 1);
    EXPECT_EQ(find("muller -angebot"), 0);
}

TEST(StoredMessage, HeadersAndWarningsAreValidJsonThatGivesTheStringsBack) {
    RawFixture f;
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Subject", "plain text, no escapes at all"},
        {"X-Quote", "say \"hi\" to C:\\dir\\"},
        {"X-Controls", "tab\there, new\nline, cr\r, bell\x07, escape\x1b."},
        {"X-Utf8", "Gr\xc3\xbc\xc3\x9f" "e \xe6\x97\xa5\xe6\x9c\xac \"quoted\" tail"},
        {"X-Empty", ""},
    };
    f.parsed.headers = headers;
    f.parsed.warnings = {"charset: \"x\" unknown\tin part 1", "plain"};
    auto id = f.s.insert_message(f.message(mail_like(2000), "sha-json", "json@example.com"));
    ASSERT_TRUE(id) << id.error().to_string();
    auto& raw = f.db->impl().db;
    SQLite::Statement valid(raw, "SELECT json_valid(headers_json), json_array_length(headers_json), "
                                 "json_valid(warnings_json) FROM messages WHERE id = ?");
    valid.bind(1, *id);
    ASSERT_TRUE(valid.executeStep());
    EXPECT_EQ(valid.getColumn(0).getInt(), 1);
    EXPECT_EQ(valid.getColumn(1).getInt(), static_cast<int>(headers.size()));
    EXPECT_EQ(valid.getColumn(2).getInt(), 1);
    for (std::size_t i = 0; i < headers.size(); ++i) {
        SQLite::Statement q(raw, "SELECT json_extract(headers_json, ?), json_extract(headers_json, ?) "
                                 "FROM messages WHERE id = ?");
        q.bind(1, "$[" + std::to_string(i) + "][0]");
        q.bind(2, "$[" + std::to_string(i) + "][1]");
        q.bind(3, *id);
        ASSERT_TRUE(q.executeStep());
        EXPECT_EQ(q.getColumn(0).getString(), headers[i].first);
        const auto v = q.getColumn(1);
        EXPECT_EQ(std::string(static_cast<const char*>(v.getBlob()), static_cast<std::size_t>(v.getBytes())),
                  headers[i].second)
            << headers[i].first;
    }
    // SQLite's json_extract() ends a string at \u0000, so the NUL is checked in the text itself.
    f.parsed.headers = {{"X-Nul", std::string("nul") + '\0' + "end"}};
    auto nul = f.s.insert_message(f.message(mail_like(2000), "sha-json-nul", "nul@example.com"));
    ASSERT_TRUE(nul) << nul.error().to_string();
    SQLite::Statement t(raw, "SELECT headers_json FROM messages WHERE id = ?");
    t.bind(1, *nul);
    ASSERT_TRUE(t.executeStep());
    EXPECT_EQ(t.getColumn(0).getString(), R"([["X-Nul","nul\u0000end"]])");
    SQLite::Statement w(raw, "SELECT json_extract(warnings_json, '$[0]') FROM messages WHERE id = ?");
    w.bind(1, *id);
    ASSERT_TRUE(w.executeStep());
    EXPECT_EQ(w.getColumn(0).getString(), f.parsed.warnings[0]);
}

TEST(BlobCodec, CorruptStoredBlobIsAnErrorNotGarbage) {
    RawFixture f;
    auto& s = f.s;
    const auto raw = mail_like(10000);
    auto id = s.insert_message(f.message(raw, "sha-3", "raw-3@example.com"));
    ASSERT_TRUE(id);
    f.db->impl().db.exec("UPDATE blobs SET data = X'28b52ffd00' WHERE sha256 = 'sha-3'");
    auto back = s.raw_message(*id);
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, "blob.codec");
}

// With checkpoints on their own thread the log must still rewind: the writer commits again as
// soon as it has committed, which without the wait in before_write() left no moment at which a
// checkpoint had caught up, and the log grew by every byte ever written.
TEST(Checkpointer, LogStaysBoundedAndEverythingIsReadable) {
    auto path = temp_db("ckpt");
    {
        auto db = Database::open(path.string());
        ASSERT_TRUE(db);
        ASSERT_TRUE((*db)->migrate());
        ASSERT_TRUE((*db)->checkpoint_in_background(50)); // 50 pages of 8 KiB
        auto& d = (*db)->impl();
        {
            SQLite::Statement lim(d.db, "PRAGMA journal_size_limit");
            ASSERT_TRUE(lim.executeStep());
            EXPECT_EQ(lim.getColumn(0).getInt64(), 64 * 1024 * 1024); // the log is cut back
        }
        d.db.exec("CREATE TABLE bulk (id INTEGER PRIMARY KEY, data BLOB)");
        const std::string chunk = random_bytes(64 * 1024, 3);
        std::uintmax_t biggest = 0;
        for (int tx = 0; tx < 120; ++tx) { // 120 x 8 x 64 KiB = 60 MiB through the log
            Database::Transaction t(**db);
            for (int i = 0; i < 8; ++i) {
                SQLite::Statement ins(d.db, "INSERT INTO bulk (data) VALUES (?)");
                ins.bindNoCopy(1, chunk.data(), static_cast<int>(chunk.size()));
                ins.exec();
            }
            ASSERT_TRUE(t.commit());
            std::error_code ec;
            biggest = std::max(biggest, std::filesystem::file_size(path.string() + "-wal", ec));
        }
        // One transaction is ~520 KiB; waiting starts at 200 pages (1.6 MiB).
        EXPECT_LT(biggest, 8u * 1024 * 1024) << "the WAL never rewound";
        SQLite::Database other(path.string(), SQLite::OPEN_READONLY);
        SQLite::Statement n(other, "SELECT count(*), sum(length(data)) FROM bulk");
        ASSERT_TRUE(n.executeStep());
        EXPECT_EQ(n.getColumn(0).getInt64(), 960);
        EXPECT_EQ(n.getColumn(1).getInt64(), 960LL * 64 * 1024);
    }
    // Closing the last connection checkpointed the rest and removed the log.
    EXPECT_FALSE(std::filesystem::exists(path.string() + "-wal"));
    std::filesystem::remove(path);
}

TEST(Checkpointer, ConnectionsCanLeaveCheckpointsToIt) {
    auto path = temp_db("noauto");
    auto plain = Database::open(path.string());
    ASSERT_TRUE(plain);
    OpenOptions o;
    o.autocheckpoint = false;
    auto quiet = Database::open(path.string(), o);
    ASSERT_TRUE(quiet);
    auto pages = [](Database& db) {
        SQLite::Statement q(db.impl().db, "PRAGMA wal_autocheckpoint");
        EXPECT_TRUE(q.executeStep());
        return q.getColumn(0).getInt();
    };
    EXPECT_EQ(pages(**plain), 1000);
    EXPECT_EQ(pages(**quiet), 0);
    quiet->reset();
    plain->reset();
    std::filesystem::remove(path);
}

// Replying again right after a reply was sent: the thread's newest message is our reply, whose
// only location is "outbox:ID" until the Sent folder is synced. It was sent from an account.
TEST(ReplyParent, OwnReplyNotYetInSentKnowsItsAccount) {
    RawFixture f;
    auto& d = f.db->impl();
    d.db.exec("INSERT INTO accounts (id, name, address, created_at, updated_at) VALUES "
              "(7, 'alice', 'alice@example.com', 1, 1)");
    const auto raw = mail_like(2000);
    auto id = f.s.insert_message(f.message(raw, "sha-reply", "reply-1@example.com"));
    ASSERT_TRUE(id);
    LocationRef where;
    where.source = "outbox:1";
    ASSERT_TRUE(f.s.add_location(*id, where, 1));
    OutboxStore ob(*f.db);
    auto before = ob.reply_parent(f.thread, std::nullopt);
    ASSERT_TRUE(before && *before);
    EXPECT_FALSE((*before)->account) << "no account until the outbox row says which";
    d.db.exec("INSERT INTO outbox (account_id, message_id, created_at, updated_at) VALUES (7, "
              "'reply-1@example.com', 1, 1)");
    auto after = ob.reply_parent(f.thread, std::nullopt);
    ASSERT_TRUE(after && *after);
    ASSERT_TRUE((*after)->account);
    EXPECT_EQ(*(*after)->account, 7);
}

// Recipients are kept in the store's JSON string encoding (rows.hpp): names with quotes,
// backslashes and control characters come back as they went in, and rows written before the
// encoding had \n/\r/\t shortcuts (every control character as \u00XX) still read the same.
TEST(OutboxStore, RecipientsRoundTripThroughTheJsonEncoding) {
    RawFixture f;
    auto& d = f.db->impl();
    d.db.exec("INSERT INTO accounts (id, name, address, created_at, updated_at) VALUES "
              "(7, 'alice', 'alice@example.com', 1, 1)");
    OutboxStore ob(*f.db);
    OutboxRow row;
    row.account = 7;
    row.message_id = "crm.0.abc@example.com";
    row.mode = "custom";
    row.to = {{"Ann \"the\" Boss\\HQ", "ann@example.com"}, {"line\nbreak\ttab\x01", "b@example.com"}};
    row.cc = {{"", "c@example.com"}};
    row.subject = "s";
    row.text_body = "t";
    auto id = ob.queue(row, {}, 1);
    ASSERT_TRUE(id) << id.error().to_string();
    auto back = ob.get(*id);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ((*back)->to, row.to);
    EXPECT_EQ((*back)->cc, row.cc);
    EXPECT_TRUE((*back)->bcc.empty());
    d.db.exec("UPDATE outbox SET to_json = '[[\"old\\u000aform\\u0009x\",\"o@example.com\"]]' WHERE id = " +
              std::to_string(*id));
    back = ob.get(*id);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ((*back)->to, (std::vector<Address>{{"old\nform\tx", "o@example.com"}}));
}

// Attachments are stored once: their metadata and hash in `attachments`, their bytes only inside
// the raw message. WebStore::attachment hands back the raw message to be decoded again.
TEST(AttachmentBytes, OnlyInTheRawMessage) {
    RawFixture f;
    auto& d = f.db->impl();
    const auto raw = mail_like(3000);
    Attachment a;
    a.filename = "a.pdf";
    a.content_type = "application/pdf";
    a.size = 13;
    a.sha256 = std::string(64, 'c');
    f.parsed.attachments = {a};
    auto id = f.s.insert_message(f.message(raw, "sha-with-att", "att-1@example.com"));
    ASSERT_TRUE(id) << id.error().to_string();
    SQLite::Statement blobs(d.db, "SELECT group_concat(sha256) FROM blobs");
    ASSERT_TRUE(blobs.executeStep());
    EXPECT_EQ(blobs.getColumn(0).getString(), "sha-with-att") << "only the raw message";
    WebStore ws(*f.db);
    auto got = ws.attachment(*id, 0);
    ASSERT_TRUE(got && *got) << (got ? "none" : got.error().to_string());
    EXPECT_TRUE((*got)->in_raw_message);
    EXPECT_EQ((*got)->bytes, raw);
    EXPECT_EQ((*got)->sha256, a.sha256);
    EXPECT_EQ((*got)->filename, "a.pdf");
    // A copy in blobs (written by a version before schema 0009) is still served as it is.
    d.db.exec("INSERT INTO blobs (sha256, size, data) VALUES ('" + a.sha256 + "', 5, 'bytes')");
    got = ws.attachment(*id, 0);
    ASSERT_TRUE(got && *got);
    EXPECT_FALSE((*got)->in_raw_message);
    EXPECT_EQ((*got)->bytes, "bytes");
    EXPECT_FALSE(*ws.attachment(*id, 1));
}

// Schema 0009 rebuilds `attachments` without its reference to blobs: rows already there survive.
TEST(AttachmentBytes, MigrationKeepsEarlierRows) {
    auto p = temp_db("att9");
    {
        SQLite::Database raw(p.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        apply_first_migrations(raw, 8); // up to 0008_blob_codec
        raw.exec(R"sql(
INSERT INTO blobs (sha256, size, data) VALUES ('raw', 3, 'raw'), ('att', 5, 'bytes');
INSERT INTO threads (id, created_at, updated_at) VALUES (1, 0, 0);
INSERT INTO messages (id, message_id, content_hash, thread_id, received_at, raw_sha256, raw_size,
                      parser_version) VALUES (1, 'm@x', 'h', 1, 0, 'raw', 3, 1);
INSERT INTO attachments (message_id, position, filename, size, sha256)
    VALUES (1, 0, 'a.txt', 5, 'att');
)sql");
    }
    {
        auto db = Database::open(p.string());
        ASSERT_TRUE(db);
        auto applied = (*db)->migrate();
        ASSERT_TRUE(applied) << applied.error().to_string();
        WebStore ws(**db);
        auto got = ws.attachment(1, 0);
        ASSERT_TRUE(got && *got) << (got ? "none" : got.error().to_string());
        EXPECT_EQ((*got)->filename, "a.txt");
        EXPECT_EQ((*got)->bytes, "bytes");
        EXPECT_FALSE((*got)->in_raw_message);
        // No reference to blobs any more: metadata of a part kept only in the raw message.
        (*db)->impl().db.exec("INSERT INTO attachments (message_id, position, size, sha256) "
                              "VALUES (1, 1, 3, 'not-in-blobs')");
    }
    std::filesystem::remove(p);
    std::filesystem::remove(p.string() + "-wal");
    std::filesystem::remove(p.string() + "-shm");
}

} // namespace
} // namespace crm::store
