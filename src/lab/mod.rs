//! The lab: the HA-WAF topology run for real on loopback, behind the same
//! `Cloud` port as AWS (see `adapter` for the trait implementation).
//!
//! - Addressing (see `net`): VPC slot `s` = 1..=254 per `Lab`; a node with
//!   private IP `p` listens on `127.s.<p - vpc network as 16 bits>`, on ports
//!   the OS picks. 127.0.0.1 (any address outside the slots) is the internet:
//!   CIDR rules match it by that address, so the lab's "admin CIDR" is
//!   `127.0.0.1/32`. Use one `Lab` for all lab stacks of a process: slots are
//!   unique within a `Lab`.
//! - Roles: an instance's tag `hawaf:role` = `web` (httpd on port 80) or
//!   `waf` (UTM 9 node: REST API on 4444, reverse proxy + WAF on the ports of
//!   its enabled frontends). Without the tag (launched by hand), an image of
//!   [`UTM9_IMAGES`] runs a UTM, user data naming `httpd` a web server.
//! - Load balancers: one node per LB, with a private IP taken from its first
//!   subnet; DNS names `[internal-]NAME-N.REGION.elb.localhost` resolve inside
//!   the lab (`Lab::resolve`), and `Lab::lb_url` gives the URL for a browser.
//! - Timing: `LabConfig::speedup` divides health-check intervals and
//!   timeouts; the API still validates and reports AWS values.
//! - Failures (a port that cannot be bound, an accept loop or checker that
//!   dies) are logged and recorded on the node (`Lab::node_status`), and the
//!   next reconcile tries again.
//!
//! Shape: one [`Lab`] holds one mutex-guarded [`World`] (the serialisable
//! model plus the handles of the running servers). Every mutation goes
//! through the model first and then [`reconcile`], which opens or closes real
//! loopback listeners until they match the model, and bumps the version that
//! [`Lab::subscribe`] watches, so the main crate can persist a fresh
//! [`LabSnapshot`] after every change.

mod adapter;
pub mod ec2;
pub mod elb;
mod faults;
pub mod http;
pub mod lb;
pub mod net;
pub mod sfos;
pub mod state;
pub mod utm;
pub mod waf;
pub mod web;

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::cloud::{CloudError, CloudResult, ErrorCode, InstanceState, TAG_NAME, TAG_STACK, Tags};
use net::{Gate, ListenerHandle, Peer, PeerNode};
pub use state::LabSnapshot;
use state::{InstanceRec, Role};
pub use utm::UTM9_IMAGES;

/// Lab settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabConfig {
    /// Divides every health-check duration (interval, timeout). 1 = AWS
    /// timing. Tests use e.g. 10 so an AWS-legal interval of 5 s runs every
    /// 500 ms; the API still validates and reports the AWS values.
    pub speedup: u32,
    /// Used in load-balancer DNS names.
    pub region: String,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self { speedup: 1, region: "lab-1".into() }
    }
}

impl LabConfig {
    /// `secs` of AWS time in lab time.
    pub fn scaled(&self, secs: u32) -> Duration {
        let ms = u64::from(secs) * 1000 / u64::from(self.speedup.max(1));
        Duration::from_millis(ms.max(20))
    }
}

/// What a server listening for a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListenerKind {
    Httpd,
    WafFrontend,
    UtmAdmin,
    Balancer { instance_port: u16 },
}

/// The key of a node in the runtime tables: an instance id, or `lb/NAME`.
pub(crate) fn lb_key(name: &str) -> String {
    format!("lb/{name}")
}

pub(crate) struct Running {
    kind: ListenerKind,
    handle: ListenerHandle,
}

/// Handle of a background task that ends with its owner.
pub(crate) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Default)]
pub(crate) struct Runtime {
    listeners: HashMap<(String, u16), Running>,
    checkers: HashMap<String, AbortOnDrop>,
    /// Wakes a load balancer's checker early (new registration or check).
    kicks: HashMap<String, Arc<tokio::sync::Notify>>,
    pub(crate) round_robin: HashMap<String, usize>,
}

pub(crate) struct World {
    pub(crate) snap: LabSnapshot,
    pub(crate) rt: Runtime,
}

