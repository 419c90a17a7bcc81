// IMAP sync bookkeeping over SQLite.
#include "crm/store/sync_store.hpp"

#include <algorithm>

#include "crm/core/imap_flags.hpp"
#include "crm/core/stored_json.hpp"
#include "guard.hpp"
#include "rows.hpp"

namespace crm::store {

Result<AccountId> SyncStore::ensure_account(const std::string& name, std::optional<UserId> owner,
                                            const std::string& address,
                                            const std::string& imap_host, bool enabled,
                                            std::int64_t now) {
    return guard("registering account " + name, [&]() -> Result<AccountId> {
        auto& d = db_.impl();
        // The CRM user may not exist yet; the account still syncs, without an owner.
        const std::int64_t owner_id = owner.value_or(0);
        bool has_owner = false;
        if (owner_id > 0) {
            auto& u = d.stmt("SELECT 1 FROM users WHERE id = ?");
            u.bind(1, owner_id);
            has_owner = u.executeStep();
        }
        auto& s = d.stmt(
            "INSERT INTO accounts (name, owner_id, address, imap_host, enabled, state, created_at, "
            "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?5 THEN 'new' ELSE 'disabled' END,"
            " ?6, ?6) ON CONFLICT (name) DO UPDATE SET owner_id = excluded.owner_id, address = "
            "excluded.address, imap_host = excluded.imap_host, enabled = excluded.enabled, "
            "state = CASE WHEN excluded.enabled THEN (CASE WHEN accounts.state = 'disabled' THEN "
            "'new' ELSE accounts.state END) ELSE 'disabled' END, updated_at = excluded.updated_at");
        s.bind(1, name);
        if (has_owner)
            s.bind(2, owner_id);
        else
            s.bind(2);
        s.bind(3, address);
        s.bind(4, imap_host);
        s.bind(5, enabled ? 1 : 0);
        s.bind(6, now);
        s.exec();
        auto& q = d.stmt("SELECT id FROM accounts WHERE name = ?");
        q.bind(1, name);
        q.executeStep();
        return q.getColumn(0).getInt64();
    });
}

Result<std::optional<std::int64_t>> SyncStore::resync_account(const std::string& name) {
    return guard("clearing the checkpoints of " + name,
                 [&]() -> Result<std::optional<std::int64_t>> {
                     auto& d = db_.impl();
                     // BEGIN IMMEDIATE, like every writer here: a deferred transaction that
                     // reads first cannot wait for the daemon's commit and fails "locked".
                     Database::Transaction tx(db_);
                     auto& q = d.stmt("SELECT id FROM accounts WHERE name = ?");
                     q.bind(1, name);
                     if (!q.executeStep())
                         return std::nullopt;
                     const std::int64_t id = q.getColumn(0).getInt64();
                     q.reset();
                     auto& m = d.stmt("UPDATE mailboxes SET uid_next = NULL, highest_modseq = "
                                      "NULL WHERE account_id = ?");
                     m.bind(1, id);
                     const std::int64_t n = m.exec();
                     auto& a = d.stmt("UPDATE accounts SET initial_done = 0, initial_total = 0, "
                                      "initial_started_at = NULL, initial_started_done = 0 "
                                      "WHERE id = ?");
                     a.bind(1, id);
                     a.exec();
                     if (auto c = tx.commit(); !c)
                         return std::unexpected(c.error());
                     return n;
                 });
}

Result<bool> SyncStore::user_exists(UserId id) {
    return guard("looking up a user", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt("SELECT 1 FROM users WHERE id = ?");
        q.bind(1, id);
        return q.executeStep();
    });
}

std::optional<std::string> SyncStore::user_name(UserId id) {
    try {
        auto& q = db_.impl().stmt("SELECT name FROM users WHERE id = ?");
        q.bind(1, id);
        if (q.executeStep())
            return q.getColumn(0).getString();
    } catch (const std::exception&) { // NOLINT(bugprone-empty-catch): no name is fine
    }
    return std::nullopt;
}

