#include "crm/pg/connection.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "crm/core/hex.hpp"
#include "crm/pg/errors.hpp"
#include "crm/pg/pipeline.hpp"
#include "crm/pg/url.hpp"
#include "native.hpp"
#include "url_secrets.hpp"

namespace crm::pg {

namespace detail {

std::string statement_label(std::string_view sql) {
    std::string out;
    bool space = false;
    for (char ch : sql) {
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            space = !out.empty();
            continue;
        }
        if (out.size() >= kLabelChars)
            return out + "...";
        if (space)
            out += ' ';
        space = false;
        out += ch;
    }
    return out;
}

std::string one_line(std::string_view message) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.remove_suffix(1);
    std::string out;
    for (char ch : message) {
        if (ch == '\n')
            out += "; ";
        else
            out += ch;
    }
    return out;
}

Error result_error(PGconn* c, const PGresult* r, std::string_view what, std::string_view url) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    const char* constraint = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : nullptr;
    std::string message;
    if (primary)
        message = primary;
    else if (r && *PQresultErrorMessage(r))
        message = one_line(PQresultErrorMessage(r));
    else
        message = one_line(PQerrorMessage(c));
    if (message.empty())
        message = "no answer from the server";
    std::string detail = fmt::format("{} on {}: {}", what, url, message);
    if (constraint)
        detail += fmt::format(" (constraint {})", constraint);
    if (state)
        detail += fmt::format(" [SQLSTATE {}]", state);
    // Without a SQLSTATE on a connection that is still up, libpq refused the call itself (a
    // synchronous call in pipeline mode, too many parameters): our mistake, not the server's.
    if (!state && PQstatus(c) == CONNECTION_OK)
        return Error{"pg.query", std::move(detail), ErrorScope::Fatal, Retry::Never};
    return error_for_sqlstate(state ? state : "", std::move(detail));
}

Error connection_error(PGconn* c, std::string_view what, std::string_view url) {
    return result_error(c, nullptr, what, url);
}

Result<ResultSet> take_result(PGconn* c, PGresult* r, std::string what, std::string_view url) {
    ResultSet rs(r, std::move(what));
    switch (PQresultStatus(r)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
        return rs;
    default:
        return std::unexpected(result_error(c, r, rs.what(), url));
    }
}

ParamArrays::ParamArrays(std::span<const Param> params) {
    types.reserve(params.size());
    values.reserve(params.size());
    lengths.reserve(params.size());
    formats.reserve(params.size());
    text.reserve(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& p = params[i];
        types.push_back(p.type_oid());
        const std::string_view v = p.value();
        lengths.push_back(static_cast<int>(v.size()));
        formats.push_back(p.is_binary() ? 1 : 0);
        if (p.is_null()) {
            values.push_back(nullptr); // SQL NULL
        } else if (p.is_binary()) {
            // A zero-length value still needs a non-null pointer: null means SQL NULL.
            values.push_back(v.data() ? v.data() : "");
        } else {
            if (!nul_in && v.find('\0') != std::string_view::npos)
                nul_in = i + 1;
            text.emplace_back(v);
            values.push_back(text.back().c_str());
        }
    }
}

Result<void> ParamArrays::check(std::string_view what) const {
    if (!nul_in)
        return {};
    return fail("pg.data",
                fmt::format("{}: parameter ${} contains a NUL byte, which PostgreSQL text cannot "
                            "hold; nothing was sent",
                            what, *nul_in),
                ErrorScope::Message, Retry::Never);
}

} // namespace detail

using detail::kBoolOid;
using detail::kByteaOid;
using detail::kFloat4Oid;
using detail::kFloat8Oid;
using detail::kInt2Oid;
using detail::kInt4Oid;
using detail::kInt8Oid;
using detail::kNumericOid;

// ---- Param ---------------------------------------------------------------------------------

Param::Param(std::int64_t v, Int64Tag) noexcept : kind_(Kind::Number) {
    auto [end, ec] = std::to_chars(number_, number_ + sizeof number_, v);
    (void)ec; // 20 digits and a sign always fit
    number_len_ = static_cast<std::uint8_t>(end - number_);
}

