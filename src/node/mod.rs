//! Operations on one node of a built stack: the per-node WAF switch (the
//! seed's Disable button, through the UTM REST API) and the faults drills
//! and operators inject. Every one passes the guardrail (`guard`) and is
//! audited.

pub mod guard;

use std::fmt;
use std::str::FromStr;

use crate::SharedApp;
use crate::cloud::CloudError;
use crate::providers::Providers;
use crate::secret::Secret;
use crate::stack::{self, InstanceRole, Provider, Stack, StackDefinition};
use crate::store::{NewAudit, Store, StoreError};
use crate::waf::sfos::{Credentials, SfosClient};
use crate::waf::{Fingerprint, Pin, UtmClient, WafDriver, WafError, WafKind};

pub use guard::{Authority, Change, Hold};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    StopHttpd,
    StartHttpd,
    StopInstance,
    StartInstance,
    Isolate,
    Unisolate,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::StopHttpd,
        Fault::StartHttpd,
        Fault::StopInstance,
        Fault::StartInstance,
        Fault::Isolate,
        Fault::Unisolate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Fault::StopHttpd => "stop-httpd",
            Fault::StartHttpd => "start-httpd",
            Fault::StopInstance => "stop-instance",
            Fault::StartInstance => "start-instance",
            Fault::Isolate => "isolate",
            Fault::Unisolate => "unisolate",
        }
    }

    /// What undoes this fault.
    pub fn inverse(self) -> Fault {
        match self {
            Fault::StopHttpd => Fault::StartHttpd,
            Fault::StartHttpd => Fault::StopHttpd,
            Fault::StopInstance => Fault::StartInstance,
            Fault::StartInstance => Fault::StopInstance,
            Fault::Isolate => Fault::Unisolate,
            Fault::Unisolate => Fault::Isolate,
        }
    }

    /// Faults that take a node out of service (as opposed to restoring it).
    pub fn takes_down(self) -> bool {
        matches!(self, Fault::StopHttpd | Fault::StopInstance | Fault::Isolate)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fault {
    type Err = NodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fault::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| NodeError::UnknownFault(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Stack(#[from] stack::StackError),
    #[error("stack {0} is not built")]
    NotBuilt(String),
    #[error("stack {stack} has no node {node}: its nodes are {known}")]
    UnknownNode { stack: String, node: String, known: String },
    #[error("unknown fault `{0}`: use stop-httpd, start-httpd, stop-instance, start-instance, isolate or unisolate")]
    UnknownFault(String),
    #[error("{fault} applies to web servers only; {node} is a WAF node (use its WAF switch)")]
    WrongRole { fault: Fault, node: String },
    /// Taking the node down would leave its tier with no path that serves.
    /// Without a running drill, the stack's name typed as confirmation lets
    /// it through; during one, nothing does.
    #[error(
        "this takes {node}, the last in-service {tier} of {stack}, out of service and stops the site ({why}): {}",
        last_path_hint(.drill, .stack)
    )]
    LastPath { stack: String, node: String, tier: &'static str, why: String, drill: Option<i64> },
    /// A drill step would stop the site in a scenario that does not declare an outage.
    #[error(
        "drill {drill} would take {node}, the last in-service {tier} of {stack}, out of service ({why}); only a confirmed outage scenario (D4) may stop the site"
    )]
    DrillLastPath { drill: i64, stack: String, node: String, tier: &'static str, why: String },
    #[error("{node}: {source}")]
    Cloud { node: String, source: CloudError },
    #[error("{node}: {source}")]
    Waf { node: String, source: WafError },
    #[error("{node}: {message}")]
    NoAccess { node: String, message: String },
    #[error("{0}")]
    Provider(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn last_path_hint(drill: &Option<i64>, stack: &str) -> String {
    match drill {
        Some(id) => format!("drill {id} is running on {stack}; halt it first"),
        None => "type the stack's name to confirm".to_owned(),
    }
}

/// A node of a built stack, found by its Name.
pub struct Node {
    pub stack: Stack,
    pub role: InstanceRole,
    pub name: String,
    pub instance_id: String,
}

pub async fn find(app: &SharedApp, stack_name: &str, node: &str) -> Result<Node, NodeError> {
    let stack = stack::load(&app.store, stack_name).await?;
    let d = &stack.definition;
    let Some(role) = InstanceRole::ALL.iter().copied().find(|r| d.instance(*r).name().as_str() == node) else {
        let known = InstanceRole::ALL.iter().map(|r| d.instance(*r).name().to_string()).collect::<Vec<_>>().join(", ");
        return Err(NodeError::UnknownNode { stack: stack_name.to_owned(), node: node.to_owned(), known });
    };
    let logical = format!("instance/{}", role.as_str());
    let resources = app.store.live_resources(stack.row.id).await?;
    let instance_id = resources
        .into_iter()
        .find(|r| r.logical_id == logical)
        .map(|r| r.physical_id)
        .ok_or_else(|| NodeError::NotBuilt(stack_name.to_owned()))?;
    Ok(Node { name: node.to_owned(), role, instance_id, stack })
}

/// Like `find`, for the operations that only WAF nodes have.
async fn find_waf(app: &SharedApp, stack_name: &str, node_name: &str) -> Result<Node, NodeError> {
    let node = find(app, stack_name, node_name).await?;
    if !node.role.is_waf() {
        return Err(NodeError::UnknownNode {
            stack: stack_name.to_owned(),
            node: node_name.to_owned(),
            known: "the WAF nodes".into(),
        });
    }
    Ok(node)
}

/// The driver for a WAF node, by the stack's `waf.kind`: from the database
/// (credential sealed, certificate pinned) or, on the lab, from the lab,
/// which knows its nodes' credentials. On AWS the operator supplies them
/// in step 8.
pub async fn waf_client(
    app: &SharedApp,
    stack_id: i64,
    def: &StackDefinition,
    node: &str,
    instance_id: &str,
) -> Result<WafDriver, NodeError> {
    waf_client_from(&app.store, &app.secrets, &app.providers, stack_id, def, node, instance_id, def.waf_kind()).await
}

/// The driver of `kind` for a node, from its base URL and opened credential.
fn driver(
    kind: WafKind,
    def: &StackDefinition,
    base: &str,
    credential: Secret,
    pin: Pin,
) -> Result<WafDriver, WafError> {
    match kind {
        WafKind::Utm9 => UtmClient::new(base, credential, pin).map(WafDriver::Utm),
        WafKind::Sfos => {
            let credentials = Credentials::from_sealed(credential.expose())?;
            let client = SfosClient::new(base, credentials, pin)?;
            let rule = crate::waf::sfos_rule(def.load_balancer(stack::LbRole::External).as_str());
            Ok(WafDriver::Sfos { client, rule })
        }
    }
}

/// The driver of `kind` for a node whatever the definition says: a
/// migration configures a new Sophos Firewall node while the definition
/// still names UTM 9.
pub async fn waf_client_as(
    app: &SharedApp,
    stack_id: i64,
    def: &StackDefinition,
    node: &str,
    instance_id: &str,
    kind: WafKind,
) -> Result<WafDriver, NodeError> {
    waf_client_from(&app.store, &app.secrets, &app.providers, stack_id, def, node, instance_id, kind).await
}

/// `waf_client_as` from the parts it uses, for callers without the whole
/// core (the drift check).
#[allow(clippy::too_many_arguments)] // the parts of the core it reads, kept apart for the drift check
pub async fn waf_client_from(
    store: &Store,
    secrets: &crate::secret::SecretBox,
    providers: &crate::providers::Providers,
    stack_id: i64,
    def: &StackDefinition,
    node: &str,
    instance_id: &str,
    kind: WafKind,
) -> Result<WafDriver, NodeError> {
    let no_access = |message: String| NodeError::NoAccess { node: node.to_owned(), message };
    let kind = if kind == WafKind::Utm9 { node_kind(store, stack_id, def, node, instance_id).await? } else { kind };
    if let Some(row) = store.waf_node(stack_id, node).await? {
        let credential = secrets
            .open_for(&row.token_enc, &token_context(stack_id, node))
            .map_err(|e| no_access(format!("cannot read its stored API credential: {e}")))?;
        let pin: Fingerprint =
            row.fingerprint.parse().map_err(|e| no_access(format!("its stored fingerprint is unreadable: {e}")))?;
        return driver(kind, def, &row.api_url, credential, Pin(pin)).map_err(|e| no_access(e.to_string()));
    }
    if def.provider() != Provider::Lab {
        return Err(no_access(match kind {
            WafKind::Utm9 => {
                "waiting for its REST API token: open its console at https://EIP:4444/, do the first-time setup \
             (hostname = its private IP, admin password, time zone), enable the REST API, create a token, \
             and enter it in step 8"
                    .into()
            }
            WafKind::Sfos => {
                "waiting for its API credentials: open its console at https://EIP:4444/, finish the set-up, \
             turn the API on under Backup & firmware > API with hawaf's address allowed, and enter an \
             administrator's user name and password in step 8"
                    .into()
            }
        }));
    }
    let admin = providers
        .lab()
        .waf_admin(instance_id)
        .ok_or_else(|| no_access(format!("the lab has no WAF node {instance_id}")))?;
    if admin.appliance != kind {
        return Err(no_access(format!(
            "the lab node runs {}, not {} (waf.kind {})",
            admin.appliance.title(),
            kind.title(),
            kind.as_str()
        )));
    }
    let base = admin
        .api_url
        .trim_end_matches('/')
        .trim_end_matches("/api")
        .trim_end_matches(crate::waf::sfos::API_PATH)
        .to_owned();
    let fingerprint = Fingerprint::of_der(&admin.certificate_der);
    let credential = match admin.appliance {
        WafKind::Utm9 => admin.token,
        WafKind::Sfos => Credentials::new(&admin.username, Secret::new(admin.token))
            .map_err(|e| no_access(e.to_string()))?
            .to_sealable(),
    };
    let sealed = secrets.seal_for(&credential, &token_context(stack_id, node));
    store.upsert_waf_node(stack_id, node, &base, &sealed, &fingerprint.hex()).await?;
    driver(kind, def, &base, Secret::new(credential), Pin(fingerprint)).map_err(|e| no_access(e.to_string()))
}

/// The appliance a node runs: the definition's, except for a node that an
/// unfinished replacement (UTM 9 to Sophos Firewall) has already moved.
pub async fn node_kind(
    store: &Store,
    stack_id: i64,
    def: &StackDefinition,
    node: &str,
    instance_id: &str,
) -> Result<WafKind, StoreError> {
    if def.waf_kind() == WafKind::Sfos {
        return Ok(WafKind::Sfos);
    }
    let Some(row) = store.last_appliance_run(stack_id).await? else { return Ok(def.waf_kind()) };
    let moved = serde_json::from_str::<crate::contract::ApplianceRun>(&row.report).is_ok_and(|run| {
        run.version.is_none()
            && run.nodes.iter().any(|n| n.node == node && n.to_instance.as_deref() == Some(instance_id))
    });
    Ok(if moved { WafKind::Sfos } else { def.waf_kind() })
}

/// What a WAF node's sealed token is bound to: it opens for this node of
/// this stack only.
fn token_context(stack_id: i64, node: &str) -> String {
    format!("waf-node:{stack_id}:{node}")
}

async fn audit(store: &Store, actor: &str, action: &str, target: String, outcome: &str, detail: String) {
    let entry = NewAudit { actor, action, target: &target, outcome, detail };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
}

/// Turns a WAF node's switch on or off and returns the state read back
/// from the node. It runs to its end even when the request that asked is
/// cancelled (a timeout, a closed connection): a hold written and never
/// settled, or an action left out of the audit log, would mislead.
pub async fn set_waf(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    enabled: bool,
    authority: Authority<'_>,
    actor: &str,
) -> Result<bool, NodeError> {
    let job = Job::new(app, stack_name, node_name, authority, actor);
    to_the_end("WAF switch", async move {
        set_waf_here(&job.app, &job.stack, &job.node, enabled, job.authority.as_ref(), &job.actor).await
    })
    .await
}

/// A node action's arguments, owned, for the task that carries it out.
struct Job {
    app: SharedApp,
    stack: String,
    node: String,
    authority: guard::OwnedAuthority,
    actor: String,
}

impl Job {
    fn new(app: &SharedApp, stack: &str, node: &str, authority: Authority<'_>, actor: &str) -> Self {
        Job {
            app: app.clone(),
            stack: stack.to_owned(),
            node: node.to_owned(),
            authority: authority.owned(),
            actor: actor.to_owned(),
        }
    }
}

/// Runs a node action in a task of its own, so it ends (hold settled,
/// audit written) even if the request that asked is dropped.
async fn to_the_end<T: Send + 'static>(
    what: &str,
    action: impl std::future::Future<Output = Result<T, NodeError>> + Send + 'static,
) -> Result<T, NodeError> {
    tokio::spawn(action).await.map_err(|e| NodeError::Provider(format!("the {what} task failed: {e}")))?
}

async fn set_waf_here(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    enabled: bool,
    authority: Authority<'_>,
    actor: &str,
) -> Result<bool, NodeError> {
    let change = Change::of_waf(enabled);
    let result = async {
        let node = find_waf(app, stack_name, node_name).await?;
        // Locked once the node is known, so mistyped names add no locks.
        let _serialised = app.node_locks.lock(&node.stack.row.name).await;
        guard::check(app, &node, change, authority).await?;
        let fresh = guard::before(app, &node, change, authority, actor).await?;
        let result = async {
            let d = &node.stack.definition;
            let client = waf_client(app, node.stack.row.id, d, &node.name, &node.instance_id).await?;
            client.set_enabled(enabled).await.map_err(|source| NodeError::Waf { node: node.name.clone(), source })
        }
        .await;
        // The node's own answer decides the hold; without one, a failed
        // disable holds nothing and a failed enable keeps its hold.
        let held = match &result {
            Ok(state) => !state,
            Err(_) => enabled,
        };
        guard::after(app, &node, change, held, fresh).await;
        result
    }
    .await;
    let (outcome, detail) = match &result {
        Ok(state) => ("ok", format!("asked {}, node reports {}", on_off(enabled), on_off(*state))),
        Err(e) => (outcome_of(e), e.to_string()),
    };
    audit(
        &app.store,
        actor,
        if enabled { "waf.enable" } else { "waf.disable" },
        format!("{stack_name}/{node_name}"),
        outcome,
        detail,
    )
    .await;
    result
}

/// How an error is audited: the guardrail refuses, everything else fails.
fn outcome_of(e: &NodeError) -> &'static str {
    match e {
        NodeError::LastPath { .. } | NodeError::DrillLastPath { .. } => "refused",
        _ => "failed",
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "enabled" } else { "disabled" }
}

/// Reads a WAF node's switch from the node itself.
pub async fn waf_enabled(app: &SharedApp, stack_name: &str, node_name: &str) -> Result<bool, NodeError> {
    let node = find(app, stack_name, node_name).await?;
    let d = &node.stack.definition;
    let client = waf_client(app, node.stack.row.id, d, &node.name, &node.instance_id).await?;
    client.last().enabled().await.map_err(|source| NodeError::Waf { node: node.name.clone(), source })
}

/// Injects (or undoes) a fault on a node; like `set_waf`, to its end.
pub async fn inject(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    fault: Fault,
    authority: Authority<'_>,
    actor: &str,
) -> Result<(), NodeError> {
    let job = Job::new(app, stack_name, node_name, authority, actor);
    to_the_end("fault", async move {
        inject_here(&job.app, &job.stack, &job.node, fault, job.authority.as_ref(), &job.actor).await
    })
    .await
}

async fn inject_here(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    fault: Fault,
    authority: Authority<'_>,
    actor: &str,
) -> Result<(), NodeError> {
    let change = Change::of_fault(fault);
    let result = async {
        let node = find(app, stack_name, node_name).await?;
        let _serialised = app.node_locks.lock(&node.stack.row.name).await;
        if matches!(fault, Fault::StopHttpd | Fault::StartHttpd) && node.role.is_waf() {
            return Err(NodeError::WrongRole { fault, node: node.name.clone() });
        }
        guard::check(app, &node, change, authority).await?;
        let fresh = guard::before(app, &node, change, authority, actor).await?;
        let result = apply_fault(app, &node, fault).await;
        // A fault that failed to land holds nothing; a restore that failed
        // leaves the node held, as it may well still be down.
        let held = match change {
            Change::Takes(_) => result.is_ok(),
            Change::Lifts(_) => result.is_err(),
        };
        guard::after(app, &node, change, held, fresh).await;
        result
    }
    .await;
    let (outcome, detail) = match &result {
        Ok(()) => ("ok", String::new()),
        Err(e) => (outcome_of(e), e.to_string()),
    };
    audit(&app.store, actor, &format!("fault.{fault}"), format!("{stack_name}/{node_name}"), outcome, detail).await;
    result
}

async fn apply_fault(app: &SharedApp, node: &Node, fault: Fault) -> Result<(), NodeError> {
    let d = &node.stack.definition;
    let id = node.instance_id.as_str();
    let cloud_err = |source| NodeError::Cloud { node: node.name.clone(), source };
    match fault {
        Fault::StopInstance | Fault::StartInstance => {
            let cloud = app.providers.cloud_for(d).map_err(NodeError::Provider)?;
            if fault == Fault::StopInstance { cloud.stop_instance(id).await } else { cloud.start_instance(id).await }
                .map_err(cloud_err)
        }
        _ => {
            let faults = app.providers.faults_for(d).map_err(NodeError::Provider)?;
            match fault {
                Fault::StopHttpd => faults.stop_httpd(id).await,
                Fault::StartHttpd => faults.start_httpd(id).await,
                Fault::Isolate => faults.isolate(id).await,
                _ => faults.unisolate(id).await,
            }
            .map_err(cloud_err)
        }
    }
}

/// Where an operator reaches a WAF node's WebAdmin: its Elastic IP on port
/// 4444 on AWS (the seed's `https://EIP:4444/`), its loopback address on the lab.
pub async fn console_url(store: &Store, providers: &Providers, stack: &Stack, role: InstanceRole) -> Option<String> {
    let rows = store.live_resources(stack.row.id).await.ok()?;
    let find = |logical: String| rows.iter().find(|r| r.logical_id == logical);
    if stack.definition.provider() == Provider::Lab {
        let id = &find(format!("instance/{}", role.as_str()))?.physical_id;
        let admin = providers.lab().waf_admin(id)?;
        return Some(admin.api_url.trim_end_matches('/').trim_end_matches("/api").to_owned() + "/");
    }
    let eip = find(format!("eip/{}", role.as_str()))?;
    let attrs: serde_json::Value = serde_json::from_str(&eip.attributes).ok()?;
    Some(format!("https://{}:4444/", attrs["public_ip"].as_str()?))
}

/// Trust on first use, step one: the certificate the node presents, for the
/// operator to compare with what WebAdmin shows. No token is sent.
pub async fn probe(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    api_url: &str,
) -> Result<Fingerprint, NodeError> {
    let node = find_waf(app, stack_name, node_name).await?;
    crate::waf::probe_fingerprint(api_url).await.map_err(|source| NodeError::Waf { node: node.name.clone(), source })
}

/// What the operator gives for a node's API: UTM 9's REST token, or a
/// Sophos Firewall administrator's user name and password.
#[derive(Clone, Copy)]
pub struct Credential<'a> {
    pub username: Option<&'a str>,
    pub secret: &'a str,
}

