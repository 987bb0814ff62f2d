//! Appliance migrations (UTM 9 nodes replaced by Sophos Firewall ones) and
//! their reports.

use super::{Result, Store, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApplianceRunRow {
    pub id: i64,
    pub stack_id: i64,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    /// JSON: the contract's `ApplianceRun`.
    pub report: String,
}

impl Store {
    /// Starts a run unless one is running for the stack (checked in the
    /// same transaction, so two quick clicks start one).
    pub async fn start_appliance_run(&self, stack_id: i64, by: &str, report: &str) -> Result<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let running: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM appliance_migrations WHERE stack_id = $1 AND status = 'running'")
                .bind(stack_id)
                .fetch_one(&mut *tx)
                .await?;
        if running > 0 {
            return Ok(None);
        }
        let id = sqlx::query_scalar(
            "INSERT INTO appliance_migrations (stack_id, started_by, started_at, status, report)
             VALUES ($1, $2, $3, 'running', $4) RETURNING id",
        )
        .bind(stack_id)
        .bind(by)
        .bind(now_ms())
        .bind(report)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    /// Rewrites a run's report; a status other than `running` ends it.
    pub async fn update_appliance_run(&self, id: i64, status: &str, report: &str) -> Result<()> {
        let finished = (status != "running").then(now_ms);
        sqlx::query("UPDATE appliance_migrations SET status = $1, report = $2, finished_at = $3 WHERE id = $4")
            .bind(status)
            .bind(report)
            .bind(finished)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Ends a run whose task ended without saying how (a panic, a lost
    /// write): it failed. A run that ended properly is left alone.
    pub async fn settle_appliance_run(&self, id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE appliance_migrations SET status = 'failed', finished_at = $1 WHERE id = $2 AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether a replacement of the stack's WAF nodes is running.
    pub async fn appliance_run_running(&self, stack_id: i64) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM appliance_migrations WHERE stack_id = $1 AND status = 'running'")
                .bind(stack_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    pub async fn last_appliance_run(&self, stack_id: i64) -> Result<Option<ApplianceRunRow>> {
        Ok(sqlx::query_as(
            "SELECT id, stack_id, started_by, started_at, finished_at, status, report FROM appliance_migrations
             WHERE stack_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(stack_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Runs a stopped process left running: they are interrupted (a new
    /// run picks up where they stopped, node by node).
    pub async fn interrupt_appliance_runs(&self) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE appliance_migrations SET status = 'interrupted', finished_at = $1 WHERE status = 'running'",
        )
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Forgets one node's stored API access (its instance was replaced).
    pub async fn delete_waf_node(&self, stack_id: i64, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM waf_nodes WHERE stack_id = $1 AND node = $2")
            .bind(stack_id)
            .bind(node)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