Result<std::vector<AccountRow>> SyncStore::accounts() {
    return guard("listing accounts", [&]() -> Result<std::vector<AccountRow>> {
        auto& q = db_.impl().stmt(
            "SELECT a.id, a.name, a.address, a.state, coalesce(a.last_error_class, ''), "
            "coalesce(a.last_error, ''), a.imap_host, a.owner_id, a.enabled, a.last_success_at, "
            "a.last_error_at, a.lag_seconds, a.messages_synced, a.initial_done, a.initial_total, "
            "(SELECT count(*) FROM mailboxes m WHERE m.account_id = a.id), "
            "a.initial_started_at, a.initial_started_done, a.updated_at, a.backfill_pending "
            "FROM accounts a ORDER BY a.name");
        std::vector<AccountRow> out;
        while (q.executeStep()) {
            AccountRow r;
            r.id = q.getColumn(0).getInt64();
            r.name = q.getColumn(1).getString();
            r.address = q.getColumn(2).getString();
            // The schema admits only these (CHECK on accounts.state).
            r.state = parse_health(q.getColumn(3).getString()).value_or(HealthState::Error);
            r.last_error_class = q.getColumn(4).getString();
            r.last_error = q.getColumn(5).getString();
            r.imap_host = q.getColumn(6).getString();
            r.owner = opt_col(q.getColumn(7));
            r.enabled = q.getColumn(8).getInt() != 0;
            r.last_success_at = opt_col(q.getColumn(9));
            r.last_error_at = opt_col(q.getColumn(10));
            r.lag_seconds = opt_col(q.getColumn(11));
            r.messages = q.getColumn(12).getInt64();
            r.initial_done = q.getColumn(13).getInt64();
            r.initial_total = q.getColumn(14).getInt64();
            r.mailboxes = q.getColumn(15).getInt64();
            r.initial_started_at = opt_col(q.getColumn(16));
            r.initial_started_done = q.getColumn(17).getInt64();
            r.updated_at = q.getColumn(18).getInt64();
            r.backfill_pending = q.getColumn(19).getInt64();
            out.push_back(std::move(r));
        }
        return out;
    });
}

Result<MailboxState> SyncStore::ensure_mailbox(AccountId account, const std::string& name,
                                               const std::string& special_use) {
    return guard("registering mailbox " + name, [&]() -> Result<MailboxState> {
        auto& d = db_.impl();
        auto& s = d.stmt("INSERT INTO mailboxes (account_id, name, special_use) VALUES (?, ?, ?) "
                         "ON CONFLICT (account_id, name) DO UPDATE SET special_use = "
                         "excluded.special_use");
        s.bind(1, account);
        s.bind(2, name);
        s.bind(3, special_use);
        s.exec();
        auto& q = d.stmt("SELECT id, uid_validity, uid_next, highest_modseq FROM mailboxes "
                         "WHERE account_id = ? AND name = ?");
        q.bind(1, account);
        q.bind(2, name);
        q.executeStep();
        MailboxState st;
        st.id = q.getColumn(0).getInt64();
        if (auto v = opt_col(q.getColumn(1)))
            st.uid_validity = static_cast<std::uint32_t>(*v);
        if (auto v = opt_col(q.getColumn(2)))
            st.uid_next = static_cast<std::uint32_t>(*v);
        if (auto v = opt_col(q.getColumn(3)))
            st.highest_modseq = static_cast<std::uint64_t>(*v);
        return st;
    });
}

Result<std::vector<StoredMailbox>> SyncStore::account_mailboxes(AccountId account) {
    return guard("listing an account's mailboxes", [&]() -> Result<std::vector<StoredMailbox>> {
        auto& q = db_.impl().stmt("SELECT id, name, uid_validity FROM mailboxes WHERE account_id "
                                  "= ? ORDER BY name");
        q.bind(1, account);
        std::vector<StoredMailbox> out;
        while (q.executeStep()) {
            StoredMailbox m{q.getColumn(0).getInt64(), q.getColumn(1).getString(), std::nullopt};
            if (!q.getColumn(2).isNull())
                m.uid_validity = static_cast<std::uint32_t>(q.getColumn(2).getInt64());
            out.push_back(std::move(m));
        }
        return out;
    });
}