Param::Param(double v) noexcept : kind_(Kind::Number) {
    // Shortest text that reads back as the same double; "nan" and "inf" are accepted by float8in.
    auto [end, ec] = std::to_chars(number_, number_ + sizeof number_, v);
    (void)ec; // the shortest form of a double is at most 24 characters
    number_len_ = static_cast<std::uint8_t>(end - number_);
}

Param::Param(bool v) noexcept : kind_(Kind::Number) {
    number_[0] = v ? 't' : 'f';
    number_len_ = 1;
}

Param Param::owned() const {
    if (kind_ != Kind::Borrowed)
        return *this;
    Param p{std::string(view_)};
    p.binary_ = binary_;
    return p;
}

std::string_view Param::value() const noexcept {
    switch (kind_) {
    case Kind::Null:
        return {};
    case Kind::Borrowed:
        return view_;
    case Kind::Owned:
        return owned_;
    case Kind::Number:
        return {number_, number_len_};
    }
    return {};
}

// ---- ResultSet -----------------------------------------------------------------------------

void ResultDeleter::operator()(pg_result* r) const noexcept {
    PQclear(r);
}

int ResultSet::rows() const noexcept {
    return PQntuples(r_.get());
}
int ResultSet::columns() const noexcept {
    return PQnfields(r_.get());
}

std::int64_t ResultSet::affected() const noexcept {
    const char* n = PQcmdTuples(r_.get());
    std::int64_t v = 0;
    if (n && *n)
        std::from_chars(n, n + std::char_traits<char>::length(n), v);
    return v;
}

Result<int> ResultSet::column(std::string_view name) const {
    for (int i = 0; i < columns(); ++i)
        if (name == PQfname(r_.get(), i))
            return i;
    return fail("pg.column", fmt::format("{}: no column \"{}\" in its result", what_, name),
                ErrorScope::Fatal, Retry::Never);
}

bool ResultSet::is_null(int row, int col) const noexcept {
    return PQgetisnull(r_.get(), row, col) == 1;
}

Error ResultSet::value_error(std::string code, int row, int col, std::string_view problem) const {
    const char* name = col >= 0 && col < columns() ? PQfname(r_.get(), col) : "?";
    return Error{std::move(code),
                 fmt::format("{}: row {} column {} ({}) {}", what_, row, col, name, problem),
                 ErrorScope::Fatal, Retry::Never};
}

Result<void> ResultSet::check_type(int row, int col, Want w) const {
    if (row < 0 || row >= rows() || col < 0 || col >= columns())
        return std::unexpected(value_error(
            "pg.column", row, col,
            fmt::format("is outside the result ({} rows, {} columns)", rows(), columns())));
    const Oid type = PQftype(r_.get(), col);
    bool fits = false;
    std::string_view expected;
    switch (w) {
    case Want::Int64:
        fits = type == kInt8Oid || type == kInt4Oid || type == kInt2Oid;
        expected = "int64 (int2, int4 or int8)";
        break;
    case Want::Int32:
        fits = type == kInt4Oid || type == kInt2Oid;
        expected = "int32 (int2 or int4)";
        break;
    case Want::Double:
        fits = type == kFloat8Oid || type == kFloat4Oid || type == kNumericOid;
        expected = "double (float4, float8 or numeric)";
        break;
    case Want::Bool:
        fits = type == kBoolOid;
        expected = "bool";
        break;
    case Want::Text:
        // Any type has a text form, but bytea's is its hex, not its bytes: a classic mix-up.
        fits = type != kByteaOid;
        expected = "text (bytea is read as Bytea)";
        break;
    case Want::Bytea:
        fits = type == kByteaOid;
        expected = "bytea";
        break;
    }
    if (!fits)
        return std::unexpected(value_error(
            "pg.type", row, col, fmt::format("has type oid {}, expected {}", type, expected)));
    return {};
}

