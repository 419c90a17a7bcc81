#pragma once
// What the HTTP API reads and writes: logins (password hashes, sessions, API tokens), and the
// thread view's queries filtered by who is asking. Visibility lives here, in SQL, so a query can
// never return a row the viewer may not see. It is decided per message:
//   admin        everything;
//   salesperson  deals they own or that are shared; a message when it came in through a mailbox
//                they own now (an IMAP copy follows its account's current owner, an imported
//                file the owner given at import) or when its thread is linked to one of those
//                deals. A thread is visible when one of its messages is, and shows the viewer
//                only those (counts, subject, senders, deal and reason included).
// Borrows the Database; one thread at a time.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"

namespace crm::store {

using crm::AttachmentData;
using crm::Login;
using crm::MessageHtml;
using crm::MessagePage;
using crm::SeenChange;
using crm::SenderAccount;
using crm::TokenRow;
using crm::Viewer;
using crm::WebDeal;
using crm::WebUser;

class WebStore final : public Logins, public ReadModel, public SeenMirror {
  public:
    explicit WebStore(Database& db) : db_(db) {}

    // --- logins
    // Looks a user up by e-mail (case-insensitive; users.email or one of user_addresses).
    Result<std::optional<Login>> login_by_email(const std::string& email) override;
    Result<std::optional<WebUser>> user(UserId id) override;
    Result<void> set_password_hash(UserId user, const std::string& hash, std::int64_t now) override;
    Result<void> create_session(const std::string& token_hash, UserId user, std::int64_t now,
                                std::int64_t expires_at, const std::string& client_address,
                                const std::string& user_agent) override;
    // The session's user while it is unexpired; slides last_seen_at. Expired rows are deleted.
    Result<std::optional<WebUser>> session_user(const std::string& token_hash,
                                                std::int64_t now) override;
    Result<void> delete_session(const std::string& token_hash) override;
    Result<std::int64_t> delete_user_sessions(UserId user) override;
    Result<std::int64_t> create_token(UserId user, const std::string& name,
                                      const std::string& token_hash, std::int64_t now) override;
    Result<std::optional<WebUser>> token_user(const std::string& token_hash,
                                              std::int64_t now) override;
    // False when no such unrevoked token.
    Result<bool> revoke_token(std::int64_t id, std::int64_t now) override;
    Result<std::vector<TokenRow>> tokens() override;

    // --- thread view
    Result<std::vector<WebDeal>> deals(const Viewer& v) override;
    Result<DealPage> deal_page(const Viewer& v, const std::optional<DealKey>& after,
                               std::size_t limit) override;
    Result<std::optional<WebDeal>> deal(const Viewer& v, DealId id) override;
    Result<bool> deal_visible(const Viewer& v, DealId id) override;
    Result<ThreadPage> deal_threads(const Viewer& v, DealId deal,
                                    const std::optional<ThreadKey>& after,
                                    std::size_t limit) override;
    Result<ThreadPage> unsorted(const Viewer& v, const std::optional<ThreadKey>& after,
                                std::size_t limit) override;
    Result<bool> thread_visible(const Viewer& v, ThreadId thread) override;
    Result<std::optional<ThreadSummary>> thread(const Viewer& v, ThreadId thread) override;
    Result<std::vector<MessageView>> thread_messages(const Viewer& v, ThreadId thread) override;
    // The last `limit` messages the viewer may see before the message `before` (0: up to the
    // newest), in reading order. nullopt: `before` is not a message of the thread they may see.
    Result<std::optional<MessagePage>> thread_page(const Viewer& v, ThreadId thread,
                                                   MessageRowId before, std::size_t limit) override;
    // Ids of the thread's messages the viewer may see, ascending.
    Result<std::vector<MessageRowId>> visible_messages(const Viewer& v, ThreadId thread) override;
    // The thread of a visible message; nullopt when it does not exist or is not visible.
    Result<std::optional<ThreadId>> message_thread(const Viewer& v, MessageRowId message) override;
    Result<MessageHtml> message_html(MessageRowId message) override;
    Result<std::optional<AttachmentData>> attachment(MessageRowId message, int position) override;
    // The inline attachment with this Content-ID (angle brackets stripped); nullopt: none.
    Result<std::optional<int>> attachment_by_cid(MessageRowId message,
                                                 const std::string& cid) override;
    // Names of deals by id (for suggestions), only the visible ones.
    Result<std::vector<std::pair<DealId, std::string>>>
    deal_names(const Viewer& v, const std::vector<DealId>& ids) override;

    // Accounts `user` may send from (owned, enabled).
    Result<std::vector<SenderAccount>> sender_accounts(UserId user) override;

    Result<std::vector<AccountRow>> accounts() override;

    // ThreadEdits' read marks: the viewer's own (see crm/core/read_model.hpp).
    Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                           const std::vector<AccountId>& mirror_accounts,
                                           std::int64_t now);
    Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message, bool unread,
                                            const std::vector<AccountId>& mirror_accounts,
                                            std::int64_t now);

    // SeenMirror
    Result<std::vector<SeenChange>> pending_seen(std::size_t limit) override;
    Result<void> seen_done(const std::vector<std::int64_t>& locations) override;
    Result<void> seen_failed(const std::vector<std::int64_t>& locations, const std::string& error,
                             bool give_up) override;

  private:
    Result<std::vector<MessageRowId>> visible_in_order(const Viewer& v, ThreadId thread);
    // MessageView::labels of a page, from the locations in the viewer's mailboxes, and unread,
    // from the viewer's own read marks.
    Result<void> fill_viewer_state(const Viewer& v, std::vector<MessageView>& page);

    Database& db_;
};

} // namespace crm::store
