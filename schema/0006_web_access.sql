-- 0006: who may use the thread view and the API, and what they see.
-- Read and written by crm-maild's HTTP API and crm-mailctl (users, tokens); the CRM application
-- may set deals.shared and create users' passwords through crm-mailctl.

-- Password logins. password_hash is libsodium's crypto_pwhash_str (Argon2id, salted, with its
-- cost parameters in the string); the password itself is never stored.
CREATE TABLE user_credentials (
    user_id         INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash   TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Browser sessions. The cookie carries a random 256-bit value; only its SHA-256 is stored, so a
-- copy of the database does not let anyone log in.
CREATE TABLE sessions (
    token_hash      TEXT    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    client_address  TEXT    NOT NULL DEFAULT '',
    user_agent      TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens for the CRM application (Authorization: Bearer). Hashed like sessions.
CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    token_hash      TEXT    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER,
    revoked_at      INTEGER
);

-- A shared deal is visible to every salesperson; otherwise only to its owner (and admins).
ALTER TABLE deals ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;

-- \Seen changes made in the CRM, waiting to be mirrored to the IMAP server (only for accounts
-- whose config sets mirror_seen = true). One row per location; the newest wish wins.
CREATE TABLE seen_changes (
    location_id     INTEGER PRIMARY KEY REFERENCES locations (id) ON DELETE CASCADE,
    seen            INTEGER NOT NULL,
    queued_at       INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT ''
);

-- Unread messages of a thread, for marking them read in one statement.
CREATE INDEX messages_thread_unread ON messages (thread_id) WHERE unread = 1;
