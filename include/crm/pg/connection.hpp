#pragma once
// A thin RAII layer over libpq (PostgreSQL 15): one connection, parameterised statements, typed
// results, transactions and savepoints. Pipelines and COPY are in pipeline.hpp and copy.hpp, the
// migration runner in migrate.hpp.
//
// Threading: a Connection is used from one thread at a time, like a libpq PGconn.
// Errors: every failure is a crm::Error whose detail names what failed and where (the URL without
// its password, see redact_url()); the code, scope and retry class come from the SQLSTATE
// (error_for_sqlstate() in errors.hpp). Nothing here throws.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crm/core/result.hpp"

// libpq's handle types (typedef'd PGconn and PGresult in libpq-fe.h): declared, not included, so
// that libpq stays private to src/pg/.
struct pg_conn;
struct pg_result;

namespace crm::pg {

// bytea's bytes, as a parameter (borrowed) or as a column value (ResultSet::get<Bytea>).
struct Bytea {
    std::string bytes;
};
struct ByteaView {
    std::string_view bytes;
};

// One statement parameter. Strings, numbers and booleans are sent in text format without a type:
// the server infers it from where the parameter stands, so a string fills a timestamp or json
// column and an integer an int4 function argument (an int8 would not: function arguments get no
// implicit int8 -> int4 cast). Where nothing decides, the statement casts ($1::bigint). bytea is
// sent in binary format, so any bytes (NULs included) arrive unchanged.
//
// Ownership: a string_view, const std::string& or ByteaView is borrowed and must outlive the call
// that sends it (exec, Pipeline::add, CopyIn::row); an rvalue std::string is moved in and owned.
class Param {
  public:
    Param(std::nullopt_t) noexcept {} // SQL NULL
    Param(std::string_view text) noexcept : kind_(Kind::Borrowed), view_(text) {}
    Param(const char* text) noexcept : Param(std::string_view(text)) {}
    Param(const std::string& text) noexcept : Param(std::string_view(text)) {}
    Param(std::string&& text) noexcept : kind_(Kind::Owned), owned_(std::move(text)) {}
    Param(bool v) noexcept;
    Param(double v) noexcept;
    template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, char>) Param(I v)
    noexcept : Param(static_cast<std::int64_t>(v), Int64Tag{}) {}
    Param(ByteaView v) noexcept : kind_(Kind::Borrowed), binary_(true), view_(v.bytes) {}
    Param(const Bytea& v) noexcept : Param(ByteaView{v.bytes}) {}
    template <class T> Param(const std::optional<T>& v) : Param(std::nullopt) {
        if (v)
            *this = Param(*v);
    }

    static Param bytea(std::string_view bytes) noexcept { return Param(ByteaView{bytes}); }
    // The same value, owning its bytes (a borrowed one copied): for a statement sent later.
    [[nodiscard]] Param owned() const;

    [[nodiscard]] bool is_null() const noexcept { return kind_ == Kind::Null; }
    [[nodiscard]] bool is_binary() const noexcept { return binary_; }
    // The value's bytes (text or, for bytea, raw); empty for NULL.
    [[nodiscard]] std::string_view value() const noexcept;
    // The type OID sent with it: bytea's, or 0 (inferred by the server).
    [[nodiscard]] unsigned type_oid() const noexcept { return binary_ ? kByteaTypeOid : 0; }

  private:
    static constexpr unsigned kByteaTypeOid = 17; // pg_type.dat
    struct Int64Tag {};
    Param(std::int64_t v, Int64Tag) noexcept;
    enum class Kind { Null, Borrowed, Owned, Number };
    Kind kind_ = Kind::Null;
    bool binary_ = false;
    std::string_view view_;
    std::string owned_;
    // Integers and doubles in text form, kept inline: the Param may be moved, so value() points
    // into it only when asked.
    char number_[32] = {};
    std::uint8_t number_len_ = 0;
};

