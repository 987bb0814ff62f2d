//! `GET /metrics`: Prometheus text exposition of what the health monitors
//! see. The format is a handful of gauges rendered from the monitors'
//! snapshots on each scrape, so no metrics registry is kept in sync.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::SharedApp;
use crate::store::now_ms;

/// This replica's part among those sharing the database: whether it leads
/// (holds the leader lease), takeovers, requests it forwarded, and how many
/// stacks it monitors (all of them on the leader, none elsewhere).
fn replica(app: &SharedApp, monitors: usize, out: &mut String) {
    use std::sync::atomic::Ordering;
    let r = &app.replica;
    let id = label(&r.id);
    let leader = u8::from(r.leads());
    let held = u8::from(matches!(r.role(), crate::replica::Role::Leader { .. }));
    let lines: [(&str, &str, &str, String); 5] = [
        (
            "hawaf_replica_leader",
            "gauge",
            "Whether this replica does the work that runs once (1 for a lone SQLite process too).",
            leader.to_string(),
        ),
        ("hawaf_leases_held", "gauge", "Leases this replica holds.", held.to_string()),
        (
            "hawaf_lease_takeovers_total",
            "counter",
            "Times this replica took a lease over from another.",
            r.takeovers.load(Ordering::Relaxed).to_string(),
        ),
        (
            "hawaf_forwarded_requests_total",
            "counter",
            "Requests this replica passed on to the leading one.",
            r.forwarded.load(Ordering::Relaxed).to_string(),
        ),
        ("hawaf_health_monitors", "gauge", "Stacks whose health this replica monitors.", monitors.to_string()),
    ];
    for (name, kind, help, value) in lines {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{{replica=\"{id}\"}} {value}");
    }
}

fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Whether the scrape may read the metrics: always without a configured
/// token; with one, only when it sends it (compared in constant time).
fn allowed(app: &SharedApp, headers: &HeaderMap) -> bool {
    let Some(expected) = app.config.metrics_token.as_deref() else { return true };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    sent.len() == expected.len() && sent.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

pub async fn metrics(State(app): State<SharedApp>, headers: HeaderMap) -> Response {
    if !allowed(&app, &headers) {
        let mut denied =
            (StatusCode::UNAUTHORIZED, "the metrics need their token: Authorization: Bearer <HAWAF_METRICS_TOKEN>\n")
                .into_response();
        denied.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return denied;
    }
    let mut stacks = app.health.stacks();
    stacks.sort();
    let snaps: Vec<_> = stacks.iter().filter_map(|s| app.health.snapshot(s)).collect();
    let mut out = String::new();
    let now = now_ms();
    replica(&app, stacks.len(), &mut out);
    // Writing to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(out, "# HELP hawaf_lb_instances_in_service Instances a load balancer reports InService.");
    let _ = writeln!(out, "# TYPE hawaf_lb_instances_in_service gauge");
    for s in &snaps {
        for (tier, t) in [("external", &s.external), ("internal", &s.internal)] {
            let _ = writeln!(
                out,
                "hawaf_lb_instances_in_service{{stack=\"{}\",tier=\"{tier}\",lb=\"{}\"}} {}",
                label(&s.stack),
                label(&t.lb),
                t.in_service
            );
        }
    }
    let _ = writeln!(out, "# HELP hawaf_lb_instances Instances registered with a load balancer.");
    let _ = writeln!(out, "# TYPE hawaf_lb_instances gauge");
    for s in &snaps {
        for (tier, t) in [("external", &s.external), ("internal", &s.internal)] {
            let _ = writeln!(
                out,
                "hawaf_lb_instances{{stack=\"{}\",tier=\"{tier}\",lb=\"{}\"}} {}",
                label(&s.stack),
                label(&t.lb),
                t.total
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP hawaf_waf_enabled Whether a WAF node's virtual webserver is enabled, as read from the node."
    );
    let _ = writeln!(out, "# TYPE hawaf_waf_enabled gauge");
    for s in &snaps {
        for (node, w) in &s.waf {
            if let Some(on) = w.enabled {
                let _ = writeln!(
                    out,
                    "hawaf_waf_enabled{{stack=\"{}\",node=\"{}\"}} {}",
                    label(&s.stack),
                    label(node),
                    u8::from(on)
                );
            }
        }
    }
    let _ = writeln!(out, "# HELP hawaf_health_poll_age_seconds Seconds since the stack's health was last polled.");
    let _ = writeln!(out, "# TYPE hawaf_health_poll_age_seconds gauge");
    for s in &snaps {
        let age = (now - s.polled_at).max(0) as f64 / 1000.0;
        let _ = writeln!(out, "hawaf_health_poll_age_seconds{{stack=\"{}\"}} {age:.3}", label(&s.stack));
    }
    let _ = writeln!(out, "# HELP hawaf_health_poll_failing Whether the stack's last health poll failed.");
    let _ = writeln!(out, "# TYPE hawaf_health_poll_failing gauge");
    for s in &snaps {
        let _ =
            writeln!(out, "hawaf_health_poll_failing{{stack=\"{}\"}} {}", label(&s.stack), u8::from(s.error.is_some()));
    }
    let _ = writeln!(
        out,
        "# HELP hawaf_stack_drifted Whether the stack's last drift check found it drifted (-1: unknown)."
    );
    let _ = writeln!(out, "# TYPE hawaf_stack_drifted gauge");
    match app.store.drift_statuses().await {
        Ok(statuses) => {
            for (stack, status) in statuses {
                let v = match status.as_str() {
                    "drifted" => 1,
                    "in_sync" => 0,
                    _ => -1,
                };
                let _ = writeln!(out, "hawaf_stack_drifted{{stack=\"{}\"}} {v}", label(&stack));
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot read drift statuses for /metrics"),
    }
    let _ = writeln!(out, "# HELP hawaf_resilience_score The stack's resilience score (0-100) from its latest drills.");
    let _ = writeln!(out, "# TYPE hawaf_resilience_score gauge");
    match (crate::drill::score::all(&app.store).await, app.store.stacks().await) {
        (Ok(scores), Ok(all)) => {
            // Every stack, a never-drilled one at 0.
            for stack in all.iter().map(|s| s.name.as_str()) {
                let score = crate::drill::score::from_all(&scores, stack).score;
                let _ = writeln!(out, "hawaf_resilience_score{{stack=\"{}\"}} {score}", label(stack));
            }
        }
        (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "cannot read drill results for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], out).into_response()
}
