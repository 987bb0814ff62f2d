//! A stack's resilience score, 0–100: the latest result of each scenario,
//! weighted by what it proves (losing a WAF node or a whole zone weighs
//! most), and fading with age: a pass counts fully for 30 days, then less
//! each day, and not at all after 90. A scenario never run, or last failed,
//! counts nothing.

use crate::contract::{Resilience, ResiliencePart};
use crate::store::{Store, StoreError};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const FULL_DAYS: i64 = 30;
const GONE_DAYS: i64 = 90;

/// Each scenario's weight: D3 (a WAF node at a time) and D5 (a zone) prove
/// the pattern's point; D4 (the expected outage) proves recovery only.
pub const WEIGHTS: [(&str, u32); 5] = [("D1", 1), ("D2", 2), ("D3", 3), ("D4", 1), ("D5", 3)];

/// How much of its weight a pass `age_ms` old still carries.
pub fn credit(passed: bool, age_ms: i64) -> f64 {
    if !passed {
        return 0.0;
    }
    let days = age_ms.max(0) as f64 / DAY_MS as f64;
    if days <= FULL_DAYS as f64 {
        1.0
    } else if days >= GONE_DAYS as f64 {
        0.0
    } else {
        (GONE_DAYS as f64 - days) / (GONE_DAYS - FULL_DAYS) as f64
    }
}

/// From (scenario, passed, finished_at) of each scenario's latest finished drill.
pub fn compute(latest: &[(String, bool, i64)], now: i64) -> Resilience {
    let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut sum = 0.0;
    let parts = WEIGHTS
        .iter()
        .map(|(scenario, weight)| {
            let last = latest.iter().find(|(s, _, _)| s == scenario);
            let c = last.map_or(0.0, |(_, passed, at)| credit(*passed, now - at));
            sum += c * f64::from(*weight);
            ResiliencePart {
                scenario: (*scenario).to_owned(),
                weight: *weight,
                verdict: last.map(|(_, passed, _)| if *passed { "pass" } else { "fail" }.to_owned()),
                age_days: last.map(|(_, _, at)| (now - at).max(0) / DAY_MS),
                credit: (c * 100.0).round() as u8,
            }
        })
        .collect();
    Resilience { score: (100.0 * sum / f64::from(total)).round() as u8, parts }
}

/// Every stack's score by name, from one query (a stack never drilled: 0).
pub async fn all(store: &Store) -> Result<std::collections::HashMap<String, Resilience>, StoreError> {
    let rows = store.all_latest_results().await?;
    let now = crate::store::now_ms();
    let mut by_stack: std::collections::HashMap<String, Vec<(String, bool, i64)>> = Default::default();
    for (stack, scenario, passed, at) in rows {
        by_stack.entry(stack).or_default().push((scenario, passed, at));
    }
    Ok(by_stack.into_iter().map(|(stack, latest)| (stack, compute(&latest, now))).collect())
}

/// A stack's score from `all`'s answer.
pub fn from_all(all: &std::collections::HashMap<String, Resilience>, stack: &str) -> Resilience {
    all.get(stack).cloned().unwrap_or_else(|| compute(&[], 0))
}

pub async fn of(store: &Store, stack_id: i64) -> Result<Resilience, StoreError> {
    Ok(compute(&store.latest_results(stack_id).await?, crate::store::now_ms()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_passes_of_everything_score_100_and_nothing_scores_0() {
        let now = 100 * DAY_MS;
        let all: Vec<_> = WEIGHTS.iter().map(|(s, _)| ((*s).to_owned(), true, now - DAY_MS)).collect();
        assert_eq!(compute(&all, now).score, 100);
        assert_eq!(compute(&[], now).score, 0);
    }

    #[test]
    fn d3_and_d5_weigh_most_and_failures_count_nothing() {
        let now = 100 * DAY_MS;
        let d3 = compute(&[("D3".into(), true, now)], now).score;
        let d1 = compute(&[("D1".into(), true, now)], now).score;
        assert_eq!((d3, d1), (30, 10));
        assert_eq!(compute(&[("D3".into(), false, now)], now).score, 0);
    }

    #[test]
    fn passes_fade_after_30_days_and_are_gone_after_90() {
        assert_eq!(credit(true, 29 * DAY_MS), 1.0);
        assert!((credit(true, 60 * DAY_MS) - 0.5).abs() < 1e-9);
        assert_eq!(credit(true, 91 * DAY_MS), 0.0);
    }
}
