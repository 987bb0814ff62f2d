//! `hawaf stack …`: define, list, show, build, watch and tear down stacks.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Client, NO_BODY};
use super::{Failure, ProviderArg, StackArgs, StackCommand};
use crate::contract::{
    AdoptAnswer, AdoptRequest, Build, BuildAccepted, BuildKind, BuildState, BuildStatus, DestroyRequest, Health,
    StackView, StepStatus,
};
use crate::i18n;

/// A definition body: the file's fields (or none), named, with the provider.
fn definition_body(
    name: &str,
    file: Option<std::path::PathBuf>,
    provider: Option<ProviderArg>,
) -> Result<Value, Failure> {
    let mut body = match file {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Failure::input(i18n::text_with("cli-file-unreadable", &[("file", &path.display()), ("error", &e)]))
            })?;
            serde_json::from_str::<Value>(&text).map_err(|e| {
                Failure::input(i18n::text_with("cli-file-not-json", &[("file", &path.display()), ("error", &e)]))
            })?
        }
        None => json!({}),
    };
    let Some(map) = body.as_object_mut() else {
        return Err(Failure::input(i18n::text("cli-definition-not-object")));
    };
    map.insert("name".into(), json!(name));
    if let Some(p) = provider {
        map.insert(
            "provider".into(),
            json!(match p {
                ProviderArg::Lab => "lab",
                ProviderArg::Aws => "aws",
            }),
        );
    }
    Ok(body)
}

fn print_adoption(a: &AdoptAnswer) {
    out!("{:<20} {:<10} {:<24} LOOKED FOR", "RESOURCE", "STATUS", "ID");
    for r in &a.resources {
        let id =
            if r.candidates.is_empty() { r.id.clone().unwrap_or_else(|| "-".into()) } else { r.candidates.join(",") };
        out!("{:<20} {:<10} {:<24} {}", r.resource, r.status, id, r.looked_for);
        if let Some(d) = &r.detail {
            out!("{:<20} {:<10} {}", "", "", d);
        }
    }
    for n in &a.notes {
        out!("{}", i18n::text_with("cli-note", &[("note", n)]));
    }
}

pub(super) async fn stack(args: StackArgs) -> Result<(), Failure> {
    let client = Client::new(&args.client)?;
    let json_out = args.client.json;
    match args.command {
        StackCommand::New { name, file, provider } => {
            let body = definition_body(&name, file, provider)?;
            let (raw, created): (_, StackView) = client.both(reqwest::Method::POST, "/stacks", Some(&body)).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                let args: [(&str, &dyn std::fmt::Display); 2] =
                    [("name", &created.name), ("version", &created.version)];
                out!("{}", i18n::text_with("cli-stack-created", &args));
                print_warnings(&created);
            }
        }
        StackCommand::List => {
            let (raw, list): (_, Vec<StackView>) = client.both(reqwest::Method::GET, "/stacks", NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                out!("{:<24} {:<8} {:<14} {:<8} STATE", "NAME", "PROVIDER", "REGION", "VERSION");
                for s in &list {
                    out!(
                        "{:<24} {:<8} {:<14} {:<8} {}",
                        s.name,
                        s.definition["provider"].as_str().unwrap_or(""),
                        s.definition["aws"]["region"].as_str().unwrap_or(""),
                        format!("v{}", s.version),
                        build_state(s.build_state),
                    );
                }
            }
        }
        StackCommand::Show { name } => {
            let (raw, s): (_, StackView) =
                client.both(reqwest::Method::GET, &format!("/stacks/{name}"), NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                print_stack(&s);
            }
        }
        StackCommand::Apply { name } => {
            let started = client.typed(reqwest::Method::POST, &format!("/stacks/{name}/apply"), NO_BODY).await?;
            follow_build(&client, started, json_out).await?;
        }
        StackCommand::Destroy { name, yes } => {
            if !yes {
                return Err(Failure::input(i18n::text_with("cli-destroy-needs-yes", &[("name", &name)])));
            }
            // --yes is the typed name an adopted stack's teardown asks for.
            let body = DestroyRequest { confirm: Some(name.clone()) };
            let started = client.typed(reqwest::Method::POST, &format!("/stacks/{name}/destroy"), Some(&body)).await?;
            follow_build(&client, started, json_out).await?;
        }
        StackCommand::Adopt { name, file, provider, yes } => {
            let definition = definition_body(&name, file, provider)?;
            let body =
                AdoptRequest { definition: Some(definition), dry_run: Some(!yes), confirm: yes.then(|| name.clone()) };
            let (raw, answer): (_, AdoptAnswer) =
                client.both(reqwest::Method::POST, &format!("/stacks/{name}/adopt"), Some(&body)).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                print_adoption(&answer);
            }
            if !answer.adoptable {
                return Err(Failure::failed(i18n::text_with("cli-adopt-not-adoptable", &[("name", &name)])));
            }
            if let Some(id) = answer.build_id {
                out!("{}", i18n::text_with("cli-adopted", &[("name", &name), ("build", &id)]));
            } else {
                out!("{}", i18n::text_with("cli-adopt-dry-run", &[("name", &name)]));
            }
        }
        StackCommand::Migrate { name, to, tier, image, finish, yes } => {
            let how = MigrateHow { to, tier, image, finish, yes };
            migrate(&client, json_out, &name, how).await?;
        }
        StackCommand::Health { name } => {
            let (raw, h): (_, Health) =
                client.both(reqwest::Method::GET, &format!("/stacks/{name}/health"), NO_BODY).await?;
            if json_out {
                out!("{raw:#}");
            } else {
                print_health(&h);
            }
        }
    }
    Ok(())
}

