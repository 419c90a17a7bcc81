// FolderPlan and the folder pipeline, in process: a scripted server (exact commands) and an
// in-memory sink (exact stores and checkpoints). Each test states the server's side as a script,
// runs one or more passes, and checks the commands sent and what was stored and checkpointed.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "folder_sync.hpp"
#include "scripted_session.hpp"

namespace crm::imap {
namespace {

using test::Exchange;
using test::MemorySink;
using test::ScriptedSession;
using Strings = std::vector<std::string>;

const FolderInfo kInbox{"INBOX", "INBOX", ""};
const auto kNow = std::chrono::steady_clock::time_point{} + std::chrono::hours(1000);
constexpr std::int64_t kUnixNow = 1764633600; // 2025-12-02 00:00 UTC

const std::string kBodyItems = "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])";

FolderPolicy policy(std::size_t batch_messages, int initial_sync_days = 0) {
    FolderPolicy p;
    p.batch_messages = batch_messages;
    p.initial_sync_days = initial_sync_days;
    return p;
}

// "* n EXISTS" and the EXAMINE codes.
std::string examined(std::uint32_t exists, std::uint32_t uid_validity,
                     std::optional<std::uint32_t> uid_next,
                     std::optional<std::uint64_t> modseq = std::nullopt) {
    std::string s = fmt::format("* {} EXISTS\r\n* OK [UIDVALIDITY {}] v\r\n", exists, uid_validity);
    if (uid_next)
        s += fmt::format("* OK [UIDNEXT {}] n\r\n", *uid_next);
    if (modseq)
        s += fmt::format("* OK [HIGHESTMODSEQ {}] m\r\n", *modseq);
    return s;
}

std::string sizes(std::initializer_list<std::uint32_t> uids) {
    std::string s;
    for (auto u : uids)
        s += fmt::format("* {} FETCH (UID {} RFC822.SIZE 100)\r\n", u, u);
    return s;
}

std::string bodies(std::initializer_list<std::uint32_t> uids) {
    std::string s;
    for (auto u : uids) {
        const std::string msg = fmt::format("Subject: m{}\r\n\r\nx", u);
        s += fmt::format("* {} FETCH (UID {} FLAGS () RFC822.SIZE {} BODY[] {{{}}}\r\n{})\r\n", u,
                         u, msg.size(), msg.size(), msg);
    }
    return s;
}

// One pass over INBOX, as AccountSync runs it; `stopping` is AccountSync::stop()'s flag.
Result<void> pass(ScriptedSession& s, MemorySink& sink, SyncHistory& history, FolderPolicy pol,
                  std::chrono::steady_clock::time_point now, const bool& stopping) {
    boost::asio::io_context io;
    FolderSyncContext ctx{1, sink, pol, history, stopping, [](auto...) {}};
    auto fut = boost::asio::co_spawn(io, sync_folder(s, kInbox, ctx, now, kUnixNow),
                                     boost::asio::use_future);
    io.run();
    return fut.get();
}

Result<void> pass(ScriptedSession& s, MemorySink& sink, SyncHistory& history, FolderPolicy pol,
                  std::chrono::steady_clock::time_point now = kNow) {
    const bool running = false;
    return pass(s, sink, history, pol, now, running);
}

// A pass that must succeed, use the whole script and leave exactly `calls` in the sink (which
// are then cleared for the next pass).
void expect_pass(ScriptedSession& s, MemorySink& sink, SyncHistory& history, FolderPolicy pol,
                 const Strings& calls, std::chrono::steady_clock::time_point now = kNow) {
    auto r = pass(s, sink, history, pol, now);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(s.script_done()) << "sent: " << fmt::format("{}", fmt::join(s.sent, " | "));
    EXPECT_EQ(sink.calls, calls);
    sink.calls.clear();
}

// A pass that must fail with `code`, having left exactly `calls` in the sink (then cleared).
void expect_failed_pass(ScriptedSession& s, MemorySink& sink, SyncHistory& history,
                        FolderPolicy pol, const std::string& code, const Strings& calls) {
    auto r = pass(s, sink, history, pol);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, code);
    EXPECT_EQ(sink.calls, calls);
    sink.calls.clear();
}

// A folder synced before (UIDVALIDITY 7, checkpoint `uid_next`) whose reconcile and sweep
// timers were just reset, so that neither is due by time.
void synced_before(MemorySink& sink, SyncHistory& history, std::uint32_t uid_next,
                   std::set<std::uint32_t> stored) {
    sink.state.uid_validity = 7;
    sink.state.uid_next = uid_next;
    sink.stored = std::move(stored);
    history.last_reconcile = history.last_flag_sweep = kNow;
}

void expect_no_duplicates(const MemorySink& sink) {
    for (const auto& [uid, n] : sink.times_stored)
        EXPECT_EQ(n, 1) << "UID " << uid << " stored " << n << " times";
}

// First sync on a server without CONDSTORE/ESEARCH: every UID, newest batch first, then the
// checkpoint; the next pass sweeps flags and asks only for new UIDs; the one after sends
// EXAMINE alone (constant bytes per poll).
TEST(FolderPlan, InitialSyncThenSweepThenFastPath) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s1({}, {
                               {"EXAMINE INBOX", examined(3, 7, 4)},
                               {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                               {"UID FETCH 1:3 (UID RFC822.SIZE)", sizes({1, 2, 3})},
                               {"UID FETCH 2:3 " + kBodyItems, bodies({2, 3})},
                               {"UID FETCH 1 " + kBodyItems, bodies({1})},
                           });
    expect_pass(s1, sink, history, policy(2), Strings{"store 2,3", "store 1", "checkpoint 4 -"});
    EXPECT_EQ(sink.last_initial, (std::pair<std::uint64_t, std::uint64_t>{3, 3}));

    ScriptedSession s2({},
                       {
                           {"EXAMINE INBOX", examined(3, 7, 4)},
                           {"UID FETCH 1:* (UID FLAGS)", "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n"},
                           {"UID SEARCH UID 4:*", "* SEARCH 3\r\n"},
                       });
    // "UID 4:*" matches UID 3 when 3 is the highest (RFC 3501 §6.4.8): not fetched again.
    expect_pass(s2, sink, history, policy(2), Strings{"flags 1:\\Seen", "checkpoint 4 -"},
                kNow + std::chrono::seconds(1));

    ScriptedSession s3({}, {{"EXAMINE INBOX", examined(3, 7, 4)}});
    expect_pass(s3, sink, history, policy(2), Strings{}, kNow + std::chrono::seconds(2));
    EXPECT_EQ(s3.sent, (Strings{"EXAMINE INBOX"}));
    expect_no_duplicates(sink);
}

// A flag change seen in IDLE (no CONDSTORE) sweeps at the next pass, before the interval.
TEST(FolderPlan, IdleFlagNotificationSweepsAtOnce) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 3, {1, 2});
    history.flags_notified = {"INBOX"};
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(2, 7, 3)},
                              {"UID FETCH 1:* (UID FLAGS)", "* 2 FETCH (UID 2 FLAGS ())\r\n"},
                              {"UID SEARCH UID 3:*", "* SEARCH 2\r\n"},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"flags 2:", "checkpoint 3 -"});
    EXPECT_FALSE(history.flags_notified.contains("INBOX"));
}

