//! `hawaf stack …`: define, list, show, build, watch and tear down stacks.

use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Client, NO_BODY};
use super::{Failure, ProviderArg, StackArgs, StackCommand};
use crate::contract::{
    AdoptAnswer, AdoptRequest, Build, BuildAccepted, BuildState, BuildStatus, DestroyRequest, Health, StackView,
    StepStatus,
};

/// A definition body: the file's fields (or none), named, with the provider.
fn definition_body(
    name: &str,
    file: Option<std::path::PathBuf>,
    provider: Option<ProviderArg>,
) -> Result<Value, Failure> {
    let mut body = match file {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
            serde_json::from_str::<Value>(&text)
                .map_err(|e| Failure::input(format!("{} is not valid JSON: {e}", path.display())))?
        }
        None => json!({}),
    };
    let Some(map) = body.as_object_mut() else {
        return Err(Failure::input("the definition file must hold a JSON object"));
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
        out!("note: {n}");
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
                out!("created stack {} (version {})", created.name, created.version);
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
                let d = &s.definition;
                out!("stack     {} (version {}, {})", s.name, s.version, build_state(s.build_state));
                out!(
                    "provider  {} {}",
                    d["provider"].as_str().unwrap_or(""),
                    d["aws"]["region"].as_str().unwrap_or("")
                );
                out!(
                    "vpc       {} ({})",
                    d["vpc_cidr"].as_str().unwrap_or(""),
                    d["subnet_mode"].as_str().unwrap_or("")
                );
                for (key, sn) in d["subnets"].as_object().into_iter().flatten() {
                    if !sn.is_null() {
                        out!(
                            "subnet    {key:<9} {} {}",
                            sn["cidr"].as_str().unwrap_or(""),
                            sn["az"].as_str().unwrap_or("")
                        );
                    }
                }
                for (role, i) in d["instances"].as_object().into_iter().flatten() {
                    out!(
                        "instance  {role:<9} {} {} {}",
                        i["name"].as_str().unwrap_or(""),
                        i["instance_type"].as_str().unwrap_or(""),
                        i["private_ip"].as_str().unwrap_or("-")
                    );
                }
                let hc = &d["health_check"];
                out!(
                    "health    {} interval {} timeout {} healthy {} unhealthy {}",
                    hc["target"].as_str().unwrap_or(""),
                    hc["interval"],
                    hc["timeout"],
                    hc["healthy_threshold"],
                    hc["unhealthy_threshold"]
                );
                print_warnings(&s);
            }
        }
        StackCommand::Apply { name } => {
            let started = client.typed(reqwest::Method::POST, &format!("/stacks/{name}/apply"), NO_BODY).await?;
            follow_build(&client, started, json_out).await?;
        }
        StackCommand::Destroy { name, yes } => {
            if !yes {
                return Err(Failure::input(format!(
                    "a teardown deletes every resource of {name}: add --yes to confirm"
                )));
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
                return Err(Failure::failed(format!(
                    "{name} cannot be adopted as defined: fix what is not found, then run again"
                )));
            }
            if let Some(id) = answer.build_id {
                out!("adopted {name}: build {id} recorded it; it is watched and checked for drift from now on");
            } else {
                out!("dry run: add --yes to adopt {name}");
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
                for (tier, t) in [("external", &h.tiers.external), ("internal", &h.tiers.internal)] {
                    out!("{} ({tier}): {} of {} instances in service", t.lb, t.in_service, t.total);
                    for i in &t.instances {
                        out!("  {:<16} {:<22} {:<13} since {} {}", i.name, i.id, i.state, i.since, i.reason);
                    }
                }
                for (node, w) in &h.waf {
                    let state = match w.enabled {
                        Some(true) => "enabled",
                        Some(false) => "disabled",
                        None => "unknown",
                    };
                    out!("WAF {node:<16} {state:<9} since {}", w.since);
                }
                if let Some(e) = &h.error {
                    out!("warning: {e}");
                }
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
        indicatif::ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} steps {elapsed:>4} {wide_msg}")
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
                out!("{} build {id} of {} succeeded", build.kind, build.stack);
            }
            Ok(())
        }
        status => Err(Failure::failed(format!(
            "build {id} {status}: {}",
            build.error.as_deref().unwrap_or("no error recorded")
        ))),
    }
}

fn print_warnings(stack: &StackView) {
    for w in &stack.warnings {
        out!("warning   {}: {}", w.field, w.message);
    }
}

fn build_state(s: BuildState) -> &'static str {
    match s {
        BuildState::Built => "built",
        BuildState::NotBuilt => "not_built",
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
            return Err(Failure::input(format!(
                "finishing removes {name}'s old load balancers: clients still on their DNS names lose the site; add --yes"
            )));
        }
        let body = MigrationFinish { confirm: Some(name.to_owned()) };
        let (raw, done): (_, MigrationFinished) =
            client.both(reqwest::Method::POST, &format!("/stacks/{name}/migration/finish"), Some(&body)).await?;
        if json_out {
            out!("{raw:#}");
        } else {
            out!("removed {}", done.removed.join(", "));
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
            out!("plan only: add --yes to start");
        }
        return if plan.refusals.is_empty() { Ok(()) } else { Err(Failure::failed(plan.refusals.join("; "))) };
    }
    let body = MigrationRequest { to: to.to_owned(), tiers, image };
    let started: MigrationAccepted =
        client.typed(reqwest::Method::POST, &format!("/stacks/{name}/migration"), Some(&body)).await?;
    if let Some(run) = started.run_id {
        out!("replacing {name}'s WAF nodes with Sophos Firewall, one at a time: run {run}");
        return follow_appliance_run(client, name, run, json_out).await;
    }
    out!(
        "migration of {name} started: version {}, build {}; D1 runs through the new tiers after it",
        started.version,
        started.build_id
    );
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
            return Err(Failure::failed(format!("run {run} is not reported")));
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
                    out!(
                        "{}: {} ({} of {} requests failed meanwhile)",
                        n.node,
                        n.status,
                        n.failed_requests,
                        n.requests
                    );
                }
            }
            return match (r.status.as_str(), r.error) {
                ("succeeded", _) => Ok(()),
                (status, error) => Err(Failure::failed(format!("run {run} {status}: {}", error.unwrap_or_default()))),
            };
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn print_plan(plan: &crate::contract::MigrationPlan) {
    for t in &plan.tiers {
        out!("{} tier: {} ({}) -> {} ({})", t.tier, t.from_name, t.from_kind, t.to_name, t.to_kind);
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
        out!("awaiting finish: {} tier, old {} (now {} {})", p.tier, p.previous, p.current_kind, p.current);
    }
    for r in &plan.refusals {
        out!("cannot start: {r}");
    }
}
