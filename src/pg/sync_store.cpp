// IMAP sync bookkeeping over PostgreSQL: src/store/sync_store.cpp's statements, translated, and
// the epoch fence in front of every write for an account.
#include "crm/pg/sync_store.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <libpq-fe.h>

#include "crm/core/imap_flags.hpp"
#include "crm/core/stored_json.hpp"
#include "crm/core/utf8.hpp"
#include "store_values.hpp"
#include "web_support.hpp"

namespace crm::pg {

using detail::check_text;
using detail::Ctx;
using detail::in_context;
using detail::int_array;

namespace {

Result<std::vector<std::uint32_t>> uid_column(const ResultSet& r) {
    std::vector<std::uint32_t> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(v, r.get<std::int64_t>(i, 0));
        out.push_back(static_cast<std::uint32_t>(*v));
    }
    return out;
}

} // namespace

Result<void> PgSyncState::fence_account(AccountId account, std::string_view what) {
    if (!fence_)
        return {};
    if (auto held = fence_->check(c_, account); !held)
        return std::unexpected(in_context(what, held.error()));
    return {};
}

Result<void> PgSyncState::fence_mailbox(MailboxId mailbox, std::string_view what) {
    if (!fence_)
        return {};
    auto it = mailbox_accounts_.find(mailbox);
    if (it == mailbox_accounts_.end()) {
        auto r = c_.exec("SELECT account_id FROM mailboxes WHERE id = $1::bigint", mailbox);
        if (!r)
            return std::unexpected(in_context(what, std::move(r).error()));
        // No such mailbox: there is nothing of an account's to write (the statements that
        // follow change no row, or fail on the foreign key).
        if (r->rows() == 0)
            return {};
        auto account = r->get<std::int64_t>(0, 0);
        if (!account)
            return std::unexpected(account.error());
        it = mailbox_accounts_.emplace(mailbox, *account).first;
    }
    return fence_account(it->second, what);
}

Result<AccountId> PgSyncState::ensure_account(const std::string& name, std::optional<UserId> owner,
                                              const std::string& address,
                                              const std::string& imap_host, bool enabled,
                                              std::int64_t now) {
    Ctx q{c_, "registering account " + name};
    for (const std::string* v : {&name, &address, &imap_host})
        if (auto ok = check_text(q.what, "a field", *v); !ok)
            return std::unexpected(ok.error());
    // The CRM user may not exist yet; the account still syncs, without an owner.
    std::optional<std::int64_t> owner_id;
    if (owner.value_or(0) > 0) {
        CRM_PG_TRY(u, q.exec("SELECT 1 FROM users WHERE id = $1::bigint", *owner));
        if (u->rows() > 0)
            owner_id = *owner;
    }
    CRM_PG_TRY(r, q.exec("INSERT INTO accounts (name, owner_id, address, imap_host, enabled, "
                         "state, created_at, updated_at) VALUES ($1, $2::bigint, $3, $4, "
                         "$5::smallint, CASE WHEN $5::smallint = 1 THEN 'new' ELSE 'disabled' END, "
                         "$6::bigint, $6::bigint) ON CONFLICT (name) DO UPDATE SET owner_id = "
                         "excluded.owner_id, address = excluded.address, imap_host = "
                         "excluded.imap_host, enabled = excluded.enabled, state = CASE WHEN "
                         "excluded.enabled = 1 THEN (CASE WHEN accounts.state = 'disabled' THEN "
                         "'new' ELSE accounts.state END) ELSE 'disabled' END, updated_at = "
                         "excluded.updated_at RETURNING id",
                         name, owner_id, address, imap_host, enabled ? 1 : 0, now));
    return r->get<std::int64_t>(0, 0);
}

