#include "commands.hpp"

#include <chrono>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "crm/app/csv.hpp"
#include "crm/app/thread_actions.hpp"
#include "crm/core/list_cursors.hpp"
#include "crm/pg/backend.hpp"
#include "crm/pg/leases.hpp"
#include "crm/pg/migrate.hpp"
#include "crm/pg/url.hpp"
#include "crm/runtime/config_files.hpp"
#include "crm/runtime/secrets.hpp"
#include "crm/store/backend.hpp"

namespace crm::ctl {

namespace json = boost::json;

namespace {

// The shared PostgreSQL database of ctx.pg; prints the error (the URL without its password).
std::optional<pg::Connection> connect_pg(const Context& ctx) {
    pg::ConnectOptions opts;
    opts.application_name = "crm-mailctl";
    if (ctx.pg->password) {
        auto pw = runtime::resolve_secret(*ctx.pg->password);
        if (!pw) {
            print_error(pw.error());
            return std::nullopt;
        }
        opts.password = std::move(*pw);
    }
    auto c = pg::Connection::connect(ctx.pg->url, opts);
    if (!c) {
        print_error(c.error());
        return std::nullopt;
    }
    return std::move(*c);
}

int pg_db_migrate(Context& ctx) {
    auto c = connect_pg(ctx);
    if (!c)
        return kRuntime;
    const auto where = pg::redact_url(ctx.pg->url);
    // Under pg_advisory_lock: workers starting at the same time wait their turn.
    auto applied = pg::migrate(*c);
    if (!applied)
        return print_error(applied.error());
    if (applied->empty())
        fmt::print("{}: schema is up to date (version {})\n", where,
                   pg::known_migrations().back().version);
    for (int v : *applied)
        fmt::print("{}: applied migration {:04}\n", where, v);
    return kOk;
}

int pg_db_status(Context& ctx, bool as_json) {
    auto c = connect_pg(ctx);
    if (!c)
        return kRuntime;
    const auto where = pg::redact_url(ctx.pg->url);
    auto st = pg::schema_status(*c);
    if (!st)
        return print_error(st.error());
    if (as_json) {
        json::object o;
        o["database"] = where;
        o["database_version"] = st->database_version;
        o["binary_version"] = st->binary_version;
        json::array pend;
        for (int v : st->pending)
            pend.push_back(v);
        o["pending"] = pend;
        json::array probs;
        for (const auto& p : st->problems)
            probs.push_back(json::string(p));
        o["problems"] = probs;
        fmt::print("{}\n", json::serialize(o));
    } else {
        fmt::print("database:        {}\nschema version:  {} (binary knows {})\n", where,
                   st->database_version, st->binary_version);
        for (const auto& m : st->applied)
            fmt::print("  applied {:04}_{}  {}  sha256:{}\n", m.version, m.name,
                       fmt_date(m.applied_at), m.checksum.substr(0, 12));
        for (int v : st->pending)
            fmt::print("  pending {:04}\n", v);
        for (const auto& p : st->problems)
            fmt::print("  PROBLEM: {}\n", p);
    }
    return st->problems.empty() ? kOk : kRuntime;
}

int cmd_workers(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    expect_args(a.positionals(), 0, "no arguments");
    if (!ctx.pg) {
        fmt::print(stderr,
                   "crm-mailctl: workers: {} is SQLite, where one crm-maild syncs every "
                   "account (its lock file names it: {}.daemon.lock); workers share a "
                   "PostgreSQL database ([database] url)\n",
                   ctx.db_path, ctx.db_path);
        return kRuntime;
    }
    auto c = connect_pg(ctx);
    if (!c)
        return kRuntime;
    auto rows = pg::list_workers(*c);
    if (!rows)
        return print_error(rows.error());
    if (a.has("--json")) {
        json::array out;
        for (const auto& w : *rows) {
            json::object o;
            o["worker"] = w.id;
            if (w.id != 0) {
                o["host"] = w.host;
                o["pid"] = w.pid;
                o["version"] = w.version;
                o["started_at"] = w.started_at;
                o["heartbeat_age_seconds"] = w.heartbeat_age;
                if (w.max_accounts)
                    o["max_accounts"] = *w.max_accounts;
            }
            json::array accs;
            for (const auto& acc : w.accounts) {
                json::object j;
                j["account"] = acc.name;
                j["epoch"] = acc.epoch;
                j["lease_expires_in_seconds"] = acc.expires_in;
                if (acc.lag)
                    j["lag_seconds"] = *acc.lag;
                else
                    j["lag_seconds"] = nullptr;
                accs.push_back(std::move(j));
            }
            o["accounts"] = std::move(accs);
            out.push_back(std::move(o));
        }
        fmt::print("{}\n", json::serialize(out));
        return kOk;
    }
    if (rows->empty())
        fmt::print("no workers and no accounts yet\n");
    for (const auto& w : *rows) {
        if (w.id == 0)
            fmt::print("not held by a live worker: {} account(s)\n", w.accounts.size());
        else
            fmt::print("worker {}  {} pid {}  version {}  started {}  heartbeat {} s ago{}  "
                       "{} account(s)\n",
                       w.id, w.host, w.pid, w.version, fmt_date(w.started_at), w.heartbeat_age,
                       w.max_accounts ? fmt::format("  max {}", *w.max_accounts) : "",
                       w.accounts.size());
        for (const auto& acc : w.accounts)
            fmt::print("  {:<24} epoch {:<4} {}  lag {}\n", acc.name, acc.epoch,
                       w.id == 0 ? std::string("free")
                       : acc.expires_in >= 0
                           ? fmt::format("lease {} s left", acc.expires_in)
                           : fmt::format("lease EXPIRED {} s ago", -acc.expires_in),
                       acc.lag ? fmt::format("{} s", *acc.lag) : std::string("never synced"));
    }
    return kOk;
}

int cmd_db_migrate(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 0, "no arguments");
    if (ctx.pg)
        return pg_db_migrate(ctx);
    if (!ctx.open(false))
        return kRuntime;
    auto applied = ctx.db->migrate();
    if (!applied)
        return print_error(applied.error());
    if (applied->empty())
        fmt::print("{}: schema is up to date (version {})\n", ctx.db_path, store::schema_version());
    for (int v : *applied)
        fmt::print("{}: applied migration {:04}\n", ctx.db_path, v);
    return kOk;
}

int cmd_db_status(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    expect_args(a.positionals(), 0, "no arguments");
    if (ctx.pg)
        return pg_db_status(ctx, a.has("--json"));
    if (!ctx.open(false))
        return kRuntime;
    auto st = ctx.db->status();
    if (!st)
        return print_error(st.error());
    if (a.has("--json")) {
        json::object o;
        o["database"] = ctx.db_path;
        o["database_version"] = st->database_version;
        o["binary_version"] = st->binary_version;
        o["journal_mode"] = st->journal_mode;
        json::array pend;
        for (int v : st->pending)
            pend.push_back(v);
        o["pending"] = pend;
        json::array probs;
        for (const auto& p : st->problems)
            probs.push_back(json::string(p));
        o["problems"] = probs;
        fmt::print("{}\n", json::serialize(o));
    } else {
        fmt::print("database:        {}\njournal mode:    {}\nschema version:  {} (binary knows "
                   "{})\n",
                   ctx.db_path, st->journal_mode, st->database_version, st->binary_version);
        for (const auto& m : st->applied)
            fmt::print("  applied {:04}_{}  {}  sha256:{}\n", m.version, m.name,
                       fmt_date(m.applied_at), m.checksum.substr(0, 12));
        for (int v : st->pending)
            fmt::print("  pending {:04}\n", v);
        for (const auto& p : st->problems)
            fmt::print("  PROBLEM: {}\n", p);
    }
    return st->problems.empty() ? kOk : kRuntime;
}

template <class T, class Parse, class Store>
int import_records(Context& ctx, const std::string& kind, const std::string& file, Parse parse,
                   Store store_row) {
    auto text = runtime::read_text_file(file);
    if (!text) {
        fmt::print(stderr, "crm-mailctl: cannot read {}: {}\n", file, std::strerror(errno));
        return kRuntime;
    }
    auto parsed = parse(*text);
    if (!parsed) {
        fmt::print(stderr, "crm-mailctl: {}: {}\n", file, parsed.error().detail);
        return kRuntime;
    }
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    std::size_t ok = 0;
    std::vector<app::CsvProblem> problems = parsed->problems;
    const std::int64_t now = ctx.clock->now();
    auto done = in_transaction(db->work(), [&]() -> Result<void> {
        // Rows are checked one by one so a bad row is reported and the good ones kept: each in
        // a savepoint (PostgreSQL aborts the whole transaction on a failed statement otherwise).
        for (std::size_t i = 0; i < parsed->rows.size(); ++i) {
            Error row_error;
            auto r = db->work().savepoint([&]() -> Result<void> {
                auto one = store_row(db->crm(), parsed->rows[i], now);
                if (!one)
                    row_error = one.error();
                return one;
            });
            if (r) {
                ++ok;
            } else if (row_error.code.empty()) {
                return r; // the savepoint itself failed: the database, not the row
            } else if (row_error.scope == ErrorScope::Fatal) {
                return std::unexpected(row_error);
            } else {
                problems.push_back(
                    {0, fmt::format("id {}: {}", parsed->rows[i].id, row_error.detail)});
            }
        }
        return {};
    });
    if (!done)
        return print_error(done.error());
    for (const auto& p : problems) {
        if (p.line)
            fmt::print(stderr, "{}:{}: {}\n", file, p.line, p.what);
        else
            fmt::print(stderr, "{}: {}\n", file, p.what);
    }
    fmt::print("imported {} {} from {}; {} row(s) rejected\n", ok, kind, file, problems.size());
    return problems.empty() ? kOk : kRuntime;
}

int cmd_crm_import(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 2, "KIND FILE.csv (KIND: users, companies, contacts or deals)");
    const auto& kind = a.positionals()[0];
    const auto& file = a.positionals()[1];
    if (kind == "users")
        return import_records<UserRecord>(
            ctx, kind, file, [](std::string_view t) { return app::users_from_csv(t); },
            [](CrmRecords& s, const UserRecord& r, std::int64_t n) { return s.upsert_user(r, n); });
    if (kind == "companies")
        return import_records<CompanyRecord>(
            ctx, kind, file, [](std::string_view t) { return app::companies_from_csv(t); },
            [](CrmRecords& s, const CompanyRecord& r, std::int64_t n) {
                return s.upsert_company(r, n);
            });
    if (kind == "contacts")
        return import_records<ContactRecord>(
            ctx, kind, file, [](std::string_view t) { return app::contacts_from_csv(t); },
            [](CrmRecords& s, const ContactRecord& r, std::int64_t n) {
                return s.upsert_contact(r, n);
            });
    if (kind == "deals")
        return import_records<DealInput>(
            ctx, kind, file, [](std::string_view t) { return app::deals_from_csv(t); },
            [](CrmRecords& s, const DealInput& r, std::int64_t n) { return s.upsert_deal(r, n); });
    throw UsageError{"KIND must be users, companies, contacts or deals, not '" + kind + "'"};
}

