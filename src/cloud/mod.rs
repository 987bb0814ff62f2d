//! The `Cloud` port: the EC2 and classic-ELB operations the eight build steps
//! need, in AWS's own vocabulary (ids such as `vpc-…`, error codes such as
//! `InvalidSubnet.Range`). The build engine talks only to this trait, so the
//! AWS adapter and the loopback lab share one code path.

pub mod aws;
mod error;

pub use error::{CloudError, CloudResult, ErrorCode};

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use async_trait::async_trait;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

/// Resource tags (`Name`, `hawaf:stack`, `hawaf:role`, …).
pub type Tags = BTreeMap<String, String>;

/// Tag that names the stack a resource belongs to.
pub const TAG_STACK: &str = "hawaf:stack";
/// Tag that tells the lab what an instance runs: `web` (httpd) or `waf`
/// (UTM 9 node). The AMI alone cannot tell: the lab has no images.
pub const TAG_ROLE: &str = "hawaf:role";
pub const TAG_NAME: &str = "Name";

/// The security group `Faults::isolate` moves an instance into: no ingress
/// at all. One per VPC, tagged with the stack so a teardown removes it.
pub const QUARANTINE_GROUP: &str = "hawaf-quarantine";

/// Builds a tag map from pairs; a convenience for callers and tests.
pub fn tags<const N: usize>(pairs: [(&str, &str); N]) -> Tags {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

// ---------------------------------------------------------------------------
// Resources

/// Which kind of resource a tag lookup searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceKind {
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    SecurityGroup,
    Instance,
    Address,
    NatGateway,
    LoadBalancer,
}

/// A Describe* filter: ids (empty = any) and tags that must all match.
/// Naming an id that does not exist is an error, as in AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub ids: Vec<String>,
    pub tags: Tags,
}

impl Filter {
    pub fn all() -> Self {
        Self::default()
    }
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        Self { ids: ids.into_iter().map(Into::into).collect(), tags: Tags::new() }
    }
    pub fn tags(tags: Tags) -> Self {
        Self { ids: Vec::new(), tags }
    }
    pub fn matches(&self, id: &str, tags: &Tags) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && self.tags.iter().all(|(k, v)| tags.get(k) == Some(v))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub cidr: Ipv4Net,
    pub state: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub cidr: Ipv4Net,
    pub availability_zone: String,
    pub available_ip_address_count: u32,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub id: String,
    pub attached_vpc: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteTarget {
    Local,
    Gateway(String),
    NatGateway(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: Ipv4Net,
    pub target: RouteTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTableAssociation {
    pub id: String,
    pub subnet_id: Option<String>,
    pub main: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub routes: Vec<Route>,
    pub associations: Vec<RouteTableAssociation>,
    pub tags: Tags,
}

/// Where an ingress rule admits traffic from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleSource {
    Cidr(Ipv4Net),
    Group(String),
}

/// One ingress permission. `protocol` is `tcp`, `udp`, `icmp` or `-1` (all).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IngressRule {
    pub protocol: String,
    pub from_port: u16,
    pub to_port: u16,
    pub source: RuleSource,
}

