#pragma once
// The login throttle's token buckets as a port (issue 17 item 5): behind a load balancer any
// worker serves any login, so the buckets must be shared, or the limits multiply by the number of
// workers. PostgreSQL keeps them in login_throttle (pg::PgThrottle); with SQLite (one daemon)
// http's LoginThrottle keeps them in its memory and no store implements this.
//
// Two buckets per attempt: the (client, account) pair's and the client's over all accounts.
// Each holds up to its limit of tokens and refills at limit/window per second; a bucket never
// seen is full. `client` is the throttle key of the client address (an IPv4 address or an IPv6
// /64), `account` the e-mail tried.

#include <algorithm>
#include <cstdint>
#include <string>

#include "crm/core/result.hpp"

namespace crm {

struct ThrottleLimits {
    int per_pair = 5;    // failures of one client on one account, refilled over `window`
    int per_client = 20; // failures of one client over all accounts (sprays of made-up e-mails)
    std::int64_t window = 15 * 60;
};

// Both buckets' tokens, refilled up to the store's clock.
struct BucketLevels {
    double pair = 0, client = 0;
};

// `tokens` held at `at`, refilled at capacity/window per second up to `now`, at most capacity.
[[nodiscard]] inline double refilled(double tokens, std::int64_t at, std::int64_t now, int capacity,
                                     std::int64_t window) {
    if (now <= at)
        return tokens;
    const double rate = static_cast<double>(capacity) / static_cast<double>(window);
    return std::min<double>(capacity, tokens + static_cast<double>(now - at) * rate);
}

class ThrottleBuckets {
  public:
    virtual ~ThrottleBuckets() = default;

    struct Take {
        bool taken = false;  // false: a bucket held less than one token, nothing was taken
        BucketLevels levels; // before taking
    };
    // Refills both buckets of (client, account) and, when each holds at least one token, takes
    // one from each: atomically, whoever else takes from them at the same time.
    virtual Result<Take> take(const std::string& client, const std::string& account,
                              const ThrottleLimits& limits) = 0;
    // Both buckets now, unchanged.
    virtual Result<BucketLevels> levels(const std::string& client, const std::string& account,
                                        const ThrottleLimits& limits) = 0;
    // The attempt succeeded (or failed through no fault of the client): the pair's bucket is
    // forgotten (full again) and the token taken from the client's goes back.
    virtual Result<void> give_back(const std::string& client, const std::string& account,
                                   const ThrottleLimits& limits) = 0;
};

} // namespace crm
