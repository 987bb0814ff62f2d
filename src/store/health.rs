use serde::Serialize;

use super::{Result, Store};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct HealthEventRow {
    pub id: i64,
    pub tier: String,
    pub node: String,
    pub from_state: String,
    pub to_state: String,
    pub reason: String,
    pub at: i64,
}

/// A health transition to record.
pub struct NewHealthEvent<'a> {
    pub tier: &'a str,
    pub node: &'a str,
    pub from: &'a str,
    pub to: &'a str,
    pub reason: &'a str,
    pub at: i64,
}

impl Store {
    pub async fn record_health_event(&self, stack_id: i64, t: &NewHealthEvent<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO health_events (stack_id, tier, node, from_state, to_state, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(stack_id)
        .bind(t.tier)
        .bind(t.node)
        .bind(t.from)
        .bind(t.to)
        .bind(t.reason)
        .bind(t.at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn health_events(&self, stack_id: i64, limit: i64) -> Result<Vec<HealthEventRow>> {
        Ok(sqlx::query_as(
            "SELECT id, tier, node, from_state, to_state, reason, at FROM health_events
             WHERE stack_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(stack_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
