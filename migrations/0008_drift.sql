-- The last drift check of each stack (issue 14): the report as JSON (the
-- contract's DriftReport) and its status, so a change of status can be
-- told, audited and shown without running a check.
CREATE TABLE drift_reports (
    stack_id   INTEGER PRIMARY KEY REFERENCES stacks (id) ON DELETE CASCADE,
    checked_at INTEGER NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('in_sync', 'drifted', 'unknown')),
    report     TEXT    NOT NULL
);