// CONDSTORE: flags by CHANGEDSINCE over the checkpointed UIDs (never a sweep), MODSEQ fetched
// with new mail, HIGHESTMODSEQ checkpointed; unchanged HIGHESTMODSEQ (and no reconcile due):
// EXAMINE alone.
TEST(FolderPlan, CondstoreServer) {
    MemorySink sink;
    sink.state = {1, 7, 4, 100};
    sink.stored = {1, 2, 3};
    SyncHistory history; // sweep and reconcile long due: CONDSTORE needs neither
    ScriptedSession s(
        {"CONDSTORE"},
        {
            {"EXAMINE INBOX (CONDSTORE)", examined(4, 7, 5, 105)},
            {"UID FETCH 1:3 (UID FLAGS) (CHANGEDSINCE 100)",
             "* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (104))\r\n"},
            {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
            {"UID FETCH 4 (UID RFC822.SIZE)", sizes({4})},
            {"UID FETCH 4 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)", bodies({4})},
        });
    expect_pass(s, sink, history, policy(10),
                Strings{"flags 2:\\Seen", "store 4", "checkpoint 5 105"});

    ScriptedSession again({"CONDSTORE"}, {{"EXAMINE INBOX (CONDSTORE)", examined(4, 7, 5, 105)}});
    expect_pass(again, sink, history, policy(10), Strings{}, kNow + std::chrono::minutes(1));
    EXPECT_EQ(again.sent, (Strings{"EXAMINE INBOX (CONDSTORE)"}));
}

// QRESYNC (RFC 7162 §3.2.5): EXAMINE names the stored UIDVALIDITY and HIGHESTMODSEQ; the
// server's VANISHED (EARLIER) removes the stored UIDs it names (not the others in its ranges),
// its FETCHes carry the changed flags, and only the new UIDs are searched: no UID sweep and no
// CHANGEDSINCE FETCH, although the counts disagreed before the new mail was counted.
TEST(FolderPlan, QresyncServerReportsExpungesAndFlagsInExamine) {
    MemorySink sink;
    sink.state = {1, 7, 6, 100};
    sink.stored = {1, 2, 3, 4, 5};
    SyncHistory history;
    history.last_reconcile = history.last_flag_sweep = kNow; // no whole comparison due by time
    ScriptedSession s(
        {"CONDSTORE", "QRESYNC"},
        {
            // A change in the mailbox selected before comes first, up to [CLOSED] (RFC 7162
            // §3.2.11): not this folder's.
            {"EXAMINE INBOX (QRESYNC (7 100))",
             "* 9 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (99))\r\n* OK [CLOSED] closed\r\n" +
                 examined(4, 7, 7, 120) +
                 "* VANISHED (EARLIER) 2,4,40:50\r\n"
                 "* 3 FETCH (UID 5 FLAGS (\\Seen) MODSEQ (110))\r\n"},
            {"UID SEARCH UID 6:*", "* SEARCH 6\r\n"},
            {"UID FETCH 6 (UID RFC822.SIZE)", sizes({6})},
            {"UID FETCH 6 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)", bodies({6})},
        });
    expect_pass(s, sink, history, policy(10),
                Strings{"flags 5:\\Seen", "expunge 2,4", "store 6", "checkpoint 7 120"});

    // Nothing changed: the EXAMINE alone.
    ScriptedSession again({"CONDSTORE", "QRESYNC"},
                          {{"EXAMINE INBOX (QRESYNC (7 120))", examined(4, 7, 7, 120)}});
    expect_pass(again, sink, history, policy(10), Strings{});
    EXPECT_EQ(again.sent, (Strings{"EXAMINE INBOX (QRESYNC (7 120))"}));
}

// QRESYNC that leaves the counts disagreeing once the new UIDs are known (an expunge it did not
// report): the whole folder is compared after all.
TEST(FolderPlan, QresyncCountsThatStillDisagreeCompareTheWholeFolder) {
    MemorySink sink;
    sink.state = {1, 7, 4, 100};
    sink.stored = {1, 2, 3};
    SyncHistory history;
    history.last_reconcile = history.last_flag_sweep = kNow;
    ScriptedSession s(
        {"CONDSTORE", "QRESYNC"},
        {
            {"EXAMINE INBOX (QRESYNC (7 100))", examined(3, 7, 5, 105)},
            {"UID SEARCH UID 4:*", "* SEARCH 4\r\n"},
            {"UID SEARCH ALL", "* SEARCH 1 3 4\r\n"},
            {"UID FETCH 4 (UID RFC822.SIZE)", sizes({4})},
            {"UID FETCH 4 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)", bodies({4})},
        });
    expect_pass(s, sink, history, policy(10), Strings{"expunge 2", "store 4", "checkpoint 5 105"});
}

// A changed UIDVALIDITY: the server ignores QRESYNC's parameters; the stored locations go.
TEST(FolderPlan, QresyncWithANewUidValidityResets) {
    MemorySink sink;
    sink.state = {1, 7, 3, 100};
    sink.stored = {1, 2};
    SyncHistory history;
    ScriptedSession s(
        {"CONDSTORE", "QRESYNC"},
        {
            {"EXAMINE INBOX (QRESYNC (7 100))", examined(1, 9, 2, 5)},
            {"UID SEARCH ALL", "* SEARCH 1\r\n"},
            {"UID FETCH 1 (UID RFC822.SIZE)", sizes({1})},
            {"UID FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] MODSEQ)", bodies({1})},
        });
    expect_pass(s, sink, history, policy(10), Strings{"reset 9", "store 1", "checkpoint 2 5"});
}

// A new UIDVALIDITY drops the stored locations first, then the folder syncs as if new: no flag
// FETCH for UIDs of the old validity, everything fetched, checkpoint under the new validity.
TEST(FolderPlan, UidValidityChange) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 4, {1, 2, 3});
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(2, 9, 3)},
                              {"UID SEARCH ALL", "* SEARCH 1 2\r\n"},
                              {"UID FETCH 1:2 (UID RFC822.SIZE)", sizes({1, 2})},
                              {"UID FETCH 1:2 " + kBodyItems, bodies({1, 2})},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"reset 9", "store 1,2", "checkpoint 3 -"});
    EXPECT_EQ(sink.state.uid_validity, 9u);
}

