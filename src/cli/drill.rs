//! `hawaf drill …`: run, follow, list, show and halt failover drills.

use std::time::Duration;

use serde_json::Value;

use super::client::{Client, NO_BODY};
use super::{DrillArgs, DrillCommand, Failure, LeverArgs, LeverCommand, ScheduleArgs, ScheduleCommand};
use crate::contract::{
    Blackout, Drill, DrillAccepted, DrillDefinition, DrillDefinitionRequest, DrillRequest, DrillStatus, DrillSummary,
    SafetyLever, SafetyLeverChanged, SafetyLeverRequest, Schedule, SchedulePatch, ScheduleRequest, Verdict,
};
use crate::i18n;

type Args<'a, const N: usize> = [(&'a str, &'a dyn std::fmt::Display); N];

fn status_text(s: DrillStatus) -> String {
    match s {
        DrillStatus::Running => i18n::text("cli-drill-status-running"),
        DrillStatus::Finished => i18n::text("cli-drill-status-finished"),
        DrillStatus::Halted => i18n::text("cli-drill-status-halted"),
        DrillStatus::Aborted => i18n::text("cli-drill-status-aborted"),
    }
}

fn verdict_text(v: Option<Verdict>) -> String {
    match v {
        Some(Verdict::Pass) => i18n::text("cli-verdict-pass"),
        Some(Verdict::Fail) => i18n::text("cli-verdict-fail"),
        None => i18n::text("cli-no-verdict"),
    }
}

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
                        Failure { message: i18n::text_with("cli-drill-pass-yes", &[("message", &f.message)]), ..f }
                    } else {
                        f
                    }
                })?;
            let id = started.drill_id;
            if !json_out {
                let args: Args<3> = [("id", &id), ("scenario", &scenario), ("stack", &name)];
                out!("{}", i18n::text_with("cli-drill-started", &args));
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
                        .map(|p| {
                            (p.started_at, format!("  {}", i18n::text_with("cli-drill-phase", &[("phase", &p.name)])))
                        })
                        .chain(d.marks.iter().map(|m| {
                            let args: Args<2> = [("kind", &m.kind), ("round", &(m.round + 1))];
                            (m.at, format!("    {}", i18n::text_with("cli-drill-mark", &args)))
                        }))
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
                let (status, verdict) = (status_text(drill.status), verdict_text(drill.verdict));
                let args: Args<3> = [("id", &id), ("status", &status), ("verdict", &verdict)];
                Err(Failure::failed(i18n::text_with("cli-drill-ended", &args)))
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
                out!("{}", i18n::text_with("cli-drill-halting", &[("id", &id)]));
            }
            Ok(())
        }
        DrillCommand::Define { stack, file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Failure::input(i18n::text_with("cli-file-unreadable", &[("file", &file.display()), ("error", &e)]))
            })?;
            let body: DrillDefinitionRequest = serde_json::from_str(&text).map_err(|e| {
                Failure::input(i18n::text_with("cli-drill-not-definition", &[("file", &file.display()), ("error", &e)]))
            })?;
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
    let (status, verdict) = (status_text(d.status), verdict_text(d.verdict));
    let args: Args<5> = [
        ("id", &d.drill_id),
        ("scenario", &d.scenario),
        ("stack", &d.stack),
        ("status", &status),
        ("verdict", &verdict),
    ];
    out!("{}", i18n::text_with("cli-drill-summary", &args));
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
        let (mttd, mttr) = (opt_ms(d.mttd_ms), opt_ms(d.mttr_ms));
        out!("{}", i18n::text_with("cli-drill-times", &[("mttd", &mttd), ("mttr", &mttr)]));
    }
    out!("{}", i18n::text_with("cli-drill-restored", &[("restored", &d.restored)]));
    for c in &d.checks {
        out!("  {} {}", if c.ok { "ok  " } else { "FAIL" }, c.text);
    }
    if !d.note.is_empty() {
        out!("{}", i18n::text_with("cli-note", &[("note", &d.note)]));
    }
}

fn print_definition(d: &DrillDefinition) {
    if d.needs_confirmation {
        out!("{} {} {}", d.name, d.title, i18n::text("cli-drill-needs-yes"));
    } else {
        out!("{} {}", d.name, d.title);
    }
    for (i, m) in d.method.iter().enumerate() {
        let with = m.with_previous && i > 0;
        let step: Args<2> = [("node", &m.node), ("action", &m.action)];
        let line = match (with, m.hold_ms) {
            (false, None) => i18n::text_with("cli-drill-step-then", &step),
            (true, None) => i18n::text_with("cli-drill-step-with", &step),
            (false, Some(ms)) => i18n::text_with("cli-drill-step-then-hold", &[step[0], step[1], ("ms", &ms)]),
            (true, Some(ms)) => i18n::text_with("cli-drill-step-with-hold", &[step[0], step[1], ("ms", &ms)]),
        };
        out!("  {line}");
    }
    for p in &d.problems {
        out!("  {}", i18n::text_with("cli-drill-problem", &[("problem", p)]));
    }
}

pub(super) async fn schedule(args: ScheduleArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    let show = |s: &Schedule| {
        let state = if s.suspended { "suspended" } else { "active" };
        out!("{:<5} {:<4} {:<16} {:<9} {}", s.id, s.scenario, s.cron, state, s.description);
        if let Some(next) = s.next_runs.first() {
            out!("      {}", i18n::text_with("cli-schedule-next", &[("at", next)]));
        }
        for b in &s.blackouts {
            let days = if b.days.is_empty() { i18n::text("cli-every-day") } else { b.days.join(",") };
            let args: Args<3> = [("days", &days), ("from", &b.from), ("to", &b.to)];
            out!("      {}", i18n::text_with("cli-schedule-blackout", &args));
        }
        for r in s.recent.iter().take(3) {
            let what = r.drill_id.map_or(r.reason.clone(), |id| i18n::text_with("cli-schedule-drill", &[("id", &id)]));
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
            out!("{}", i18n::text_with("cli-schedule-deleted", &[("id", &id)]));
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
                out!("{}", i18n::text_with("cli-lever-halted", &[("id", id)]));
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
        let user = lever.changed_by.unwrap_or_default();
        out!("{}", i18n::text_with("cli-lever-engaged", &[("user", &user), ("reason", &lever.reason)]));
    } else {
        out!("{}", i18n::text("cli-lever-released"));
    }
    Ok(())
}
