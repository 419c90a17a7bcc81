-- PostgreSQL 0013 = SQLite 0020: follow-ups (issue 20). threads.last_in_at / last_out_at, kept
-- by triggers whoever writes (see the SQLite file for what counts); a deal's own follow-up
-- periods; snoozes.
ALTER TABLE threads ADD COLUMN last_in_at BIGINT;
ALTER TABLE threads ADD COLUMN last_out_at BIGINT;

UPDATE threads t SET last_in_at = x.last_in, last_out_at = x.last_out
FROM (SELECT thread_id,
             max(coalesce(date, received_at)) FILTER (WHERE direction = 'in' AND auto_kind = ''
                                                      AND is_bulk = 0) AS last_in,
             max(coalesce(date, received_at)) FILTER (WHERE direction = 'out' AND auto_kind = '') AS last_out
      FROM messages WHERE thread_id IS NOT NULL GROUP BY thread_id) x
WHERE t.id = x.thread_id;

-- The thread's dates read again from its messages. The thread's row is locked first: the UPDATE
-- then runs on a snapshot taken after every transaction that changed the row committed (READ
-- COMMITTED takes one per statement), so a message another worker stored meanwhile is counted.
CREATE FUNCTION threads_followup_recount(t BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM threads WHERE id = t FOR NO KEY UPDATE;
    UPDATE threads SET
        last_in_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                      WHERE m.thread_id = t AND m.direction = 'in' AND m.auto_kind = ''
                        AND m.is_bulk = 0),
        last_out_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                       WHERE m.thread_id = t AND m.direction = 'out' AND m.auto_kind = '')
    WHERE id = t;
END
$$;

-- A message arriving in (or moved into) a thread: the thread takes its date.
CREATE FUNCTION messages_followup_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    at BIGINT := coalesce(NEW.date, NEW.received_at);
BEGIN
    IF NEW.thread_id IS NULL THEN
        NULL;
    ELSIF NEW.direction = 'in' AND NEW.auto_kind = '' AND NEW.is_bulk = 0 THEN
        UPDATE threads SET last_in_at = GREATEST(coalesce(last_in_at, at), at)
        WHERE id = NEW.thread_id AND last_in_at IS DISTINCT FROM GREATEST(coalesce(last_in_at, at), at);
    ELSIF NEW.direction = 'out' AND NEW.auto_kind = '' THEN
        UPDATE threads SET last_out_at = GREATEST(coalesce(last_out_at, at), at)
        WHERE id = NEW.thread_id AND last_out_at IS DISTINCT FROM GREATEST(coalesce(last_out_at, at), at);
    END IF;
    -- Moved out of a thread where it may have been the newest: that thread reads its dates again.
    IF TG_OP = 'UPDATE' AND OLD.thread_id IS NOT NULL THEN
        PERFORM threads_followup_recount(OLD.thread_id) FROM threads
        WHERE id = OLD.thread_id AND (last_in_at <= coalesce(OLD.date, OLD.received_at)
                                      OR last_out_at <= coalesce(OLD.date, OLD.received_at));
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION messages_followup_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.thread_id IS NOT NULL THEN
        PERFORM threads_followup_recount(OLD.thread_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_followup_insert AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_followup_arrival();
CREATE TRIGGER messages_followup_move AFTER UPDATE OF thread_id ON messages
    FOR EACH ROW WHEN (OLD.thread_id IS DISTINCT FROM NEW.thread_id)
    EXECUTE FUNCTION messages_followup_arrival();
CREATE TRIGGER messages_followup_delete AFTER DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_followup_gone();

CREATE TABLE deal_followups (
    deal_id       BIGINT  PRIMARY KEY REFERENCES deals (id) ON DELETE CASCADE,
    awaiting_days BIGINT  CHECK (awaiting_days BETWEEN 1 AND 60),
    answer_hours  BIGINT  CHECK (answer_hours BETWEEN 1 AND 720),
    updated_by    BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    updated_at    BIGINT  NOT NULL
);

CREATE TABLE thread_snoozes (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id  BIGINT  NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    until      BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, thread_id)
);
CREATE INDEX thread_snoozes_thread ON thread_snoozes (thread_id);
