-- Accounts and tokens with a lifecycle (issue 13).
--
-- A disabled user keeps their row (the audit log and stacks name them) but
-- no session or token of theirs is accepted. `must_change_password` is set
-- by an admin's reset and by the generated first-start password: the next
-- sign-in leads to the password form and nowhere else.
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- Tokens made before this migration never expire (NULL); new ones do.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- A burst of identical refusals (a sign-in flood) is one row with a count,
-- not one row each; `at` is the burst's last attempt, `first_at` its first.
ALTER TABLE audit_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN first_at INTEGER;
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
