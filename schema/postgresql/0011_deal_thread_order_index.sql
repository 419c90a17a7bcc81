-- crm-mail: no-transaction
-- PostgreSQL 0011 = the index of SQLite 0018: a deal's threads by date, built without blocking
-- writers (see 0003 for why a file of its own, and for an interrupted build). The index's
-- prefix serves the lookups by deal that thread_deals_deal served; that one goes once the new
-- one is built.
CREATE INDEX CONCURRENTLY IF NOT EXISTS thread_deals_deal_date ON thread_deals (deal_id, sort_date, thread_id);
DROP INDEX CONCURRENTLY IF EXISTS thread_deals_deal;
