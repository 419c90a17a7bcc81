-- crm-mail: no-transaction
-- PostgreSQL 0015 = SQLite 0022: a thread's messages with what the activity figures read of each
-- (date, arrival, direction, automatic, bulk), so a deal's activity is an index-only scan; it
-- replaces messages_thread, its prefix. Built without blocking writers (see 0003 for why a file
-- of its own and for an interrupted build); the old index goes only once the new one is valid,
-- as in 0011.
CREATE INDEX CONCURRENTLY IF NOT EXISTS messages_thread_activity
    ON messages (thread_id, date, received_at, direction, auto_kind, is_bulk);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'messages_thread_activity' AND i.indisvalid) THEN
        DROP INDEX IF EXISTS messages_thread;
    END IF;
END
$$;
