-- The lab's whole state (its "AWS account"), so a restarted server brings
-- every lab VPC, instance, load balancer, WAF configuration and fault back.
CREATE TABLE lab_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    snapshot TEXT    NOT NULL,
    saved_at INTEGER NOT NULL
);
