-- Composing from the page (issue 20, part 1): a signature per user, and drafts kept while typing.
-- A user's signature goes under what they write (after a "-- " line), and before a quoted
-- original.
CREATE TABLE user_signatures (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    signature  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One draft per user and place: "thread-<id>" (a reply) or "deal-<id>" (a new mail). `content`
-- is the page's JSON object of the fields typed so far; only its user ever reads it.
CREATE TABLE drafts (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
