//! Drill schedules: a scenario, a five-field cron (UTC), blackout windows and
//! a suspended flag, per stack. A background loop starts each due slot's
//! drill like an operator would (steady state, drift, one drill at a time,
//! the safety lever), and records a slot it cannot run as skipped, with the
//! reason. Slots missed while the server was down are not run late.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, Timelike, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

use super::runner::{DrillError, DrillRequest, start};
use super::scenario::Scenario;
use crate::SharedApp;
use crate::contract::{Blackout, DrillTrigger, Schedule, SchedulePatch, ScheduleRequest, ScheduleRun};
use crate::stack::{self, FieldError, StackError};
use crate::store::{NewAudit, ScheduleRow, Store, StoreError, now_ms};

/// How often the loop looks for due slots.
pub const TICK: Duration = Duration::from_secs(5);
/// A slot found later than this after its time was missed (the server was
/// down, or busy): it is recorded as skipped, not run late.
pub const GRACE_MS: i64 = 2 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("there is no schedule {0}")]
    NotFound(i64),
    #[error("the stored schedule {id} cannot be read: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A parsed five-field cron expression.
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
    let fields = text.split_whitespace().count();
    if !text.trim_start().starts_with('@') && fields != 5 {
        return Err(format!(
            "a cron expression has five fields (minute hour day-of-month month day-of-week, UTC), this one has {fields}"
        ));
    }
    let cron = parser.parse(text.trim()).map_err(|e| format!("not a cron expression: {e}"))?;
    if cron.find_next_occurrence(&at(now_ms()), false).is_err() {
        return Err(format!("`{}` never matches a date (such as 30 February)", text.trim()));
    }
    Ok(cron)
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Minutes since midnight; `24:00` is the end of the day (a window's `to`).
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    ((h < 24 && m < 60) || (h == 24 && m == 0)).then_some(h * 60 + m)
}

fn validate_blackouts(list: &[Blackout], errors: &mut Vec<FieldError>) {
    for (i, b) in list.iter().enumerate() {
        for d in &b.days {
            if !DAYS.contains(&d.to_ascii_lowercase().as_str()) {
                errors.push(FieldError::new(
                    format!("blackouts[{i}].days"),
                    format!("`{d}` is not a day: use mon, tue, wed, thu, fri, sat or sun"),
                ));
            }
        }
        for (field, v) in [("from", &b.from), ("to", &b.to)] {
            if minutes(v).is_none() || (field == "from" && v == "24:00") {
                errors.push(FieldError::new(
                    format!("blackouts[{i}].{field}"),
                    format!("`{v}` is not HH:MM (UTC; 24:00 only as the end)"),
                ));
            }
        }
        if minutes(&b.from).is_some() && b.from == b.to {
            errors.push(FieldError::new(format!("blackouts[{i}].to"), "the window is empty: from and to are equal"));
        }
    }
    if list.len() > 20 {
        errors.push(FieldError::new("blackouts", "at most 20 windows"));
    }
}

/// Whether `at` falls in one of the windows.
pub fn blacked_out(list: &[Blackout], at: DateTime<Utc>) -> Option<&Blackout> {
    let minute = at.hour() * 60 + at.minute();
    let today = DAYS[at.weekday().num_days_from_monday() as usize];
    let yesterday = DAYS[(at.weekday().num_days_from_monday() as usize + 6) % 7];
    list.iter().find(|b| {
        let (Some(from), Some(to)) = (minutes(&b.from), minutes(&b.to)) else { return false };
        let on = |day: &str| b.days.is_empty() || b.days.iter().any(|d| d.eq_ignore_ascii_case(day));
        if from < to {
            on(today) && (from..to).contains(&minute)
        } else {
            // Spans midnight: the evening part belongs to its own day, the
            // morning part to the day before.
            (on(today) && minute >= from) || (on(yesterday) && minute < to)
        }
    })
}

