use super::{Result, Store, StoreError, is_unique_violation, now_ms};

/// A stack with its current definition (canonical JSON text).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StackRow {
    pub id: i64,
    pub name: String,
    pub current_version: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub definition: String,
    pub live_resources: i64,
    /// When hawaf took the stack over from a build made by hand (None: hawaf
    /// built it, or the adopted stack was torn down since).
    pub adopted_at: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StackVersionRow {
    pub version: i64,
    pub definition: String,
    pub created_by: String,
    pub created_at: i64,
}

const STACK_SELECT: &str = "SELECT s.id, s.name, s.current_version, s.created_by, s.created_at, s.updated_at,
        s.adopted_at, v.definition,
        (SELECT COUNT(*) FROM resources r WHERE r.stack_id = s.id AND r.deleted_at IS NULL) AS live_resources
     FROM stacks s JOIN stack_versions v ON v.stack_id = s.id AND v.version = s.current_version";

/// What an edit can run into besides a database error.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionOutcome {
    Saved(i64),
    /// Someone else saved a version since the editor loaded the form.
    Stale {
        current: i64,
    },
}

impl Store {
    pub async fn create_stack(&self, name: &str, definition: &str, actor: &str) -> Result<StackRow> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO stacks (name, current_version, created_by, created_at, updated_at) VALUES ($1, 1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(actor)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(done) => done,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate(format!("a stack named {name}"))),
            Err(e) => return Err(e.into()),
        };
        sqlx::query(
            "INSERT INTO stack_versions (stack_id, version, definition, created_by, created_at) VALUES ($1, 1, $2, $3, $4)",
        )
        .bind(id)
        .bind(definition)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(StackRow {
            id,
            name: name.to_owned(),
            current_version: 1,
            created_by: actor.to_owned(),
            created_at: now,
            updated_at: now,
            definition: definition.to_owned(),
            live_resources: 0,
            adopted_at: None,
        })
    }

    /// Marks the stack adopted (at `at`) or, with None, built by hawaf again.
    pub async fn set_adopted(&self, stack_id: i64, at: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE stacks SET adopted_at = $1 WHERE id = $2")
            .bind(at)
            .bind(stack_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn stacks(&self) -> Result<Vec<StackRow>> {
        Ok(sqlx::query_as(&format!("{STACK_SELECT} ORDER BY s.name")).fetch_all(&self.pool).await?)
    }

    pub async fn stack(&self, name: &str) -> Result<Option<StackRow>> {
        Ok(sqlx::query_as(&format!("{STACK_SELECT} WHERE s.name = $1")).bind(name).fetch_optional(&self.pool).await?)
    }

    pub async fn stack_versions(&self, stack_id: i64) -> Result<Vec<StackVersionRow>> {
        Ok(sqlx::query_as(
            "SELECT version, definition, created_by, created_at FROM stack_versions
             WHERE stack_id = $1 ORDER BY version DESC",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Appends a version, but only on top of `based_on`, so two editors cannot
    /// silently overwrite each other.
    pub async fn add_stack_version(
        &self,
        stack_id: i64,
        based_on: i64,
        definition: &str,
        actor: &str,
    ) -> Result<VersionOutcome> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let next = based_on + 1;
        let bumped = sqlx::query(
            "UPDATE stacks SET current_version = $1, updated_at = $2 WHERE id = $3 AND current_version = $4",
        )
        .bind(next)
        .bind(now)
        .bind(stack_id)
        .bind(based_on)
        .execute(&mut *tx)
        .await?;
        if bumped.rows_affected() == 0 {
            let current: i64 = sqlx::query_scalar("SELECT current_version FROM stacks WHERE id = $1")
                .bind(stack_id)
                .fetch_one(&mut *tx)
                .await?;
            return Ok(VersionOutcome::Stale { current });
        }
        sqlx::query(
            "INSERT INTO stack_versions (stack_id, version, definition, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(stack_id)
        .bind(next)
        .bind(definition)
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(VersionOutcome::Saved(next))
    }

    /// Deletes a stack that owns no live resource. Returns false, deleting
    /// nothing, when something is still built.
    pub async fn delete_stack(&self, stack_id: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM resources WHERE stack_id = $1 AND deleted_at IS NULL")
            .bind(stack_id)
            .fetch_one(&mut *tx)
            .await?;
        if live > 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM resources WHERE stack_id = $1").bind(stack_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM stacks WHERE id = $1").bind(stack_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}
