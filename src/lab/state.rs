//! The lab's whole model: every resource the Cloud port created, the WAF
//! nodes' UTM objects and keys, the ports last bound and the health each load
//! balancer sees. It is plain data so it can be snapshotted into SQLite and
//! brought back with `Lab::restore`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::{
    Address, HealthState, Instance, InternetGateway, LoadBalancer, NatGateway, RouteTable, SecurityGroup, Subnet, Vpc,
};

/// Everything needed to bring a lab back exactly as it was.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LabSnapshot {
    pub vpcs: BTreeMap<String, VpcRec>,
    pub subnets: BTreeMap<String, Subnet>,
    pub internet_gateways: BTreeMap<String, InternetGateway>,
    pub route_tables: BTreeMap<String, RouteTable>,
    pub security_groups: BTreeMap<String, SecurityGroup>,
    pub instances: BTreeMap<String, InstanceRec>,
    pub addresses: BTreeMap<String, Address>,
    pub nat_gateways: BTreeMap<String, NatGateway>,
    pub load_balancers: BTreeMap<String, LbRec>,
    /// Counter behind the public (EIP) addresses handed out.
    pub next_public_ip: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VpcRec {
    pub vpc: Vpc,
    /// Second octet of every loopback address in this VPC (127.<slot>.x.y).
    pub slot: u8,
    pub main_route_table: String,
    pub default_security_group: String,
}

/// What an instance runs on the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// httpd serving index.html that names the instance.
    Web,
    /// A Sophos UTM 9 node: reverse proxy + WAF + REST API on 4444.
    Waf,
    /// Runs nothing reachable.
    None,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceRec {
    pub instance: Instance,
    pub user_data: Option<String>,
    pub role: Role,
    /// Fault: the web server (or the UTM's reverse proxy) is stopped.
    pub httpd_stopped: bool,
    /// Fault: the groups the instance had before `isolate`.
    pub isolated_from: Option<Vec<String>>,
    /// Instance port -> loopback port last bound, reused on restore.
    pub ports: BTreeMap<u16, u16>,
    pub waf: Option<WafNode>,
    /// Last runtime failure (bind refused, task died), shown on the node.
    pub error: Option<String>,
}

/// A lab UTM node's identity and configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WafNode {
    /// Password of the REST API's `token` user.
    pub token: String,
    /// Self-signed certificate and its PKCS#8 key, DER, base64.
    pub cert_der_b64: String,
    pub key_der_b64: String,
    /// SHA-256 of the certificate's DER, lowercase hex (what clients pin).
    pub fingerprint_sha256: String,
    /// `class/type` -> `_ref` -> object.
    pub objects: BTreeMap<String, BTreeMap<String, Value>>,
    /// Requests blocked, per filter rule.
    pub rule_hits: BTreeMap<String, u64>,
    /// Node settings (`/api/nodes`) set on this node; the rest take their defaults.
    #[serde(default)]
    pub nodes: BTreeMap<String, Value>,
    /// The appliance the node booted (from its image).
    #[serde(default)]
    pub appliance: crate::waf::WafKind,
    /// Sophos Firewall: entity tag -> name -> record, as stored by its XML API.
    #[serde(default)]
    pub entities: BTreeMap<String, BTreeMap<String, crate::xml::Element>>,
    /// Sophos Firewall: the source addresses its API answers.
    #[serde(default = "crate::lab::sfos::default_api_allowed")]
    pub api_allowed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LbRec {
    pub lb: LoadBalancer,
    /// The ELB node's private address (taken from its first subnet).
    pub private_ip: Ipv4Addr,
    /// Listener port -> loopback port last bound.
    pub ports: BTreeMap<u16, u16>,
    /// Registered instance -> what the health checker sees.
    pub health: BTreeMap<String, HealthRec>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthRec {
    pub state: HealthState,
    pub reason_code: String,
    pub description: String,
    pub ok_streak: u32,
    pub fail_streak: u32,
    /// Why the last check failed (lab detail, not an AWS field).
    pub last_failure: Option<String>,
    /// Unix milliseconds of the last state change.
    pub since_ms: u64,
}

pub const DESC_REGISTERING: &str = "Instance registration is still in progress.";
pub const DESC_UNHEALTHY: &str =
    "Instance has failed at least the UnhealthyThreshold number of health checks consecutively.";
pub const DESC_IN_SERVICE: &str = "N/A";

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl HealthRec {
    pub fn registering() -> Self {
        Self {
            state: HealthState::OutOfService,
            reason_code: "ELB".into(),
            description: DESC_REGISTERING.into(),
            ok_streak: 0,
            fail_streak: 0,
            last_failure: None,
            since_ms: now_ms(),
        }
    }
}

/// A fresh AWS-looking id: prefix + 17 hex digits.
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{prefix}-{:017x}", n & ((1u128 << 68) - 1))
}

/// A random secret of `len` alphanumeric characters.
pub fn random_token(len: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
