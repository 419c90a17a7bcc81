-- PostgreSQL 0010 = SQLite 0018: thread_deals carries its thread's last_date as `sort_date` (a
-- thread without any date as the smallest bigint, so it sorts last), kept by triggers, so a
-- page of a deal's threads is read from an index instead of sorting the whole deal. The index
-- is built concurrently by 0011. Older workers keep working: the column has a default and the
-- triggers fill it whoever writes the link.

-- Workers keep running: threads is locked against their writes (SHARE ROW EXCLUSIVE, which
-- CREATE TRIGGER below takes anyway) from before the backfill reads it until this commits, so no
-- thread's date can change between the backfill and the trigger that follows it from then on.
LOCK TABLE threads IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE thread_deals ADD COLUMN sort_date BIGINT NOT NULL DEFAULT -9223372036854775808;

UPDATE thread_deals td SET sort_date = coalesce(t.last_date, -9223372036854775808)
FROM threads t WHERE t.id = td.thread_id;

-- A link made, moved to another thread, or its sort_date written by hand: take the thread's date. FOR SHARE waits for a
-- worker storing a message into the thread and reads the date it commits; a worker that comes
-- after waits for this link to commit, and its trigger below then finds it.
CREATE FUNCTION thread_deals_sort_date_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d BIGINT;
BEGIN
    SELECT last_date INTO d FROM threads WHERE id = NEW.thread_id FOR SHARE;
    NEW.sort_date := coalesce(d, -9223372036854775808);
    RETURN NEW;
END
$$;
CREATE TRIGGER thread_deals_sort_date_link BEFORE INSERT ON thread_deals
    FOR EACH ROW EXECUTE FUNCTION thread_deals_sort_date_link();
CREATE TRIGGER thread_deals_sort_date_relink BEFORE UPDATE OF thread_id, sort_date ON thread_deals
    FOR EACH ROW EXECUTE FUNCTION thread_deals_sort_date_link();

-- The thread's date changes (a message stored, moved or deleted): follow it.
CREATE FUNCTION thread_deals_sort_date_thread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE thread_deals SET sort_date = coalesce(NEW.last_date, -9223372036854775808)
    WHERE thread_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER thread_deals_sort_date_thread AFTER UPDATE OF last_date ON threads
    FOR EACH ROW WHEN (OLD.last_date IS DISTINCT FROM NEW.last_date)
    EXECUTE FUNCTION thread_deals_sort_date_thread();
