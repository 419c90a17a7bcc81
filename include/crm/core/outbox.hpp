#pragma once
// The outbox: replies queued by salespeople (crm-mailctl reply, the HTTP API), worked by the
// daemon. Durable from insertion. States: queued -> sending -> sent | failed | unknown, and
// cancelled; a sent (or unknown) entry becomes bounced when a delivery report says it failed. Also
// what composing a reply needs to know about the thread. Implemented by the store; one thread at a
// time.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/result.hpp"
#include "crm/core/stored_json.hpp"

namespace crm {

struct OutboxAttachment {
    std::string filename, content_type, sha256; // content in blobs
};

// What a delivery report said about one recipient of an entry (MailStore::record_delivery_report).
struct OutboxReport {
    std::string recipient; // "" when the report named none
    std::string action;    // failed | delayed | delivered | relayed | expanded
    std::string status, diagnostic;
    std::optional<MessageRowId> report; // the stored report message
    std::int64_t at = 0;
};

struct OutboxRow {
    std::int64_t id = 0;
    AccountId account = 0;
    std::optional<UserId> user;
    std::optional<ThreadId> thread;
    std::optional<MessageRowId> parent;
    std::optional<DealId> deal;
    std::string message_id; // ours, without <>
    std::string mode;       // reply | reply-all | custom
    std::vector<Address> to, cc, bcc;
    std::string subject, in_reply_to;
    std::vector<std::string> references;
    std::string text_body, html_body;
    std::vector<OutboxAttachment> attachments;
    std::string state;
    std::int64_t attempts = 0;
    std::optional<std::int64_t> next_attempt_at, sent_at;
    // When the end of DATA was about to go out (mark_data_done): unset, a crash while "sending"
    // delivered nothing.
    std::optional<std::int64_t> data_done_at;
    std::string last_error;
    std::int64_t created_at = 0, updated_at = 0;
    std::vector<OutboxReport> reports; // oldest first
};

// Reports as the stores read them: [[recipient, action, status, diagnostic, report id or "",
// time], ...] (stored::decode_rows).
[[nodiscard]] inline std::vector<OutboxReport> decode_outbox_reports(const std::string& json) {
    std::vector<OutboxReport> out;
    for (auto& row : stored::decode_rows(json)) {
        if (row.size() != 6)
            continue;
        OutboxReport r{std::move(row[0]), std::move(row[1]), std::move(row[2]),
                       std::move(row[3]), std::nullopt,      0};
        char* end = nullptr;
        if (!row[4].empty())
            r.report = std::strtoll(row[4].c_str(), &end, 10);
        r.at = std::strtoll(row[5].c_str(), &end, 10);
        out.push_back(std::move(r));
    }
    return out;
}

// The message a reply answers, with the thread's deal and the account it came in through.
// Whether `s` names an outbox state: queued, sending, sent, failed, unknown, cancelled or
// bounced.
[[nodiscard]] inline bool outbox_state(std::string_view s) {
    return s == "queued" || s == "sending" || s == "sent" || s == "failed" || s == "unknown" ||
           s == "cancelled" || s == "bounced";
}

// A page of the outbox, newest first, with the count of the whole list it pages through.
struct OutboxPage {
    std::vector<OutboxRow> rows;
    std::int64_t total = 0;
    std::optional<std::int64_t> next; // the id the next page starts below; nullopt: the last
};

// What an outbox page lists: entries in `state` (any when unset) queued by `user` (anyone's
// when unset).
struct OutboxFilter {
    std::optional<std::string> state;
    std::optional<UserId> user;
};

struct ReplyParent {
    MessageRowId id = 0;
    ThreadId thread = 0;
    std::string message_id, subject;
    std::vector<std::string> references; // its References ids
    std::vector<std::string> in_reply_to;
    std::vector<Address> from, reply_to, to, cc;
    std::optional<DealId> deal;
    std::optional<AccountId> account; // an IMAP account holding a copy
    std::string suspicious;           // why its sender looks spoofed: no default recipient then
};

struct SendingAccount {
    AccountId id = 0;
    std::string name, address;
    std::optional<UserId> owner;
    std::string owner_name;
};

class Outbox {
  public:
    virtual ~Outbox() = default;
    // The newest message of `thread`, or the one with `message_id` in it. nullopt: no such.
    virtual Result<std::optional<ReplyParent>>
    reply_parent(ThreadId thread, const std::optional<std::string>& message_id) = 0;
    virtual Result<std::optional<SendingAccount>> account(AccountId id) = 0;
    virtual Result<std::optional<SendingAccount>> account_by_name(const std::string& name) = 0;
    // Every address of our own team (canonical), to keep them out of reply-all.
    virtual Result<std::vector<std::string>> team_addresses() = 0;

    // Inserts a queued reply (attachment contents go to blobs). Returns its id.
    virtual Result<std::int64_t> queue(const OutboxRow& row,
                                       const std::vector<std::string>& attachment_contents,
                                       std::int64_t now) = 0;
    virtual Result<std::vector<OutboxRow>>
    list(const std::optional<std::string>& state = std::nullopt) = 0;
    // `limit` entries with ids below `before` (nullopt: from the newest), newest first.
    virtual Result<OutboxPage> page(const OutboxFilter& f, std::optional<std::int64_t> before,
                                    std::size_t limit) = 0;
    virtual Result<std::optional<OutboxRow>> get(std::int64_t id) = 0;
    // The next queued reply due at `now`, marked sending (caller commits before sending).
    virtual Result<std::optional<OutboxRow>> claim_due(std::int64_t now) = 0;
    virtual Result<std::string> attachment_content(const std::string& sha256) = 0;
    // State change with the server's reason; `next_attempt_at` for a retry.
    virtual Result<void> set_state(std::int64_t id, const std::string& state,
                                   const std::string& error,
                                   std::optional<std::int64_t> next_attempt_at,
                                   std::int64_t now) = 0;
    // The last bytes of the reply's DATA are about to be handed to the server (commit it before).
    virtual Result<void> mark_data_done(std::int64_t id, std::int64_t now) = 0;
    virtual Result<std::int64_t> depth() = 0; // queued + sending
};

} // namespace crm