// A message expunged between SEARCH and the size FETCH has no size: left out of the batch.
TEST(FolderPlan, ExpungeBeforeSizesLeavesUidOut) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(4, 7, 5)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
                              {"UID FETCH 1:4 (UID RFC822.SIZE)", sizes({1, 2, 4})},
                              {"UID FETCH 1:2,4 " + kBodyItems, bodies({1, 2, 4})},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"store 1,2,4", "checkpoint 5 -"});
}

// An expunge in the middle of a batch FETCH: the batch is stored without the message, the
// checkpoint still advances (expunged UIDs never come back), the next pass fetches nothing.
TEST(FolderPlan, ExpungeInMiddleOfBatch) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s(
        {}, {
                {"EXAMINE INBOX", examined(3, 7, 4)},
                {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                {"UID FETCH 1:3 (UID RFC822.SIZE)", sizes({1, 2, 3})},
                {"UID FETCH 1:3 " + kBodyItems, bodies({1}) + "* 2 EXPUNGE\r\n" + bodies({3})},
            });
    expect_pass(s, sink, history, policy(10), Strings{"store 1,3", "checkpoint 4 -"});

    history.last_flag_sweep = kNow;
    ScriptedSession next({}, {{"EXAMINE INBOX", examined(2, 7, 4)}});
    expect_pass(next, sink, history, policy(10), Strings{}, kNow + std::chrono::seconds(1));
    EXPECT_EQ(next.sent, (Strings{"EXAMINE INBOX"}));
    expect_no_duplicates(sink);
}

