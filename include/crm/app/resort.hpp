#pragma once
// Re-sorting: the sorter decides stored threads again after the CRM's records changed (a contact,
// a company domain or a deal added, edited or closed), the way it decides a new message, from the
// thread's participants as the CRM knows them now. Only its own decisions are revisited: a
// manual link and a thread held for a person are never touched.
//
// - An unsorted thread (not held) is decided afresh: a sure deal links it; otherwise its reason
//   and suggestions are brought up to date.
// - An automatic link stays while the CRM still ties the thread to its deal (a participant is
//   the deal's contact or of its company, or our deal token names it) and places no participant
//   differently from when their mail was stored in another open deal (a customer the CRM learnt
//   since: the sorter weighed what it knew when it linked, as for a new message), and while the
//   deal is closed (a won or lost deal keeps its mail). Otherwise an open deal lets the thread
//   go: it waits in the unsorted queue, held for a person, with the reason and the deals the CRM
//   now points to ("re-sorted: the CRM no longer ties it to deal N (...)", "re-sorted: the CRM
//   now ties ADDRESS to deal M as well as to deal N (...)"). A link never moves to another deal
//   by itself: a wrong deal shows one customer's mail to the wrong people.
//
// Each thread is decided in a transaction of its own; one that fails is reported and skipped.
// The pass fails only when it cannot list the threads, or when ten threads in a row fail (the
// database is gone).

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/backend.hpp"
#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"
#include "crm/match/address.hpp"
#include "crm/match/sort.hpp"

namespace crm::app {

struct ResortChange {
    ThreadId thread = 0;
    std::optional<DealId> from; // the automatic link before; nullopt: it was unsorted
    std::optional<DealId> to;   // the link now; nullopt: unsorted
    bool held = false;          // now waits for a person
    std::string reason;
};

struct ResortReport {
    std::size_t examined = 0;
    std::vector<ResortChange> changes; // threads whose filing changed, in the order examined
    // Threads that could not be decided (each rolled back alone; the others go on).
    std::vector<std::pair<ThreadId, Error>> failed;
    bool stopped = false; // `stop` was set before every thread was examined
};

struct ResortOptions {
    match::SortPolicy sorting;
    match::AddressPolicy addresses; // which domains are free mail (never the team's)
    // Checked between threads: set, the pass ends early (the daemon stopping).
    const std::atomic<bool>* stop = nullptr;
};

[[nodiscard]] Result<ResortReport> resort(Backend& b, const ResortScope& scope, std::int64_t now,
                                          const ResortOptions& options = {});

} // namespace crm::app