/// Shows a build's progress until it ends; a failed build exits 1 with the
/// failing step's error.
pub(super) async fn follow_build(client: &Client, started: BuildAccepted, json_out: bool) -> Result<(), Failure> {
    let id = started.build_id;
    let bar = if json_out { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(8) };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} [{{bar:24}}] {{pos}}/{{len}} {} {{elapsed:>4}} {{wide_msg}}",
            i18n::text("cli-build-progress-steps")
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let (raw, build) = loop {
        let (raw, b): (_, Build) = client.both(reqwest::Method::GET, &format!("/builds/{id}"), NO_BODY).await?;
        let ended = [StepStatus::Succeeded, StepStatus::Failed, StepStatus::Skipped];
        let done = b.steps.iter().filter(|s| ended.contains(&s.status)).count();
        bar.set_position(done as u64);
        let running: Vec<String> = b
            .steps
            .iter()
            .filter(|s| s.status == StepStatus::Running)
            .map(|s| {
                let progress = if s.progress.is_empty() { String::new() } else { format!(": {}", s.progress) };
                format!("{} {}{progress}", s.number, s.title)
            })
            .collect();
        bar.set_message(running.join(" | "));
        if b.status != BuildStatus::Running {
            break (raw, b);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    bar.finish_and_clear();
    if json_out {
        out!("{raw:#}");
    }
    match build.status {
        BuildStatus::Succeeded => {
            if !json_out {
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("kind", &build_kind(build.kind)), ("id", &id), ("stack", &build.stack)];
                out!("{}", i18n::text_with("cli-build-succeeded", &args));
            }
            Ok(())
        }
        status => {
            let error = build.error.unwrap_or_else(|| i18n::text("cli-no-error-recorded"));
            let args: [(&str, &dyn std::fmt::Display); 3] =
                [("id", &id), ("status", &build_status(status)), ("error", &error)];
            Err(Failure::failed(i18n::text_with("cli-build-failed", &args)))
        }
    }
}

fn print_warnings(stack: &StackView) {
    for w in &stack.warnings {
        out!("{}", i18n::text_with("cli-show-warning", &[("field", &w.field), ("message", &w.message)]));
    }
}

/// The STATE column of `stack list`: the API's value, for scripts.
fn build_state(s: BuildState) -> &'static str {
    match s {
        BuildState::Built => "built",
        BuildState::NotBuilt => "not_built",
    }
}

/// The same state in a sentence, in the reader's language.
fn build_state_text(s: BuildState) -> String {
    match s {
        BuildState::Built => i18n::text("cli-state-built"),
        BuildState::NotBuilt => i18n::text("cli-state-not-built"),
    }
}

fn build_kind(k: BuildKind) -> String {
    match k {
        BuildKind::Apply => i18n::text("cli-build-kind-apply"),
        BuildKind::Destroy => i18n::text("cli-build-kind-destroy"),
        BuildKind::Adopt => i18n::text("cli-build-kind-adopt"),
    }
}

fn build_status(s: BuildStatus) -> String {
    match s {
        BuildStatus::Running => i18n::text("cli-build-status-running"),
        BuildStatus::Succeeded => i18n::text("cli-build-status-succeeded"),
        BuildStatus::Failed => i18n::text("cli-build-status-failed"),
        BuildStatus::Interrupted => i18n::text("cli-build-status-interrupted"),
    }
}

/// A tier as the API names it, in the reader's language; other values as
/// they are.
fn tier_name(tier: &str) -> String {
    match tier {
        "external" => i18n::text("cli-tier-external"),
        "internal" => i18n::text("cli-tier-internal"),
        other => other.to_owned(),
    }
}