// The process dies after the last batch is committed and before the checkpoint: the restart
// (fresh history) finds every UID stored, fetches no body again, then writes the checkpoint.
TEST(FolderPlan, CrashBetweenBatchAndCheckpointResumes) {
    MemorySink sink;
    sink.failing_checkpoints = 1;
    {
        SyncHistory history;
        ScriptedSession s({}, {
                                  {"EXAMINE INBOX", examined(3, 7, 4)},
                                  {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                                  {"UID FETCH 1:3 (UID RFC822.SIZE)", sizes({1, 2, 3})},
                                  {"UID FETCH 2:3 " + kBodyItems, bodies({2, 3})},
                                  {"UID FETCH 1 " + kBodyItems, bodies({1})},
                              });
        expect_failed_pass(s, sink, history, policy(2), "test.crash",
                           Strings{"store 2,3", "store 1"});
        EXPECT_FALSE(sink.state.uid_next);
    }
    SyncHistory restarted;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(3, 7, 4)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                          });
    expect_pass(s, sink, restarted, policy(2), Strings{"checkpoint 4 -"});
    expect_no_duplicates(sink);
}

// The same with new mail on a checkpointed folder: the restart asks for UIDs from the old
// checkpoint, finds them stored and only advances the checkpoint.
TEST(FolderPlan, CrashBeforeCheckpointOfNewMailResumes) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 3, {1, 2});
    sink.failing_checkpoints = 1;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(4, 7, 5)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
                              {"UID FETCH 3:4 (UID RFC822.SIZE)", sizes({3, 4})},
                              {"UID FETCH 3:4 " + kBodyItems, bodies({3, 4})},
                          });
    expect_failed_pass(s, sink, history, policy(10), "test.crash", Strings{"store 3,4"});

    SyncHistory restarted;
    restarted.last_reconcile = restarted.last_flag_sweep = kNow;
    ScriptedSession again({}, {
                                  {"EXAMINE INBOX", examined(4, 7, 5)},
                                  {"UID SEARCH UID 3:*", "* SEARCH 3 4\r\n"},
                              });
    expect_pass(again, sink, restarted, policy(10), Strings{"checkpoint 5 -"});
    expect_no_duplicates(sink);
}

// A first sync of six messages in batches of two, up to the FETCH of the last batch: `last`.
std::vector<Exchange> six_new_messages(Exchange last) {
    return {
        {"EXAMINE INBOX", examined(6, 7, 7)},
        {"UID SEARCH ALL", "* SEARCH 1 2 3 4 5 6\r\n"},
        {"UID FETCH 1:6 (UID RFC822.SIZE)", sizes({1, 2, 3, 4, 5, 6})},
        {"UID FETCH 5:6 " + kBodyItems, bodies({5, 6})},
        {"UID FETCH 3:4 " + kBodyItems, bodies({3, 4})},
        std::move(last),
    };
}

// The connection drops while batches are in flight: committed batches stay, no checkpoint;
// the next pass fetches exactly the rest.
TEST(FolderPlan, ConnectionLostMidPassResumesWithRest) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s({}, six_new_messages(Exchange{"UID FETCH 1:2 " + kBodyItems, "", ""}));
    // The last FETCH: the connection is lost. Batch 5:6 was committed before the loss; 3:4 was read
    // but not yet stored.
    expect_failed_pass(s, sink, history, policy(2), "imap.io", Strings{"store 5,6"});

    ScriptedSession again({}, {
                                  {"EXAMINE INBOX", examined(6, 7, 7)},
                                  {"UID SEARCH ALL", "* SEARCH 1 2 3 4 5 6\r\n"},
                                  {"UID FETCH 1:4 (UID RFC822.SIZE)", sizes({1, 2, 3, 4})},
                                  {"UID FETCH 3:4 " + kBodyItems, bodies({3, 4})},
                                  {"UID FETCH 1:2 " + kBodyItems, bodies({1, 2})},
                              });
    expect_pass(again, sink, history, policy(2),
                Strings{"store 3,4", "store 1,2", "checkpoint 7 -"});
    expect_no_duplicates(sink);
}

// stop() while batches are in flight: the batch being stored is committed, the ones fetched
// after it are dropped (fetched again next time), and no checkpoint is written.
TEST(FolderPlan, StopKeepsCommittedBatchAndSkipsCheckpoint) {
    MemorySink sink;
    SyncHistory history;
    bool stopping = false;
    sink.after_store = [&] { stopping = true; };
    ScriptedSession s({},
                      six_new_messages(Exchange{"UID FETCH 1:2 " + kBodyItems, bodies({1, 2})}));
    auto r = pass(s, sink, history, policy(2), kNow, stopping);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_TRUE(s.script_done()); // the third FETCH was already out when stop() came
    EXPECT_EQ(sink.calls, (Strings{"store 5,6"}));
    EXPECT_FALSE(sink.state.uid_next);
}

