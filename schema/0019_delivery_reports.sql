-- Bounces, delay notices and automatic answers (issue 20; mime::classify_report).
-- messages.auto_kind: what an automatic message is ('' for mail a person wrote). Follow-ups never
-- count an automatic answer as the customer's reply.
ALTER TABLE messages ADD COLUMN auto_kind TEXT NOT NULL DEFAULT ''
    CHECK (auto_kind IN ('', 'bounce', 'delayed', 'delivered', 'autoreply', 'receipt'));

-- The outbox gains the state 'bounced': a sent reply that a delivery report says failed for at
-- least one recipient. SQLite cannot change a CHECK in place: the table is rebuilt (nothing
-- refers to it).
CREATE TABLE outbox_v19 (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    thread_id       INTEGER REFERENCES threads (id) ON DELETE SET NULL,
    parent_id       INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    deal_id         INTEGER REFERENCES deals (id) ON DELETE SET NULL,
    message_id      TEXT    NOT NULL UNIQUE,      -- ours, carries the deal token
    mode            TEXT    NOT NULL DEFAULT 'reply' CHECK (mode IN ('reply', 'reply-all', 'custom')),
    to_json         TEXT    NOT NULL DEFAULT '[]',
    cc_json         TEXT    NOT NULL DEFAULT '[]',
    bcc_json        TEXT    NOT NULL DEFAULT '[]',
    subject         TEXT    NOT NULL DEFAULT '',
    text_body       TEXT    NOT NULL DEFAULT '',
    html_body       TEXT    NOT NULL DEFAULT '',
    attachments_json TEXT   NOT NULL DEFAULT '[]',
    state           TEXT    NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'cancelled',
                                     'bounced')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    in_reply_to     TEXT    NOT NULL DEFAULT '',
    refs            TEXT    NOT NULL DEFAULT '',
    data_done_at    INTEGER
);
INSERT INTO outbox_v19 (id, account_id, user_id, thread_id, parent_id, deal_id, message_id, mode,
                        to_json, cc_json, bcc_json, subject, text_body, html_body,
                        attachments_json, state, attempts, next_attempt_at, last_error,
                        created_at, updated_at, sent_at, in_reply_to, refs, data_done_at)
    SELECT id, account_id, user_id, thread_id, parent_id, deal_id, message_id, mode, to_json,
           cc_json, bcc_json, subject, text_body, html_body, attachments_json, state, attempts,
           next_attempt_at, last_error, created_at, updated_at, sent_at, in_reply_to, refs,
           data_done_at
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v19 RENAME TO outbox;
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);

-- What delivery reports said about each recipient of an outbox entry: one row per recipient and
-- outcome (a delay notice, then the bounce). `report_id` is the stored report message.
CREATE TABLE outbox_reports (
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    recipient    TEXT    NOT NULL,
    action       TEXT    NOT NULL
                 CHECK (action IN ('failed', 'delayed', 'delivered', 'relayed', 'expanded')),
    status       TEXT    NOT NULL DEFAULT '',
    diagnostic   TEXT    NOT NULL DEFAULT '',
    report_id    INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    reported_at  INTEGER NOT NULL,
    PRIMARY KEY (outbox_id, recipient, action)
);
CREATE INDEX outbox_reports_report ON outbox_reports (report_id);