void print_thread_rows(const std::vector<ThreadSummary>& threads) {
    fmt::print("{:>6}  {:<16}  {:>4} {:>4}  {:<34}  {}\n", "THREAD", "LAST", "MSGS", "NEW", "DEAL",
               "SUBJECT");
    for (const auto& t : threads) {
        std::string where = t.deal ? fmt::format("{} {}", *t.deal, t.deal_name)
                                   : fmt::format("unsorted: {}", t.reason);
        if (where.size() > 34)
            where = where.substr(0, 33) + "~";
        fmt::print("{:>6}  {:<16}  {:>4} {:>4}  {:<34}  {}\n", t.id, fmt_date(t.last_date),
                   t.message_count, t.unread_count, printable(where), printable(t.subject));
    }
}

json::object thread_json(const ThreadSummary& t) {
    json::object o;
    o["id"] = t.id;
    o["subject"] = t.subject;
    o["messages"] = t.message_count;
    o["unread"] = t.unread_count;
    o["first_date"] = t.first_date ? json::value(*t.first_date) : json::value(nullptr);
    o["last_date"] = t.last_date ? json::value(*t.last_date) : json::value(nullptr);
    o["deal_id"] = t.deal ? json::value(*t.deal) : json::value(nullptr);
    o["deal_name"] = t.deal_name;
    o["manual"] = t.manual;
    o["reason"] = t.reason;
    json::array s;
    for (auto d : t.suggestions)
        s.push_back(d);
    o["suggested_deals"] = s;
    json::array p;
    for (const auto& x : t.participants)
        p.push_back(json::string(x));
    o["participants"] = p;
    return o;
}

