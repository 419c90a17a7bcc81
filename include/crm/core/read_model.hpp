#pragma once
// What people see: the thread view's and the CLI's read shapes, the viewer they are filtered for,
// and the logins of the web page. Implemented by the store (SQL filters every query by the
// viewer: a query can never return a row the viewer may not see).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

// A CRM user's role: a salesperson sees their own deals' and mailboxes' mail, an admin all.
enum class Role { Salesperson, Admin };
[[nodiscard]] constexpr std::string_view role_name(Role r) {
    return r == Role::Admin ? "admin" : "salesperson";
}
// nullopt for anything but "salesperson" and "admin".
[[nodiscard]] constexpr std::optional<Role> parse_role(std::string_view s) {
    if (s == "admin")
        return Role::Admin;
    if (s == "salesperson")
        return Role::Salesperson;
    return std::nullopt;
}

struct ThreadSummary {
    ThreadId id = 0;
    std::string subject;
    std::int64_t message_count = 0;
    std::int64_t unread_count = 0;
    std::optional<std::int64_t> first_date, last_date;
    std::optional<DealId> deal;
    std::string deal_name;
    bool manual = false;
    std::string reason; // link reason, or unsorted reason
    std::vector<DealId> suggestions;
    std::vector<std::string> participants; // distinct from-addresses, first seen first
};

// Where a page of a thread list (newest first: last message's date, then id) ends, so that the
// next page starts after it. `last_date` is the thread's own, as the list is ordered by it.
struct ThreadKey {
    std::optional<std::int64_t> last_date;
    ThreadId id = 0;
};

// A page of a thread list, with the count of the whole list as the viewer sees it.
struct ThreadPage {
    std::vector<ThreadSummary> threads;
    std::int64_t total = 0;
    std::optional<ThreadKey> next; // set when more threads follow
};

struct MessageView {
    MessageRowId id = 0;
    std::string message_id;
    std::optional<std::int64_t> date;
    std::int64_t received_at = 0; // when it arrived here (not the sender's Date)
    std::string from_name, from_address, subject, text_body, html_body;
    std::vector<std::string> to, cc;   // "Name <addr>" as written
    std::vector<std::string> reply_to; // addresses as written
    std::string suspicious;            // why the sender looks spoofed, "" when not
    std::string content_hash;          // SHA-256 of the body (with message_id, the identity)
    bool unread = false;
    bool outgoing = false;
    bool unparsable = false;
    // An automatic message: "bounce", "delayed", "delivered" or "autoreply" (AutoKind); "" for
    // mail a person wrote.
    std::string auto_kind;
    std::string sort_reason;
    std::vector<std::string> warnings;
    // Gmail's labels (X-GM-LABELS) where the viewer's own mailboxes hold the message (an admin:
    // every mailbox's), sorted, once each; filled by the thread view only.
    std::vector<std::string> labels;
    struct Att {
        std::string filename, content_type, sha256;
        std::int64_t size = 0;
        bool is_inline = false;
        int position = 0;
        std::string content_id; // without angle brackets
    };
    std::vector<Att> attachments;
};

struct DealSummary {
    DealId id = 0;
    std::string name, stage, status;
    std::int64_t threads = 0, messages = 0, unread = 0;
};

struct Counts {
    std::int64_t messages = 0, threads = 0, linked_threads = 0, unsorted_threads = 0;
};

// Who is asking. Every read and every change on a person's behalf is filtered by it; the CLI
// (an operator on the host) and the daemon ask as an admin without a user.
struct Viewer {
    UserId user = 0;
    bool admin = false;
};

struct MessageHtml {
    std::string html, content_hash;
};

struct MessagePage {
    std::vector<MessageView> messages;
    std::size_t older = 0; // visible messages before the page
};

struct WebUser {
    UserId id = 0;
    std::string name, email;
    Role role = Role::Salesperson;
};

struct Login {
    WebUser user;
    std::string password_hash; // empty: no password set
};

struct WebDeal {
    DealId id = 0;
    std::string name, stage, status;
    bool shared = false;
    std::optional<UserId> owner;
    std::string owner_name;
    std::optional<CompanyId> company;
    std::string company_name;
    std::int64_t threads = 0, messages = 0, unread = 0;
    std::optional<std::int64_t> last_date;
};