impl IngressRule {
    pub fn tcp(port: u16, source: RuleSource) -> Self {
        Self { protocol: "tcp".into(), from_port: port, to_port: port, source }
    }
    pub fn tcp_from_cidr(port: u16, cidr: Ipv4Net) -> Self {
        Self::tcp(port, RuleSource::Cidr(cidr))
    }
    pub fn tcp_from_group(port: u16, group_id: impl Into<String>) -> Self {
        Self::tcp(port, RuleSource::Group(group_id.into()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub ingress: Vec<IngressRule>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    Stopping,
    Stopped,
    ShuttingDown,
    Terminated,
}

impl InstanceState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub private_ip: Ipv4Addr,
    pub public_ip: Option<Ipv4Addr>,
    pub state: InstanceState,
    pub security_groups: Vec<String>,
    pub client_token: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInstanceRequest {
    pub subnet_id: String,
    pub image_id: String,
    pub instance_type: String,
    pub private_ip: Option<Ipv4Addr>,
    pub security_groups: Vec<String>,
    pub user_data: Option<String>,
    /// Idempotency token: the same token returns the same instance.
    pub client_token: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub allocation_id: String,
    pub public_ip: Ipv4Addr,
    pub association_id: Option<String>,
    pub instance_id: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NatGateway {
    pub id: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub allocation_id: String,
    pub private_ip: Ipv4Addr,
    /// `available` or `deleted`.
    pub state: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    InternetFacing,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// `HTTP`, `HTTPS`, `TCP` or `SSL`.
    pub protocol: String,
    pub load_balancer_port: u16,
    pub instance_protocol: String,
    pub instance_port: u16,
}

impl Listener {
    pub fn http(lb_port: u16, instance_port: u16) -> Self {
        Self { protocol: "HTTP".into(), load_balancer_port: lb_port, instance_protocol: "HTTP".into(), instance_port }
    }
}

/// A classic ELB health check. `target` is `PROTO:PORT[/path]`, e.g.
/// `HTTP:80/index.html`; durations are in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub target: String,
    pub interval: u32,
    pub timeout: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl HealthCheck {
    /// What classic ELB uses when no health check was configured.
    pub fn aws_default(instance_port: u16) -> Self {
        Self {
            target: format!("TCP:{instance_port}"),
            interval: 30,
            timeout: 5,
            healthy_threshold: 10,
            unhealthy_threshold: 2,
        }
    }

    /// The AWS bounds, with AWS's error code and wording.
    pub fn validate(&self) -> CloudResult<()> {
        let bound = |field: &str, v: u32, lo: u32, hi: u32| -> CloudResult<()> {
            if v < lo {
                return Err(CloudError::of(
                    ErrorCode::ValidationError,
                    format!(
                        "1 validation error detected: Value '{v}' at 'healthCheck.{field}' failed to satisfy constraint: Member must have value greater than or equal to {lo}"
                    ),
                ));
            }
            if v > hi {
                return Err(CloudError::of(
                    ErrorCode::ValidationError,
                    format!(
                        "1 validation error detected: Value '{v}' at 'healthCheck.{field}' failed to satisfy constraint: Member must have value less than or equal to {hi}"
                    ),
                ));
            }
            Ok(())
        };
        bound("interval", self.interval, 5, 300)?;
        bound("timeout", self.timeout, 2, 60)?;
        bound("healthyThreshold", self.healthy_threshold, 2, 10)?;
        bound("unhealthyThreshold", self.unhealthy_threshold, 2, 10)?;
        if self.timeout >= self.interval {
            return Err(CloudError::of(ErrorCode::ValidationError, "HealthCheck Timeout must be less than Interval"));
        }
        HealthTarget::parse(&self.target)?;
        Ok(())
    }
}

/// A parsed health-check target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthTarget {
    pub protocol: String,
    pub port: u16,
    pub path: Option<String>,
}

impl HealthTarget {
    pub fn parse(target: &str) -> CloudResult<Self> {
        let invalid = || CloudError::of(ErrorCode::ValidationError, format!("Invalid health check target: {target}"));
        let (proto, rest) = target.split_once(':').ok_or_else(invalid)?;
        let proto = proto.to_ascii_uppercase();
        let (port, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(rest[i..].to_string())),
            None => (rest, None),
        };
        let port: u16 = port.parse().map_err(|_| invalid())?;
        if port == 0 {
            return Err(invalid());
        }
        match (proto.as_str(), &path) {
            ("HTTP" | "HTTPS", Some(_)) | ("TCP" | "SSL", None) => Ok(Self { protocol: proto, port, path }),
            _ => Err(invalid()),
        }
    }
}

/// Which generation of Elastic Load Balancing a load balancer is: the
/// tutorial's classic ELB (API 2012-06-01), or an Application or Network
/// Load Balancer (API 2015-12-01: a load balancer, a target group of
/// instances with the health check, and a listener forwarding to it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LbKind {
    #[default]
    Classic,
    Application,
    Network,
}

impl LbKind {
    pub const ALL: [LbKind; 3] = [LbKind::Classic, LbKind::Application, LbKind::Network];

    pub fn as_str(self) -> &'static str {
        match self {
            LbKind::Classic => "classic",
            LbKind::Application => "application",
            LbKind::Network => "network",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_ascii_lowercase().as_str() {
            "classic" => Ok(LbKind::Classic),
            "application" => Ok(LbKind::Application),
            "network" => Ok(LbKind::Network),
            _ => Err(format!("the load balancer kind must be classic, application or network, not `{value}`")),
        }
    }

    /// The AWS console's name for it.
    pub fn title(self) -> &'static str {
        match self {
            LbKind::Classic => "Classic Load Balancer",
            LbKind::Application => "Application Load Balancer",
            LbKind::Network => "Network Load Balancer",
        }
    }

    pub fn is_v2(self) -> bool {
        self != LbKind::Classic
    }

