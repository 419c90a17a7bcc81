-- The mail side: accounts, mailboxes, canonical messages and where they live, conversations,
-- their links to deals, the unsorted queue and the outbox.

CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    owner_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    address         TEXT    NOT NULL,
    enabled         INTEGER NOT NULL DEFAULT 1,
    -- sync health
    state           TEXT    NOT NULL DEFAULT 'new'
                    CHECK (state IN ('new', 'syncing', 'idle', 'backoff', 'needs_reauth', 'error', 'disabled')),
    last_success_at INTEGER,
    last_error_at   INTEGER,
    last_error_class TEXT,
    last_error      TEXT,
    messages_synced INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE mailboxes (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,             -- UTF-8 (decoded from modified UTF-7)
    special_use     TEXT    NOT NULL DEFAULT '',  -- \Sent, \All ...
    uid_validity    INTEGER,
    uid_next        INTEGER,
    highest_modseq  INTEGER,
    last_sync_at    INTEGER,
    UNIQUE (account_id, name)
);

-- Content stored once by SHA-256: raw messages and attachment bodies. A rowid table: large rows
-- belong in a table b-tree, not in a WITHOUT ROWID index b-tree.
CREATE TABLE blobs (
    id              INTEGER PRIMARY KEY,
    sha256          TEXT    NOT NULL UNIQUE,
    size            INTEGER NOT NULL,
    data            BLOB    NOT NULL
);

CREATE TABLE threads (
    id              INTEGER PRIMARY KEY,
    subject         TEXT    NOT NULL DEFAULT '',  -- subject of its earliest message
    first_date      INTEGER,
    last_date       INTEGER,
    message_count   INTEGER NOT NULL DEFAULT 0,
    unread_count    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX threads_last_date ON threads (last_date);

-- notmuch's model: every Message-ID seen or referenced (a "ghost" until its message arrives) and
-- every synthetic key (gm-thrid:..., thread-index:...) belongs to exactly one thread.
CREATE TABLE thread_keys (
    key             TEXT    PRIMARY KEY,
    thread_id       INTEGER NOT NULL REFERENCES threads (id)
) WITHOUT ROWID;
CREATE INDEX thread_keys_thread ON thread_keys (thread_id);

-- One canonical message per Message-ID and content (content_hash: SHA-256 of the body).
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT    NOT NULL,             -- without angle brackets; synthetic "sha256-..." if absent
    synthetic_id    INTEGER NOT NULL DEFAULT 0,
    content_hash    TEXT    NOT NULL,
    thread_id       INTEGER NOT NULL REFERENCES threads (id),
    subject         TEXT    NOT NULL DEFAULT '',
    base_subject    TEXT    NOT NULL DEFAULT '',
    subject_reply   INTEGER NOT NULL DEFAULT 0,   -- reply prefix and no References/In-Reply-To
    from_name       TEXT    NOT NULL DEFAULT '',
    from_address    TEXT    NOT NULL DEFAULT '',  -- canonical
    date            INTEGER,                      -- Date header, Unix seconds
    received_at     INTEGER NOT NULL,             -- when we first stored it
    refs            TEXT    NOT NULL DEFAULT '',  -- References ids, space separated
    in_reply_to     TEXT    NOT NULL DEFAULT '',
    raw_sha256      TEXT    NOT NULL REFERENCES blobs (sha256),
    raw_size        INTEGER NOT NULL,
    is_bulk         INTEGER NOT NULL DEFAULT 0,
    list_id         TEXT    NOT NULL DEFAULT '',
    direction       TEXT    NOT NULL DEFAULT 'in' CHECK (direction IN ('in', 'out')),
    unread          INTEGER NOT NULL DEFAULT 1,
    unparsable      INTEGER NOT NULL DEFAULT 0,
    parser_version  INTEGER NOT NULL,
    sort_reason     TEXT    NOT NULL DEFAULT '',  -- why the sorter filed it where it did
    -- large columns last: SQLite reads a row's overflow pages only to reach columns behind them
    headers_json    TEXT    NOT NULL DEFAULT '[]',
    text_body       TEXT    NOT NULL DEFAULT '',
    html_body       TEXT    NOT NULL DEFAULT '',
    warnings_json   TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (message_id, content_hash)
);
CREATE INDEX messages_thread ON messages (thread_id, date);
CREATE INDEX messages_base_subject ON messages (base_subject, date);

-- Where a message lives: an IMAP mailbox (uid_validity, uid) or an imported file.
CREATE TABLE locations (
    id              INTEGER PRIMARY KEY,
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    account_id      INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
    mailbox_id      INTEGER REFERENCES mailboxes (id) ON DELETE CASCADE,
    uid_validity    INTEGER,
    uid             INTEGER,
    gm_msgid        INTEGER,
    flags           TEXT    NOT NULL DEFAULT '',
    source          TEXT,                         -- imported file origin, "path" or "path#N"
    owner_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX locations_imap ON locations (mailbox_id, uid_validity, uid) WHERE mailbox_id IS NOT NULL;
CREATE UNIQUE INDEX locations_file ON locations (message_id, source) WHERE source IS NOT NULL;
CREATE INDEX locations_message ON locations (message_id);

CREATE TABLE participants (
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('from', 'sender', 'reply-to', 'to', 'cc', 'bcc')),
    position        INTEGER NOT NULL,
    address         TEXT    NOT NULL,             -- canonical ('' if unusable)
    written         TEXT    NOT NULL,             -- as in the header
    display_name    TEXT    NOT NULL DEFAULT '',
    contact_id      INTEGER REFERENCES contacts (id) ON DELETE SET NULL,
    company_id      INTEGER REFERENCES companies (id) ON DELETE SET NULL,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (message_id, role, position)
) WITHOUT ROWID;
CREATE INDEX participants_address ON participants (address);
CREATE INDEX participants_contact ON participants (contact_id);

CREATE TABLE attachments (
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    filename        TEXT    NOT NULL DEFAULT '',
    content_type    TEXT    NOT NULL DEFAULT 'application/octet-stream',
    content_id      TEXT    NOT NULL DEFAULT '',
    is_inline       INTEGER NOT NULL DEFAULT 0,
    size            INTEGER NOT NULL,
    sha256          TEXT    NOT NULL REFERENCES blobs (sha256),
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;

-- One deal per thread. A manual link is never overwritten by the sorter.
CREATE TABLE thread_deals (
    thread_id       INTEGER PRIMARY KEY REFERENCES threads (id) ON DELETE CASCADE,
    deal_id         INTEGER NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    manual          INTEGER NOT NULL DEFAULT 0,
    reason          TEXT    NOT NULL,
    score           REAL    NOT NULL DEFAULT 0,
    linked_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    linked_at       INTEGER NOT NULL
);
CREATE INDEX thread_deals_deal ON thread_deals (deal_id);

-- Threads the sorter could not place surely, with the reason and suggested deals.
CREATE TABLE unsorted (
    thread_id       INTEGER PRIMARY KEY REFERENCES threads (id) ON DELETE CASCADE,
    reason          TEXT    NOT NULL,
    suggestions     TEXT    NOT NULL DEFAULT '',  -- deal ids, space separated, best first
    queued_at       INTEGER NOT NULL
);

-- Replies queued by salespeople; worked by the daemon. Durable from insertion.
CREATE TABLE outbox (
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
                    CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_state ON outbox (state, next_attempt_at);
