// Our own DKIM/DMARC verification on real signed mail: a throwaway RSA key made per test run,
// messages signed with libopendkim's signing API, keys and DMARC records served by an in-memory
// resolver (no network).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "dkim_c.hpp"

#include "crm/auth/verifier.hpp"
#include "crm/match/sort.hpp"
#include "crm/mime/parse.hpp"

namespace crm::auth {
namespace {

// A zone in memory that counts the questions it was asked.
class Zone final : public TxtResolver {
  public:
    std::map<std::string, std::vector<std::string>> txt;
    std::set<std::string> tempfail;
    int queries = 0;
    TxtAnswer query_txt(std::string_view name) override {
        ++queries;
        TxtAnswer a;
        if (tempfail.count(std::string(name))) {
            a.status = TxtAnswer::Status::TempError;
            return a;
        }
        auto it = txt.find(std::string(name));
        if (it == txt.end())
            return a;
        a.status = TxtAnswer::Status::Found;
        a.records = it->second;
        a.ttl = 300;
        return a;
    }
};

struct Key {
    std::string private_pem;
    std::string public_b64; // SubjectPublicKeyInfo, base64: the DKIM key record's p=
};

Key make_key() {
    static const Key key = [] {
        Key k;
        EVP_PKEY* pkey = EVP_RSA_gen(2048);
        EXPECT_NE(pkey, nullptr);
        BIO* mem = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(mem, pkey, nullptr, nullptr, 0, nullptr, nullptr);
        char* p = nullptr;
        long n = BIO_get_mem_data(mem, &p);
        k.private_pem.assign(p, static_cast<std::size_t>(n));
        BIO_free(mem);
        unsigned char* der = nullptr;
        const int len = i2d_PUBKEY(pkey, &der);
        std::string b64(static_cast<std::size_t>(4 * ((len + 2) / 3)) + 1, '\0');
        const int out = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), der, len);
        b64.resize(static_cast<std::size_t>(out));
        k.public_b64 = b64;
        OPENSSL_free(der);
        EVP_PKEY_free(pkey);
        return k;
    }();
    return key;
}

