//! `hawaf drill …`: run, follow, list, show and halt failover drills.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::Client;
use super::{DrillArgs, DrillCommand, Failure};
use crate::contract::DrillSummary;

pub(super) async fn drill(args: DrillArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    match args.command {
        DrillCommand::Run { name, scenario, yes, rate, baseline_ms, hold_ms, verify_ms, phase_timeout_ms } => {
            let mut body = json!({"scenario": scenario});
            if yes {
                body["confirm"] = json!(name);
            }
            for (key, value) in [
                ("rate", rate.map(u64::from)),
                ("baseline_ms", baseline_ms),
                ("hold_ms", hold_ms),
                ("verify_ms", verify_ms),
                ("phase_timeout_ms", phase_timeout_ms),
            ] {
                if let Some(v) = value {
                    body[key] = json!(v);
                }
            }
            let started = client
                .call(reqwest::Method::POST, &format!("/stacks/{name}/drills"), Some(body))
                .await
                .map_err(|f| {
                    if f.message.contains("confirm") && !yes {
                        Failure { message: format!("{} (pass --yes)", f.message), ..f }
                    } else {
                        f
                    }
                })?;
            let id =
                started["drill_id"].as_i64().ok_or_else(|| Failure::failed("the server did not return a drill id"))?;
            if !json_out {
                out!("drill {id} started: {scenario} on {name}");
            }
            // Phases and marks, in time order, each printed once.
            let mut printed = 0;
            let drill = loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                let d = client.call(reqwest::Method::GET, &format!("/drills/{id}"), None).await?;
                if !json_out {
                    let mut lines: Vec<(i64, String)> = d["phases"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|p| {
                            (
                                p["started_at"].as_i64().unwrap_or(0),
                                format!("  phase {}", p["name"].as_str().unwrap_or("?")),
                            )
                        })
                        .chain(d["marks"].as_array().into_iter().flatten().map(|m| {
                            let text = format!(
                                "    {} (round {})",
                                m["kind"].as_str().unwrap_or("?"),
                                m["round"].as_i64().unwrap_or(0) + 1
                            );
                            (m["at"].as_i64().unwrap_or(0), text)
                        }))
                        .collect();
                    lines.sort_by_key(|(at, _)| *at);
                    for (_, line) in lines.iter().skip(printed) {
                        out!("{line}");
                    }
                    printed = printed.max(lines.len());
                }
                if d["status"] != "running" {
                    break d;
                }
            };
            print_drill(&drill, json_out);
            if drill["verdict"] == "pass" {
                Ok(())
            } else {
                Err(Failure::failed(format!(
                    "drill {id} {}: verdict {}",
                    drill["status"].as_str().unwrap_or("?"),
                    drill["verdict"].as_str().unwrap_or("none")
                )))
            }
        }
        DrillCommand::Show { id } => {
            let d = client.call(reqwest::Method::GET, &format!("/drills/{id}"), None).await?;
            print_drill(&d, json_out);
            Ok(())
        }
        DrillCommand::Halt { id } => {
            let d = client.call(reqwest::Method::POST, &format!("/drills/{id}/halt"), None).await?;
            if json_out {
                out!("{d:#}");
            } else {
                out!("drill {id}: halting; it restores what it changed");
            }
            Ok(())
        }
        DrillCommand::List { name } => {
            let (raw, list): (_, Vec<DrillSummary>) =
                client.both(reqwest::Method::GET, &format!("/stacks/{name}/drills")).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                out!("{:<6} {:<9} {:<9} {:<8} BY", "ID", "SCENARIO", "STATUS", "VERDICT");
                for d in &list {
                    out!(
                        "{:<6} {:<9} {:<9} {:<8} {}",
                        d.drill_id,
                        d.scenario,
                        d.status,
                        d.verdict.map_or("-", |v| v.as_str()),
                        d.started_by
                    );
                }
            }
            Ok(())
        }
    }
}

pub(super) fn print_drill(d: &Value, json_out: bool) {
    if json_out {
        out!("{d:#}");
        return;
    }
    out!(
        "drill {} {} on {}: {}, verdict {}",
        d["drill_id"],
        d["scenario"].as_str().unwrap_or(""),
        d["stack"].as_str().unwrap_or(""),
        d["status"].as_str().unwrap_or(""),
        d["verdict"].as_str().unwrap_or("none")
    );
    // Values are printed as text first: a JSON value ignores width and alignment.
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    };
    out!("{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}", "PHASE", "REQUESTS", "AVAIL%", "LEFT/RIGHT", "P50 MS", "P99 MS");
    for p in d["phases"].as_array().into_iter().flatten() {
        let split: Vec<String> = p["split"].as_object().into_iter().flatten().map(|(_, v)| text(v)).collect();
        out!(
            "{:<36} {:>8} {:>8} {:>12} {:>8} {:>8}",
            text(&p["name"]),
            text(&p["requests"]),
            text(&p["availability"]),
            split.join("/"),
            text(&p["p50_ms"]),
            text(&p["p99_ms"])
        );
    }
    if !d["mttd_ms"].is_null() || !d["mttr_ms"].is_null() {
        out!("time to detect {} ms, time to recover {} ms", text(&d["mttd_ms"]), text(&d["mttr_ms"]));
    }
    out!("restored {}", d["restored"]);
    for c in d["checks"].as_array().into_iter().flatten() {
        out!("  {} {}", if c["ok"] == true { "ok  " } else { "FAIL" }, c["text"].as_str().unwrap_or(""));
    }
    if let Some(note) = d["note"].as_str().filter(|n| !n.is_empty()) {
        out!("note: {note}");
    }
}
