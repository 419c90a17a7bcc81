-- PostgreSQL 0005: message bodies and headers compressed with LZ4 instead of pglz (issue 17).
-- Every message stored writes its text and HTML bodies (6 KB and 3 KB on average in the sync
-- benchmark's mail) through TOAST, which compresses them; pglz made that the dearest part of
-- storing a message. LZ4 compresses about as well and several times faster (PostgreSQL 14+,
-- built --with-lz4 as Debian's is). Only the setting changes: values already stored keep their
-- compression, and workers still running the previous schema write LZ4 too from now on (the
-- change is the table's, not the statements'). A server built without LZ4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE messages ALTER COLUMN text_body SET COMPRESSION lz4,
                         ALTER COLUMN html_body SET COMPRESSION lz4,
                         ALTER COLUMN headers_json SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: message bodies stay compressed with pglz';
END
$$;
