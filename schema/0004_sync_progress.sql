-- Initial-sync rate and ETA (crm-mailctl accounts status): when the running initial sync of an
-- account started and how many messages were done at that moment. NULL: no initial sync running.

ALTER TABLE accounts ADD COLUMN initial_started_at INTEGER;
ALTER TABLE accounts ADD COLUMN initial_started_done INTEGER NOT NULL DEFAULT 0;