// A page of a deal's threads or of the unsorted queue, as the API pages them (the same cursors).
int threads_page(Backend& backend, std::optional<DealId> deal, const PageArgs& p, bool as_json) {
    const Viewer op{.user = 0, .admin = true}; // the operator on the host: everything
    const std::string list = deal ? "deal-threads" : "unsorted";
    const std::string scope = deal ? fmt::format("deal {}", *deal) : "";
    std::optional<ThreadKey> after;
    if (!p.cursor.empty()) {
        auto key = parse_thread_cursor(p.cursor, list, scope);
        if (!key)
            return print_error(key.error());
        after = *key;
    }
    auto page = deal ? backend.reads().deal_threads(op, *deal, after, p.limit)
                     : backend.reads().unsorted(op, after, p.limit);
    if (!page)
        return print_error(page.error());
    std::optional<std::string> next;
    if (page->next)
        next = thread_cursor(list, scope, *page->next);
    if (as_json) {
        json::array arr;
        for (const auto& t : page->threads)
            arr.push_back(thread_json(t));
        fmt::print("{}\n", json::serialize(json::object{
                               {"threads", arr},
                               {"total", page->total},
                               {"next_cursor", next ? json::value(*next) : json::value(nullptr)}}));
        return kOk;
    }
    print_thread_rows(page->threads);
    print_page_footer(page->threads.size(), page->total, "thread", next);
    return kOk;
}

int cmd_threads_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--deal", "--limit", "--cursor"}, {"--unsorted", "--json"});
    expect_args(a.positionals(), 0, "no positional arguments");
    if (a.has("--deal") && a.has("--unsorted"))
        throw UsageError{"--deal and --unsorted exclude each other"};
    if (page_args(a) && !a.has("--deal") && !a.has("--unsorted"))
        throw UsageError{"--limit and --cursor page a deal's threads (--deal) or the unsorted "
                         "queue (--unsorted)"};
    auto filter = OperatorReads::ThreadFilter::All;
    DealId deal = 0;
    if (auto d = a.value("--deal")) {
        deal = parse_id("--deal", *d);
        filter = OperatorReads::ThreadFilter::Deal;
    } else if (a.has("--unsorted")) {
        filter = OperatorReads::ThreadFilter::Unsorted;
    }
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    OperatorReads& reads = backend->operator_reads();
    if (filter == OperatorReads::ThreadFilter::Deal) {
        auto ex = reads.deal_exists(deal);
        if (!ex)
            return print_error(ex.error());
        if (!*ex) {
            fmt::print(stderr, "crm-mailctl: deal {} does not exist\n", deal);
            return kRuntime;
        }
    }
    if (auto p = page_args(a))
        return threads_page(*backend,
                            filter == OperatorReads::ThreadFilter::Deal ? std::optional(deal)
                                                                        : std::nullopt,
                            *p, a.has("--json"));
    auto threads = reads.list_threads(filter, deal);
    if (!threads)
        return print_error(threads.error());
    if (a.has("--json")) {
        json::array arr;
        for (const auto& t : *threads)
            arr.push_back(thread_json(t));
        fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    print_thread_rows(*threads);
    fmt::print("{} thread(s)\n", threads->size());
    return kOk;
}

