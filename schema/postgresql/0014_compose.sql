-- PostgreSQL 0014 = SQLite 0021: a signature per user and drafts (issue 20, part 1).
CREATE TABLE user_signatures (
    user_id    BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    signature  TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE drafts (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT    COLLATE "C" NOT NULL,
    content    TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, key)
);
