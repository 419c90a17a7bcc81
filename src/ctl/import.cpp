// crm-mailctl import: local mail stores -> parse (on a worker thread) -> ingest (this thread),
// in batches of one transaction each, so memory stays bounded and a crash loses at most the
// batch in flight (which a rerun re-imports: ingest is idempotent).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/app/ingest.hpp"
#include "crm/app/ingest_batch.hpp"
#include "crm/mailfile/reader.hpp"
#include "crm/mime/parse.hpp"
#include "crm/runtime/ingest_options.hpp"
#include "crm/runtime/prepare.hpp"
#include "crm/runtime/sender_auth.hpp"
#include "crm/runtime/work_pool.hpp"
#include "crm/store/backend.hpp"

namespace crm::ctl {

namespace {

constexpr std::size_t kBatchMessages = 384;
constexpr std::size_t kBatchBytes = 12u << 20;

struct Item {
    mailfile::RawMessage raw;
    ParsedMessage parsed;
    std::string sha256; // of raw
    PackedBlob packed;  // raw as the store keeps it
};

struct Summary {
    std::size_t read = 0, fresh = 0, new_locations = 0, duplicates = 0, linked = 0,
                unsorted = 0, warnings = 0, unparsable = 0;
    std::vector<std::string> errors;
    std::map<std::string, std::size_t> reasons;
};

class Progress {
  public:
    explicit Progress(std::uint64_t total) : total_(total), tty_(isatty(STDERR_FILENO) != 0) {
        start_ = std::chrono::steady_clock::now();
    }
    void update(std::uint64_t bytes, std::size_t messages, bool force = false) {
        if (!tty_)
            return;
        auto now = std::chrono::steady_clock::now();
        if (!force && now - last_ < std::chrono::milliseconds(100))
            return;
        last_ = now;
        double secs = std::chrono::duration<double>(now - start_).count();
        double frac = total_ ? std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_)) : 0;
        int width = 30;
        int fill = static_cast<int>(frac * width);
        std::string bar(static_cast<std::size_t>(fill), '#');
        bar.resize(static_cast<std::size_t>(width), '.');
        double rate = secs > 0 ? static_cast<double>(messages) / secs : 0;
        std::string eta = "";
        if (frac > 0.01 && frac < 1)
            eta = fmt::format(" ETA {:.0f}s", secs / frac - secs);
        fmt::print(stderr, "\r[{}] {:3.0f}%  {} messages  {:.0f}/s{}   ", bar, frac * 100, messages,
                   rate, eta);
    }
    void done() {
        if (tty_)
            fmt::print(stderr, "\n");
    }

  private:
    std::uint64_t total_;
    bool tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

// Reads up to one batch; false when the walk is over and nothing was read.
bool read_batch(mailfile::Walker& w, std::vector<Item>& out, Summary& s) {
    out.clear();
    std::size_t bytes = 0;
    while (out.size() < kBatchMessages && bytes < kBatchBytes) {
        Item it;
        auto more = w.next(it.raw);
        if (!more) {
            s.errors.push_back(more.error().detail);
            break;
        }
        if (!*more)
            break;
        bytes += it.raw.bytes.size();
        out.push_back(std::move(it));
    }
    return !out.empty();
}

// Parsing is pure and dominates the CPU time: the pool's threads take the items one at a time
// (a few huge messages do not leave a thread idle) while this thread writes the previous batch.
// They also hash and compress the raw bytes (and free them), so the writer only writes; two
// batches in memory at once keep the peak under 150 MB.
WaitingFuture parse_batch(runtime::WorkPool& pool, std::vector<Item>& batch,
                          const auth::Verifier* verifier, const std::string& charset) {
    return pool.run(batch.size(), [&batch, verifier, &charset](std::size_t i) {
        auto& it = batch[i];
        runtime::prepare_raw(it.raw.bytes, it.parsed, it.sha256, it.packed, verifier, charset);
    });
}

} // namespace

