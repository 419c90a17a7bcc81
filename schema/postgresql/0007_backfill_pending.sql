-- PostgreSQL 0007 = SQLite 0013: the older messages an account's backfill still has to fetch
-- (issue 18). A column with a constant default is added without rewriting the table; workers
-- still running the previous schema leave it at its default.
ALTER TABLE accounts ADD COLUMN backfill_pending BIGINT NOT NULL DEFAULT 0;
