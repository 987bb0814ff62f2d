//! A drill's figures, verdict and pictures, computed from its settings,
//! timeline and probes alone, so a report reads the same live, at the end,
//! and years later.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Expectation, MarkKind, PhaseKind, Settings, Timeline};
use crate::contract::{Drill, DrillBudget, DrillCheck, DrillFigures, DrillMark, DrillPhase, DrillRound, DrillSettings};
use crate::store::ProbeRow;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    pub requests: u64,
    pub ok: u64,
    /// Percent of requests answered 200 by a web server.
    pub availability: f64,
    pub errors: BTreeMap<String, u64>,
    /// Answers per web server Name.
    pub split: BTreeMap<String, u64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseFigures {
    pub name: String,
    pub kind: PhaseKind,
    pub round: Option<usize>,
    pub start: i64,
    pub end: Option<i64>,
    #[serde(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoundFigures {
    pub nodes: Vec<String>,
    /// Fault -> out of service.
    pub mttd_ms: Option<i64>,
    /// Restore -> back in service and serving.
    pub mttr_ms: Option<i64>,
    pub failures: u64,
    pub allowed_failures: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub total: Stats,
    pub phases: Vec<PhaseFigures>,
    pub rounds: Vec<RoundFigures>,
    /// The worst round's.
    pub mttd_ms: Option<i64>,
    pub mttr_ms: Option<i64>,
    /// The lowest availability the failure budget allows, for continuity drills.
    pub floor: Option<f64>,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub fn stats<'a>(servers: &[String; 2], probes: impl Iterator<Item = &'a ProbeRow>) -> Stats {
    let mut s = Stats::default();
    for name in servers {
        s.split.insert(name.clone(), 0);
    }
    let mut latencies = Vec::new();
    for p in probes {
        s.requests += 1;
        match &p.error {
            None => {
                s.ok += 1;
                if let Some(server) = &p.server {
                    *s.split.entry(server.clone()).or_default() += 1;
                }
            }
            Some(kind) => *s.errors.entry(kind.clone()).or_default() += 1,
        }
        // Latency of what got an HTTP answer: a refused connection is not a fast answer.
        if p.status.is_some() {
            latencies.push(p.latency_ms);
        }
    }
    latencies.sort_by(f64::total_cmp);
    s.availability = if s.requests == 0 { 0.0 } else { round2(100.0 * s.ok as f64 / s.requests as f64) };
    s.p50_ms = percentile(&latencies, 50.0).map(round2);
    s.p99_ms = percentile(&latencies, 99.0).map(round2);
    s
}

pub fn figures(settings: &Settings, timeline: &Timeline, probes: &[ProbeRow]) -> Figures {
    let phases: Vec<PhaseFigures> = timeline
        .phases
        .iter()
        .enumerate()
        .map(|(i, ph)| PhaseFigures {
            name: ph.name.clone(),
            kind: ph.kind,
            round: ph.round,
            start: ph.start,
            end: ph.end,
            stats: stats(&settings.servers, probes.iter().filter(|p| p.phase == i as i64)),
        })
        .collect();
    let rounds: Vec<RoundFigures> = settings
        .rounds
        .iter()
        .enumerate()
        .map(|(r, info)| {
            let gap = |a: MarkKind, b: MarkKind| match (timeline.mark(a, r), timeline.mark(b, r)) {
                (Some(x), Some(y)) => Some(y - x),
                _ => None,
            };
            RoundFigures {
                nodes: info.nodes.clone(),
                mttd_ms: gap(MarkKind::Fault, MarkKind::Detected),
                mttr_ms: gap(MarkKind::Restore, MarkKind::Recovered),
                failures: phases.iter().filter(|p| p.round == Some(r)).map(|p| p.stats.requests - p.stats.ok).sum(),
                allowed_failures: settings.budget.allowed_failures,
            }
        })
        .collect();
    let total = stats(&settings.servers, probes.iter());
    let floor = (settings.expect == Expectation::Continuity && total.requests > 0).then(|| {
        let allowed = settings.budget.allowed_failures * rounds.len() as u64;
        round2((100.0 * (1.0 - allowed as f64 / total.requests as f64)).max(0.0))
    });
    Figures {
        mttd_ms: rounds.iter().filter_map(|r| r.mttd_ms).max(),
        mttr_ms: rounds.iter().filter_map(|r| r.mttr_ms).max(),
        total,
        phases,
        rounds,
        floor,
    }
}

