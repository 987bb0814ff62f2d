//! `Cloud` and `Faults` on AWS through the official SDK: `aws-sdk-ec2` and
//! `aws-sdk-elasticloadbalancing` (classic ELB, API 2012-06-01).
//!
//! Everything AWS-specific stays here: the standard credential chain, the
//! SDK's retry and timeouts, and the mapping of SDK errors to `CloudError`
//! (AWS's own code and message for service errors; a code and a message that
//! names what to fix for failures that never reached AWS).

use std::collections::HashMap;
use std::error::Error as StdError;
use std::net::Ipv4Addr;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2 as ec2;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_elasticloadbalancing as elb;
use aws_smithy_http_client::tls;
use base64::Engine as _;
use ipnet::Ipv4Net;
use tokio::sync::OnceCell;

use super::{
    Address, Cloud, CloudError, CloudResult, CreateLoadBalancerRequest, ErrorCode, Faults, Filter, HealthCheck,
    HealthState, IngressRule, Instance, InstanceHealth, InstanceState, InternetGateway, LoadBalancer, NatGateway,
    QUARANTINE_GROUP, Route, RouteTable, RouteTableAssociation, RouteTarget, RuleSource, RunInstanceRequest, Scheme,
    SecurityGroup, Subnet, TAG_NAME, TAG_STACK, Tags, Vpc,
};

/// Instance tag that remembers an isolated instance's own security groups,
/// so `unisolate` restores them even after a dashboard restart.
pub const TAG_ISOLATED_FROM: &str = "hawaf:isolated-from";

/// Classic ELB's DescribeTags takes at most 20 names per call.
const ELB_TAGS_PER_CALL: usize = 20;

/// Bounds on every AWS call, so that no build step can hang on the network.
/// The SDK's standard retry mode (exponential back-off with jitter, retry
/// quota) retries throttling, 5xx answers, timeouts and connection errors up
/// to `max_attempts` times in all, within `operation_timeout` overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AwsTuning {
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    /// One HTTP attempt, from sending to the end of the answer.
    pub attempt_timeout: Duration,
    /// The whole call, retries and back-off included.
    pub operation_timeout: Duration,
    /// How long a call that names something just created keeps retrying
    /// while AWS answers "not found" (EC2's eventual consistency).
    pub consistency_wait: Duration,
}

impl Default for AwsTuning {
    fn default() -> Self {
        // EC2 answers in well under a second; a minute with four attempts
        // rides out throttling bursts and brief outages without leaving a
        // wizard step spinning for long when the endpoint is really gone.
        AwsTuning {
            max_attempts: 4,
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(20),
            operation_timeout: Duration::from_secs(60),
            // AWS documents seconds of lag between creating a resource and
            // every API seeing it; a wrong id still fails, just this much later.
            consistency_wait: Duration::from_secs(15),
        }
    }
}

/// Where a stack's AWS calls go: region, optional named profile, optional
/// endpoint (an emulator, a VPC endpoint). The rest comes from the standard
/// chain: environment, `AWS_PROFILE`, shared config and credentials files,
/// SSO, web identity, container and instance roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AwsTarget {
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

impl AwsTarget {
    /// How messages name the endpoint, e.g. "the AWS endpoint
    /// http://127.0.0.1:5000" or "AWS's eu-west-1 endpoints".
    fn describe(&self) -> String {
        let configured = self
            .endpoint_url
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.trim().is_empty()));
        match configured {
            Some(url) => format!("the AWS endpoint {url} (region {})", self.region),
            None => format!("AWS's {} endpoints", self.region),
        }
    }

    /// Which profile the credential chain was looking at, for messages.
    fn profile_hint(&self) -> String {
        match &self.profile {
            Some(p) => format!("for the stack's profile `{p}`"),
            None => match std::env::var("AWS_PROFILE") {
                Ok(p) if !p.is_empty() => format!("for profile `{p}` (AWS_PROFILE)"),
                _ => "(neither the stack's profile nor AWS_PROFILE is set)".to_owned(),
            },
        }
    }
}

struct Clients {
    ec2: ec2::Client,
    elb: elb::Client,
}

/// One AWS account and region as a `Cloud`. Cheap to keep: the SDK clients
/// are built on first use and shared by every call after.
pub struct AwsCloud {
    target: AwsTarget,
    tuning: AwsTuning,
    clients: OnceCell<Clients>,
}

impl AwsCloud {
    pub fn new(target: AwsTarget, tuning: AwsTuning) -> Self {
        AwsCloud { target, tuning, clients: OnceCell::new() }
    }

    pub fn target(&self) -> &AwsTarget {
        &self.target
    }

    async fn clients(&self) -> &Clients {
        self.clients.get_or_init(|| self.connect()).await
    }

