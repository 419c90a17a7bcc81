#pragma once
// A scripted IMAP server for in-process tests of the sync pipeline: a Session that checks each
// command against the script (exact text, without tag and CRLF) and answers with the script's
// server lines, parsed by the real ResponseParser. And an in-memory SyncSink that records what
// the pipeline stored and checkpointed.

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "session.hpp"

namespace crm::imap::test {

// One command and the server's answer.
struct Exchange {
    std::string command;       // expected, e.g. "UID SEARCH ALL"
    std::string untagged;      // server lines before the tagged answer, each ending in CRLF
    std::string status = "OK"; // tagged status; empty: the connection drops instead
    std::string text = "done";
};

class ScriptedSession final : public Session {
  public:
    ScriptedSession(std::set<std::string> caps, std::vector<Exchange> script)
        : caps_(std::move(caps)), script_(std::move(script)) {
        if (caps_.contains("QRESYNC")) // as if ENABLE QRESYNC had been answered
            note_enabled("QRESYNC");
    }

    // Every command the pipeline sent, in order (a refused one too).
    std::vector<std::string> sent;
    [[nodiscard]] bool script_done() const { return next_ == script_.size(); }

    asio::awaitable<Result<Response>> run(const CommandBuilder& command,
                                          const UntaggedHandler& on_untagged = {}) override {
        auto tag = co_await send(command);
        if (!tag)
            co_return std::unexpected(tag.error());
        co_return co_await collect(*tag, on_untagged);
    }

    asio::awaitable<Result<std::string>> send(const CommandBuilder& command) override {
        const std::string tag = fmt::format("S{}", ++tags_);
        auto built = command.build(tag);
        if (!built)
            co_return std::unexpected(built.error());
        if (built->parts.size() != 1)
            co_return fail("test.script", "literal in a scripted command", ErrorScope::Account);
        std::string line = built->joined();
        line = line.substr(tag.size() + 1, line.size() - tag.size() - 3); // no tag, no CRLF
        sent.push_back(line);
        if (next_ >= script_.size())
            co_return fail("test.script", "unexpected command after the script: " + line,
                           ErrorScope::Account);
        const Exchange& e = script_[next_++];
        if (e.command != line)
            co_return fail("test.script", fmt::format("expected '{}', got '{}'", e.command, line),
                           ErrorScope::Account);
        pending_.push_back({tag, &e});
        co_return tag;
    }

    asio::awaitable<Result<Response>> collect(const std::string& tag,
                                              const UntaggedHandler& on_untagged = {}) override {
        if (pending_.empty() || pending_.front().first != tag)
            co_return fail("test.script", "collect out of order: " + tag, ErrorScope::Account);
        const Exchange& e = *pending_.front().second;
        pending_.pop_front();
        if (e.status.empty())
            co_return fail("imap.io", "connection lost (scripted)", ErrorScope::Account,
                           Retry::Backoff);
        ResponseParser p;
        p.feed(e.untagged);
        p.feed(fmt::format("{} {} {}\r\n", tag, e.status, e.text));
        for (;;) {
            auto r = p.next();
            if (!r)
                co_return std::unexpected(r.error());
            if (!*r)
                co_return fail("test.script", "no tagged answer in the script for " + tag,
                               ErrorScope::Account);
            if ((*r)->kind == Response::Kind::Tagged)
                co_return std::move(**r);
            if (on_untagged)
                on_untagged(**r);
        }
    }

    asio::awaitable<Result<bool>> idle(std::chrono::seconds, const UntaggedHandler&) override {
        co_return fail("test.script", "IDLE is not scripted", ErrorScope::Account);
    }

    [[nodiscard]] bool has(const std::string& cap) const override { return caps_.contains(cap); }
    [[nodiscard]] std::uint64_t bytes_in() const override { return 0; }
    [[nodiscard]] std::uint64_t bytes_out() const override { return 0; }
    void cancel() override {}

  private:
    std::set<std::string> caps_;
    std::vector<Exchange> script_;
    std::size_t next_ = 0;
    std::uint64_t tags_ = 0;
    std::deque<std::pair<std::string, const Exchange*>> pending_;
};

// One mailbox in memory, with what a store would keep across a restart.
class MemorySink final : public SyncSink {
  public:
    MailboxState state{1, std::nullopt, std::nullopt, std::nullopt};
    std::set<std::uint32_t> stored, quarantined;
    std::map<std::uint32_t, int> times_stored; // a UID stored twice is a duplicate
    // The account's stored X-GM-MSGIDs (Gmail): their copies are linked, not fetched.
    std::set<std::uint64_t> gm_msgids;
    // The calls that change state, in order: "store 2,3", "checkpoint 4 -", "expunge 2", ...
    std::vector<std::string> calls;
    // The next n checkpoints fail, as if the process died right before writing them.
    int failing_checkpoints = 0;
    // Called after each stored batch (e.g. to stop the sync meanwhile).
    std::function<void()> after_store;

