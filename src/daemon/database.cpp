#include "database.hpp"

#include <unistd.h>

#include <climits>

#include <fmt/format.h>

#include "crm/pg/backend.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/url.hpp"
#include "crm/runtime/secrets.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"

namespace crm::daemon {

namespace {

Result<DaemonDatabase> open_sqlite(const settings::DatabaseConfig& cfg) {
    DaemonDatabase out;
    out.display = cfg.path;
    // One syncing daemon per database: a second crm-maild on it would sync the same accounts
    // and work the same outbox (a reply could go out twice). Taken before the database is
    // opened, before any account is touched and before READY=1; held until the daemon is done
    // (after the last batch is committed), and released by the kernel however the process ends.
    auto lock = store::DaemonLock::acquire(cfg.path, "crm-maild");
    if (!lock)
        return std::unexpected(lock.error());
    out.lock.emplace(std::move(*lock));
    // Two connections: the event loop's and the writer's.
    store::OpenOptions loop_opts;
    loop_opts.autocheckpoint = false; // the checkpointer thread (below) does it
    auto db = store::Database::open(cfg.path, loop_opts);
    if (!db)
        return std::unexpected(db.error());
    if (auto m = (*db)->migrate(); !m)
        return std::unexpected(m.error());
    auto writer = store::Database::open(cfg.path);
    if (!writer)
        return std::unexpected(writer.error());
    // The writer commits every sync batch; copying the WAL into the database file happens on a
    // thread of its own, every 4000 pages (32 MiB, a few batches: each checkpoint costs two
    // fsyncs; an initial sync of 20,000 messages took 6.2 s instead of 6.6 s with SQLite's
    // 1000). The log then stays under ~130 MiB (the writer waits past 4x that). The thread also
    // runs every 30 s for the commits of the other connections, which never checkpoint.
    if (auto c = (*writer)->checkpoint_in_background(4000); !c)
        return std::unexpected(c.error());
    out.loop = std::make_unique<store::SqliteBackend>(std::move(*db));
    out.writer = std::make_unique<store::SqliteBackend>(std::move(*writer));
    store::OpenOptions api;
    api.create = false;
    // A person's write (link, read mark, reply) waits for a sync batch's commit rather than
    // failing: a longer busy timeout than the daemon's own connection.
    api.busy_timeout_ms = 15000;
    // The checkpointer thread copies the WAL; done inline after a request's commit it could copy
    // a sync's whole backlog (up to ~130 MiB) inside that request.
    api.autocheckpoint = false;
    out.api = store::backend_opener(cfg.path, api);
    out.plain = store::backend_opener(cfg.path);
    return out;
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0)
        return "unknown";
    return buf;
}

Result<DaemonDatabase> open_postgresql(const settings::DatabaseConfig& cfg,
                                       std::optional<int> max_accounts) {
    DaemonDatabase out;
    out.display = pg::redact_url(cfg.url);
    pg::ConnectOptions opts;
    opts.application_name = "crm-maild";
    if (cfg.password) {
        auto pw = runtime::resolve_secret(*cfg.password);
        if (!pw)
            return std::unexpected(pw.error());
        out.secret = *pw;
        opts.password = std::move(*pw);
    }
    // The worker's own connections (sync, leases): a worker paused in the middle of a
    // transaction (SIGSTOP, a VM frozen) must not keep its locks, nor the lease row its fence
    // holds FOR SHARE, for as long as it is paused; nor wait on a lock for longer than half a
    // lease. The server ends such a transaction (the worker reconnects and its account goes to
    // whoever holds the lease by then); a lock wait past it fails as pg.timeout and is retried.
    const int half_lease_ms = cfg.lease_seconds * 500;
    auto connector = [url = cfg.url, opts, half_lease_ms](bool generic_plans) {
        return [url, opts, half_lease_ms, generic_plans]() -> Result<pg::Connection> {
            auto c = pg::Connection::connect(url, opts);
            if (!c)
                return c;
            std::string settings =
                fmt::format("SET idle_in_transaction_session_timeout = {0}; SET lock_timeout = {0}",
                            half_lease_ms);
            // The sync writer runs the same lookups by key for every message: one generic plan
            // per prepared statement is right for all of them, and planning each run anew for
            // its parameters (the server's default for the first runs, and for good when the
            // generic plan looks dearer) cost the server about as much as running them
            // (pg_stat_statements over a 5000-message sync: 3.0 s of planning, 4.6 s of running).
            if (generic_plans)
                settings += "; SET plan_cache_mode = force_generic_plan";
            if (auto r = c->execute_script(settings); !r)
                return std::unexpected(r.error());
            return c;
        };
    };
    const pg::PgBackend::Connector connect = connector(false);
    const pg::PgBackend::Connector connect_writer = connector(true);
    {
        // Workers starting together take turns under the advisory lock; then the schema must be
        // exactly this binary's (not newer, not edited). On a connection without the timeouts
        // below: a migration may wait for locks.
        auto admin = pg::Connection::connect(cfg.url, opts);
        if (!admin)
            return std::unexpected(admin.error());
        if (auto m = pg::migrate(*admin); !m)
            return std::unexpected(m.error());
        if (auto r = pg::require_current(*admin); !r)
            return std::unexpected(r.error());
    }
    auto loop = connect();
    if (!loop)
        return std::unexpected(loop.error());
    auto writer = connect_writer();
    if (!writer)
        return std::unexpected(writer.error());
    auto lease_conn = connect();
    if (!lease_conn)
        return std::unexpected(lease_conn.error());
    auto fence = std::make_shared<pg::LeaseFence>();
    auto leases = pg::Leases::start(
        std::move(*lease_conn), fence,
        pg::WorkerInfo{host_name(), static_cast<int>(::getpid()), max_accounts, CRM_VERSION},
        std::chrono::seconds(cfg.lease_seconds), connect);
    if (!leases)
        return std::unexpected(leases.error());
    out.leases = std::make_unique<pg::Leases>(std::move(*leases));
    out.loop = std::make_unique<pg::PgBackend>(std::move(*loop), fence, connect);
    out.writer = std::make_unique<pg::PgBackend>(std::move(*writer), fence, connect_writer);
    out.api = pg::PgBackend::opener(cfg.url, opts);
    out.plain = out.api;
    return out;
}

} // namespace

Result<DaemonDatabase> open_daemon_database(const settings::DatabaseConfig& cfg,
                                            std::optional<int> max_accounts) {
    if (cfg.postgresql())
        return open_postgresql(cfg, max_accounts);
    return open_sqlite(cfg);
}

} // namespace crm::daemon
