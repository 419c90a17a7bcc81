-- PostgreSQL 0006 = SQLite 0012: Gmail's labels per location (X-GM-LABELS, issue 18), a JSON
-- array of strings, '[]' without labels. A column with a constant default is added without
-- rewriting the table, and workers still running the previous schema leave it at its default.
ALTER TABLE locations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