    /// The CloudFormation type of the load balancer itself.
    pub fn cfn_type(self) -> &'static str {
        if self.is_v2() {
            "AWS::ElasticLoadBalancingV2::LoadBalancer"
        } else {
            "AWS::ElasticLoadBalancing::LoadBalancer"
        }
    }

    /// hawaf's one listener on port 80 for this kind: HTTP, or TCP through a
    /// network load balancer.
    pub fn listener(self) -> Listener {
        match self {
            LbKind::Network => Listener {
                protocol: "TCP".into(),
                load_balancer_port: 80,
                instance_protocol: "TCP".into(),
                instance_port: 80,
            },
            _ => Listener::http(80, 80),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateLoadBalancerRequest {
    pub name: String,
    #[serde(default)]
    pub kind: LbKind,
    pub scheme: Scheme,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub listeners: Vec<Listener>,
    pub tags: Tags,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub name: String,
    #[serde(default)]
    pub kind: LbKind,
    pub dns_name: String,
    pub scheme: Scheme,
    pub vpc_id: String,
    pub subnets: Vec<String>,
    pub availability_zones: Vec<String>,
    pub security_groups: Vec<String>,
    pub listeners: Vec<Listener>,
    pub health_check: HealthCheck,
    pub instances: Vec<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthState {
    InService,
    OutOfService,
    Unknown,
}

impl HealthState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InService => "InService",
            Self::OutOfService => "OutOfService",
            Self::Unknown => "Unknown",
        }
    }

    /// The inverse of `as_str`; anything else is `Unknown`.
    pub fn parse(s: &str) -> Self {
        match s {
            "InService" => Self::InService,
            "OutOfService" => Self::OutOfService,
            _ => Self::Unknown,
        }
    }
}

/// One row of DescribeInstanceHealth. `reason_code` is `Instance`, `ELB`
/// or `N/A`; `description` is worded as AWS does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceHealth {
    pub instance_id: String,
    pub state: HealthState,
    pub reason_code: String,
    pub description: String,
}

// ---------------------------------------------------------------------------
// The port

#[async_trait]
pub trait Cloud: Send + Sync {
    // VPC, subnets, gateways, routes
    async fn create_vpc(&self, cidr: Ipv4Net, tags: Tags) -> CloudResult<Vpc>;
    async fn describe_vpcs(&self, filter: &Filter) -> CloudResult<Vec<Vpc>>;
    async fn delete_vpc(&self, vpc_id: &str) -> CloudResult<()>;

