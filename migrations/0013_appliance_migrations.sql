-- Replacing a stack's WAF nodes with another appliance (UTM 9 -> Sophos
-- Firewall), one node at a time. The report is JSON (the contract's
-- ApplianceRun), rewritten after each phase, so a restart loses at most the
-- phase in flight and the page shows how far it got.
CREATE TABLE appliance_migrations (
    id          INTEGER PRIMARY KEY,
    stack_id    INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    started_by  TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT    NOT NULL,
    report      TEXT    NOT NULL
);
CREATE INDEX appliance_migrations_stack ON appliance_migrations (stack_id, id);