Result<std::optional<std::int64_t>> PgSyncState::resync_account(const std::string& name) {
    Ctx q{c_, "clearing the checkpoints of " + name};
    if (auto ok = check_text(q.what, "the account name", name); !ok)
        return std::unexpected(ok.error());
    auto body = [&]() -> Result<std::optional<std::int64_t>> {
        // The account row locked first: a concurrent ensure_account/resync of it waits.
        CRM_PG_TRY(a, q.exec("SELECT id FROM accounts WHERE name = $1 FOR UPDATE", name));
        if (a->rows() == 0)
            return std::nullopt;
        CRM_PG_TRY(id, a->get<std::int64_t>(0, 0));
        CRM_PG_TRY(m, q.exec("UPDATE mailboxes SET uid_next = NULL, highest_modseq = NULL WHERE "
                             "account_id = $1::bigint",
                             *id));
        CRM_PG_TRY(p, q.exec("UPDATE accounts SET initial_done = 0, initial_total = 0, "
                             "initial_started_at = NULL, initial_started_done = 0 WHERE id = "
                             "$1::bigint",
                             *id));
        return std::optional<std::int64_t>(m->affected());
    };
    // One transaction, like SQLite's: its own unless the caller has one open.
    if (PQtransactionStatus(c_.native()) == PQTRANS_IDLE)
        return in_transaction(c_, body);
    return body();
}

Result<bool> PgSyncState::user_exists(UserId id) {
    Ctx q{c_, "looking up a user"};
    CRM_PG_TRY(r, q.exec("SELECT 1 FROM users WHERE id = $1::bigint", id));
    return r->rows() > 0;
}

std::optional<std::string> PgSyncState::user_name(UserId id) {
    auto r = c_.exec("SELECT name FROM users WHERE id = $1::bigint", id);
    if (!r || r->rows() == 0)
        return std::nullopt; // no name is fine
    auto name = r->get<std::string>(0, 0);
    if (!name)
        return std::nullopt;
    return std::move(*name);
}

Result<std::vector<AccountRow>> PgSyncState::accounts() {
    Ctx q{c_, "listing accounts"};
    CRM_PG_TRY(r, q.exec("SELECT a.id, a.name, a.address, a.state, coalesce(a.last_error_class, "
                         "''), coalesce(a.last_error, ''), a.imap_host, a.owner_id, a.enabled, "
                         "a.last_success_at, a.last_error_at, a.lag_seconds, a.messages_synced, "
                         "a.initial_done, a.initial_total, (SELECT count(*) FROM mailboxes m "
                         "WHERE m.account_id = a.id), a.initial_started_at, "
                         "a.initial_started_done, a.updated_at, a.backfill_pending FROM accounts a "
                         "ORDER BY a.name"));
    std::vector<AccountRow> out;
    for (int i = 0; i < r->rows(); ++i) {
        AccountRow row;
        CRM_PG_TRY(id, r->get<std::int64_t>(i, 0));
        CRM_PG_TRY(name, r->get<std::string>(i, 1));
        CRM_PG_TRY(address, r->get<std::string>(i, 2));
        CRM_PG_TRY(state, r->get<std::string>(i, 3));
        CRM_PG_TRY(error_class, r->get<std::string>(i, 4));
        CRM_PG_TRY(error, r->get<std::string>(i, 5));
        CRM_PG_TRY(host, r->get<std::string>(i, 6));
        CRM_PG_TRY(owner, r->get<std::optional<std::int64_t>>(i, 7));
        CRM_PG_TRY(enabled, r->get<std::int64_t>(i, 8));
        CRM_PG_TRY(success, r->get<std::optional<std::int64_t>>(i, 9));
        CRM_PG_TRY(error_at, r->get<std::optional<std::int64_t>>(i, 10));
        CRM_PG_TRY(lag, r->get<std::optional<std::int64_t>>(i, 11));
        CRM_PG_TRY(messages, r->get<std::int64_t>(i, 12));
        CRM_PG_TRY(done, r->get<std::int64_t>(i, 13));
        CRM_PG_TRY(total, r->get<std::int64_t>(i, 14));
        CRM_PG_TRY(mailboxes, r->get<std::int64_t>(i, 15));
        CRM_PG_TRY(started_at, r->get<std::optional<std::int64_t>>(i, 16));
        CRM_PG_TRY(started_done, r->get<std::int64_t>(i, 17));
        CRM_PG_TRY(updated, r->get<std::int64_t>(i, 18));
        CRM_PG_TRY(backfill, r->get<std::int64_t>(i, 19));
        row.id = *id;
        row.name = std::move(*name);
        row.address = std::move(*address);
        // The schema admits only these (CHECK on accounts.state).
        row.state = parse_health(*state).value_or(HealthState::Error);
        row.last_error_class = std::move(*error_class);
        row.last_error = std::move(*error);
        row.imap_host = std::move(*host);
        row.owner = *owner;
        row.enabled = *enabled != 0;
        row.last_success_at = *success;
        row.last_error_at = *error_at;
        row.lag_seconds = *lag;
        row.messages = *messages;
        row.initial_done = *done;
        row.initial_total = *total;
        row.mailboxes = *mailboxes;
        row.initial_started_at = *started_at;
        row.initial_started_done = *started_done;
        row.updated_at = *updated;
        row.backfill_pending = *backfill;
        out.push_back(std::move(row));
    }
    return out;
}

