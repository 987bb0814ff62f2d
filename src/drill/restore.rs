//! The restore log: every fault a drill injects is written here first and
//! removed once undone, so nothing a drill breaks stays broken — not even
//! when the server is killed in the middle.

use super::scenario::Injection;
use crate::SharedApp;
use crate::contract::{DrillStatus, Verdict};
use crate::node::{self, Authority, NodeError};
use crate::stack::StackError;
use crate::store::{NewAudit, PendingRestoreRow, StoreError};

/// Carries out an injection on a node (a fault, or the UTM switch).
pub async fn apply(
    app: &SharedApp,
    stack: &str,
    node_name: &str,
    injection: Injection,
    authority: Authority<'_>,
    actor: &str,
) -> Result<(), NodeError> {
    match injection {
        Injection::Fault(f) => node::inject(app, stack, node_name, f, authority, actor).await,
        Injection::Waf { enabled } => node::set_waf(app, stack, node_name, enabled, authority, actor).await.map(|_| ()),
    }
}

/// Records the restore, then injects as the drill's own step (`outage`: its
/// scenario declares an outage and was confirmed, so it may take a tier's
/// last path down). If the injection fails the record stays, and is undone
/// with the rest: undoing a fault that never landed is harmless.
pub async fn inject(
    app: &SharedApp,
    drill_id: i64,
    stack: &str,
    node_name: &str,
    injection: Injection,
    outage: bool,
    actor: &str,
) -> Result<(), NodeError> {
    app.store.add_pending_restore(Some(drill_id), stack, node_name, &injection.as_string()).await?;
    apply(app, stack, node_name, injection, Authority::Drill { id: drill_id, outage }, actor).await
}

/// Undoes one pending restore and forgets it once done.
pub async fn undo(app: &SharedApp, row: &PendingRestoreRow, actor: &str) -> Result<(), NodeError> {
    let Some(injection) = Injection::parse(&row.injection) else {
        // Not something this version wrote; keep it for a human, loudly.
        tracing::error!(id = row.id, injection = %row.injection, "unknown pending restore kept");
        return Err(NodeError::Provider(format!(
            "unknown injection `{}` in pending restore {}",
            row.injection, row.id
        )));
    };
    // Restoring is never refused: it brings nodes back.
    match apply(app, &row.stack, &row.node, injection.inverse(), Authority::Restore, actor).await {
        Ok(()) => {}
        // Gone with its stack: there is nothing left to restore.
        Err(NodeError::NotBuilt(_) | NodeError::UnknownNode { .. } | NodeError::Stack(StackError::NotFound(_))) => {
            tracing::warn!(stack = %row.stack, node = %row.node, "pending restore for a node that no longer exists");
        }
        Err(e) => return Err(e),
    }
    app.store.remove_pending_restore(row.id).await?;
    Ok(())
}

/// Undoes everything a drill still has pending, newest first. Returns the
/// failures (the rows stay for the next start-up).
pub async fn undo_all(app: &SharedApp, drill_id: i64, actor: &str) -> Result<Vec<String>, StoreError> {
    let mut failures = Vec::new();
    let mut rows = app.store.pending_restores(Some(drill_id)).await?;
    rows.reverse();
    for row in rows {
        if let Err(e) = undo(app, &row, actor).await {
            failures.push(format!("{} {}: {e}", row.node, row.injection));
        }
    }
    Ok(failures)
}

/// At server start: carries out every pending restore (a drill was cut off
/// by a crash or kill), notes it on the drill and in the audit log, and
/// marks drills that were running as aborted.
pub async fn at_startup(app: &SharedApp) -> Result<(), StoreError> {
    const ACTOR: &str = "hawaf (start-up)";
    for row in app.store.pending_restores(None).await? {
        let what = format!("{} on {}/{}", row.injection, row.stack, row.node);
        let result = undo(app, &row, ACTOR).await;
        let (outcome, line) = match &result {
            Ok(()) => ("ok", format!("restored at start-up: undid {what}")),
            Err(e) => ("failed", format!("restore at start-up failed: {what}: {e}")),
        };
        match &result {
            Ok(()) => tracing::warn!(%what, "restored a fault left by an interrupted drill"),
            Err(e) => tracing::error!(%what, error = %e, "cannot restore a fault left by an interrupted drill"),
        }
        let target = format!("{}/{}", row.stack, row.node);
        app.store
            .audit(NewAudit { actor: ACTOR, action: "drill.restore", target: &target, outcome, detail: line.clone() })
            .await?;
        if let Some(id) = row.drill_id {
            app.store.note_drill(id, &line).await?;
        }
    }
    for d in app.store.running_drills().await? {
        let reasons = serde_json::json!([[false, "the server stopped during the drill"]]).to_string();
        app.store.finish_drill(d.id, DrillStatus::Aborted, Some(Verdict::Fail), &reasons).await?;
        app.store
            .audit(NewAudit {
                actor: ACTOR,
                action: "drill.finish",
                target: &d.stack,
                outcome: "aborted",
                detail: format!("drill {} ({}) was cut off by a server stop", d.id, d.scenario),
            })
            .await?;
    }
    Ok(())
}
