//! `hawaf drill …`: run, follow, list, show and halt failover drills.

use std::time::Duration;

use serde_json::Value;

use super::client::{Client, NO_BODY};
use super::{DrillArgs, DrillCommand, Failure, LeverArgs, LeverCommand, ScheduleArgs, ScheduleCommand};
use crate::contract::{
    Blackout, Drill, DrillAccepted, DrillDefinition, DrillDefinitionRequest, DrillRequest, DrillStatus, DrillSummary,
    SafetyLever, SafetyLeverChanged, SafetyLeverRequest, Schedule, SchedulePatch, ScheduleRequest, Verdict,
};

pub(super) async fn drill(args: DrillArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    match args.command {
        DrillCommand::Run {
            name,
            scenario,
            yes,
            rate,
            baseline_ms,
            hold_ms,
            verify_ms,
            phase_timeout_ms,
            allow_drift,
        } => {
            let body = DrillRequest {
                scenario: scenario.clone(),
                confirm: yes.then(|| name.clone()),
                rate,
                baseline_ms,
                hold_ms,
                verify_ms,
                phase_timeout_ms,
                allow_drift,
            };
            let started: DrillAccepted = client
                .typed(reqwest::Method::POST, &format!("/stacks/{name}/drills"), Some(&body))
                .await
                .map_err(|f| {
                    if f.message.contains("confirm") && !yes {
                        Failure { message: format!("{} (pass --yes)", f.message), ..f }
                    } else {
                        f
                    }
                })?;
            let id = started.drill_id;
            if !json_out {
                out!("drill {id} started: {scenario} on {name}");
            }
            // Phases and marks, in time order, each printed once.
            let mut printed = 0;
            let (raw, drill) = loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let (raw, d): (_, Drill) = client.both(reqwest::Method::GET, &format!("/drills/{id}"), NO_BODY).await?;
                if !json_out {
                    let mut lines: Vec<(i64, String)> = d
                        .phases
                        .iter()
                        .map(|p| (p.started_at, format!("  phase {}", p.name)))
                        .chain(d.marks.iter().map(|m| (m.at, format!("    {} (round {})", m.kind, m.round + 1))))
                        .collect();
                    lines.sort_by_key(|(at, _)| *at);
                    for (_, line) in lines.iter().skip(printed) {
                        out!("{line}");
                    }
                    printed = printed.max(lines.len());
                }
                if d.status != DrillStatus::Running {
                    break (raw, d);
                }
            };
            print_drill(&raw, &drill, json_out);
            if drill.verdict == Some(Verdict::Pass) {
                Ok(())
            } else {
                Err(Failure::failed(format!(
                    "drill {id} {}: verdict {}",
                    drill.status,
                    drill.verdict.map_or("none", |v| v.as_str())
                )))
            }
        }
        DrillCommand::Show { id } => {
            let (raw, d): (_, Drill) = client.both(reqwest::Method::GET, &format!("/drills/{id}"), NO_BODY).await?;
            print_drill(&raw, &d, json_out);
            Ok(())
        }
        DrillCommand::Halt { id } => {
            let d = client.call(reqwest::Method::POST, &format!("/drills/{id}/halt"), NO_BODY).await?;
            if json_out {
                out!("{d:#}");
            } else {
                out!("drill {id}: halting; it restores what it changed");
            }
            Ok(())
        }
        DrillCommand::Define { stack, file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", file.display())))?;
            let body: DrillDefinitionRequest = serde_json::from_str(&text)
                .map_err(|e| Failure::input(format!("{} is not a drill definition: {e}", file.display())))?;
            let (raw, d): (_, DrillDefinition) =
                client.both(reqwest::Method::POST, &format!("/stacks/{stack}/drill-definitions"), Some(&body)).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                print_definition(&d);
            }
            Ok(())
        }
        DrillCommand::Definitions { stack } => {
            let (raw, list): (_, Vec<DrillDefinition>) =
                client.both(reqwest::Method::GET, &format!("/stacks/{stack}/drill-definitions"), NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                list.iter().for_each(print_definition);
            }
            Ok(())
        }
        DrillCommand::List { name } => {
            let (raw, list): (_, Vec<DrillSummary>) =
                client.both(reqwest::Method::GET, &format!("/stacks/{name}/drills"), NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                out!("{:<6} {:<9} {:<9} {:<8} {:<9} BY", "ID", "SCENARIO", "STATUS", "VERDICT", "TRIGGER");
                for d in &list {
                    out!(
                        "{:<6} {:<9} {:<9} {:<8} {:<9} {}",
                        d.drill_id,
                        d.scenario,
                        d.status,
                        d.verdict.map_or("-", |v| v.as_str()),
                        d.trigger,
                        d.started_by
                    );
                }
            }
            Ok(())
        }
    }
}

