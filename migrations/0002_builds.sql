-- A build applies (or destroys) one version of a stack's definition.
CREATE TABLE builds (
    id           INTEGER PRIMARY KEY,
    stack_id     INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    version      INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('apply', 'destroy')),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    started_by   TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    error        TEXT,
    resumed_from INTEGER REFERENCES builds (id)
);
CREATE INDEX builds_stack ON builds (stack_id, id DESC);

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

-- Every cloud call a build made, in order: the wizard's call log.
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

-- How to reach each WAF node's UTM REST API. The token is sealed with the
-- server's secret key; the certificate is pinned on first use.
CREATE TABLE waf_nodes (
    stack_id    INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    node        TEXT    NOT NULL,
    api_url     TEXT    NOT NULL,
    token_enc   TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (stack_id, node)
);