Result<std::vector<std::uint32_t>> SyncStore::stored_uids(MailboxId mailbox,
                                                          std::uint32_t uid_validity) {
    return guard("reading stored UIDs", [&]() -> Result<std::vector<std::uint32_t>> {
        auto& q = db_.impl().stmt("SELECT uid FROM locations WHERE mailbox_id = ? AND "
                                  "uid_validity = ? ORDER BY uid");
        q.bind(1, mailbox);
        q.bind(2, static_cast<std::int64_t>(uid_validity));
        std::vector<std::uint32_t> out;
        while (q.executeStep())
            out.push_back(static_cast<std::uint32_t>(q.getColumn(0).getInt64()));
        return out;
    });
}

Result<std::vector<std::uint32_t>> SyncStore::quarantined_uids(MailboxId mailbox,
                                                               std::uint32_t uid_validity) {
    return guard("reading quarantine", [&]() -> Result<std::vector<std::uint32_t>> {
        auto& q =
            db_.impl().stmt(std::string("SELECT q.uid FROM quarantine q WHERE "
                                        "q.mailbox_id = ? AND q.uid_validity = ? AND "
                                        "(q.attempts >= ? OR q.dropped_at IS NOT NULL) AND ") +
                            kQuarantineNotStored + " ORDER BY q.uid");
        q.bind(1, mailbox);
        q.bind(2, static_cast<std::int64_t>(uid_validity));
        q.bind(3, kQuarantineAttempts);
        std::vector<std::uint32_t> out;
        while (q.executeStep())
            out.push_back(static_cast<std::uint32_t>(q.getColumn(0).getInt64()));
        return out;
    });
}

namespace {

const std::string kQuarantineSelect =
    std::string("SELECT q.mailbox_id, q.uid_validity, q.uid, a.name, m.name, q.attempts, "
                "q.reason, q.first_failed_at, q.last_failed_at FROM quarantine q JOIN mailboxes "
                "m ON m.id = q.mailbox_id JOIN accounts a ON a.id = m.account_id WHERE "
                "q.dropped_at IS NULL AND ") +
    kQuarantineNotStored + " ";

QuarantineEntry read_quarantine(SQLite::Statement& q) {
    QuarantineEntry e;
    e.key = {q.getColumn(0).getInt64(), static_cast<std::uint32_t>(q.getColumn(1).getInt64()),
             static_cast<std::uint32_t>(q.getColumn(2).getInt64())};
    e.account = q.getColumn(3).getString();
    e.mailbox = q.getColumn(4).getString();
    e.attempts = q.getColumn(5).getInt64();
    e.reason = q.getColumn(6).getString();
    e.first_failed_at = q.getColumn(7).getInt64();
    e.last_failed_at = q.getColumn(8).getInt64();
    return e;
}

void bind_key(SQLite::Statement& q, const QuarantineKey& k) {
    q.bind(":mailbox", k.mailbox);
    q.bind(":validity", static_cast<std::int64_t>(k.uid_validity));
    q.bind(":uid", static_cast<std::int64_t>(k.uid));
}

constexpr const char* kKeyMatch =
    "mailbox_id = :mailbox AND uid_validity = :validity AND uid = :uid";

} // namespace

Result<std::vector<QuarantineEntry>>
SyncStore::quarantine_list(const std::optional<std::string>& account) {
    return guard("listing the quarantine", [&]() -> Result<std::vector<QuarantineEntry>> {
        auto& q = db_.impl().stmt(kQuarantineSelect +
                                  "AND (:account IS NULL OR a.name = :account) ORDER BY a.name, "
                                  "m.name, q.uid_validity, q.uid");
        if (account)
            q.bind(":account", *account);
        std::vector<QuarantineEntry> out;
        while (q.executeStep())
            out.push_back(read_quarantine(q));
        return out;
    });
}

Result<std::optional<QuarantineEntry>> SyncStore::quarantine_entry(const QuarantineKey& key) {
    return guard("reading a quarantined message", [&]() -> Result<std::optional<QuarantineEntry>> {
        auto& q =
            db_.impl().stmt(kQuarantineSelect + "AND q.mailbox_id = :mailbox AND q.uid_validity "
                                                "= :validity AND q.uid = :uid");
        bind_key(q, key);
        if (!q.executeStep())
            return std::nullopt;
        auto e = read_quarantine(q);
        q.reset();
        return e;
    });
}

