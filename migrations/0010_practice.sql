-- Drills as a practice: the safety lever, drills' triggers, schedules.

-- One row: whether drills may run at all. Engaging it halts every running
-- drill and refuses new ones (manual or scheduled) until it is released.
CREATE TABLE safety_lever (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    engaged INTEGER NOT NULL CHECK (engaged IN (0, 1)),
    reason  TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    at      INTEGER NOT NULL
);

-- What started a drill: the dashboard, the API (and CLI), or a schedule.
-- Drills from before this column were started by hand through one of the
-- first two; which one was not recorded.
ALTER TABLE drills ADD COLUMN trigger TEXT NOT NULL DEFAULT 'api' CHECK (trigger IN ('manual', 'api', 'schedule'));

CREATE TABLE schedules (
    id         INTEGER PRIMARY KEY,
    stack_id   INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    scenario   TEXT    NOT NULL,
    -- Five fields, UTC.
    cron       TEXT    NOT NULL,
    -- JSON array of {"days": [...], "from": "HH:MM", "to": "HH:MM"}.
    blackouts  TEXT    NOT NULL DEFAULT '[]',
    suspended  INTEGER NOT NULL DEFAULT 0 CHECK (suspended IN (0, 1)),
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    -- The last slot handled (ms): a restart neither repeats it nor runs
    -- slots missed while the server was down.
    handled_until INTEGER NOT NULL
);
CREATE INDEX schedules_stack ON schedules (stack_id);

-- Each slot a schedule reached: the drill it started, or why it skipped.
CREATE TABLE schedule_runs (
    id          INTEGER PRIMARY KEY,
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('started', 'skipped')),
    drill_id    INTEGER REFERENCES drills (id) ON DELETE SET NULL,
    reason      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX schedule_runs_schedule ON schedule_runs (schedule_id, id DESC);
