// Bulk writes into PostgreSQL over the pg module, one way after another on the same rows:
//   pg_bench URL [ROWS]
// prints, for ROWS rows (default 10,000) shaped like a stored message (ids, a Message-ID, a
// subject, a 2 KB bytea), the time and rows/s of
//   one-by-one    an INSERT per row, each its own transaction (a commit and a round trip per row)
//   one-by-one-tx an INSERT per row in one transaction (a round trip per row)
//   pipeline      the INSERTs in one pipeline and one sync (one round trip, one transaction)
//   copy          COPY FROM STDIN (one statement)
// bench/pg-bench.sh starts a durable throwaway server and runs it.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "crm/pg/connection.hpp"
#include "crm/pg/copy.hpp"
#include "crm/pg/pipeline.hpp"

namespace {

using crm::pg::Connection;
using crm::pg::Param;

constexpr int kDefaultRows = 10000;
constexpr std::size_t kBodyBytes = 2048;
constexpr const char* kInsert = "INSERT INTO bench_messages (id, account, message_id, subject, "
                                "raw) VALUES ($1, $2, $3, $4, $5)";

std::string message_id(int i) {
    return "<" + std::to_string(i) + ".bench@example.org>";
}

int fail(const crm::Error& e) {
    std::fprintf(stderr, "pg_bench: %s\n", e.to_string().c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: pg_bench URL [ROWS]\n");
        return 2;
    }
    const int rows = argc > 2 ? std::atoi(argv[2]) : kDefaultRows;
    auto c = Connection::connect(argv[1]);
    if (!c)
        return fail(c.error());
    std::string body(kBodyBytes, '\0');
    for (std::size_t i = 0; i < body.size(); ++i)
        body[i] = static_cast<char>((i * 31) & 0xff);
    const std::string subject = "Re: the offer for the 2027 fleet renewal";

    using Way = std::function<crm::Result<void>()>;
    const std::pair<const char*, Way> ways[] = {
        {"one-by-one",
         [&]() -> crm::Result<void> {
             for (int i = 0; i < rows; ++i)
                 if (auto r = c->exec(kInsert, i, 1, message_id(i), subject, Param::bytea(body));
                     !r)
                     return std::unexpected(r.error());
             return {};
         }},
        {"one-by-one-tx",
         [&]() -> crm::Result<void> {
             return crm::pg::in_transaction(*c, [&]() -> crm::Result<void> {
                 for (int i = 0; i < rows; ++i)
                     if (auto r =
                             c->exec(kInsert, i, 1, message_id(i), subject, Param::bytea(body));
                         !r)
                         return std::unexpected(r.error());
                 return {};
             });
         }},
        {"pipeline",
         [&]() -> crm::Result<void> {
             auto p = crm::pg::Pipeline::enter(*c);
             if (!p)
                 return std::unexpected(p.error());
             for (int i = 0; i < rows; ++i)
                 if (auto r = p->add(kInsert, i, 1, message_id(i), subject, Param::bytea(body)); !r)
                     return r;
             auto done = p->sync();
             if (!done)
                 return std::unexpected(done.error());
             return {};
         }},
        {"copy",
         [&]() -> crm::Result<void> {
             auto copy = crm::pg::CopyIn::begin(
                 *c, "COPY bench_messages (id, account, message_id, subject, raw) FROM STDIN");
             if (!copy)
                 return std::unexpected(copy.error());
             for (int i = 0; i < rows; ++i)
                 if (auto r = copy->row(i, 1, message_id(i), subject, Param::bytea(body)); !r)
                     return r;
             auto n = copy->finish();
             if (!n)
                 return std::unexpected(n.error());
             return {};
         }},
    };
    std::printf("%d rows of %zu bytes (bytea) each; synchronous_commit = %s\n", rows, kBodyBytes,
                c->exec("SHOW synchronous_commit")->get<std::string>(0, 0)->c_str());
    for (const auto& [name, run] : ways) {
        if (auto r = c->execute_script(
                "DROP TABLE IF EXISTS bench_messages; CREATE TABLE bench_messages (id bigint "
                "PRIMARY KEY, account int NOT NULL, message_id text NOT NULL UNIQUE, subject "
                "text, raw bytea NOT NULL)");
            !r)
            return fail(r.error());
        const auto t0 = std::chrono::steady_clock::now();
        if (auto r = run(); !r)
            return fail(r.error());
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("%-14s %8.3f s %10.0f rows/s\n", name, s, rows / s);
    }
    (void)c->execute_script("DROP TABLE IF EXISTS bench_messages");
    return 0;
}
