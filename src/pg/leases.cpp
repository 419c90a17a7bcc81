#include "crm/pg/leases.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace crm::pg {

namespace {

// A bigint[] parameter in its text form: {1,2,3}.
std::string id_array(std::span<const AccountId> ids) {
    return fmt::format("{{{}}}", fmt::join(ids, ","));
}

double seconds(std::chrono::seconds s) {
    return static_cast<double>(s.count());
}

} // namespace

Result<Leases> Leases::start(Connection conn, std::shared_ptr<LeaseFence> fence, WorkerInfo info,
                             std::chrono::seconds lease,
                             std::function<Result<Connection>()> reconnect) {
    if (!fence)
        return fail("lease.config", "the lease manager needs the worker's fence");
    Leases l(std::move(conn), std::move(fence), std::move(info), lease, std::move(reconnect));
    if (auto r = l.register_worker(); !r)
        return std::unexpected(r.error());
    return l;
}

Result<void> Leases::register_worker() {
    auto r = track(conn_.exec("INSERT INTO workers (host, pid, max_accounts, version) "
                              "VALUES ($1, $2::integer, $3::integer, $4) RETURNING id",
                              info_.host, info_.pid, info_.max_accounts, info_.version));
    if (!r)
        return std::unexpected(r.error());
    auto id = r->get<std::int64_t>(0, 0);
    if (!id)
        return std::unexpected(id.error());
    worker_ = *id;
    fence_->set_worker(worker_);
    return {};
}

Result<std::vector<AccountId>> Leases::renew() {
    // The server dropped the connection (a restart): a new one, then on as usual. The leases
    // lasted on the server meanwhile, or expired and are reported lost below.
    if (!conn_.ok() && reconnect_) {
        auto c = track(reconnect_());
        if (!c)
            return std::unexpected(c.error());
        conn_ = std::move(*c);
    }
    const auto before = fence_->held();
    std::vector<AccountId> lost;
    std::map<AccountId, std::int64_t> kept;
    bool reaped = false;
    auto done = in_transaction(conn_, [&]() -> Result<void> {
        auto beat =
            conn_.exec("UPDATE workers SET heartbeat_at = now() WHERE id = $1::bigint", worker_);
        if (!beat)
            return std::unexpected(beat.error());
        if (beat->affected() == 0) {
            reaped = true;
            return {};
        }
        auto r = conn_.exec("UPDATE account_leases SET expires_at = now() + "
                            "make_interval(secs => $2::double precision) "
                            "WHERE worker_id = $1::bigint AND expires_at > now() "
                            "RETURNING account_id, epoch",
                            worker_, seconds(lease_));
        if (!r)
            return std::unexpected(r.error());
        for (int i = 0; i < r->rows(); ++i) {
            auto a = r->get<std::int64_t>(i, 0);
            auto e = r->get<std::int64_t>(i, 1);
            if (!a || !e)
                return std::unexpected(!a ? a.error() : e.error());
            kept[*a] = *e;
        }
        return {};
    });
    if (!track(std::move(done)))
        return std::unexpected(done.error());
    if (reaped) {
        // Paused for so long that another worker deleted our row: every lease went with it.
        for (const auto& [account, epoch] : before)
            lost.push_back(account);
        fence_->drop_all();
        if (auto r = register_worker(); !r)
            return std::unexpected(r.error());
        return lost;
    }
    for (const auto& [account, epoch] : before) {
        auto it = kept.find(account);
        if (it == kept.end() || it->second != epoch) {
            fence_->drop(account);
            lost.push_back(account);
        }
    }
    return lost;
}