pub(crate) struct Shared {
    world: Mutex<World>,
    version: watch::Sender<u64>,
    /// Moves only when a load balancer's health check changes an instance's state.
    health: watch::Sender<u64>,
    pub(crate) cfg: LabConfig,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves plain data behind, still
        // consistent enough to serve and snapshot: keep going.
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn bump(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// An instance went in or out of service somewhere (also a mutation).
    pub(crate) fn bump_health(&self) {
        self.health.send_modify(|v| *v += 1);
        self.bump();
    }
}

/// The loopback lab. Cheap to clone; dropping the last clone stops every
/// server it runs.
#[derive(Clone)]
pub struct Lab {
    inner: Arc<LabInner>,
}

struct LabInner {
    shared: Arc<Shared>,
}

impl Drop for LabInner {
    fn drop(&mut self) {
        let rt = std::mem::take(&mut self.shared.lock().rt);
        drop(rt);
    }
}

/// A WAF node's REST API, as the main crate's UTM client needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WafAdmin {
    /// `https://127.s.x.y:PORT/api/` (UTM 9) or
    /// `https://127.s.x.y:PORT/webconsole/APIController` (Sophos Firewall).
    pub api_url: String,
    pub appliance: crate::waf::WafKind,
    /// The API's user: `token` for UTM 9's REST API, an administrator for SFOS's.
    pub username: String,
    /// The REST token (UTM 9) or the administrator's password (SFOS).
    pub token: String,
    /// SHA-256 of the certificate (DER), lowercase hex without separators.
    pub fingerprint_sha256: String,
    pub certificate_der: Vec<u8>,
}

/// A node as the lab runs it: where it listens and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub node: String,
    pub loopback_ip: Option<Ipv4Addr>,
    /// Instance/listener port -> loopback socket actually listening.
    pub listeners: BTreeMap<u16, SocketAddr>,
    pub error: Option<String>,
}

impl Default for Lab {
    fn default() -> Self {
        Self::new(LabConfig::default())
    }
}

impl Lab {
    /// An empty lab. Must be called inside a Tokio runtime.
    pub fn new(cfg: LabConfig) -> Self {
        Self::from_snapshot(cfg, LabSnapshot::default())
    }

    /// Brings a lab back from a snapshot: every running instance, load
    /// balancer, WAF configuration, fault, token and certificate, on the same
    /// ports where they are free. Must be called inside a Tokio runtime.
    pub fn restore(cfg: LabConfig, snapshot: LabSnapshot) -> Self {
        Self::from_snapshot(cfg, snapshot)
    }

    fn from_snapshot(cfg: LabConfig, snap: LabSnapshot) -> Self {
        let (version, _) = watch::channel(0);
        let (health, _) = watch::channel(0);
        let shared =
            Arc::new(Shared { world: Mutex::new(World { snap, rt: Runtime::default() }), version, health, cfg });
        {
            let mut w = shared.lock();
            reconcile(&shared, &mut w);
        }
        Self { inner: Arc::new(LabInner { shared }) }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    pub fn config(&self) -> &LabConfig {
        &self.shared().cfg
    }

    /// The whole state, for persisting.
    pub fn snapshot(&self) -> LabSnapshot {
        self.shared().lock().snap.clone()
    }

    /// A counter that moves after every mutation (API call, UTM REST change,
    /// fault, health transition, node failure): persist a snapshot when it
    /// changes.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.shared().version.subscribe()
    }

    /// A counter that moves whenever a load balancer takes an instance in or
    /// out of service: health monitors poll then instead of at their next tick.
    pub fn subscribe_health(&self) -> watch::Receiver<u64> {
        self.shared().health.subscribe()
    }