/// Trust on first use, step two: the operator confirmed the fingerprint and
/// gave the API credential. Both are checked against the node (a pinned,
/// authenticated read) before anything is stored; the credential is sealed.
pub async fn save_access(
    app: &SharedApp,
    stack_name: &str,
    node_name: &str,
    api_url: &str,
    credential: Credential<'_>,
    fingerprint: &str,
    actor: &str,
) -> Result<(), NodeError> {
    let result = async {
        let node = find_waf(app, stack_name, node_name).await?;
        let no_access = |message: String| NodeError::NoAccess { node: node.name.clone(), message };
        let waf_err = |source| NodeError::Waf { node: node.name.clone(), source };
        let pin: Fingerprint = fingerprint
            .parse()
            .map_err(|e: crate::waf::BadFingerprint| no_access(format!("the fingerprint is not a SHA-256: {e}")))?;
        let d = &node.stack.definition;
        let kind = node_kind(&app.store, node.stack.row.id, d, &node.name, &node.instance_id).await?;
        let secret = credential.secret.trim();
        let (sealable, what) = match kind {
            WafKind::Utm9 => {
                if secret.is_empty() {
                    return Err(no_access("the REST API token is empty".into()));
                }
                (secret.to_owned(), "REST API token")
            }
            WafKind::Sfos => {
                let user = credential.username.unwrap_or_default();
                if user.trim().is_empty() {
                    return Err(no_access("a Sophos Firewall node needs the API administrator's user name".into()));
                }
                // A password is taken as typed: spaces may be part of it.
                let c = Credentials::new(user, Secret::new(credential.secret)).map_err(waf_err)?;
                (c.to_sealable(), "administrator credentials")
            }
        };
        let client = driver(kind, d, api_url, Secret::new(sealable.clone()), Pin(pin)).map_err(waf_err)?;
        // A pinned, authenticated read proves the address, certificate and credential.
        let base = match &client {
            WafDriver::Utm(c) => {
                c.list::<crate::waf::Frontend>().await.map_err(waf_err)?;
                c.base_url().to_string()
            }
            WafDriver::Sfos { client: c, .. } => {
                c.facts().await.map_err(waf_err)?;
                c.base_url().to_string()
            }
        };
        let sealed = app.secrets.seal_for(&sealable, &token_context(node.stack.row.id, &node.name));
        app.store.upsert_waf_node(node.stack.row.id, &node.name, &base, &sealed, &pin.hex()).await?;
        Ok(what)
    }
    .await;
    let (outcome, detail) = match &result {
        Ok(what) => ("ok", format!("certificate {fingerprint} pinned, {what} stored sealed")),
        Err(e) => ("failed", e.to_string()),
    };
    audit(&app.store, actor, "waf.access", format!("{stack_name}/{node_name}"), outcome, detail).await;
    result.map(|_| ())
}
