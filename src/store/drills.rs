use serde::Serialize;

use crate::contract::{DrillStatus, Verdict};

use super::{Result, Store, StoreError, is_unique_violation, now_ms};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DrillRow {
    pub id: i64,
    pub stack_id: i64,
    pub stack: String,
    pub scenario: String,
    pub status: String,
    pub verdict: Option<String>,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// JSON: the drill's settings (rate, durations, failure budget).
    pub settings: String,
    /// JSON: phases and marks so far.
    pub timeline: String,
    /// JSON array of strings: why the verdict is what it is.
    pub reasons: String,
    /// Free text added after the fact, e.g. a restore carried out at start-up.
    pub note: String,
    /// `manual` (the dashboard), `api` (the API and CLI) or `schedule`.
    pub trigger: String,
}

/// What `create_drill` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewDrill {
    Created(i64),
    /// The stack already has this drill running.
    Running(i64),
    LeverEngaged {
        reason: String,
        actor: String,
    },
}

/// One request the prober made.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize)]
pub struct ProbeRow {
    pub seq: i64,
    /// Unix ms when the request was sent.
    pub at: i64,
    /// Index into the drill's phases at send time.
    pub phase: i64,
    pub status: Option<i64>,
    /// The web server that answered (its Name), from the body.
    pub server: Option<String>,
    /// `connect`, `timeout`, `http-502`, `unknown-body`, … ; None for a good answer.
    pub error: Option<String>,
    pub latency_ms: f64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct PendingRestoreRow {
    pub id: i64,
    pub drill_id: Option<i64>,
    pub stack: String,
    pub node: String,
    pub injection: String,
    pub created_at: i64,
}

const DRILL_SELECT: &str = "SELECT d.id, d.stack_id, s.name AS stack, d.scenario, d.status, d.verdict, d.started_by,
        d.started_at, d.finished_at, d.settings, d.timeline, d.reasons, d.note, d.trigger
     FROM drills d JOIN stacks s ON s.id = d.stack_id";

/// Rows per INSERT: well below SQLite's 32766 bound parameters (8 per row).
const PROBE_CHUNK: usize = 500;

impl DrillRow {
    pub fn is_running(&self) -> bool {
        self.status == DrillStatus::Running.as_str()
    }
}

impl Store {
    /// Starts a drill record, unless the stack already has one running (then
    /// returns that one's id as the error value).
    /// Starts a drill record, unless the stack already has one running or
    /// the safety lever is engaged: checked in the same transaction, so an
    /// engaging lever and a starting drill cannot pass each other.
    pub async fn create_drill(
        &self,
        stack_id: i64,
        scenario: &str,
        actor: &str,
        trigger: &str,
        settings: &str,
    ) -> Result<NewDrill> {
        let mut tx = self.begin_write().await?;
        let lever: Option<(String, String)> =
            sqlx::query_as("SELECT reason, actor FROM safety_lever WHERE id = 1 AND engaged = 1")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((reason, actor)) = lever {
            return Ok(NewDrill::LeverEngaged { reason, actor });
        }
        let running: Option<i64> =
            sqlx::query_scalar("SELECT id FROM drills WHERE stack_id = $1 AND status = 'running' LIMIT 1")
                .bind(stack_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = running {
            return Ok(NewDrill::Running(id));
        }
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO drills (stack_id, scenario, status, started_by, started_at, settings, trigger)
             VALUES ($1, $2, 'running', $3, $4, $5, $6) RETURNING id",
        )
        .bind(stack_id)
        .bind(scenario)
        .bind(actor)
        .bind(now_ms())
        .bind(settings)
        .bind(trigger)
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(r) => r,
            Err(e) if is_unique_violation(&e) => return Err(StoreError::Duplicate("a running drill".into())),
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(NewDrill::Created(id))
    }

