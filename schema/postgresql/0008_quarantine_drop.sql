-- PostgreSQL 0008 = SQLite 0015: a quarantined message an admin dropped (issue 19) is never
-- fetched again and leaves the list and the metrics. A nullable column is added without
-- rewriting the table; workers still running the previous schema never set it.
ALTER TABLE quarantine ADD COLUMN dropped_at BIGINT;
