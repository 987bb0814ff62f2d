-- Every state change the health monitor saw: the operations view's timeline
-- and the drills' detection times come from here.
CREATE TABLE health_events (
    id         INTEGER PRIMARY KEY,
    stack_id   INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    tier       TEXT    NOT NULL,
    node       TEXT    NOT NULL,
    from_state TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL
);
CREATE INDEX health_events_stack ON health_events (stack_id, id DESC);
