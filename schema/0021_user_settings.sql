-- What each user sets for themselves (issue 20): the signature under what they write from the page
-- (after a "-- " line, before a quoted original), and the page's language and time zone ('' for
-- the browser's). crm/core/compose.hpp lists the languages the page has.
CREATE TABLE user_settings (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    signature  TEXT    NOT NULL DEFAULT '',
    locale     TEXT    NOT NULL DEFAULT '',
    time_zone  TEXT    NOT NULL DEFAULT '',
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
