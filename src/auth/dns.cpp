// TXT lookups for DKIM keys and DMARC records: libresolv, a record file for tests, and the cache.

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include "crm/auth/verifier.hpp"
#include "crm/core/utf8.hpp"

namespace crm::auth {
namespace {

// A queried name as the cache and the record file key it: lower case, no trailing dot.
std::string lower(std::string_view s) {
    std::string out = ascii_lower(s);
    while (!out.empty() && out.back() == '.')
        out.pop_back();
    return out;
}

class DnsResolver final : public TxtResolver {
  public:
    DnsResolver(DnsOptions o, std::optional<sockaddr_in> ns) : options_(std::move(o)), ns_(ns) {}

    TxtAnswer query_txt(std::string_view name) override {
        TxtAnswer out;
        // A resolver state per call: res_nquery on a shared one is not thread-safe, and
        // res_ninit only reads /etc/resolv.conf (the cache in front keeps this rare).
        struct __res_state st {};
        if (res_ninit(&st) != 0) {
            out.status = TxtAnswer::Status::TempError;
            return out;
        }
        struct Close {
            res_state s;
            ~Close() { res_nclose(s); }
        } close{&st};
        st.retrans = options_.timeout_s;
        st.retry = options_.attempts;
        if (ns_) {
            st.nscount = 1;
            st.nsaddr_list[0] = *ns_;
        }
        std::vector<unsigned char> buf(8192);
        const std::string qname(name);
        const int n = res_nquery(&st, qname.c_str(), ns_c_in, ns_t_txt, buf.data(),
                                 static_cast<int>(buf.size()));
        if (n < 0) {
            // RFC 2308: NXDOMAIN and NODATA are answers ("no such record"); anything else
            // (timeout, SERVFAIL, REFUSED) says nothing about the record.
            out.status = st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA
                             ? TxtAnswer::Status::NotFound
                             : TxtAnswer::Status::TempError;
            return out;
        }
        ns_msg msg;
        if (ns_initparse(buf.data(), std::min(n, static_cast<int>(buf.size())), &msg) != 0) {
            out.status = TxtAnswer::Status::TempError;
            return out;
        }
        std::uint32_t ttl = UINT32_MAX;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_txt)
                continue;
            // RFC 1035 §3.3.14: one or more <character-string>s, each a length octet and text.
            std::string text;
            const unsigned char* p = ns_rr_rdata(rr);
            const unsigned char* end = p + ns_rr_rdlen(rr);
            while (p < end) {
                const std::size_t len = *p++;
                if (static_cast<std::size_t>(end - p) < len)
                    break;
                text.append(reinterpret_cast<const char*>(p), len);
                p += len;
            }
            out.records.push_back(std::move(text));
            ttl = std::min(ttl, ns_rr_ttl(rr));
        }
        out.status = out.records.empty() ? TxtAnswer::Status::NotFound : TxtAnswer::Status::Found;
        out.ttl = out.records.empty() ? 0 : ttl;
        return out;
    }

  private:
    DnsOptions options_;
    std::optional<sockaddr_in> ns_;
};

class FileResolver final : public TxtResolver {
  public:
    explicit FileResolver(std::map<std::string, std::vector<std::string>> records)
        : records_(std::move(records)) {}
    TxtAnswer query_txt(std::string_view name) override {
        TxtAnswer out;
        auto it = records_.find(lower(name));
        if (it == records_.end())
            return out;
        if (it->second.size() == 1 && it->second.front() == "TEMPFAIL") {
            out.status = TxtAnswer::Status::TempError;
            return out;
        }
        out.status = TxtAnswer::Status::Found;
        out.records = it->second;
        out.ttl = 3600;
        return out;
    }

  private:
    std::map<std::string, std::vector<std::string>> records_;
};

} // namespace

Result<std::unique_ptr<TxtResolver>> make_dns_resolver(const DnsOptions& options) {
    std::optional<sockaddr_in> ns;
    if (!options.nameserver.empty()) {
        std::string host = options.nameserver;
        unsigned long port = 53;
        if (auto colon = host.rfind(':'); colon != std::string::npos) {
            const std::string p = host.substr(colon + 1);
            host.resize(colon);
            char* end = nullptr;
            port = std::strtoul(p.c_str(), &end, 10);
            if (p.empty() || *end != '\0' || port == 0 || port > 65535)
                return std::unexpected(Error{"auth.dns",
                                             "bad port in \"" + options.nameserver + "\"",
                                             ErrorScope::Fatal, Retry::NeedsConfig});
        }
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(static_cast<std::uint16_t>(port));
        if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
            return std::unexpected(Error{"auth.dns",
                                         "\"" + options.nameserver + "\" is not an IPv4 address",
                                         ErrorScope::Fatal, Retry::NeedsConfig});
        ns = sa;
    }
    return std::make_unique<DnsResolver>(options, ns);
}

Result<std::unique_ptr<TxtResolver>> make_file_resolver(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return std::unexpected(
            Error{"auth.dns", "cannot read " + path, ErrorScope::Fatal, Retry::NeedsConfig});
    std::map<std::string, std::vector<std::string>> records;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        const auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos || line[b] == '#')
            continue;
        const auto sp = line.find_first_of(" \t", b);
        if (sp == std::string::npos)
            continue;
        const auto t = line.find_first_not_of(" \t", sp);
        records[lower(line.substr(b, sp - b))].push_back(t == std::string::npos ? std::string()
                                                                                : line.substr(t));
    }
    return std::make_unique<FileResolver>(std::move(records));
}

CachingResolver::CachingResolver(TxtResolver& upstream, Options options, Now now)
    : upstream_(upstream), options_(options), now_(std::move(now)) {
    if (!now_)
        now_ = [] {
            return std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                .count();
        };
}

TxtAnswer CachingResolver::query_txt(std::string_view name) {
    const std::string key = lower(name);
    const std::int64_t now = now_();
    {
        std::lock_guard lock(mu_);
        if (auto it = entries_.find(key); it != entries_.end() && it->second.expires > now) {
            ++hits_;
            return it->second.answer;
        }
    }
    // Asked outside the lock: a slow answer for one name must not stall the other threads.
    // Two threads missing the same name at once both ask; the cache keeps the later answer.
    ++misses_;
    TxtAnswer a = upstream_.query_txt(key);
    std::int64_t ttl = 0;
    switch (a.status) {
    case TxtAnswer::Status::Found:
        ttl = std::clamp<std::int64_t>(a.ttl, options_.min_ttl.count(), options_.max_ttl.count());
        break;
    case TxtAnswer::Status::NotFound:
        ttl = options_.negative_ttl.count();
        break;
    case TxtAnswer::Status::TempError:
        ttl = options_.tempfail_ttl.count();
        break;
    }
    std::lock_guard lock(mu_);
    if (entries_.size() >= options_.max_entries)
        entries_.clear();
    entries_[key] = Entry{a, now + ttl};
    return a;
}

} // namespace crm::auth