    /// Runs `f` on the world, then reconciles the servers and notifies
    /// subscribers if `f` succeeded.
    pub(crate) fn mutate<T>(&self, f: impl FnOnce(&mut World) -> CloudResult<T>) -> CloudResult<T> {
        let shared = self.shared();
        let mut w = shared.lock();
        let out = f(&mut w)?;
        reconcile(shared, &mut w);
        drop(w);
        shared.bump();
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&World) -> CloudResult<T>) -> CloudResult<T> {
        f(&self.shared().lock())
    }

    /// Where a node's port really listens (`None` when nothing does).
    pub fn instance_addr(&self, instance_id: &str, port: u16) -> Option<SocketAddr> {
        listener_addr(&self.shared().lock(), instance_id, port)
    }

    /// The socket a load balancer's listener port is served on.
    pub fn lb_addr(&self, name: &str, port: u16) -> Option<SocketAddr> {
        listener_addr(&self.shared().lock(), &lb_key(name), port)
    }

    /// `http://127.s.x.y:PORT/` for a load balancer's port-80 listener
    /// (the first listener if it has no port 80).
    pub fn lb_url(&self, name: &str) -> Option<String> {
        let w = self.shared().lock();
        let lb = w.snap.load_balancers.get(name)?;
        let port = lb
            .lb
            .listeners
            .iter()
            .map(|l| l.load_balancer_port)
            .find(|p| *p == 80)
            .or_else(|| lb.lb.listeners.first().map(|l| l.load_balancer_port))?;
        listener_addr(&w, &lb_key(name), port).map(|a| format!("http://{a}/"))
    }

    /// Resolves a lab DNS name (a load balancer's DNS name, or a private IP
    /// of a node) and port to the loopback socket that serves it.
    pub fn resolve(&self, host: &str, port: u16) -> Option<SocketAddr> {
        resolve(&self.shared().lock(), host, port)
    }

    /// One WAF node on its own (VPC, subnet, a security group that admits
    /// 127.0.0.1 to the admin port): a UTM to talk to without a stack, for
    /// the client's and the conformance suite's tests.
    pub async fn lone_waf_node(&self) -> CloudResult<WafAdmin> {
        use crate::cloud::{Cloud, IngressRule, RunInstanceRequest, TAG_ROLE};
        let tags = |name: &str| Tags::from([(TAG_NAME.into(), name.into()), (TAG_STACK.into(), "lone".into())]);
        // Fixed, valid literals: parsing them cannot fail.
        let net = |s: &str| {
            s.parse::<ipnet::Ipv4Net>().map_err(|e| CloudError::of(ErrorCode::InvalidParameterValue, e.to_string()))
        };
        let vpc = self.create_vpc(net("10.0.0.0/16")?, tags("v")).await?.id;
        let subnet = self.create_subnet(&vpc, net("10.0.10.0/24")?, "us-east-1a", tags("s")).await?.id;
        let sg = self.create_security_group(&vpc, "secg-utm", "utm", tags("g")).await?.id;
        self.authorize_ingress(&sg, &[IngressRule::tcp_from_cidr(utm::ADMIN_PORT, net("127.0.0.1/32")?)]).await?;
        let mut node_tags = tags("ha-utm-left");
        node_tags.insert(TAG_ROLE.into(), "waf".into());
        let request = RunInstanceRequest {
            subnet_id: subnet,
            image_id: "ami-12345678".into(),
            instance_type: "m1.small".into(),
            private_ip: Some(Ipv4Addr::new(10, 0, 10, 10)),
            security_groups: vec![sg],
            user_data: None,
            client_token: None,
            tags: node_tags,
        };
        let id = self.run_instance(request).await?.id;
        self.waf_admin(&id).ok_or_else(|| CloudError::of(ErrorCode::InvalidInstance, format!("{id} has no admin port")))
    }

    /// A WAF node's REST endpoint, token and certificate fingerprint.
    pub fn waf_admin(&self, instance_id: &str) -> Option<WafAdmin> {
        let w = self.shared().lock();
        let rec = w.snap.instances.get(instance_id)?;
        let node = rec.waf.as_ref()?;
        let addr = listener_addr(&w, instance_id, utm::ADMIN_PORT)?;
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD.decode(&node.cert_der_b64).ok()?;
        let (api_url, username) = match node.appliance {
            crate::waf::WafKind::Utm9 => (format!("https://{addr}/api/"), "token"),
            crate::waf::WafKind::Sfos => (format!("https://{addr}/webconsole/APIController"), sfos::API_USER),
        };
        Some(WafAdmin {
            api_url,
            appliance: node.appliance,
            username: username.to_owned(),
            token: node.token.clone(),
            fingerprint_sha256: node.fingerprint_sha256.clone(),
            certificate_der: der,
        })
    }

    /// Sets the source addresses a Sophos Firewall node's API answers, as
    /// an operator does under Backup & firmware > API. Errs on other nodes.
    pub fn set_api_allowed(&self, instance_id: &str, allowed: Vec<String>) -> Result<(), String> {
        let mut w = self.shared().lock();
        let node = w.snap.instances.get_mut(instance_id).and_then(|r| r.waf.as_mut()).ok_or("not a WAF node")?;
        if node.appliance != crate::waf::WafKind::Sfos {
            return Err("the API allow-list is a Sophos Firewall setting".into());
        }
        node.api_allowed = allowed;
        Ok(())
    }

    /// Requests a WAF node blocked, per rule.
    pub fn waf_rule_hits(&self, instance_id: &str) -> BTreeMap<String, u64> {
        let w = self.shared().lock();
        w.snap.instances.get(instance_id).and_then(|r| r.waf.as_ref()).map(|n| n.rule_hits.clone()).unwrap_or_default()
    }

    /// Where a node (instance id or load-balancer name) listens, and its
    /// last runtime error.
    pub fn node_status(&self, node: &str) -> Option<NodeStatus> {
        let w = self.shared().lock();
        let (key, ip, error) = if let Some(rec) = w.snap.instances.get(node) {
            (node.to_string(), instance_loopback(&w, rec), rec.error.clone())
        } else if let Some(lb) = w.snap.load_balancers.get(node) {
            (lb_key(node), lb_loopback(&w, &lb.lb.vpc_id, lb.private_ip), lb.error.clone())
        } else {
            return None;
        };
        let listeners =
            w.rt.listeners.iter().filter(|((k, _), _)| *k == key).map(|((_, p), r)| (*p, r.handle.addr)).collect();
        Some(NodeStatus { node: node.to_string(), loopback_ip: ip, listeners, error })
    }
}