/// The scenario as stored (built-ins upper-case, custom drills as named),
/// or why it cannot be scheduled on the stack.
async fn scheduled_scenario(
    store: &Store,
    s: &stack::Stack,
    text: &str,
) -> Result<Result<String, FieldError>, StoreError> {
    let text = text.trim();
    let unschedulable = |id: &str| {
        FieldError::new(
            "scenario",
            format!("{id} stops the site and needs a person to confirm it: it cannot be scheduled"),
        )
    };
    if let Some(sc) = Scenario::builtin(text) {
        return Ok(if sc.needs_confirmation(stack::Provider::Lab) { Err(unschedulable(&sc.id)) } else { Ok(sc.id) });
    }
    Ok(match super::custom::find(store, s.row.id, &s.definition, text).await {
        Ok(Some((sc, _))) if sc.needs_confirmation(s.definition.provider()) => Err(unschedulable(&sc.id)),
        Ok(Some((sc, _))) => Ok(sc.id),
        Ok(None) => {
            let custom: Vec<String> = store.drill_definitions(s.row.id).await?.into_iter().map(|r| r.0).collect();
            let also =
                if custom.is_empty() { String::new() } else { format!(", or a custom drill: {}", custom.join(", ")) };
            Err(FieldError::new("scenario", format!("unknown scenario `{text}`: use D1, D2, D3 or D5{also}")))
        }
        Err(super::custom::CustomError::Store(e)) => return Err(e),
        Err(e) => Err(FieldError::new("scenario", format!("the custom drill {text} cannot be used: {e}"))),
    })
}

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The next `n` slots after `after_ms` that are outside every blackout.
pub fn next_runs(cron: &Cron, blackouts: &[Blackout], after_ms: i64, n: usize) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut from = at(after_ms);
    // Bounded by a horizon (a yearly cron still shows its next run) and a
    // step count large enough that every minute through a weekend
    // blackout still reaches Monday.
    let horizon = at(after_ms + 400 * 24 * 60 * 60 * 1000);
    for _ in 0..50_000 {
        let Ok(next) = cron.find_next_occurrence(&from, false) else { break };
        if next > horizon {
            break;
        }
        if blacked_out(blackouts, next).is_none() {
            out.push(next);
            if out.len() == n {
                break;
            }
        }
        from = next;
    }
    out
}

fn blackouts_of(row: &ScheduleRow) -> Result<Vec<Blackout>, ScheduleError> {
    serde_json::from_str(&row.blackouts).map_err(|e| ScheduleError::Corrupt { id: row.id, reason: e.to_string() })
}

/// The API's view of a schedule, with its next runs and latest slots.
pub async fn answer(store: &Store, row: ScheduleRow) -> Result<Schedule, ScheduleError> {
    let blackouts = blackouts_of(&row)?;
    let cron = parse_cron(&row.cron).map_err(|reason| ScheduleError::Corrupt { id: row.id, reason })?;
    let next = if row.suspended { Vec::new() } else { next_runs(&cron, &blackouts, now_ms(), 3) };
    let recent = store
        .schedule_runs(row.id, 5)
        .await?
        .into_iter()
        .map(|r| ScheduleRun {
            at: crate::clock::rfc3339(r.at),
            outcome: r.outcome,
            drill_id: r.drill_id,
            reason: r.reason,
        })
        .collect();
    Ok(Schedule {
        id: row.id,
        stack: row.stack,
        scenario: row.scenario,
        description: cron.describe(),
        cron: row.cron,
        blackouts,
        suspended: row.suspended,
        next_runs: next.iter().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).collect(),
        recent,
        created_by: row.created_by,
        created_at: crate::clock::rfc3339(row.created_at),
    })
}

pub async fn list(store: &Store, stack_name: &str) -> Result<Vec<Schedule>, ScheduleError> {
    let s = stack::load(store, stack_name).await?;
    let mut out = Vec::new();
    for row in store.schedules_of(s.row.id).await? {
        out.push(answer(store, row).await?);
    }
    Ok(out)
}

async fn audit(store: &Store, actor: &str, action: &str, target: &str, detail: String) {
    let entry = NewAudit { actor, action, target, outcome: "ok", detail };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
}

/// Validates and saves a new schedule; nothing is stored when any field is wrong.
pub async fn create(
    store: &Store,
    stack_name: &str,
    req: ScheduleRequest,
    actor: &str,
) -> Result<Schedule, ScheduleError> {
    let s = stack::load(store, stack_name).await?;
    let mut errors = Vec::new();
    let scenario = scheduled_scenario(store, &s, &req.scenario).await?.map_err(|e| errors.push(e)).unwrap_or_default();
    if let Err(e) = parse_cron(&req.cron) {
        errors.push(FieldError::new("cron", e));
    }
    validate_blackouts(&req.blackouts, &mut errors);
    if !errors.is_empty() {
        return Err(ScheduleError::Invalid(errors));
    }
    let blackouts = serde_json::to_string(&req.blackouts).unwrap_or_else(|_| "[]".into());
    let id = store.create_schedule(s.row.id, &scenario, req.cron.trim(), &blackouts, req.suspended, actor).await?;
    audit(store, actor, "schedule.create", stack_name, format!("schedule {id}: {scenario} at `{}`", req.cron.trim()))
        .await;
    let row = store.schedule(id).await?.ok_or(ScheduleError::NotFound(id))?;
    answer(store, row).await
}

