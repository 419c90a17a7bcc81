// DKIM verification with libopendkim and DMARC policy evaluation with libopendmarc, both fed
// from our own (cached, pluggable) TXT resolver.

#include "crm/auth/verifier.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "dkim_c.hpp"
#include <opendmarc/dmarc.h>

#include "crm/core/utf8.hpp"

// Exported by libopendmarc and used by its own query_dmarc, but missing from Debian's dmarc.h
// (1.4.2): the organizational domain (RFC 7489 §3.2) from the loaded public suffix list.
extern "C" int opendmarc_get_tld(u_char* domain, u_char* tld, size_t tld_len);

namespace crm::auth {
namespace {

u_char* uc(std::string& s) {
    return reinterpret_cast<u_char*>(s.data());
}

// RAII over the C handles.
struct DkimLibClose {
    void operator()(DKIM_LIB* l) const noexcept { dkim_close(l); }
};
struct DkimFree {
    void operator()(DKIM* d) const noexcept { dkim_free(d); }
};
struct DmarcShutdown {
    void operator()(DMARC_POLICY_T* p) const noexcept { opendmarc_policy_connect_shutdown(p); }
};
using DkimLibPtr = std::unique_ptr<DKIM_LIB, DkimLibClose>;
using DkimPtr = std::unique_ptr<DKIM, DkimFree>;
using DmarcPtr = std::unique_ptr<DMARC_POLICY_T, DmarcShutdown>;

// libopendmarc keeps its public suffix list in process-wide state: load it once.
bool g_psl_loaded = false;
void load_public_suffixes(const std::string& path) {
    static std::once_flag once;
    std::call_once(once, [&] {
        OPENDMARC_LIB_T lib{};
        lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
        opendmarc_policy_library_init(&lib);
        if (path.empty())
            return;
        std::string p = path;
        g_psl_loaded =
            opendmarc_tld_read_file(p.data(), const_cast<char*>("//"), const_cast<char*>("*."),
                                    const_cast<char*>("!")) == 0;
    });
}

// The organizational domain: the public suffix list's answer, else the last two labels.
std::string org_domain(const std::string& domain) {
    if (g_psl_loaded) {
        std::string d = domain;
        u_char out[256] = {};
        if (opendmarc_get_tld(uc(d), out, sizeof out) == 0 && out[0] != '\0')
            return ascii_lower(reinterpret_cast<const char*>(out));
    }
    const auto last = domain.rfind('.');
    if (last == std::string::npos || last == 0)
        return domain;
    const auto prev = domain.rfind('.', last - 1);
    return prev == std::string::npos ? domain : domain.substr(prev + 1);
}

// RFC 7489 §3.1.1 relaxed alignment: the same organizational domain.
bool aligned(const std::string& a, const std::string& b) {
    return a == b || org_domain(a) == org_domain(b);
}

// What the key-lookup callback needs, per message.
struct Context {
    TxtResolver* resolver = nullptr;
    std::string from_domain;
    std::size_t max_signatures = 8;
    bool tempfail = false; // a key lookup could not be answered
};

// libopendkim asks for "selector._domainkey.domain" (RFC 6376 §3.6.2.1) through our resolver.
DKIM_CBSTAT key_lookup(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
    auto* ctx = static_cast<Context*>(dkim_get_user_context(dkim));
    const auto* sel = dkim_sig_getselector(sig);
    const auto* dom = dkim_sig_getdomain(sig);
    if (!ctx || !sel || !dom)
        return DKIM_CBSTAT_ERROR;
    const std::string name = std::string(reinterpret_cast<const char*>(sel)) + "._domainkey." +
                             reinterpret_cast<const char*>(dom);
    const TxtAnswer a = ctx->resolver->query_txt(name);
    if (a.status == TxtAnswer::Status::TempError) {
        ctx->tempfail = true;
        return DKIM_CBSTAT_TRYAGAIN;
    }
    if (a.status == TxtAnswer::Status::NotFound || a.records.empty())
        return DKIM_CBSTAT_NOTFOUND;
    // One key record is expected; with several, the one that looks like a key.
    const std::string* rec = &a.records.front();
    for (const auto& r : a.records)
        if (r.find("p=") != std::string::npos) {
            rec = &r;
            break;
        }
    if (rec->size() + 1 > buflen)
        return DKIM_CBSTAT_ERROR;
    std::memcpy(buf, rec->data(), rec->size());
    buf[rec->size()] = '\0';
    return DKIM_CBSTAT_CONTINUE;
}

struct SignatureResult {
    std::string domain;
    bool pass = false;
    bool forged = false; // key found and the signature or body hash does not match
    std::string why;
};

// RFC 8601 style, for logs and the summary: "fail" only for real failures, else "neutral".
std::string fmt_result(const SignatureResult& s) {
    if (s.pass)
        return "dkim=pass (d=" + s.domain + ")";
    if (s.forged)
        return "dkim=fail (d=" + s.domain + ": " + s.why + ")";
    return "dkim=neutral (d=" + s.domain + ")";
}

} // namespace

struct Verifier::Impl {
    TxtResolver* resolver = nullptr;
    VerifierOptions options;
    DkimLibPtr lib;
};

namespace {
// Prescreen (after the header): check at most max_signatures signatures. An attacker's 200
// DKIM-Signature fields would otherwise cost 200 key lookups; the From-aligned ones go first.
DKIM_CBSTAT prescreen(DKIM* dkim, DKIM_SIGINFO** sigs, int nsigs) {
    const auto* ctx = static_cast<Context*>(dkim_get_user_context(dkim));
    if (!ctx)
        return DKIM_CBSTAT_CONTINUE;
    const std::string& from_domain = ctx->from_domain;
    std::size_t kept = 0;
    for (int pass = 0; pass < 2; ++pass)
        for (int i = 0; i < nsigs; ++i) {
            if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) != 0)
                continue;
            const auto* d = dkim_sig_getdomain(sigs[i]);
            const bool is_aligned =
                d && !from_domain.empty() &&
                aligned(ascii_lower(reinterpret_cast<const char*>(d)), from_domain);
            if (is_aligned != (pass == 0))
                continue;
            if (kept < ctx->max_signatures)
                ++kept;
            else
                dkim_sig_ignore(sigs[i]);
        }
    return DKIM_CBSTAT_CONTINUE;
}
} // namespace