struct ResultDeleter {
    void operator()(pg_result* r) const noexcept;
};

// A statement's result (PGresult), owned. Rows and columns count from 0. Typed getters check the
// column's type and NULL and fail with "pg.null" / "pg.type" / "pg.column" naming the statement,
// the row and the column.
class ResultSet {
  public:
    ResultSet(pg_result* r, std::string what) noexcept : r_(r), what_(std::move(what)) {}

    [[nodiscard]] int rows() const noexcept;
    [[nodiscard]] int columns() const noexcept;
    // Rows inserted, updated, deleted or copied (PQcmdTuples); 0 for other statements.
    [[nodiscard]] std::int64_t affected() const noexcept;
    // The column's index by name. Errors: "pg.column".
    [[nodiscard]] Result<int> column(std::string_view name) const;
    [[nodiscard]] bool is_null(int row, int col) const noexcept;

    // T: std::int64_t (int2/int4/int8), std::int32_t (int2/int4), double (float4/float8/numeric),
    // bool, std::string (the text form of any column but bytea, whose text form is not its
    // bytes), Bytea, or std::optional of one of them (NULL gives std::nullopt).
    template <class T> [[nodiscard]] Result<T> get(int row, int col) const {
        if constexpr (is_optional<T>::value) {
            using V = typename T::value_type;
            // The type is checked for NULLs too: a NULL in a column of the wrong type is the
            // same mismatch between the code and the schema.
            if (auto ok = check_type(row, col, want_of<V>()); !ok)
                return std::unexpected(ok.error());
            if (is_null(row, col))
                return T{};
            auto v = get<V>(row, col);
            if (!v)
                return std::unexpected(v.error());
            return T{std::move(*v)};
        } else if constexpr (std::same_as<T, std::int64_t>) {
            return as_int64(row, col);
        } else if constexpr (std::same_as<T, std::int32_t>) {
            return as_int32(row, col);
        } else if constexpr (std::same_as<T, double>) {
            return as_double(row, col);
        } else if constexpr (std::same_as<T, bool>) {
            return as_bool(row, col);
        } else if constexpr (std::same_as<T, std::string>) {
            return as_text(row, col);
        } else {
            static_assert(want_of<T>() == Want::Bytea);
            return as_bytea(row, col);
        }
    }

    // What ran (a short label of the statement), for the caller's own messages.
    [[nodiscard]] const std::string& what() const noexcept { return what_; }
    [[nodiscard]] pg_result* native() const noexcept { return r_.get(); }

  private:
    template <class T> struct is_optional : std::false_type {};
    template <class T> struct is_optional<std::optional<T>> : std::true_type {};

    enum class Want { Int64, Int32, Double, Bool, Text, Bytea };
    template <class T> static constexpr Want want_of() {
        if constexpr (std::same_as<T, std::int64_t>)
            return Want::Int64;
        else if constexpr (std::same_as<T, std::int32_t>)
            return Want::Int32;
        else if constexpr (std::same_as<T, double>)
            return Want::Double;
        else if constexpr (std::same_as<T, bool>)
            return Want::Bool;
        else if constexpr (std::same_as<T, std::string>)
            return Want::Text;
        else {
            static_assert(std::same_as<T, Bytea>, "ResultSet::get: unsupported type");
            return Want::Bytea;
        }
    }
    // The row and column exist and the column's type can be read as `w`.
    Result<void> check_type(int row, int col, Want w) const;
    // The value's text, after check_type() and a check for NULL.
    Result<std::string_view> raw(int row, int col, Want w) const;
    Result<std::int64_t> as_int64(int row, int col) const;
    Result<std::int32_t> as_int32(int row, int col) const;
    Result<double> as_double(int row, int col) const;
    Result<bool> as_bool(int row, int col) const;
    Result<std::string> as_text(int row, int col) const;
    Result<Bytea> as_bytea(int row, int col) const;
    Error value_error(std::string code, int row, int col, std::string_view problem) const;

