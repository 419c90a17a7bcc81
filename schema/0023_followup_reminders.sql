-- The daily follow-up reminder (issue 20; [followups] daily_reminder_hour): at most one a day per
-- salesperson, whichever daemon sends it (the primary key is the claim), and the Message-ID it
-- went out with, so that its copies (Sent, the salesperson's INBOX) are stored without joining a
-- deal or the unsorted queue: a reminder is not a conversation.
CREATE TABLE followup_reminders (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day        TEXT    NOT NULL,                  -- YYYY-MM-DD, UTC
    message_id TEXT    NOT NULL UNIQUE,           -- without <>
    outbox_id  INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    items      INTEGER NOT NULL,                  -- conversations it listed
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);
