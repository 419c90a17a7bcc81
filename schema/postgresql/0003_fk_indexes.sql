-- crm-mail: no-transaction
-- PostgreSQL 0003: indexes for the CRM application's deletes and logins (issue 17, item 6: the
-- outside CRM writes while the daemons run; nothing may be locked for long). No SQLite
-- counterpart (tests/integration/postgres/schema_parity.py lists them as PostgreSQL-only).
--
-- Deleting a user, company or account makes PostgreSQL find the rows that refer to it
-- (ON DELETE SET NULL / CASCADE). Without an index on the referring column that is a full scan
-- of participants or locations, the two largest tables, under a lock, on every delete. The
-- partial indexes hold only the non-NULL references, which is all a foreign key action looks up.
-- users_email_lower serves the login lookup `lower(u.email) = lower($1)`.
--
-- The first line tells the migration runner to run this file outside a transaction, one
-- statement at a time (CREATE INDEX CONCURRENTLY refuses a transaction block, and a query string
-- of several statements is one), so that building them never blocks writers. IF NOT EXISTS makes
-- the file safe to run again. A CONCURRENTLY build that failed half-way leaves an INVALID index
-- of that name, which IF NOT EXISTS then skips: the runner must DROP INDEX CONCURRENTLY the
-- invalid ones (pg_index.indisvalid = false) before running the file again.
CREATE INDEX CONCURRENTLY IF NOT EXISTS participants_company ON participants (company_id) WHERE company_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS participants_user ON participants (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS locations_account ON locations (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS locations_owner ON locations (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_lower ON users (lower(email));
