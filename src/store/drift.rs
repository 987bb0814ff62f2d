use super::{Result, Store};

impl Store {
    /// Keeps `report` as the stack's last check; answers the status of the
    /// check it replaces, if any.
    pub async fn save_drift(
        &self,
        stack_id: i64,
        checked_at: i64,
        status: &str,
        report: &str,
    ) -> Result<Option<String>> {
        let previous: Option<String> = sqlx::query_scalar("SELECT status FROM drift_reports WHERE stack_id = $1")
            .bind(stack_id)
            .fetch_optional(&self.writer)
            .await?;
        sqlx::query(
            "INSERT INTO drift_reports (stack_id, checked_at, status, report) VALUES ($1, $2, $3, $4)
             ON CONFLICT (stack_id) DO UPDATE SET checked_at = excluded.checked_at, status = excluded.status,
                                                 report = excluded.report",
        )
        .bind(stack_id)
        .bind(checked_at)
        .bind(status)
        .bind(report)
        .execute(&self.writer)
        .await?;
        Ok(previous)
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