    std::unique_ptr<pg_result, ResultDeleter> r_;
    std::string what_;
};

// libpq's own limit is 2 s: a smaller connect_timeout is raised to that.
inline constexpr std::chrono::seconds kDefaultConnectTimeout{10};

struct ConnectOptions {
    // How long to wait for the TCP connection and the login, per host tried.
    std::chrono::seconds connect_timeout = kDefaultConnectTimeout;
    // The password when it is not in the URL (password_file / password_env / credential in the
    // configuration); never put into an error or a log.
    std::optional<std::string> password;
    std::string application_name = "crm-mail";
};

struct ConnDeleter {
    void operator()(pg_conn* c) const noexcept;
};

class Connection {
  public:
    // Connects to `url`: a postgresql:// URL or a libpq "key=value" conninfo string. Values set in
    // the URL win over those in `opts`, except client_encoding (always UTF8) and the password
    // (opts.password wins). Errors: "pg.url" (unparsable, NeedsConfig), "pg.auth" (refused
    // login, NeedsConfig), "pg.connect" (unreachable, timed out: Backoff), each naming the URL
    // without its password.
    static Result<Connection> connect(std::string_view url, const ConnectOptions& opts = {});

    Connection(Connection&&) noexcept = default;
    Connection& operator=(Connection&&) noexcept = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() = default; // PQfinish

    // One statement with parameters $1..$n (PQexecParams, extended protocol: a single statement,
    // no multi-statement strings). Results come in text format; bytea is decoded from it.
    Result<ResultSet> exec(std::string_view sql, std::span<const Param> params);
    template <class... A> Result<ResultSet> exec(std::string_view sql, A&&... args) {
        const Param ps[sizeof...(A) + 1] = {Param(std::forward<A>(args))..., Param(std::nullopt)};
        return exec(sql, std::span<const Param>(ps, sizeof...(A)));
    }
    // Several statements separated by ';', without parameters (the simple query protocol, as
    // psql -c runs them). Outside a transaction they run as one implicit transaction.
    Result<void> execute_script(std::string_view sql);

    // False once the server connection is lost: open a new Connection (errors "pg.connection").
    [[nodiscard]] bool ok() const noexcept;
    // The URL as given, without its password: for messages and logs.
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    // The server's backend process id (pg_backend_pid()).
    [[nodiscard]] int backend_pid() const noexcept;

    [[nodiscard]] pg_conn* native() const noexcept { return conn_.get(); }
    // Next unique savepoint name on this connection (Savepoint).
    std::string next_savepoint_name();

    // Prepared statements. Each SELECT, INSERT, UPDATE, DELETE, WITH or VALUES statement that
    // exec() or a Pipeline runs is prepared (parsed and analysed) once per connection under a name
    // and then only bound and executed: a sync batch runs the same fifteen statements for every
    // message, and parsing and planning them anew each time cost the server as much as running
    // them (pg_stat_statements, 5000 messages). The server keeps them for the session (a
    // reconnect is a new Connection, with none); a statement whose preparation failed is not
    // kept, and at most kMaxPrepared are (those beyond run unprepared). Behind a pooler in
    // transaction mode (PgBouncer before 1.21), prepared statements need session pooling.
    static constexpr std::size_t kMaxPrepared = 1000;
    [[nodiscard]] std::size_t prepared_count() const noexcept { return prepared_.size(); }
    // For the pipeline: the name `sql` (with these parameter type OIDs) is or will be prepared
    // under, with `fresh` set when it still has to be prepared (and is now counted as prepared:
    // forget_prepared() it when the preparation fails); nullopt when it runs unprepared.
    struct PreparedName {
        std::string key;
        std::string name;
        bool fresh = false;
    };
    std::optional<PreparedName> prepared_name(std::string_view sql,
                                              std::span<const unsigned> types);
    void forget_prepared(const std::string& key) { prepared_.erase(key); }

