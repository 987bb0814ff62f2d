//! The safety lever: one switch that stops every drill. Engaging it halts
//! each running drill (each restores, as Halt does) and refuses new ones,
//! manual or scheduled, until it is released. Its state is in the database,
//! so it survives restarts; the check that refuses a drill runs in the same
//! transaction that starts one.

use super::runner::{DrillError, halt};
use crate::SharedApp;
use crate::contract::SafetyLever;
use crate::store::{LeverRow, NewAudit, Store};

pub fn answer(row: Option<LeverRow>) -> SafetyLever {
    match row {
        Some(r) => SafetyLever {
            engaged: r.engaged,
            reason: r.reason,
            changed_by: Some(r.actor),
            since: Some(crate::clock::rfc3339(r.at)),
        },
        None => SafetyLever { engaged: false, reason: String::new(), changed_by: None, since: None },
    }
}

pub async fn state(store: &Store) -> Result<SafetyLever, DrillError> {
    Ok(answer(store.lever().await?))
}

/// Engages (with a reason) or releases the lever; engaging halts every
/// running drill. Answers the lever's new state and the drills halted.
pub async fn set(
    app: &SharedApp,
    engaged: bool,
    reason: &str,
    actor: &str,
) -> Result<(SafetyLever, Vec<i64>), DrillError> {
    let reason = reason.trim();
    if engaged && reason.is_empty() {
        return Err(DrillError::InvalidSetting {
            field: "reason",
            message: "say why the lever is engaged: the people it stops will read it".into(),
        });
    }
    if reason.chars().count() > 500 {
        return Err(DrillError::InvalidSetting { field: "reason", message: "at most 500 characters".into() });
    }
    let row = app.store.set_lever(engaged, reason, actor).await?;
    let mut halted = Vec::new();
    if engaged {
        for d in app.store.running_drills().await? {
            match halt(app, d.id, actor).await {
                Ok(()) => halted.push(d.id),
                // It ended on its own meanwhile: nothing to stop.
                Err(DrillError::NotRunning { .. }) => {}
                Err(e) => tracing::error!(drill = d.id, error = %e, "the safety lever could not halt a drill"),
            }
        }
    }
    let detail = match (engaged, halted.is_empty()) {
        (true, true) => format!("engaged: {reason}"),
        (true, false) => format!(
            "engaged: {reason}; halted drill(s) {}",
            halted.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
        (false, _) => "released".to_owned(),
    };
    let text = if engaged {
        format!("Safety lever engaged by {actor}: {reason}")
    } else {
        format!("Safety lever released by {actor}")
    };
    crate::webhook::emit_later(
        &app.store,
        "safety_lever.changed",
        serde_json::json!({"engaged": engaged, "reason": reason, "changed_by": actor, "halted_drills": halted}),
        text,
    );
    let action = if engaged { "safety_lever.engage" } else { "safety_lever.release" };
    let entry = NewAudit { actor, action, target: "safety-lever", outcome: "ok", detail };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    Ok((answer(Some(row)), halted))
}