Result<MailboxState> PgSyncState::ensure_mailbox(AccountId account, const std::string& name,
                                                 const std::string& special_use) {
    Ctx q{c_, "registering mailbox " + name};
    if (auto ok = check_text(q.what, "the mailbox name", name); !ok)
        return std::unexpected(ok.error());
    if (auto ok = check_text(q.what, "the special use", special_use); !ok)
        return std::unexpected(ok.error());
    if (auto ok = fence_account(account, q.what); !ok)
        return std::unexpected(ok.error());
    // Two workers (or a worker and crm-mailctl) registering the same mailbox: the upsert's
    // unique index makes the second wait and update the row the first made.
    CRM_PG_TRY(r, q.exec("INSERT INTO mailboxes (account_id, name, special_use) VALUES "
                         "($1::bigint, $2, $3) ON CONFLICT (account_id, name) DO UPDATE SET "
                         "special_use = excluded.special_use RETURNING id, uid_validity, "
                         "uid_next, highest_modseq",
                         account, name, special_use));
    CRM_PG_TRY(id, r->get<std::int64_t>(0, 0));
    CRM_PG_TRY(validity, r->get<std::optional<std::int64_t>>(0, 1));
    CRM_PG_TRY(next, r->get<std::optional<std::int64_t>>(0, 2));
    CRM_PG_TRY(modseq, r->get<std::optional<std::int64_t>>(0, 3));
    MailboxState st;
    st.id = *id;
    if (*validity)
        st.uid_validity = static_cast<std::uint32_t>(**validity);
    if (*next)
        st.uid_next = static_cast<std::uint32_t>(**next);
    if (*modseq)
        st.highest_modseq = static_cast<std::uint64_t>(**modseq);
    mailbox_accounts_[st.id] = account;
    return st;
}

Result<std::vector<StoredMailbox>> PgSyncState::account_mailboxes(AccountId account) {
    Ctx q{c_, "listing an account's mailboxes"};
    CRM_PG_TRY(r, q.exec("SELECT id, name, uid_validity FROM mailboxes WHERE account_id = "
                         "$1::bigint ORDER BY name COLLATE \"C\"",
                         account));
    std::vector<StoredMailbox> out;
    for (int i = 0; i < r->rows(); ++i) {
        CRM_PG_TRY(id, r->get<std::int64_t>(i, 0));
        CRM_PG_TRY(name, r->get<std::string>(i, 1));
        CRM_PG_TRY(uv, r->get<std::optional<std::int64_t>>(i, 2));
        StoredMailbox m{*id, std::move(*name), std::nullopt};
        if (*uv)
            m.uid_validity = static_cast<std::uint32_t>(**uv);
        out.push_back(std::move(m));
    }
    return out;
}

Result<std::vector<std::uint32_t>> PgSyncState::stored_uids(MailboxId mailbox,
                                                            std::uint32_t uid_validity) {
    Ctx q{c_, "reading stored UIDs"};
    CRM_PG_TRY(r, q.exec("SELECT uid FROM locations WHERE mailbox_id = $1::bigint AND "
                         "uid_validity = $2::bigint ORDER BY uid",
                         mailbox, uid_validity));
    return uid_column(*r);
}

Result<std::vector<std::uint32_t>> PgSyncState::quarantined_uids(MailboxId mailbox,
                                                                 std::uint32_t uid_validity) {
    Ctx q{c_, "reading quarantine"};
    CRM_PG_TRY(r, q.exec(std::string("SELECT q.uid FROM quarantine q WHERE q.mailbox_id = "
                                     "$1::bigint AND q.uid_validity = $2::bigint AND "
                                     "(q.attempts >= $3::bigint OR q.dropped_at IS NOT NULL) "
                                     "AND ") +
                             detail::kQuarantineNotStored + " ORDER BY q.uid",
                         mailbox, uid_validity, kQuarantineAttempts));
    return uid_column(*r);
}