pub use crate::cloud::QUARANTINE_GROUP;

impl World {
    pub(crate) fn instance_mut(&mut self, id: &str) -> CloudResult<&mut InstanceRec> {
        self.snap.instances.get_mut(id).ok_or_else(|| instance_not_found(id))
    }

    /// Who is behind a loopback source address.
    pub(crate) fn peer(&self, addr: Ipv4Addr) -> Peer {
        let [_, slot, _, _] = addr.octets();
        let node = self.snap.vpcs.values().find(|v| v.slot == slot && slot != 0).and_then(|vpc| {
            let private = net::private_for(vpc.vpc.cidr, addr);
            let vpc_id = &vpc.vpc.id;
            let inst = self.snap.instances.values().find(|r| {
                r.instance.vpc_id == *vpc_id
                    && r.instance.private_ip == private
                    && r.instance.state == InstanceState::Running
            });
            if let Some(r) = inst {
                return Some(PeerNode {
                    vpc_id: vpc_id.clone(),
                    private_ip: private,
                    groups: r.instance.security_groups.clone(),
                });
            }
            let lb = self.snap.load_balancers.values().find(|l| l.lb.vpc_id == *vpc_id && l.private_ip == private)?;
            Some(PeerNode { vpc_id: vpc_id.clone(), private_ip: private, groups: lb.lb.security_groups.clone() })
        });
        Peer { addr, node }
    }

    /// Do the current groups of `node` (instance id or `lb/NAME`) admit a
    /// TCP connection to `port` from `src`?
    pub(crate) fn admits(&self, node: &str, port: u16, src: Ipv4Addr) -> bool {
        let (vpc_id, groups) = if let Some(name) = node.strip_prefix("lb/") {
            match self.snap.load_balancers.get(name) {
                Some(lb) => (&lb.lb.vpc_id, &lb.lb.security_groups),
                None => return false,
            }
        } else {
            match self.snap.instances.get(node) {
                Some(r) => (&r.instance.vpc_id, &r.instance.security_groups),
                None => return false,
            }
        };
        let gs: Vec<_> = groups.iter().filter_map(|g| self.snap.security_groups.get(g)).collect();
        net::sg_allows(&gs, vpc_id, port, &self.peer(src))
    }

    /// Runs a load balancer's next health check now rather than after the
    /// current interval (AWS starts checking soon after a registration).
    pub(crate) fn kick_checker(&self, lb: &str) {
        if let Some(k) = self.rt.kicks.get(lb) {
            k.notify_one();
        }
    }

    pub(crate) fn record_error(&mut self, node: &str, error: Option<String>) {
        if let Some(name) = node.strip_prefix("lb/") {
            if let Some(lb) = self.snap.load_balancers.get_mut(name) {
                lb.error = error;
            }
        } else if let Some(r) = self.snap.instances.get_mut(node) {
            r.error = error;
        }
    }
}

