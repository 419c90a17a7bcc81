-- When the end of a reply's DATA was about to be sent (the last bytes handed to the SMTP
-- connection, just before libcurl writes "<CRLF>.<CRLF>"), committed before it goes out. After a
-- crash, a reply still "sending" without it cannot have been delivered (a server delivers
-- nothing of a DATA that never ended) and is sent again; with it, it may have been, and only
-- then is it "unknown" (or "sent" when Gmail's Sent folder has its Message-ID). Cleared when
-- the reply is queued again.
ALTER TABLE outbox ADD COLUMN data_done_at INTEGER;
