-- PostgreSQL 0009 = SQLite 0017: read state per user (issue 19). A row says "this message is
-- unread for this user"; no row: read. See schema/0017_unread_marks.sql for where marks come
-- from. messages.unread stays, 1 while some user still has the message unread, and
-- threads.unread_count and deal_stats.unread follow it.
--
-- Workers run concurrently here: the message's thread row is locked (FOR NO KEY UPDATE) before
-- a mark changes, by the thread view's marking, by the flag sync and by the arrival trigger, and
-- the mark triggers lock it again (already held) before they ask "is any mark left?", which is
-- then answered after the other transaction's marks are committed: two users reading one
-- message at once cannot leave it unread, nor a new mark read, and no two of them wait on each
-- other in opposite orders. The table is new and empty when its index is built: no writer waits on it.
CREATE TABLE unread_marks (
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, message_id)
);
CREATE INDEX unread_marks_message ON unread_marks (message_id);

INSERT INTO unread_marks (user_id, message_id)
SELECT DISTINCT CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id END, m.id
FROM messages m JOIN locations l ON l.message_id = m.id
LEFT JOIN accounts a ON a.id = l.account_id
WHERE m.unread = 1 AND CASE WHEN l.account_id IS NULL THEN l.owner_id ELSE a.owner_id END IS NOT NULL
  AND position(' \seen ' IN ' ' || lower(l.flags) || ' ') = 0
ON CONFLICT DO NOTHING;

CREATE FUNCTION unread_marks_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner BIGINT;
BEGIN
    IF position(' \seen ' IN ' ' || lower(NEW.flags) || ' ') > 0 THEN
        RETURN NULL;
    END IF;
    IF NEW.account_id IS NULL THEN
        owner := NEW.owner_id;
    ELSE
        SELECT owner_id INTO owner FROM accounts WHERE id = NEW.account_id;
    END IF;
    IF owner IS NULL THEN
        RETURN NULL;
    END IF;
    -- The thread first, as the thread view and the flag sync take it (see above).
    PERFORM 1 FROM threads WHERE id = (SELECT thread_id FROM messages WHERE id = NEW.message_id)
        FOR NO KEY UPDATE;
    INSERT INTO unread_marks (user_id, message_id)
    SELECT owner, m.id FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'in'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER unread_marks_arrival AFTER INSERT ON locations
    FOR EACH ROW EXECUTE FUNCTION unread_marks_arrival();

CREATE FUNCTION unread_marks_new_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.owner_id IS NOT NULL THEN
        INSERT INTO unread_marks (user_id, message_id)
        SELECT NEW.owner_id, l.message_id FROM locations l JOIN messages m ON m.id = l.message_id
        WHERE l.account_id = NEW.id AND m.direction = 'in'
          AND position(' \seen ' IN ' ' || lower(l.flags) || ' ') = 0
        ON CONFLICT DO NOTHING;
    END IF;
    IF OLD.owner_id IS NOT NULL THEN
        DELETE FROM unread_marks u WHERE u.user_id = OLD.owner_id
          AND u.message_id IN (SELECT message_id FROM locations WHERE account_id = NEW.id)
          AND NOT EXISTS (SELECT 1 FROM locations l2 LEFT JOIN accounts a2 ON a2.id = l2.account_id
                          WHERE l2.message_id = u.message_id
                            AND CASE WHEN l2.account_id IS NULL THEN l2.owner_id ELSE a2.owner_id END
                                = OLD.owner_id);
    END IF;
    RETURN NULL;
END
$$;
-- An account that changes hands (or gets its first owner after syncing without one): its unseen
-- incoming mail becomes unread for the new owner; the previous owner's marks on mail they no
-- longer receive through any mailbox of theirs go.
CREATE TRIGGER unread_marks_new_owner AFTER UPDATE OF owner_id ON accounts
    FOR EACH ROW WHEN (NEW.owner_id IS DISTINCT FROM OLD.owner_id)
    EXECUTE FUNCTION unread_marks_new_owner();

CREATE FUNCTION unread_marks_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM threads WHERE id = (SELECT thread_id FROM messages WHERE id = NEW.message_id)
        FOR NO KEY UPDATE;
    UPDATE messages SET unread = 1 WHERE id = NEW.message_id AND unread = 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER unread_marks_set AFTER INSERT ON unread_marks
    FOR EACH ROW EXECUTE FUNCTION unread_marks_set();

CREATE FUNCTION unread_marks_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM threads WHERE id = (SELECT thread_id FROM messages WHERE id = OLD.message_id)
        FOR NO KEY UPDATE;
    UPDATE messages SET unread = 0 WHERE id = OLD.message_id AND unread = 1
        AND NOT EXISTS (SELECT 1 FROM unread_marks WHERE message_id = OLD.message_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER unread_marks_cleared AFTER DELETE ON unread_marks
    FOR EACH ROW EXECUTE FUNCTION unread_marks_cleared();

CREATE FUNCTION messages_unread_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE threads SET unread_count = unread_count + NEW.unread - OLD.unread
    WHERE id = NEW.thread_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER messages_unread_count AFTER UPDATE OF unread ON messages
    FOR EACH ROW WHEN (NEW.unread <> OLD.unread) EXECUTE FUNCTION messages_unread_count();