// Where a page of the deal list starts: after this deal in the list's order (open deals first,
// then by last activity, newest first, deals without mail last, then by id).
struct DealKey {
    bool open = false;
    std::optional<std::int64_t> last_date;
    DealId id = 0;
};

// A page of the deal list, with the count of all the deals the viewer sees.
struct DealPage {
    std::vector<WebDeal> deals;
    std::int64_t total = 0;
    std::optional<DealKey> next; // where the next page starts; nullopt: this is the last
};

struct AttachmentData {
    std::string filename, content_type, content_id;
    bool is_inline = false;
    std::string sha256; // of the content
    // The content when `blobs` holds it (stored before schema 0009); otherwise the whole raw
    // message, to be decoded again (mime::attachment_content) and checked against `sha256`.
    std::string bytes;
    bool in_raw_message = false;
};

struct SenderAccount {
    AccountId id = 0;
    std::string name, address;
};

// A mail account's sync state, as stored (accounts.state) and shown.
enum class HealthState { New, Syncing, Idle, Backoff, NeedsReauth, Error, Disabled };
[[nodiscard]] constexpr std::string_view health_name(HealthState h) {
    switch (h) {
    case HealthState::New:
        return "new";
    case HealthState::Syncing:
        return "syncing";
    case HealthState::Idle:
        return "idle";
    case HealthState::Backoff:
        return "backoff";
    case HealthState::NeedsReauth:
        return "needs_reauth";
    case HealthState::Error:
        return "error";
    case HealthState::Disabled:
        return "disabled";
    }
    return "error";
}
// nullopt for a name that is none of the above.
[[nodiscard]] constexpr std::optional<HealthState> parse_health(std::string_view s) {
    for (auto h : {HealthState::New, HealthState::Syncing, HealthState::Idle, HealthState::Backoff,
                   HealthState::NeedsReauth, HealthState::Error, HealthState::Disabled})
        if (health_name(h) == s)
            return h;
    return std::nullopt;
}

struct AccountRow {
    AccountId id = 0;
    std::string name, address, last_error_class, last_error, imap_host;
    HealthState state = HealthState::New;
    std::optional<UserId> owner;
    bool enabled = true;
    std::optional<std::int64_t> last_success_at, last_error_at, lag_seconds;
    std::int64_t messages = 0, initial_done = 0, initial_total = 0;
    std::int64_t mailboxes = 0;
    // Rate/ETA of the running initial sync: its start and the count done then (migration 0004).
    std::optional<std::int64_t> initial_started_at;
    std::int64_t initial_started_done = 0;
    std::int64_t updated_at = 0; // last health update
    std::int64_t backfill_pending = 0; // older mail still to fetch (migration 0013)
};

// What a split moved: from which thread into which new one, how many messages.
struct SplitResult {
    ThreadId from = 0;
    ThreadId thread = 0;
    std::size_t moved = 0;
};

// An API token as listed (never its secret).
struct TokenRow {
    std::int64_t id = 0;
    UserId user = 0;
    std::string name;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at, revoked_at;
};

// A \Seen change made in the CRM, waiting to be mirrored to the IMAP server.
struct SeenChange {
    std::int64_t location = 0;
    AccountId account = 0;
    std::string mailbox; // UTF-8 name
    std::uint32_t uid_validity = 0, uid = 0;
    bool seen = false;
};

// \Seen changes made in the CRM, waiting to be mirrored to the IMAP servers by the daemon.
class SeenMirror {
  public:
    virtual ~SeenMirror() = default;
    // Changes waiting to be mirrored (fewer than 5 failed attempts), oldest first.
    virtual Result<std::vector<SeenChange>> pending_seen(std::size_t limit) = 0;
    virtual Result<void> seen_done(const std::vector<std::int64_t>& locations) = 0;
    // Counts a failed attempt; `give_up` drops the changes (the error says why).
    virtual Result<void> seen_failed(const std::vector<std::int64_t>& locations,
                                     const std::string& error, bool give_up) = 0;
};

