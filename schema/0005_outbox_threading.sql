-- What a queued reply answers, so the daemon can compose it without re-reading the thread.
ALTER TABLE outbox ADD COLUMN in_reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN refs TEXT NOT NULL DEFAULT ''; -- References ids, space separated
