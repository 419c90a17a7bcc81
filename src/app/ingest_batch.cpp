#include "crm/app/ingest_batch.hpp"

namespace crm::app {

Result<BatchOutcome> IngestBatch::run(std::span<const BatchItem> items, std::int64_t now,
                                      FailureLog* log, const BatchHooks& hooks) {
    BatchOutcome out;
    bool isolate_needed = false;
    auto attempt = [&](bool isolated) -> Result<void> {
        out = {};
        out.outcomes.resize(items.size());
        return work_.transaction([&]() -> Result<void> {
            for (std::size_t i = 0; i < items.size(); ++i) {
                if (hooks.before_item)
                    hooks.before_item(i);
                const auto& item = items[i];
                Result<IngestOutcome> r = IngestOutcome{};
                auto store_one = [&]() -> Result<void> {
                    r = ingestor_.ingest(item.source, *item.parsed, now);
                    if (!r)
                        return std::unexpected(r.error());
                    return {};
                };
                if (isolated) {
                    // The savepoint undoes this message's partial writes; its error is kept in r.
                    auto sp = work_.savepoint(store_one);
                    if (r && !sp)
                        r = std::unexpected(sp.error());
                } else {
                    (void)store_one();
                }
                if (!r) {
                    if (r.error().scope != ErrorScope::Message)
                        return std::unexpected(r.error()); // the batch is rolled back
                    if (!isolated) {
                        isolate_needed = true;
                        return fail("ingest.isolate", "a message failed: store one at a time");
                    }
                    out.failures.push_back(ItemFailure{i, r.error(), false});
                    continue;
                }
                if (r->kind == IngestKind::New)
                    ++out.stored;
                else
                    ++out.locations;
                out.outcomes[i] = std::move(*r);
            }
            // The last message's writes may still wait in the store: their failure is a
            // message's, found by storing one at a time, like any other.
            if (auto settled = ingestor_.settle(); !settled) {
                if (settled.error().scope != ErrorScope::Message || isolated)
                    return std::unexpected(settled.error());
                isolate_needed = true;
                return fail("ingest.isolate", "a message failed: store one at a time");
            }
            if (hooks.before_commit)
                return hooks.before_commit(out);
            return {};
        });
    };
    auto done = attempt(false);
    if (!done && isolate_needed)
        done = attempt(true);
    if (!done)
        return std::unexpected(done.error());
    if (log) {
        for (auto& f : out.failures) {
            std::int64_t attempts = 0;
            auto rec = work_.transaction([&]() -> Result<void> {
                auto n = log->record_failure(f.index, f.error, now);
                if (!n)
                    return std::unexpected(n.error());
                attempts = *n;
                return {};
            });
            // Not counted is not given up on: the message is tried again with its next batch.
            if (rec && attempts >= kQuarantineAfter) {
                f.quarantined = true;
                ++out.quarantined;
            }
        }
    }
    return out;
}

} // namespace crm::app
