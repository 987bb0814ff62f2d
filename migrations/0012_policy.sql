-- A stack's resilience policy: the targets every drill on it is judged
-- against (availability floor per phase, MTTD, MTTR, p99). JSON, so a target
-- added later needs no migration; each drill keeps the policy it ran under.
CREATE TABLE resilience_policies (
    stack_id   INTEGER PRIMARY KEY REFERENCES stacks (id) ON DELETE CASCADE,
    policy     TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A finished drill's headline figures (JSON: mttd_ms, mttr_ms, failed,
-- availability), written when it ends, so the history charts read one row
-- per drill instead of every probe.
ALTER TABLE drills ADD COLUMN summary TEXT;

-- Custom drills: a hypothesis, a method (faults on named nodes, with hold
-- times) and a rollback (always), stored per stack and run like D1–D5.
CREATE TABLE drill_definitions (
    id         INTEGER PRIMARY KEY,
    stack_id   INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (stack_id, name)
);