    async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: Ipv4Net,
        availability_zone: &str,
        tags: Tags,
    ) -> CloudResult<Subnet>;
    async fn describe_subnets(&self, filter: &Filter) -> CloudResult<Vec<Subnet>>;
    async fn delete_subnet(&self, subnet_id: &str) -> CloudResult<()>;

    async fn create_internet_gateway(&self, tags: Tags) -> CloudResult<InternetGateway>;
    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()>;
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()>;
    async fn delete_internet_gateway(&self, igw_id: &str) -> CloudResult<()>;
    async fn describe_internet_gateways(&self, filter: &Filter) -> CloudResult<Vec<InternetGateway>>;

    async fn create_route_table(&self, vpc_id: &str, tags: Tags) -> CloudResult<RouteTable>;
    async fn create_route(&self, route_table_id: &str, destination: Ipv4Net, target: RouteTarget) -> CloudResult<()>;
    /// Returns the association id (`rtbassoc-…`).
    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> CloudResult<String>;
    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()>;
    async fn describe_route_tables(&self, filter: &Filter) -> CloudResult<Vec<RouteTable>>;
    async fn delete_route_table(&self, route_table_id: &str) -> CloudResult<()>;

    // Elastic IPs and NAT (protected mode)
    async fn allocate_address(&self, tags: Tags) -> CloudResult<Address>;
    /// Returns the association id (`eipassoc-…`).
    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> CloudResult<String>;
    async fn disassociate_address(&self, association_id: &str) -> CloudResult<()>;
    async fn describe_addresses(&self, filter: &Filter) -> CloudResult<Vec<Address>>;
    async fn release_address(&self, allocation_id: &str) -> CloudResult<()>;

    async fn create_nat_gateway(&self, subnet_id: &str, allocation_id: &str, tags: Tags) -> CloudResult<NatGateway>;
    async fn describe_nat_gateways(&self, filter: &Filter) -> CloudResult<Vec<NatGateway>>;
    async fn delete_nat_gateway(&self, nat_gateway_id: &str) -> CloudResult<()>;

    // Security groups
    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> CloudResult<SecurityGroup>;
    async fn authorize_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()>;
    async fn revoke_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()>;
    async fn describe_security_groups(&self, filter: &Filter) -> CloudResult<Vec<SecurityGroup>>;
    async fn delete_security_group(&self, group_id: &str) -> CloudResult<()>;

    // Instances
    async fn run_instance(&self, request: RunInstanceRequest) -> CloudResult<Instance>;
    async fn describe_instances(&self, filter: &Filter) -> CloudResult<Vec<Instance>>;
    async fn stop_instance(&self, instance_id: &str) -> CloudResult<()>;
    async fn start_instance(&self, instance_id: &str) -> CloudResult<()>;
    async fn terminate_instance(&self, instance_id: &str) -> CloudResult<()>;
    async fn modify_instance_security_groups(&self, instance_id: &str, group_ids: &[String]) -> CloudResult<()>;

    // Classic ELB
    async fn create_load_balancer(&self, request: CreateLoadBalancerRequest) -> CloudResult<LoadBalancer>;
    async fn configure_health_check(&self, lb_name: &str, check: HealthCheck) -> CloudResult<HealthCheck>;
    /// Returns every instance registered after the call.
    async fn register_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>>;
    async fn deregister_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>>;
    /// Empty `instance_ids` = every registered instance.
    async fn describe_instance_health(
        &self,
        lb_name: &str,
        instance_ids: &[String],
    ) -> CloudResult<Vec<InstanceHealth>>;
    /// Empty `names` = every load balancer.
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>>;
    /// Like AWS, deleting a load balancer that does not exist succeeds.
    async fn delete_load_balancer(&self, lb_name: &str) -> CloudResult<()>;

    /// Adds (or overwrites) tags on one resource: EC2's CreateTags, or
    /// AddTags for a load balancer (named by its name). How adoption marks
    /// what a stack built by hand is made of.
    async fn create_tags(&self, kind: ResourceKind, id: &str, tags: &Tags) -> CloudResult<()>;

    /// Ids (names for load balancers) of the resources of `kind` that carry
    /// every tag in `tags`; how the engine finds what a previous run made.
    async fn find_by_tags(&self, kind: ResourceKind, tags: &Tags) -> CloudResult<Vec<String>> {
        let f = Filter::tags(tags.clone());
        Ok(match kind {
            ResourceKind::Vpc => self.describe_vpcs(&f).await?.into_iter().map(|r| r.id).collect(),
            ResourceKind::Subnet => self.describe_subnets(&f).await?.into_iter().map(|r| r.id).collect(),
            ResourceKind::InternetGateway => {
                self.describe_internet_gateways(&f).await?.into_iter().map(|r| r.id).collect()
            }
            ResourceKind::RouteTable => self.describe_route_tables(&f).await?.into_iter().map(|r| r.id).collect(),
            ResourceKind::SecurityGroup => self.describe_security_groups(&f).await?.into_iter().map(|r| r.id).collect(),
            ResourceKind::Instance => self
                .describe_instances(&f)
                .await?
                .into_iter()
                .filter(|i| i.state != InstanceState::Terminated)
                .map(|r| r.id)
                .collect(),
            ResourceKind::Address => self.describe_addresses(&f).await?.into_iter().map(|r| r.allocation_id).collect(),
            ResourceKind::NatGateway => self
                .describe_nat_gateways(&f)
                .await?
                .into_iter()
                .filter(|n| n.state != "deleted")
                .map(|r| r.id)
                .collect(),
            ResourceKind::LoadBalancer => self
                .describe_load_balancers(&[])
                .await?
                .into_iter()
                .filter(|lb| tags.iter().all(|(k, v)| lb.tags.get(k) == Some(v)))
                .map(|r| r.name)
                .collect(),
        })
    }
}

/// Fault injection for drills. The lab acts on its real loopback servers;
/// the AWS adapter isolates with a quarantine security group and has no
/// way to stop httpd without a remote command service (it says so).
#[async_trait]
pub trait Faults: Send + Sync {
    async fn stop_httpd(&self, instance_id: &str) -> CloudResult<()>;
    async fn start_httpd(&self, instance_id: &str) -> CloudResult<()>;
    /// Swap the instance's groups for an empty (no-ingress) group,
    /// remembering the originals for `unisolate`.
    async fn isolate(&self, instance_id: &str) -> CloudResult<()>;
    async fn unisolate(&self, instance_id: &str) -> CloudResult<()>;
}
