-- Follow-ups (issue 20): which conversations wait for the customer's answer, and which for ours.
-- threads.last_in_at: the date of the newest message a person outside the team wrote (not an
-- automatic message: bounces and out-of-office answers never count as the customer's answer, and
-- not bulk mail). threads.last_out_at: the date of the newest message a team member sent (not
-- an automatic one either). A
-- message's date is its Date header, else when it arrived. Kept by the triggers below, whoever
-- writes: a message stored, moved to another thread (merge, split) or deleted.
ALTER TABLE threads ADD COLUMN last_in_at INTEGER;
ALTER TABLE threads ADD COLUMN last_out_at INTEGER;

UPDATE threads SET
    last_in_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                  WHERE m.thread_id = threads.id AND m.direction = 'in' AND m.auto_kind = ''
                    AND m.is_bulk = 0),
    last_out_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                   WHERE m.thread_id = threads.id AND m.direction = 'out' AND m.auto_kind = '');

CREATE TRIGGER messages_followup_insert AFTER INSERT ON messages
WHEN NEW.thread_id IS NOT NULL BEGIN
    UPDATE threads SET
        last_in_at = CASE WHEN NEW.direction = 'in' AND NEW.auto_kind = '' AND NEW.is_bulk = 0
                          THEN max(coalesce(last_in_at, coalesce(NEW.date, NEW.received_at)),
                                   coalesce(NEW.date, NEW.received_at))
                          ELSE last_in_at END,
        last_out_at = CASE WHEN NEW.direction = 'out' AND NEW.auto_kind = ''
                           THEN max(coalesce(last_out_at, coalesce(NEW.date, NEW.received_at)),
                                    coalesce(NEW.date, NEW.received_at))
                           ELSE last_out_at END
    WHERE id = NEW.thread_id
      AND ((NEW.direction = 'in' AND NEW.auto_kind = '' AND NEW.is_bulk = 0)
           OR (NEW.direction = 'out' AND NEW.auto_kind = ''));
END;

-- A message moved to another thread (a merge, a split): the new thread takes its date like an
-- arrival; the old one reads its dates again from what it still holds, only when the moved
-- message may have been the newest (a merge moves many messages, each a row of its own).
CREATE TRIGGER messages_followup_move AFTER UPDATE OF thread_id ON messages
WHEN OLD.thread_id IS NOT NEW.thread_id BEGIN
    UPDATE threads SET
        last_in_at = CASE WHEN NEW.direction = 'in' AND NEW.auto_kind = '' AND NEW.is_bulk = 0
                          THEN max(coalesce(last_in_at, coalesce(NEW.date, NEW.received_at)),
                                   coalesce(NEW.date, NEW.received_at))
                          ELSE last_in_at END,
        last_out_at = CASE WHEN NEW.direction = 'out' AND NEW.auto_kind = ''
                           THEN max(coalesce(last_out_at, coalesce(NEW.date, NEW.received_at)),
                                    coalesce(NEW.date, NEW.received_at))
                           ELSE last_out_at END
    WHERE id = NEW.thread_id;
    UPDATE threads SET
        last_in_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                      WHERE m.thread_id = threads.id AND m.direction = 'in' AND m.auto_kind = ''
                        AND m.is_bulk = 0),
        last_out_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                       WHERE m.thread_id = threads.id AND m.direction = 'out' AND m.auto_kind = '')
    WHERE id = OLD.thread_id
      AND (last_in_at <= coalesce(OLD.date, OLD.received_at)
           OR last_out_at <= coalesce(OLD.date, OLD.received_at));
END;

CREATE TRIGGER messages_followup_delete AFTER DELETE ON messages
WHEN OLD.thread_id IS NOT NULL BEGIN
    UPDATE threads SET
        last_in_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                      WHERE m.thread_id = threads.id AND m.direction = 'in' AND m.auto_kind = ''
                        AND m.is_bulk = 0),
        last_out_at = (SELECT max(coalesce(m.date, m.received_at)) FROM messages m
                       WHERE m.thread_id = threads.id AND m.direction = 'out' AND m.auto_kind = '')
    WHERE id = OLD.thread_id;
END;

-- A deal's own follow-up periods (NULL: the config's default).
CREATE TABLE deal_followups (
    deal_id       INTEGER PRIMARY KEY REFERENCES deals (id) ON DELETE CASCADE,
    awaiting_days INTEGER CHECK (awaiting_days BETWEEN 1 AND 60),
    answer_hours  INTEGER CHECK (answer_hours BETWEEN 1 AND 720),
    updated_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    updated_at    INTEGER NOT NULL
);

-- A thread one user put aside until a time: it leaves their follow-up list until then.
CREATE TABLE thread_snoozes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id  INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    until      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, thread_id)
);
CREATE INDEX thread_snoozes_thread ON thread_snoozes (thread_id);
