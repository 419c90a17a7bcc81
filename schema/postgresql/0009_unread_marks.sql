-- PostgreSQL 0009 = SQLite 0017: read state per user (issue 19). A row says "this message is
-- unread for this user"; no row: read. See schema/0017_unread_marks.sql for where marks come
-- from. messages.unread stays, 1 while some user still has the message unread, and
-- threads.unread_count and deal_stats.unread follow it.
--
-- Workers run concurrently here: each trigger locks the message's thread row first (FOR NO KEY
-- UPDATE), the same order as the thread view's marking (which locks the thread before its
-- messages), so that "is any mark left?" is answered after the other transaction's marks are
-- committed (two users reading one message at once must not leave it unread, nor a new mark
-- read). The table is new and empty when its index is built: no writer waits on it.
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
    INSERT INTO unread_marks (user_id, message_id)
    SELECT owner, m.id FROM messages m WHERE m.id = NEW.message_id AND m.direction = 'in'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
CREATE TRIGGER unread_marks_arrival AFTER INSERT ON locations
    FOR EACH ROW EXECUTE FUNCTION unread_marks_arrival();

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
