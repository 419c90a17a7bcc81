// The login throttle and the client address behind trusted proxies (throttle.hpp).

#include "throttle.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

namespace crm::http {
namespace {

// Bucket keys: "p:" for a (client, account) pair, "c:" for a client (trim() tells them apart).
std::string pair_key(const std::string& client, const std::string& account) {
    return "p:" + client + '\n' + account;
}
std::string client_bucket_key(const std::string& client) {
    return "c:" + client;
}

constexpr std::size_t kMaxBuckets = 200000; // ~20 MB at most, under a spray of distinct keys

struct Ip {
    unsigned char bytes[16]{};
    int family = 0; // 4 or 6
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

// An IPv4 or IPv6 literal; IPv4-mapped IPv6 becomes IPv4. "[v6]" and "[v6]:port" are accepted
// (X-Forwarded-For as some proxies write it), as is "v4:port".
std::optional<Ip> parse_ip(std::string_view text) {
    text = trim(text);
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        text = text.substr(1, close - 1);
    } else if (auto colon = text.find(':'); colon != std::string_view::npos &&
                                            text.find(':', colon + 1) == std::string_view::npos) {
        text = text.substr(0, colon); // v4:port
    }
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    const std::string s(text);
    Ip ip;
    if (inet_pton(AF_INET, s.c_str(), ip.bytes) == 1) {
        ip.family = 4;
        return ip;
    }
    if (inet_pton(AF_INET6, s.c_str(), ip.bytes) == 1) {
        static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(ip.bytes, kMapped, 12) == 0) {
            std::memmove(ip.bytes, ip.bytes + 12, 4);
            std::memset(ip.bytes + 4, 0, 12);
            ip.family = 4;
        } else {
            ip.family = 6;
        }
        return ip;
    }
    return std::nullopt;
}

std::string show(const Ip& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.family == 4 ? AF_INET : AF_INET6, ip.bytes, buf, sizeof buf);
    return buf;
}

// "10.0.0.0/8" -> (network, prefix); a bare address is a /32 or /128.
std::optional<std::pair<Ip, int>> parse_network(std::string_view text) {
    text = trim(text);
    int prefix = -1;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty())
            return std::nullopt;
        text = text.substr(0, slash);
    }
    if (text.starts_with('[') || text.empty())
        return std::nullopt;
    auto ip = parse_ip(text);
    if (!ip || (ip->family == 4 && text.find(':') != std::string_view::npos &&
                text.find("::ffff:") == std::string_view::npos))
        return std::nullopt; // "v4:port" is not a network
    const int bits = ip->family == 4 ? 32 : 128;
    if (prefix < 0)
        prefix = bits;
    if (prefix > bits)
        return std::nullopt;
    return std::pair{*ip, prefix};
}

bool same_prefix(const unsigned char* a, const unsigned char* b, int bits) {
    const int whole = bits / 8, rest = bits % 8;
    if (std::memcmp(a, b, static_cast<std::size_t>(whole)) != 0)
        return false;
    if (rest == 0)
        return true;
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

} // namespace

bool Network::valid(std::string_view text) {
    return parse_network(text).has_value();
}

Network::Network(std::string_view text) {
    if (auto n = parse_network(text)) {
        std::memcpy(bytes_, n->first.bytes, sizeof bytes_);
        family_ = n->first.family;
        prefix_ = n->second;
    }
}

bool Network::contains(std::string_view address) const {
    auto ip = parse_ip(address);
    return family_ != 0 && ip && ip->family == family_ && same_prefix(ip->bytes, bytes_, prefix_);
}

std::string client_address(std::string_view peer,
                           const std::vector<std::string_view>& forwarded_for,
                           const std::vector<Network>& trusted_proxies) {
    auto trusted = [&](std::string_view a) {
        return std::any_of(trusted_proxies.begin(), trusted_proxies.end(),
                           [&](const Network& n) { return n.contains(a); });
    };
    auto peer_ip = parse_ip(peer);
    std::string current = peer_ip ? show(*peer_ip) : std::string(peer);
    if (!peer_ip || !trusted(current))
        return current;
    std::vector<std::string_view> hops;
    for (auto value : forwarded_for)
        while (!value.empty()) {
            auto comma = value.find(',');
            hops.push_back(trim(value.substr(0, comma)));
            if (comma == std::string_view::npos)
                break;
            value.remove_prefix(comma + 1);
        }
    for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
        auto ip = parse_ip(*it);
        if (!ip)
            break; // garbage from the client's side: the last good hop is all we know
        current = show(*ip);
        if (!trusted(current))
            break;
    }
    return current;
}