Result<bool> SyncStore::quarantine_retry(const QuarantineKey& key) {
    return guard("retrying a quarantined message", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(std::string("DELETE FROM quarantine WHERE ") + kKeyMatch +
                                  " AND dropped_at IS NULL");
        bind_key(q, key);
        return q.exec() > 0;
    });
}

Result<bool> SyncStore::quarantine_drop(const QuarantineKey& key, std::int64_t now) {
    return guard("dropping a quarantined message", [&]() -> Result<bool> {
        auto& q = db_.impl().stmt(std::string("UPDATE quarantine SET dropped_at = :now WHERE ") +
                                  kKeyMatch + " AND dropped_at IS NULL");
        bind_key(q, key);
        q.bind(":now", now);
        return q.exec() > 0;
    });
}

Result<void> SyncStore::set_checkpoint(MailboxId mailbox, std::uint32_t uid_validity,
                                       std::optional<std::uint32_t> uid_next,
                                       std::optional<std::uint64_t> highest_modseq,
                                       std::int64_t now) {
    return guard("saving a checkpoint", [&]() -> Result<void> {
        auto& s = db_.impl().stmt(
            "UPDATE mailboxes SET uid_validity = ?, uid_next = coalesce(?, uid_next), "
            "highest_modseq = coalesce(?, highest_modseq), last_sync_at = ? WHERE id = ?");
        s.bind(1, static_cast<std::int64_t>(uid_validity));
        if (uid_next)
            s.bind(2, static_cast<std::int64_t>(*uid_next));
        else
            s.bind(2);
        if (highest_modseq)
            s.bind(3, static_cast<std::int64_t>(*highest_modseq));
        else
            s.bind(3);
        s.bind(4, now);
        s.bind(5, mailbox);
        s.exec();
        return {};
    });
}

Result<std::int64_t> SyncStore::reset_uid_validity(MailboxId mailbox,
                                                   std::uint32_t new_uid_validity) {
    return guard("handling a UIDVALIDITY change", [&]() -> Result<std::int64_t> {
        auto& d = db_.impl();
        auto& del = d.stmt("DELETE FROM locations WHERE mailbox_id = ? AND uid_validity != ?");
        del.bind(1, mailbox);
        del.bind(2, static_cast<std::int64_t>(new_uid_validity));
        auto n = del.exec();
        auto& s = d.stmt("UPDATE mailboxes SET uid_validity = ?, uid_next = NULL, "
                         "highest_modseq = NULL WHERE id = ?");
        s.bind(1, static_cast<std::int64_t>(new_uid_validity));
        s.bind(2, mailbox);
        s.exec();
        return static_cast<std::int64_t>(n);
    });
}

