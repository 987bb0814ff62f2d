use serde::Serialize;

use crate::contract::{BuildStatus, StepStatus};

use super::{Result, Store, now_ms};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct BuildRow {
    pub id: i64,
    pub stack_id: i64,
    pub stack: String,
    pub version: i64,
    pub kind: String,
    pub status: String,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub resumed_from: Option<i64>,
}

impl BuildRow {
    pub fn is_running(&self) -> bool {
        self.status == BuildStatus::Running.as_str()
    }

    /// A build that ended early, which `resume` may continue.
    pub fn is_resumable(&self) -> bool {
        matches!(BuildStatus::parse(&self.status), Some(BuildStatus::Interrupted | BuildStatus::Failed))
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StepRow {
    pub number: i64,
    pub title: String,
    pub status: String,
    pub progress: String,
    pub error: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CallRow {
    pub id: i64,
    pub step: i64,
    pub at: i64,
    pub operation: String,
    pub target: String,
    pub outcome: String,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ResourceRow {
    pub logical_id: String,
    pub physical_id: String,
    pub attributes: String,
    pub step: i64,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WafNodeRow {
    pub node: String,
    pub api_url: String,
    pub token_enc: String,
    pub fingerprint: String,
}

const BUILD_SELECT: &str = "SELECT b.id, b.stack_id, s.name AS stack, b.version, b.kind, b.status, b.started_by,
        b.started_at, b.finished_at, b.error, b.resumed_from
     FROM builds b JOIN stacks s ON s.id = b.stack_id";

impl Store {
    /// Starts a build record with its steps pending, unless the stack already
    /// has one running (then returns that one's id as the error value).
    pub async fn create_build(
        &self,
        stack_id: i64,
        version: i64,
        kind: &str,
        actor: &str,
        steps: &[(u8, &str)],
        resumed_from: Option<i64>,
    ) -> Result<std::result::Result<i64, i64>> {
        let mut tx = self.begin_write().await?;
        let running: Option<i64> =
            sqlx::query_scalar("SELECT id FROM builds WHERE stack_id = $1 AND status = 'running' LIMIT 1")
                .bind(stack_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = running {
            return Ok(Err(id));
        }
        let id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO builds (stack_id, version, kind, status, started_by, started_at, resumed_from)
             VALUES ($1, $2, $3, 'running', $4, $5, $6) RETURNING id",
        )
        .bind(stack_id)
        .bind(version)
        .bind(kind)
        .bind(actor)
        .bind(now_ms())
        .bind(resumed_from)
        .fetch_one(&mut *tx)
        .await?;
        for (number, title) in steps {
            sqlx::query("INSERT INTO build_steps (build_id, number, title, status) VALUES ($1, $2, $3, 'pending')")
                .bind(id)
                .bind(i64::from(*number))
                .bind(*title)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Ok(id))
    }

    pub async fn set_step_status(
        &self,
        build_id: i64,
        number: u8,
        status: StepStatus,
        error: Option<&str>,
    ) -> Result<()> {
        let status = status.as_str();
        let now = now_ms();
        sqlx::query(
            "UPDATE build_steps SET status = $1, error = $2,
                started_at = CASE WHEN $1 = 'running' THEN $3 ELSE started_at END,
                finished_at = CASE WHEN $1 IN ('succeeded', 'failed', 'skipped', 'interrupted') THEN $3 ELSE finished_at END
             WHERE build_id = $4 AND number = $5",
        )
        .bind(status)
        .bind(error)
        .bind(now)
        .bind(build_id)
        .bind(i64::from(number))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn set_step_progress(&self, build_id: i64, number: u8, progress: &str) -> Result<()> {
        sqlx::query("UPDATE build_steps SET progress = $1 WHERE build_id = $2 AND number = $3")
            .bind(progress)
            .bind(build_id)
            .bind(i64::from(number))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn finish_build(&self, build_id: i64, status: BuildStatus, error: Option<&str>) -> Result<()> {
        let status = status.as_str();
        sqlx::query("UPDATE builds SET status = $1, error = $2, finished_at = $3 WHERE id = $4")
            .bind(status)
            .bind(error)
            .bind(now_ms())
            .bind(build_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// At start-up: whatever was running when the server died is interrupted.
    pub async fn interrupt_running_builds(&self) -> Result<Vec<BuildRow>> {
        let rows: Vec<BuildRow> =
            sqlx::query_as(&format!("{BUILD_SELECT} WHERE b.status = 'running'")).fetch_all(&self.pool).await?;
        let now = now_ms();
        for b in &rows {
            sqlx::query("UPDATE builds SET status = 'interrupted', finished_at = $1, error = $2 WHERE id = $3")
                .bind(now)
                .bind("the server stopped while this build was running")
                .bind(b.id)
                .execute(&self.writer)
                .await?;
            sqlx::query(
                "UPDATE build_steps SET status = 'interrupted', finished_at = $1 WHERE build_id = $2 AND status = 'running'",
            )
            .bind(now)
            .bind(b.id)
            .execute(&self.writer)
            .await?;
        }
        Ok(rows)
    }

    pub async fn record_call(
        &self,
        build_id: i64,
        step: u8,
        operation: &str,
        target: &str,
        outcome: &str,
        duration_ms: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_calls (build_id, step, at, operation, target, outcome, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(build_id)
        .bind(i64::from(step))
        .bind(now_ms())
        .bind(operation)
        .bind(target)
        .bind(outcome)
        .bind(duration_ms)
        .fetch_one(&self.writer)
        .await?)
    }

    pub async fn build(&self, id: i64) -> Result<Option<BuildRow>> {
        Ok(sqlx::query_as(&format!("{BUILD_SELECT} WHERE b.id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn latest_build(&self, stack_id: i64) -> Result<Option<BuildRow>> {
        Ok(sqlx::query_as(&format!("{BUILD_SELECT} WHERE b.stack_id = $1 ORDER BY b.id DESC LIMIT 1"))
            .bind(stack_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn builds_of(&self, stack_id: i64, limit: i64) -> Result<Vec<BuildRow>> {
        Ok(sqlx::query_as(&format!("{BUILD_SELECT} WHERE b.stack_id = $1 ORDER BY b.id DESC LIMIT $2"))
            .bind(stack_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn build_steps(&self, build_id: i64) -> Result<Vec<StepRow>> {
        Ok(sqlx::query_as(
            "SELECT number, title, status, progress, error, started_at, finished_at
             FROM build_steps WHERE build_id = $1 ORDER BY number",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn build_calls(&self, build_id: i64) -> Result<Vec<CallRow>> {
        Ok(sqlx::query_as(
            "SELECT id, step, at, operation, target, outcome, duration_ms FROM api_calls WHERE build_id = $1 ORDER BY id",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records (or re-points) the live resource behind a logical id.
    pub async fn record_resource(
        &self,
        stack_id: i64,
        logical_id: &str,
        physical_id: &str,
        attributes: &str,
        step: u8,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        sqlx::query(
            "UPDATE resources SET deleted_at = $1 WHERE stack_id = $2 AND logical_id = $3 AND deleted_at IS NULL AND physical_id <> $4",
        )
        .bind(now)
        .bind(stack_id)
        .bind(logical_id)
        .bind(physical_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO resources (stack_id, logical_id, physical_id, attributes, step, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (stack_id, logical_id) WHERE deleted_at IS NULL DO UPDATE SET attributes = excluded.attributes",
        )
        .bind(stack_id)
        .bind(logical_id)
        .bind(physical_id)
        .bind(attributes)
        .bind(i64::from(step))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn live_resources(&self, stack_id: i64) -> Result<Vec<ResourceRow>> {
        Ok(sqlx::query_as(
            "SELECT logical_id, physical_id, attributes, step, created_at FROM resources
             WHERE stack_id = $1 AND deleted_at IS NULL ORDER BY step, logical_id",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mark_resource_deleted(&self, stack_id: i64, logical_id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE resources SET deleted_at = $1 WHERE stack_id = $2 AND logical_id = $3 AND deleted_at IS NULL",
        )
        .bind(now_ms())
        .bind(stack_id)
        .bind(logical_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// How many times this logical resource has existed and been deleted:
    /// part of the idempotency token, so a rebuild after teardown gets a new one.
    pub async fn resource_generation(&self, stack_id: i64, logical_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM resources WHERE stack_id = $1 AND logical_id = $2 AND deleted_at IS NOT NULL",
        )
        .bind(stack_id)
        .bind(logical_id)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn upsert_waf_node(
        &self,
        stack_id: i64,
        node: &str,
        api_url: &str,
        token_enc: &str,
        fingerprint: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO waf_nodes (stack_id, node, api_url, token_enc, fingerprint, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (stack_id, node) DO UPDATE SET api_url = excluded.api_url, token_enc = excluded.token_enc,
                fingerprint = excluded.fingerprint, updated_at = excluded.updated_at",
        )
        .bind(stack_id)
        .bind(node)
        .bind(api_url)
        .bind(token_enc)
        .bind(fingerprint)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn waf_node(&self, stack_id: i64, node: &str) -> Result<Option<WafNodeRow>> {
        Ok(sqlx::query_as(
            "SELECT node, api_url, token_enc, fingerprint FROM waf_nodes WHERE stack_id = $1 AND node = $2",
        )
        .bind(stack_id)
        .bind(node)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_waf_nodes(&self, stack_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM waf_nodes WHERE stack_id = $1").bind(stack_id).execute(&self.writer).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn concurrent_writers_queue_instead_of_failing_with_busy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let s = store.create_stack("s", "{}", "t").await.unwrap();
        let b = store.create_build(s.id, 1, "apply", "t", &[(1, "a"), (2, "b")], None).await.unwrap().unwrap();
        let mut tasks = Vec::new();
        for t in 0..3u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..40 {
                    store.record_call(b, 1, "Op", "x", "ok", 1).await.unwrap();
                    store.record_resource(s.id, &format!("r{t}/{i}"), "p", "{}", 1).await.unwrap();
                    store.live_resources(s.id).await.unwrap();
                    store.set_step_status(b, 1, StepStatus::Running, None).await.unwrap();
                    store.api_token("nohash").await.unwrap();
                    store.stack("s").await.unwrap();
                    store.build(b).await.unwrap();
                }
            }));
        }
        for t in tasks {
            tokio::time::timeout(std::time::Duration::from_secs(20), t).await.expect("no stall").unwrap();
        }
    }

    /// Migration 0009 rebuilds the build tables: what a database already
    /// holds keeps its rows, and deleting a stack still removes its builds'
    /// steps and calls.
    #[tokio::test]
    async fn the_adoption_migration_keeps_builds_steps_and_calls() {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let options = SqliteConnectOptions::new().filename(&path).create_if_missing(true).foreign_keys(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        let all = sqlx::migrate!("./migrations");
        let before = sqlx::migrate::Migrator {
            migrations: std::borrow::Cow::Owned(all.migrations.iter().filter(|m| m.version < 9).cloned().collect()),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO stacks (id, name, current_version, created_by, created_at, updated_at) VALUES (1, 's', 1, 't', 1, 1)",
            "INSERT INTO builds (id, stack_id, version, kind, status, started_by, started_at) VALUES (1, 1, 1, 'apply', 'failed', 't', 1)",
            "INSERT INTO builds (id, stack_id, version, kind, status, started_by, started_at, resumed_from) VALUES (2, 1, 1, 'apply', 'succeeded', 't', 2, 1)",
            "INSERT INTO build_steps (build_id, number, title, status) VALUES (1, 1, 'VPC', 'failed'), (2, 1, 'VPC', 'succeeded')",
            "INSERT INTO api_calls (build_id, step, at, operation, target, outcome, duration_ms) VALUES (2, 1, 2, 'CreateVpc', 'v', 'ok', 3)",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;

        let store = Store::open(&path).await.unwrap();
        let b = store.build(2).await.unwrap().unwrap();
        assert_eq!((b.kind.as_str(), b.resumed_from), ("apply", Some(1)));
        assert_eq!(store.build_steps(1).await.unwrap().len(), 1);
        assert_eq!(store.build_calls(2).await.unwrap()[0].operation, "CreateVpc");
        let adopt = store.create_build(1, 1, "adopt", "t", &[(1, "VPC")], None).await.unwrap();
        assert!(adopt.is_ok(), "the new kind is allowed");
        assert!(store.delete_stack(1).await.unwrap());
        let left: i64 =
            sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM build_steps) + (SELECT COUNT(*) FROM api_calls)")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(left, 0, "steps and calls still go with their builds");
    }
}
