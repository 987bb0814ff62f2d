use super::{Result, Store, now_ms};

impl Store {
    pub async fn lab_snapshot(&self) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT snapshot FROM lab_state WHERE id = 1").fetch_optional(&self.pool).await?)
    }

    /// Fenced (a write transaction): a leader that lost its lease must not
    /// overwrite the state its successor's lab runs from.
    pub async fn save_lab_snapshot(&self, snapshot: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO lab_state (id, snapshot, saved_at) VALUES (1, $1, $2)
             ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, saved_at = excluded.saved_at",
        )
        .bind(snapshot)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Keeps a copy of a snapshot that could not be read, beside the live one.
    pub async fn save_lab_snapshot_backup(&self, snapshot: &str) -> Result<()> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS lab_state_unreadable (saved_at INTEGER NOT NULL, snapshot TEXT NOT NULL)",
        )
        .execute(&self.writer)
        .await?;
        sqlx::query("INSERT INTO lab_state_unreadable (saved_at, snapshot) VALUES ($1, $2)")
            .bind(now_ms())
            .bind(snapshot)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