// Quarantined UIDs count as present: not fetched again, not expunged.
TEST(FolderPlan, QuarantinedUidsAreSkipped) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 4, {1, 2});
    sink.quarantined = {3};
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(4, 7, 5)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
                              {"UID FETCH 4 (UID RFC822.SIZE)", sizes({4})},
                              {"UID FETCH 4 " + kBodyItems, bodies({4})},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"store 4", "checkpoint 5 -"});
}

// A quarantined message later expunged on the server: its record goes with the expunge, so the
// counts agree again and later passes do not compare the whole folder each time.
TEST(FolderPlan, AQuarantinedMessageExpungedOnTheServerIsForgotten) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 4, {1, 2});
    sink.quarantined = {3};
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(2, 7, 4)},
                              {"UID SEARCH ALL", "* SEARCH 1 2\r\n"},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"expunge 3", "checkpoint 4 -"});
    EXPECT_TRUE(sink.quarantined.empty());
    ScriptedSession again({}, {{"EXAMINE INBOX", examined(2, 7, 4)}});
    expect_pass(again, sink, history, policy(10), Strings{});
}

// A count that disagrees with the store reconciles: a UID gone from the server is expunged
// in the store (the message stays), nothing is fetched.
TEST(FolderPlan, ReconcileExpungesWhatTheServerLost) {
    MemorySink sink;
    SyncHistory history;
    synced_before(sink, history, 4, {1, 2, 3});
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(2, 7, 4)},
                              {"UID SEARCH ALL", "* SEARCH 1 3\r\n"},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"expunge 2", "checkpoint 4 -"});
}

// Initial sync of more than a batch: the last initial_sync_days first, then the backfill.
TEST(FolderPlan, InitialSyncFetchesRecentMailFirst) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(3, 7, 4)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                              {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 2\r\n"},
                              {"UID FETCH 2 (UID RFC822.SIZE)", sizes({2})},
                              {"UID FETCH 2 " + kBodyItems, bodies({2})},
                              {"UID FETCH 1,3 (UID RFC822.SIZE)", sizes({1, 3})},
                              {"UID FETCH 1,3 " + kBodyItems, bodies({1, 3})},
                          });
    expect_pass(s, sink, history, policy(2, 90), Strings{"store 2", "store 1,3", "checkpoint 4 -"});
}

// Backfill at a lower priority: a pass fetches at most backfill_batches batches of older mail,
// then ends (checkpoint written); the next pass compares the whole folder, fetches new mail
// first and whole, then the next part of the older mail; the count left is in the history.
TEST(FolderPlan, BackfillIsFetchedAPartEachPassAfterNewMail) {
    MemorySink sink;
    SyncHistory history;
    FolderPolicy pol = policy(2, 90);
    pol.backfill_batches = 1; // two older messages a pass
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(8, 7, 9)},
                              {"UID SEARCH ALL", "* SEARCH 1 2 3 4 5 6 7 8\r\n"},
                              {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 7 8\r\n"},
                              {"UID FETCH 7:8 (UID RFC822.SIZE)", sizes({7, 8})},
                              {"UID FETCH 7:8 " + kBodyItems, bodies({7, 8})},
                              {"UID FETCH 5:6 (UID RFC822.SIZE)", sizes({5, 6})},
                              {"UID FETCH 5:6 " + kBodyItems, bodies({5, 6})},
                          });
    expect_pass(s, sink, history, pol, Strings{"store 7,8", "store 5,6", "checkpoint 9 -"});
    EXPECT_EQ(history.backfill_pending["INBOX"], 4u);

    // New mail (UID 9) comes first, whole; then the next two older ones.
    history.last_flag_sweep = kNow; // no flag sweep due by time
    ScriptedSession s2({}, {
                               {"EXAMINE INBOX", examined(9, 7, 10)},
                               {"UID SEARCH ALL", "* SEARCH 1 2 3 4 5 6 7 8 9\r\n"},
                               {"UID FETCH 9 (UID RFC822.SIZE)", sizes({9})},
                               {"UID FETCH 9 " + kBodyItems, bodies({9})},
                               {"UID FETCH 3:4 (UID RFC822.SIZE)", sizes({3, 4})},
                               {"UID FETCH 3:4 " + kBodyItems, bodies({3, 4})},
                           });
    expect_pass(s2, sink, history, pol, Strings{"store 9", "store 3,4", "checkpoint 10 -"});
    EXPECT_EQ(history.backfill_pending["INBOX"], 2u);

    ScriptedSession s3({}, {
                               {"EXAMINE INBOX", examined(9, 7, 10)},
                               {"UID SEARCH ALL", "* SEARCH 1 2 3 4 5 6 7 8 9\r\n"},
                               {"UID FETCH 1:2 (UID RFC822.SIZE)", sizes({1, 2})},
                               {"UID FETCH 1:2 " + kBodyItems, bodies({1, 2})},
                           });
    expect_pass(s3, sink, history, pol, Strings{"store 1,2", "checkpoint 10 -"});
    EXPECT_EQ(history.backfill_pending["INBOX"], 0u);
    EXPECT_EQ(history.backfill_pending_total(), 0u);

    // Done: the counts agree, nothing pending: the EXAMINE alone.
    ScriptedSession s4({}, {{"EXAMINE INBOX", examined(9, 7, 10)}});
    expect_pass(s4, sink, history, pol, Strings{});
    expect_no_duplicates(sink);
}

