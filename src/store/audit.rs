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

impl Store {
    pub async fn audit(&self, entry: NewAudit<'_>) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)")
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

    /// The newest entries first, `limit` of them, optionally only one target's.
    pub async fn audit_entries(&self, target: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        Ok(sqlx::query_as("SELECT * FROM audit_log WHERE (?1 IS NULL OR target = ?1) ORDER BY id DESC LIMIT ?2")
            .bind(target)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