/// `stack show`: a label column, then the values.
fn print_stack(s: &StackView) {
    let d = &s.definition;
    let str_of = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let state = build_state_text(s.build_state);
    let args: [(&str, &dyn std::fmt::Display); 3] = [("name", &s.name), ("version", &s.version), ("state", &state)];
    out!("{}", i18n::text_with("cli-show-stack", &args));
    let (provider, region) = (str_of(&d["provider"]), str_of(&d["aws"]["region"]));
    out!("{}", i18n::text_with("cli-show-provider", &[("provider", &provider), ("region", &region)]));
    let (cidr, mode) = (str_of(&d["vpc_cidr"]), str_of(&d["subnet_mode"]));
    out!("{}", i18n::text_with("cli-show-vpc", &[("cidr", &cidr), ("mode", &mode)]));
    for (key, sn) in d["subnets"].as_object().into_iter().flatten() {
        if !sn.is_null() {
            let key = format!("{key:<9}");
            let (cidr, az) = (str_of(&sn["cidr"]), str_of(&sn["az"]));
            out!("{}", i18n::text_with("cli-show-subnet", &[("key", &key), ("cidr", &cidr), ("az", &az)]));
        }
    }
    for (role, i) in d["instances"].as_object().into_iter().flatten() {
        let role = format!("{role:<9}");
        let (name, kind) = (str_of(&i["name"]), str_of(&i["instance_type"]));
        let ip = i["private_ip"].as_str().unwrap_or("-");
        let args: [(&str, &dyn std::fmt::Display); 4] =
            [("role", &role), ("name", &name), ("type", &kind), ("ip", &ip)];
        out!("{}", i18n::text_with("cli-show-instance", &args));
    }
    let hc = &d["health_check"];
    let target = str_of(&hc["target"]);
    let args: [(&str, &dyn std::fmt::Display); 5] = [
        ("target", &target),
        ("interval", &hc["interval"]),
        ("timeout", &hc["timeout"]),
        ("healthy", &hc["healthy_threshold"]),
        ("unhealthy", &hc["unhealthy_threshold"]),
    ];
    out!("{}", i18n::text_with("cli-show-health", &args));
    print_warnings(s);
}

/// `stack health`: each tier's instances, then each node's WAF.
fn print_health(h: &Health) {
    for (tier, t) in [("external", &h.tiers.external), ("internal", &h.tiers.internal)] {
        let tier = tier_name(tier);
        let args: [(&str, &dyn std::fmt::Display); 4] =
            [("lb", &t.lb), ("tier", &tier), ("in_service", &t.in_service), ("total", &t.total)];
        out!("{}", i18n::text_with("cli-health-tier", &args));
        for i in &t.instances {
            let (name, id, state) = (format!("{:<16}", i.name), format!("{:<22}", i.id), format!("{:<13}", i.state));
            let args: [(&str, &dyn std::fmt::Display); 5] =
                [("name", &name), ("id", &id), ("state", &state), ("since", &i.since), ("reason", &i.reason)];
            out!("  {}", i18n::text_with("cli-health-instance", &args));
        }
    }
    for (node, w) in &h.waf {
        let state = match w.enabled {
            Some(true) => i18n::text("cli-waf-state-enabled"),
            Some(false) => i18n::text("cli-waf-state-disabled"),
            None => i18n::text("cli-waf-state-unknown"),
        };
        let (node, state) = (format!("{node:<16}"), format!("{state:<9}"));
        out!("{}", i18n::text_with("cli-health-waf", &[("node", &node), ("state", &state), ("since", &w.since)]));
    }
    if let Some(e) = &h.error {
        out!("{}", i18n::text_with("cli-warning", &[("warning", e)]));
    }
}

struct MigrateHow {
    to: super::args::MigrateTo,
    tier: Option<super::args::TierArg>,
    image: Option<String>,
    finish: bool,
    yes: bool,
}