// The web page's logins: password hashes, sessions and API tokens (only hashes are stored).
class Logins {
  public:
    virtual ~Logins() = default;
    // Looks a user up by e-mail (case-insensitive; users.email or one of user_addresses).
    virtual Result<std::optional<Login>> login_by_email(const std::string& email) = 0;
    virtual Result<std::optional<WebUser>> user(UserId id) = 0;
    virtual Result<void> set_password_hash(UserId user, const std::string& hash,
                                           std::int64_t now) = 0;
    virtual Result<void> create_session(const std::string& token_hash, UserId user,
                                        std::int64_t now, std::int64_t expires_at,
                                        const std::string& client_address,
                                        const std::string& user_agent) = 0;
    // The session's user while it is unexpired; slides last_seen_at. Expired rows are deleted.
    virtual Result<std::optional<WebUser>> session_user(const std::string& token_hash,
                                                        std::int64_t now) = 0;
    virtual Result<void> delete_session(const std::string& token_hash) = 0;
    virtual Result<std::int64_t> delete_user_sessions(UserId user) = 0;
    virtual Result<std::int64_t> create_token(UserId user, const std::string& name,
                                              const std::string& token_hash, std::int64_t now) = 0;
    virtual Result<std::optional<WebUser>> token_user(const std::string& token_hash,
                                                      std::int64_t now) = 0;
    // False when no such unrevoked token.
    virtual Result<bool> revoke_token(std::int64_t id, std::int64_t now) = 0;
    virtual Result<std::vector<TokenRow>> tokens() = 0;
};

// The read model: every query of the thread view, the CLI listings and the admin's health page,
// filtered by the viewer (see the visibility rule at the top of this file).
class ReadModel {
  public:
    virtual ~ReadModel() = default;
    virtual Result<std::vector<WebDeal>> deals(const Viewer& v) = 0;
    // A page of `limit` deals after `after` (nullopt: the first page), in deals()'s order.
    virtual Result<DealPage> deal_page(const Viewer& v, const std::optional<DealKey>& after,
                                       std::size_t limit) = 0;
    virtual Result<std::optional<WebDeal>> deal(const Viewer& v, DealId id) = 0;
    // Whether the deal exists and the viewer may see it (cheaper than deal(): no counters).
    virtual Result<bool> deal_visible(const Viewer& v, DealId id) = 0;
    // A page of `limit` threads after `after` (nullopt: the first page), newest first.
    virtual Result<ThreadPage> deal_threads(const Viewer& v, DealId deal,
                                            const std::optional<ThreadKey>& after,
                                            std::size_t limit) = 0;
    virtual Result<ThreadPage> unsorted(const Viewer& v, const std::optional<ThreadKey>& after,
                                        std::size_t limit) = 0;
    virtual Result<bool> thread_visible(const Viewer& v, ThreadId thread) = 0;
    virtual Result<std::optional<ThreadSummary>> thread(const Viewer& v, ThreadId thread) = 0;
    virtual Result<std::vector<MessageView>> thread_messages(const Viewer& v, ThreadId thread) = 0;
    // The last `limit` messages the viewer may see before the message `before` (0: up to the
    // newest), in reading order. nullopt: `before` is not a message of the thread they may see.
    virtual Result<std::optional<MessagePage>>
    thread_page(const Viewer& v, ThreadId thread, MessageRowId before, std::size_t limit) = 0;
    // Ids of the thread's messages the viewer may see, ascending.
    virtual Result<std::vector<MessageRowId>> visible_messages(const Viewer& v,
                                                               ThreadId thread) = 0;
    // The thread of a visible message; nullopt when it does not exist or is not visible.
    virtual Result<std::optional<ThreadId>> message_thread(const Viewer& v,
                                                           MessageRowId message) = 0;
    virtual Result<MessageHtml> message_html(MessageRowId message) = 0;
    virtual Result<std::optional<AttachmentData>> attachment(MessageRowId message,
                                                             int position) = 0;
    // The inline attachment with this Content-ID (angle brackets stripped); nullopt: none.
    virtual Result<std::optional<int>> attachment_by_cid(MessageRowId message,
                                                         const std::string& cid) = 0;
    // Names of deals by id (for suggestions), only the visible ones.
    virtual Result<std::vector<std::pair<DealId, std::string>>>
    deal_names(const Viewer& v, const std::vector<DealId>& ids) = 0;

