-- Decisions people make about conversations, which the sorter and the threader must respect.
--
-- thread_splits: a person moved a message (and the replies referencing it) out of a thread
-- ("not part of this conversation"). The two threads are never joined again automatically: not
-- by the subject fallback, and when one reply references both, the thread of the message it
-- answers wins. Merges carry the rows over to the surviving thread.
CREATE TABLE thread_splits (
    id              INTEGER PRIMARY KEY,
    thread_id       INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE, -- the new thread
    from_thread_id  INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE, -- split off this
    message_id      INTEGER REFERENCES messages (id) ON DELETE SET NULL,        -- the one chosen
    moved           INTEGER NOT NULL,                                           -- messages moved
    split_by        INTEGER REFERENCES users (id) ON DELETE SET NULL,           -- NULL: the CLI
    split_at        INTEGER NOT NULL
);
CREATE INDEX thread_splits_thread ON thread_splits (thread_id);
CREATE INDEX thread_splits_from ON thread_splits (from_thread_id);

-- Why the sender looks spoofed (failed DKIM/DMARC, lookalike domain, display name showing another
-- address), '' when not: stored per message, whatever thread it lands in, so that such a
-- message never supplies a reply's default recipient and the page can warn.
ALTER TABLE messages ADD COLUMN suspicious TEXT NOT NULL DEFAULT '';

-- held = 1: the thread waits for a person (conflicting deal evidence, split or unlinked by hand);
-- the sorter never links it automatically, whatever later messages say.
ALTER TABLE unsorted ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
