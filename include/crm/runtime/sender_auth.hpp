#pragma once
// Our own DKIM/DMARC verification as crm-maild and crm-mailctl import set it up from
// [matching]: real DNS (dns_server or the system's resolvers) behind one cache for the process.

#include <memory>

#include "crm/auth/verifier.hpp"
#include "crm/settings/config.hpp"

namespace crm::runtime {

struct SenderAuth {
    std::unique_ptr<auth::TxtResolver> dns;
    std::unique_ptr<auth::CachingResolver> cache;
    std::unique_ptr<auth::Verifier> verifier; // null: verification is off
};

// Off when verify_dkim is false, and when trusted_authserv_ids are configured: then the
// receiving servers' Authentication-Results are believed instead (match::suspicious_sender).
inline Result<SenderAuth> make_sender_auth(const settings::MatchingConfig& m) {
    SenderAuth a;
    if (!m.verify_dkim || !m.trusted_authserv_ids.empty())
        return a;
    auth::DnsOptions dns;
    dns.nameserver = m.dns_server;
    auto r = auth::make_dns_resolver(dns);
    if (!r)
        return std::unexpected(r.error());
    a.dns = std::move(*r);
    a.cache = std::make_unique<auth::CachingResolver>(*a.dns, auth::CachingResolver::Options{});
    auto v = auth::Verifier::create(*a.cache);
    if (!v)
        return std::unexpected(v.error());
    a.verifier = std::move(*v);
    return a;
}

} // namespace crm::runtime
