-- The CRM core this service shares with the CRM application: users, companies, contacts, deals.
-- Addresses and domains are stored canonical (see crm::match::canonical_address).

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,                 -- as entered
    role        TEXT    NOT NULL CHECK (role IN ('salesperson', 'admin')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Every address a team member sends from (canonical). Mail from these is internal/outgoing.
CREATE TABLE user_addresses (
    address     TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX user_addresses_user ON user_addresses (user_id);

CREATE TABLE companies (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A domain belongs to at most one company; free-mail domains are never stored here.
CREATE TABLE company_domains (
    domain      TEXT    PRIMARY KEY,
    company_id  INTEGER NOT NULL REFERENCES companies (id) ON DELETE CASCADE
);
CREATE INDEX company_domains_company ON company_domains (company_id);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    company_id  INTEGER REFERENCES companies (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contacts_company ON contacts (company_id);

CREATE TABLE contact_addresses (
    address     TEXT    PRIMARY KEY,              -- canonical
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    written     TEXT    NOT NULL                  -- as entered
);
CREATE INDEX contact_addresses_contact ON contact_addresses (contact_id);

CREATE TABLE deals (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    company_id  INTEGER REFERENCES companies (id) ON DELETE SET NULL,
    owner_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    stage       TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    value       TEXT    NOT NULL DEFAULT '0',     -- decimal string, exact
    currency    TEXT    NOT NULL DEFAULT '',      -- ISO 4217
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX deals_company ON deals (company_id, status);
CREATE INDEX deals_owner ON deals (owner_id, status);

CREATE TABLE deal_contacts (
    deal_id     INTEGER NOT NULL REFERENCES deals (id) ON DELETE CASCADE,
    contact_id  INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (deal_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX deal_contacts_contact ON deal_contacts (contact_id);
