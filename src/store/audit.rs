use super::{Result, Store, now_ms};

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub detail: String,
    /// How many identical attempts this row stands for (a folded burst).
    pub count: i64,
    /// A folded burst's first attempt; `at` is its last.
    pub first_at: Option<i64>,
}

/// One line of the audit log: who did what to which target, and how it ended.
#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: &'a str,
    pub detail: String,
}

/// Which entries to show; every field narrows, none is required.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// A stack's name: its own entries and its nodes' (`stack/node`).
    pub stack: Option<String>,
    /// An exact action, or a family when it ends in `.` (`drill.`).
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
}

impl Store {
    pub async fn audit(&self, entry: NewAudit<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_ms())
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.outcome)
        .bind(entry.detail)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Like `audit`, but an entry identical to one written in the last
    /// `window_ms` adds to that row's count instead of a row of its own: a
    /// flood of refused sign-ins costs one row per burst, not per attempt.
    pub async fn audit_folded(&self, entry: NewAudit<'_>, window_ms: i64) -> Result<()> {
        let now = now_ms();
        let folded = sqlx::query(
            "UPDATE audit_log SET count = count + 1, first_at = COALESCE(first_at, at), at = $1
             WHERE id = (SELECT id FROM audit_log
                         WHERE actor = $2 AND action = $3 AND target = $4 AND outcome = $5 AND detail = $6
                           AND at >= $7
                         ORDER BY at DESC LIMIT 1)",
        )
        .bind(now)
        .bind(entry.actor)
        .bind(entry.action)
        .bind(entry.target)
        .bind(entry.outcome)
        .bind(&entry.detail)
        .bind(now - window_ms)
        .execute(&self.writer)
        .await?;
        if folded.rows_affected() == 0 {
            self.audit(entry).await?;
        }
        Ok(())
    }

    /// Deletes entries older than `before_ms`; answers how many went.
    pub async fn audit_sweep(&self, before_ms: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1").bind(before_ms).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }

    /// The newest entries first, `limit` of them, optionally only one target's.
    pub async fn audit_entries(&self, target: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit_log WHERE ($1 IS NULL OR target = $1) ORDER BY id DESC LIMIT $2")
            .bind(target)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// One page of entries matching `filter`, newest first.
    pub async fn audit_page(&self, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        let family = filter.action.as_deref().filter(|a| a.ends_with('.')).map(|a| format!("{}%", like_escape(a)));
        let exact = filter.action.as_deref().filter(|a| !a.ends_with('.'));
        let nodes = filter.stack.as_deref().map(|s| format!("{}/%", like_escape(s)));
        Ok(sqlx::query_as(
            "SELECT * FROM audit_log
             WHERE ($1 IS NULL OR actor = $1)
               AND ($2 IS NULL OR target = $2 OR target LIKE $3 ESCAPE '\\')
               AND ($4 IS NULL OR action = $4)
               AND ($5 IS NULL OR action LIKE $5 ESCAPE '\\')
               AND ($6 IS NULL OR outcome = $6)
               AND ($7 IS NULL OR id < $7)
             ORDER BY id DESC LIMIT $8",
        )
        .bind(filter.actor.as_deref())
        .bind(filter.stack.as_deref())
        .bind(nodes)
        .bind(exact)
        .bind(family)
        .bind(filter.outcome.as_deref())
        .bind(filter.before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// A LIKE pattern matches `%` and `_` literally only when escaped.
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
