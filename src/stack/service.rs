//! Stack definitions as the dashboard, the API and the CLI change them:
//! validate, store a new version, write the audit line. One implementation
//! behind every front end.

use super::outbound::{self, Outbound};
use super::{Draft, FieldError, LbRole, StackDefinition, parse};
use crate::store::{NewAudit, StackRow, StackVersionRow, Store, StoreError, VersionOutcome};

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("there is no stack named {0}")]
    NotFound(String),
    #[error("a stack named {0} already exists")]
    Duplicate(String),
    #[error("version {current} was saved while you were editing version {based_on}: review it and save again")]
    Stale { based_on: i64, current: i64 },
    #[error("stack {name} still has {live} live resource(s): tear it down before deleting it")]
    Built { name: String, live: i64 },
    #[error("the stored definition of {name} version {version} no longer parses: {reason}")]
    Corrupt { name: String, version: i64, reason: String },
    #[error("only an admin may set {}: it aims the server's AWS calls", .0.join(" and "))]
    AdminOnly(Vec<&'static str>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who edits a stack: their name for the log, whether they may aim the
/// server's calls (admins), and the server's outbound policy.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    pub username: &'a str,
    pub may_aim: bool,
    pub outbound: &'a Outbound,
}

impl Author<'_> {
    /// What of `after` this author may not save, given `before`.
    fn refusal(&self, before: Option<&StackDefinition>, after: &StackDefinition) -> Option<StackError> {
        let errors = self.outbound.errors(after);
        if !errors.is_empty() {
            return Some(StackError::Invalid(errors));
        }
        let aimed = outbound::aiming_fields_changed(before, after);
        (!self.may_aim && !aimed.is_empty()).then_some(StackError::AdminOnly(aimed))
    }
}

/// Validates `draft` as `author` would save it on top of `before`, without
/// saving: what a dry run (adoption's) needs to say the definition is good.
pub fn check(
    author: Author<'_>,
    before: Option<&StackDefinition>,
    draft: &Draft,
) -> Result<StackDefinition, StackError> {
    let definition = parse(draft).map_err(StackError::Invalid)?;
    match author.refusal(before, &definition) {
        Some(refusal) => Err(refusal),
        None => Ok(definition),
    }
}

/// A stack as stored, with its current definition parsed.
#[derive(Debug, Clone)]
pub struct Stack {
    pub row: StackRow,
    pub definition: StackDefinition,
}

impl Stack {
    pub fn is_built(&self) -> bool {
        self.row.live_resources > 0
    }
}

fn decode(row: StackRow) -> Result<Stack, StackError> {
    let definition = serde_json::from_str(&row.definition).map_err(|e| StackError::Corrupt {
        name: row.name.clone(),
        version: row.current_version,
        reason: e.to_string(),
    })?;
    Ok(Stack { row, definition })
}

fn encode(definition: &StackDefinition) -> String {
    definition.to_json().to_string()
}

pub async fn list(store: &Store) -> Result<Vec<Stack>, StackError> {
    store.stacks().await?.into_iter().map(decode).collect()
}

pub async fn load(store: &Store, name: &str) -> Result<Stack, StackError> {
    let row = store.stack(name).await?.ok_or_else(|| StackError::NotFound(name.to_owned()))?;
    decode(row)
}

pub async fn versions(store: &Store, stack: &Stack) -> Result<Vec<StackVersionRow>, StackError> {
    Ok(store.stack_versions(stack.row.id).await?)
}

async fn audit(
    store: &Store,
    actor: &str,
    action: &str,
    target: &str,
    outcome: &str,
    detail: String,
) -> Result<(), StackError> {
    store.audit(NewAudit { actor, action, target, outcome, detail }).await?;
    Ok(())
}