// Signs `msg` (CRLF) as d=domain s=selector with relaxed/relaxed rsa-sha256: the DKIM-Signature
// field is put on top, as a signing MTA does.
std::string sign(const std::string& msg, const std::string& domain,
                 const std::string& selector = "sel1") {
    DKIM_LIB* lib = dkim_init(nullptr, nullptr);
    EXPECT_NE(lib, nullptr);
    DKIM_STAT st = DKIM_STAT_OK;
    std::string pem = make_key().private_pem;
    DKIM* d = dkim_sign(lib, reinterpret_cast<const u_char*>("test"), nullptr,
                        reinterpret_cast<u_char*>(pem.data()),
                        reinterpret_cast<const u_char*>(selector.c_str()),
                        reinterpret_cast<const u_char*>(domain.c_str()), DKIM_CANON_RELAXED,
                        DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
    EXPECT_NE(d, nullptr) << dkim_getresultstr(st);
    std::string copy = msg;
    EXPECT_EQ(dkim_chunk(d, reinterpret_cast<u_char*>(copy.data()), copy.size()), DKIM_STAT_OK);
    EXPECT_EQ(dkim_chunk(d, nullptr, 0), DKIM_STAT_OK);
    EXPECT_EQ(dkim_eom(d, nullptr), DKIM_STAT_OK);
    std::vector<u_char> hdr(8192);
    const std::string name = "DKIM-Signature";
    EXPECT_EQ(dkim_getsighdr(d, hdr.data(), hdr.size(), name.size() + 2), DKIM_STAT_OK);
    dkim_free(d);
    dkim_close(lib);
    return name + ": " + reinterpret_cast<const char*>(hdr.data()) + "\r\n" + msg;
}

std::string mail(const std::string& from, const std::string& subject = "Quote",
                 const std::string& body = "Here is the quote.\r\n") {
    return "From: " + from + "\r\nTo: alice@sales.example\r\nSubject: " + subject +
           "\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <q1@globex.example>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" +
           body;
}

std::string replace(std::string s, const std::string& what, const std::string& with) {
    const auto at = s.find(what);
    EXPECT_NE(at, std::string::npos) << what;
    if (at != std::string::npos)
        s.replace(at, what.size(), with);
    return s;
}

class VerifierTest : public ::testing::Test {
  protected:
    void SetUp() override {
        zone.txt["sel1._domainkey.globex.example"] = {"v=DKIM1; k=rsa; p=" + make_key().public_b64};
        zone.txt["sel1._domainkey.attacker.example"] = {"v=DKIM1; k=rsa; p=" +
                                                        make_key().public_b64};
        zone.txt["_dmarc.globex.example"] = {"v=DMARC1; p=reject; rua=mailto:d@globex.example"};
        zone.txt["_dmarc.bank.example"] = {"v=DMARC1; p=reject"};
        auto v = Verifier::create(zone);
        ASSERT_TRUE(v) << v.error().to_string();
        verifier = std::move(*v);
    }
    SenderVerification check(const std::string& raw) {
        return verifier->verify(raw, from_domain_of(mime::parse(raw)));
    }
    Zone zone;
    std::unique_ptr<Verifier> verifier;
};

TEST_F(VerifierTest, GoodSignaturePasses) {
    const auto r = check(sign(mail("Hank <hank@globex.example>"), "globex.example"));
    EXPECT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_TRUE(r.aligned_pass) << r.summary;
    EXPECT_EQ(r.summary, "dkim=pass (d=globex.example); dmarc=pass");
}

TEST_F(VerifierTest, LfLineEndingsAsMailboxesStoreThemStillPass) {
    std::string raw = sign(mail("hank@globex.example"), "globex.example");
    std::string lf;
    for (char c : raw)
        if (c != '\r')
            lf += c;
    const auto r = check(lf);
    EXPECT_TRUE(r.aligned_pass) << r.summary;
}

TEST_F(VerifierTest, BodyTamperedFails) {
    const auto raw = replace(sign(mail("hank@globex.example"), "globex.example"), "the quote",
                             "our new bank account");
    const auto r = check(raw);
    EXPECT_FALSE(r.aligned_pass);
    EXPECT_EQ(r.failure, "DKIM signature of globex.example does not verify (body changed after "
                         "signing)");
}

TEST_F(VerifierTest, SignedHeaderTamperedFails) {
    const auto raw = replace(sign(mail("hank@globex.example"), "globex.example"), "Subject: Quote",
                             "Subject: Urgent wire transfer");
    const auto r = check(raw);
    EXPECT_FALSE(r.aligned_pass);
    EXPECT_EQ(r.failure, "DKIM signature of globex.example does not verify (signed headers "
                         "changed)");
}

TEST_F(VerifierTest, UnalignedSignatureFromDomainWithRejectPolicyFailsDmarc) {
    // Validly signed, but by the attacker's own domain: nothing vouches for bank.example.
    const auto r = check(sign(mail("CEO <ceo@bank.example>"), "attacker.example"));
    EXPECT_FALSE(r.aligned_pass);
    EXPECT_EQ(r.failure, "DMARC policy reject of bank.example: no valid DKIM signature of "
                         "bank.example");
    EXPECT_NE(r.summary.find("dkim=pass (d=attacker.example)"), std::string::npos) << r.summary;
}

TEST_F(VerifierTest, OrganizationalDomainPolicyCoversSubdomains) {
    // No _dmarc.mail.bank.example: the organizational domain's record applies (RFC 7489 §6.6.3).
    const auto r = check(mail("ceo@mail.bank.example"));
    EXPECT_EQ(r.failure, "DMARC policy reject of bank.example: no valid DKIM signature of "
                         "mail.bank.example");
}

TEST_F(VerifierTest, PolicyNoneOrPctZeroIsNoEvidence) {
    zone.txt["_dmarc.bank.example"] = {"v=DMARC1; p=none"};
    EXPECT_TRUE(check(mail("ceo@bank.example")).failure.empty());
    zone.txt["_dmarc.bank.example"] = {"v=DMARC1; p=quarantine; pct=0"};
    EXPECT_TRUE(check(mail("ceo@bank.example")).failure.empty());
    zone.txt["_dmarc.bank.example"] = {"v=DMARC1; p=quarantine"};
    EXPECT_NE(check(mail("ceo@bank.example")).failure, "");
}

TEST_F(VerifierTest, MissingKeyIsNoResultNotAFailure) {
    // Old mail whose selector was rotated away: not a forgery. (globex has p=reject, so only
    // the aligned pass is missing; with a policy of none there is nothing at all to hold.)
    zone.txt["_dmarc.globex.example"] = {"v=DMARC1; p=none"};
    const auto raw = sign(mail("hank@globex.example"), "globex.example", "retired2019");
    const auto r = check(raw);
    EXPECT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_FALSE(r.aligned_pass);
    EXPECT_EQ(r.summary, "dkim=neutral (d=globex.example); dmarc=fail (p=none)");
    // A revoked key ("p=" empty: how keys are retired) is the same.
    zone.txt["retired2019._domainkey.globex.example"] = {"v=DKIM1; p="};
    EXPECT_TRUE(check(raw).failure.empty());
}

TEST_F(VerifierTest, DnsTroubleIsNoResult) {
    zone.tempfail = {"sel1._domainkey.globex.example", "_dmarc.globex.example"};
    const auto raw =
        replace(sign(mail("hank@globex.example"), "globex.example"), "the quote", "changed");
    const auto r = check(raw);
    EXPECT_TRUE(r.failure.empty()) << r.failure;
    EXPECT_EQ(r.summary, "dkim=temperror; dmarc=temperror");
}

TEST_F(VerifierTest, UnsignedMailFromDomainWithoutPolicyIsNoResult) {
    const auto r = check(mail("someone@nopolicy.example"));
    EXPECT_TRUE(r.failure.empty());
    EXPECT_EQ(r.summary, "dkim=none; dmarc=none");
}

TEST_F(VerifierTest, ForgedAuthenticationResultsPassDoesNotCancelARealFailure) {
    auto raw = replace(sign(mail("hank@globex.example"), "globex.example"), "the quote",
                       "our new bank account");
    raw = "Authentication-Results: mx.sales.example; dkim=pass header.d=globex.example; "
          "dmarc=pass header.from=globex.example\r\n" +
          raw;
    auto m = mime::parse(raw);
    m.verification = verifier->verify(raw, from_domain_of(m));
    const auto why = match::suspicious_sender(m.from.front(), m, {});
    EXPECT_EQ(why, "authentication failed: DKIM signature of globex.example does not verify "
                   "(body changed after signing)");
}

TEST_F(VerifierTest, OurAlignedPassRefutesAnUnverifiedFailureHeaderButNotALookalike) {
    auto raw = sign(mail("hank@globex.example"), "globex.example");
    raw = "Authentication-Results: relay.elsewhere.example; dkim=fail header.d=globex.example\r\n" +
          raw;
    auto m = mime::parse(raw);
    EXPECT_EQ(match::suspicious_sender(m.from.front(), m, {}),
              "authentication failed (DKIM/DMARC/SPF)"); // without our verification
    m.verification = verifier->verify(raw, from_domain_of(m));
    EXPECT_EQ(match::suspicious_sender(m.from.front(), m, {}), "");
    // A lookalike signs its own mail just as well: the pass cancels nothing else.
    zone.txt["sel1._domainkey.g1obex.example"] = {"v=DKIM1; k=rsa; p=" + make_key().public_b64};
    const auto look = sign(mail("hank@g1obex.example"), "g1obex.example");
    auto lm = mime::parse(look);
    lm.verification = verifier->verify(look, from_domain_of(lm));
    EXPECT_TRUE(lm.verification->aligned_pass);
    const std::vector<std::string> known{"globex.example"};
    EXPECT_EQ(match::suspicious_sender(lm.from.front(), lm, known), "lookalike of globex.example");
}

TEST_F(VerifierTest, TrustedAuthservIdsTakePrecedenceOverOurVerification) {
    auto raw = replace(sign(mail("hank@globex.example"), "globex.example"), "the quote", "x");
    raw = "Authentication-Results: mx.sales.example; dkim=pass header.d=globex.example\r\n" + raw;
    auto m = mime::parse(raw);
    m.verification = verifier->verify(raw, from_domain_of(m));
    ASSERT_FALSE(m.verification->failure.empty());
    const std::vector<std::string> trusted{"mx.sales.example"};
    EXPECT_EQ(match::suspicious_sender(m.from.front(), m, {}, trusted), "");
}

TEST_F(VerifierTest, TooManySignaturesAreNotAllLookedUp) {
    std::string raw = mail("hank@globex.example");
    for (int i = 0; i < 20; ++i)
        raw = sign(raw, "spam" + std::to_string(i) + ".example");
    raw = sign(raw, "globex.example");
    zone.queries = 0;
    const auto r = check(raw);
    EXPECT_TRUE(r.aligned_pass) << r.summary; // the aligned one is checked first
    EXPECT_LE(zone.queries, 8 + 1);           // 8 keys at most, and the DMARC record
}

TEST_F(VerifierTest, CacheMakesRepeatedSendersCostOneLookupPerName) {
    CachingResolver cache(zone, {});
    auto v = Verifier::create(cache);
    ASSERT_TRUE(v);
    const auto raw = sign(mail("hank@globex.example"), "globex.example");
    zone.queries = 0;
    constexpr int kMessages = 2000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kMessages; ++i)
        ASSERT_TRUE((*v)->verify(raw, "globex.example").aligned_pass);
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_EQ(zone.queries, 2); // the key and the DMARC record, once each
    EXPECT_EQ(cache.stats().misses, 2u);
    EXPECT_EQ(cache.stats().hits, 2u * kMessages - 2);
    std::printf("verify: %.1f us per message (%d messages, %d upstream lookups)\n",
                static_cast<double>(us) / kMessages, kMessages, zone.queries);
}

