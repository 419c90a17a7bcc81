#include "crm/pg/pipeline.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>

#include "crm/pg/errors.hpp"
#include "native.hpp"

namespace crm::pg {

namespace {

// Waits until the socket can be read (or written, with `want_write`) and reads what arrived into
// libpq's buffer. Reading while waiting to write is what keeps a long pipeline from deadlocking:
// the server stops reading our statements once its answers fill the socket, and answers only
// drain if we read them.
Result<void> wait_socket(PGconn* c, bool want_write, std::string_view url) {
    pollfd p{};
    p.fd = PQsocket(c);
    p.events = static_cast<short>(POLLIN | (want_write ? POLLOUT : 0));
    if (p.fd < 0)
        return std::unexpected(detail::connection_error(c, "pipeline", url));
    for (;;) {
        // No timeout here, as in PQexec: a stalled server is noticed by TCP keepalives or ended by
        // the server's statement_timeout, both of which surface as an error below.
        const int n = ::poll(&p, 1, -1);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return fail("pg.connection",
                        fmt::format("pipeline on {}: poll: {}", url, std::strerror(errno)),
                        ErrorScope::Fatal, Retry::Backoff);
    }
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(c) == 0)
        return std::unexpected(detail::connection_error(c, "pipeline", url));
    return {};
}

// Sends all of libpq's output buffer (non-blocking mode: PQflush returns 1 while some is left).
Result<void> flush_all(PGconn* c, std::string_view url) {
    for (;;) {
        const int r = PQflush(c);
        if (r == 0)
            return {};
        if (r < 0)
            return std::unexpected(detail::connection_error(c, "pipeline", url));
        if (auto w = wait_socket(c, true, url); !w)
            return w;
    }
}

} // namespace

Result<Pipeline> Pipeline::enter(Connection& c) {
    PGconn* conn = c.native();
    if (!conn || PQenterPipelineMode(conn) != 1)
        return std::unexpected(detail::connection_error(conn, "entering pipeline mode", c.url()));
    // Non-blocking, so that a full socket makes PQflush return instead of waiting for a server
    // that is itself waiting for us to read (libpq manual, "Interaction with non-blocking mode").
    if (PQsetnonblocking(conn, 1) != 0) {
        (void)PQexitPipelineMode(conn);
        return std::unexpected(detail::connection_error(conn, "entering pipeline mode", c.url()));
    }
    Pipeline p(c);
    // Statements waiting on the connection go first (their answers are read, not returned).
    for (auto& d : c.take_deferred())
        if (auto sent = p.send(d.sql, d.params, true, std::move(d.if_no_row)); !sent)
            return std::unexpected(sent.error());
    return p;
}

Pipeline::Pipeline(Pipeline&& o) noexcept
    : c_(std::exchange(o.c_, nullptr)), expected_(std::move(o.expected_)),
      statements_(std::exchange(o.statements_, 0)), failed_(o.failed_) {
    o.expected_.clear();
}

Pipeline::~Pipeline() {
    if (!c_)
        return;
    PGconn* conn = c_->native();
    if (!expected_.empty() && c_->ok())
        (void)sync(); // reads and drops them, so that pipeline mode can be left
    (void)PQexitPipelineMode(conn);
    (void)PQsetnonblocking(conn, 0);
}

Result<void> Pipeline::add(std::string_view sql, std::span<const Param> params) {
    if (auto sent = send(sql, params, false); !sent)
        return sent;
    ++statements_;
    return {};
}

Result<void> Pipeline::send(std::string_view sql, std::span<const Param> params, bool deferred,
                            std::optional<Error> if_no_row) {
    std::string what = detail::statement_label(sql);
    if (!c_)
        return fail("pg.connection", what + ": no pipeline (moved from)", ErrorScope::Fatal,
                    Retry::Backoff);
    PGconn* conn = c_->native();
    const std::string text(sql);
    const detail::ParamArrays a(params);
    if (auto bad = a.check(what); !bad)
        return std::unexpected(bad.error());
    auto prepared = c_->prepared_name(sql, a.types);
    if (!prepared) {
        if (PQsendQueryParams(conn, text.c_str(), a.count(), a.types.data(), a.values.data(),
                              a.lengths.data(), a.formats.data(), 0) != 1)
            return std::unexpected(detail::connection_error(conn, what, c_->url()));
    } else {
        if (prepared->fresh) {
            if (PQsendPrepare(conn, prepared->name.c_str(), text.c_str(), a.count(),
                              a.types.data()) != 1) {
                c_->forget_prepared(prepared->key);
                return std::unexpected(detail::connection_error(conn, what, c_->url()));
            }
            expected_.push_back({what, prepared->key, false, std::nullopt});
        }
        if (PQsendQueryPrepared(conn, prepared->name.c_str(), a.count(), a.values.data(),
                                a.lengths.data(), a.formats.data(), 0) != 1)
            return std::unexpected(detail::connection_error(conn, what, c_->url()));
    }
    // libpq sends its buffer by itself in 8 KB chunks as it fills (so the server starts on the
    // first statements while we add the rest); the remainder goes with the sync.
    expected_.push_back({std::move(what), std::nullopt, deferred, std::move(if_no_row)});
    return {};
}

