#pragma once
// The outbox: replies queued by salespeople (crm-mailctl reply, later the HTTP API), worked by the
// daemon. Durable from insertion. States: queued -> sending -> sent | failed | unknown, and
// cancelled. Also what composing a reply needs to know about the thread.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/message.hpp"
#include "crm/core/outbox.hpp"
#include "crm/core/result.hpp"
#include "crm/store/database.hpp"

namespace crm::store {

using crm::OutboxAttachment;
using crm::OutboxRow;
using crm::ReplyParent;
using crm::SendingAccount;

class OutboxStore final : public Outbox {
  public:
    explicit OutboxStore(Database& db) : db_(db) {}

    // The newest message of `thread`, or the one with `message_id` in it. nullopt: no such.
    Result<std::optional<ReplyParent>>
    reply_parent(ThreadId thread, const std::optional<std::string>& message_id) override;
    Result<std::optional<SendingAccount>> account(AccountId id) override;
    Result<std::optional<SendingAccount>> account_by_name(const std::string& name) override;
    // Every address of our own team (canonical), to keep them out of reply-all.
    Result<std::vector<std::string>> team_addresses() override;

    // Inserts a queued reply (attachment contents go to blobs). Returns its id.
    Result<std::int64_t> queue(const OutboxRow& row,
                               const std::vector<std::string>& attachment_contents,
                               std::int64_t now) override;
    Result<std::vector<OutboxRow>>
    list(const std::optional<std::string>& state = std::nullopt) override;
    Result<OutboxPage> page(const OutboxFilter& f, std::optional<std::int64_t> before,
                            std::size_t limit) override;
    Result<std::optional<OutboxRow>> get(std::int64_t id) override;
    // The next queued reply due at `now`, marked sending (caller commits before sending).
    Result<std::optional<OutboxRow>> claim_due(std::int64_t now) override;
    Result<std::string> attachment_content(const std::string& sha256) override;
    // State change with the server's reason; `next_attempt_at` for a retry.
    Result<void> set_state(std::int64_t id, const std::string& state, const std::string& error,
                           std::optional<std::int64_t> next_attempt_at, std::int64_t now) override;
    // The last bytes of the reply's DATA are about to be handed to the server (commit it before).
    Result<void> mark_data_done(std::int64_t id, std::int64_t now) override;
    Result<std::int64_t> depth() override; // queued + sending

  private:
    Database& db_;
};

} // namespace crm::store
