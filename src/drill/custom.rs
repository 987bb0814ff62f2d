//! Custom drills: a hypothesis, a method of faults on named nodes (the
//! faults hawaf already has, each with its hold time, rounds formed by
//! `with_previous`) and an unconditional rollback, stored per stack,
//! validated against the stack before they are saved, and run like D1–D5.

use super::scenario::{Action, Expectation, Round, Scenario, Step};
use crate::contract::{DrillDefinition, DrillDefinitionRequest, Hypothesis, MethodStep};
use crate::node::Fault;
use crate::stack::{self, FieldError, InstanceRole, StackDefinition, StackError};
use crate::store::{NewAudit, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CustomError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("stack {stack} already has a drill named {name}")]
    Duplicate { stack: String, name: String },
    #[error("stack {stack} has no custom drill named {name}")]
    NotFound { stack: String, name: String },
    #[error("the custom drill {name} is scheduled (schedule {schedules}): delete those schedules first")]
    Scheduled { name: String, schedules: String },
    #[error("the stored drill {name} cannot be read: {reason}")]
    Corrupt { name: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

const ACTIONS: [&str; 4] = ["waf-off", "stop-httpd", "stop-instance", "isolate"];

fn action(text: &str) -> Option<Action> {
    Some(match text {
        "waf-off" => Action::WafOff,
        "stop-httpd" => Action::Fault(Fault::StopHttpd),
        "stop-instance" => Action::Fault(Fault::StopInstance),
        "isolate" => Action::Fault(Fault::Isolate),
        _ => return None,
    })
}

/// The definition as a scenario for `d`, or the field errors.
fn scenario(d: &StackDefinition, req: &DrillDefinitionRequest) -> Result<Scenario, Vec<FieldError>> {
    let mut errors = Vec::new();
    let name = req.name.trim();
    let name_ok = !name.is_empty()
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        errors.push(FieldError::new("name", "1–32 lowercase letters, digits and hyphens, starting with a letter"));
    }
    if Scenario::builtin(name).is_some() {
        errors.push(FieldError::new("name", format!("{name} is a built-in scenario: choose another name")));
    }
    if let Some(f) = req.hypothesis.availability_floor
        && !(50.0..=100.0).contains(&f)
    {
        // Below half, the floor would let the stop condition never fire.
        errors.push(FieldError::new("hypothesis.availability_floor", "a percentage, 50 to 100"));
    }
    if req.method.is_empty() || req.method.len() > 20 {
        errors.push(FieldError::new("method", "1 to 20 steps"));
    }
    let mut rounds: Vec<Round> = Vec::new();
    for (i, step) in req.method.iter().enumerate() {
        let role = InstanceRole::ALL.iter().copied().find(|r| d.instance(*r).name().as_str() == step.node);
        let known = InstanceRole::ALL.iter().map(|r| d.instance(*r).name().to_string()).collect::<Vec<_>>();
        let Some(role) = role else {
            errors.push(FieldError::new(
                format!("method[{i}].node"),
                format!("no node {} in this stack: {}", step.node, known.join(", ")),
            ));
            continue;
        };
        let Some(act) = action(&step.action) else {
            errors.push(FieldError::new(
                format!("method[{i}].action"),
                format!("`{}` is not one of {}", step.action, ACTIONS.join(", ")),
            ));
            continue;
        };
        if act == Action::WafOff && !role.is_waf() {
            errors.push(FieldError::new(format!("method[{i}].action"), format!("{} is not a WAF node", step.node)));
            continue;
        }
        if step.hold_ms.is_some_and(|h| !(200..=600_000).contains(&h)) {
            errors.push(FieldError::new(format!("method[{i}].hold_ms"), "200 to 600000 ms"));
        }
        let s = Step { target: role, action: act };
        match rounds.last_mut() {
            Some(r) if step.with_previous => {
                if r.steps.iter().any(|x| x.target == role) {
                    errors.push(FieldError::new(
                        format!("method[{i}].node"),
                        format!("{} already has a fault in this round", step.node),
                    ));
                }
                r.steps.push(s);
                r.hold_ms = r.hold_ms.max(step.hold_ms);
            }
            _ => rounds.push(Round { steps: vec![s], hold_ms: step.hold_ms }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut sc = Scenario {
        id: name.to_owned(),
        title: if req.title.trim().is_empty() { name.to_owned() } else { req.title.trim().to_owned() },
        summary: "a custom drill".into(),
        expect: Expectation::Continuity,
        rounds,
    };
    // A round that takes a whole tier down is an expected outage, confirmed.
    if sc.needs_confirmation(d.provider()) {
        sc.expect = Expectation::Outage;
    }
    Ok(sc)
}

fn answer(
    d: &StackDefinition,
    req: DrillDefinitionRequest,
    created_by: String,
    created_at: i64,
) -> Result<DrillDefinition, CustomError> {
    let (needs_confirmation, title, problems) = match scenario(d, &req) {
        Ok(sc) => (sc.needs_confirmation(d.provider()), sc.title, Vec::new()),
        Err(errors) => (false, req.title.clone(), errors.iter().map(ToString::to_string).collect()),
    };
    Ok(DrillDefinition {
        needs_confirmation,
        problems,
        name: req.name,
        title,
        hypothesis: req.hypothesis,
        method: req.method,
        rollback: "always: every fault is undone at the end, on halt and on failure".into(),
        created_by,
        created_at: crate::clock::rfc3339(created_at),
    })
}

pub async fn create(
    store: &Store,
    stack_name: &str,
    req: DrillDefinitionRequest,
    actor: &str,
) -> Result<DrillDefinition, CustomError> {
    let s = stack::load(store, stack_name).await?;
    scenario(&s.definition, &req).map_err(CustomError::Invalid)?;
    let name = req.name.trim().to_owned();
    let text = serde_json::to_string(&req).unwrap_or_default();
    if !store.create_drill_definition(s.row.id, &name, &text, actor).await? {
        return Err(CustomError::Duplicate { stack: stack_name.to_owned(), name });
    }
    let entry = NewAudit { actor, action: "drill.define", target: stack_name, outcome: "ok", detail: text };
    store.audit(entry).await?;
    answer(&s.definition, req, actor.to_owned(), crate::store::now_ms())
}

/// The stack's custom drills, each checked against its current definition
/// (a renamed node makes a stored drill invalid, which the list says).
pub async fn list(store: &Store, stack_name: &str) -> Result<Vec<DrillDefinition>, CustomError> {
    let s = stack::load(store, stack_name).await?;
    let mut out = Vec::new();
    for (name, text, by, at) in store.drill_definitions(s.row.id).await? {
        let req: DrillDefinitionRequest = serde_json::from_str(&text)
            .map_err(|e| CustomError::Corrupt { name: name.clone(), reason: e.to_string() })?;
        out.push(answer(&s.definition, req, by, at)?);
    }
    Ok(out)
}

pub async fn delete(store: &Store, stack_name: &str, name: &str, actor: &str) -> Result<(), CustomError> {
    let s = stack::load(store, stack_name).await?;
    // A schedule would otherwise go on skipping its slots as "unknown scenario".
    let schedules: Vec<String> = store
        .schedules_of(s.row.id)
        .await?
        .into_iter()
        .filter(|c| c.scenario == name)
        .map(|c| c.id.to_string())
        .collect();
    if !schedules.is_empty() {
        return Err(CustomError::Scheduled { name: name.to_owned(), schedules: schedules.join(", ") });
    }
    if !store.delete_drill_definition(s.row.id, name).await? {
        return Err(CustomError::NotFound { stack: stack_name.to_owned(), name: name.to_owned() });
    }
    let entry =
        NewAudit { actor, action: "drill.undefine", target: stack_name, outcome: "ok", detail: name.to_owned() };
    store.audit(entry).await?;
    Ok(())
}

/// A stored custom drill as a scenario for the stack as it is now, with its
/// hypothesis; None when the stack has no drill so named.
pub async fn find(
    store: &Store,
    stack_id: i64,
    d: &StackDefinition,
    name: &str,
) -> Result<Option<(Scenario, Hypothesis)>, CustomError> {
    let Some((_, text, _, _)) = store.drill_definitions(stack_id).await?.into_iter().find(|r| r.0 == name) else {
        return Ok(None);
    };
    let req: DrillDefinitionRequest = serde_json::from_str(&text)
        .map_err(|e| CustomError::Corrupt { name: name.to_owned(), reason: e.to_string() })?;
    let sc = scenario(d, &req).map_err(CustomError::Invalid)?;
    Ok(Some((sc, req.hypothesis)))
}

/// For tests and the CLI: a method step.
pub fn step(node: &str, action: &str, hold_ms: Option<u64>, with_previous: bool) -> MethodStep {
    MethodStep { node: node.to_owned(), action: action.to_owned(), hold_ms, with_previous }
}