TEST(CachingResolverTest, AnswersExpireAfterTheirClampedTtl) {
    Zone zone;
    zone.txt["a.example"] = {"x"};
    std::int64_t now = 1000;
    CachingResolver::Options o;
    o.min_ttl = std::chrono::seconds(600); // the zone says 300
    o.negative_ttl = std::chrono::seconds(50);
    o.tempfail_ttl = std::chrono::seconds(10);
    CachingResolver cache(zone, o, [&] { return now; });
    EXPECT_EQ(cache.query_txt("A.example.").status, TxtAnswer::Status::Found);
    now += 599;
    EXPECT_EQ(cache.query_txt("a.example").records.front(), "x");
    EXPECT_EQ(zone.queries, 1);
    now += 1;
    (void)cache.query_txt("a.example");
    EXPECT_EQ(zone.queries, 2);
    EXPECT_EQ(cache.query_txt("none.example").status, TxtAnswer::Status::NotFound);
    now += 49;
    (void)cache.query_txt("none.example");
    EXPECT_EQ(zone.queries, 3);
    zone.tempfail = {"down.example"};
    EXPECT_EQ(cache.query_txt("down.example").status, TxtAnswer::Status::TempError);
    now += 9;
    (void)cache.query_txt("down.example");
    EXPECT_EQ(zone.queries, 4);
    now += 1;
    (void)cache.query_txt("down.example");
    EXPECT_EQ(zone.queries, 5);
}