int cmd_import(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--owner", "--fallback-charset"}, {});
    if (a.positionals().empty())
        throw UsageError{"expected at least one PATH"};
    // How undeclared 8-bit text is read, as an account's fallback_charset (default windows-1252).
    const std::string charset = a.value("--fallback-charset").value_or("");
    if (!charset.empty() && !settings::known_charset(charset))
        throw UsageError{"--fallback-charset: '" + charset +
                         "' is not a charset this system can read (for example windows-1250)"};
    std::optional<UserId> owner;
    if (auto o = a.value("--owner"))
        owner = parse_id("--owner", *o);
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    if (owner) {
        auto users = db->crm().users();
        if (!users)
            return print_error(users.error());
        if (std::find(users->begin(), users->end(), *owner) == users->end()) {
            fmt::print(stderr, "crm-mailctl import: --owner {}: no such CRM user (import users "
                               "first: crm-mailctl crm import users FILE.csv)\n",
                       *owner);
            return kUsage;
        }
    }
    mime::init();
    // SQLite alone on the database (no daemon, no CRM app connected): write pages once.
    const bool bulk = ctx.db && ctx.db->begin_bulk();
    struct EndBulk {
        store::Database* db;
        bool on;
        ~EndBulk() {
            if (on)
                db->end_bulk();
        }
    } end_bulk{ctx.db.get(), bulk};

    std::vector<std::filesystem::path> roots(a.positionals().begin(), a.positionals().end());
    mailfile::Walker walker(roots);
    // The daemon's [matching] settings when its config is readable and valid (else defaults):
    // the same authserv-ids and the same own DKIM/DMARC verification as crm-maild.
    const settings::MatchingConfig matching =
        config_matching(ctx.config_path).value_or(settings::MatchingConfig{});
    const auto opts = runtime::ingest_options(matching);
    auto sender_auth = runtime::make_sender_auth(matching);
    if (!sender_auth)
        return print_error(sender_auth.error());
    app::Ingestor ingestor(db->mail(), db->threads(), opts);
    app::IngestBatch batch(db->work(), ingestor);
    Summary s;
    Progress progress(walker.total_bytes_hint());
    auto t0 = std::chrono::steady_clock::now();

    runtime::WorkPool pool(runtime::parser_threads(), runtime::kParserNice);
    std::vector<Item> current, next;
    bool have = read_batch(walker, current, s);
    if (have)
        parse_batch(pool, current, sender_auth->verifier.get(), charset).get();
    while (have) {
        // Parse the next batch on the pool while this thread writes the current one.
        bool have_next = read_batch(walker, next, s);
        // Waits in its destructor, so `next` outlives the work on every way out of this loop.
        WaitingFuture parsing;
        if (have_next)
            parsing = parse_batch(pool, next, sender_auth->verifier.get(), charset);

        auto fail_batch = [&](const Error& e) {
            parsing.wait();
            progress.done();
            return print_error(e);
        };
        std::vector<app::BatchItem> items(current.size());
        for (std::size_t i = 0; i < current.size(); ++i) {
            auto& it = current[i];
            auto& src = items[i].source;
            src.raw = it.raw.bytes;
            src.raw_sha256 = it.sha256;
            src.raw_packed = &it.packed;
            src.where.source = it.raw.origin;
            src.where.owner = owner;
            src.seen = it.raw.seen;
            // The copy's flags, as an IMAP location's: read (S in the Maildir name, Status: R in
            // mbox) is \Seen, so the owner has no unread mark (schema/0017).
            if (it.raw.seen)
                src.where.flags = "\\Seen";
            src.owner = owner;
            items[i].parsed = &it.parsed;
        }
        auto out = batch.run(items, ctx.clock->now());
        if (!out)
            return fail_batch(out.error());
        s.read += current.size();
        for (const auto& f : out->failures)
            s.errors.push_back(current[f.index].raw.origin + ": " + f.error.detail);
        for (const auto& r : out->outcomes) {
            if (!r)
                continue;
            switch (r->kind) {
            case app::IngestKind::New:
                ++s.fresh;
                s.warnings += r->warnings;
                s.unparsable += r->unparsable ? 1u : 0u;
                if (r->deal)
                    ++s.linked;
                else
                    ++s.unsorted;
                ++s.reasons[r->reason];
                break;
            case app::IngestKind::NewLocation: ++s.new_locations; break;
            case app::IngestKind::Duplicate: ++s.duplicates; break;
            }
        }
        progress.update(walker.bytes_read(), s.read);
        if (parsing.valid())
            parsing.get();
        std::swap(current, next);
        have = have_next;
    }
    progress.update(walker.bytes_read(), s.read, true);
    progress.done();
    for (const auto& e : walker.errors())
        s.errors.push_back(e);

    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // The database's totals.
    std::optional<Result<Counts>> counts;
    if (db)
        counts = db->operator_reads().counts();
    fmt::print("read {} messages in {:.1f}s ({:.0f}/s): {} new, {} duplicates ({} new locations)\n",
               s.read, secs, secs > 0 ? static_cast<double>(s.read) / secs : 0.0, s.fresh,
               s.duplicates + s.new_locations, s.new_locations);
    fmt::print("new messages: {} linked to deals, {} unsorted; {} parse warnings, {} unparsable\n",
               s.linked, s.unsorted, s.warnings, s.unparsable);
    if (counts && *counts)
        fmt::print("database: {} messages in {} threads, {} threads linked to deals, {} unsorted\n",
                   (*counts)->messages, (*counts)->threads, (*counts)->linked_threads,
                   (*counts)->unsorted_threads);
    if (!s.reasons.empty()) {
        fmt::print("sorting reasons:\n");
        for (const auto& [reason, n] : s.reasons)
            fmt::print("  {:>6}  {}\n", n, reason);
    }
    if (!s.errors.empty()) {
        fmt::print("{} error(s):\n", s.errors.size());
        for (const auto& e : s.errors)
            fmt::print("  {}\n", e);
        return kRuntime;
    }
    return kOk;
}

} // namespace crm::ctl