int cmd_message_raw(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 1, "MESSAGE id");
    MessageRowId id = parse_id("MESSAGE", a.positionals()[0]);
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    OperatorReads& reads = backend->operator_reads();
    auto raw = reads.raw_message(id);
    if (!raw)
        return print_error(raw.error());
    if (!*raw) {
        fmt::print(stderr, "crm-mailctl: message {} does not exist\n", id);
        return kRuntime;
    }
    if (std::fwrite((*raw)->data(), 1, (*raw)->size(), stdout) != (*raw)->size() ||
        std::fflush(stdout) != 0) {
        fmt::print(stderr, "crm-mailctl: writing message {}: {}\n", id, std::strerror(errno));
        return kRuntime;
    }
    return kOk;
}

int cmd_thread_show(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    expect_args(a.positionals(), 1, "THREAD id");
    ThreadId id = parse_id("THREAD", a.positionals()[0]);
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    OperatorReads& reads = backend->operator_reads();
    auto t = reads.thread(id);
    if (!t)
        return print_error(t.error());
    if (!*t) {
        fmt::print(stderr, "crm-mailctl: thread {} does not exist\n", id);
        return kRuntime;
    }
    auto msgs = reads.thread_messages(id);
    if (!msgs)
        return print_error(msgs.error());
    if (a.has("--json")) {
        auto o = thread_json(**t);
        json::array arr;
        for (const auto& m : *msgs) {
            json::object x;
            x["id"] = m.id;
            x["message_id"] = m.message_id;
            x["date"] = m.date ? json::value(*m.date) : json::value(nullptr);
            x["from_name"] = m.from_name;
            x["from_address"] = m.from_address;
            json::array to, cc;
            for (const auto& s : m.to)
                to.push_back(json::string(s));
            for (const auto& s : m.cc)
                cc.push_back(json::string(s));
            x["to"] = to;
            x["cc"] = cc;
            x["subject"] = m.subject;
            x["text"] = m.text_body;
            x["has_html"] = !m.html_body.empty();
            x["unread"] = m.unread;
            x["outgoing"] = m.outgoing;
            x["unparsable"] = m.unparsable;
            x["sort_reason"] = m.sort_reason;
            json::array w;
            for (const auto& s : m.warnings)
                w.push_back(json::string(s));
            x["warnings"] = w;
            json::array att;
            for (const auto& at : m.attachments) {
                json::object ao;
                ao["filename"] = at.filename;
                ao["content_type"] = at.content_type;
                ao["size"] = at.size;
                ao["sha256"] = at.sha256;
                ao["inline"] = at.is_inline;
                att.push_back(ao);
            }
            x["attachments"] = att;
            arr.push_back(x);
        }
        o["messages_list"] = arr;
        fmt::print("{}\n", json::serialize(o));
        return kOk;
    }
    const auto& th = **t;
    fmt::print("Thread {}: {}\n", th.id, printable(th.subject));
    if (th.deal)
        fmt::print("Deal:   {} {} ({}{})\n", *th.deal, printable(th.deal_name),
                   th.manual ? "manual, " : "", printable(th.reason));
    else
        fmt::print("Deal:   unsorted ({}){}\n", printable(th.reason),
                   th.suggestions.empty()
                       ? std::string()
                       : fmt::format("; suggested: {}", fmt::join(th.suggestions, ", ")));
    for (const auto& m : *msgs) {
        fmt::print("\n--- {} {}{} <{}>{}\n", fmt_date(m.date), printable(m.from_name),
                   m.from_name.empty() ? "" : " ", printable(m.from_address),
                   m.unread ? "  [unread]" : "");
        if (!m.to.empty())
            fmt::print("To: {}\n", printable(fmt::format("{}", fmt::join(m.to, ", "))));
        if (!m.cc.empty())
            fmt::print("Cc: {}\n", printable(fmt::format("{}", fmt::join(m.cc, ", "))));
        fmt::print("Subject: {}\nMessage-ID: <{}> (message {})\n", printable(m.subject),
                   printable(m.message_id), m.id);
        for (const auto& at : m.attachments)
            fmt::print("Attachment: {} ({}, {} bytes)\n",
                       at.filename.empty() ? "(unnamed)" : printable(at.filename),
                       printable(at.content_type), at.size);
        fmt::print("\n{}\n", printable(m.text_body, true));
    }
    return kOk;
}

int cmd_thread_link(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 2, "THREAD DEAL");
    ThreadId t = parse_id("THREAD", a.positionals()[0]);
    DealId d = parse_id("DEAL", a.positionals()[1]);
    auto* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    if (auto r = app::link_thread(*backend, kOperator, t, d, ctx.clock->now()); !r)
        return print_error(r.error());
    fmt::print("thread {} linked to deal {} (manual)\n", t, d);
    return kOk;
}

int cmd_thread_unlink(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 1, "THREAD");
    ThreadId t = parse_id("THREAD", a.positionals()[0]);
    auto* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    if (auto r = app::unlink_thread(*backend, kOperator, t, ctx.clock->now()); !r)
        return print_error(r.error());
    fmt::print("thread {} unlinked; it is in the unsorted queue\n", t);
    return kOk;
}

