//! Failover drills: the seed's four checks, run with one click, measured by
//! a prober that requests the external LB for the whole run, and always
//! restored — on success, failure, halt, timeout, and after a crash (pending
//! restores are persisted before every fault and carried out at start-up).

pub mod prober;
pub mod report;
pub mod restore;
pub mod runner;
pub mod scenario;

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::contract::{DrillStatus, Verdict};

pub mod custom;
pub mod lever;
pub mod policy;
mod preflight;
pub mod schedule;
pub mod score;
pub use runner::{DrillError, DrillRequest, halt, start};
pub use scenario::{Expectation, Scenario};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    Baseline,
    /// From the fault until the LB reports the node(s) out of service.
    Detect,
    Hold,
    /// From the restore until the node(s) are back and serving.
    Recover,
    Verify,
}

impl PhaseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseKind::Baseline => "baseline",
            PhaseKind::Detect => "detect",
            PhaseKind::Hold => "hold",
            PhaseKind::Recover => "recover",
            PhaseKind::Verify => "verify",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseSpan {
    pub name: String,
    pub kind: PhaseKind,
    /// Which round of faults this phase belongs to.
    pub round: Option<usize>,
    pub start: i64,
    pub end: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarkKind {
    Fault,
    Detected,
    Restore,
    Recovered,
}

impl MarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MarkKind::Fault => "fault",
            MarkKind::Detected => "detected",
            MarkKind::Restore => "restore",
            MarkKind::Recovered => "recovered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub kind: MarkKind,
    pub round: usize,
    pub at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub phases: Vec<PhaseSpan>,
    pub marks: Vec<Mark>,
}

impl Timeline {
    pub fn mark(&self, kind: MarkKind, round: usize) -> Option<i64> {
        self.marks.iter().find(|m| m.kind == kind && m.round == round).map(|m| m.at)
    }
}

/// How many failed requests a fault may cost before the ELB notices it:
/// the failing requests of one detection window through the faulty path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub window_ms: u64,
    pub allowed_failures: u64,
}

impl Budget {
    /// `interval_ms`/`timeout_ms` are the health check as the LB really runs
    /// it (the lab divides AWS times by its speedup). A failing node is
    /// noticed after `unhealthy_threshold` failed checks, and the fault can
    /// land anywhere in a check interval, so one more interval and a
    /// timeout bound the window. Round-robin sends `share` of the traffic
    /// through the faulty path.
    pub fn for_check(rate: u32, interval_ms: u64, timeout_ms: u64, unhealthy_threshold: u32, share: f64) -> Budget {
        let window_ms = interval_ms * (u64::from(unhealthy_threshold) + 1) + timeout_ms;
        let failing = f64::from(rate) * (window_ms as f64 / 1000.0) * share;
        Budget { window_ms, allowed_failures: failing.ceil() as u64 }
    }
}

/// One round as the report needs it (names, not roles: the definition may
/// change after the drill).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundInfo {
    pub nodes: Vec<String>,
    /// Web servers are recognised in the answers; WAF nodes are not.
    pub web: bool,
}

/// Everything a drill's report depends on besides its probes, fixed at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub rate: u32,
    pub baseline_ms: u64,
    pub hold_ms: u64,
    pub verify_ms: u64,
    pub phase_timeout_ms: u64,
    pub expect: Expectation,
    /// The two web servers' Names, left then right: what answers say.
    pub servers: [String; 2],
    pub rounds: Vec<RoundInfo>,
    pub budget: Budget,
    pub target_url: String,
    /// The stack's resilience policy when the drill started.
    #[serde(default)]
    pub policy: Option<crate::contract::Policy>,
    /// The scenario as it ran (steps, targets, expectation), kept with the
    /// report: a later change of scenarios does not rewrite history.
    #[serde(default)]
    pub scenario: Option<Scenario>,
}

/// Running drills, so Halt reaches them.
#[derive(Default)]
pub struct Registry {
    halts: Mutex<HashMap<i64, watch::Sender<bool>>>,
}

impl Registry {
    fn register(&self, id: i64) -> watch::Receiver<bool> {
        let (tx, rx) = watch::channel(false);
        self.lock().insert(id, tx);
        rx
    }

    fn unregister(&self, id: i64) {
        self.lock().remove(&id);
    }

    /// True when the drill runs here and has been told to stop.
    fn halt(&self, id: i64) -> bool {
        self.lock().get(&id).map(|tx| tx.send(true).is_ok()).unwrap_or(false)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, watch::Sender<bool>>> {
        // A poisoned map still holds valid senders: a panic cannot leave one half-written.
        self.halts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A drill as stored, with its figures computed: what every view of it
/// (API, page, exports) is made from.
pub struct Loaded {
    pub row: crate::store::DrillRow,
    /// The row's status and verdict, checked when loaded.
    pub status: DrillStatus,
    pub verdict: Option<Verdict>,
    pub settings: Settings,
    pub timeline: Timeline,
    pub probes: Vec<crate::store::ProbeRow>,
    pub figures: report::Figures,
    /// No restore of this drill is pending.
    pub restored: bool,
    /// The previous finished run of the same scenario: (id, MTTR, failed requests).
    pub previous: Option<(i64, Option<i64>, u64)>,
}

pub async fn load(store: &crate::store::Store, id: i64) -> Result<Loaded, DrillError> {
    let row = store.drill(id).await?.ok_or(DrillError::NoSuchDrill(id))?;
    let corrupt = |e: serde_json::Error| DrillError::Corrupt { id, reason: e.to_string() };
    let unknown = |what: &str, v: &str| DrillError::Corrupt { id, reason: format!("unknown {what} {v:?}") };
    let status = DrillStatus::parse(&row.status).ok_or_else(|| unknown("status", &row.status))?;
    let verdict = match row.verdict.as_deref() {
        Some(v) => Some(Verdict::parse(v).ok_or_else(|| unknown("verdict", v))?),
        None => None,
    };
    let settings: Settings = serde_json::from_str(&row.settings).map_err(corrupt)?;
    let timeline: Timeline = serde_json::from_str(&row.timeline).map_err(corrupt)?;
    let probes = store.drill_probes(id).await?;
    let restored = store.pending_restores(Some(id)).await?.is_empty();
    let figures = report::figures(&settings, &timeline, &probes);
    let previous = policy::previous(store, &row).await?;
    Ok(Loaded { row, status, verdict, settings, timeline, probes, figures, restored, previous })
}

impl Loaded {
    pub fn answer(&self) -> crate::contract::Drill {
        report::answer(self)
    }

    /// The verdict's lines as stored: (held, text).
    pub fn checks(&self) -> Vec<(bool, String)> {
        serde_json::from_str(&self.row.reasons).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_budget_is_one_detection_window_through_the_faulty_half() {
        // The seed's check on the lab at speedup 10: 600 ms interval, 500 ms timeout, threshold 2.
        let b = Budget::for_check(20, 600, 500, 2, 0.5);
        assert_eq!(b.window_ms, 2300);
        assert_eq!(b.allowed_failures, 23);
        // AWS timing: 6 s interval, 5 s timeout.
        assert_eq!(Budget::for_check(20, 6000, 5000, 2, 0.5).allowed_failures, 230);
    }
}
