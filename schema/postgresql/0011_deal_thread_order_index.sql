-- crm-mail: no-transaction
-- PostgreSQL 0011 = the index of SQLite 0018: a deal's threads by date, built without blocking
-- writers (see 0003 for why a file of its own, and for an interrupted build). The index's
-- prefix serves the lookups by deal that thread_deals_deal served; that one goes only once the
-- new one is valid: a build that failed half-way leaves an INVALID index of the new name, which
-- IF NOT EXISTS then skips, and the old one must stay until it is rebuilt. The DROP is a plain
-- one (DROP INDEX CONCURRENTLY cannot run in a DO block): a moment's exclusive lock on
-- thread_deals.
CREATE INDEX CONCURRENTLY IF NOT EXISTS thread_deals_deal_date ON thread_deals (deal_id, sort_date, thread_id);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = 'thread_deals_deal_date' AND i.indisvalid) THEN
        DROP INDEX IF EXISTS thread_deals_deal;
    END IF;
END
$$;
