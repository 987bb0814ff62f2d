//! Leases: work that must run once among replicas sharing one database is
//! owned through a row here, taken over only after it expires.

use super::{Engine, Result, Store, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeaseRow {
    pub name: String,
    pub owner: String,
    pub owner_url: String,
    pub generation: i64,
    pub expires_at: i64,
}

impl Store {
    /// Now on the database's clock (ms), so replicas on hosts whose clocks
    /// differ still agree on when a lease expires.
    pub async fn db_now(&self) -> Result<i64> {
        match self.engine {
            Engine::Sqlite => Ok(now_ms()),
            Engine::Postgres => {
                Ok(sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
                    .fetch_one(&self.pool)
                    .await?)
            }
        }
    }

    /// Takes `name` for `owner` if it is free or expired, or renews it if
    /// `owner` holds it; answers the lease as it stands afterwards (held by
    /// someone else when `owner` could not take it). The generation goes up
    /// only when the lease changes hands, which fences the one who lost it.
    pub async fn claim_lease(&self, name: &str, owner: &str, owner_url: &str, ttl_ms: i64) -> Result<LeaseRow> {
        // Under the write lock (not `begin_write`: a claim is not fenced):
        // a fenced write transaction then either commits before a takeover
        // or sees the new generation, never straddles one.
        let mut tx = self.writer.begin().await?;
        let now = match self.engine {
            Engine::Sqlite => now_ms(),
            Engine::Postgres => {
                sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                    .bind(super::WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query_scalar("SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        sqlx::query(
            "INSERT INTO leases (name, owner, owner_url, generation, expires_at) VALUES ($1, $2, $3, 1, $4)
             ON CONFLICT (name) DO UPDATE SET
                generation = CASE WHEN leases.owner = excluded.owner THEN leases.generation
                                  ELSE leases.generation + 1 END,
                owner = excluded.owner, owner_url = excluded.owner_url, expires_at = excluded.expires_at
             WHERE leases.owner = excluded.owner OR leases.expires_at < $5",
        )
        .bind(name)
        .bind(owner)
        .bind(owner_url)
        .bind(now + ttl_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let lease = sqlx::query_as("SELECT name, owner, owner_url, generation, expires_at FROM leases WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(lease)
    }

    /// Gives a lease up at once (a clean stop), so a peer need not wait for it to expire.
    pub async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn leases(&self) -> Result<Vec<LeaseRow>> {
        Ok(sqlx::query_as("SELECT name, owner, owner_url, generation, expires_at FROM leases ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;

    #[tokio::test]
    async fn a_lease_changes_hands_only_once_expired_and_then_fences_by_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("l.db")).await.unwrap();
        let a = store.claim_lease("leader", "a", "http://a", 60_000).await.unwrap();
        assert_eq!((a.owner.as_str(), a.generation), ("a", 1));
        let held = store.claim_lease("leader", "b", "http://b", 60_000).await.unwrap();
        assert_eq!((held.owner.as_str(), held.owner_url.as_str()), ("a", "http://a"), "b waits while a's lease runs");
        let renewed = store.claim_lease("leader", "a", "http://a", 60_000).await.unwrap();
        assert_eq!((renewed.owner.as_str(), renewed.generation), ("a", 1), "renewing keeps the generation");
        assert!(renewed.expires_at >= a.expires_at);

        store.release_lease("leader", "a").await.unwrap();
        let b = store.claim_lease("leader", "b", "http://b", 60_000).await.unwrap();
        assert_eq!((b.owner.as_str(), b.generation), ("b", 2), "a released it: b takes it over, one generation up");
        // a, back from a pause, cannot renew what it lost.
        let lost = store.claim_lease("leader", "a", "http://a", 60_000).await.unwrap();
        assert_eq!(lost.owner, "b");
        // An expired lease is free for anyone.
        let b = store.claim_lease("leader", "b", "http://b", -1).await.unwrap();
        assert!(b.expires_at < store.db_now().await.unwrap());
        let a = store.claim_lease("leader", "a", "http://a", 60_000).await.unwrap();
        assert_eq!((a.owner.as_str(), a.generation), ("a", 3));
        assert_eq!(store.leases().await.unwrap().len(), 1);
    }
}
