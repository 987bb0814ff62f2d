//! Node holds: what hawaf has taken out of service and not yet brought back.

use super::{Result, Store, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct HoldRow {
    pub node: String,
    /// `waf-off`, `httpd-stopped`, `instance-stopped` or `isolated`.
    pub hold: String,
    pub instance_id: String,
    pub actor: String,
    pub drill_id: Option<i64>,
    pub at: i64,
}

pub struct NewHold<'a> {
    pub stack_id: i64,
    pub node: &'a str,
    pub hold: &'a str,
    pub instance_id: &'a str,
    pub actor: &'a str,
    pub drill_id: Option<i64>,
}

impl Store {
    /// Records a hold before the action that makes it true. Answers whether
    /// it is new: a hold already there (the node was down already) is kept
    /// as it was, so a failed repeat cannot remove it.
    pub async fn add_hold(&self, h: NewHold<'_>) -> Result<bool> {
        // A hold on the node's predecessor (same name, rebuilt instance) is stale: replace it.
        sqlx::query("DELETE FROM node_holds WHERE stack_id = $1 AND node = $2 AND hold = $3 AND instance_id <> $4")
            .bind(h.stack_id)
            .bind(h.node)
            .bind(h.hold)
            .bind(h.instance_id)
            .execute(&self.writer)
            .await?;
        let done = sqlx::query(
            "INSERT INTO node_holds (stack_id, node, hold, instance_id, actor, drill_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (stack_id, node, hold) DO NOTHING",
        )
        .bind(h.stack_id)
        .bind(h.node)
        .bind(h.hold)
        .bind(h.instance_id)
        .bind(h.actor)
        .bind(h.drill_id)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn remove_hold(&self, stack_id: i64, node: &str, hold: &str) -> Result<()> {
        sqlx::query("DELETE FROM node_holds WHERE stack_id = $1 AND node = $2 AND hold = $3")
            .bind(stack_id)
            .bind(node)
            .bind(hold)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn holds(&self, stack_id: i64) -> Result<Vec<HoldRow>> {
        Ok(sqlx::query_as(
            "SELECT node, hold, instance_id, actor, drill_id, at FROM node_holds WHERE stack_id = $1 ORDER BY node, hold",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
