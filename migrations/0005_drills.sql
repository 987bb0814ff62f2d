-- Failover drills. A drill's phases and marks (fault, detected, restore,
-- recovered) are small JSON documents on the drill row; its probes are rows,
-- written in batches while it runs.
CREATE TABLE drills (
    id          INTEGER PRIMARY KEY,
    stack_id    INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    scenario    TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'finished', 'halted', 'aborted')),
    verdict     TEXT    CHECK (verdict IN ('pass', 'fail')),
    started_by  TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    settings    TEXT    NOT NULL,
    timeline    TEXT    NOT NULL DEFAULT '{"phases":[],"marks":[]}',
    reasons     TEXT    NOT NULL DEFAULT '[]',
    note        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX drills_stack ON drills (stack_id, id DESC);
-- One running drill per stack: the database enforces what the API promises (409).
CREATE UNIQUE INDEX drills_one_running ON drills (stack_id) WHERE status = 'running';

CREATE TABLE drill_probes (
    drill_id   INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    phase      INTEGER NOT NULL,
    status     INTEGER,
    server     TEXT,
    error      TEXT,
    latency_ms REAL    NOT NULL,
    PRIMARY KEY (drill_id, seq)
) WITHOUT ROWID;

-- Written before a fault is injected and deleted once it is undone, so a
-- server killed mid-drill undoes the fault at its next start. Stack and node
-- are names, not keys: the row must survive whatever happens to the drill.
CREATE TABLE pending_restores (
    id         INTEGER PRIMARY KEY,
    drill_id   INTEGER REFERENCES drills (id) ON DELETE SET NULL,
    stack      TEXT    NOT NULL,
    node       TEXT    NOT NULL,
    injection  TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
