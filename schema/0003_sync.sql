-- IMAP sync bookkeeping: initial-sync progress and lag per account, poison-message quarantine.

ALTER TABLE accounts ADD COLUMN initial_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN initial_total INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN lag_seconds INTEGER;
ALTER TABLE accounts ADD COLUMN imap_host TEXT NOT NULL DEFAULT '';

-- A message that failed to store again and again is not fetched forever.
CREATE TABLE quarantine (
    mailbox_id      INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid_validity    INTEGER NOT NULL,
    uid             INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 1,
    reason          TEXT    NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_failed_at  INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid_validity, uid)
) WITHOUT ROWID;

CREATE INDEX locations_gm_msgid ON locations (account_id, gm_msgid) WHERE gm_msgid IS NOT NULL;