Result<std::vector<ResultSet>> Pipeline::sync() {
    if (!c_)
        return fail("pg.connection", "pipeline: moved from", ErrorScope::Fatal, Retry::Backoff);
    PGconn* conn = c_->native();
    const std::string_view url = c_->url();
    const std::size_t count = std::exchange(statements_, 0);
    std::vector<Expected> expected = std::move(expected_);
    expected_.clear();
    failed_.reset();
    if (PQpipelineSync(conn) != 1)
        return std::unexpected(detail::connection_error(conn, "pipeline sync", url));
    if (auto f = flush_all(conn, url); !f)
        return std::unexpected(f.error());

    std::vector<ResultSet> results;
    results.reserve(count);
    std::optional<Error> first_error;
    std::size_t index = 0; // of the statement whose result comes next
    std::size_t answer = 0; // of the entry of `expected` whose answer comes next
    for (;;) {
        if (PQstatus(conn) != CONNECTION_OK)
            return std::unexpected(detail::connection_error(conn, "pipeline", url));
        if (PQisBusy(conn) == 1) {
            if (auto w = wait_socket(conn, false, url); !w)
                return std::unexpected(w.error());
            continue;
        }
        PGresult* r = PQgetResult(conn);
        if (!r)
            continue; // the end of one statement's results; the next statement's follow
        const ExecStatusType status = PQresultStatus(r);
        if (status == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        const Expected* e = answer < expected.size() ? &expected[answer] : nullptr;
        ++answer;
        if (e && e->deferred) {
            if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
                status != PGRES_PIPELINE_ABORTED && !first_error) {
                failed_ = index;
                first_error = detail::result_error(
                    conn, r, fmt::format("{}, sent ahead of the pipeline's statements", e->what),
                    url);
            } else if (status == PGRES_TUPLES_OK && PQntuples(r) == 0 && e->if_no_row &&
                       !first_error) {
                failed_ = index;
                first_error = *e->if_no_row;
            }
            PQclear(r);
            continue;
        }
        if (e && e->prepared_key) {
            // A preparation: kept when it succeeded; else the statement is prepared again the
            // next time (its own run, next, fails or is skipped).
            if (status != PGRES_COMMAND_OK) {
                c_->forget_prepared(*e->prepared_key);
                if (status != PGRES_PIPELINE_ABORTED && !first_error) {
                    failed_ = index;
                    first_error = detail::result_error(
                        conn, r,
                        fmt::format("pipeline statement {} (from 0) of {} ({}), preparing it",
                                    index, count, e->what),
                        url);
                    first_error->detail += "; none of the pipeline's statements since its last "
                                           "sync is kept";
                }
            }
            PQclear(r);
            continue;
        }
        const std::string what = e ? e->what : "statement";
        if (status == PGRES_PIPELINE_ABORTED) {
            PQclear(r); // skipped by the server after an earlier failure
        } else if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            results.emplace_back(r, what);
        } else {
            if (!first_error) {
                failed_ = index;
                first_error = detail::result_error(
                    conn, r,
                    fmt::format("pipeline statement {} (from 0) of {} ({})", index, count, what),
                    url);
                first_error->detail +=
                    "; none of the pipeline's statements since its last sync is kept: the "
                    "failure rolls back the implicit transaction they ran in (or aborts the "
                    "open one)";
            }
            PQclear(r);
        }
        ++index;
    }
    if (first_error)
        return std::unexpected(std::move(*first_error));
    return results;
}

} // namespace crm::pg