pub async fn update(store: &Store, id: i64, patch: SchedulePatch, actor: &str) -> Result<Schedule, ScheduleError> {
    let row = store.schedule(id).await?.ok_or(ScheduleError::NotFound(id))?;
    let mut errors = Vec::new();
    let cron = patch.cron.as_deref().map(str::trim).unwrap_or(&row.cron).to_owned();
    if let Err(e) = parse_cron(&cron) {
        errors.push(FieldError::new("cron", e));
    }
    let blackouts = match patch.blackouts {
        Some(b) => b,
        None => blackouts_of(&row)?,
    };
    validate_blackouts(&blackouts, &mut errors);
    if !errors.is_empty() {
        return Err(ScheduleError::Invalid(errors));
    }
    let suspended = patch.suspended.unwrap_or(row.suspended);
    let text = serde_json::to_string(&blackouts).unwrap_or_else(|_| "[]".into());
    if !store.update_schedule(id, &cron, &text, suspended).await? {
        return Err(ScheduleError::NotFound(id));
    }
    let what = match (patch.suspended, row.suspended) {
        (Some(true), false) => "suspended".to_owned(),
        (Some(false), true) => "resumed".to_owned(),
        _ => format!("`{cron}`"),
    };
    audit(store, actor, "schedule.update", &row.stack, format!("schedule {id}: {what}")).await;
    let row = store.schedule(id).await?.ok_or(ScheduleError::NotFound(id))?;
    answer(store, row).await
}

pub async fn delete(store: &Store, id: i64, actor: &str) -> Result<(), ScheduleError> {
    let row = store.schedule(id).await?.ok_or(ScheduleError::NotFound(id))?;
    if !store.delete_schedule(id).await? {
        return Err(ScheduleError::NotFound(id));
    }
    audit(store, actor, "schedule.delete", &row.stack, format!("schedule {id} ({})", row.scenario)).await;
    Ok(())
}

/// What one slot of one schedule does at `now`.
async fn run_slot(app: &SharedApp, row: &ScheduleRow, now: i64) -> Result<(), ScheduleError> {
    if row.suspended {
        return Ok(());
    }
    let Ok(cron) = parse_cron(&row.cron) else { return Ok(()) };
    let Ok(slot) = cron.find_next_occurrence(&at(row.handled_until), false) else { return Ok(()) };
    let slot_ms = slot.timestamp_millis();
    if slot_ms > now {
        return Ok(());
    }
    let store = &app.store;
    if now - slot_ms > GRACE_MS {
        // Missed (the server was not running): not run late. One line for
        // however many slots, then count from now.
        let reason = format!("missed: hawaf was not running at {} UTC; not run late", crate::clock::format_ms(slot_ms));
        store.record_schedule_run(row.id, slot_ms, "skipped", None, &reason).await?;
        store.skip_schedule_to(row.id, now).await?;
        return Ok(());
    }
    let blackouts = blackouts_of(row)?;
    if let Some(b) = blacked_out(&blackouts, slot) {
        let days = if b.days.is_empty() { "every day".to_owned() } else { b.days.join(",") };
        let reason = format!("blackout {days} {}-{} UTC", b.from, b.to);
        store.record_schedule_run(row.id, slot_ms, "skipped", None, &reason).await?;
        return Ok(());
    }
    // Two replicas reaching the same slot: the second start finds the drill
    // running, and the second record finds the slot handled.
    let req = DrillRequest { scenario: row.scenario.clone(), ..Default::default() };
    let actor = format!("schedule {}", row.id);
    match start(app, &row.stack, req, &actor, DrillTrigger::Schedule).await {
        Ok(id) => {
            if !store.record_schedule_run(row.id, slot_ms, "started", Some(id), "").await? {
                // Edited or suspended while the drill started: it runs, unrecorded here.
                tracing::warn!(
                    schedule = row.id,
                    drill = id,
                    "a scheduled drill started, but its slot was moved meanwhile"
                );
            }
        }
        Err(e) => {
            let reason = match &e {
                DrillError::AlreadyRunning { .. }
                | DrillError::Unhealthy { .. }
                | DrillError::HaCluster(_)
                | DrillError::Drifted { .. }
                | DrillError::LeverEngaged { .. }
                | DrillError::BuildRunning(_)
                | DrillError::MigrationRunning(_)
                | DrillError::NotBuilt(_) => e.to_string(),
                other => format!("could not start: {other}"),
            };
            store.record_schedule_run(row.id, slot_ms, "skipped", None, &reason).await?;
        }
    }
    Ok(())
}