    // Statements whose answer nobody waits for: SAVEPOINT and RELEASE SAVEPOINT (see Savepoint),
    // which only fail in a transaction that has already failed, and writes without a result
    // (PgStore::add_keys). They wait here and go out ahead of the next statement, in the same
    // round trip (exec(), a Pipeline, execute_script(), CopyIn); a failure among them is that
    // statement's failure. A sync batch opens and releases a savepoint per message and records
    // its thread keys: three round trips each, saved. A savepoint's RELEASE sends the writes
    // waiting inside it (their failure is the savepoint's: Savepoint::release).
    // `if_no_row`: the statement returns rows (INSERT ... RETURNING) and returning none is this
    // failure (a write that found its row already there, say).
    struct Deferred {
        std::string sql;
        std::vector<Param> params; // owned values (Param(std::string&&), numbers)
        std::optional<Error> if_no_row;
    };
    void defer(std::string sql, std::vector<Param> params = {},
               std::optional<Error> if_no_row = std::nullopt) {
        deferred_.push_back({std::move(sql), std::move(params), std::move(if_no_row)});
    }
    // Takes the waiting statements (for the one sending them next).
    [[nodiscard]] std::vector<Deferred> take_deferred() { return std::exchange(deferred_, {}); }
    [[nodiscard]] std::vector<Deferred>& deferred() noexcept { return deferred_; }
    // True when a write (a statement with parameters) waits.
    [[nodiscard]] bool write_deferred() const noexcept;
    // Sends the waiting statements now, in one round trip. Errors: the first one's.
    Result<void> flush_deferred();

  private:
    Connection(pg_conn* c, std::string url) noexcept : conn_(c), url_(std::move(url)) {}
    std::unique_ptr<pg_conn, ConnDeleter> conn_;
    std::string url_;
    std::uint64_t savepoints_ = 0;
    std::unordered_map<std::string, std::string> prepared_; // key (SQL and types) -> name
    std::vector<Deferred> deferred_;
    std::uint64_t prepared_serial_ = 0;
};

enum class Isolation { ReadCommitted, RepeatableRead, Serializable };

// BEGIN ... COMMIT; rolls back on scope exit unless committed. The Connection must outlive it.
class Transaction {
  public:
    static Result<Transaction> begin(Connection& c, Isolation level = Isolation::ReadCommitted);
    Transaction(Transaction&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    // COMMIT. A transaction that an earlier statement failed in cannot commit: PostgreSQL answers
    // that COMMIT with ROLLBACK, which is returned as "pg.aborted" (nothing was written).
    Result<void> commit();
    Result<void> rollback();

  private:
    explicit Transaction(Connection& c) noexcept : c_(&c) {}
    Connection* c_;
};

// SAVEPOINT inside a transaction: rolls back to itself (undoing only what followed it, and
// clearing an error so the outer transaction can go on) on scope exit unless released.
class Savepoint {
  public:
    static Result<Savepoint> begin(Connection& c);
    Savepoint(Savepoint&& o) noexcept
        : c_(std::exchange(o.c_, nullptr)), name_(std::move(o.name_)) {}
    Savepoint& operator=(Savepoint&&) = delete;
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    ~Savepoint();

    Result<void> release();
    Result<void> rollback();

  private:
    Savepoint(Connection& c, std::string name) noexcept : c_(&c), name_(std::move(name)) {}
    Connection* c_;
    std::string name_;
};

// Runs f() (returning Result<T>) in a transaction: commits when it succeeds, rolls back when it
// fails. The commit's own failure is returned too.
template <class F>
auto in_transaction(Connection& c, F&& f, Isolation level = Isolation::ReadCommitted)
    -> decltype(f()) {
    auto tx = Transaction::begin(c, level);
    if (!tx)
        return std::unexpected(tx.error());
    auto r = f();
    if (!r)
        return r; // ~Transaction rolls back
    if (auto done = tx->commit(); !done)
        return std::unexpected(done.error());
    return r;
}

} // namespace crm::pg