Result<std::int64_t> SyncStore::update_flags(MailboxId mailbox, std::uint32_t uid_validity,
                                             const std::vector<FlagUpdate>& updates,
                                             std::int64_t now) {
    (void)now;
    return guard("updating flags", [&]() -> Result<std::int64_t> {
        auto& d = db_.impl();
        std::int64_t changed = 0;
        // The CRM's own read/unread (HTTP API) is only overridden when \\Seen changes on the
        // server, not on every sweep that sees the same flags again.
        auto& old = d.stmt("SELECT flags FROM locations WHERE mailbox_id = ? AND uid_validity = ? "
                           "AND uid = ?");
        auto& loc = d.stmt("UPDATE locations SET flags = ?, labels = coalesce(?, labels) WHERE "
                           "mailbox_id = ? AND uid_validity = ? AND uid = ? RETURNING message_id");
        // \Seen is the read state of the mailbox's owner (schema/0017): their mark follows it;
        // messages.unread and the counters follow the marks by trigger.
        auto& seen = d.stmt("DELETE FROM unread_marks WHERE message_id = ?1 AND user_id = (SELECT "
                            "a.owner_id FROM mailboxes mb JOIN accounts a ON a.id = "
                            "mb.account_id WHERE mb.id = ?2)");
        // A mailbox no user owns has no marks: \Seen there is the message's read state for
        // anyone, as long as no user still has it unread.
        auto& ownerless = d.stmt(
            "UPDATE messages SET unread = ?1 WHERE id = ?2 AND unread != ?1 AND direction = 'in' "
            "AND (?1 = 1 OR NOT EXISTS (SELECT 1 FROM unread_marks WHERE message_id = ?2)) AND "
            "(SELECT a.owner_id FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id WHERE "
            "mb.id = ?3) IS NULL");
        auto& unseen = d.stmt(
            "INSERT OR IGNORE INTO unread_marks (user_id, message_id) SELECT a.owner_id, m.id "
            "FROM messages m, mailboxes mb JOIN accounts a ON a.id = mb.account_id WHERE m.id = ?1 "
            "AND mb.id = ?2 AND a.owner_id IS NOT NULL AND m.direction = 'in'");
        for (const auto& u : updates) {
            old.reset();
            old.bind(1, mailbox);
            old.bind(2, static_cast<std::int64_t>(uid_validity));
            old.bind(3, static_cast<std::int64_t>(u.uid));
            if (!old.executeStep())
                continue;
            const bool was_seen = has_seen_flag(stored::split_ws(old.getColumn(0).getString()));
            old.reset();
            loc.reset();
            loc.bind(1, stored::join(u.flags));
            if (u.labels)
                loc.bind(2, stored::json_string_array(*u.labels));
            else
                loc.bind(2);
            loc.bind(3, mailbox);
            loc.bind(4, static_cast<std::int64_t>(uid_validity));
            loc.bind(5, static_cast<std::int64_t>(u.uid));
            if (!loc.executeStep())
                continue;
            auto row = loc.getColumn(0).getInt64();
            while (loc.executeStep()) {
            }
            if (has_seen_flag(u.flags) == was_seen)
                continue;
            auto& mark = has_seen_flag(u.flags) ? seen : unseen;
            mark.reset();
            mark.bind(1, row);
            mark.bind(2, mailbox);
            auto n = mark.exec();
            ownerless.reset();
            ownerless.bind(1, has_seen_flag(u.flags) ? 0 : 1);
            ownerless.bind(2, row);
            ownerless.bind(3, mailbox);
            n += ownerless.exec();
            if (n > 0)
                ++changed;
        }
        return changed;
    });
}

Result<std::int64_t> SyncStore::expunge(MailboxId mailbox, std::uint32_t uid_validity,
                                        const std::vector<std::uint32_t>& uids,
                                        std::int64_t now) {
    (void)now;
    return guard("removing expunged locations", [&]() -> Result<std::int64_t> {
        auto& s = db_.impl().stmt(
            "DELETE FROM locations WHERE mailbox_id = ? AND uid_validity = ? AND uid = ?");
        // A message given up on (quarantined) and since expunged: its record goes too, or the
        // folder's counts would disagree on every pass.
        auto& qs = db_.impl().stmt(
            "DELETE FROM quarantine WHERE mailbox_id = ? AND uid_validity = ? AND uid = ?");
        std::int64_t n = 0;
        for (auto uid : uids) {
            s.reset();
            s.bind(1, mailbox);
            s.bind(2, static_cast<std::int64_t>(uid_validity));
            s.bind(3, static_cast<std::int64_t>(uid));
            n += s.exec();
            qs.reset();
            qs.bind(1, mailbox);
            qs.bind(2, static_cast<std::int64_t>(uid_validity));
            qs.bind(3, static_cast<std::int64_t>(uid));
            qs.exec();
        }
        return n;
    });
}

Result<std::vector<std::pair<std::int64_t, MessageRowId>>>
SyncStore::messages_by_gm_msgid(AccountId account, const std::vector<std::int64_t>& gm_msgids) {
    return guard("looking up Gmail message ids",
                 [&]() -> Result<std::vector<std::pair<std::int64_t, MessageRowId>>> {
                     // The partial index locations_gm_msgid (account_id, gm_msgid) answers each.
                     auto& q = db_.impl().stmt(
                         "SELECT message_id FROM locations WHERE "
                         "account_id = ? AND gm_msgid = ? ORDER BY message_id LIMIT 1");
                     std::vector<std::pair<std::int64_t, MessageRowId>> out;
                     for (auto id : gm_msgids) {
                         q.reset();
                         q.bind(1, account);
                         q.bind(2, id);
                         if (q.executeStep())
                             out.emplace_back(id, q.getColumn(0).getInt64());
                     }
                     q.reset();
                     return out;
                 });
}

