#include "crm/pg/copy.hpp"

#include <algorithm>
#include <cctype>
#include <climits>

#include "crm/core/hex.hpp"
#include "native.hpp"

namespace crm::pg {

namespace {

// COPY's text format (PostgreSQL manual, COPY, "Text Format"): a backslash, tab, newline or
// carriage return inside a value would end the field or the row, so they are escaped. The runs
// between them are appended whole: message bodies go through here.
void append_text(std::string& out, std::string_view v) {
    while (!v.empty()) {
        const std::size_t special = v.find_first_of("\\\t\n\r");
        out.append(v.substr(0, special));
        if (special == std::string_view::npos)
            return;
        switch (v[special]) {
        case '\\':
            out += "\\\\";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\n':
            out += "\\n";
            break;
        default:
            out += "\\r";
        }
        v.remove_prefix(special + 1);
    }
}

// bytea's text input is "\x" and two hex digits a byte; its backslash is itself escaped for COPY.
void append_bytea(std::string& out, std::string_view bytes) {
    out += "\\\\x";
    append_hex(out, bytes);
}

bool is_copy_from_stdin(std::string_view sql) {
    while (!sql.empty() && std::isspace(static_cast<unsigned char>(sql.front())))
        sql.remove_prefix(1);
    if (sql.size() < 4)
        return false;
    std::string head;
    for (char ch : sql.substr(0, 4))
        head += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return head == "COPY";
}

} // namespace

Result<CopyIn> CopyIn::begin(Connection& c, std::string_view copy_sql) {
    std::string what = detail::statement_label(copy_sql);
    // Checked before sending: any other statement would simply run.
    if (!is_copy_from_stdin(copy_sql))
        return fail("pg.query", fmt::format("{}: not a COPY ... FROM STDIN statement", what),
                    ErrorScope::Fatal, Retry::Never);
    PGconn* conn = c.native();
    if (!conn)
        return fail("pg.connection", what + ": no connection (moved from)", ErrorScope::Fatal,
                    Retry::Backoff);
    // Statements waiting to be sent (Connection::defer) go first, on their own.
    if (auto sent = c.flush_deferred(); !sent)
        return std::unexpected(sent.error());
    const std::string text(copy_sql);
    std::unique_ptr<pg_result, ResultDeleter> r(PQexec(conn, text.c_str()));
    if (PQresultStatus(r.get()) == PGRES_COPY_IN)
        return CopyIn(c, std::move(what));
    if (PQresultStatus(r.get()) == PGRES_FATAL_ERROR || !r)
        return std::unexpected(detail::result_error(conn, r.get(), what, c.url()));
    return fail("pg.query", fmt::format("{} on {}: not a COPY FROM STDIN", what, c.url()),
                ErrorScope::Fatal, Retry::Never);
}

CopyIn::CopyIn(CopyIn&& o) noexcept
    : c_(std::exchange(o.c_, nullptr)), what_(std::move(o.what_)), buffer_(std::move(o.buffer_)) {}

CopyIn::~CopyIn() {
    if (!c_)
        return;
    // An error message as the end makes the server fail the COPY: no row of it is kept.
    PGconn* conn = c_->native();
    if (PQputCopyEnd(conn, "abandoned by crm-mail before its end") == 1)
        while (PGresult* r = PQgetResult(conn))
            PQclear(r);
}

Result<void> CopyIn::row(std::span<const Param> fields) {
    if (!c_)
        return fail("pg.query", what_ + ": the COPY has ended", ErrorScope::Fatal, Retry::Never);
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0)
            buffer_ += '\t';
        const Param& f = fields[i];
        if (f.is_null())
            buffer_ += "\\N";
        else if (f.is_binary())
            append_bytea(buffer_, f.value());
        else
            append_text(buffer_, f.value());
    }
    buffer_ += '\n';
    if (buffer_.size() >= kCopyChunkBytes)
        return flush();
    return {};
}

Result<void> CopyIn::flush() {
    PGconn* conn = c_->native();
    std::string_view rest = buffer_;
    // PQputCopyData takes an int: a single row beyond 2 GB goes in several calls.
    while (!rest.empty()) {
        const std::size_t n = std::min<std::size_t>(rest.size(), INT_MAX);
        if (PQputCopyData(conn, rest.data(), static_cast<int>(n)) != 1)
            return std::unexpected(detail::connection_error(conn, what_, c_->url()));
        rest.remove_prefix(n);
    }
    buffer_.clear();
    return {};
}

Result<std::int64_t> CopyIn::finish() {
    if (!c_)
        return fail("pg.query", what_ + ": the COPY has ended", ErrorScope::Fatal, Retry::Never);
    if (auto f = flush(); !f)
        return std::unexpected(f.error());
    Connection& c = *std::exchange(c_, nullptr);
    PGconn* conn = c.native();
    if (PQputCopyEnd(conn, nullptr) != 1)
        return std::unexpected(detail::connection_error(conn, what_, c.url()));
    std::unique_ptr<pg_result, ResultDeleter> r(PQgetResult(conn));
    // The COPY's one result; then libpq's null that ends it.
    while (PGresult* more = PQgetResult(conn))
        PQclear(more);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
        return std::unexpected(detail::result_error(conn, r.get(), what_, c.url()));
    ResultSet rs(r.release(), what_);
    return rs.affected();
}

} // namespace crm::pg
