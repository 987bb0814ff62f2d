//! Adoption: taking over a stack built by hand in the console. The
//! definition names what the operator named (VPC Name tag, subnet CIDRs,
//! group names, instance Name tags, load balancer names); a dry run says what
//! was found, missing, ambiguous or someone else's; a confirmed run tags
//! what was found as the stack's and records it as a build (kind `adopt`),
//! after which health, drills, drift and teardown treat it like any other.
//! Nothing is created, changed or deleted besides tags.

pub mod survey;

use std::time::Duration;

use serde_json::Value;

use crate::SharedApp;
use crate::build::{BuildError, Take};
use crate::cloud::{Cloud, CloudError, Filter};
use crate::contract::{AdoptAnswer, AdoptRequest};
use crate::stack::{self, Draft, FieldError, LbRole, Provider, StackDefinition, StackError};
use survey::{Item, Seen};

/// Looking around answers within this long, or says which call did not.
pub const LOOK_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("stack {0} is already built: there is nothing to adopt (tear it down first to adopt another)")]
    AlreadyBuilt(String),
    #[error("confirm must be the stack's name, {name}, to adopt (it was {got:?})")]
    Confirm { name: String, got: Option<String> },
    #[error("{0}")]
    Provider(String),
    #[error("{what} did not answer: {error}")]
    Look { what: &'static str, error: String },
    #[error("stack {} cannot be adopted: {}", .0.stack, problems(.0))]
    NotAdoptable(Box<AdoptAnswer>),
    #[error(transparent)]
    Build(#[from] BuildError),
}

/// `resource: status (detail)` for every resource not found cleanly.
pub fn problems(answer: &AdoptAnswer) -> String {
    let list: Vec<String> = answer
        .resources
        .iter()
        .filter(|r| r.status != crate::contract::AdoptStatus::Found)
        .map(|r| format!("{} {}", r.resource, r.status))
        .collect();
    format!(
        "{} of {} resources are not found exactly once as defined ({})",
        list.len(),
        answer.resources.len(),
        list.join(", ")
    )
}

/// Who adopts, and the definition to start from when the stack is new.
pub struct Adopter<'a> {
    pub author: stack::Author<'a>,
    /// The seed preset (with the caller's address as admin CIDR).
    pub preset: StackDefinition,
}

/// The definition to adopt as: the API's JSON fields (over the stack's
/// current definition or the preset), or the page's complete form.
pub enum Proposal {
    Json(Option<Value>),
    Form(Draft),
}

impl From<&AdoptRequest> for Proposal {
    fn from(req: &AdoptRequest) -> Self {
        Proposal::Json(req.definition.clone())
    }
}