// backfill = false: only the last initial_sync_days, on the first pass and on every later one
// (the older mail stays missing, and is never fetched), whatever the folder's size.
TEST(FolderPlan, WithoutBackfillOlderMailIsNeverFetched) {
    MemorySink sink;
    SyncHistory history;
    FolderPolicy pol = policy(10, 90);
    pol.backfill = false;
    ScriptedSession first({}, {
                                  {"EXAMINE INBOX", examined(3, 7, 4)},
                                  {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
                                  {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 3\r\n"},
                                  {"UID FETCH 3 (UID RFC822.SIZE)", sizes({3})},
                                  {"UID FETCH 3 " + kBodyItems, bodies({3})},
                              });
    expect_pass(first, sink, history, pol, Strings{"store 3", "checkpoint 4 -"});
    // New mail since (UID 4, dated before the window): fetched, as it is new to the folder.
    ScriptedSession fast({}, {
                                 {"EXAMINE INBOX", examined(4, 7, 5)},
                                 {"UID FETCH 1:* (UID FLAGS)", "* 1 FETCH (UID 3 FLAGS ())\r\n"},
                                 {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
                                 {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 3\r\n"},
                                 {"UID FETCH 4 (UID RFC822.SIZE)", sizes({4})},
                                 {"UID FETCH 4 " + kBodyItems, bodies({4})},
                             });
    expect_pass(fast, sink, history, pol, Strings{"flags 3:", "store 4", "checkpoint 5 -"},
                kNow + std::chrono::seconds(2));
    // Nothing new: the two left out do not make the counts disagree (no full comparison).
    ScriptedSession quiet({}, {{"EXAMINE INBOX", examined(4, 7, 5)}});
    expect_pass(quiet, sink, history, pol, Strings{}, kNow + std::chrono::seconds(4));
    // The next comparison of the whole folder: the old two are still missing, and left alone.
    ScriptedSession full({}, {
                                 {"EXAMINE INBOX", examined(4, 7, 5)},
                                 {"UID FETCH 1:* (UID FLAGS)", ""},
                                 {"UID SEARCH ALL", "* SEARCH 1 2 3 4\r\n"},
                                 {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 3 4\r\n"},
                             });
    expect_pass(full, sink, history, pol, Strings{"checkpoint 5 -"}, kNow + std::chrono::hours(2));
}

// backfill = false: when the old mail left on the server is deleted there, the next whole-folder
// comparison counts nothing left out, so the passes after it take the fast path again.
TEST(FolderPlan, WithoutBackfillTheLeftOutCountFollowsTheServer) {
    MemorySink sink;
    SyncHistory history;
    FolderPolicy pol = policy(10, 90);
    pol.backfill = false;
    ScriptedSession first({}, {
                                  {"EXAMINE INBOX", examined(2, 7, 3)},
                                  {"UID SEARCH ALL", "* SEARCH 1 2\r\n"},
                                  {"UID SEARCH SINCE 3-Sep-2025", "* SEARCH 2\r\n"},
                                  {"UID FETCH 2 (UID RFC822.SIZE)", sizes({2})},
                                  {"UID FETCH 2 " + kBodyItems, bodies({2})},
                              });
    expect_pass(first, sink, history, pol, Strings{"store 2", "checkpoint 3 -"});
    EXPECT_EQ(history.left_out["INBOX"], 1U);
    // UID 1 is deleted on the server: the counts disagree, the folder is compared again.
    ScriptedSession gone({}, {
                                 {"EXAMINE INBOX", examined(1, 7, 3)},
                                 {"UID FETCH 1:* (UID FLAGS)", "* 1 FETCH (UID 2 FLAGS ())\r\n"},
                                 {"UID SEARCH ALL", "* SEARCH 2\r\n"},
                             });
    expect_pass(gone, sink, history, pol, Strings{"flags 2:", "checkpoint 3 -"},
                kNow + std::chrono::seconds(2));
    EXPECT_EQ(history.left_out["INBOX"], 0U);
    // Now one message, one stored: the counts agree and the pass ends after EXAMINE.
    ScriptedSession quiet({}, {{"EXAMINE INBOX", examined(1, 7, 3)}});
    expect_pass(quiet, sink, history, pol, Strings{}, kNow + std::chrono::seconds(4));
}

// ESEARCH: one compact answer. Without it, "ALL" is asked in slices of 10,000 UIDs.
TEST(FolderPlan, SearchWithAndWithoutEsearch) {
    {
        MemorySink sink;
        sink.state = {1, 7, 25000, std::nullopt};
        sink.stored = {1, 2};
        SyncHistory history;
        history.last_flag_sweep = kNow;
        ScriptedSession s({"ESEARCH"}, {
                                           {"EXAMINE INBOX", examined(2, 7, 25000)},
                                           {"UID SEARCH RETURN (ALL) ALL",
                                            "* ESEARCH (TAG \"S2\") UID ALL 1:2\r\n"},
                                       });
        expect_pass(s, sink, history, policy(10), Strings{"checkpoint 25000 -"});
    }
    MemorySink sink;
    sink.state = {1, 7, 25000, std::nullopt};
    sink.stored = {1, 2};
    SyncHistory history;
    history.last_flag_sweep = kNow;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(2, 7, 25000)},
                              {"UID SEARCH UID 1:10000", "* SEARCH 1 2\r\n"},
                              {"UID SEARCH UID 10001:20000", ""},
                              {"UID SEARCH UID 20001:24999", ""},
                          });
    expect_pass(s, sink, history, policy(10), Strings{"checkpoint 25000 -"});
}

// Courier sends no [UIDNEXT]: STATUS is asked; a server answering neither gets the highest UID
// + 1 as checkpoint.
TEST(FolderPlan, MissingUidNextUsesStatusThenHighestUid) {
    {
        MemorySink sink;
        SyncHistory history;
        ScriptedSession s({}, {
                                  {"EXAMINE INBOX", examined(1, 7, std::nullopt)},
                                  {"STATUS INBOX (UIDNEXT)", "* STATUS INBOX (UIDNEXT 9)\r\n"},
                                  {"UID SEARCH ALL", "* SEARCH 8\r\n"},
                                  {"UID FETCH 8 (UID RFC822.SIZE)", sizes({8})},
                                  {"UID FETCH 8 " + kBodyItems, bodies({8})},
                              });
        expect_pass(s, sink, history, policy(10), Strings{"store 8", "checkpoint 9 -"});
    }
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s({}, {
                              {"EXAMINE INBOX", examined(1, 7, std::nullopt)},
                              {"STATUS INBOX (UIDNEXT)", "", "NO", "not here"},
                              {"UID SEARCH ALL", "* SEARCH 5\r\n"},
                              {"UID FETCH 5 (UID RFC822.SIZE)", sizes({5})},
                              {"UID FETCH 5 " + kBodyItems, bodies({5})},
                          });
    ASSERT_TRUE(pass(s, sink, history, policy(10)));
    EXPECT_EQ(sink.calls, (Strings{"store 5", "checkpoint 6 -"}));
}

// A refused EXAMINE or SEARCH is a Mailbox error; nothing is written.
TEST(FolderPlan, RefusedCommandsFailTheFolderOnly) {
    MemorySink sink;
    SyncHistory history;
    ScriptedSession s({}, {{"EXAMINE INBOX", "", "NO", "no such mailbox"}});
    auto r = pass(s, sink, history, policy(10));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "imap.examine");
    EXPECT_EQ(r.error().scope, ErrorScope::Mailbox);

    ScriptedSession s2({}, {
                               {"EXAMINE INBOX", examined(1, 7, 2)},
                               {"UID SEARCH ALL", "", "NO", "busy"},
                           });
    r = pass(s2, sink, history, policy(10));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "imap.search");
    EXPECT_EQ(r.error().scope, ErrorScope::Mailbox);
    EXPECT_TRUE(sink.calls.empty()); // no store, no checkpoint
}

