use super::{Result, Store};

impl Store {
    /// Keeps `report` as the stack's last check; answers the status of the
    /// check it replaces, if any. A check that began before the kept one
    /// (`checked_at` is when its observation began) replaces nothing: two
    /// checks can overlap (after a build, on demand), and the older one must
    /// not overwrite what the newer one saw. It then answers its own status,
    /// so the caller sees no change to announce.
    pub async fn save_drift(
        &self,
        stack_id: i64,
        checked_at: i64,
        status: &str,
        report: &str,
    ) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        let previous: Option<(String, i64)> =
            sqlx::query_as("SELECT status, checked_at FROM drift_reports WHERE stack_id = $1")
                .bind(stack_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((_, kept_at)) = &previous
            && *kept_at > checked_at
        {
            return Ok(Some(status.to_owned()));
        }
        sqlx::query(
            "INSERT INTO drift_reports (stack_id, checked_at, status, report) VALUES ($1, $2, $3, $4)
             ON CONFLICT (stack_id) DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status,
                                                 report = excluded.report",
        )
        .bind(stack_id)
        .bind(checked_at)
        .bind(status)
        .bind(report)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(previous.map(|(status, _)| status))
    }

    /// The stack's last check: the report as JSON.
    pub async fn drift(&self, stack_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT report FROM drift_reports WHERE stack_id = $1")
            .bind(stack_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every stack's last status, for /metrics.
    pub async fn drift_statuses(&self) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT s.name, d.status FROM drift_reports d JOIN stacks s ON s.id = d.stack_id ORDER BY s.name",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
