-- An admin drops a quarantined message (issue 19: crm-mailctl quarantine drop, the admin page):
-- it is never fetched again and leaves the list and the metrics. NULL: not dropped.
ALTER TABLE quarantine ADD COLUMN dropped_at INTEGER;