    async fn connect(&self) -> Clients {
        // rustls with ring: the crypto the rest of hawaf already links, and
        // no C toolchain needed for aws-lc.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let t = self.tuning;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.target.region.clone()))
            .http_client(http)
            .retry_config(RetryConfig::standard().with_max_attempts(t.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(t.connect_timeout)
                    .operation_attempt_timeout(t.attempt_timeout)
                    .operation_timeout(t.operation_timeout)
                    .build(),
            );
        if let Some(profile) = &self.target.profile {
            loader = loader.profile_name(profile);
        }
        // Without one, the SDK itself honours AWS_ENDPOINT_URL (and the
        // per-service AWS_ENDPOINT_URL_EC2 / _ELASTIC_LOAD_BALANCING).
        if let Some(url) = &self.target.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        Clients { ec2: ec2::Client::new(&config), elb: elb::Client::new(&config) }
    }

    async fn ec2(&self) -> &ec2::Client {
        &self.clients().await.ec2
    }

    async fn elb(&self) -> &elb::Client {
        &self.clients().await.elb
    }

    /// Sends a request that names resources a previous call may have just
    /// created, retrying while AWS has not caught up with them yet. EC2 is
    /// eventually consistent: a RunInstances into a security group created a
    /// second ago can answer InvalidGroup.NotFound, and an ELB can call a
    /// new instance InvalidInstance. The SDK's retry does not cover these
    /// (they are also what a truly wrong id gets), so they are retried here,
    /// with back-off, for at most `consistency_wait`. Only calls that are
    /// safe to repeat go through here: creates that failed created nothing,
    /// RunInstances carries a client token.
    async fn eventually<T, E, R, F, Fut>(&self, operation: &str, mut send: F) -> CloudResult<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let deadline = tokio::time::Instant::now() + self.tuning.consistency_wait;
        let mut delay = Duration::from_millis(250);
        loop {
            match send().await.map_err(|e| self.error(operation, e)) {
                Err(e) if not_visible_yet(&e) && tokio::time::Instant::now() + delay <= deadline => {
                    tracing::debug!(operation, error = %e, "not visible yet; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(4));
                }
                other => return other,
            }
        }
    }

    /// Maps an SDK error to the port's error. Service errors keep AWS's code
    /// and message; errors that never got an answer from AWS get a code of
    /// their own and a message that says what to fix.
    fn error<E, R>(&self, operation: &str, err: SdkError<E, R>) -> CloudError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let endpoint = self.target.describe();
        if let Some(creds) = find_cause::<CredentialsError>(&err) {
            return credentials_error(creds, &self.target);
        }
        let cause = causes(&err);
        match &err {
            SdkError::ServiceError(service) => {
                let meta = service.err();
                match meta.code() {
                    Some(code) => CloudError::new(
                        code,
                        with_advice(code, meta.message().unwrap_or(&cause), operation, &self.target),
                    ),
                    None => CloudError::new(
                        "InvalidResponse",
                        format!(
                            "{endpoint} answered {operation} with an error that has no AWS error code ({cause}): \
                             check that the endpoint URL points at an AWS API"
                        ),
                    ),
                }
            }
            SdkError::TimeoutError(_) => timeout(operation, &endpoint, self.tuning),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => timeout(operation, &endpoint, self.tuning),
            SdkError::DispatchFailure(failure) if failure.is_io() => CloudError::new(
                "EndpointUnreachable",
                format!(
                    "cannot reach {endpoint} for {operation} ({cause}): check the region, the stack's endpoint URL \
                     or AWS_ENDPOINT_URL, and this host's network or proxy settings"
                ),
            ),
            SdkError::ResponseError(_) => CloudError::new(
                "InvalidResponse",
                format!(
                    "{endpoint} sent an answer to {operation} that is not an AWS API response ({cause}): check that \
                     the endpoint URL points at an AWS API"
                ),
            ),
            SdkError::ConstructionFailure(_) => {
                CloudError::new("InvalidRequest", format!("{operation} could not be prepared: {cause}"))
            }
            _ => CloudError::new("RequestFailed", format!("{operation} to {endpoint} failed: {cause}")),
        }
    }
}

/// "Not found" answers that, right after a create, mean "not yet".
fn not_visible_yet(e: &CloudError) -> bool {
    e.is_not_found() || matches!(e.code.as_str(), "InvalidInstance" | "InvalidSecurityGroup")
}

/// The classic ELB operations this adapter calls; every other is EC2's.
const ELB_OPERATIONS: &[&str] = &[
    "CreateLoadBalancer",
    "ConfigureHealthCheck",
    "RegisterInstancesWithLoadBalancer",
    "DeregisterInstancesFromLoadBalancer",
    "DescribeInstanceHealth",
    "DescribeLoadBalancers",
    "DescribeTags",
    "DeleteLoadBalancer",
];

/// AWS's message, verbatim, plus what to fix when the code says it is the
/// operator's setup (permissions, credentials, region) rather than the stack.
fn with_advice(code: &str, message: &str, operation: &str, target: &AwsTarget) -> String {
    let service = if ELB_OPERATIONS.contains(&operation) { "elasticloadbalancing" } else { "ec2" };
    let profile = target.profile_hint();
    match code {
        "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" => {
            format!("{message} (allow {service}:{operation} in the IAM policy of the identity hawaf uses {profile})")
        }
        "AuthFailure"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "UnrecognizedClientException"
        | "ExpiredToken"
        | "RequestExpired" => format!(
            "{message} (AWS rejected the credentials hawaf uses {profile}: check the access keys, refresh an \
             expired session, or run `aws sso login` again for an SSO profile)"
        ),
        "OptInRequired" => {
            format!("{message} (region {} is not enabled for this account: enable it or pick another)", target.region)
        }
        _ => message.to_owned(),
    }
}

fn timeout(operation: &str, endpoint: &str, t: AwsTuning) -> CloudError {
    CloudError::new(
        "Timeout",
        format!(
            "no answer from {endpoint} to {operation} within {} s ({} attempts of at most {} s): check that the \
             endpoint URL and region are right and that the endpoint is up",
            t.operation_timeout.as_secs(),
            t.max_attempts,
            t.attempt_timeout.as_secs()
        ),
    )
}