fn describe(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Validates and stores a new stack at version 1.
pub async fn create(store: &Store, author: Author<'_>, draft: &Draft) -> Result<Stack, StackError> {
    let actor = author.username;
    let target = draft.get("name").to_owned();
    let definition = match parse(draft) {
        Ok(d) => d,
        Err(errors) => {
            audit(store, actor, "stack.create", &target, "refused", describe(&errors)).await?;
            return Err(StackError::Invalid(errors));
        }
    };
    if let Some(refusal) = author.refusal(None, &definition) {
        audit(store, actor, "stack.create", &target, "refused", refusal.to_string()).await?;
        return Err(refusal);
    }
    let name = definition.name().as_str().to_owned();
    match store.create_stack(&name, &encode(&definition), actor).await {
        Ok(row) => {
            audit(store, actor, "stack.create", &name, "ok", "version 1".into()).await?;
            Ok(Stack { row, definition })
        }
        Err(StoreError::Duplicate(_)) => {
            audit(store, actor, "stack.create", &name, "refused", "name already taken".into()).await?;
            Err(StackError::Duplicate(name))
        }
        Err(e) => Err(e.into()),
    }
}

/// What an edit did.
#[derive(Debug)]
pub enum Updated {
    NewVersion(Stack),
    /// The submitted definition equals the current one: no version is added.
    Unchanged(Stack),
}

/// Validates an edit of `name` made on top of version `based_on` and stores
/// it as the next version.
pub async fn update(
    store: &Store,
    author: Author<'_>,
    name: &str,
    based_on: i64,
    draft: &Draft,
) -> Result<Updated, StackError> {
    let actor = author.username;
    let current = load(store, name).await?;
    let mut errors = match parse(draft) {
        Ok(definition) if definition.name().as_str() != name => Vec::new(),
        Ok(definition) => {
            if let Some(refusal) = author.refusal(Some(&current.definition), &definition) {
                audit(store, actor, "stack.update", name, "refused", refusal.to_string()).await?;
                return Err(refusal);
            }
            let in_place = kind_changes_in_place(&current, &definition);
            if !in_place.is_empty() {
                audit(store, actor, "stack.update", name, "refused", describe(&in_place)).await?;
                return Err(StackError::Invalid(in_place));
            }
            return save_version(store, actor, current, based_on, definition).await;
        }
        Err(errors) => errors,
    };
    if draft.get("name") != name {
        errors.retain(|e| e.field != "name");
        errors.insert(0, FieldError::new("name", format!("the name of a stack cannot change (it is {name})")));
    }
    audit(store, actor, "stack.update", name, "refused", describe(&errors)).await?;
    Err(StackError::Invalid(errors))
}

/// A built load balancer cannot change its kind under the same name: AWS
/// keeps classic and ELBv2 load balancers apart, so the old one would be
/// lost to every later call. A new name (a migration) is the way.
fn kind_changes_in_place(current: &Stack, next: &StackDefinition) -> Vec<FieldError> {
    if !current.is_built() {
        return Vec::new();
    }
    let before = &current.definition;
    LbRole::ALL
        .iter()
        .filter(|r| before.load_balancer(**r) == next.load_balancer(**r) && before.lb_kind(**r) != next.lb_kind(**r))
        .map(|r| {
            let key = match r {
                LbRole::External => "external",
                LbRole::Internal => "internal",
            };
            FieldError::new(
                format!("load_balancers.{key}.kind"),
                format!(
                    "{} is built as a {}: it cannot change its kind in place; migrate the tier \
                     (GET /api/v1/stacks/{}/migration?to={}) or give the new one another name",
                    before.load_balancer(*r),
                    before.lb_kind(*r).title(),
                    before.name(),
                    next.lb_kind(*r).as_str()
                ),
            )
        })
        .collect()
}

async fn save_version(
    store: &Store,
    actor: &str,
    current: Stack,
    based_on: i64,
    definition: StackDefinition,
) -> Result<Updated, StackError> {
    let name = current.row.name.clone();
    if definition == current.definition {
        return Ok(Updated::Unchanged(current));
    }
    match store.add_stack_version(current.row.id, based_on, &encode(&definition), actor).await? {
        VersionOutcome::Saved(version) => {
            audit(store, actor, "stack.update", &name, "ok", format!("version {version}")).await?;
            Ok(Updated::NewVersion(load(store, &name).await?))
        }
        VersionOutcome::Stale { current } => {
            audit(store, actor, "stack.update", &name, "refused", format!("stale: based on {based_on}, now {current}"))
                .await?;
            Err(StackError::Stale { based_on, current })
        }
    }
}

/// Deletes a stack and its versions; refused while anything is built.
pub async fn delete(store: &Store, actor: &str, name: &str) -> Result<(), StackError> {
    let stack = load(store, name).await?;
    if !store.delete_stack(stack.row.id).await? {
        let live = load(store, name).await?.row.live_resources;
        audit(store, actor, "stack.delete", name, "refused", format!("{live} live resource(s)")).await?;
        return Err(StackError::Built { name: name.to_owned(), live });
    }
    audit(store, actor, "stack.delete", name, "ok", format!("had {} version(s)", stack.row.current_version)).await?;
    Ok(())
}

/// Field-by-field differences between two definitions, for the version list.
pub fn diff(old: &StackDefinition, new: &StackDefinition) -> Vec<(String, String, String)> {
    let (a, b) = (old.to_draft(), new.to_draft());
    a.iter()
        .zip(b.iter())
        .filter(|((_, x), (_, y))| x != y)
        .map(|((path, x), (_, y))| (path.to_owned(), x.to_owned(), y.to_owned()))
        .collect()
}