namespace {

const std::string kQuarantineSelect =
    std::string("SELECT q.mailbox_id, q.uid_validity, q.uid, a.name, m.name, q.attempts, "
                "q.reason, q.first_failed_at, q.last_failed_at FROM quarantine q JOIN mailboxes "
                "m ON m.id = q.mailbox_id JOIN accounts a ON a.id = m.account_id WHERE "
                "q.dropped_at IS NULL AND ") +
    detail::kQuarantineNotStored + " ";

Result<std::vector<QuarantineEntry>> quarantine_rows(const ResultSet& r) {
    std::vector<QuarantineEntry> out;
    for (int i = 0; i < r.rows(); ++i) {
        detail::Cells c(r, i);
        QuarantineEntry e;
        e.key = {c.get<std::int64_t>(0), static_cast<std::uint32_t>(c.get<std::int64_t>(1)),
                 static_cast<std::uint32_t>(c.get<std::int64_t>(2))};
        e.account = c.get<std::string>(3);
        e.mailbox = c.get<std::string>(4);
        e.attempts = c.get<std::int64_t>(5);
        e.reason = c.get<std::string>(6);
        e.first_failed_at = c.get<std::int64_t>(7);
        e.last_failed_at = c.get<std::int64_t>(8);
        if (c.error())
            return std::unexpected(*c.error());
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace

Result<std::vector<QuarantineEntry>>
PgSyncState::quarantine_list(const std::optional<std::string>& account) {
    Ctx q{c_, "listing the quarantine"};
    CRM_PG_TRY(r, q.exec(kQuarantineSelect +
                             "AND ($1::text IS NULL OR a.name = $1::text) ORDER BY a.name, "
                             "m.name, q.uid_validity, q.uid",
                         account));
    return quarantine_rows(*r);
}

Result<std::optional<QuarantineEntry>> PgSyncState::quarantine_entry(const QuarantineKey& key) {
    Ctx q{c_, "reading a quarantined message"};
    CRM_PG_TRY(r, q.exec(kQuarantineSelect +
                             "AND q.mailbox_id = $1::bigint AND q.uid_validity = $2::bigint AND "
                             "q.uid = $3::bigint",
                         key.mailbox, static_cast<std::int64_t>(key.uid_validity),
                         static_cast<std::int64_t>(key.uid)));
    CRM_PG_TRY(rows, quarantine_rows(*r));
    if (rows->empty())
        return std::optional<QuarantineEntry>();
    return std::optional<QuarantineEntry>(std::move(rows->front()));
}

Result<bool> PgSyncState::quarantine_retry(const QuarantineKey& key) {
    Ctx q{c_, "retrying a quarantined message"};
    CRM_PG_TRY(r, q.exec("DELETE FROM quarantine WHERE mailbox_id = $1::bigint AND uid_validity = "
                         "$2::bigint AND uid = $3::bigint AND dropped_at IS NULL",
                         key.mailbox, static_cast<std::int64_t>(key.uid_validity),
                         static_cast<std::int64_t>(key.uid)));
    return r->affected() > 0;
}

Result<bool> PgSyncState::quarantine_drop(const QuarantineKey& key, std::int64_t now) {
    Ctx q{c_, "dropping a quarantined message"};
    CRM_PG_TRY(r, q.exec("UPDATE quarantine SET dropped_at = $4::bigint WHERE mailbox_id = "
                         "$1::bigint AND uid_validity = $2::bigint AND uid = $3::bigint AND "
                         "dropped_at IS NULL",
                         key.mailbox, static_cast<std::int64_t>(key.uid_validity),
                         static_cast<std::int64_t>(key.uid), now));
    return r->affected() > 0;
}

Result<void> PgSyncState::set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                         std::optional<std::uint32_t> uid_next,
                                         std::optional<std::uint64_t> highest_modseq,
                                         std::int64_t now) {
    Ctx q{c_, "saving a checkpoint"};
    if (auto ok = fence_mailbox(mailbox, q.what); !ok)
        return ok;
    std::optional<std::int64_t> next, modseq;
    if (uid_next)
        next = *uid_next;
    if (highest_modseq)
        modseq = static_cast<std::int64_t>(*highest_modseq);
    CRM_PG_TRY(r, q.exec("UPDATE mailboxes SET uid_validity = $1::bigint, uid_next = "
                         "coalesce($2::bigint, uid_next), highest_modseq = coalesce($3::bigint, "
                         "highest_modseq), last_sync_at = $4::bigint WHERE id = $5::bigint",
                         uid_validity, next, modseq, now, mailbox));
    return {};
}

Result<std::int64_t> PgSyncState::reset_uid_validity(MailboxId mailbox,
                                                     std::uint32_t new_uid_validity) {
    Ctx q{c_, "handling a UIDVALIDITY change"};
    if (auto ok = fence_mailbox(mailbox, q.what); !ok)
        return std::unexpected(ok.error());
    CRM_PG_TRY(del, q.exec("DELETE FROM locations WHERE mailbox_id = $1::bigint AND uid_validity "
                           "<> $2::bigint",
                           mailbox, new_uid_validity));
    CRM_PG_TRY(s, q.exec("UPDATE mailboxes SET uid_validity = $1::bigint, uid_next = NULL, "
                         "highest_modseq = NULL WHERE id = $2::bigint",
                         new_uid_validity, mailbox));
    return del->affected();
}

Result<std::int64_t> PgSyncState::update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                               const std::vector<FlagUpdate>& updates,
                                               std::int64_t now) {
    (void)now;
    Ctx q{c_, "updating flags"};
    for (const auto& u : updates) {
        for (const auto& f : u.flags)
            if (auto ok = check_text(q.what, "a flag", f); !ok)
                return std::unexpected(ok.error());
        for (const auto& l : u.labels.value_or(std::vector<std::string>{}))
            if (auto ok = check_text(q.what, "a Gmail label", l); !ok)
                return std::unexpected(ok.error());
    }
    if (updates.empty())
        return 0;
    if (auto ok = fence_mailbox(mailbox, q.what); !ok)
        return std::unexpected(ok.error());
    std::int64_t changed = 0;
    // The owner's own read/unread (HTTP API) is only overridden when \Seen changes on the server,
    // not on every sweep that sees the same flags again. FOR UPDATE: the old flags stay what
    // was read until the new ones are written. NO KEY: the lock the UPDATE below takes, which
    // does not wait for the thread view queueing a \Seen change of this location (its foreign
    // key takes KEY SHARE after locking the thread, which the marks' triggers lock after this).
    for (const auto& u : updates) {
        CRM_PG_TRY(old, q.exec("SELECT flags, message_id FROM locations WHERE mailbox_id = "
                               "$1::bigint AND uid_validity = $2::bigint AND uid = $3::bigint "
                               "FOR NO KEY UPDATE",
                               mailbox, uid_validity, u.uid));
        if (old->rows() == 0)
            continue;
        CRM_PG_TRY(flags, old->get<std::string>(0, 0));
        CRM_PG_TRY(row, old->get<std::int64_t>(0, 1));
        const bool was_seen = has_seen_flag(stored::split_ws(*flags));
        std::optional<std::string> labels;
        if (u.labels)
            labels = stored::json_string_array(*u.labels);
        CRM_PG_TRY(loc, q.exec("UPDATE locations SET flags = $1, labels = coalesce($5, labels) "
                               "WHERE mailbox_id = $2::bigint AND uid_validity = $3::bigint AND "
                               "uid = $4::bigint",
                               stored::join(u.flags), mailbox, uid_validity, u.uid, labels));
        if (has_seen_flag(u.flags) == was_seen)
            continue;
        // \Seen is the read state of the mailbox's owner (schema/postgresql/0009): their mark
        // follows it; messages.unread and the counters follow the marks by trigger. The thread
        // is locked first, as the thread view's marking and the triggers take it.
        CRM_PG_TRY(locked, q.exec("SELECT 1 FROM threads WHERE id = (SELECT thread_id FROM "
                                  "messages WHERE id = $1::bigint) FOR NO KEY UPDATE",
                                  *row));
        CRM_PG_TRY(mark,
                   has_seen_flag(u.flags)
                       ? q.exec("DELETE FROM unread_marks WHERE message_id = $1::bigint AND "
                                "user_id = (SELECT a.owner_id FROM mailboxes mb JOIN accounts a "
                                "ON a.id = mb.account_id WHERE mb.id = $2::bigint)",
                                *row, mailbox)
                       : q.exec("INSERT INTO unread_marks (user_id, message_id) SELECT "
                                "a.owner_id, m.id FROM messages m, mailboxes mb JOIN accounts a "
                                "ON a.id = mb.account_id WHERE m.id = $1::bigint AND mb.id = "
                                "$2::bigint AND a.owner_id IS NOT NULL AND m.direction = 'in' "
                                "ON CONFLICT DO NOTHING",
                                *row, mailbox));
        // A mailbox no user owns has no marks: \Seen there is the message's read state for
        // anyone, as long as no user still has it unread.
        const int unread = has_seen_flag(u.flags) ? 0 : 1;
        CRM_PG_TRY(ownerless,
                   q.exec("UPDATE messages SET unread = $1::smallint WHERE id = $2::bigint AND "
                          "unread <> $1::smallint AND direction = 'in' AND ($1::smallint = 1 OR "
                          "NOT EXISTS (SELECT 1 FROM unread_marks WHERE message_id = $2::bigint)) "
                          "AND (SELECT a.owner_id FROM mailboxes mb JOIN accounts a ON a.id = "
                          "mb.account_id WHERE mb.id = $3::bigint) IS NULL",
                          unread, *row, mailbox));
        if (mark->affected() + ownerless->affected() > 0)
            ++changed;
    }
    return changed;
}

Result<std::int64_t> PgSyncState::expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                          const std::vector<std::uint32_t>& uids,
                                          std::int64_t now) {
    (void)now;
    Ctx q{c_, "removing expunged locations"};
    if (uids.empty())
        return 0;
    if (auto ok = fence_mailbox(mailbox, q.what); !ok)
        return std::unexpected(ok.error());
    std::vector<std::int64_t> list(uids.begin(), uids.end());
    CRM_PG_TRY(r, q.exec("DELETE FROM locations WHERE mailbox_id = $1::bigint AND uid_validity = "
                         "$2::bigint AND uid = ANY($3::bigint[])",
                         mailbox, uid_validity, int_array(list)));
    // A message given up on (quarantined) and since expunged: its record goes too, or the
    // folder's counts would disagree on every pass.
    CRM_PG_TRY(gone, q.exec("DELETE FROM quarantine WHERE mailbox_id = $1::bigint AND "
                            "uid_validity = $2::bigint AND uid = ANY($3::bigint[])",
                            mailbox, uid_validity, int_array(list)));
    return r->affected();
}

