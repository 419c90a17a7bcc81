-- Full-text search (issue 19), corrected:
--   - Bcc recipients are no longer indexed: they are shown nowhere else (the thread view has To
--     and Cc), so a search must not find a message by them, nor show them in a passage.
--   - The tokenizer gives each Chinese, Japanese or Korean character a position of its own, with
--     the pair it starts as a synonym (it used to be the other way round): a run followed by
--     other text in a query lines up with the document, and the highlighter never marks
--     overlapping spans.
-- The view changes and the index is built again from it.
DROP VIEW message_search_content;
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
                 WHERE p.message_id = m.id AND p.role IN ('to', 'cc')), '') AS recipients,
       coalesce((SELECT group_concat(a.filename, ' ')
                 FROM attachments a WHERE a.message_id = m.id AND a.filename != ''), '') AS files
FROM messages m;

INSERT INTO message_search (message_search) VALUES ('rebuild');