/// One line of the verdict: what was checked, and whether it held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub ok: bool,
    pub text: String,
}

fn check(ok: bool, text: String) -> Check {
    Check { ok, text }
}

fn phase_of(f: &Figures, kind: PhaseKind, round: Option<usize>) -> Option<&PhaseFigures> {
    f.phases.iter().find(|p| p.kind == kind && (round.is_none() || p.round == round))
}

/// The verdict against the scenario's expectation: pass when every check holds.
pub fn verdict(settings: &Settings, f: &Figures) -> (bool, Vec<Check>) {
    let mut checks = Vec::new();
    let [left, right] = &settings.servers;
    let verify = |checks: &mut Vec<Check>| match phase_of(f, PhaseKind::Verify, None) {
        Some(v) if v.stats.requests > 0 => {
            let both =
                v.stats.split.get(left).copied().unwrap_or(0) > 0 && v.stats.split.get(right).copied().unwrap_or(0) > 0;
            checks.push(check(
                v.stats.availability >= 100.0 && both,
                format!(
                    "after restore: {}% answered, {left} {} / {right} {}",
                    v.stats.availability,
                    v.stats.split.get(left).unwrap_or(&0),
                    v.stats.split.get(right).unwrap_or(&0)
                ),
            ));
        }
        _ => checks.push(check(false, "the drill did not reach its verification phase".into())),
    };
    let detect_recover = |checks: &mut Vec<Check>, r: usize, rf: &RoundFigures| {
        let nodes = rf.nodes.join(" + ");
        checks.push(match rf.mttd_ms {
            Some(ms) => check(true, format!("round {}: {nodes} out of service {ms} ms after the fault", r + 1)),
            None => check(false, format!("round {}: {nodes} never reported out of service", r + 1)),
        });
        checks.push(match rf.mttr_ms {
            Some(ms) => check(true, format!("round {}: {nodes} back and serving {ms} ms after restore", r + 1)),
            None => check(false, format!("round {}: {nodes} did not come back", r + 1)),
        });
    };
    match settings.expect {
        Expectation::Balanced { tolerance_points } => {
            let t = &f.total;
            checks.push(check(
                t.requests > 0 && t.availability >= 100.0,
                format!("{} of {} requests answered ({}%)", t.ok, t.requests, t.availability),
            ));
            let l = t.split.get(left).copied().unwrap_or(0) as f64;
            let r = t.split.get(right).copied().unwrap_or(0) as f64;
            let left_pct = if l + r > 0.0 { 100.0 * l / (l + r) } else { 0.0 };
            checks.push(check(
                (left_pct - 50.0).abs() <= tolerance_points,
                format!(
                    "split {left} {:.1}% / {right} {:.1}%, within ±{tolerance_points} points of 50/50",
                    left_pct,
                    100.0 - left_pct
                ),
            ));
        }
        Expectation::Continuity => {
            for (r, rf) in f.rounds.iter().enumerate() {
                detect_recover(&mut checks, r, rf);
                checks.push(check(
                    rf.failures <= rf.allowed_failures,
                    format!(
                        "round {}: {} failed request(s), budget {} (one {} ms detection window through the faulty path)",
                        r + 1,
                        rf.failures,
                        rf.allowed_failures,
                        settings.budget.window_ms
                    ),
                ));
                if let Some(hold) = phase_of(f, PhaseKind::Hold, Some(r)) {
                    checks.push(check(
                        hold.stats.requests > 0 && hold.stats.availability >= 100.0,
                        format!("round {}: {}% answered after detection", r + 1, hold.stats.availability),
                    ));
                    if settings.rounds.get(r).is_some_and(|i| i.web) {
                        let stray: u64 = rf.nodes.iter().map(|n| hold.stats.split.get(n).copied().unwrap_or(0)).sum();
                        checks.push(check(
                            stray == 0,
                            format!(
                                "round {}: only the surviving web server answered after detection ({stray} answer(s) from {})",
                                r + 1,
                                rf.nodes.join(", ")
                            ),
                        ));
                    }
                } else {
                    checks.push(check(false, format!("round {}: the fault was not held", r + 1)));
                }
            }
            verify(&mut checks);
        }
        Expectation::Outage => {
            for (r, rf) in f.rounds.iter().enumerate() {
                detect_recover(&mut checks, r, rf);
                match phase_of(f, PhaseKind::Hold, Some(r)) {
                    Some(hold) => checks.push(check(
                        hold.stats.requests > 0 && hold.stats.ok == 0,
                        format!(
                            "round {}: service down while the fault held ({} of {} answered)",
                            r + 1,
                            hold.stats.ok,
                            hold.stats.requests
                        ),
                    )),
                    None => checks.push(check(false, format!("round {}: the fault was not held", r + 1))),
                }
            }
            verify(&mut checks);
        }
    }
    for p in super::policy::results(settings, f) {
        checks.push(check(p.met, format!("policy: {} {} (target {})", p.target, p.actual, p.limit)));
    }
    (checks.iter().all(|c| c.ok), checks)
}