TEST(FileResolverTest, ReadsNameTextLines) {
    const std::string path = ::testing::TempDir() + "/zone.txt";
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("# test zone\n_dmarc.Bank.example v=DMARC1; p=reject\n"
               "down.example TEMPFAIL\n",
               f);
    std::fclose(f);
    auto r = make_file_resolver(path);
    ASSERT_TRUE(r);
    auto a = (*r)->query_txt("_dmarc.bank.example.");
    ASSERT_EQ(a.status, TxtAnswer::Status::Found);
    EXPECT_EQ(a.records.front(), "v=DMARC1; p=reject");
    EXPECT_EQ((*r)->query_txt("down.example").status, TxtAnswer::Status::TempError);
    EXPECT_EQ((*r)->query_txt("other.example").status, TxtAnswer::Status::NotFound);
    EXPECT_FALSE(make_file_resolver(path + ".missing"));
}

TEST(DnsResolverTest, RejectsABadNameserver) {
    DnsOptions o;
    o.nameserver = "mx.example";
    EXPECT_FALSE(make_dns_resolver(o));
    o.nameserver = "127.0.0.1:99999";
    EXPECT_FALSE(make_dns_resolver(o));
    o.nameserver = "127.0.0.1:5353";
    EXPECT_TRUE(make_dns_resolver(o));
}

} // namespace
} // namespace crm::auth
