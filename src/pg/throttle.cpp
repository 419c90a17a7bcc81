// The login throttle's shared buckets (see throttle.hpp), with the arithmetic of http's
// LoginThrottle (core's refilled()).
#include "crm/pg/throttle.hpp"

#include "web_support.hpp"

namespace crm::pg {

using detail::Cells;
using detail::run;

namespace {

// The database's clock in Unix seconds, as login_throttle.updated_at keeps it.
constexpr const char* kNow = "floor(extract(epoch FROM now()))::bigint";

Result<void> check_keys(const std::string& client, const std::string& account,
                        std::string_view what) {
    if (auto ok = detail::text_ok(client, "the client", what); !ok)
        return ok;
    return detail::text_ok(account, "the account", what);
}

// Both rows (either may be missing: full) and the database's clock, refilled.
Result<BucketLevels> read_levels(Connection& c, std::string_view what, const std::string& client,
                                 const std::string& account, const ThrottleLimits& limits,
                                 bool lock) {
    auto r = run(c, what,
                 fmt::format("SELECT kind, tokens, updated_at, {} FROM login_throttle WHERE "
                             "client = $1 AND ((kind = 'pair' AND account = $2) OR (kind = "
                             "'client' AND account = '')) ORDER BY kind{}",
                             kNow, lock ? " FOR UPDATE" : ""),
                 client, account);
    if (!r)
        return std::unexpected(r.error());
    BucketLevels l{static_cast<double>(limits.per_pair), static_cast<double>(limits.per_client)};
    for (int i = 0; i < r->rows(); ++i) {
        Cells cells(*r, i);
        const auto kind = cells.get<std::string>(0);
        const auto tokens = cells.get<double>(1);
        const auto at = cells.get<std::int64_t>(2);
        const auto now = cells.get<std::int64_t>(3);
        if (cells.error())
            return std::unexpected(*cells.error());
        if (kind == "pair")
            l.pair = refilled(tokens, at, now, limits.per_pair, limits.window);
        else
            l.client = refilled(tokens, at, now, limits.per_client, limits.window);
    }
    return l;
}

} // namespace

Result<ThrottleBuckets::Take> PgThrottle::take(const std::string& client,
                                               const std::string& account,
                                               const ThrottleLimits& limits) {
    constexpr std::string_view what = "taking a login token";
    if (auto ok = check_keys(client, account, what); !ok)
        return std::unexpected(ok.error());
    const bool sweep = takes_++ % 64 == 0;
    return detail::in_some_transaction(c_, [&]() -> Result<Take> {
        if (sweep) {
            auto d = run(c_, what,
                         fmt::format("DELETE FROM login_throttle WHERE updated_at < {} - $1", kNow),
                         limits.window);
            if (!d)
                return std::unexpected(d.error());
        }
        // The rows first (full buckets), so that both can be locked: SQLite's in-memory map has
        // a mutex, this has the rows' locks until the transaction ends.
        auto ins = run(c_, what,
                       fmt::format("INSERT INTO login_throttle (kind, client, account, tokens, "
                                   "updated_at) VALUES ('client', $1, '', $3, {0}), ('pair', $1, "
                                   "$2, $4, {0}) ON CONFLICT (kind, client, account) DO NOTHING",
                                   kNow),
                       client, account, static_cast<double>(limits.per_client),
                       static_cast<double>(limits.per_pair));
        if (!ins)
            return std::unexpected(ins.error());
        auto l = read_levels(c_, what, client, account, limits, true);
        if (!l)
            return std::unexpected(l.error());
        Take t{l->pair >= 1 && l->client >= 1, *l};
        if (!t.taken)
            return t; // refilling without taking changes nothing later reads
        auto u = run(c_, what,
                     fmt::format("UPDATE login_throttle SET tokens = CASE kind WHEN 'pair' THEN "
                                 "$3::float8 ELSE $4::float8 END, updated_at = greatest("
                                 "updated_at, {}) WHERE client = $1 AND ((kind = 'pair' AND "
                                 "account = $2) OR (kind = 'client' AND account = ''))",
                                 kNow),
                     client, account, l->pair - 1, l->client - 1);
        if (!u)
            return std::unexpected(u.error());
        return t;
    });
}

Result<BucketLevels> PgThrottle::levels(const std::string& client, const std::string& account,
                                        const ThrottleLimits& limits) {
    constexpr std::string_view what = "reading login tokens";
    if (auto ok = check_keys(client, account, what); !ok)
        return std::unexpected(ok.error());
    return read_levels(c_, what, client, account, limits, false);
}

Result<void> PgThrottle::give_back(const std::string& client, const std::string& account,
                                   const ThrottleLimits& limits) {
    constexpr std::string_view what = "giving a login token back";
    if (auto ok = check_keys(client, account, what); !ok)
        return ok;
    return detail::in_some_transaction(c_, [&]() -> Result<void> {
        auto d = run(c_, what,
                     "DELETE FROM login_throttle WHERE kind = 'pair' AND client = $1 AND account "
                     "= $2",
                     client, account);
        if (!d)
            return std::unexpected(d.error());
        // Refilled and one back, at most full, in one statement (the row's lock): a missing row
        // is a full bucket already.
        auto u =
            run(c_, what,
                fmt::format("UPDATE login_throttle SET tokens = least($2::float8, tokens + "
                            "greatest(0, {0} - updated_at) * $2::float8 / $3::float8 + 1), "
                            "updated_at = greatest(updated_at, {0}) WHERE kind = 'client' "
                            "AND client = $1 AND account = ''",
                            kNow),
                client, static_cast<double>(limits.per_client), static_cast<double>(limits.window));
        if (!u)
            return std::unexpected(u.error());
        return {};
    });
}

} // namespace crm::pg