// Gmail: labels and ids are fetched with the message.
TEST(FolderPlan, GmailFetchItems) {
    SyncHistory history;
    FolderPlan plan(kInbox, policy(10), ServerCaps{false, false, true}, history, kNow, kUnixNow);
    auto built = plan.batch_fetch({3, 4, 5, 9}).build("T1");
    ASSERT_TRUE(built);
    EXPECT_EQ(built->joined(), "T1 UID FETCH 3:5,9 (UID FLAGS INTERNALDATE RFC822.SIZE "
                               "BODY.PEEK[] X-GM-MSGID X-GM-THRID X-GM-LABELS)\r\n");
}

// Gmail: the size FETCH asks for X-GM-MSGID; a message the account stores already (from
// another label's folder) gains a location and is not downloaded; the rest is fetched.
TEST(FolderPlan, GmailCopiesOfStoredMessagesAreLinkedNotFetched) {
    MemorySink sink;
    sink.gm_msgids = {1011, 1013};
    SyncHistory history;
    const std::string gm_sizes =
        "* 1 FETCH (UID 1 RFC822.SIZE 100 FLAGS (\\Seen) X-GM-MSGID 1011 X-GM-LABELS "
        "(\\Inbox))\r\n"
        "* 2 FETCH (UID 2 RFC822.SIZE 100 FLAGS () X-GM-MSGID 1012 X-GM-LABELS ())\r\n"
        "* 3 FETCH (UID 3 RFC822.SIZE 100 FLAGS () X-GM-MSGID 1013 X-GM-LABELS (Deals))\r\n";
    const std::string gm_items =
        "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] X-GM-MSGID X-GM-THRID X-GM-LABELS)";
    ScriptedSession s(
        {"X-GM-EXT-1"},
        {
            {"EXAMINE INBOX", examined(3, 7, 4)},
            {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
            {"UID FETCH 1:3 (UID RFC822.SIZE FLAGS X-GM-MSGID X-GM-LABELS)", gm_sizes},
            {"UID FETCH 2 " + gm_items, bodies({2})},
        });
    expect_pass(s, sink, history, policy(10), {"link 1,3", "store 2", "checkpoint 4 -"});
    expect_no_duplicates(sink);

    // Nothing known: no link step, every message fetched.
    MemorySink fresh;
    SyncHistory h2;
    ScriptedSession s2(
        {"X-GM-EXT-1"},
        {
            {"EXAMINE INBOX", examined(3, 7, 4)},
            {"UID SEARCH ALL", "* SEARCH 1 2 3\r\n"},
            {"UID FETCH 1:3 (UID RFC822.SIZE FLAGS X-GM-MSGID X-GM-LABELS)", gm_sizes},
            {"UID FETCH 1:3 " + gm_items, bodies({1, 2, 3})},
        });
    expect_pass(s2, fresh, h2, policy(10), {"store 1,2,3", "checkpoint 4 -"});
}

// Gmail: labels change like flags (a salesperson files a message in Gmail): the CHANGEDSINCE
// FETCH asks for X-GM-LABELS too, and the update carries them.
TEST(FolderPlan, GmailLabelsAreUpdatedWithTheFlags) {
    MemorySink sink;
    sink.state = {1, 7, 4, 100};
    sink.stored = {1, 2, 3};
    SyncHistory history;
    history.last_reconcile = kNow;
    ScriptedSession s({"CONDSTORE", "X-GM-EXT-1"},
                      {
                          {"EXAMINE INBOX (CONDSTORE)", examined(3, 7, 4, 105)},
                          {"UID FETCH 1:3 (UID FLAGS X-GM-LABELS) (CHANGEDSINCE 100)",
                           "* 2 FETCH (UID 2 FLAGS (\\Seen) X-GM-LABELS (\"Deals/Acme\" "
                           "\"\\\\Inbox\") MODSEQ (104))\r\n"},
                          {"UID SEARCH UID 4:*", "* SEARCH 3\r\n"},
                      });
    expect_pass(s, sink, history, policy(10),
                Strings{"flags 2:\\Seen[Deals/Acme,\\Inbox]", "checkpoint 4 105"});
}

// With `gmail = false` the ids are not asked for: nothing is linked.
TEST(FolderPlan, GmailCopiesNeedTheExtension) {
    MemorySink sink;
    sink.gm_msgids = {1011};
    SyncHistory history;
    FolderPolicy pol = policy(10);
    pol.gmail_allowed = false;
    ScriptedSession s({"X-GM-EXT-1"}, {
                                          {"EXAMINE INBOX", examined(1, 7, 2)},
                                          {"UID SEARCH ALL", "* SEARCH 1\r\n"},
                                          {"UID FETCH 1 (UID RFC822.SIZE)", sizes({1})},
                                          {"UID FETCH 1 " + kBodyItems, bodies({1})},
                                      });
    expect_pass(s, sink, history, pol, {"store 1", "checkpoint 2 -"});
}

// The check before IDLE: news is another count, a higher UIDNEXT or HIGHESTMODSEQ.
TEST(SyncHistory, NewsSincePass) {
    SyncHistory h;
    ExamineResult ex{.exists = 3, .uid_validity = 7, .uid_next = 4, .highest_modseq = 10};
    EXPECT_FALSE(h.news_since_pass("INBOX", ex)); // no pass yet
    h.pass_end["INBOX"] = PassEnd{3, 4, 10};
    EXPECT_FALSE(h.news_since_pass("INBOX", ex));
    auto more = ex;
    more.exists = 2; // an expunge
    EXPECT_TRUE(h.news_since_pass("INBOX", more));
    more = ex;
    more.uid_next = 5;
    EXPECT_TRUE(h.news_since_pass("INBOX", more));
    more = ex;
    more.highest_modseq = 11;
    EXPECT_TRUE(h.news_since_pass("INBOX", more));
}

} // namespace
} // namespace crm::imap