fn credentials_error(err: &CredentialsError, target: &AwsTarget) -> CloudError {
    let profile = target.profile_hint();
    let cause = causes(err);
    match err {
        // The chain's own text lists every provider it tried, one per line:
        // too much for a wizard step, and the advice below covers them all.
        CredentialsError::CredentialsNotLoaded(_) => CloudError::new(
            "NoCredentials",
            format!(
                "no AWS credentials found {profile}: set AWS_PROFILE or the stack's profile to a profile in \
                 ~/.aws/config (run `aws sso login --profile NAME` for an SSO profile), or set AWS_ACCESS_KEY_ID \
                 and AWS_SECRET_ACCESS_KEY for the hawaf server, or run it with an instance or container role"
            ),
        ),
        CredentialsError::ProviderTimedOut(_) => CloudError::new(
            "CredentialsTimeout",
            format!("the AWS credential provider did not answer in time {profile}: {cause}"),
        ),
        CredentialsError::InvalidConfiguration(_) => CloudError::new(
            "InvalidCredentialsConfiguration",
            format!("the AWS credentials configuration is invalid {profile}: fix ~/.aws/config: {cause}"),
        ),
        _ => CloudError::new(
            "CredentialsError",
            format!("cannot obtain AWS credentials {profile}: {cause} (for an SSO profile, run `aws sso login` again)"),
        ),
    }
}

/// An error and its causes on one line, each said once: "dispatch failure:
/// io error: … Connection refused (os error 111)". The SDK's own contexts
/// repeat their source in their Display, so repeats are skipped.
fn causes(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// The first error of type `T` in `err`'s cause chain (itself included).
fn find_cause<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}

// ---------------------------------------------------------------------------
// Conversions between the port's types and the SDK's

