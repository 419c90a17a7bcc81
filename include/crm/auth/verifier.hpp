#pragma once
// Our own sender authentication: DKIM signatures (RFC 6376, libopendkim) and the From domain's
// DMARC policy (RFC 7489, libopendmarc), for deployments that do not name their receiving
// servers' authserv-ids ([matching] trusted_authserv_ids). SPF is out of scope: it judges the
// connecting IP address, which only the receiving MTA saw; so DMARC is evaluated on DKIM alone.
//
// Adapter module: it does DNS. The library handles stay in src/auth; nothing here names them.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crm/core/message.hpp"
#include "crm/core/result.hpp"

namespace crm::auth {

// The TXT records at one name.
struct TxtAnswer {
    enum class Status { Found, NotFound, TempError };
    Status status = Status::NotFound; // NotFound: NXDOMAIN or no TXT record
    std::vector<std::string> records; // each record's strings joined (RFC 7208 §3.3 style)
    std::uint32_t ttl = 0;            // seconds, from the answer (0 when unknown)
};

// TXT lookups. Implementations are called from several parser threads at once.
class TxtResolver {
  public:
    virtual ~TxtResolver() = default;
    virtual TxtAnswer query_txt(std::string_view name) = 0;
};

struct DnsOptions {
    // "" = the system's resolvers (/etc/resolv.conf); else one IPv4 "ADDRESS[:PORT]" to ask,
    // e.g. a local validating resolver (or a test's loopback responder).
    std::string nameserver;
    int timeout_s = 2; // per try
    int attempts = 1;
};

// Real DNS through libresolv (res_nquery on a per-call resolver state: thread-safe). Fails
// (NeedsConfig) only when `nameserver` does not parse.
Result<std::unique_ptr<TxtResolver>> make_dns_resolver(const DnsOptions& options);

// Records from a text file, for tests and offline checks: one record a line, "NAME TEXT"
// (NAME without the trailing dot; TEXT is the whole rest of the line); '#' starts a comment.
// Names not in the file are NotFound; a name listed with the text "TEMPFAIL" answers TempError.
Result<std::unique_ptr<TxtResolver>> make_file_resolver(const std::string& path);

// A cache in front of another resolver, keyed by the queried name (so per selector+domain for
// keys and per domain for DMARC): an initial sync of 20,000 messages from a few hundred
// domains asks DNS a few hundred times. Found answers live for their TTL clamped to
// [min_ttl, max_ttl]; NotFound for negative_ttl; TempError for tempfail_ttl, so a DNS outage
// costs one timeout per name a minute, not one per message. Thread-safe.
class CachingResolver final : public TxtResolver {
  public:
    struct Options {
        std::chrono::seconds min_ttl{60};
        std::chrono::seconds max_ttl{6 * 3600};
        std::chrono::seconds negative_ttl{900};
        std::chrono::seconds tempfail_ttl{60};
        std::size_t max_entries = 50'000; // then the cache starts over
    };
    using Now = std::function<std::int64_t()>; // seconds; steady, injectable for tests

    CachingResolver(TxtResolver& upstream, Options options, Now now = {});
    TxtAnswer query_txt(std::string_view name) override;

    struct Stats {
        std::uint64_t hits = 0;
        std::uint64_t misses = 0; // each one asked upstream
    };
    [[nodiscard]] Stats stats() const { return {hits_.load(), misses_.load()}; }

  private:
    struct Entry {
        TxtAnswer answer;
        std::int64_t expires = 0;
    };
    TxtResolver& upstream_;
    Options options_;
    Now now_;
    std::mutex mu_;
    std::unordered_map<std::string, Entry> entries_;
    std::atomic<std::uint64_t> hits_{0}, misses_{0};
};

struct VerifierOptions {
    // Public suffix list for DMARC's organizational domain (RFC 7489 §3.2); "" or a missing file:
    // the last two labels.
    std::string public_suffix_list = "/usr/share/publicsuffix/public_suffix_list.dat";
    std::size_t max_signatures = 8; // more DKIM-Signature fields than this are not checked
    std::size_t max_message_bytes = 64u << 20; // larger messages are not verified
};

// Verifies one raw message (RFC 5322 bytes, CRLF or LF) against the domain of its From address.
// Thread-safe: one Verifier serves every parser thread. `resolver` is borrowed and must outlive
// it (put a CachingResolver in front of real DNS).
class Verifier {
  public:
    // Fails (Fatal) only when libopendkim cannot be initialised.
    static Result<std::unique_ptr<Verifier>> create(TxtResolver& resolver,
                                                    VerifierOptions options = {});
    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;

    // The verdict; `from_domain` is the From address's domain (ASCII, any case).
    [[nodiscard]] SenderVerification verify(std::string_view raw,
                                            std::string_view from_domain) const;

    struct Impl;

  private:
    explicit Verifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// The From address's domain of a parsed message ("" when it has none): what verify() checks.
[[nodiscard]] std::string from_domain_of(const ParsedMessage& m);

} // namespace crm::auth
