//! The safety lever and drill schedules.

use super::{Result, Store, now_ms};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeverRow {
    #[sqlx(try_from = "super::Flag")]
    pub engaged: bool,
    pub reason: String,
    pub actor: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    pub id: i64,
    pub stack_id: i64,
    pub stack: String,
    pub scenario: String,
    pub cron: String,
    /// JSON array of blackout windows.
    pub blackouts: String,
    #[sqlx(try_from = "super::Flag")]
    pub suspended: bool,
    pub created_by: String,
    pub created_at: i64,
    pub handled_until: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRunRow {
    pub id: i64,
    pub schedule_id: i64,
    pub at: i64,
    pub outcome: String,
    pub drill_id: Option<i64>,
    pub reason: String,
}

const SCHEDULE_SELECT: &str = "SELECT c.id, c.stack_id, s.name AS stack, c.scenario, c.cron, c.blackouts,
        c.suspended, c.created_by, c.created_at, c.handled_until
     FROM schedules c JOIN stacks s ON s.id = c.stack_id";

impl Store {
    /// Saves a custom drill; false when the stack already has one so named.
    pub async fn create_drill_definition(
        &self,
        stack_id: i64,
        name: &str,
        definition: &str,
        actor: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO drill_definitions (stack_id, name, definition, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (stack_id, name) DO NOTHING",
        )
        .bind(stack_id)
        .bind(name)
        .bind(definition)
        .bind(actor)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// (name, definition JSON, created_by, created_at) of the stack's custom drills.
    pub async fn drill_definitions(&self, stack_id: i64) -> Result<Vec<(String, String, String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT name, definition, created_by, created_at FROM drill_definitions WHERE stack_id = $1 ORDER BY name",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn delete_drill_definition(&self, stack_id: i64, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM drill_definitions WHERE stack_id = $1 AND name = $2")
            .bind(stack_id)
            .bind(name)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn policy(&self, stack_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT policy FROM resilience_policies WHERE stack_id = $1")
            .bind(stack_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_policy(&self, stack_id: i64, policy: &str, actor: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO resilience_policies (stack_id, policy, updated_by, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (stack_id) DO UPDATE SET policy = excluded.policy, updated_by = excluded.updated_by,
                updated_at = excluded.updated_at",
        )
        .bind(stack_id)
        .bind(policy)
        .bind(actor)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The lever as last set (released when never set).
    pub async fn lever(&self) -> Result<Option<LeverRow>> {
        Ok(sqlx::query_as("SELECT engaged, reason, actor, at FROM safety_lever WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_lever(&self, engaged: bool, reason: &str, actor: &str) -> Result<LeverRow> {
        let at = now_ms();
        // A write transaction: on PostgreSQL it takes the lock a starting drill
        // takes, so an engaging lever and a starting drill cannot pass each other.
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO safety_lever (id, engaged, reason, actor, at) VALUES (1, $1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET engaged = excluded.engaged, reason = excluded.reason,
                actor = excluded.actor, at = excluded.at",
        )
        .bind(i64::from(engaged))
        .bind(reason)
        .bind(actor)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(LeverRow { engaged, reason: reason.to_owned(), actor: actor.to_owned(), at })
    }

    pub async fn create_schedule(
        &self,
        stack_id: i64,
        scenario: &str,
        cron: &str,
        blackouts: &str,
        suspended: bool,
        actor: &str,
    ) -> Result<i64> {
        let now = now_ms();
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO schedules (stack_id, scenario, cron, blackouts, suspended, created_by, created_at, handled_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(stack_id)
        .bind(scenario)
        .bind(cron)
        .bind(blackouts)
        .bind(i64::from(suspended))
        .bind(actor)
        .bind(now)
        .bind(now)
        .fetch_one(&self.writer)
        .await?)
    }

    pub async fn schedule(&self, id: i64) -> Result<Option<ScheduleRow>> {
        Ok(sqlx::query_as(&format!("{SCHEDULE_SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn schedules_of(&self, stack_id: i64) -> Result<Vec<ScheduleRow>> {
        Ok(sqlx::query_as(&format!("{SCHEDULE_SELECT} WHERE c.stack_id = $1 ORDER BY c.id"))
            .bind(stack_id)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn all_schedules(&self) -> Result<Vec<ScheduleRow>> {
        Ok(sqlx::query_as(&format!("{SCHEDULE_SELECT} ORDER BY c.id")).fetch_all(&self.pool).await?)
    }

    /// Saves an edit; a schedule resumed or changed counts from now, so
    /// slots it passed meanwhile are not run late.
    pub async fn update_schedule(&self, id: i64, cron: &str, blackouts: &str, suspended: bool) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE schedules SET cron = $1, blackouts = $2, suspended = $3, handled_until = CASE WHEN handled_until > $4 THEN handled_until ELSE $4 END
             WHERE id = $5",
        )
        .bind(cron)
        .bind(blackouts)
        .bind(i64::from(suspended))
        .bind(now_ms())
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_schedule(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM schedules WHERE id = $1").bind(id).execute(&self.writer).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records what a slot did and moves the schedule past it, in one
    /// transaction; false when another replica handled the slot first.
    pub async fn record_schedule_run(
        &self,
        schedule_id: i64,
        slot: i64,
        outcome: &str,
        drill_id: Option<i64>,
        reason: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query("UPDATE schedules SET handled_until = $1 WHERE id = $2 AND handled_until < $3")
            .bind(slot)
            .bind(schedule_id)
            .bind(slot)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO schedule_runs (schedule_id, at, outcome, drill_id, reason) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(schedule_id)
        .bind(slot)
        .bind(outcome)
        .bind(drill_id)
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Moves a schedule past slots it did not run (missed while down).
    pub async fn skip_schedule_to(&self, schedule_id: i64, until: i64) -> Result<()> {
        sqlx::query("UPDATE schedules SET handled_until = CASE WHEN handled_until > $1 THEN handled_until ELSE $1 END WHERE id = $2")
            .bind(until)
            .bind(schedule_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn schedule_runs(&self, schedule_id: i64, limit: i64) -> Result<Vec<ScheduleRunRow>> {
        Ok(sqlx::query_as(
            "SELECT id, schedule_id, at, outcome, drill_id, reason FROM schedule_runs
             WHERE schedule_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(schedule_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