    pub async fn set_drill_timeline(&self, id: i64, timeline: &str) -> Result<()> {
        sqlx::query("UPDATE drills SET timeline = $1 WHERE id = $2")
            .bind(timeline)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn finish_drill(
        &self,
        id: i64,
        status: DrillStatus,
        verdict: Option<Verdict>,
        reasons: &str,
    ) -> Result<()> {
        let (status, verdict) = (status.as_str(), verdict.map(Verdict::as_str));
        sqlx::query("UPDATE drills SET status = $1, verdict = $2, reasons = $3, finished_at = $4 WHERE id = $5")
            .bind(status)
            .bind(verdict)
            .bind(reasons)
            .bind(now_ms())
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Appends a line to a drill's note.
    pub async fn note_drill(&self, id: i64, line: &str) -> Result<()> {
        sqlx::query("UPDATE drills SET note = CASE WHEN note = '' THEN $1 ELSE note || $2 END WHERE id = $3")
            .bind(line)
            .bind(format!("\n{line}"))
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn drill(&self, id: i64) -> Result<Option<DrillRow>> {
        Ok(sqlx::query_as(&format!("{DRILL_SELECT} WHERE d.id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    pub async fn drills_of(&self, stack_id: i64, limit: i64) -> Result<Vec<DrillRow>> {
        Ok(sqlx::query_as(&format!("{DRILL_SELECT} WHERE d.stack_id = $1 ORDER BY d.id DESC LIMIT $2"))
            .bind(stack_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// (scenario, passed, finished_at) of each scenario's latest finished drill.
    pub async fn latest_results(&self, stack_id: i64) -> Result<Vec<(String, bool, i64)>> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT scenario, CASE WHEN verdict = 'pass' THEN 1 ELSE 0 END AS passed, finished_at FROM drills
             WHERE id IN (SELECT MAX(id) FROM drills WHERE stack_id = $1 AND status IN ('finished', 'aborted')
                          AND verdict IS NOT NULL AND finished_at IS NOT NULL GROUP BY scenario)",
        )
        .bind(stack_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(scenario, passed, at)| (scenario, passed != 0, at)).collect())
    }

    /// Every stack's latest results, for /metrics: (stack, scenario, passed, finished_at).
    pub async fn all_latest_results(&self) -> Result<Vec<(String, String, bool, i64)>> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT s.name, d.scenario, CASE WHEN d.verdict = 'pass' THEN 1 ELSE 0 END AS passed, d.finished_at FROM drills d JOIN stacks s ON s.id = d.stack_id
             WHERE d.id IN (SELECT MAX(id) FROM drills WHERE status IN ('finished', 'aborted') AND verdict IS NOT NULL
                            AND finished_at IS NOT NULL GROUP BY stack_id, scenario)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(stack, scenario, passed, at)| (stack, scenario, passed != 0, at)).collect())
    }

    pub async fn set_drill_summary(&self, id: i64, summary: &str) -> Result<()> {
        sqlx::query("UPDATE drills SET summary = $1 WHERE id = $2")
            .bind(summary)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// (id, scenario, finished_at, summary JSON) of the stack's finished
    /// drills that have one, oldest first, at most `per_scenario` each.
    pub async fn drill_summaries(&self, stack_id: i64, per_scenario: i64) -> Result<Vec<(i64, String, i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, scenario, finished_at, summary FROM (
                SELECT id, scenario, finished_at, summary,
                       ROW_NUMBER() OVER (PARTITION BY scenario ORDER BY id DESC) AS n
                FROM drills WHERE stack_id = $1 AND status IN ('finished', 'aborted') AND summary IS NOT NULL
                  AND finished_at IS NOT NULL) AS recent
             WHERE n <= $2 ORDER BY scenario, id",
        )
        .bind(stack_id)
        .bind(per_scenario)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The latest finished drill of `scenario` on the stack before `before_id`.
    pub async fn previous_drill(&self, stack_id: i64, scenario: &str, before_id: i64) -> Result<Option<DrillRow>> {
        Ok(sqlx::query_as(&format!(
            "{DRILL_SELECT} WHERE d.stack_id = $1 AND d.scenario = $2 AND d.id < $3 AND d.status IN ('finished', 'aborted')
             ORDER BY d.id DESC LIMIT 1"
        ))
        .bind(stack_id)
        .bind(scenario)
        .bind(before_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn running_drills(&self) -> Result<Vec<DrillRow>> {
        Ok(sqlx::query_as(&format!("{DRILL_SELECT} WHERE d.status = 'running' ORDER BY d.id"))
            .fetch_all(&self.pool)
            .await?)
    }

    /// One transaction per batch: a drill at 20 probes/s writes a couple of
    /// times a second instead of twenty.
    pub async fn insert_probes(&self, drill_id: i64, probes: &[ProbeRow]) -> Result<()> {
        if probes.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in probes.chunks(PROBE_CHUNK) {
            // Placeholders written out: sqlx's QueryBuilder writes `?` for
            // the `any` driver, which PostgreSQL does not take.
            let sql = format!(
                "INSERT INTO drill_probes (drill_id, seq, at, phase, status, server, error, latency_ms) VALUES {}",
                super::copy::placeholders(chunk.len(), 8)
            );
            let mut q = sqlx::query(&sql);
            for p in chunk {
                q = q
                    .bind(drill_id)
                    .bind(p.seq)
                    .bind(p.at)
                    .bind(p.phase)
                    .bind(p.status)
                    .bind(p.server.clone())
                    .bind(p.error.clone())
                    .bind(p.latency_ms);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn drill_probes(&self, drill_id: i64) -> Result<Vec<ProbeRow>> {
        Ok(sqlx::query_as(
            "SELECT seq, at, phase, status, server, error, latency_ms FROM drill_probes WHERE drill_id = $1 ORDER BY seq",
        )
        .bind(drill_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn add_pending_restore(
        &self,
        drill_id: Option<i64>,
        stack: &str,
        node: &str,
        injection: &str,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO pending_restores (drill_id, stack, node, injection, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(drill_id)
        .bind(stack)
        .bind(node)
        .bind(injection)
        .bind(now_ms())
        .fetch_one(&self.writer)
        .await?)
    }

    pub async fn remove_pending_restore(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM pending_restores WHERE id = $1").bind(id).execute(&self.writer).await?;
        Ok(())
    }

    /// Every pending restore, or one drill's, oldest first.
    pub async fn pending_restores(&self, drill_id: Option<i64>) -> Result<Vec<PendingRestoreRow>> {
        Ok(sqlx::query_as("SELECT * FROM pending_restores WHERE ($1 IS NULL OR drill_id = $1) ORDER BY id")
            .bind(drill_id)
            .fetch_all(&self.pool)
            .await?)
    }
}