Result<std::string_view> ResultSet::raw(int row, int col, Want w) const {
    if (auto ok = check_type(row, col, w); !ok)
        return std::unexpected(ok.error());
    if (is_null(row, col))
        return std::unexpected(value_error("pg.null", row, col, "is NULL"));
    return std::string_view(PQgetvalue(r_.get(), row, col),
                            static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

namespace {

template <class T>
Result<T> parse_number(const ResultSet& rs, Result<std::string_view> text, int row, int col,
                       std::string_view expected) {
    if (!text)
        return std::unexpected(text.error());
    T v{};
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc{} || end != text->data() + text->size())
        return fail("pg.type",
                    fmt::format("{}: row {} column {}: \"{}\" is not an {}", rs.what(), row, col,
                                *text, expected),
                    ErrorScope::Fatal, Retry::Never);
    return v;
}

} // namespace

Result<std::int64_t> ResultSet::as_int64(int row, int col) const {
    return parse_number<std::int64_t>(*this, raw(row, col, Want::Int64), row, col, "int64");
}

Result<std::int32_t> ResultSet::as_int32(int row, int col) const {
    return parse_number<std::int32_t>(*this, raw(row, col, Want::Int32), row, col, "int32");
}

Result<double> ResultSet::as_double(int row, int col) const {
    // float8out writes "NaN", "Infinity" and "-Infinity", which from_chars reads (any case).
    return parse_number<double>(*this, raw(row, col, Want::Double), row, col, "double");
}

Result<bool> ResultSet::as_bool(int row, int col) const {
    auto t = raw(row, col, Want::Bool);
    if (!t)
        return std::unexpected(t.error());
    return *t == "t";
}

Result<std::string> ResultSet::as_text(int row, int col) const {
    auto t = raw(row, col, Want::Text);
    if (!t)
        return std::unexpected(t.error());
    return std::string(*t);
}

Result<Bytea> ResultSet::as_bytea(int row, int col) const {
    auto t = raw(row, col, Want::Bytea);
    if (!t)
        return std::unexpected(t.error());
    // Results come in text format, where bytea is "\x" and two hex digits a byte (bytea_output =
    // hex, set on connect).
    if (!t->starts_with("\\x") || t->size() % 2 != 0)
        return std::unexpected(value_error("pg.type", row, col, "is not bytea in hex format"));
    Bytea out;
    out.bytes.resize((t->size() - 2) / 2);
    for (std::size_t i = 2, o = 0; i < t->size(); i += 2, ++o) {
        const int hi = hex_value((*t)[i]), lo = hex_value((*t)[i + 1]);
        if (hi < 0 || lo < 0)
            return std::unexpected(value_error("pg.type", row, col, "has a bad hex digit"));
        out.bytes[o] = static_cast<char>(hi * 16 + lo);
    }
    return out;
}

// ---- Connection ----------------------------------------------------------------------------

void ConnDeleter::operator()(pg_conn* c) const noexcept {
    PQfinish(c);
}

namespace {

// libpq prints NOTICEs (e.g. "relation already exists, skipping") to stderr by default; the
// daemon logs through its own logger, one line per event, so they are dropped here.
void ignore_notice(void* /*arg*/, const PGresult* /*res*/) {}

// What a failed login says about who should act: the operator (a wrong password, an unknown user
// or database, a missing pg_hba.conf entry) or time (the server is down or starting up).
bool needs_config(PGconn* c, std::string_view message) {
    return PQconnectionNeedsPassword(c) == 1 ||
           message.find("authentication failed") != std::string_view::npos ||
           message.find("no pg_hba.conf entry") != std::string_view::npos ||
           message.find("does not exist") != std::string_view::npos;
}

} // namespace

Result<Connection> Connection::connect(std::string_view url_in, const ConnectOptions& opts) {
    const std::string url(url_in);
    UrlSecrets parts = url_secrets(url);
    if (opts.password)
        parts.secrets.push_back(*opts.password);
    auto scrub = [&](std::string text) {
        for (const auto& s : parts.secrets)
            text = scrub_secret(std::move(text), s);
        return text;
    };
    // Parsed first, on its own: libpq's parse errors quote the malformed part, which may be the
    // password, and a bad URL is a configuration problem rather than an unreachable server.
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
    if (!parsed) {
        std::string why = parse_error ? detail::one_line(parse_error) : "out of memory";
        PQfreemem(parse_error);
        return fail("pg.url",
                    fmt::format("cannot read the database URL {}: {}", parts.redacted,
                                scrub(std::move(why))),
                    ErrorScope::Fatal, Retry::NeedsConfig);
    }
    PQconninfoFree(parsed);

    // Keywords before "dbname" are defaults that the URL (expanded in its place) overrides; those
    // after it override the URL.
    const std::string timeout =
        std::to_string(std::max<std::chrono::seconds::rep>(2, opts.connect_timeout.count()));
    std::vector<const char*> keys = {"connect_timeout", "application_name", "dbname",
                                     "client_encoding"};
    std::vector<const char*> values = {timeout.c_str(), opts.application_name.c_str(), url.c_str(),
                                       "UTF8"};
    if (opts.password) {
        keys.push_back("password");
        values.push_back(opts.password->c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    std::unique_ptr<pg_conn, ConnDeleter> c(PQconnectdbParams(keys.data(), values.data(), 1));
    if (!c)
        return fail("pg.connect", "cannot connect to " + parts.redacted + ": out of memory",
                    ErrorScope::Fatal, Retry::Backoff);
    if (PQstatus(c.get()) != CONNECTION_OK) {
        const std::string why = scrub(detail::one_line(PQerrorMessage(c.get())));
        const bool config = needs_config(c.get(), why);
        return fail(config ? "pg.auth" : "pg.connect",
                    fmt::format("cannot connect to {}: {}", parts.redacted, why), ErrorScope::Fatal,
                    config ? Retry::NeedsConfig : Retry::Backoff);
    }
    PQsetNoticeProcessor(c.get(), nullptr, nullptr);
    PQsetNoticeReceiver(c.get(), ignore_notice, nullptr);
    Connection conn(c.release(), std::move(parts.redacted));
    // bytea in results is decoded from its hex text form (ResultSet::get<Bytea>); the server's
    // default may be the older escape format.
    if (auto set = conn.execute_script("SET bytea_output = 'hex'"); !set)
        return std::unexpected(set.error());
    return conn;
}

bool Connection::ok() const noexcept {
    return conn_ && PQstatus(conn_.get()) == CONNECTION_OK;
}

int Connection::backend_pid() const noexcept {
    return conn_ ? PQbackendPID(conn_.get()) : 0;
}

std::string Connection::next_savepoint_name() {
    return fmt::format("crm_sp_{}", ++savepoints_);
}

namespace {

// Statements worth preparing: those the server plans. Utility statements (BEGIN, SAVEPOINT,
// ANALYZE, SET ...) are not.
bool plannable(std::string_view sql) {
    const auto start = sql.find_first_not_of(" \t\r\n(");
    if (start == std::string_view::npos)
        return false;
    sql.remove_prefix(start);
    for (std::string_view word : {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES"}) {
        if (sql.size() < word.size())
            continue;
        bool same = true;
        for (std::size_t i = 0; i < word.size() && same; ++i)
            same = std::toupper(static_cast<unsigned char>(sql[i])) == word[i];
        if (same && (sql.size() == word.size() ||
                     !std::isalnum(static_cast<unsigned char>(sql[word.size()]))))
            return true;
    }
    return false;
}

} // namespace

std::optional<Connection::PreparedName> Connection::prepared_name(std::string_view sql,
                                                                  std::span<const unsigned> types) {
    if (!plannable(sql))
        return std::nullopt;
    // The types are part of the key: a parameter sent as bytea is prepared as bytea.
    std::string key(sql);
    key += '\0';
    for (unsigned t : types)
        key += t == 0 ? '.' : 'b';
    if (auto it = prepared_.find(key); it != prepared_.end())
        return PreparedName{std::move(key), it->second, false};
    if (prepared_.size() >= kMaxPrepared)
        return std::nullopt;
    std::string name = fmt::format("crm_p{}", ++prepared_serial_);
    prepared_.emplace(key, name);
    return PreparedName{std::move(key), std::move(name), true};
}

bool Connection::write_deferred() const noexcept {
    return std::any_of(deferred_.begin(), deferred_.end(),
                       [](const Deferred& d) { return !d.params.empty(); });
}

Result<void> Connection::flush_deferred() {
    if (deferred_.empty())
        return {};
    auto p = Pipeline::enter(*this); // sends them
    if (!p)
        return std::unexpected(p.error());
    auto r = p->sync();
    if (!r)
        return std::unexpected(r.error());
    return {};
}

Result<ResultSet> Connection::exec(std::string_view sql, std::span<const Param> params) {
    std::string what = detail::statement_label(sql);
    if (!conn_)
        return fail("pg.connection", what + ": no connection (moved from)", ErrorScope::Fatal,
                    Retry::Backoff);
    const std::string text(sql);
    const detail::ParamArrays a(params);
    if (auto bad = a.check(what); !bad)
        return std::unexpected(bad.error());
    if (!deferred_.empty()) {
        // The waiting statements and this one, in one round trip.
        auto p = Pipeline::enter(*this);
        if (!p)
            return std::unexpected(p.error());
        if (auto added = p->add(sql, params); !added)
            return std::unexpected(added.error());
        auto r = p->sync();
        if (!r)
            return std::unexpected(r.error());
        return std::move(r->back());
    }
    auto prepared = prepared_name(sql, a.types);
    if (!prepared) {
        PGresult* r = PQexecParams(conn_.get(), text.c_str(), a.count(), a.types.data(),
                                   a.values.data(), a.lengths.data(), a.formats.data(), 0);
        return detail::take_result(conn_.get(), r, std::move(what), url_);
    }
    if (prepared->fresh) {
        auto made = detail::take_result(
            conn_.get(),
            PQprepare(conn_.get(), prepared->name.c_str(), text.c_str(), a.count(), a.types.data()),
            what, url_);
        if (!made) {
            forget_prepared(prepared->key);
            return std::unexpected(made.error());
        }
    }
    PGresult* r = PQexecPrepared(conn_.get(), prepared->name.c_str(), a.count(), a.values.data(),
                                 a.lengths.data(), a.formats.data(), 0);
    return detail::take_result(conn_.get(), r, std::move(what), url_);
}

Result<void> Connection::execute_script(std::string_view sql) {
    std::string what = detail::statement_label(sql);
    if (!conn_)
        return fail("pg.connection", what + ": no connection (moved from)", ErrorScope::Fatal,
                    Retry::Backoff);
    // The waiting statements go first: in the same script (simple protocol: one round trip), or,
    // when a write with parameters waits, in a round trip of their own.
    if (write_deferred())
        if (auto f = flush_deferred(); !f)
            return f;
    std::string text;
    for (auto& d : take_deferred())
        text += d.sql + "; ";
    text += sql;
    auto r =
        detail::take_result(conn_.get(), PQexec(conn_.get(), text.c_str()), std::move(what), url_);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

// ---- Transaction and Savepoint -------------------------------------------------------------

Result<Transaction> Transaction::begin(Connection& c, Isolation level) {
    const char* sql = "BEGIN ISOLATION LEVEL READ COMMITTED";
    if (level == Isolation::RepeatableRead)
        sql = "BEGIN ISOLATION LEVEL REPEATABLE READ";
    else if (level == Isolation::Serializable)
        sql = "BEGIN ISOLATION LEVEL SERIALIZABLE";
    // A second BEGIN is only a warning to PostgreSQL, and this guard's ROLLBACK would then end
    // the outer transaction too: nesting is what Savepoint is for.
    if (c.native() && PQtransactionStatus(c.native()) != PQTRANS_IDLE)
        return fail("pg.query",
                    fmt::format("begin on {}: a transaction is already open on this connection "
                                "(nest with a Savepoint)",
                                c.url()),
                    ErrorScope::Fatal, Retry::Never);
    if (auto r = c.execute_script(sql); !r)
        return std::unexpected(r.error());
    return Transaction(c);
}

Transaction::~Transaction() {
    if (c_ && c_->ok()) {
        c_->deferred().clear();               // savepoints of a transaction rolled back whole
        (void)c_->execute_script("ROLLBACK"); // nothing to do about a failure here
    }
}

Result<void> Transaction::commit() {
    if (!c_)
        return fail("pg.query", "commit: the transaction has already ended", ErrorScope::Fatal,
                    Retry::Never);
    // Writes still waiting go first, on their own: their failure (a server error, or a check such
    // as "message.exists") leaves the transaction open, for the caller's (or the destructor's)
    // ROLLBACK, instead of riding along with a COMMIT that would then end it half done.
    if (c_->write_deferred())
        if (auto f = c_->flush_deferred(); !f)
            return f;
    Connection& c = *std::exchange(c_, nullptr); // a COMMIT ends the transaction, even failing
    auto r = c.exec("COMMIT");
    if (!r)
        return std::unexpected(r.error());
    // PostgreSQL answers COMMIT in a failed transaction with a ROLLBACK, not with an error.
    if (std::string_view(PQcmdStatus(r->native())) != "COMMIT")
        return fail("pg.aborted",
                    fmt::format("commit on {}: the transaction was rolled back, because a "
                                "statement in it failed earlier; nothing of it was written",
                                c.url()),
                    ErrorScope::Mailbox, Retry::Backoff);
    return {};
}

Result<void> Transaction::rollback() {
    if (!c_)
        return {};
    Connection& c = *std::exchange(c_, nullptr);
    c.deferred().clear();
    return c.execute_script("ROLLBACK");
}

Result<Savepoint> Savepoint::begin(Connection& c) {
    std::string name = c.next_savepoint_name();
    // Sent with the next statement (Connection::defer): a savepoint only fails to open in a
    // transaction that already failed, where that statement fails too.
    c.defer("SAVEPOINT " + name);
    return Savepoint(c, std::move(name));
}

Savepoint::~Savepoint() {
    if (c_ && c_->ok())
        (void)rollback(); // nothing to do about a failure here
}

Result<void> Savepoint::release() {
    if (!c_)
        return fail("pg.query", "release: the savepoint has already ended", ErrorScope::Fatal,
                    Retry::Never);
    auto& waiting = c_->deferred();
    if (!waiting.empty() && waiting.back().sql == "SAVEPOINT " + name_) {
        waiting.pop_back(); // nothing ran inside it: it need never be sent
        c_ = nullptr;
        return {};
    }
    if (c_->native() && PQtransactionStatus(c_->native()) != PQTRANS_INERROR) {
        // Writes still waiting inside the savepoint go now, before the RELEASE: their failure
        // (a server error, or a check such as "message.exists" that the server does not see)
        // is this savepoint's, and the savepoint is still there to be rolled back. Only a failed
        // transaction refuses RELEASE, and this one has not failed (as of the last statement's
        // answer): it goes out with the next statement.
        if (c_->write_deferred()) {
            if (auto f = c_->flush_deferred(); !f)
                return f;
        }
        c_->defer("RELEASE SAVEPOINT " + name_);
        c_ = nullptr;
        return {};
    }
    // In a transaction that failed after the savepoint RELEASE fails; the savepoint stays, so that
    // the destructor's ROLLBACK TO still clears the failure.
    if (auto r = c_->execute_script("RELEASE SAVEPOINT " + name_); !r)
        return std::unexpected(r.error());
    c_ = nullptr;
    return {};
}

Result<void> Savepoint::rollback() {
    if (!c_)
        return {};
    Connection& c = *std::exchange(c_, nullptr);
    auto& waiting = c.deferred();
    const std::string open = "SAVEPOINT " + name_;
    if (auto it = std::find_if(waiting.begin(), waiting.end(),
                               [&](const Connection::Deferred& d) { return d.sql == open; });
        it != waiting.end()) {
        // Never sent, so nothing after it ran either: forget it and what followed it.
        waiting.erase(it, waiting.end());
        return {};
    }
    // Whatever waits was queued inside this savepoint (inner savepoints' releases): undone too.
    waiting.clear();
    return c.execute_script("ROLLBACK TO SAVEPOINT " + name_ + "; RELEASE SAVEPOINT " + name_);
}

} // namespace crm::pg
