//! `hawaf db migrate-from-sqlite`: an SQLite database copied into an empty
//! PostgreSQL one, table by table, every row with its id, then checked by
//! counting.

use sqlx::Row as _;

use super::{Engine, Result, Store, StoreError};

/// Parents before children, so foreign keys hold at every insert.
pub const TABLES: &[&str] = &[
    "users",
    "sessions",
    "api_tokens",
    "stacks",
    "stack_versions",
    "resources",
    "audit_log",
    "waf_nodes",
    "lab_state",
    "health_events",
    "drills",
    "drill_probes",
    "pending_restores",
    "node_holds",
    "drift_reports",
    "builds",
    "build_steps",
    "api_calls",
    "safety_lever",
    "schedules",
    "schedule_runs",
    "webhooks",
    "webhook_deliveries",
    "resilience_policies",
    "drill_definitions",
    "appliance_migrations",
];

/// Rows per INSERT: PostgreSQL takes at most 65535 parameters in one.
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("copy from SQLite into PostgreSQL: the source must be an SQLite file and the target a postgres:// URL")]
    Engines,
    #[error("the PostgreSQL database is not empty ({0}); copy into a new, empty database")]
    NotEmpty(String),
    #[error("table {table}: {source_rows} rows in SQLite but {target_rows} in PostgreSQL after the copy")]
    Count { table: String, source_rows: i64, target_rows: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Copies every table of `source` into `target` in one transaction; answers
/// (table, rows) for each.
pub async fn sqlite_to_postgres(
    source: &Store,
    target: &Store,
) -> std::result::Result<Vec<(&'static str, i64)>, CopyError> {
    if source.engine != Engine::Sqlite || target.engine != Engine::Postgres {
        return Err(CopyError::Engines);
    }
    let mut held = Vec::new();
    for table in TABLES {
        let n = target.count(table).await?;
        if n > 0 {
            held.push(format!("{table}: {n} rows"));
        }
    }
    if !held.is_empty() {
        return Err(CopyError::NotEmpty(held.join(", ")));
    }
    let mut tx = target.begin_write().await?;
    // One read transaction: every table as of one moment, even if a server
    // still writes to the file.
    let mut read = source.pool.begin().await.map_err(StoreError::from)?;
    let mut copied = Vec::new();
    for table in TABLES {
        let described: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(*table)
                .fetch_all(&mut *read)
                .await
                .map_err(StoreError::from)?;
        let quoted = |names: Vec<&String>| names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ");
        let names = quoted(described.iter().map(|(n, _, _)| n).collect());
        // In key order, so a row that refers to an earlier one of its table
        // (a resumed build) comes after it.
        let mut key: Vec<_> = described.iter().filter(|(_, _, pk)| *pk > 0).collect();
        key.sort_by_key(|(_, _, pk)| *pk);
        let order = quoted(key.iter().map(|(n, _, _)| n).collect());
        let columns: Vec<(String, String)> = described.into_iter().map(|(n, t, _)| (n, t)).collect();
        let order = if order.is_empty() { String::new() } else { format!(" ORDER BY {order}") };
        let rows = sqlx::query(&format!("SELECT {names} FROM {table}{order}"))
            .fetch_all(&mut *read)
            .await
            .map_err(StoreError::from)?;
        for chunk in rows.chunks(BATCH) {
            let sql = format!("INSERT INTO {table} ({names}) VALUES {}", placeholders(chunk.len(), columns.len()));
            let mut q = sqlx::query(&sql);
            for row in chunk {
                for (i, (_, ty)) in columns.iter().enumerate() {
                    q = match ty.to_ascii_uppercase().as_str() {
                        "INTEGER" => q.bind(row.try_get::<Option<i64>, _>(i).map_err(StoreError::from)?),
                        "REAL" => q.bind(row.try_get::<Option<f64>, _>(i).map_err(StoreError::from)?),
                        _ => q.bind(row.try_get::<Option<String>, _>(i).map_err(StoreError::from)?),
                    };
                }
            }
            q.execute(&mut *tx).await.map_err(StoreError::from)?;
        }
        if columns.iter().any(|(n, _)| n == "id") && !matches!(*table, "lab_state" | "safety_lever") {
            // Identity columns go on from the largest copied id.
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            ))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        }
        // Checked before the commit: a mismatch rolls the whole copy back.
        let source_rows = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let target_rows: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
        if source_rows != target_rows {
            return Err(CopyError::Count { table: (*table).to_owned(), source_rows, target_rows });
        }
        copied.push((*table, target_rows));
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(copied)
}

/// `($1, $2), ($3, $4)` for two rows of two columns.
pub(super) fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells = (1..=columns).map(|c| format!("${}", r * columns + c)).collect::<Vec<_>>().join(", ");
            format!("({cells})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Rows in one of hawaf's own tables (`table` is one of `TABLES`, never input).
    async fn count(&self, table: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.pool).await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(super::placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
