-- What hawaf itself has taken out of service (a WAF switched off, httpd
-- stopped, an instance stopped or isolated), written before the action and
-- deleted once it is undone. The guardrail counts these at once, instead of
-- waiting for a load balancer's detection window to report them. A hold
-- names the instance it was made on, so a rebuilt node is not held by a
-- hold on its predecessor.
CREATE TABLE node_holds (
    stack_id    INTEGER NOT NULL REFERENCES stacks (id) ON DELETE CASCADE,
    node        TEXT    NOT NULL,
    hold        TEXT    NOT NULL CHECK (hold IN ('waf-off', 'httpd-stopped', 'instance-stopped', 'isolated')),
    instance_id TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    drill_id    INTEGER REFERENCES drills (id) ON DELETE SET NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (stack_id, node, hold)
);