Result<std::vector<std::pair<std::int64_t, MessageRowId>>>
PgSyncState::messages_by_gm_msgid(AccountId account, const std::vector<std::int64_t>& gm_msgids) {
    Ctx q{c_, "looking up Gmail message ids"};
    std::vector<std::pair<std::int64_t, MessageRowId>> out;
    if (gm_msgids.empty())
        return out;
    // One statement for the whole list, over the partial index locations_gm_msgid.
    CRM_PG_TRY(r, q.exec("SELECT DISTINCT ON (gm_msgid) gm_msgid, message_id FROM locations "
                         "WHERE account_id = $1::bigint AND gm_msgid = ANY($2::bigint[]) "
                         "ORDER BY gm_msgid, message_id",
                         account, int_array(gm_msgids)));
    out.reserve(static_cast<std::size_t>(r->rows()));
    for (int i = 0; i < r->rows(); ++i) {
        CRM_PG_TRY(id, r->get<std::int64_t>(i, 0));
        CRM_PG_TRY(message, r->get<std::int64_t>(i, 1));
        out.emplace_back(*id, *message);
    }
    return out;
}

Result<std::int64_t> PgSyncState::record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                                 std::uint32_t uid, const std::string& reason,
                                                 std::int64_t now) {
    Ctx q{c_, "recording a failed message"};
    // The reason is an error's text, which may quote bad bytes: kept readable, never refused.
    std::string clean;
    if (check_text(q.what, "the reason", reason)) {
        clean = reason;
    } else {
        for (std::size_t i = 0; i < reason.size();) {
            const auto ch = decode_utf8_at(reason, i);
            if (ch.valid && ch.cp != 0)
                append_utf8(clean, ch.cp);
            else
                clean += "\xEF\xBF\xBD"; // U+FFFD
            i += ch.size;
        }
    }
    if (auto ok = fence_mailbox(mailbox, q.what); !ok)
        return std::unexpected(ok.error());
    // Two transactions failing the same UID: the upsert's unique index orders them, and both
    // attempts are counted.
    CRM_PG_TRY(r, q.exec("INSERT INTO quarantine (mailbox_id, uid_validity, uid, reason, "
                         "first_failed_at, last_failed_at) VALUES ($1::bigint, $2::bigint, "
                         "$3::bigint, $4, $5::bigint, $5::bigint) ON CONFLICT (mailbox_id, "
                         "uid_validity, uid) DO UPDATE SET attempts = quarantine.attempts + 1, "
                         "reason = excluded.reason, last_failed_at = excluded.last_failed_at "
                         "RETURNING attempts",
                         mailbox, uid_validity, uid, clean, now));
    return r->get<std::int64_t>(0, 0);
}

