-- Adoption: a build of kind 'adopt' records what a stack built by hand is
-- made of, and the stack remembers when it was adopted (its teardown deletes
-- what hawaf did not create, so it asks for the name typed).
--
-- SQLite cannot change a CHECK constraint in place, so `builds` is rebuilt,
-- and with it the two tables that reference it. sqlx runs a migration in a
-- transaction, where foreign keys cannot be switched off: renaming `builds`
-- re-points their references at the old copy, so they are rebuilt too (new
-- tables naming the new `builds`), and the old three are dropped children
-- first, with nothing left to cascade into.
ALTER TABLE builds RENAME TO builds_0008;
ALTER TABLE build_steps RENAME TO build_steps_0008;
ALTER TABLE api_calls RENAME TO api_calls_0008;
DROP INDEX builds_stack;
DROP INDEX api_calls_build;

CREATE TABLE builds (
    id           INTEGER PRIMARY KEY,
    stack_id     INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('apply', 'destroy', 'adopt')),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    started_by   TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT,
    resumed_from INTEGER REFERENCES builds (id)
);
CREATE INDEX builds_stack ON builds (stack_id, id DESC);
INSERT INTO builds (id, stack_id, version, kind, status, started_by, started_at, finished_at, error, resumed_from)
    SELECT id, stack_id, version, kind, status, started_by, started_at, finished_at, error, resumed_from
    FROM builds_0008 ORDER BY id;

CREATE TABLE build_steps (
    build_id    INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    number      INTEGER NOT NULL,
    title       TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'interrupted')),
    progress    TEXT    NOT NULL DEFAULT '',
    error       TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    PRIMARY KEY (build_id, number)
);
INSERT INTO build_steps SELECT build_id, number, title, status, progress, error, started_at, finished_at
    FROM build_steps_0008;

CREATE TABLE api_calls (
    id          INTEGER PRIMARY KEY,
    build_id    INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    operation   TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX api_calls_build ON api_calls (build_id, id);
INSERT INTO api_calls SELECT id, build_id, step, at, operation, target, outcome, duration_ms FROM api_calls_0008;

DROP TABLE api_calls_0008;
DROP TABLE build_steps_0008;
DROP TABLE builds_0008;

ALTER TABLE stacks ADD COLUMN adopted_at INTEGER;
