//! A stack's resilience policy: the targets its drills are judged against
//! (an availability floor per phase, MTTD, MTTR, p99), kept with each drill
//! as it ran, and each drill compared with the previous run of its scenario.

use super::report::Figures;
use super::{PhaseKind, Settings};
use crate::contract::{Comparison, Policy, PolicyResult};
use crate::stack::{self, FieldError, StackError};
use crate::store::{DrillRow, NewAudit, Store, StoreError};

/// Growth beyond which a rerun is a regression.
const REGRESSION: f64 = 1.2;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn get(store: &Store, stack_name: &str) -> Result<Policy, PolicyError> {
    let s = stack::load(store, stack_name).await?;
    Ok(of(store, s.row.id).await?.unwrap_or_default())
}

/// The stack's policy, if it has one that reads.
pub async fn of(store: &Store, stack_id: i64) -> Result<Option<Policy>, StoreError> {
    Ok(store.policy(stack_id).await?.and_then(|text| serde_json::from_str(&text).ok()))
}

pub async fn set(store: &Store, stack_name: &str, p: Policy, actor: &str) -> Result<Policy, PolicyError> {
    let s = stack::load(store, stack_name).await?;
    let mut errors = Vec::new();
    if let Some(f) = p.availability_floor
        && !(50.0..=100.0).contains(&f)
    {
        // Below half, the floor would let the stop condition never fire.
        errors.push(FieldError::new("availability_floor", "a percentage, 50 to 100"));
    }
    for (field, v) in [("max_mttd_ms", p.max_mttd_ms), ("max_mttr_ms", p.max_mttr_ms)] {
        if v.is_some_and(|v| !(1..=3_600_000).contains(&v)) {
            errors.push(FieldError::new(field, "1 to 3600000 ms"));
        }
    }
    if p.max_p99_ms.is_some_and(|v| !(v > 0.0 && v <= 600_000.0)) {
        errors.push(FieldError::new("max_p99_ms", "above 0 and at most 600000 ms"));
    }
    if !errors.is_empty() {
        return Err(PolicyError::Invalid(errors));
    }
    let text = serde_json::to_string(&p).unwrap_or_else(|_| "{}".into());
    store.set_policy(s.row.id, &text, actor).await?;
    store.audit(NewAudit { actor, action: "stack.policy", target: stack_name, outcome: "ok", detail: text }).await?;
    Ok(p)
}

/// Every target of the policy the drill ran under, met or not. Continuity
/// drills only: an expected outage (D4) has no floor to keep.
pub fn results(settings: &Settings, f: &Figures) -> Vec<PolicyResult> {
    let Some(p) = &settings.policy else { return Vec::new() };
    let mut out = Vec::new();
    let ms = |v: Option<i64>| v.map_or("not measured".to_owned(), |v| format!("{v} ms"));
    if let Some(floor) = p.availability_floor
        && settings.expect != super::Expectation::Outage
    {
        for ph in f.phases.iter().filter(|ph| ph.kind != PhaseKind::Detect && ph.stats.requests > 0) {
            out.push(PolicyResult {
                target: format!("availability in {}", ph.name),
                limit: format!("≥ {floor}%"),
                actual: format!("{}%", ph.stats.availability),
                met: ph.stats.availability >= floor,
            });
        }
    }
    for (target, limit, actual) in [("MTTD", p.max_mttd_ms, f.mttd_ms), ("MTTR", p.max_mttr_ms, f.mttr_ms)] {
        if let Some(limit) = limit {
            out.push(PolicyResult {
                target: target.to_owned(),
                limit: format!("≤ {limit} ms"),
                actual: ms(actual),
                met: actual.is_some_and(|a| a <= limit),
            });
        }
    }
    if let Some(limit) = p.max_p99_ms {
        out.push(PolicyResult {
            target: "p99 latency".into(),
            limit: format!("≤ {limit} ms"),
            actual: f.total.p99_ms.map_or("not measured".into(), |v| format!("{v:.1} ms")),
            met: f.total.p99_ms.is_some_and(|v| v <= limit),
        });
    }
    out
}

/// The failures a policy's floor adds to the detection budget while a fault
/// is being detected: without a floor, none.
pub fn floor_slack(settings: &Settings, requests_since_fault: u64) -> u64 {
    match settings.policy.as_ref().and_then(|p| p.availability_floor) {
        Some(floor) => ((100.0 - floor) / 100.0 * requests_since_fault as f64).floor() as u64,
        None => 0,
    }
}

/// The previous finished run of the same scenario on the same stack.
pub async fn previous(store: &Store, row: &DrillRow) -> Result<Option<(i64, Option<i64>, u64)>, StoreError> {
    let Some(prev) = store.previous_drill(row.stack_id, &row.scenario, row.id).await? else { return Ok(None) };
    let (Ok(settings), Ok(timeline)) =
        (serde_json::from_str::<Settings>(&prev.settings), serde_json::from_str::<super::Timeline>(&prev.timeline))
    else {
        return Ok(None);
    };
    let probes = store.drill_probes(prev.id).await?;
    let f = super::report::figures(&settings, &timeline, &probes);
    Ok(Some((prev.id, f.mttr_ms, f.total.requests - f.total.ok)))
}

pub fn compare(previous: Option<(i64, Option<i64>, u64)>, f: &Figures) -> Option<Comparison> {
    let (id, prev_mttr, prev_failed) = previous?;
    let failed = f.total.requests - f.total.ok;
    let grew = |before: f64, now: f64| now > before * REGRESSION && now > before;
    let mttr_grew = matches!((prev_mttr, f.mttr_ms), (Some(b), Some(n)) if grew(b as f64, n as f64));
    // From none at all, any failure is growth.
    let failed_grew = if prev_failed == 0 { failed > 0 } else { grew(prev_failed as f64, failed as f64) };
    Some(Comparison {
        previous_drill_id: id,
        previous_mttr_ms: prev_mttr,
        mttr_ms: f.mttr_ms,
        previous_failed: prev_failed,
        failed,
        regression: mttr_grew || failed_grew,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::report::Stats;

    fn figures(mttr: Option<i64>, requests: u64, ok: u64) -> Figures {
        Figures {
            total: Stats { requests, ok, ..Stats::default() },
            phases: Vec::new(),
            rounds: Vec::new(),
            mttd_ms: None,
            mttr_ms: mttr,
            floor: None,
        }
    }

    #[test]
    fn a_rerun_regresses_when_mttr_or_failures_grow_by_more_than_a_fifth() {
        let prev = Some((7, Some(1000), 10));
        assert!(!compare(prev, &figures(Some(1150), 100, 90)).unwrap().regression, "15% slower is noise");
        assert!(compare(prev, &figures(Some(1250), 100, 90)).unwrap().regression, "25% slower");
        assert!(compare(prev, &figures(Some(1000), 100, 87)).unwrap().regression, "13 failures against 10");
        assert!(compare(Some((7, Some(1000), 0)), &figures(Some(900), 100, 99)).unwrap().regression, "from none");
        assert!(compare(None, &figures(None, 1, 1)).is_none());
    }
}