Result<void> PgSyncState::set_health(AccountId account, const AccountHealth& h, std::int64_t now) {
    Ctx q{c_, "saving account health"};
    if (auto ok = check_text(q.what, "the error class", h.error_class); !ok)
        return ok;
    if (auto ok = check_text(q.what, "the error text", h.error_text); !ok)
        return ok;
    if (auto ok = fence_account(account, q.what); !ok)
        return ok;
    std::optional<std::int64_t> done, total;
    if (h.initial_done)
        done = static_cast<std::int64_t>(*h.initial_done);
    if (h.initial_total)
        total = static_cast<std::int64_t>(*h.initial_total);
    std::optional<std::int64_t> backfill;
    if (h.backfill_pending)
        backfill = static_cast<std::int64_t>(*h.backfill_pending);
    CRM_PG_TRY(
        r,
        q.exec("UPDATE accounts SET state = $1, last_success_at = CASE WHEN $2::boolean THEN "
               "$3::bigint ELSE last_success_at END, last_error_at = CASE WHEN $4::text <> '' "
               "THEN $3::bigint ELSE last_error_at END, last_error_class = CASE WHEN $4::text <> "
               "'' THEN $4::text WHEN $2::boolean THEN NULL ELSE last_error_class END, "
               "last_error = CASE WHEN $4::text <> '' THEN $5::text WHEN $2::boolean THEN NULL "
               "ELSE last_error END, lag_seconds = coalesce($6::bigint, lag_seconds), "
               "initial_done = CASE WHEN $11::boolean THEN GREATEST(initial_done, "
               "initial_total) ELSE coalesce($7::bigint, initial_done) END, initial_total = "
               "coalesce($8::bigint, initial_total), "
               // The clock of the rate/ETA: starts with the first progress report of an initial
               // sync (or when progress went backwards: a new folder), stops when it completes.
               "initial_started_at = CASE WHEN $11::boolean THEN NULL WHEN $7::bigint IS NULL OR "
               "$8::bigint IS NULL THEN initial_started_at WHEN $7::bigint >= $8::bigint THEN "
               "NULL WHEN initial_started_at IS NULL OR $7::bigint < initial_started_done THEN "
               "$3::bigint ELSE initial_started_at END, "
               "initial_started_done = CASE WHEN $11::boolean THEN 0 WHEN $7::bigint IS NULL OR "
               "$8::bigint IS NULL THEN initial_started_done WHEN $7::bigint >= $8::bigint THEN 0 "
               "WHEN initial_started_at IS NULL OR $7::bigint < initial_started_done THEN "
               "$7::bigint ELSE initial_started_done END, "
               "backfill_pending = coalesce($10::bigint, backfill_pending), "
               "updated_at = $3::bigint WHERE id = $9::bigint",
               std::string(health_name(h.state)), h.success, now, h.error_class, h.error_text,
               h.lag_seconds, done, total, account, backfill, h.initial_complete));
    return {};
}

Result<void> PgSyncState::add_synced(AccountId account, std::int64_t count) {
    Ctx q{c_, "counting synced messages"};
    if (auto ok = fence_account(account, q.what); !ok)
        return ok;
    CRM_PG_TRY(r, q.exec("UPDATE accounts SET messages_synced = messages_synced + $1::bigint "
                         "WHERE id = $2::bigint",
                         count, account));
    return {};
}

} // namespace crm::pg