    Result<MailboxState> open_mailbox(AccountId, const std::string&, const std::string&) override {
        return state;
    }
    Result<std::vector<std::uint32_t>> stored_uids(MailboxId, std::uint32_t) override {
        return std::vector<std::uint32_t>(stored.begin(), stored.end());
    }
    Result<std::vector<std::uint32_t>> quarantined_uids(MailboxId, std::uint32_t) override {
        return std::vector<std::uint32_t>(quarantined.begin(), quarantined.end());
    }
    Result<std::int64_t> reset_uid_validity(MailboxId, std::uint32_t v) override {
        calls.push_back(fmt::format("reset {}", v));
        const auto n = static_cast<std::int64_t>(stored.size());
        stored.clear();
        quarantined.clear();
        state.uid_validity = v;
        state.uid_next.reset();
        state.highest_modseq.reset();
        return n;
    }
    WaitingFuture prepare(AccountId, std::vector<FetchedMessage>&) override {
        std::promise<void> done;
        done.set_value();
        return WaitingFuture(done.get_future());
    }
    PendingBatch store_batch_async(AccountId, MailboxId, std::uint32_t,
                                   std::vector<FetchedMessage>&& batch) override {
        std::string uids;
        for (const auto& m : batch) {
            uids += (uids.empty() ? "" : ",") + std::to_string(m.uid);
            stored.insert(m.uid);
            ++times_stored[m.uid];
            if (m.gm_msgid)
                gm_msgids.insert(*m.gm_msgid);
        }
        calls.push_back("store " + uids);
        if (after_store)
            after_store();
        BatchReport rep;
        rep.stored = batch.size();
        return PendingBatch(rep);
    }
    Result<std::vector<std::uint32_t>>
    link_known_copies(AccountId, MailboxId, std::uint32_t,
                      const std::vector<KnownCopy>& copies) override {
        std::vector<std::uint32_t> linked;
        std::string uids;
        for (const auto& k : copies)
            if (gm_msgids.contains(k.gm_msgid)) {
                linked.push_back(k.uid);
                stored.insert(k.uid);
                uids += (uids.empty() ? "" : ",") + std::to_string(k.uid);
            }
        if (!linked.empty())
            calls.push_back("link " + uids);
        return linked;
    }
    Result<void> checkpoint(MailboxId, std::uint32_t v, std::optional<std::uint32_t> uid_next,
                            std::optional<std::uint64_t> modseq) override {
        if (failing_checkpoints > 0) {
            --failing_checkpoints;
            return fail("test.crash", "the process died before the checkpoint", ErrorScope::Fatal);
        }
        calls.push_back(fmt::format("checkpoint {} {}", uid_next ? std::to_string(*uid_next) : "-",
                                    modseq ? std::to_string(*modseq) : "-"));
        state.uid_validity = v;
        state.uid_next = uid_next;
        state.highest_modseq = modseq;
        return {};
    }
    Result<std::int64_t> update_flags(MailboxId, std::uint32_t,
                                      const std::vector<FlagUpdate>& updates) override {
        std::string text;
        for (const auto& u : updates)
            text += fmt::format(
                "{}{}:{}{}", text.empty() ? "" : " ", u.uid, fmt::join(u.flags, ","),
                u.labels ? fmt::format("[{}]", fmt::join(*u.labels, ",")) : std::string());
        calls.push_back("flags " + text);
        return static_cast<std::int64_t>(updates.size());
    }
    Result<std::int64_t> expunge(MailboxId, std::uint32_t,
                                 const std::vector<std::uint32_t>& uids) override {
        for (auto u : uids) {
            stored.erase(u);
            quarantined.erase(u);
        }
        calls.push_back(fmt::format("expunge {}", fmt::join(uids, ",")));
        return static_cast<std::int64_t>(uids.size());
    }
    Result<void> set_health(AccountId, const AccountHealth& h) override {
        if (h.initial_done)
            last_initial = {*h.initial_done, h.initial_total.value_or(0)};
        return {};
    }
    std::pair<std::uint64_t, std::uint64_t> last_initial{0, 0}; // initial_done, initial_total
};

} // namespace crm::imap::test
