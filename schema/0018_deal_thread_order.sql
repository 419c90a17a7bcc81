-- 0018: a deal's threads newest first without sorting them all (issue 19). Paging a deal's
-- threads ordered the whole deal by threads.last_date on every page (25 ms for 12,570 threads).
-- thread_deals now carries its thread's last_date as `sort_date` (NULL, a thread without any
-- date, as the smallest integer, so it sorts last as before), kept by triggers so every writer
-- keeps it right, and an index on (deal_id, sort_date, thread_id) walks one page of a deal from a
-- cursor. The index's prefix serves the lookups by deal that thread_deals_deal served.

ALTER TABLE thread_deals ADD COLUMN sort_date INTEGER NOT NULL DEFAULT -9223372036854775808;

UPDATE thread_deals SET sort_date = coalesce(
    (SELECT last_date FROM threads WHERE id = thread_deals.thread_id), -9223372036854775808);

CREATE INDEX thread_deals_deal_date ON thread_deals (deal_id, sort_date, thread_id);
DROP INDEX thread_deals_deal;

-- A link made, or moved to another thread: take the thread's date.
CREATE TRIGGER thread_deals_sort_date_link AFTER INSERT ON thread_deals BEGIN
    UPDATE thread_deals SET sort_date = coalesce(
        (SELECT last_date FROM threads WHERE id = NEW.thread_id), -9223372036854775808)
    WHERE thread_id = NEW.thread_id;
END;

-- Moved to another thread, or sort_date written by hand (recursive triggers are off: this
-- trigger's own UPDATE does not fire it again).
CREATE TRIGGER thread_deals_sort_date_relink AFTER UPDATE OF thread_id, sort_date ON thread_deals BEGIN
    UPDATE thread_deals SET sort_date = coalesce(
        (SELECT last_date FROM threads WHERE id = NEW.thread_id), -9223372036854775808)
    WHERE thread_id = NEW.thread_id;
END;

-- The thread's date changes (a message stored, moved or deleted): follow it.
CREATE TRIGGER thread_deals_sort_date_thread AFTER UPDATE OF last_date ON threads
WHEN NEW.last_date IS NOT OLD.last_date BEGIN
    UPDATE thread_deals SET sort_date = coalesce(NEW.last_date, -9223372036854775808)
    WHERE thread_id = NEW.id;
END;