pub(crate) fn instance_not_found(id: &str) -> CloudError {
    CloudError::of(ErrorCode::InvalidInstanceIdNotFound, format!("The instance ID '{id}' does not exist"))
}

pub(crate) fn listener_addr(w: &World, node: &str, port: u16) -> Option<SocketAddr> {
    w.rt.listeners.get(&(node.to_string(), port)).map(|r| r.handle.addr)
}

pub(crate) fn instance_loopback(w: &World, rec: &InstanceRec) -> Option<Ipv4Addr> {
    let vpc = w.snap.vpcs.get(&rec.instance.vpc_id)?;
    net::loopback_for(vpc.slot, vpc.vpc.cidr, rec.instance.private_ip)
}

pub(crate) fn lb_loopback(w: &World, vpc_id: &str, private_ip: Ipv4Addr) -> Option<Ipv4Addr> {
    let vpc = w.snap.vpcs.get(vpc_id)?;
    net::loopback_for(vpc.slot, vpc.vpc.cidr, private_ip)
}

pub(crate) fn resolve(w: &World, host: &str, port: u16) -> Option<SocketAddr> {
    let host = host.trim_end_matches('.');
    if let Some(lb) = w.snap.load_balancers.values().find(|l| l.lb.dns_name.eq_ignore_ascii_case(host)) {
        return listener_addr(w, &lb_key(&lb.lb.name), port);
    }
    let ip: Ipv4Addr = host.parse().ok()?;
    if let Some(r) =
        w.snap.instances.values().find(|r| r.instance.private_ip == ip && r.instance.state == InstanceState::Running)
    {
        return listener_addr(w, &r.instance.id, port);
    }
    let lb = w.snap.load_balancers.values().find(|l| l.private_ip == ip)?;
    listener_addr(w, &lb_key(&lb.lb.name), port)
}

struct Want {
    key: (String, u16),
    ip: Ipv4Addr,
    kind: ListenerKind,
    preferred: Option<u16>,
}

/// Makes the running servers match the model: opens listeners that should
/// exist, closes those that should not, starts and stops health checkers.
/// Failures are recorded on the node, never raised.
pub(crate) fn reconcile(shared: &Arc<Shared>, w: &mut World) {
    let mut wants = Vec::new();
    for rec in w.snap.instances.values() {
        if rec.instance.state != InstanceState::Running {
            continue;
        }
        let Some(ip) = instance_loopback(w, rec) else {
            continue;
        };
        let id = &rec.instance.id;
        let mut want = |port: u16, kind| {
            wants.push(Want { key: (id.clone(), port), ip, kind, preferred: rec.ports.get(&port).copied() })
        };
        match rec.role {
            Role::Web if !rec.httpd_stopped => want(80, ListenerKind::Httpd),
            Role::Waf => {
                want(utm::ADMIN_PORT, ListenerKind::UtmAdmin);
                if !rec.httpd_stopped
                    && let Some(node) = &rec.waf
                {
                    for port in utm::enabled_frontend_ports(node) {
                        want(port, ListenerKind::WafFrontend);
                    }
                }
            }
            _ => {}
        }
    }
    for lb in w.snap.load_balancers.values() {
        let Some(ip) = lb_loopback(w, &lb.lb.vpc_id, lb.private_ip) else {
            continue;
        };
        for l in &lb.lb.listeners {
            wants.push(Want {
                key: (lb_key(&lb.lb.name), l.load_balancer_port),
                ip,
                kind: ListenerKind::Balancer { instance_port: l.instance_port },
                preferred: lb.ports.get(&l.load_balancer_port).copied(),
            });
        }
    }

    let wanted: std::collections::HashSet<_> = wants.iter().map(|x| x.key.clone()).collect();
    // A listener whose accept loop died is dropped here and opened again.
    w.rt.listeners.retain(|k, r| wanted.contains(k) && !r.handle.is_finished());

    for want in wants {
        if w.rt.listeners.get(&want.key).is_some_and(|r| r.kind == want.kind && r.handle.addr.ip() == want.ip) {
            continue;
        }
        let (node, port) = want.key.clone();
        match start_listener(shared, &node, port, want.ip, want.kind, want.preferred, w) {
            Ok(handle) => {
                let bound = handle.addr.port();
                tracing::debug!(%node, port, addr = %handle.addr, "listening");
                set_port(w, &node, port, bound);
                w.record_error(&node, None);
                w.rt.listeners.insert(want.key, Running { kind: want.kind, handle });
            }
            Err(e) => {
                let msg = format!("cannot listen for port {port} on {}: {e}", want.ip);
                tracing::error!(%node, error = %msg, "node failed");
                w.record_error(&node, Some(msg));
            }
        }
    }

    let lbs: Vec<String> = w.snap.load_balancers.keys().cloned().collect();
    w.rt.checkers.retain(|name, task| {
        if task.0.is_finished() && lbs.contains(name) {
            tracing::error!(lb = %name, "health checker died; restarting it");
        }
        lbs.contains(name) && !task.0.is_finished()
    });
    w.rt.kicks.retain(|name, _| lbs.contains(name));
    for name in lbs {
        if !w.rt.checkers.contains_key(&name) {
            let kick = Arc::new(tokio::sync::Notify::new());
            let task = tokio::spawn(lb::run_checker(shared.clone(), name.clone(), kick.clone()));
            w.rt.checkers.insert(name.clone(), AbortOnDrop(task));
            w.rt.kicks.insert(name, kick);
        }
    }
}