Result<std::vector<HeldLease>> Leases::claim(std::span<const AccountId> wanted, std::size_t limit) {
    std::vector<HeldLease> out;
    if (wanted.empty() || limit == 0)
        return out;
    // One statement: the candidates are locked (others skip them, so two workers claiming at
    // once take different accounts) and taken; the trigger computes the new epoch.
    auto r = track(
        conn_.exec("WITH free AS (SELECT account_id FROM account_leases "
                   "  WHERE account_id = ANY($2::bigint[]) "
                   "    AND (worker_id IS NULL OR expires_at IS NULL OR expires_at <= now()) "
                   "  ORDER BY account_id LIMIT $3::bigint FOR UPDATE SKIP LOCKED) "
                   "UPDATE account_leases l SET worker_id = $1::bigint, "
                   "  expires_at = now() + make_interval(secs => $4::double precision) "
                   "FROM free WHERE l.account_id = free.account_id "
                   "RETURNING l.account_id, l.epoch",
                   worker_, id_array(wanted), static_cast<std::int64_t>(limit), seconds(lease_)));
    if (!r)
        return std::unexpected(r.error());
    for (int i = 0; i < r->rows(); ++i) {
        auto a = r->get<std::int64_t>(i, 0);
        auto e = r->get<std::int64_t>(i, 1);
        if (!a || !e)
            return std::unexpected(!a ? a.error() : e.error());
        fence_->hold(*a, *e);
        out.emplace_back(*a, *e);
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<void> Leases::release(std::span<const AccountId> accounts) {
    if (accounts.empty())
        return {};
    for (auto a : accounts)
        fence_->drop(a);
    auto r = track(conn_.exec("UPDATE account_leases SET worker_id = NULL, expires_at = NULL "
                              "WHERE worker_id = $1::bigint AND account_id = ANY($2::bigint[])",
                              worker_, id_array(accounts)));
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<void> Leases::leave() {
    fence_->drop_all();
    auto r = track(in_transaction(conn_, [&]() -> Result<void> {
        auto rel = conn_.exec("UPDATE account_leases SET worker_id = NULL, expires_at = NULL "
                              "WHERE worker_id = $1::bigint",
                              worker_);
        if (!rel)
            return std::unexpected(rel.error());
        auto del = conn_.exec("DELETE FROM workers WHERE id = $1::bigint", worker_);
        if (!del)
            return std::unexpected(del.error());
        return {};
    }));
    return r;
}

Result<std::int64_t> Leases::reap_dead() {
    auto r = track(conn_.exec("DELETE FROM workers WHERE id <> $1::bigint AND heartbeat_at < "
                              "now() - make_interval(secs => $2::double precision)",
                              worker_, 3 * seconds(lease_)));
    if (!r)
        return std::unexpected(r.error());
    return r->affected();
}

Result<std::int64_t> Leases::live_workers() {
    auto r = track(conn_.exec("SELECT count(*) FROM workers WHERE heartbeat_at > "
                              "now() - make_interval(secs => $1::double precision)",
                              seconds(lease_)));
    if (!r)
        return std::unexpected(r.error());
    auto n = r->get<std::int64_t>(0, 0);
    if (!n)
        return std::unexpected(n.error());
    return std::max<std::int64_t>(*n, 1);
}

std::size_t Leases::fair_share(std::size_t accounts, std::int64_t workers,
                               std::optional<int> max_accounts) noexcept {
    const auto w = static_cast<std::size_t>(std::max<std::int64_t>(workers, 1));
    std::size_t share = (accounts + w - 1) / w;
    if (max_accounts)
        share = std::min(share, static_cast<std::size_t>(*max_accounts));
    return share;
}

Result<std::vector<WorkerRow>> list_workers(Connection& c) {
    auto w = c.exec("SELECT id, host, pid, version, max_accounts, "
                    "extract(epoch FROM started_at)::bigint, "
                    "extract(epoch FROM now() - heartbeat_at)::bigint FROM workers ORDER BY id");
    if (!w)
        return std::unexpected(w.error());
    std::vector<WorkerRow> out;
    std::map<std::int64_t, std::size_t> at;
    for (int i = 0; i < w->rows(); ++i) {
        WorkerRow row;
        auto id = w->get<std::int64_t>(i, 0);
        auto host = w->get<std::string>(i, 1);
        auto pid = w->get<std::int32_t>(i, 2);
        auto version = w->get<std::string>(i, 3);
        auto max = w->get<std::optional<std::int32_t>>(i, 4);
        auto started = w->get<std::int64_t>(i, 5);
        auto age = w->get<std::int64_t>(i, 6);
        if (!id || !host || !pid || !version || !max || !started || !age)
            return fail("pg.type", "workers: a column could not be read");
        row.id = *id;
        row.host = *host;
        row.pid = *pid;
        row.version = *version;
        if (*max)
            row.max_accounts = **max;
        row.started_at = *started;
        row.heartbeat_age = *age;
        at[row.id] = out.size();
        out.push_back(std::move(row));
    }
    auto a = c.exec("SELECT l.worker_id, a.id, a.name, l.epoch, "
                    "extract(epoch FROM l.expires_at - now())::bigint, "
                    "extract(epoch FROM now())::bigint - a.last_success_at "
                    "FROM accounts a JOIN account_leases l ON l.account_id = a.id "
                    "ORDER BY a.name");
    if (!a)
        return std::unexpected(a.error());
    WorkerRow unheld; // id 0
    for (int i = 0; i < a->rows(); ++i) {
        auto worker = a->get<std::optional<std::int64_t>>(i, 0);
        auto id = a->get<std::int64_t>(i, 1);
        auto name = a->get<std::string>(i, 2);
        auto epoch = a->get<std::int64_t>(i, 3);
        auto expires = a->get<std::optional<std::int64_t>>(i, 4);
        auto lag = a->get<std::optional<std::int64_t>>(i, 5);
        if (!worker || !id || !name || !epoch || !expires || !lag)
            return fail("pg.type", "account_leases: a column could not be read");
        WorkerRow::Account acc{*id, *name, *epoch, expires->value_or(0), *lag};
        auto it = *worker ? at.find(**worker) : at.end();
        if (it == at.end())
            unheld.accounts.push_back(std::move(acc));
        else
            out[it->second].accounts.push_back(std::move(acc));
    }
    if (!unheld.accounts.empty())
        out.push_back(std::move(unheld));
    return out;
}

} // namespace crm::pg
