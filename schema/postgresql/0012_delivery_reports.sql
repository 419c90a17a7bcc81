-- PostgreSQL 0012 = SQLite 0019: bounces, delay notices and automatic answers (issue 20).
-- messages.auto_kind: what an automatic message is ('' for mail a person wrote). Adding a column
-- with a constant default does not rewrite the table.
ALTER TABLE messages ADD COLUMN auto_kind TEXT COLLATE "C" NOT NULL DEFAULT ''
    CHECK (auto_kind IN ('', 'bounce', 'delayed', 'delivered', 'autoreply', 'receipt'));

-- The outbox gains the state 'bounced'. The new check is added NOT VALID and validated after,
-- so writers are blocked only for the moment of the ALTER.
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check
    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'cancelled', 'bounced'))
    NOT VALID;
ALTER TABLE outbox VALIDATE CONSTRAINT outbox_state_check;

-- What delivery reports said about each recipient of an outbox entry (see SQLite 0019).
CREATE TABLE outbox_reports (
    outbox_id    BIGINT  NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    recipient    TEXT    COLLATE "C" NOT NULL,
    action       TEXT    COLLATE "C" NOT NULL
                 CHECK (action IN ('failed', 'delayed', 'delivered', 'relayed', 'expanded')),
    status       TEXT    NOT NULL DEFAULT '',
    diagnostic   TEXT    NOT NULL DEFAULT '',
    report_id    BIGINT  REFERENCES messages (id) ON DELETE SET NULL,
    reported_at  BIGINT  NOT NULL,
    PRIMARY KEY (outbox_id, recipient, action)
);
CREATE INDEX outbox_reports_report ON outbox_reports (report_id);