fn ec2_filters(filter: &Filter) -> Vec<ec2::types::Filter> {
    filter.tags.iter().map(|(k, v)| ec2::types::Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

fn ec2_ids(filter: &Filter) -> Option<Vec<String>> {
    (!filter.ids.is_empty()).then(|| filter.ids.clone())
}

fn tag_spec(kind: ec2::types::ResourceType, tags: &Tags) -> ec2::types::TagSpecification {
    let mut spec = ec2::types::TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        spec = spec.tags(ec2::types::Tag::builder().key(k).value(v).build());
    }
    spec.build()
}

fn from_ec2_tags(tags: &[ec2::types::Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

fn cidr(value: Option<&str>, what: &str) -> CloudResult<Ipv4Net> {
    let text = value.unwrap_or_default();
    text.parse()
        .map_err(|_| CloudError::new("InvalidResponse", format!("AWS returned {what} `{text}`, not an IPv4 CIDR")))
}

fn ip(value: Option<&str>) -> Option<Ipv4Addr> {
    value.and_then(|v| v.parse().ok())
}

fn owned(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

/// A response that lacks what the call promises (a CreateVpc without a VPC).
fn missing(operation: &str, what: &str) -> CloudError {
    CloudError::new("InvalidResponse", format!("{operation} answered without {what}"))
}

fn to_vpc(v: &ec2::types::Vpc) -> CloudResult<Vpc> {
    Ok(Vpc {
        id: owned(v.vpc_id()),
        cidr: cidr(v.cidr_block(), "a VPC CIDR")?,
        state: v.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tags: from_ec2_tags(v.tags()),
    })
}

fn to_subnet(s: &ec2::types::Subnet) -> CloudResult<Subnet> {
    Ok(Subnet {
        id: owned(s.subnet_id()),
        vpc_id: owned(s.vpc_id()),
        cidr: cidr(s.cidr_block(), "a subnet CIDR")?,
        availability_zone: owned(s.availability_zone()),
        available_ip_address_count: s.available_ip_address_count().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        tags: from_ec2_tags(s.tags()),
    })
}

fn to_igw(g: &ec2::types::InternetGateway) -> InternetGateway {
    use ec2::types::AttachmentStatus;
    // An attached internet gateway reports `available`, which the SDK's
    // AttachmentStatus does not list: anything not detaching or detached is attached.
    let attached_vpc = g
        .attachments()
        .iter()
        .find(|a| !matches!(a.state(), Some(AttachmentStatus::Detached | AttachmentStatus::Detaching)))
        .and_then(|a| a.vpc_id().map(str::to_owned));
    InternetGateway { id: owned(g.internet_gateway_id()), attached_vpc, tags: from_ec2_tags(g.tags()) }
}

fn to_route_table(t: &ec2::types::RouteTable) -> RouteTable {
    use ec2::types::RouteTableAssociationStateCode as S;
    let routes = t
        .routes()
        .iter()
        .filter_map(|r| {
            let destination = r.destination_cidr_block()?.parse().ok()?;
            let target = match (r.gateway_id(), r.nat_gateway_id()) {
                (Some("local"), _) => RouteTarget::Local,
                (Some(gw), _) => RouteTarget::Gateway(gw.to_owned()),
                (None, Some(nat)) => RouteTarget::NatGateway(nat.to_owned()),
                // Targets hawaf never creates (peering, endpoints, …) are not its business.
                (None, None) => return None,
            };
            Some(Route { destination, target })
        })
        .collect();
    let associations = t
        .associations()
        .iter()
        .filter(|a| {
            !matches!(
                a.association_state().and_then(|s| s.state()),
                Some(S::Disassociated | S::Disassociating | S::Failed)
            )
        })
        .map(|a| RouteTableAssociation {
            id: owned(a.route_table_association_id()),
            subnet_id: a.subnet_id().map(str::to_owned),
            main: a.main().unwrap_or(false),
        })
        .collect();
    RouteTable {
        id: owned(t.route_table_id()),
        vpc_id: owned(t.vpc_id()),
        routes,
        associations,
        tags: from_ec2_tags(t.tags()),
    }
}

fn to_address(a: &ec2::types::Address) -> Address {
    Address {
        allocation_id: owned(a.allocation_id()),
        public_ip: ip(a.public_ip()).unwrap_or(Ipv4Addr::UNSPECIFIED),
        association_id: a.association_id().map(str::to_owned),
        instance_id: a.instance_id().filter(|i| !i.is_empty()).map(str::to_owned),
        tags: from_ec2_tags(a.tags()),
    }
}

fn to_nat(n: &ec2::types::NatGateway) -> NatGateway {
    let first = n.nat_gateway_addresses().first();
    NatGateway {
        id: owned(n.nat_gateway_id()),
        subnet_id: owned(n.subnet_id()),
        vpc_id: owned(n.vpc_id()),
        allocation_id: owned(first.and_then(|a| a.allocation_id())),
        private_ip: ip(first.and_then(|a| a.private_ip())).unwrap_or(Ipv4Addr::UNSPECIFIED),
        state: n.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tags: from_ec2_tags(n.tags()),
    }
}

fn port(value: Option<i32>, default: u16) -> u16 {
    value.and_then(|p| u16::try_from(p).ok()).unwrap_or(default)
}

fn to_rules(permissions: &[ec2::types::IpPermission]) -> Vec<IngressRule> {
    let mut rules = Vec::new();
    for p in permissions {
        let protocol = owned(p.ip_protocol());
        // "All traffic" (-1) has no ports: it covers every one.
        let (from_port, to_port) = (port(p.from_port(), 0), port(p.to_port(), u16::MAX));
        let rule = |source| IngressRule { protocol: protocol.clone(), from_port, to_port, source };
        for range in p.ip_ranges() {
            if let Some(net) = range.cidr_ip().and_then(|c| c.parse().ok()) {
                rules.push(rule(RuleSource::Cidr(net)));
            }
        }
        for pair in p.user_id_group_pairs() {
            if let Some(group) = pair.group_id() {
                rules.push(rule(RuleSource::Group(group.to_owned())));
            }
        }
    }
    rules
}

fn to_permissions(rules: &[IngressRule]) -> Vec<ec2::types::IpPermission> {
    rules
        .iter()
        .map(|r| {
            let p = ec2::types::IpPermission::builder()
                .ip_protocol(&r.protocol)
                .from_port(i32::from(r.from_port))
                .to_port(i32::from(r.to_port));
            match &r.source {
                RuleSource::Cidr(net) => p.ip_ranges(ec2::types::IpRange::builder().cidr_ip(net.to_string()).build()),
                RuleSource::Group(id) => {
                    p.user_id_group_pairs(ec2::types::UserIdGroupPair::builder().group_id(id).build())
                }
            }
            .build()
        })
        .collect()
}

fn to_security_group(g: &ec2::types::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: owned(g.group_id()),
        vpc_id: owned(g.vpc_id()),
        name: owned(g.group_name()),
        description: owned(g.description()),
        ingress: to_rules(g.ip_permissions()),
        tags: from_ec2_tags(g.tags()),
    }
}

fn to_instance_state(name: Option<&ec2::types::InstanceStateName>) -> InstanceState {
    use ec2::types::InstanceStateName as N;
    match name {
        Some(N::Running) => InstanceState::Running,
        Some(N::Stopping) => InstanceState::Stopping,
        Some(N::Stopped) => InstanceState::Stopped,
        Some(N::ShuttingDown) => InstanceState::ShuttingDown,
        Some(N::Terminated) => InstanceState::Terminated,
        // A state this SDK does not know yet is treated as "not ready": a
        // wait keeps waiting (and times out with what it saw) rather than
        // taking an unknown state for running or gone.
        _ => InstanceState::Pending,
    }
}

fn to_instance(i: &ec2::types::Instance) -> Instance {
    Instance {
        id: owned(i.instance_id()),
        // Terminated instances lose their subnet, VPC and private address.
        subnet_id: owned(i.subnet_id()),
        vpc_id: owned(i.vpc_id()),
        image_id: owned(i.image_id()),
        instance_type: i.instance_type().map(|t| t.as_str().to_owned()).unwrap_or_default(),
        private_ip: ip(i.private_ip_address()).unwrap_or(Ipv4Addr::UNSPECIFIED),
        public_ip: ip(i.public_ip_address()),
        state: to_instance_state(i.state().and_then(|s| s.name())),
        security_groups: i.security_groups().iter().filter_map(|g| g.group_id().map(str::to_owned)).collect(),
        client_token: i.client_token().filter(|t| !t.is_empty()).map(str::to_owned),
        tags: from_ec2_tags(i.tags()),
    }
}

fn to_health_state(state: Option<&str>) -> HealthState {
    match state {
        Some("InService") => HealthState::InService,
        Some("OutOfService") => HealthState::OutOfService,
        _ => HealthState::Unknown,
    }
}

fn to_health_check(h: Option<&elb::types::HealthCheck>) -> HealthCheck {
    match h {
        Some(h) => HealthCheck {
            target: h.target().to_owned(),
            interval: u32::try_from(h.interval()).unwrap_or(0),
            timeout: u32::try_from(h.timeout()).unwrap_or(0),
            healthy_threshold: u32::try_from(h.healthy_threshold()).unwrap_or(0),
            unhealthy_threshold: u32::try_from(h.unhealthy_threshold()).unwrap_or(0),
        },
        None => HealthCheck::aws_default(80),
    }
}

fn to_load_balancer(d: &elb::types::LoadBalancerDescription, tags: Tags) -> LoadBalancer {
    LoadBalancer {
        name: owned(d.load_balancer_name()),
        dns_name: owned(d.dns_name()),
        scheme: if d.scheme() == Some("internal") { Scheme::Internal } else { Scheme::InternetFacing },
        vpc_id: owned(d.vpc_id()),
        subnets: d.subnets().to_vec(),
        availability_zones: d.availability_zones().to_vec(),
        security_groups: d.security_groups().to_vec(),
        listeners: d
            .listener_descriptions()
            .iter()
            .filter_map(|l| l.listener())
            .map(|l| super::Listener {
                protocol: l.protocol().to_owned(),
                load_balancer_port: port(Some(l.load_balancer_port()), 0),
                instance_protocol: owned(l.instance_protocol()),
                instance_port: port(Some(l.instance_port()), 0),
            })
            .collect(),
        health_check: to_health_check(d.health_check()),
        instances: d.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect(),
        tags,
    }
}

/// A builder the SDK refused because a required field was missing: a bug
/// in this adapter, reported rather than panicking.
fn built<T>(result: Result<T, elb::error::BuildError>) -> CloudResult<T> {
    result.map_err(|e| CloudError::new("InvalidRequest", format!("cannot build the request: {e}")))
}

fn elb_instances(ids: &[String]) -> Vec<elb::types::Instance> {
    ids.iter().map(|id| elb::types::Instance::builder().instance_id(id).build()).collect()
}

// ---------------------------------------------------------------------------
// The port

#[async_trait]
impl Cloud for AwsCloud {
    async fn create_vpc(&self, cidr_block: Ipv4Net, tags: Tags) -> CloudResult<Vpc> {
        let out = (self.ec2().await)
            .create_vpc()
            .cidr_block(cidr_block.to_string())
            .tag_specifications(tag_spec(ec2::types::ResourceType::Vpc, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateVpc", e))?;
        to_vpc(out.vpc().ok_or_else(|| missing("CreateVpc", "a VPC"))?)
    }

    async fn describe_vpcs(&self, filter: &Filter) -> CloudResult<Vec<Vpc>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_vpcs()
            .set_vpc_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeVpcs", e))?;
        found.iter().map(to_vpc).collect()
    }

    async fn delete_vpc(&self, vpc_id: &str) -> CloudResult<()> {
        (self.ec2().await).delete_vpc().vpc_id(vpc_id).send().await.map_err(|e| self.error("DeleteVpc", e))?;
        Ok(())
    }

    async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr_block: Ipv4Net,
        availability_zone: &str,
        tags: Tags,
    ) -> CloudResult<Subnet> {
        let request = (self.ec2().await)
            .create_subnet()
            .vpc_id(vpc_id)
            .cidr_block(cidr_block.to_string())
            .availability_zone(availability_zone)
            .tag_specifications(tag_spec(ec2::types::ResourceType::Subnet, &tags));
        let out = self.eventually("CreateSubnet", || request.clone().send()).await?;
        to_subnet(out.subnet().ok_or_else(|| missing("CreateSubnet", "a subnet"))?)
    }

    async fn describe_subnets(&self, filter: &Filter) -> CloudResult<Vec<Subnet>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_subnets()
            .set_subnet_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeSubnets", e))?;
        found.iter().map(to_subnet).collect()
    }

    async fn delete_subnet(&self, subnet_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_subnet()
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteSubnet", e))?;
        Ok(())
    }

    async fn create_internet_gateway(&self, tags: Tags) -> CloudResult<InternetGateway> {
        let out = (self.ec2().await)
            .create_internet_gateway()
            .tag_specifications(tag_spec(ec2::types::ResourceType::InternetGateway, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateInternetGateway", e))?;
        Ok(to_igw(out.internet_gateway().ok_or_else(|| missing("CreateInternetGateway", "a gateway"))?))
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let request = (self.ec2().await).attach_internet_gateway().internet_gateway_id(igw_id).vpc_id(vpc_id);
        self.eventually("AttachInternetGateway", || request.clone().send()).await?;
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(|e| self.error("DetachInternetGateway", e))?;
        Ok(())
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_internet_gateway()
            .internet_gateway_id(igw_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteInternetGateway", e))?;
        Ok(())
    }

    async fn describe_internet_gateways(&self, filter: &Filter) -> CloudResult<Vec<InternetGateway>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_internet_gateways()
            .set_internet_gateway_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeInternetGateways", e))?;
        Ok(found.iter().map(to_igw).collect())
    }

    async fn create_route_table(&self, vpc_id: &str, tags: Tags) -> CloudResult<RouteTable> {
        let out = (self.ec2().await)
            .create_route_table()
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ec2::types::ResourceType::RouteTable, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateRouteTable", e))?;
        Ok(to_route_table(out.route_table().ok_or_else(|| missing("CreateRouteTable", "a route table"))?))
    }

    async fn create_route(&self, route_table_id: &str, destination: Ipv4Net, target: RouteTarget) -> CloudResult<()> {
        let call = (self.ec2().await)
            .create_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(destination.to_string());
        let call = match target {
            RouteTarget::Gateway(id) => call.gateway_id(id),
            RouteTarget::NatGateway(id) => call.nat_gateway_id(id),
            RouteTarget::Local => {
                return Err(CloudError::of(
                    ErrorCode::InvalidParameterValue,
                    "the local route is created by AWS with the VPC and cannot be added",
                ));
            }
        };
        self.eventually("CreateRoute", || call.clone().send()).await?;
        Ok(())
    }

    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> CloudResult<String> {
        let request = (self.ec2().await).associate_route_table().route_table_id(route_table_id).subnet_id(subnet_id);
        let out = self.eventually("AssociateRouteTable", || request.clone().send()).await?;
        out.association_id().map(str::to_owned).ok_or_else(|| missing("AssociateRouteTable", "an association id"))
    }

    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| self.error("DisassociateRouteTable", e))?;
        Ok(())
    }

    async fn describe_route_tables(&self, filter: &Filter) -> CloudResult<Vec<RouteTable>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_route_tables()
            .set_route_table_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeRouteTables", e))?;
        Ok(found.iter().map(to_route_table).collect())
    }

    async fn delete_route_table(&self, route_table_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_route_table()
            .route_table_id(route_table_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteRouteTable", e))?;
        Ok(())
    }

    async fn allocate_address(&self, tags: Tags) -> CloudResult<Address> {
        let out = (self.ec2().await)
            .allocate_address()
            .domain(ec2::types::DomainType::Vpc)
            .tag_specifications(tag_spec(ec2::types::ResourceType::ElasticIp, &tags))
            .send()
            .await
            .map_err(|e| self.error("AllocateAddress", e))?;
        Ok(Address {
            allocation_id: out
                .allocation_id()
                .map(str::to_owned)
                .ok_or_else(|| missing("AllocateAddress", "an allocation id"))?,
            public_ip: ip(out.public_ip()).ok_or_else(|| missing("AllocateAddress", "a public IPv4 address"))?,
            association_id: None,
            instance_id: None,
            tags,
        })
    }

    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> CloudResult<String> {
        let request = (self.ec2().await).associate_address().allocation_id(allocation_id).instance_id(instance_id);
        let out = self.eventually("AssociateAddress", || request.clone().send()).await?;
        out.association_id().map(str::to_owned).ok_or_else(|| missing("AssociateAddress", "an association id"))
    }

    async fn disassociate_address(&self, association_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .disassociate_address()
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| self.error("DisassociateAddress", e))?;
        Ok(())
    }

    async fn describe_addresses(&self, filter: &Filter) -> CloudResult<Vec<Address>> {
        // DescribeAddresses has no pagination: it answers with every address.
        let out = (self.ec2().await)
            .describe_addresses()
            .set_allocation_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .send()
            .await
            .map_err(|e| self.error("DescribeAddresses", e))?;
        Ok(out.addresses().iter().map(to_address).collect())
    }

    async fn release_address(&self, allocation_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map_err(|e| self.error("ReleaseAddress", e))?;
        Ok(())
    }

    async fn create_nat_gateway(&self, subnet_id: &str, allocation_id: &str, tags: Tags) -> CloudResult<NatGateway> {
        let request = (self.ec2().await)
            .create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .tag_specifications(tag_spec(ec2::types::ResourceType::Natgateway, &tags));
        let out = self.eventually("CreateNatGateway", || request.clone().send()).await?;
        Ok(to_nat(out.nat_gateway().ok_or_else(|| missing("CreateNatGateway", "a NAT gateway"))?))
    }

    async fn describe_nat_gateways(&self, filter: &Filter) -> CloudResult<Vec<NatGateway>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_nat_gateways()
            .set_nat_gateway_ids(ec2_ids(filter))
            .set_filter(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeNatGateways", e))?;
        Ok(found.iter().map(to_nat).collect())
    }

    async fn delete_nat_gateway(&self, nat_gateway_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_nat_gateway()
            .nat_gateway_id(nat_gateway_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteNatGateway", e))?;
        Ok(())
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> CloudResult<SecurityGroup> {
        let request = (self.ec2().await)
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .tag_specifications(tag_spec(ec2::types::ResourceType::SecurityGroup, &tags));
        let out = self.eventually("CreateSecurityGroup", || request.clone().send()).await?;
        Ok(SecurityGroup {
            id: out.group_id().map(str::to_owned).ok_or_else(|| missing("CreateSecurityGroup", "a group id"))?,
            vpc_id: vpc_id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            ingress: Vec::new(),
            tags,
        })
    }

    async fn authorize_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        let request = (self.ec2().await)
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(to_permissions(rules)));
        self.eventually("AuthorizeSecurityGroupIngress", || request.clone().send()).await?;
        Ok(())
    }

    async fn revoke_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        (self.ec2().await)
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(to_permissions(rules)))
            .send()
            .await
            .map_err(|e| self.error("RevokeSecurityGroupIngress", e))?;
        Ok(())
    }

    async fn describe_security_groups(&self, filter: &Filter) -> CloudResult<Vec<SecurityGroup>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_security_groups()
            .set_group_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeSecurityGroups", e))?;
        Ok(found.iter().map(to_security_group).collect())
    }

    async fn delete_security_group(&self, group_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteSecurityGroup", e))?;
        Ok(())
    }

    async fn run_instance(&self, request: RunInstanceRequest) -> CloudResult<Instance> {
        let call = (self.ec2().await)
            .run_instances()
            .image_id(&request.image_id)
            .instance_type(ec2::types::InstanceType::from(request.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .subnet_id(&request.subnet_id)
            .set_private_ip_address(request.private_ip.map(|a| a.to_string()))
            .set_security_group_ids(Some(request.security_groups.clone()))
            // RunInstances takes user data base64-encoded; the SDK does not encode it.
            .set_user_data(request.user_data.as_ref().map(|u| base64::engine::general_purpose::STANDARD.encode(u)))
            .set_client_token(request.client_token.clone())
            .tag_specifications(tag_spec(ec2::types::ResourceType::Instance, &request.tags));
        let out = self.eventually("RunInstances", || call.clone().send()).await?;
        out.instances().first().map(to_instance).ok_or_else(|| missing("RunInstances", "an instance"))
    }

    async fn describe_instances(&self, filter: &Filter) -> CloudResult<Vec<Instance>> {
        let reservations: Vec<_> = (self.ec2().await)
            .describe_instances()
            .set_instance_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeInstances", e))?;
        Ok(reservations.iter().flat_map(|r| r.instances()).map(to_instance).collect())
    }

    async fn stop_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .stop_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("StopInstances", e))?;
        Ok(())
    }

    async fn start_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .start_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("StartInstances", e))?;
        Ok(())
    }

    async fn terminate_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .terminate_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("TerminateInstances", e))?;
        Ok(())
    }

    async fn modify_instance_security_groups(&self, instance_id: &str, group_ids: &[String]) -> CloudResult<()> {
        let request = (self.ec2().await)
            .modify_instance_attribute()
            .instance_id(instance_id)
            .set_groups(Some(group_ids.to_vec()));
        self.eventually("ModifyInstanceAttribute", || request.clone().send()).await?;
        Ok(())
    }

    async fn create_load_balancer(&self, request: CreateLoadBalancerRequest) -> CloudResult<LoadBalancer> {
        let mut listeners = Vec::new();
        for l in &request.listeners {
            listeners.push(built(
                elb::types::Listener::builder()
                    .protocol(&l.protocol)
                    .load_balancer_port(i32::from(l.load_balancer_port))
                    .instance_protocol(&l.instance_protocol)
                    .instance_port(i32::from(l.instance_port))
                    .build(),
            )?);
        }
        let mut tags = Vec::new();
        for (k, v) in &request.tags {
            tags.push(built(elb::types::Tag::builder().key(k).value(v).build())?);
        }
        let call = (self.elb().await)
            .create_load_balancer()
            .load_balancer_name(&request.name)
            .scheme(match request.scheme {
                Scheme::Internal => "internal",
                Scheme::InternetFacing => "internet-facing",
            })
            .set_listeners(Some(listeners))
            .set_subnets(Some(request.subnets.clone()))
            .set_security_groups(Some(request.security_groups.clone()))
            .set_tags(Some(tags));
        self.eventually("CreateLoadBalancer", || call.clone().send()).await?;
        // CreateLoadBalancer answers with the DNS name only; the engine
        // wants the whole description (subnets, instances, tags).
        self.describe_load_balancers(std::slice::from_ref(&request.name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| missing("DescribeLoadBalancers", "the load balancer just created"))
    }

    async fn configure_health_check(&self, lb_name: &str, check: HealthCheck) -> CloudResult<HealthCheck> {
        // AWS enforces these bounds server-side; checking first gives the
        // same ValidationError without a round trip (and on emulators that
        // do not enforce them).
        check.validate()?;
        let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let hc = built(
            elb::types::HealthCheck::builder()
                .target(&check.target)
                .interval(as_i32(check.interval))
                .timeout(as_i32(check.timeout))
                .healthy_threshold(as_i32(check.healthy_threshold))
                .unhealthy_threshold(as_i32(check.unhealthy_threshold))
                .build(),
        )?;
        let request = (self.elb().await).configure_health_check().load_balancer_name(lb_name).health_check(hc);
        let out = self.eventually("ConfigureHealthCheck", || request.clone().send()).await?;
        Ok(to_health_check(out.health_check()))
    }

    async fn register_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        let request = (self.elb().await)
            .register_instances_with_load_balancer()
            .load_balancer_name(lb_name)
            .set_instances(Some(elb_instances(instance_ids)));
        let out = self.eventually("RegisterInstancesWithLoadBalancer", || request.clone().send()).await?;
        Ok(out.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect())
    }

    async fn deregister_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        let out = (self.elb().await)
            .deregister_instances_from_load_balancer()
            .load_balancer_name(lb_name)
            .set_instances(Some(elb_instances(instance_ids)))
            .send()
            .await
            .map_err(|e| self.error("DeregisterInstancesFromLoadBalancer", e))?;
        Ok(out.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect())
    }

    async fn describe_instance_health(
        &self,
        lb_name: &str,
        instance_ids: &[String],
    ) -> CloudResult<Vec<InstanceHealth>> {
        let out = (self.elb().await)
            .describe_instance_health()
            .load_balancer_name(lb_name)
            .set_instances((!instance_ids.is_empty()).then(|| elb_instances(instance_ids)))
            .send()
            .await
            .map_err(|e| self.error("DescribeInstanceHealth", e))?;
        Ok(out
            .instance_states()
            .iter()
            .map(|s| InstanceHealth {
                instance_id: owned(s.instance_id()),
                state: to_health_state(s.state()),
                // AWS: `ELB` (the LB's side), `Instance` (the check failed) or `N/A`.
                reason_code: s.reason_code().unwrap_or("N/A").to_owned(),
                description: s.description().unwrap_or("N/A").to_owned(),
            })
            .collect())
    }

    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        let client = self.elb().await;
        let found: Vec<_> = client
            .describe_load_balancers()
            .set_load_balancer_names((!names.is_empty()).then(|| names.to_vec()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeLoadBalancers", e))?;
        // Tags are not part of the description: the engine needs them to
        // tell its own load balancers from others of the same name.
        let mut tags: HashMap<String, Tags> = HashMap::new();
        let all: Vec<String> = found.iter().filter_map(|d| d.load_balancer_name().map(str::to_owned)).collect();
        for chunk in all.chunks(ELB_TAGS_PER_CALL) {
            let out = client
                .describe_tags()
                .set_load_balancer_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| self.error("DescribeTags", e))?;
            for d in out.tag_descriptions() {
                let map = d.tags().iter().map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()));
                tags.insert(owned(d.load_balancer_name()), map.collect());
            }
        }
        Ok(found
            .iter()
            .map(|d| {
                let t = d.load_balancer_name().and_then(|n| tags.get(n)).cloned().unwrap_or_default();
                to_load_balancer(d, t)
            })
            .collect())
    }

    async fn delete_load_balancer(&self, lb_name: &str) -> CloudResult<()> {
        (self.elb().await)
            .delete_load_balancer()
            .load_balancer_name(lb_name)
            .send()
            .await
            .map_err(|e| self.error("DeleteLoadBalancer", e))?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Faults

impl AwsCloud {
    async fn one_instance(&self, instance_id: &str) -> CloudResult<Instance> {
        self.describe_instances(&Filter::ids([instance_id])).await?.into_iter().next().ok_or_else(|| {
            CloudError::of(
                ErrorCode::InvalidInstanceIdNotFound,
                format!("The instance ID '{instance_id}' does not exist"),
            )
        })
    }

    /// The VPC's quarantine group: found by name (unique per VPC) or made,
    /// tagged with the stack so that a teardown removes it too.
    async fn quarantine_group(&self, vpc_id: &str, stack: Option<&String>) -> CloudResult<String> {
        if let Some(id) = self.find_quarantine_group(vpc_id).await? {
            return Ok(id);
        }
        let mut tags = Tags::from([(TAG_NAME.to_owned(), QUARANTINE_GROUP.to_owned())]);
        if let Some(stack) = stack {
            tags.insert(TAG_STACK.to_owned(), stack.clone());
        }
        let group =
            self.create_security_group(vpc_id, QUARANTINE_GROUP, "hawaf drill isolation: no ingress", tags).await?;
        Ok(group.id)
    }

    async fn find_quarantine_group(&self, vpc_id: &str) -> CloudResult<Option<String>> {
        let by_name = [
            ec2::types::Filter::builder().name("vpc-id").values(vpc_id).build(),
            ec2::types::Filter::builder().name("group-name").values(QUARANTINE_GROUP).build(),
        ];
        let out = (self.ec2().await)
            .describe_security_groups()
            .set_filters(Some(by_name.to_vec()))
            .send()
            .await
            .map_err(|e| self.error("DescribeSecurityGroups", e))?;
        Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_owned))
    }
}

