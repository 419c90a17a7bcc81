#pragma once
// The login throttle: token buckets per (client, account) and per client, and the client
// address of a request behind trusted reverse proxies. Internal to the http module.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "crm/core/throttle.hpp"

namespace crm::http {

// An address or CIDR block ("10.0.0.0/8", "::1", "fd00::/8"); parse() is std::nullopt-free:
// invalid text gives an empty (matching nothing) network, so validate with valid() first.
class Network {
  public:
    [[nodiscard]] static bool valid(std::string_view text);
    explicit Network(std::string_view text);
    [[nodiscard]] bool contains(std::string_view address) const;

  private:
    unsigned char bytes_[16]{};
    int family_ = 0; // 4, 6, or 0 when invalid
    int prefix_ = 0;
};

// The address the throttle and the session record name a request by: the peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For entry that is not a trusted proxy
// (entries left of it are the client's own claims and can be forged). IPv4-mapped IPv6 is shown
// as IPv4. Malformed entries stop the walk at the last good hop.
[[nodiscard]] std::string client_address(std::string_view peer,
                                         const std::vector<std::string_view>& forwarded_for,
                                         const std::vector<Network>& trusted_proxies);

// The throttle key of a client address: IPv6 addresses by their /64 (one host's usual share).
[[nodiscard]] std::string client_key(std::string_view address);

// The limits (per pair, per client, window) are core's: the shared buckets take them too.
using ThrottleLimits = crm::ThrottleLimits;

// Token buckets: each failed attempt spends a token, buckets refill at limit/window per second.
// begin() reserves the token before the password is checked (so concurrent attempts cannot all
// pass a check made before any failure is counted); succeeded() gives it back and forgets the
// pair's failures. A client that has not been failing has full buckets, so a correct password
// from it is never refused, whatever others do to the same account.
//
// Shared buckets: given a ThrottleBuckets (the database's, when several workers serve logins
// behind a load balancer), each call works on those instead, with the same rules, so the limits
// hold across workers. Should the database fail, that call falls back to this process's buckets:
// the throttle never refuses a login by itself, and never lets one through unthrottled.
class LoginThrottle {
  public:
    explicit LoginThrottle(ThrottleLimits limits) : limits_(limits) {}

    struct Begin {
        std::int64_t retry_after = 0; // > 0: refused, try again in this many seconds
    };
    enum class Lockout { None, Pair, Client };

    Begin begin(const std::string& client, const std::string& account, std::int64_t now,
                ThrottleBuckets* shared = nullptr);
    // The attempt failed: the reserved token stays spent. Says which bucket this failure emptied
    // (a lockout starts: log it once).
    Lockout failed(const std::string& client, const std::string& account, std::int64_t now,
                   ThrottleBuckets* shared = nullptr);
    void succeeded(const std::string& client, const std::string& account, std::int64_t now,
                   ThrottleBuckets* shared = nullptr);

    [[nodiscard]] std::size_t size() const;

  private:
    struct Bucket {
        double tokens = 0;
        std::int64_t at = 0;
    };
    Bucket& bucket(const std::string& key, int capacity, std::int64_t now);
    [[nodiscard]] double rate(int capacity) const {
        return static_cast<double>(capacity) / static_cast<double>(limits_.window);
    }
    void trim(std::int64_t now);
    // Seconds until both buckets hold a token again; 0 when they do.
    [[nodiscard]] std::int64_t wait(const BucketLevels& l) const;
    [[nodiscard]] static Lockout lockout(const BucketLevels& l);

    ThrottleLimits limits_;
    mutable std::mutex mu_;
    std::unordered_map<std::string, Bucket> buckets_;
};

} // namespace crm::http