/// `raw` is the answer as sent: `--json` prints it whole, fields this CLI
/// does not know included.
pub(super) fn print_drill(raw: &Value, d: &Drill, json_out: bool) {
    if json_out {
        out!("{raw:#}");
        return;
    }
    out!(
        "drill {} {} on {}: {}, verdict {}",
        d.drill_id,
        d.scenario,
        d.stack,
        d.status,
        d.verdict.map_or("none", |v| v.as_str())
    );
    let opt = |v: Option<f64>| v.map_or("-".to_owned(), |v| v.to_string());
    let opt_ms = |v: Option<i64>| v.map_or("-".to_owned(), |v| v.to_string());
    out!("{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}", "PHASE", "REQUESTS", "AVAIL%", "LEFT/RIGHT", "P50 MS", "P99 MS");
    for p in &d.phases {
        let f = &p.figures;
        let split: Vec<String> = f.split.values().map(u64::to_string).collect();
        out!(
            "{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}",
            p.name,
            f.requests,
            f.availability,
            split.join("/"),
            opt(f.p50_ms),
            opt(f.p99_ms)
        );
    }
    if d.mttd_ms.is_some() || d.mttr_ms.is_some() {
        out!("time to detect {} ms, time to recover {} ms", opt_ms(d.mttd_ms), opt_ms(d.mttr_ms));
    }
    out!("restored {}", d.restored);
    for c in &d.checks {
        out!("  {} {}", if c.ok { "ok  " } else { "FAIL" }, c.text);
    }
    if !d.note.is_empty() {
        out!("note: {}", d.note);
    }
}

fn print_definition(d: &DrillDefinition) {
    let confirm = if d.needs_confirmation { " (stops the site: needs --yes)" } else { "" };
    out!("{} {}{confirm}", d.name, d.title);
    for (i, m) in d.method.iter().enumerate() {
        let hold = m.hold_ms.map(|h| format!(" for {h} ms")).unwrap_or_default();
        let with = if m.with_previous && i > 0 { "  with" } else { "  then" };
        out!("{with} {} {}{hold}", m.node, m.action);
    }
    for p in &d.problems {
        out!("  problem: {p}");
    }
}

pub(super) async fn schedule(args: ScheduleArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    let show = |s: &Schedule| {
        let state = if s.suspended { "suspended" } else { "active" };
        out!("{:<5} {:<4} {:<16} {:<9} {}", s.id, s.scenario, s.cron, state, s.description);
        if let Some(next) = s.next_runs.first() {
            out!("      next {next}");
        }
        for b in &s.blackouts {
            let days = if b.days.is_empty() { "every day".to_owned() } else { b.days.join(",") };
            out!("      blackout {days} {}-{} UTC", b.from, b.to);
        }
        for r in s.recent.iter().take(3) {
            let what = r.drill_id.map_or(r.reason.clone(), |id| format!("drill {id}"));
            out!("      {} {} {}", r.at, r.outcome, what);
        }
    };
    let patch = |id: i64, suspended: bool| {
        let client = &client;
        async move {
            let body = SchedulePatch { suspended: Some(suspended), ..Default::default() };
            client.both::<Schedule>(reqwest::Method::PATCH, &format!("/schedules/{id}"), Some(&body)).await
        }
    };
    match args.command {
        ScheduleCommand::List { name } => {
            let (raw, list): (_, Vec<Schedule>) =
                client.both(reqwest::Method::GET, &format!("/stacks/{name}/schedules"), NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                out!("{:<5} {:<4} {:<16} {:<9} WHEN", "ID", "RUN", "CRON", "STATE");
                list.iter().for_each(show);
            }
        }
        ScheduleCommand::Add { name, scenario, cron, blackouts, suspended } => {
            let blackouts = blackouts
                .iter()
                .map(|b| b.parse::<Blackout>().map_err(Failure::input))
                .collect::<Result<Vec<_>, _>>()?;
            let body = ScheduleRequest { scenario, cron, blackouts, suspended };
            let (raw, s): (_, Schedule) =
                client.both(reqwest::Method::POST, &format!("/stacks/{name}/schedules"), Some(&body)).await?;
            if json_out { out!("{raw:#}") } else { show(&s) }
        }
        ScheduleCommand::Suspend { id } => {
            let (raw, s) = patch(id, true).await?;
            if json_out { out!("{raw:#}") } else { show(&s) }
        }
        ScheduleCommand::Resume { id } => {
            let (raw, s) = patch(id, false).await?;
            if json_out { out!("{raw:#}") } else { show(&s) }
        }
        ScheduleCommand::Delete { id } => {
            client.call(reqwest::Method::DELETE, &format!("/schedules/{id}"), NO_BODY).await?;
            out!("deleted schedule {id}");
        }
    }
    Ok(())
}

pub(super) async fn lever(args: LeverArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let (raw, lever): (Value, SafetyLever) = match args.command {
        LeverCommand::Show => client.both(reqwest::Method::GET, "/safety-lever", NO_BODY).await?,
        LeverCommand::Engage { reason } => {
            let body = SafetyLeverRequest { engaged: true, reason };
            let (raw, changed): (Value, SafetyLeverChanged) =
                client.both(reqwest::Method::POST, "/safety-lever", Some(&body)).await?;
            for id in &changed.halted_drills {
                out!("halted drill {id}");
            }
            (raw, changed.lever)
        }
        LeverCommand::Release => {
            let body = SafetyLeverRequest { engaged: false, reason: String::new() };
            let (raw, changed): (Value, SafetyLeverChanged) =
                client.both(reqwest::Method::POST, "/safety-lever", Some(&body)).await?;
            (raw, changed.lever)
        }
    };
    if args.client.json {
        out!("{raw:#}");
    } else if lever.engaged {
        out!("engaged by {}: {}", lever.changed_by.unwrap_or_default(), lever.reason);
    } else {
        out!("released: drills may run");
    }
    Ok(())
}