int cmd_thread_split(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 1, "MESSAGE");
    const std::string& arg = a.positionals()[0];
    auto* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    MessageRowId message = 0;
    if (arg.find('@') == std::string::npos) {
        message = parse_id("MESSAGE", arg);
    } else {
        std::string_view mid = arg;
        if (mid.size() >= 2 && mid.front() == '<' && mid.back() == '>')
            mid = mid.substr(1, mid.size() - 2);
        auto rows = backend->edits().messages_with_id(mid);
        if (!rows)
            return print_error(rows.error());
        if (rows->empty()) {
            fmt::print(stderr, "crm-mailctl thread split: no message has Message-ID <{}>\n",
                       printable(mid));
            return kRuntime;
        }
        if (rows->size() > 1) {
            fmt::print(stderr,
                       "crm-mailctl thread split: {} messages have Message-ID <{}> (different "
                       "content): name one by its id ({})\n",
                       rows->size(), printable(mid), fmt::join(*rows, ", "));
            return kRuntime;
        }
        message = rows->front();
    }
    auto r = app::split_message(*backend, kOperator, message, ctx.clock->now());
    if (!r)
        return print_error(r.error());
    fmt::print("message {} and {} repl{} moved from thread {} to new thread {} (unsorted, held "
               "for a person); the two are not joined again automatically\n",
               message, r->moved - 1, r->moved == 2 ? "y" : "ies", r->from, r->thread);
    return kOk;
}

int print_lines(const Result<std::vector<std::string>>& lines) {
    if (!lines)
        return print_error(lines.error());
    std::string out;
    for (const auto& l : *lines) {
        out += l;
        out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return kOk;
}

int cmd_export_threads(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 0, "no arguments");
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    OperatorReads& reads = backend->operator_reads();
    return print_lines(reads.export_threads());
}

int cmd_export_deal_links(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    expect_args(a.positionals(), 0, "no arguments");
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    OperatorReads& reads = backend->operator_reads();
    return print_lines(reads.export_deal_links());
}

// A page of the deal list, as the API pages it (the same cursors and order: open deals first,
// then by last activity).
int deals_page(Backend& backend, const PageArgs& p, bool as_json) {
    const Viewer op{.user = 0, .admin = true}; // the operator on the host: everything
    std::optional<DealKey> after;
    if (!p.cursor.empty()) {
        auto key = parse_deal_cursor(p.cursor);
        if (!key)
            return print_error(key.error());
        after = *key;
    }
    auto page = backend.reads().deal_page(op, after, p.limit);
    if (!page)
        return print_error(page.error());
    std::optional<std::string> next;
    if (page->next)
        next = deal_cursor(*page->next);
    if (as_json) {
        json::array arr;
        for (const auto& d : page->deals)
            arr.push_back(json::object{{"id", d.id},
                                       {"name", d.name},
                                       {"stage", d.stage},
                                       {"status", d.status},
                                       {"threads", d.threads},
                                       {"messages", d.messages},
                                       {"unread", d.unread}});
        fmt::print("{}\n", json::serialize(json::object{
                               {"deals", arr},
                               {"total", page->total},
                               {"next_cursor", next ? json::value(*next) : json::value(nullptr)}}));
        return kOk;
    }
    fmt::print("{:>5}  {:<32} {:<12} {:<6} {:>7} {:>8} {:>6}\n", "DEAL", "NAME", "STAGE", "STATUS",
               "THREADS", "MESSAGES", "UNREAD");
    for (const auto& d : page->deals)
        fmt::print("{:>5}  {:<32} {:<12} {:<6} {:>7} {:>8} {:>6}\n", d.id, printable(d.name),
                   printable(d.stage), d.status, d.threads, d.messages, d.unread);
    print_page_footer(page->deals.size(), page->total, "deal", next);
    return kOk;
}

int cmd_deals_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--limit", "--cursor"}, {"--json"});
    expect_args(a.positionals(), 0, "no arguments");
    Backend* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    if (auto p = page_args(a))
        return deals_page(*backend, *p, a.has("--json"));
    OperatorReads& reads = backend->operator_reads();
    auto deals = reads.deals();
    if (!deals)
        return print_error(deals.error());
    if (a.has("--json")) {
        json::array arr;
        for (const auto& d : *deals) {
            json::object o;
            o["id"] = d.id;
            o["name"] = d.name;
            o["stage"] = d.stage;
            o["status"] = d.status;
            o["threads"] = d.threads;
            o["messages"] = d.messages;
            o["unread"] = d.unread;
            arr.push_back(o);
        }
        fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    fmt::print("{:>5}  {:<32} {:<12} {:<6} {:>7} {:>8} {:>6}\n", "DEAL", "NAME", "STAGE", "STATUS",
               "THREADS", "MESSAGES", "UNREAD");
    for (const auto& d : *deals)
        fmt::print("{:>5}  {:<32} {:<12} {:<6} {:>7} {:>8} {:>6}\n", d.id, printable(d.name), printable(d.stage),
                   d.status, d.threads, d.messages, d.unread);
    return kOk;
}

} // namespace

std::optional<WebUser> crm_user(Backend& backend, const std::string& value, const char* command) {
    const auto id = parse_id("--user", value);
    auto user = backend.logins().user(id);
    if (!user) {
        print_error(user.error());
        return std::nullopt;
    }
    if (!*user)
        fmt::print(stderr, "crm-mailctl {}: no CRM user {}\n", command, id);
    return *user;
}

