-- PostgreSQL 0014 = SQLite 0021: what each user sets for themselves (signature, the page's language
-- and time zone) and drafts (issue 20).
CREATE TABLE user_settings (
    user_id    BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    signature  TEXT    NOT NULL DEFAULT '',
    locale     TEXT    COLLATE "C" NOT NULL DEFAULT '',
    time_zone  TEXT    COLLATE "C" NOT NULL DEFAULT '',
    updated_at BIGINT  NOT NULL
);

CREATE TABLE drafts (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT    COLLATE "C" NOT NULL,
    content    TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, key)
);
