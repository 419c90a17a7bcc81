-- Backfill at a lower priority than new mail (issue 18): the older messages an account still has
-- to fetch, as its last complete pass left them (0 when none). Shown by `crm-mailctl accounts
-- status`, the admin page and /metrics.
ALTER TABLE accounts ADD COLUMN backfill_pending INTEGER NOT NULL DEFAULT 0;