Result<std::unique_ptr<Verifier>> Verifier::create(TxtResolver& resolver, VerifierOptions options) {
    load_public_suffixes(options.public_suffix_list);
    DkimLibPtr lib(dkim_init(nullptr, nullptr));
    if (!lib)
        return std::unexpected(
            Error{"auth.dkim", "dkim_init failed", ErrorScope::Fatal, Retry::NeedsConfig});
    // Mailboxes store LF line endings; DKIM canonicalises CRLF (RFC 6376 §3.4).
    unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
    if (dkim_options(lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) !=
            DKIM_STAT_OK ||
        dkim_set_key_lookup(lib.get(), &key_lookup) != DKIM_STAT_OK ||
        dkim_set_prescreen(lib.get(), &prescreen) != DKIM_STAT_OK)
        return std::unexpected(
            Error{"auth.dkim", "dkim_options failed", ErrorScope::Fatal, Retry::NeedsConfig});
    auto impl = std::make_unique<Impl>();
    impl->resolver = &resolver;
    impl->options = std::move(options);
    impl->lib = std::move(lib);
    return std::unique_ptr<Verifier>(new Verifier(std::move(impl)));
}

Verifier::Verifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Verifier::~Verifier() = default;

SenderVerification Verifier::verify(std::string_view raw, std::string_view from_domain_in) const {
    SenderVerification out;
    const std::string from = ascii_lower(from_domain_in);
    if (from.empty() || raw.size() > impl_->options.max_message_bytes)
        return out;

    // --- DKIM: every signature (up to the cap), RFC 6376 §6.
    std::vector<SignatureResult> sigs;
    bool dkim_temperror = false;
    {
        Context ctx{impl_->resolver, from, impl_->options.max_signatures};
        DKIM_STAT st = DKIM_STAT_OK;
        DkimPtr d(dkim_verify(impl_->lib.get(), reinterpret_cast<const u_char*>("crm-mail"),
                              nullptr, &st));
        if (d && dkim_set_user_context(d.get(), &ctx) == DKIM_STAT_OK) {
            std::string copy(raw); // dkim_chunk takes a non-const buffer
            st = dkim_chunk(d.get(), uc(copy), copy.size());
            if (st == DKIM_STAT_OK)
                st = dkim_chunk(d.get(), nullptr, 0);
            if (st == DKIM_STAT_OK)
                (void)dkim_eom(d.get(), nullptr);
            // A key lookup that could not be answered ends verification: no result.
            dkim_temperror = ctx.tempfail;
            DKIM_SIGINFO** list = nullptr;
            int n = 0;
            if (st == DKIM_STAT_OK && dkim_getsiglist(d.get(), &list, &n) == DKIM_STAT_OK) {
                for (int i = 0; i < n; ++i) {
                    DKIM_SIGINFO* s = list[i];
                    const unsigned int f = dkim_sig_getflags(s);
                    const auto* dom = dkim_sig_getdomain(s);
                    if ((f & DKIM_SIGFLAG_IGNORE) != 0 || (f & DKIM_SIGFLAG_PROCESSED) == 0 || !dom)
                        continue;
                    SignatureResult r;
                    r.domain = ascii_lower(reinterpret_cast<const char*>(dom));
                    const int bh = dkim_sig_getbh(s);
                    const int err = dkim_sig_geterror(s);
                    r.pass = (f & DKIM_SIGFLAG_PASSED) != 0 && bh == DKIM_SIGBH_MATCH;
                    // Evidence of tampering only when the key was there and the maths failed.
                    // Not: no key (NOKEY: rotated away since, for old mail), a revoked key
                    // ("p=": how keys are retired), DNS trouble, an expired x= (old mail), a
                    // syntax problem, or a key in test mode (t=y, RFC 6376 §3.6.1: "MUST NOT
                    // treat ... differently from unsigned email").
                    // BADSIG, or a body hash mismatch with no other error, is only ever set
                    // after the key was retrieved and decoded (libopendkim 2.11 does not set
                    // DKIM_SIGFLAG_KEYLOADED when the application supplies the key).
                    const bool testing = (f & DKIM_SIGFLAG_TESTKEY) != 0;
                    if (!r.pass && !testing &&
                        (err == DKIM_SIGERROR_BADSIG ||
                         (err == DKIM_SIGERROR_OK && bh == DKIM_SIGBH_MISMATCH))) {
                        r.forged = true;
                        r.why = bh == DKIM_SIGBH_MISMATCH ? "body changed after signing"
                                                          : "signed headers changed";
                    }
                    sigs.push_back(std::move(r));
                }
            }
        }
    }
    const SignatureResult* aligned_pass = nullptr;
    const SignatureResult* aligned_fail = nullptr;
    for (const auto& s : sigs) {
        if (!aligned(s.domain, from))
            continue; // RFC 6376 §6.3: a third party's signature says nothing about From
        if (s.pass && !aligned_pass)
            aligned_pass = &s;
        if (s.forged && !aligned_fail)
            aligned_fail = &s;
    }
    out.aligned_pass = aligned_pass != nullptr;
    for (const auto& s : sigs) {
        if (!out.summary.empty())
            out.summary += ' ';
        out.summary += fmt_result(s);
    }
    if (sigs.empty())
        out.summary = dkim_temperror ? "dkim=temperror" : "dkim=none";

    // --- DMARC (RFC 7489 §6.6.3): _dmarc.<From domain>, else its organizational domain.
    std::string record, org;
    auto lookup = [&](const std::string& domain) -> TxtAnswer::Status {
        const TxtAnswer a = impl_->resolver->query_txt("_dmarc." + domain);
        if (a.status != TxtAnswer::Status::Found)
            return a.status;
        int n = 0;
        for (const auto& r : a.records)
            if (ascii_lower(r.substr(0, 8)) == "v=dmarc1") {
                record = r;
                ++n;
            }
        if (n != 1) { // none or several: no policy (§6.6.3 step 5)
            record.clear();
            return TxtAnswer::Status::NotFound;
        }
        return TxtAnswer::Status::Found;
    };
    auto dstatus = lookup(from);
    if (dstatus == TxtAnswer::Status::NotFound) {
        org = org_domain(from);
        if (org != from)
            dstatus = lookup(org);
        else
            org.clear();
    }
    std::string dmarc = "dmarc=none";
    if (dstatus == TxtAnswer::Status::TempError)
        dmarc = "dmarc=temperror";
    if (dstatus == TxtAnswer::Status::Found) {
        std::string ip = "0.0.0.0"; // unused: no SPF
        DmarcPtr p(opendmarc_policy_connect_init(uc(ip), 0));
        std::string f = from, o = org;
        if (p && opendmarc_policy_store_from_domain(p.get(), uc(f)) == DMARC_PARSE_OKAY &&
            opendmarc_policy_store_dmarc(p.get(), uc(record), uc(f), o.empty() ? nullptr : uc(o)) ==
                DMARC_PARSE_OKAY) {
            for (const auto& s : sigs) {
                if (!s.pass)
                    continue;
                std::string dd = s.domain;
                (void)opendmarc_policy_store_dkim(p.get(), uc(dd), nullptr,
                                                  DMARC_POLICY_DKIM_OUTCOME_PASS, nullptr);
            }
            const int policy = opendmarc_get_policy_to_enforce(p.get());
            int pct = 100;
            (void)opendmarc_policy_fetch_pct(p.get(), &pct);
            switch (policy) {
            case DMARC_POLICY_PASS:
                dmarc = "dmarc=pass";
                break;
            case DMARC_POLICY_NONE:
                dmarc = "dmarc=fail (p=none)";
                break;
            case DMARC_POLICY_REJECT:
            case DMARC_POLICY_QUARANTINE: {
                const char* what = policy == DMARC_POLICY_REJECT ? "reject" : "quarantine";
                dmarc = std::string("dmarc=fail (p=") + what + ")";
                // pct=0 is the "monitor first" step of a rollout: not an enforced policy.
                if (pct > 0 && out.failure.empty())
                    out.failure = "DMARC policy " + std::string(what) + " of " +
                                  (org.empty() ? from : org) + ": no valid DKIM signature of " +
                                  from;
                break;
            }
            default:
                break;
            }
        }
    }
    out.summary += "; " + dmarc;
    // An aligned signature that does not verify although its key is published is the stronger
    // and more specific reason; without an aligned pass it stands even when DMARC says nothing.
    if (aligned_fail && !aligned_pass)
        out.failure = "DKIM signature of " + aligned_fail->domain + " does not verify (" +
                      aligned_fail->why + ")";
    return out;
}

std::string from_domain_of(const ParsedMessage& m) {
    if (m.from.empty())
        return {};
    const std::string& a = m.from.front().address;
    const auto at = a.rfind('@');
    return at == std::string::npos ? std::string() : ascii_lower(a.substr(at + 1));
}

} // namespace crm::auth