async fn migrate(client: &Client, json_out: bool, name: &str, how: MigrateHow) -> Result<(), Failure> {
    use crate::contract::{MigrationAccepted, MigrationFinish, MigrationFinished, MigrationPlan, MigrationRequest};
    let MigrateHow { to, tier, image, finish, yes } = how;
    let to = match to {
        super::args::MigrateTo::Application => "application",
        super::args::MigrateTo::Network => "network",
        super::args::MigrateTo::Sfos => "sfos",
    };
    let tiers: Vec<String> = tier
        .map(|t| match t {
            super::args::TierArg::External => "external".to_owned(),
            super::args::TierArg::Internal => "internal".to_owned(),
        })
        .into_iter()
        .collect();
    if finish {
        if !yes {
            return Err(Failure::input(i18n::text_with("cli-finish-needs-yes", &[("name", &name)])));
        }
        let body = MigrationFinish { confirm: Some(name.to_owned()) };
        let (raw, done): (_, MigrationFinished) =
            client.both(reqwest::Method::POST, &format!("/stacks/{name}/migration/finish"), Some(&body)).await?;
        if json_out {
            out!("{raw:#}");
        } else {
            out!("{}", i18n::text_with("cli-migration-removed", &[("list", &done.removed.join(", "))]));
            for line in &done.waf_objects {
                out!("  {line}");
            }
        }
        return Ok(());
    }
    let query = format!("/stacks/{name}/migration?to={to}&tiers={}", tiers.join(","));
    let (raw, plan): (_, MigrationPlan) = client.both(reqwest::Method::GET, &query, NO_BODY).await?;
    if !yes {
        if json_out {
            out!("{raw:#}");
        } else {
            print_plan(&plan);
            out!("{}", i18n::text("cli-plan-only"));
        }
        return if plan.refusals.is_empty() { Ok(()) } else { Err(Failure::failed(plan.refusals.join("; "))) };
    }
    let body = MigrationRequest { to: to.to_owned(), tiers, image };
    let started: MigrationAccepted =
        client.typed(reqwest::Method::POST, &format!("/stacks/{name}/migration"), Some(&body)).await?;
    if let Some(run) = started.run_id {
        out!("{}", i18n::text_with("cli-appliance-started", &[("name", &name), ("run", &run)]));
        return follow_appliance_run(client, name, run, json_out).await;
    }
    let args: [(&str, &dyn std::fmt::Display); 3] =
        [("name", &name), ("version", &started.version), ("build", &started.build_id)];
    out!("{}", i18n::text_with("cli-migration-started", &args));
    follow_build(client, crate::contract::BuildAccepted { build_id: started.build_id }, json_out).await
}

/// Polls an appliance migration until it ends; prints each node's outcome.
async fn follow_appliance_run(client: &Client, name: &str, run: i64, json_out: bool) -> Result<(), Failure> {
    use crate::contract::MigrationPlan;
    let mut shown = 0usize;
    loop {
        let (raw, plan): (_, MigrationPlan) =
            client.both(reqwest::Method::GET, &format!("/stacks/{name}/migration?to=sfos"), NO_BODY).await?;
        let Some(r) = plan.last_run.filter(|r| r.id == run) else {
            return Err(Failure::failed(i18n::text_with("cli-run-not-reported", &[("run", &run)])));
        };
        let lines: Vec<String> =
            r.nodes.iter().flat_map(|n| n.log.iter().map(move |l| format!("{}: {l}", n.node))).collect();
        if !json_out {
            for l in lines.iter().skip(shown) {
                out!("  {l}");
            }
        }
        shown = lines.len();
        if r.status != "running" {
            if json_out {
                out!("{raw:#}");
            } else {
                for n in &r.nodes {
                    let args: [(&str, &dyn std::fmt::Display); 4] = [
                        ("node", &n.node),
                        ("status", &n.status),
                        ("failed", &n.failed_requests),
                        ("requests", &n.requests),
                    ];
                    out!("{}", i18n::text_with("cli-appliance-node-done", &args));
                }
            }
            return match (r.status.as_str(), r.error) {
                ("succeeded", _) => Ok(()),
                (status, error) => {
                    let error = error.unwrap_or_default();
                    let args: [(&str, &dyn std::fmt::Display); 3] =
                        [("run", &run), ("status", &status), ("error", &error)];
                    Err(Failure::failed(i18n::text_with("cli-run-ended", &args)))
                }
            };
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn print_plan(plan: &crate::contract::MigrationPlan) {
    for t in &plan.tiers {
        let tier = tier_name(&t.tier);
        let args: [(&str, &dyn std::fmt::Display); 5] = [
            ("tier", &tier),
            ("from_name", &t.from_name),
            ("from_kind", &t.from_kind),
            ("to_name", &t.to_name),
            ("to_kind", &t.to_kind),
        ];
        out!("{}", i18n::text_with("cli-plan-tier", &args));
        for line in t.creates.iter().chain(&t.client_changes).chain(&t.health_check).chain(&t.cost) {
            out!("  - {line}");
        }
    }
    if !plan.nodes.is_empty() {
        for s in &plan.steps {
            out!("  - {s}");
        }
    }
    for p in &plan.pending {
        let tier = tier_name(&p.tier);
        let args: [(&str, &dyn std::fmt::Display); 4] =
            [("tier", &tier), ("previous", &p.previous), ("kind", &p.current_kind), ("current", &p.current)];
        out!("{}", i18n::text_with("cli-plan-awaiting", &args));
    }
    for r in &plan.refusals {
        out!("{}", i18n::text_with("cli-plan-refusal", &[("reason", r)]));
    }
}