    // Accounts `user` may send from (owned, enabled).
    virtual Result<std::vector<SenderAccount>> sender_accounts(UserId user) = 0;

    // Sync health of every configured account (admins only: the caller checks).
    virtual Result<std::vector<AccountRow>> accounts() = 0;
};

// What crm-mailctl lists for an operator on the host: everything, for no viewer in particular
// (the listings of `threads list`, `thread show`, `deals list`, `message raw` and the exports).
class OperatorReads {
  public:
    virtual ~OperatorReads() = default;
    enum class ThreadFilter { All, Deal, Unsorted };
    // Newest first (last message's date, then id).
    virtual Result<std::vector<ThreadSummary>> list_threads(ThreadFilter f, DealId deal = 0) = 0;
    virtual Result<std::optional<ThreadSummary>> thread(ThreadId id) = 0;
    // A thread's messages in reading order (Date, else arrival, then row id).
    virtual Result<std::vector<MessageView>> thread_messages(ThreadId id) = 0;
    // The message's bytes exactly as received; nullopt if no such message.
    virtual Result<std::optional<std::string>> raw_message(MessageRowId id) = 0;
    // Every deal by id, with its threads, messages and unread messages.
    virtual Result<std::vector<DealSummary>> deals() = 0;
    virtual Result<bool> deal_exists(DealId id) = 0;
    // Per thread its Message-IDs sorted, space separated; lines byte-sorted.
    virtual Result<std::vector<std::string>> export_threads() = 0;
    // "<message-id>\t<deal id|unsorted>\t<reason>" per message, sorted, without repeats.
    virtual Result<std::vector<std::string>> export_deal_links() = 0;
    // The database's totals (messages, threads, linked threads, unsorted threads).
    virtual Result<Counts> counts() = 0;
};

// What a person (or the CLI, as an admin) changes about threads. The rules of who may change
// what are the use cases' (app/thread_actions.hpp); these only write.
class ThreadEdits {
  public:
    virtual ~ThreadEdits() = default;
    // Manual link: never overwritten by the sorter. Errors: "thread.not_found", "deal.not_found".
    virtual Result<void> link_thread(ThreadId thread, DealId deal, std::optional<UserId> by,
                                     std::int64_t now) = 0;
    // Removes the link and puts the thread in the unsorted queue ("unlinked by hand"), held
    // for a person: the sorter does not link it again by itself.
    virtual Result<void> unlink_thread(ThreadId thread, std::int64_t now) = 0;
    // "Not part of this conversation": moves `message` and the messages of its thread that
    // reference it (directly or through another moved message) into a new thread, held in the
    // unsorted queue with the reason "split from thread N by NAME". The two threads are kept
    // apart from then on (ThreadIndex::kept_apart). Errors: "message.not_found",
    // "thread.split_whole" (nothing would stay behind). `movable`: when given, only these
    // messages may move (a salesperson moves only what they see); a reply outside it stays, and
    // so do the replies to it.
    virtual Result<SplitResult>
    split_message(MessageRowId message, std::optional<UserId> by, std::int64_t now,
                  const std::optional<std::vector<MessageRowId>>& movable = {}) = 0;
    // Rows of the messages with this Message-ID (without angle brackets): one per content.
    virtual Result<std::vector<MessageRowId>> messages_with_id(std::string_view message_id) = 0;
    // Marks every message of the thread the viewer sees (or one message) read or unread for the
    // viewer alone: read state is per user (their marks; schema/0017), and another user's stays.
    // For the viewer's own mailboxes in `mirror_accounts`, queues the \Seen change for the daemon.
    // Returns the messages whose state changed for the viewer. Error "read.no_user" for a viewer
    // without a user.
    virtual Result<std::int64_t> set_thread_unread(const Viewer& v, ThreadId thread, bool unread,
                                                   const std::vector<AccountId>& mirror_accounts,
                                                   std::int64_t now) = 0;
    virtual Result<std::int64_t> set_message_unread(const Viewer& v, MessageRowId message,
                                                    bool unread,
                                                    const std::vector<AccountId>& mirror_accounts,
                                                    std::int64_t now) = 0;
};

} // namespace crm
