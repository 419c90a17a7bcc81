-- PostgreSQL 0016 = SQLite 0023: the daily follow-up reminder, one a day per salesperson whichever
-- worker sends it (the primary key is the claim).
CREATE TABLE followup_reminders (
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT    COLLATE "C" NOT NULL,
    message_id TEXT    COLLATE "C" NOT NULL UNIQUE,
    outbox_id  BIGINT  REFERENCES outbox (id) ON DELETE SET NULL,
    items      BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, day)
);