Result<std::int64_t> SyncStore::record_failure(MailboxId mailbox, std::uint32_t uid_validity,
                                               std::uint32_t uid, const std::string& reason,
                                               std::int64_t now) {
    return guard("recording a failed message", [&]() -> Result<std::int64_t> {
        auto& s = db_.impl().stmt(
            "INSERT INTO quarantine (mailbox_id, uid_validity, uid, reason, first_failed_at, "
            "last_failed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT DO UPDATE SET "
            "attempts = attempts + 1, reason = excluded.reason, last_failed_at = "
            "excluded.last_failed_at RETURNING attempts");
        s.bind(1, mailbox);
        s.bind(2, static_cast<std::int64_t>(uid_validity));
        s.bind(3, static_cast<std::int64_t>(uid));
        s.bind(4, reason);
        s.bind(5, now);
        s.executeStep();
        auto n = s.getColumn(0).getInt64();
        while (s.executeStep()) {
        }
        return n;
    });
}

Result<void> SyncStore::set_health(AccountId account, const AccountHealth& h, std::int64_t now) {
    return guard("saving account health", [&]() -> Result<void> {
        auto& s = db_.impl().stmt(
            "UPDATE accounts SET state = ?1, last_success_at = CASE WHEN ?2 THEN ?3 ELSE "
            "last_success_at END, last_error_at = CASE WHEN ?4 != '' THEN ?3 ELSE last_error_at "
            "END, last_error_class = CASE WHEN ?4 != '' THEN ?4 WHEN ?2 THEN NULL ELSE "
            "last_error_class END, last_error = CASE WHEN ?4 != '' THEN ?5 WHEN ?2 THEN NULL "
            "ELSE last_error END, lag_seconds = coalesce(?6, lag_seconds), initial_done = "
            "CASE WHEN ?11 THEN max(initial_done, initial_total) ELSE coalesce(?7, initial_done) "
            "END, initial_total = coalesce(?8, initial_total), "
            // The clock of the rate/ETA: starts with the first progress report of an initial
            // sync (or when progress went backwards: a new folder), stops when it completes.
            "initial_started_at = CASE WHEN ?11 THEN NULL WHEN ?7 IS NULL OR ?8 IS NULL THEN "
            "initial_started_at WHEN ?7 >= ?8 THEN NULL WHEN initial_started_at IS NULL OR ?7 < "
            "initial_started_done THEN ?3 ELSE initial_started_at END, "
            "initial_started_done = CASE WHEN ?11 THEN 0 WHEN ?7 IS NULL OR ?8 IS NULL THEN "
            "initial_started_done WHEN ?7 >= ?8 THEN 0 WHEN initial_started_at IS NULL OR ?7 < "
            "initial_started_done THEN ?7 ELSE initial_started_done END, "
            "backfill_pending = coalesce(?10, backfill_pending), updated_at = ?3 WHERE id = ?9");
        s.bind(1, std::string(health_name(h.state)));
        s.bind(2, h.success ? 1 : 0);
        s.bind(3, now);
        s.bind(4, h.error_class);
        s.bind(5, h.error_text);
        if (h.lag_seconds)
            s.bind(6, *h.lag_seconds);
        else
            s.bind(6);
        if (h.initial_done)
            s.bind(7, static_cast<std::int64_t>(*h.initial_done));
        else
            s.bind(7);
        if (h.initial_total)
            s.bind(8, static_cast<std::int64_t>(*h.initial_total));
        else
            s.bind(8);
        s.bind(9, account);
        if (h.backfill_pending)
            s.bind(10, static_cast<std::int64_t>(*h.backfill_pending));
        else
            s.bind(10);
        s.bind(11, h.initial_complete ? 1 : 0);
        s.exec();
        return {};
    });
}

Result<void> SyncStore::add_synced(AccountId account, std::int64_t count) {
    return guard("counting synced messages", [&]() -> Result<void> {
        auto& s = db_.impl().stmt(
            "UPDATE accounts SET messages_synced = messages_synced + ? WHERE id = ?");
        s.bind(1, count);
        s.bind(2, account);
        s.exec();
        return {};
    });
}

} // namespace crm::store
