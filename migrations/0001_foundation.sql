-- Times are unix milliseconds (UTC): sortable, compact, and free of SQLite's
-- text-date ambiguities.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    created_at    INTEGER NOT NULL
);

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of
-- the database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE stacks (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    current_version INTEGER NOT NULL,
    created_by      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Definitions are immutable once written: an edit appends a version, and a
-- build records which version it applied.
CREATE TABLE stack_versions (
    stack_id   INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    definition TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (stack_id, version)
);

-- Every physical cloud resource a stack owns. A stack with a live row here is
-- "built" and cannot be deleted.
CREATE TABLE resources (
    id          INTEGER PRIMARY KEY,
    stack_id    INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    logical_id  TEXT    NOT NULL,
    physical_id TEXT    NOT NULL,
    attributes  TEXT    NOT NULL DEFAULT '{}',
    step        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    deleted_at  INTEGER
);
CREATE UNIQUE INDEX resources_live ON resources (stack_id, logical_id) WHERE deleted_at IS NULL;

-- Actor and target are text, not foreign keys: the log must outlive the users
-- and stacks it talks about.
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    target  TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
