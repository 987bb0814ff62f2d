-- Work that must run once among replicas sharing a PostgreSQL database is
-- owned through a lease (issue 17). SQLite has one process, which leads
-- without one, but keeps the table so both schemas stay equal.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    -- The replica holding it, and the URL its peers forward requests to.
    owner      TEXT    NOT NULL,
    owner_url  TEXT    NOT NULL,
    -- Bumped whenever another replica takes the lease over.
    generation BIGINT  NOT NULL,
    -- Unix ms on the database's clock.
    expires_at BIGINT  NOT NULL
);