/// Handles every schedule's due slot as of `now` (ms): what the loop does
/// each tick, callable with another clock in tests.
pub async fn tick(app: &SharedApp, now: i64) -> Result<(), ScheduleError> {
    for row in app.store.all_schedules().await? {
        if let Err(e) = run_slot(app, &row, now).await {
            tracing::warn!(schedule = row.id, error = %e, "a scheduled slot failed");
        }
    }
    Ok(())
}

/// Looks for due slots every `TICK`, for as long as the server runs.
pub async fn run(app: SharedApp) {
    let mut every = tokio::time::interval(TICK);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = tick(&app, now_ms()).await {
            tracing::warn!(error = %e, "the scheduler cannot read its schedules");
        }
    }
}

impl FromStr for Blackout {
    type Err = String;

    /// `sat,sun 00:00-06:00`, or `22:00-02:00` for every day: the CLI's form.
    fn from_str(s: &str) -> Result<Self, String> {
        let (days, window) = match s.trim().rsplit_once(' ') {
            Some((d, w)) => (d.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect(), w),
            None => (Vec::new(), s.trim()),
        };
        let (from, to) =
            window.split_once('-').ok_or_else(|| format!("`{s}` is not a window such as `sat,sun 00:00-06:00`"))?;
        Ok(Blackout { days, from: from.to_owned(), to: to.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_fields_only() {
        assert!(parse_cron("*/5 * * * *").is_ok());
        assert!(parse_cron("0 3 * * mon-fri").is_ok());
        assert!(parse_cron("@hourly").is_ok());
        let six = parse_cron("0 */5 * * * *").unwrap_err();
        assert!(six.contains("five fields"), "{six}");
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("nonsense").is_err());
        assert!(parse_cron("0 0 30 2 *").unwrap_err().contains("never matches"));
    }

    #[test]
    fn blackouts_cover_their_days_and_span_midnight() {
        let weekend: Blackout = "sat,sun 00:00-24:00".parse().unwrap();
        let night: Blackout = "fri 22:00-02:00".parse().unwrap();
        let list = [weekend, night];
        assert!(blacked_out(&list, utc("2026-12-05T10:00:00Z")).is_some(), "a Saturday");
        assert!(blacked_out(&list, utc("2026-12-05T23:59:30Z")).is_some(), "to its last minute");
        assert!(blacked_out(&list, utc("2026-12-04T23:30:00Z")).is_some(), "Friday night");
        assert!(blacked_out(&list, utc("2026-12-05T01:30:00Z")).is_some(), "after midnight, still Friday's window");
        assert!(blacked_out(&list, utc("2026-12-03T23:30:00Z")).is_none(), "a Thursday night");
        assert!(blacked_out(&list, utc("2026-12-04T21:59:00Z")).is_none());
    }

    #[test]
    fn next_runs_skip_blacked_out_slots() {
        let cron = parse_cron("0 12 * * *").unwrap();
        let weekend: Blackout = "sat,sun 00:00-24:00".parse().unwrap();
        let after = utc("2026-12-04T13:00:00Z").timestamp_millis(); // a Friday, after noon
        let next = next_runs(&cron, &[weekend], after, 2);
        let days: Vec<String> = next.iter().map(|t| t.format("%a %H:%M").to_string()).collect();
        assert_eq!(days, ["Mon 12:00", "Tue 12:00"]);
    }

    #[test]
    fn bad_blackouts_are_named_by_field() {
        let mut errors = Vec::new();
        validate_blackouts(
            &[Blackout { days: vec!["someday".into()], from: "25:00".into(), to: "10:00".into() }],
            &mut errors,
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["blackouts[0].days", "blackouts[0].from"]);
    }
}
