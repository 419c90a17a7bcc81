#pragma once
// The HTTP API's reads and writes on PostgreSQL: logins (password hashes, sessions, API tokens),
// the thread view's queries filtered by who is asking, the read marks and the \Seen changes they
// queue. The counterpart of store::WebStore (include/crm/store/web_store.hpp), whose behaviour is
// the spec; the same visibility rule, in SQL, so a query can never return a row the viewer may
// not see. It is decided per message:
//   admin        everything;
//   salesperson  deals they own or that are shared; a message when it came in through a mailbox
//                they own now (an IMAP copy follows its account's current owner, an imported
//                file the owner given at import) or when its thread is linked to one of those
//                deals. A thread is visible when one of its messages is, and shows the viewer
//                only those (counts, subject, senders, deal and reason included).
//
// Borrows the Connection (which must outlive it); one thread at a time, like the Connection.
// Writes run in the caller's transaction when one is open (pg::PgWork), else each statement on
// its own. Errors: those of Connection::exec (code and scope from the SQLSTATE) with what was
// being done in front of the detail; "pg.text" (scope Message) for a value PostgreSQL's TEXT
// cannot hold (NUL bytes, invalid UTF-8), where SQLite would have stored the bytes.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/read_model.hpp"
#include "crm/core/result.hpp"
#include "crm/pg/connection.hpp"

namespace crm::pg {

class PgWebStore final : public Logins, public ReadModel, public SeenMirror, public OperatorReads {
  public:
    explicit PgWebStore(Connection& c) : c_(c) {}

    // --- Logins
    Result<std::optional<Login>> login_by_email(const std::string& email) override;
    Result<std::optional<WebUser>> user(UserId id) override;
    Result<void> set_password_hash(UserId user, const std::string& hash, std::int64_t now) override;
    // The user agent is informational: bytes PostgreSQL's TEXT cannot hold are replaced (U+FFFD)
    // rather than refusing the login.
    Result<void> create_session(const std::string& token_hash, UserId user, std::int64_t now,
                                std::int64_t expires_at, const std::string& client_address,
                                const std::string& user_agent) override;
    Result<std::optional<WebUser>> session_user(const std::string& token_hash,
                                                std::int64_t now) override;
    Result<void> delete_session(const std::string& token_hash) override;
    Result<std::int64_t> delete_user_sessions(UserId user) override;
    Result<std::int64_t> create_token(UserId user, const std::string& name,
                                      const std::string& token_hash, std::int64_t now) override;
    Result<std::optional<WebUser>> token_user(const std::string& token_hash,
                                              std::int64_t now) override;
    Result<bool> revoke_token(std::int64_t id, std::int64_t now) override;
    Result<std::vector<TokenRow>> tokens() override;

    // --- OperatorReads (crm-mailctl's listings: everything, as an admin sees it)
    Result<std::vector<ThreadSummary>> list_threads(ThreadFilter f, DealId deal = 0) override;
    Result<std::optional<ThreadSummary>> thread(ThreadId id) override;
    Result<std::vector<MessageView>> thread_messages(ThreadId id) override;
    Result<std::optional<std::string>> raw_message(MessageRowId id) override;
    Result<std::vector<DealSummary>> deals() override;
    Result<bool> deal_exists(DealId id) override;
    Result<std::vector<std::string>> export_threads() override;
    Result<std::vector<std::string>> export_deal_links() override;
    Result<Counts> counts() override;

    // --- ReadModel
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
    Result<std::optional<MessagePage>> thread_page(const Viewer& v, ThreadId thread,
                                                   MessageRowId before, std::size_t limit) override;
    Result<std::vector<MessageRowId>> visible_messages(const Viewer& v, ThreadId thread) override;
    Result<std::optional<ThreadId>> message_thread(const Viewer& v, MessageRowId message) override;
    Result<MessageHtml> message_html(MessageRowId message) override;
    // Blobs are unpacked with blob::unpack_blob (zstd or as stored).
    Result<std::optional<AttachmentData>> attachment(MessageRowId message, int position) override;
    Result<std::optional<int>> attachment_by_cid(MessageRowId message,
                                                 const std::string& cid) override;
    Result<std::vector<std::pair<DealId, std::string>>>
    deal_names(const Viewer& v, const std::vector<DealId>& ids) override;
    Result<std::vector<SenderAccount>> sender_accounts(UserId user) override;
    Result<std::vector<AccountRow>> accounts() override;

    // --- read marks (the backend exposes them through ThreadEdits)
    // ThreadEdits' read marks: the viewer's own (see crm/core/read_model.hpp). Run them in a
    // transaction (PgWork): the thread row is locked first, as the marks' triggers do, so two
    // workers marking one thread take turns.
    Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                           const std::vector<AccountId>& mirror_accounts,
                                           std::int64_t now);
    Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message, bool unread,
                                            const std::vector<AccountId>& mirror_accounts,
                                            std::int64_t now);

    // --- SeenMirror
    Result<std::vector<SeenChange>> pending_seen(std::size_t limit) override;
    Result<void> seen_done(const std::vector<std::int64_t>& locations) override;
    Result<void> seen_failed(const std::vector<std::int64_t>& locations, const std::string& error,
                             bool give_up) override;

    // The messages with these ids as the thread view shows them, in the order given (ids that
    // no longer exist are left out). Not filtered: pass only visible ids.
    Result<std::vector<MessageView>> messages(std::span<const MessageRowId> ids);

  private:
    Result<std::vector<MessageRowId>> visible_in_order(const Viewer& v, ThreadId thread);
    // MessageView::labels of a page, from the locations in the viewer's mailboxes, and unread,
    // from the viewer's own read marks.
    Result<void> fill_viewer_state(const Viewer& v, std::vector<MessageView>& page);
    Result<std::vector<ThreadSummary>> read_threads(const ResultSet& rs, const Viewer& v);
    // `page` with the rows of `r` (kThreadSelect's, up to limit + 1, in list order): a page of
    // `limit`, with the cursor of the next page when there is one.
    Result<ThreadPage> read_page(const ResultSet& r, const Viewer& v, std::size_t limit,
                                 ThreadPage page);
    Result<ThreadPage> thread_list_page(const Viewer& v, std::string_view what,
                                        std::string_view where, DealId deal,
                                        const std::optional<ThreadKey>& after, std::size_t limit);
    Result<void> project_messages(const Viewer& v, const std::vector<ThreadSummary*>& threads);
    Result<void> add_participants(const std::vector<ThreadSummary*>& threads);
    Result<std::set<DealId>> visible_deals(const Viewer& v, const std::vector<DealId>& deals);
    Result<std::string> redact_reason(const Viewer& v, const std::string& reason,
                                      std::map<DealId, bool>& known);
    Result<void> own_unread(const Viewer& v, const std::vector<ThreadSummary*>& threads);
    Result<std::int64_t> set_own_marks(const Viewer& v, const std::vector<MessageRowId>& ids,
                                       bool unread, const std::vector<AccountId>& mirror,
                                       std::int64_t now);

    Connection& c_;
};

} // namespace crm::pg
