//! Webhooks and their deliveries.

use super::{Result, Store, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub secret_enc: String,
    /// JSON array of event names.
    pub events: String,
    pub created_by: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub body: String,
    pub created_at: i64,
    pub status: String,
    pub attempts: i64,
    pub next_at: i64,
    pub last_code: Option<i64>,
    pub last_error: Option<String>,
    pub finished_at: Option<i64>,
}

const DELIVERY_SELECT: &str = "SELECT id, webhook_id, event, body, created_at, status, attempts, next_at, last_code,
        last_error, finished_at FROM webhook_deliveries";

impl Store {
    pub async fn create_webhook(&self, url: &str, secret_enc: &str, events: &str, actor: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>("INSERT INTO webhooks (url, secret_enc, events, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(url)
            .bind(secret_enc)
            .bind(events)
            .bind(actor)
            .bind(now_ms())
            .fetch_one(&self.writer)
            .await?)
    }

    pub async fn webhooks(&self) -> Result<Vec<WebhookRow>> {
        Ok(sqlx::query_as("SELECT id, url, secret_enc, events, created_by, created_at FROM webhooks ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn webhook(&self, id: i64) -> Result<Option<WebhookRow>> {
        Ok(sqlx::query_as("SELECT id, url, secret_enc, events, created_by, created_at FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn delete_webhook(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&self.writer).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues one delivery per matching webhook, in one transaction.
    pub async fn queue_deliveries(&self, hooks: &[i64], event: &str, body: &str) -> Result<()> {
        if hooks.is_empty() {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for id in hooks {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event, body, created_at, next_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(event)
            .bind(body)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes up to `limit` due deliveries and leases them until `lease_until`,
    /// so the next poll (or another replica) does not send them again meanwhile.
    pub async fn lease_due_deliveries(&self, limit: i64, lease_until: i64) -> Result<Vec<DeliveryRow>> {
        let mut tx = self.begin_write().await?;
        let due: Vec<DeliveryRow> = sqlx::query_as(&format!(
            "{DELIVERY_SELECT} WHERE status = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT $2"
        ))
        .bind(now_ms())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        for d in &due {
            sqlx::query("UPDATE webhook_deliveries SET next_at = $1 WHERE id = $2")
                .bind(lease_until)
                .bind(d.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Records one attempt: delivered, retried at `retry_at`, or given up.
    pub async fn record_attempt(
        &self,
        id: i64,
        code: Option<u16>,
        error: Option<&str>,
        outcome: &str,
        retry_at: i64,
    ) -> Result<()> {
        let finished = (outcome != "pending").then(now_ms);
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_code = $1, last_error = $2, status = $3,
                next_at = $4, finished_at = $5 WHERE id = $6",
        )
        .bind(code.map(i64::from))
        .bind(error)
        .bind(outcome)
        .bind(retry_at)
        .bind(finished)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn deliveries_of(&self, webhook_id: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
        Ok(sqlx::query_as(&format!("{DELIVERY_SELECT} WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2"))
            .bind(webhook_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Deletes delivered and failed deliveries that ended before `before`
    /// (pending ones stay until they end); answers how many.
    pub async fn sweep_deliveries(&self, before: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM webhook_deliveries WHERE status IN ('delivered', 'failed') AND finished_at < $1")
                .bind(before)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected())
    }
}