#[async_trait]
impl Faults for AwsCloud {
    async fn stop_httpd(&self, _instance_id: &str) -> CloudResult<()> {
        Err(unsupported_httpd())
    }

    async fn start_httpd(&self, _instance_id: &str) -> CloudResult<()> {
        Err(unsupported_httpd())
    }

    /// Swaps the instance's groups for the VPC's quarantine group (no
    /// ingress). The original groups are written to an instance tag first,
    /// so a crash in between leaves something `unisolate` can undo.
    async fn isolate(&self, instance_id: &str) -> CloudResult<()> {
        let instance = self.one_instance(instance_id).await?;
        if instance.tags.contains_key(TAG_ISOLATED_FROM) {
            return Ok(());
        }
        let quarantine = self.quarantine_group(&instance.vpc_id, instance.tags.get(TAG_STACK)).await?;
        (self.ec2().await)
            .create_tags()
            .resources(instance_id)
            .tags(ec2::types::Tag::builder().key(TAG_ISOLATED_FROM).value(instance.security_groups.join(",")).build())
            .send()
            .await
            .map_err(|e| self.error("CreateTags", e))?;
        self.modify_instance_security_groups(instance_id, &[quarantine]).await
    }

    async fn unisolate(&self, instance_id: &str) -> CloudResult<()> {
        let instance = self.one_instance(instance_id).await?;
        let Some(before) = instance.tags.get(TAG_ISOLATED_FROM) else {
            return Ok(());
        };
        let groups: Vec<String> = before.split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect();
        if !groups.is_empty() {
            self.modify_instance_security_groups(instance_id, &groups).await?;
        }
        (self.ec2().await)
            .delete_tags()
            .resources(instance_id)
            .tags(ec2::types::Tag::builder().key(TAG_ISOLATED_FROM).build())
            .send()
            .await
            .map_err(|e| self.error("DeleteTags", e))?;
        // Leave no quarantine group behind once nobody is isolated; while
        // another instance still uses it AWS refuses, which is fine.
        if let Some(group) = self.find_quarantine_group(&instance.vpc_id).await? {
            match self.delete_security_group(&group).await {
                Ok(()) => {}
                Err(e) if e.is(ErrorCode::DependencyViolation) || e.is_not_found() => {
                    tracing::debug!(group = %group, "quarantine group still in use");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn unsupported_httpd() -> CloudError {
    CloudError::new(
        "UnsupportedOperation",
        "stopping or starting httpd needs a command run on the instance, which the EC2 API cannot do (it takes \
         AWS Systems Manager, which hawaf does not use): use the stop-instance or isolate fault on AWS stacks",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(profile: Option<&str>) -> AwsTarget {
        AwsTarget { region: "eu-west-3".into(), profile: profile.map(str::to_owned), endpoint_url: None }
    }

    #[test]
    fn an_access_denied_reply_keeps_aws_words_and_names_the_permission_to_grant() {
        let message = with_advice(
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            "CreateVpc",
            &target(Some("ops")),
        );
        assert!(message.starts_with("You are not authorized to perform this operation."), "{message}");
        assert!(message.contains("allow ec2:CreateVpc"), "{message}");
        assert!(message.contains("`ops`"), "{message}");
        let elb = with_advice("AccessDenied", "denied", "ConfigureHealthCheck", &target(None));
        assert!(elb.contains("elasticloadbalancing:ConfigureHealthCheck"), "{elb}");
    }

    #[test]
    fn rejected_credentials_and_disabled_regions_say_what_to_fix() {
        let auth = with_advice(
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
            "DescribeVpcs",
            &target(None),
        );
        assert!(auth.contains("rejected the credentials") && auth.contains("aws sso login"), "{auth}");
        let region =
            with_advice("OptInRequired", "You are not subscribed to this service.", "DescribeVpcs", &target(None));
        assert!(region.contains("region eu-west-3 is not enabled"), "{region}");
        assert_eq!(
            with_advice("InvalidSubnet.Range", "The CIDR is invalid.", "CreateSubnet", &target(None)),
            "The CIDR is invalid."
        );
    }

    #[test]
    fn causes_are_said_once_on_one_line() {
        #[derive(Debug, thiserror::Error)]
        #[error("dispatch failure: io error")]
        struct Outer(#[source] Inner);
        #[derive(Debug, thiserror::Error)]
        #[error("tcp connect error:\n Connection refused")]
        struct Inner;
        assert_eq!(causes(&Outer(Inner)), "dispatch failure: io error: tcp connect error: Connection refused");
    }
}
