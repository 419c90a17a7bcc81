// pg::PgStore::insert_message with and without its pipeline:
//   pg_store_bench URL [MESSAGES] [RUNS]
// For MESSAGES generated messages (default 2,000; ~20 headers, 4 participants, an attachment's
// metadata, a 6 KB raw message packed beforehand as SyncSink::prepare packs it), stores them
// with insert_message in one transaction, in a fresh schema each run, and prints the time and
// messages/s of
//   statements  every statement its own round trip (PgStoreOptions::pipeline = false)
//   pipeline    the statements of one message in one pipeline (one round trip per message)
// RUNS times each (default 3), alternating. Start a throwaway server with
// tests/integration/postgres/pg.sh start DIR, then run it with the URL that prints.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "crm/blob/codec.hpp"
#include "crm/pg/connection.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/store.hpp"

namespace {

using crm::pg::Connection;

int fail(const crm::Error& e) {
    std::fprintf(stderr, "pg_store_bench: %s\n", e.to_string().c_str());
    return 1;
}

struct Generated {
    std::vector<crm::ParsedMessage> parsed;
    std::vector<crm::PackedBlob> packed;
    std::vector<crm::NewMessage> messages;
};

Generated generate(int n) {
    Generated g;
    g.parsed.resize(static_cast<std::size_t>(n));
    g.packed.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto& p = g.parsed[static_cast<std::size_t>(i)];
        const std::string id = std::to_string(i);
        p.message_id = "bench-" + id + "@example.org";
        p.content_hash = std::string(60, 'c') + std::to_string(1000 + i % 9000);
        p.subject = "Re: the offer for the 2027 fleet renewal, part " + std::to_string(i % 50);
        p.date = 1'700'000'000 + i * 60;
        if (i % 10)
            p.references = {"bench-" + std::to_string(i - i % 10) + "@example.org"};
        for (int h = 0; h < 20; ++h)
            p.headers.emplace_back("X-Header-" + std::to_string(h),
                                   "value " + std::to_string(h) + " of message " + id);
        p.text_body = std::string(1500, 'b');
        crm::Attachment a;
        a.filename = "offer-" + id + ".pdf";
        a.content_type = "application/pdf";
        a.size = 40000;
        a.sha256 = std::string(64, 'a');
        p.attachments = {a};
        std::string raw;
        for (const auto& [k, v] : p.headers)
            raw += k + ": " + v + "\r\n";
        raw += "\r\n";
        while (raw.size() < 6000)
            raw += "Line of the body of message " + id + ", quoting the previous one.\r\n";
        g.packed[static_cast<std::size_t>(i)] = crm::blob::pack_blob(raw);
    }
    for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        crm::NewMessage m;
        m.parsed = &g.parsed[k];
        m.raw_packed = &g.packed[k];
        m.raw_sha256 = std::string(58, 'f') + std::to_string(100000 + i);
        m.message_id = g.parsed[k].message_id;
        m.base_subject = "the offer for the 2027 fleet renewal";
        m.from_address = "hank@globex.example";
        m.received_at = 1'700'000'000 + i * 60;
        m.participants = {{"from", "hank@globex.example", "Hank <hank@globex.example>", "Hank", {}},
                          {"to", "alice@s.example", "alice@s.example", "Alice", {}},
                          {"cc", "bob@globex.example", "bob@globex.example", "Bob", {}},
                          {"cc", "ivy@globex.example", "ivy@globex.example", "Ivy", {}}};
        g.messages.push_back(std::move(m));
    }
    return g;
}

// One run in a fresh schema: seconds for inserting every message in one transaction.
crm::Result<double> run(Connection& c, Generated& g, bool pipeline, int run_no) {
    const std::string schema =
        "bench_pgstore_" + std::to_string(::getpid()) + "_" + std::to_string(run_no);
    if (auto s = c.execute_script("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " +
                                  schema + "; SET search_path TO " + schema);
        !s)
        return std::unexpected(s.error());
    if (auto m = crm::pg::migrate(c); !m)
        return std::unexpected(m.error());
    crm::pg::PgStore store(c, nullptr, {.pipeline = pipeline});
    std::vector<crm::ThreadId> threads;
    for (std::size_t i = 0; i < g.messages.size(); i += 10) {
        auto t = store.create_thread();
        if (!t)
            return std::unexpected(t.error());
        threads.push_back(*t);
    }
    for (std::size_t i = 0; i < g.messages.size(); ++i)
        g.messages[i].thread = threads[i / 10];
    const auto start = std::chrono::steady_clock::now();
    auto done = crm::pg::in_transaction(c, [&]() -> crm::Result<void> {
        for (const auto& m : g.messages)
            if (auto id = store.insert_message(m); !id)
                return std::unexpected(id.error());
        return {};
    });
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (!done)
        return std::unexpected(done.error());
    if (auto s = c.execute_script("SET search_path TO public; DROP SCHEMA " + schema + " CASCADE");
        !s)
        return std::unexpected(s.error());
    return took.count();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: pg_store_bench URL [MESSAGES] [RUNS]\n");
        return 2;
    }
    const int n = argc > 2 ? std::atoi(argv[2]) : 2000;
    const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
    auto c = Connection::connect(argv[1]);
    if (!c)
        return fail(c.error());
    Generated g = generate(n);
    std::vector<double> times[2];
    for (int r = 0; r < runs; ++r)
        for (int way = 0; way < 2; ++way) {
            auto t = run(*c, g, way == 1, r * 2 + way);
            if (!t)
                return fail(t.error());
            times[way].push_back(*t);
        }
    for (int way = 0; way < 2; ++way) {
        auto& t = times[way];
        std::sort(t.begin(), t.end());
        const double median = t[t.size() / 2];
        std::printf("%-11s %d messages: median %.3f s = %.0f messages/s (best %.0f, worst %.0f)\n",
                    way ? "pipeline" : "statements", n, median, n / median, n / t.front(),
                    n / t.back());
    }
    return 0;
}