fn set_port(w: &mut World, node: &str, port: u16, bound: u16) {
    if let Some(name) = node.strip_prefix("lb/") {
        if let Some(lb) = w.snap.load_balancers.get_mut(name) {
            lb.ports.insert(port, bound);
        }
    } else if let Some(r) = w.snap.instances.get_mut(node) {
        r.ports.insert(port, bound);
    }
}

fn start_listener(
    shared: &Arc<Shared>,
    node: &str,
    port: u16,
    ip: Ipv4Addr,
    kind: ListenerKind,
    preferred: Option<u16>,
    w: &World,
) -> std::io::Result<ListenerHandle> {
    let std_listener = net::bind(ip, preferred)?;
    let gate: Gate = {
        let shared = shared.clone();
        let node = node.to_string();
        Arc::new(move |src| shared.lock().admits(&node, port, src))
    };
    let on_failure: net::OnFailure = {
        let shared = shared.clone();
        let node = node.to_string();
        Box::new(move |msg| {
            tracing::error!(%node, error = %msg, "node listener died");
            shared.lock().record_error(&node, Some(msg));
            shared.bump();
        })
    };
    let node = node.to_string();
    match kind {
        ListenerKind::Httpd => {
            let name = w
                .snap
                .instances
                .get(&node)
                .and_then(|r| r.instance.tags.get(TAG_NAME).cloned())
                .unwrap_or_else(|| node.clone());
            net::spawn_listener(std_listener, gate, on_failure, move |s, _| web::serve(s, name.clone()))
        }
        ListenerKind::WafFrontend => {
            let shared = shared.clone();
            net::spawn_listener(std_listener, gate, on_failure, move |s, peer| {
                waf::serve(shared.clone(), node.clone(), port, ip, s, peer)
            })
        }
        ListenerKind::UtmAdmin => {
            let tls = w
                .snap
                .instances
                .get(&node)
                .and_then(|r| r.waf.as_ref())
                .ok_or_else(|| std::io::Error::other("instance has no UTM identity"))
                .and_then(utm::tls_acceptor)?;
            let shared = shared.clone();
            net::spawn_listener(std_listener, gate, on_failure, move |s, _| {
                utm::serve(shared.clone(), node.clone(), tls.clone(), s)
            })
        }
        ListenerKind::Balancer { instance_port } => {
            let shared = shared.clone();
            let name = node.trim_start_matches("lb/").to_string();
            let network = w.snap.load_balancers.get(&name).is_some_and(|l| l.lb.kind == crate::cloud::LbKind::Network);
            if network {
                net::spawn_listener(std_listener, gate, on_failure, move |s, _| {
                    lb::relay_tcp(shared.clone(), name.clone(), instance_port, ip, s)
                })
            } else {
                net::spawn_listener(std_listener, gate, on_failure, move |s, peer| {
                    lb::serve(shared.clone(), name.clone(), instance_port, ip, s, peer)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests;