/// Looks for the stack `name` as defined (dry run), or takes it over.
pub async fn adopt(
    app: &SharedApp,
    who: Adopter<'_>,
    name: &str,
    proposal: Proposal,
    req: AdoptRequest,
) -> Result<AdoptAnswer, AdoptError> {
    let existing = match stack::load(&app.store, name).await {
        Ok(s) => Some(s),
        Err(StackError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(s) = existing.as_ref().filter(|s| s.is_built()) {
        // A failed adoption may be run again; anything else built may not.
        let unfinished = s.row.adopted_at.is_some()
            && app.store.latest_build(s.row.id).await.map_err(StackError::from)?.is_some_and(|b| {
                b.kind == "adopt" && b.status != crate::contract::BuildStatus::Succeeded.as_str() && !b.is_running()
            });
        if !unfinished {
            return Err(AdoptError::AlreadyBuilt(name.to_owned()));
        }
    }
    let base = existing.as_ref().map_or(&who.preset, |s| &s.definition);
    let draft = match proposal {
        Proposal::Json(body) => draft_for(name, body, base)?,
        Proposal::Form(draft) => draft,
    };
    let definition = stack::check(who.author, existing.as_ref().map(|s| &s.definition), &draft)?;
    let dry_run = req.dry_run.unwrap_or(req.confirm.is_none());
    if !dry_run && req.confirm.as_deref() != Some(name) {
        return Err(AdoptError::Confirm { name: name.to_owned(), got: req.confirm });
    }

    let cloud = app.providers.cloud_for(&definition).map_err(AdoptError::Provider)?;
    let seen = look(cloud.as_ref(), &definition).await?;
    let items = survey::survey(&definition, &seen);
    let mut answer = AdoptAnswer {
        stack: name.to_owned(),
        dry_run,
        adoptable: items.iter().all(Item::is_found),
        resources: items.iter().map(|i| i.report.clone()).collect(),
        build_id: None,
        notes: notes(&definition),
    };
    if dry_run {
        return Ok(answer);
    }
    if !answer.adoptable {
        return Err(AdoptError::NotAdoptable(Box::new(answer)));
    }
    match existing {
        None => {
            stack::create(&app.store, who.author, &draft).await?;
        }
        Some(s) => {
            stack::update(&app.store, who.author, name, s.row.current_version, &draft).await?;
        }
    }
    let takes = items
        .into_iter()
        .filter_map(|i| {
            Some(Take {
                step: i.step,
                logical: i.report.resource,
                kind: i.kind,
                id: i.report.id?,
                tags: i.tags,
                attributes: i.attributes,
            })
        })
        .collect();
    answer.build_id = Some(crate::build::adopt(app, name, takes, who.author.username).await?);
    Ok(answer)
}

/// The definition to adopt as: the body's fields over `base`, named `name`.
fn draft_for(name: &str, body: Option<Value>, base: &StackDefinition) -> Result<Draft, AdoptError> {
    let invalid = |errors| AdoptError::Stack(StackError::Invalid(errors));
    match body {
        Some(Value::Object(mut map)) => {
            match map.get("name") {
                Some(Value::String(given)) if given != name => {
                    return Err(invalid(vec![FieldError::new(
                        "definition.name",
                        format!("the definition is named {given} but the address names {name}: they must match"),
                    )]));
                }
                _ => {
                    map.insert("name".into(), Value::String(name.to_owned()));
                }
            }
            Draft::from_json(Value::Object(map), base).map_err(invalid)
        }
        Some(other) => Err(invalid(vec![FieldError::new(
            "definition",
            format!("must be an object with the stack's fields, not {}", json_kind(&other)),
        )])),
        None => {
            let mut draft = base.to_draft();
            draft.set("name", name);
            Ok(draft)
        }
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What adoption leaves as it is, per provider.
fn notes(d: &StackDefinition) -> Vec<String> {
    let mut notes = vec![
        "Adoption writes tags only (Name and hawaf:stack, hawaf:role on instances): nothing is created, changed \
         or deleted."
            .to_owned(),
        "The WAF nodes' UTM configuration is kept as found; the first drift check compares it, and step 8 \
         configures it anew."
            .to_owned(),
    ];
    if d.provider() == Provider::Aws {
        notes.push(
            "WAF switches and step 8 reach each UTM node through its REST API: once adopted, enter each node's API \
             token on the stack page."
                .to_owned(),
        );
    }
    notes
}

/// Everything adoption looks through, each call under one deadline.
async fn look(cloud: &dyn Cloud, d: &StackDefinition) -> Result<Seen, AdoptError> {
    let deadline = tokio::time::Instant::now() + LOOK_LIMIT;
    async fn within<T>(
        deadline: tokio::time::Instant,
        what: &'static str,
        call: impl std::future::Future<Output = Result<T, CloudError>>,
    ) -> Result<T, AdoptError> {
        match tokio::time::timeout_at(deadline, call).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(AdoptError::Look { what, error: e.to_string() }),
            Err(_) => Err(AdoptError::Look { what, error: format!("no answer within {} s", LOOK_LIMIT.as_secs()) }),
        }
    }
    let all = Filter::all();
    let mut seen = Seen {
        vpcs: within(deadline, "DescribeVpcs", cloud.describe_vpcs(&all)).await?,
        subnets: within(deadline, "DescribeSubnets", cloud.describe_subnets(&all)).await?,
        gateways: within(deadline, "DescribeInternetGateways", cloud.describe_internet_gateways(&all)).await?,
        route_tables: within(deadline, "DescribeRouteTables", cloud.describe_route_tables(&all)).await?,
        nat_gateways: within(deadline, "DescribeNatGateways", cloud.describe_nat_gateways(&all)).await?,
        groups: within(deadline, "DescribeSecurityGroups", cloud.describe_security_groups(&all)).await?,
        instances: within(deadline, "DescribeInstances", cloud.describe_instances(&all)).await?,
        addresses: within(deadline, "DescribeAddresses", cloud.describe_addresses(&all)).await?,
        load_balancers: Vec::new(),
    };
    // One name at a time: a name that does not exist fails the whole call.
    for role in [LbRole::Internal, LbRole::External] {
        let name = d.load_balancer(role).as_str().to_owned();
        match tokio::time::timeout_at(deadline, cloud.describe_load_balancers(std::slice::from_ref(&name))).await {
            Ok(Ok(found)) => seen.load_balancers.extend(found),
            Ok(Err(e)) if e.is_not_found() => {}
            Ok(Err(e)) => return Err(AdoptError::Look { what: "DescribeLoadBalancers", error: e.to_string() }),
            Err(_) => {
                return Err(AdoptError::Look {
                    what: "DescribeLoadBalancers",
                    error: format!("no answer within {} s", LOOK_LIMIT.as_secs()),
                });
            }
        }
    }
    Ok(seen)
}