fn figures_of(s: &Stats) -> DrillFigures {
    let answered: u64 = s.split.values().sum();
    let pct = |v: u64| if answered == 0 { 0.0 } else { round2(100.0 * v as f64 / answered as f64) };
    DrillFigures {
        requests: s.requests,
        availability: s.availability,
        errors: s.errors.clone(),
        split: s.split.clone(),
        split_pct: s.split.iter().map(|(k, v)| (k.clone(), pct(*v))).collect(),
        p50_ms: s.p50_ms,
        p99_ms: s.p99_ms,
    }
}

/// The drill as API clients, the CLI and the JSON export see it.
pub fn answer(d: &super::Loaded) -> Drill {
    let (row, settings, f) = (&d.row, &d.settings, &d.figures);
    Drill {
        drill_id: row.id,
        stack: row.stack.clone(),
        scenario: row.scenario.clone(),
        status: d.status,
        verdict: d.verdict,
        // The column's CHECK allows these three only.
        trigger: crate::contract::DrillTrigger::parse(&row.trigger).unwrap_or(crate::contract::DrillTrigger::Api),
        started_by: row.started_by.clone(),
        started_at: row.started_at,
        finished_at: row.finished_at,
        phases: f
            .phases
            .iter()
            .map(|p| DrillPhase {
                name: p.name.clone(),
                kind: p.kind.as_str().to_owned(),
                round: p.round,
                started_at: p.start,
                ended_at: p.end,
                figures: figures_of(&p.stats),
            })
            .collect(),
        total: figures_of(&f.total),
        rounds: f
            .rounds
            .iter()
            .map(|r| DrillRound {
                nodes: r.nodes.clone(),
                mttd_ms: r.mttd_ms,
                mttr_ms: r.mttr_ms,
                failures: r.failures,
                allowed_failures: r.allowed_failures,
            })
            .collect(),
        marks: d
            .timeline
            .marks
            .iter()
            .map(|m| DrillMark { kind: m.kind.as_str().to_owned(), round: m.round, at: m.at })
            .collect(),
        mttd_ms: f.mttd_ms,
        mttr_ms: f.mttr_ms,
        availability_floor: f.floor,
        budget: DrillBudget {
            window_ms: settings.budget.window_ms,
            allowed_failures: settings.budget.allowed_failures,
        },
        settings: DrillSettings {
            rate: settings.rate,
            baseline_ms: settings.baseline_ms,
            hold_ms: settings.hold_ms,
            verify_ms: settings.verify_ms,
            phase_timeout_ms: settings.phase_timeout_ms,
            target_url: settings.target_url.clone(),
        },
        checks: d.checks().into_iter().map(|(ok, text)| DrillCheck { ok, text }).collect(),
        policy: super::policy::results(settings, f),
        comparison: super::policy::compare(d.previous, f),
        note: row.note.clone(),
        restored: d.restored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::{Budget, Mark, PhaseSpan, RoundInfo};

    fn settings(expect: Expectation, rounds: Vec<RoundInfo>) -> Settings {
        Settings {
            rate: 20,
            baseline_ms: 1000,
            hold_ms: 1000,
            verify_ms: 1000,
            phase_timeout_ms: 10_000,
            expect,
            servers: ["ha-web-left".into(), "ha-web-right".into()],
            rounds,
            budget: Budget { window_ms: 2300, allowed_failures: 5 },
            target_url: "http://127.0.0.1:1/".into(),
            policy: None,
            scenario: None,
        }
    }

    fn probe(seq: i64, phase: i64, outcome: &str) -> ProbeRow {
        let (status, server, error) = match outcome {
            "L" => (Some(200), Some("ha-web-left".to_owned()), None),
            "R" => (Some(200), Some("ha-web-right".to_owned()), None),
            "502" => (Some(502), None, Some("http-502".to_owned())),
            _ => (None, None, Some("connect".to_owned())),
        };
        ProbeRow { seq, at: 1000 + seq * 50, phase, status, server, error, latency_ms: (seq % 10) as f64 + 1.0 }
    }

    fn phase(name: &str, kind: PhaseKind, round: Option<usize>) -> PhaseSpan {
        PhaseSpan { name: name.into(), kind, round, start: 1000, end: Some(2000) }
    }

    /// Probes from a compact script: per phase, a string of outcomes.
    fn probes(script: &[&str]) -> Vec<ProbeRow> {
        let mut seq = 0;
        let mut out = Vec::new();
        for (phase, s) in script.iter().enumerate() {
            for o in s.split_whitespace() {
                out.push(probe(seq, phase as i64, o));
                seq += 1;
            }
        }
        out
    }

    fn round_timeline(kinds: &[(PhaseKind, Option<usize>)], rounds: usize) -> Timeline {
        let mut t =
            Timeline { phases: kinds.iter().map(|(k, r)| phase(k.as_str(), *k, *r)).collect(), marks: Vec::new() };
        for r in 0..rounds {
            for (kind, at) in [
                (MarkKind::Fault, 100),
                (MarkKind::Detected, 1300),
                (MarkKind::Restore, 2000),
                (MarkKind::Recovered, 2900),
            ] {
                t.marks.push(Mark { kind, round: r, at: at + 10_000 * r as i64 });
            }
        }
        t
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn stats_count_availability_errors_split_and_ignore_refused_connections_in_latency() {
        let ps = probes(&["L R L 502 x"]);
        let s = stats(&["ha-web-left".into(), "ha-web-right".into()], ps.iter());
        assert_eq!((s.requests, s.ok), (5, 3));
        assert_eq!(s.availability, 60.0);
        assert_eq!(s.split["ha-web-left"], 2);
        assert_eq!(s.split["ha-web-right"], 1);
        assert_eq!(s.errors["http-502"], 1);
        assert_eq!(s.errors["connect"], 1);
        // Four answered probes with latencies 1, 2, 3, 4 ms.
        assert_eq!(s.p50_ms, Some(2.0));
        assert_eq!(s.p99_ms, Some(4.0));
    }

    #[test]
    fn an_even_split_with_every_answer_passes_d1() {
        let st = settings(Expectation::Balanced { tolerance_points: 10.0 }, vec![]);
        let t = round_timeline(&[(PhaseKind::Baseline, None), (PhaseKind::Verify, None)], 0);
        let f = figures(&st, &t, &probes(&["L R L R L R", "L R L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(pass, "{checks:?}");
    }

    #[test]
    fn a_lopsided_split_or_one_error_fails_d1() {
        let st = settings(Expectation::Balanced { tolerance_points: 10.0 }, vec![]);
        let t = round_timeline(&[(PhaseKind::Baseline, None)], 0);
        let (pass, _) = verdict(&st, &figures(&st, &t, &probes(&["L L L R"])));
        assert!(!pass, "75/25 is outside ±10 points");
        let (pass, _) = verdict(&st, &figures(&st, &t, &probes(&["L R L R 502"])));
        assert!(!pass, "an error fails the balance drill");
    }

    fn d2_timeline() -> Timeline {
        round_timeline(
            &[
                (PhaseKind::Baseline, None),
                (PhaseKind::Detect, Some(0)),
                (PhaseKind::Hold, Some(0)),
                (PhaseKind::Recover, Some(0)),
                (PhaseKind::Verify, None),
            ],
            1,
        )
    }

    fn web_round() -> Vec<RoundInfo> {
        vec![RoundInfo { nodes: vec!["ha-web-left".into()], web: true }]
    }

    #[test]
    fn failures_within_the_detection_budget_and_only_the_survivor_after_detection_pass_d2() {
        let st = settings(Expectation::Continuity, web_round());
        let f = figures(&st, &d2_timeline(), &probes(&["L R L R", "502 R 502 R", "R R R R", "R R L", "L R L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(pass, "{checks:?}");
        assert_eq!(f.rounds[0].failures, 2);
        assert_eq!(f.mttd_ms, Some(1200));
        assert_eq!(f.mttr_ms, Some(900));
        assert!(f.floor.is_some_and(|fl| fl < 100.0));
    }

    #[test]
    fn the_faulty_web_server_answering_after_detection_fails_d2() {
        let st = settings(Expectation::Continuity, web_round());
        let f = figures(&st, &d2_timeline(), &probes(&["L R", "R", "R L R", "R", "L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(!pass);
        assert!(checks.iter().any(|c| !c.ok && c.text.contains("only the surviving")), "{checks:?}");
    }

    #[test]
    fn more_failures_than_the_budget_fail_a_continuity_drill() {
        let st = settings(Expectation::Continuity, web_round());
        let f = figures(&st, &d2_timeline(), &probes(&["L R", "502 502 502 502 502 502 R", "R R", "R", "L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(!pass);
        assert!(checks.iter().any(|c| !c.ok && c.text.contains("budget 5")), "{checks:?}");
    }

    #[test]
    fn an_outage_while_held_and_full_recovery_pass_d4_but_any_answer_while_held_fails_it() {
        let st = settings(Expectation::Outage, vec![RoundInfo { nodes: vec!["a".into(), "b".into()], web: false }]);
        let t = d2_timeline();
        let f = figures(&st, &t, &probes(&["L R", "502 R x", "x x x 502", "x L", "L R L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(pass, "{checks:?}");
        let f = figures(&st, &t, &probes(&["L R", "x", "x L x", "L", "L R"]));
        assert!(!verdict(&st, &f).0, "an answer while both WAFs are down is not an outage");
    }

    #[test]
    fn a_drill_that_never_detected_the_fault_fails() {
        let st = settings(Expectation::Continuity, web_round());
        let mut t = d2_timeline();
        t.marks.retain(|m| m.kind != MarkKind::Detected);
        let f = figures(&st, &t, &probes(&["L R", "R", "R", "R", "L R"]));
        let (pass, checks) = verdict(&st, &f);
        assert!(!pass);
        assert!(checks.iter().any(|c| c.text.contains("never reported out of service")));
    }

    #[test]
    fn the_timeline_svg_has_bands_lanes_probes_and_marks() {
        let st = settings(Expectation::Continuity, web_round());
        let svg = crate::web::report::svg(&st, &d2_timeline(), &probes(&["L R", "502"]), 5000);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"band ").count(), 5);
        assert!(svg.contains("p-left") && svg.contains("p-right") && svg.contains("p-error"));
        for m in ["mark-fault", "mark-detected", "mark-restore", "mark-recovered"] {
            assert!(svg.contains(m), "{m}");
        }
        assert!(!svg.contains("style="), "no inline style under the CSP");
    }
}
