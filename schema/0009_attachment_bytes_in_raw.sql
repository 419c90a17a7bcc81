-- Attachment bytes are no longer copied out of the messages into `blobs`: they are already in
-- the raw message, which is kept (compressed) anyway, so the copy doubled them (a quarter of the
-- database on a mailbox with attachments). `attachments.sha256` stays the SHA-256 of the decoded
-- content; crm-mail serves it by decoding part `position` of the raw message again and checking
-- that hash. Rows written before this version still find their bytes in `blobs` by `sha256`, and
-- so do reply attachments (outbox). SQLite cannot drop a foreign key in place: the table (metadata
-- only, small) is rebuilt without the reference to `blobs`.
CREATE TABLE attachments_v9 (
    message_id      INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    filename        TEXT    NOT NULL DEFAULT '',
    content_type    TEXT    NOT NULL DEFAULT 'application/octet-stream',
    content_id      TEXT    NOT NULL DEFAULT '',
    is_inline       INTEGER NOT NULL DEFAULT 0,
    size            INTEGER NOT NULL,
    sha256          TEXT    NOT NULL,
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;
INSERT INTO attachments_v9 (message_id, position, filename, content_type, content_id, is_inline,
                            size, sha256)
    SELECT message_id, position, filename, content_type, content_id, is_inline, size, sha256
    FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_v9 RENAME TO attachments;