int print_error(const Error& e) {
    fmt::print(stderr, "crm-mailctl: {} ({})\n", e.detail, e.code);
    return kRuntime;
}

bool Context::open(bool migrate) {
    if (db)
        return true;
    if (pg) {
        fmt::print(stderr,
                   "crm-mailctl: the database is PostgreSQL ({}): this command works on a SQLite "
                   "database only\n",
                   pg::redact_url(pg->url));
        return false;
    }
    auto d = store::Database::open(db_path);
    if (!d) {
        print_error(d.error());
        return false;
    }
    db = std::move(*d);
    if (migrate) {
        // Commands that use the data bring the schema up to date first (forward-only,
        // each migration in its own transaction); a newer database is refused.
        if (auto m = db->migrate(); !m) {
            print_error(m.error());
            return false;
        }
    }
    store = std::make_unique<store::Store>(*db);
    return true;
}

Backend* Context::backend() {
    if (backend_)
        return backend_.get();
    if (pg) {
        auto c = connect_pg(*this);
        if (!c)
            return nullptr;
        // The schema must be exactly this binary's (`db migrate` brings it there).
        if (auto r = pg::require_current(*c); !r) {
            print_error(r.error());
            return nullptr;
        }
        backend_ = std::make_unique<pg::PgBackend>(std::move(*c));
        return backend_.get();
    }
    if (!open())
        return nullptr;
    backend_ = std::make_unique<store::SqliteBackend>(*db);
    return backend_.get();
}

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {{"db", "migrate"},
         "",
         "Apply pending schema migrations (forward-only, checksummed).",
         cmd_db_migrate},
        {{"db", "reindex"},
         "",
         "Rebuild the full-text search index from the stored messages (for a database whose\n"
         "index was damaged; new messages are indexed as they are stored). SQLite only.",
         cmd_db_reindex},
        {{"search"},
         "QUERY [--user ID] [--limit N] [--cursor C] [--json]",
         "Search the stored mail, best hits first, with the matching passage in [brackets].\n"
         "QUERY: words, \"phrases\", -excluded, from:, to:, subject:, filename:, deal:N,\n"
         "has:attachment, after:/before:YYYY-MM-DD, is:unread, is:read, is:unsorted.\n"
         "Diacritics and case do not matter; Chinese and Japanese text is found by any part.\n"
         "--user shows what that CRM user may see (default: everything). --limit (25, at\n"
         "most 100) hits a page; the last line gives the --cursor of the next page.",
         cmd_search},
        {{"followups"},
         "[--user ID] [--json]",
         "The conversations on open deals that wait for a follow-up today, most overdue first:\n"
         "awaiting their reply (our last message [followups] awaiting_days business days old,\n"
         "or the deal's own setting; an out-of-office answer does not count) and needs our\n"
         "answer (theirs answer_hours old). --user: that salesperson's deals (default: each\n"
         "deal owner's list in turn). Snoozed threads are left out until their time.",
         cmd_followups},
        {{"resort"},
         "[--deal N | --all] [--json]",
         "Decide stored threads again with the CRM's records as they are now (crm-maild does it\n"
         "by itself within seconds of a change): the unsorted queue's threads, and with --deal N\n"
         "that deal's automatic links, with --all every automatic link. A sure deal links an\n"
         "unsorted thread; an automatic link the CRM no longer supports (its deal still open)\n"
         "goes to the queue, held for a person. Manual links and held threads are never\n"
         "touched. Prints each change and the count.",
         cmd_resort},
        {{"quarantine", "list"},
         "[--account NAME] [--json]",
         "Messages the sync could not store: each with its id, account, mailbox, UID, attempts,\n"
         "state (retrying; given up after 3 failures: no longer fetched) and the last reason.",
         cmd_quarantine_list},
        {{"quarantine", "show"}, "ID", "One quarantined message in full.", cmd_quarantine_show},
        {{"quarantine", "retry"},
         "ID",
         "Release a quarantined message: crm-maild fetches it again at the account's next pass\n"
         "(after an upgrade that may parse it). It is quarantined again if it still fails.",
         cmd_quarantine_retry},
        {{"quarantine", "drop"},
         "ID",
         "Accept the loss: the message is never fetched again and leaves the list and the\n"
         "metrics.",
         cmd_quarantine_drop},
        {{"db", "status"},
         "[--json]",
         "Show the schema version, applied and pending migrations and any checksum problem.",
         cmd_db_status},
        {{"workers"},
         "[--json]",
         "PostgreSQL: every crm-maild worker with its accounts, each lease's epoch and time\n"
         "left, the heartbeat and each account's lag (seconds since its last good sync).\n"
         "Accounts no live worker holds are listed last.",
         cmd_workers},
        {{"crm", "import"},
         "users|companies|contacts|deals FILE.csv",
         "Import CRM records from CSV with a header row (columns in any order).\n"
         "  users:     id,name,email,role            role: salesperson or admin\n"
         "  companies: id,name,domains               domains separated by spaces\n"
         "  contacts:  id,name,emails,company_id     emails separated by spaces\n"
         "  deals:     id,name,company_id,contact_ids,owner_id,stage,status,value,currency,\n"
         "             shared (optional: true makes the deal visible to every salesperson)\n"
         "The id in the file is kept. A bad row is reported with its line number and the\n"
         "others are imported; the exit code is then 1.",
         cmd_crm_import},
        {{"import"},
         "[--owner USER_ID] [--fallback-charset CS] PATH...",
         "Import mail: Maildir folders (recursively, cur/ and new/), mbox files (also .gz)\n"
         "and single .eml files. --owner names the CRM user the mailbox belongs to (tells\n"
         "our own outgoing mail apart and counts in deal scoring). --fallback-charset reads\n"
         "text that declares no charset and is not UTF-8 (default windows-1252; for example\n"
         "windows-1250 for Romanian or Polish mail). Importing the same mail twice adds\n"
         "nothing. Prints a summary; exit code 1 if any file had errors.",
         cmd_import},
        {{"threads", "list"},
         "[--deal ID | --unsorted] [--limit N] [--cursor C] [--json]",
         "List conversations, newest first, with their deal or unsorted reason. With\n"
         "--limit (1-500) or --cursor, a deal's threads or the queue come a page at a time\n"
         "(100 by default); the last line gives the count and the --cursor of the next page.",
         cmd_threads_list},
        {{"thread", "show"},
         "THREAD [--json]",
         "Show a conversation's messages in order.",
         cmd_thread_show},
        {{"message", "raw"},
         "MESSAGE",
         "Write a message's original bytes (as received, before any decoding) to stdout;\n"
         "MESSAGE is the id shown by `thread show`.",
         cmd_message_raw},
        {{"thread", "link"},
         "THREAD DEAL",
         "Link a conversation to a deal by hand (the sorter never overrides it).",
         cmd_thread_link},
        {{"thread", "unlink"},
         "THREAD",
         "Remove a conversation's deal link; it goes to the unsorted queue, where it waits\n"
         "for a person (the sorter does not link it again by itself).",
         cmd_thread_unlink},
        {{"thread", "split"},
         "MESSAGE",
         "\"Not part of this conversation\": move a message and the replies that reference\n"
         "it into a new thread, held in the unsorted queue. The two threads are never\n"
         "joined again automatically. MESSAGE is the id shown by `thread show` or a\n"
         "Message-ID.",
         cmd_thread_split},
        {{"deals", "list"},
         "[--limit N] [--cursor C] [--json]",
         "List deals with thread, message and unread counts. With --limit (1-500) or\n"
         "--cursor, a page at a time, open deals first, then by last activity.",
         cmd_deals_list},
        {{"config", "check"},
         "[FILE] [--quiet]",
         "Validate a crm-mail configuration (default /etc/crm-mail/crm-mail.toml): every\n"
         "problem is reported as FILE:LINE:COLUMN. Exit code 1 when there are errors.",
         cmd_config_check},
        {{"accounts", "status"},
         "[NAME] [--json]",
         "Sync health of each mail account: state, last success, messages, initial-sync\n"
         "progress (done of total, rate, ETA) and the last error.",
         cmd_accounts_status},
        {{"send"},
         "--deal N --account NAME --to ADDR [--to ADDR]... [--cc ADDR]... [--bcc ADDR]... "
         "--subject TEXT --body-file F [--attach FILE]... [--signature]",
         "Queue a new mail on a deal in the outbox (crm-maild sends it) and print its outbox\n"
         "id. Its Message-ID names the deal, so answers and its copy in Sent find the deal.\n"
         "Addresses, subject and file names with CR, LF or NUL are refused; attachments are\n"
         "held to [compose] max_attachment_bytes and max_message_bytes. --signature signs it\n"
         "with the account owner's signature (set on the page).",
         cmd_send},
        {{"reply"},
         "THREAD [--to-message MSGID] [--all] [--to ADDR]... [--cc ADDR]... "
         "[--bcc ADDR]... --body-file F [--html-file F] [--attach FILE]... "
         "[--account NAME] [--quote] [--signature]",
         "Queue a reply in the outbox (crm-maild sends it) and print its outbox id.\n"
         "It answers the thread's newest message (or --to-message): To is its Reply-To or\n"
         "From; --all adds the other external participants (never our own addresses); --to\n"
         "replaces the recipients. Subject gets exactly one \"Re:\"; In-Reply-To/References\n"
         "thread it; our Message-ID carries the deal, so the answer finds the deal.\n"
         "Sent from the account the message came in through, or --account. --quote quotes\n"
         "the message answered under the text (and in HTML); --signature adds the account\n"
         "owner's signature.",
         cmd_reply},
        {{"outbox", "list"},
         "[--state S] [--limit N] [--cursor C] [--json]",
         "Replies and their state: queued, sending, sent, failed (with the server's reason),\n"
         "unknown (interrupted: a person must decide), cancelled. Oldest first; with --limit\n"
         "(1-500) or --cursor, a page at a time, newest first.",
         cmd_outbox_list},
        {{"outbox", "retry"},
         "ID",
         "Queue a failed, unknown or cancelled reply again.",
         cmd_outbox_retry},
        {{"outbox", "cancel"},
         "ID",
         "Cancel a queued, failed or unknown reply.",
         cmd_outbox_cancel},
        {{"accounts", "list"},
         "[--json]",
         "The accounts of the config file (--config): name, owner, address, server, secret\n"
         "source (never the secret).",
         cmd_accounts_list},
        {{"accounts", "add"},
         "NAME --owner ID --address ADDR --imap-host HOST [--imap-port P]\n"
         "       [--tls implicit|starttls|none] [--allow-insecure] [--ca-file PEM]\n"
         "       [--username U] [--auth password|xoauth2] [--folder F]... [--disabled]\n"
         "       [--password-file F | --password-env VAR | --password-stdin | --credential NAME]",
         "Add an [[accounts]] block to the config file (--config). The secret is prompted for\n"
         "without echo on a terminal, or read from a file (--password-file), an environment\n"
         "variable (--password-env) or one line of stdin (--password-stdin), and stored in\n"
         "secrets/NAME next to the config (mode 0600, owned by the crm-mail user when run as\n"
         "root), referenced by password_file (token_file with xoauth2); never inline.\n"
         "--credential NAME references a systemd credential (LoadCredential=) instead.\n"
         "The new file is validated before it replaces the old one (atomically); comments\n"
         "and other accounts are kept. Then reload the daemon: systemctl reload crm-maild.",
         cmd_accounts_add},
        {{"accounts", "edit"},
         "NAME [--owner ID] [--address A] [--imap-host H] [--imap-port P] [--tls T]\n"
         "       [--allow-insecure|--no-allow-insecure] [--ca-file PEM] [--username U]\n"
         "       [--auth A] [--folder F]... [--enabled|--disabled]\n"
         "       [--password-file F | --password-env VAR | --password-stdin | --credential N |\n"
         "        --password-prompt]",
         "Change an account of the config file; the account's block is rewritten (comments\n"
         "inside it are not kept), the rest of the file is unchanged. A new secret is stored\n"
         "as with add. Then reload the daemon: systemctl reload crm-maild.",
         cmd_accounts_edit},
        {{"accounts", "remove"},
         "NAME [--keep-secret]",
         "Remove an account's block from the config file and its secrets/NAME file. Mail\n"
         "already synced stays in the database. Then reload the daemon.",
         cmd_accounts_remove},
        {{"accounts", "test"},
         "NAME [--timeout SECONDS]",
         "Connect to the account's IMAP server (and SMTP server when configured) and log in,\n"
         "as the daemon would. Reports the failing step exactly: DNS, TCP, TLS (with the\n"
         "certificate problem), STARTTLS or authentication. Exit code 1 on any failure.",
         cmd_accounts_test},
        {{"accounts", "check"},
         "NAME [--timeout SECONDS] [--json]",
         "Is all of the account's mail here? Connects to its IMAP server as the daemon does and,\n"
         "for every folder the sync recorded, compares the server's UIDs (read-only: EXAMINE,\n"
         "UID SEARCH) with what is stored: the server's count, the stored, the quarantined, the\n"
         "missing UIDs (on the server, neither stored nor quarantined; mail older than\n"
         "initial_sync_days not yet backfilled counts) and the gone (expunged there, removed at\n"
         "the next reconcile). Exit code 1 when anything is missing or a folder cannot be read.",
         cmd_accounts_check},
        {{"accounts", "oauth"},
         "NAME [--flow device|loopback] [--port N] [--timeout SECONDS]",
         "Grant crm-mail access to an OAuth2 account's mailbox and store the refresh token in\n"
         "its oauth_refresh_token_file (0600). The device flow (Microsoft 365; the default when\n"
         "the account has a device endpoint) prints an address and a code to enter there from\n"
         "any browser. The loopback flow (Google; RFC 8252 with PKCE) prints an address to\n"
         "open in a browser on this host, or through ssh -L PORT:127.0.0.1:PORT with --port;\n"
         "the provider redirects to http://127.0.0.1:PORT/. Waits --timeout seconds (900).\n"
         "Then reload crm-maild to log in with it at once.",
         cmd_accounts_oauth},
        {{"accounts", "resync"},
         "NAME",
         "Clear the account's mailbox checkpoints (UIDNEXT, HIGHESTMODSEQ) so the daemon\n"
         "reconciles every mailbox on its next pass. Stored mail is kept; nothing is\n"
         "duplicated.",
         cmd_accounts_resync},
        {{"users", "password"},
         "USER_ID [--password-file F | --password-stdin]",
         "Set a CRM user's password for the web page (Argon2id; asked twice without echo on\n"
         "a terminal). Ends the user's open sessions.",
         cmd_users_password},
        {{"tokens", "create"},
         "USER_ID [--name NAME]",
         "Create an API token for the CRM application, acting as USER_ID. Prints the token\n"
         "once (only its SHA-256 is stored): send it as 'Authorization: Bearer TOKEN'.",
         cmd_tokens_create},
        {{"tokens", "list"},
         "[--json]",
         "API tokens: id, user, name, active or revoked.",
         cmd_tokens_list},
        {{"tokens", "revoke"}, "TOKEN_ID", "Revoke an API token at once.", cmd_tokens_revoke},
        {{"export", "threads"},
         "",
         "One line per thread: its Message-IDs sorted, space separated; lines in byte order.",
         cmd_export_threads},
        {{"export", "deal-links"},
         "",
         "One line per message: Message-ID TAB deal id or 'unsorted' TAB reason.",
         cmd_export_deal_links},
    };
    return all;
}

} // namespace crm::ctl
