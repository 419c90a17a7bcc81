-- Full-text search (issue 19): an FTS5 index of every message's subject, body text, sender
-- (From, Sender, Reply-To: names and addresses), recipients (To, Cc, Bcc) and attachment file
-- names. Its content is not copied: it is read through the view below from the rows the message
-- already has (an FTS5 "external content" table), so the index costs only its own b-trees.
-- The tokenizer "crm" is crm-mail's own (src/store/search_tokenizer.cpp): unicode61 without
-- diacritics, and Chinese, Japanese and Korean text as overlapping pairs of characters. Only
-- crm-mail's connections know it: the sqlite3 shell can read every other table, not this one.
-- Rows are added in the transaction that stores the message (Store::insert_message); messages,
-- their participants and attachments are never changed or deleted afterwards, which an external
-- content index needs. `crm-mailctl db reindex` builds it again from the view.
-- SQLite only: PostgreSQL's backend answers searches with "search.unavailable" for now
-- (tests/integration/postgres/schema_parity.py allow-list).
CREATE VIEW message_search_content AS
SELECT m.id AS id,
       m.subject AS subject,
       m.text_body AS body,
       trim(m.from_name || ' ' || m.from_address || ' ' ||
            coalesce((SELECT group_concat(p.display_name || ' ' || p.address, ' ')
                      FROM participants p
                      WHERE p.message_id = m.id AND p.role IN ('sender', 'reply-to')), '')) AS sender,
       coalesce((SELECT group_concat(p.display_name || ' ' || p.address, ' ')
                 FROM participants p
                 WHERE p.message_id = m.id AND p.role IN ('to', 'cc', 'bcc')), '') AS recipients,
       coalesce((SELECT group_concat(a.filename, ' ')
                 FROM attachments a WHERE a.message_id = m.id AND a.filename != ''), '') AS files
FROM messages m;

CREATE VIRTUAL TABLE message_search USING fts5(
    subject, body, sender, recipients, files,
    content = 'message_search_content', content_rowid = 'id', tokenize = 'crm');

INSERT INTO message_search (message_search) VALUES ('rebuild');
