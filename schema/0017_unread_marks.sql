-- 0017: read state per user (issue 19). A row says "this message is unread for this user"; no
-- row: read. Each salesperson's marks are their own: Alice reading a message that is also in
-- Bob's mailbox leaves it unread for Bob (and, with mirror_seen, \Seen is set only in Alice's
-- mailbox).
--
-- Where marks come from:
-- * a location (the message arriving in a mailbox) without \Seen, of incoming mail, gives the
--   mailbox's owner a mark (the trigger below: every backend and every writer the same);
-- * \Seen changing on the server removes or adds the mark of that mailbox's owner (the daemon);
-- * a person marking read or unread in the thread view removes or adds their own mark.
--
-- messages.unread stays, for the operator's listings and the CRM application: 1 while some user
-- still has the message unread (kept by the triggers below), and threads.unread_count and
-- deal_stats.unread follow it. The thread view counts the viewer's own marks.
CREATE TABLE unread_marks (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
) WITHOUT ROWID;
CREATE INDEX unread_marks_message ON unread_marks (message_id);

-- The marks of today's single read state: an unread message is unread for each owner of a
-- mailbox (or imported file) it came through, unless that owner's own copy is \Seen.
INSERT OR IGNORE INTO unread_marks (user_id, message_id)
SELECT CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id END, m.id
FROM messages m JOIN locations l ON l.message_id = m.id
LEFT JOIN accounts a ON a.id = l.account_id
WHERE m.unread = 1 AND CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id END IS NOT NULL
  AND (' ' || l.flags || ' ') NOT LIKE '% \seen %';

-- Incoming mail arriving unseen in an owned mailbox is unread for its owner.
CREATE TRIGGER unread_marks_arrival AFTER INSERT ON locations
WHEN (' ' || NEW.flags || ' ') NOT LIKE '% \seen %'
BEGIN
    INSERT OR IGNORE INTO unread_marks (user_id, message_id)
    SELECT o.owner, NEW.message_id
    FROM (SELECT CASE WHEN NEW.account_id IS NULL THEN NEW.owner_id
                 ELSE (SELECT owner_id FROM accounts WHERE id = NEW.account_id) END AS owner) o
    WHERE o.owner IS NOT NULL
      AND EXISTS (SELECT 1 FROM messages WHERE id = NEW.message_id AND direction = 'in');
END;

-- An account that changes hands (or gets its first owner after syncing without one): its unseen
-- incoming mail becomes unread for the new owner, and the previous owner's marks on mail they
-- no longer receive through any mailbox of theirs go.
CREATE TRIGGER unread_marks_new_owner AFTER UPDATE OF owner_id ON accounts
WHEN NEW.owner_id IS NOT OLD.owner_id
BEGIN
    INSERT OR IGNORE INTO unread_marks (user_id, message_id)
    SELECT NEW.owner_id, l.message_id FROM locations l JOIN messages m ON m.id = l.message_id
    WHERE l.account_id = NEW.id AND NEW.owner_id IS NOT NULL AND m.direction = 'in'
      AND (' ' || l.flags || ' ') NOT LIKE '% \seen %';
    DELETE FROM unread_marks WHERE user_id = OLD.owner_id
      AND message_id IN (SELECT message_id FROM locations WHERE account_id = NEW.id)
      AND NOT EXISTS (SELECT 1 FROM locations l2 LEFT JOIN accounts a2 ON a2.id = l2.account_id
                      WHERE l2.message_id = unread_marks.message_id
                        AND CASE WHEN l2.account_id IS NULL THEN l2.owner_id ELSE a2.owner_id END
                            = OLD.owner_id);
END;

-- messages.unread: 1 while any user's mark remains.
CREATE TRIGGER unread_marks_set AFTER INSERT ON unread_marks
BEGIN
    UPDATE messages SET unread = 1 WHERE id = NEW.message_id AND unread = 0;
END;
CREATE TRIGGER unread_marks_cleared AFTER DELETE ON unread_marks
BEGIN
    UPDATE messages SET unread = 0 WHERE id = OLD.message_id AND unread = 1
        AND NOT EXISTS (SELECT 1 FROM unread_marks WHERE message_id = OLD.message_id);
END;

-- threads.unread_count follows messages.unread (deal_stats follows threads: 0007).
CREATE TRIGGER messages_unread_count AFTER UPDATE OF unread ON messages
WHEN NEW.unread <> OLD.unread
BEGIN
    UPDATE threads SET unread_count = unread_count + NEW.unread - OLD.unread
    WHERE id = NEW.thread_id;
END;