std::string client_key(std::string_view address) {
    auto ip = parse_ip(address);
    if (!ip)
        return std::string(address);
    if (ip->family == 4)
        return show(*ip);
    std::memset(ip->bytes + 8, 0, 8);
    return show(*ip) + "/64";
}

LoginThrottle::Bucket& LoginThrottle::bucket(const std::string& key, int capacity,
                                             std::int64_t now) {
    auto [it, fresh] = buckets_.try_emplace(key);
    Bucket& b = it->second;
    if (fresh) {
        b.tokens = capacity;
    } else {
        b.tokens = refilled(b.tokens, b.at, now, capacity, limits_.window);
    }
    b.at = std::max(b.at, now);
    return b;
}

std::int64_t LoginThrottle::wait(const BucketLevels& l) const {
    auto one = [&](double tokens, int capacity) -> std::int64_t {
        if (tokens >= 1)
            return 0;
        return std::max<std::int64_t>(
            1, static_cast<std::int64_t>(std::ceil((1 - tokens) / rate(capacity))));
    };
    return std::max(one(l.pair, limits_.per_pair), one(l.client, limits_.per_client));
}

LoginThrottle::Lockout LoginThrottle::lockout(const BucketLevels& l) {
    // Spending happened in begin(); a failure that leaves a bucket below one token starts a
    // lockout. Attempts are refused while it lasts, so only the attempts already under way when
    // it started can report it again.
    if (l.client < 1)
        return Lockout::Client;
    if (l.pair < 1)
        return Lockout::Pair;
    return Lockout::None;
}

LoginThrottle::Begin LoginThrottle::begin(const std::string& client, const std::string& account,
                                          std::int64_t now, ThrottleBuckets* shared) {
    if (shared) {
        if (auto t = shared->take(client, account, limits_); t)
            return {t->taken ? 0 : wait(t->levels)};
    }
    std::lock_guard lock(mu_);
    trim(now);
    Bucket& pair = bucket(pair_key(client, account), limits_.per_pair, now);
    Bucket& all = bucket(client_bucket_key(client), limits_.per_client, now);
    if (const auto w = wait({pair.tokens, all.tokens}); w > 0)
        return {w};
    pair.tokens -= 1; // reserved: a concurrent attempt sees it spent
    all.tokens -= 1;
    return {};
}

LoginThrottle::Lockout LoginThrottle::failed(const std::string& client, const std::string& account,
                                             std::int64_t now, ThrottleBuckets* shared) {
    if (shared) {
        if (auto l = shared->levels(client, account, limits_); l)
            return lockout(*l);
    }
    std::lock_guard lock(mu_);
    const Bucket& pair = bucket(pair_key(client, account), limits_.per_pair, now);
    const Bucket& all = bucket(client_bucket_key(client), limits_.per_client, now);
    return lockout({pair.tokens, all.tokens});
}

void LoginThrottle::succeeded(const std::string& client, const std::string& account,
                              std::int64_t now, ThrottleBuckets* shared) {
    if (shared && shared->give_back(client, account, limits_))
        return;
    std::lock_guard lock(mu_);
    buckets_.erase(pair_key(client, account));
    Bucket& all = bucket(client_bucket_key(client), limits_.per_client, now);
    all.tokens = std::min<double>(limits_.per_client, all.tokens + 1);
}

std::size_t LoginThrottle::size() const {
    std::lock_guard lock(mu_);
    return buckets_.size();
}

// Full buckets are the same as none: drop them when the map grows. Under a spray from more
// distinct clients than that, the oldest half goes (their owners were throttled long ago).
void LoginThrottle::trim(std::int64_t now) {
    if (buckets_.size() < kMaxBuckets)
        return;
    std::erase_if(buckets_, [&](const auto& kv) {
        const int capacity = kv.first.starts_with("p:") ? limits_.per_pair : limits_.per_client;
        const double t =
            kv.second.tokens + static_cast<double>(now - kv.second.at) * rate(capacity);
        return t >= capacity;
    });
    if (buckets_.size() < kMaxBuckets / 2)
        return;
    std::vector<std::int64_t> ages;
    ages.reserve(buckets_.size());
    for (const auto& kv : buckets_)
        ages.push_back(kv.second.at);
    auto mid = ages.begin() + static_cast<std::ptrdiff_t>(ages.size() / 2);
    std::nth_element(ages.begin(), mid, ages.end());
    const auto cutoff = *mid;
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.at <= cutoff; });
}

} // namespace crm::http
