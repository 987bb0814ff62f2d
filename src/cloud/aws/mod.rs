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

mod calls;
mod convert;
mod errors;
mod faults;
mod v2;

use convert::*;
use errors::*;

use super::{
    Address, Cloud, CloudError, CloudResult, CreateLoadBalancerRequest, ErrorCode, Faults, Filter, HealthCheck,
    HealthState, IngressRule, Instance, InstanceHealth, InstanceState, InternetGateway, LoadBalancer, NatGateway,
    QUARANTINE_GROUP, ResourceKind, Route, RouteTable, RouteTableAssociation, RouteTarget, RuleSource,
    RunInstanceRequest, Scheme, SecurityGroup, Subnet, TAG_NAME, TAG_STACK, Tags, Vpc,
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
    elbv2: aws_sdk_elasticloadbalancingv2::Client,
}

/// One AWS account and region as a `Cloud`. Cheap to keep: the SDK clients
/// are built on first use and shared by every call after.
pub struct AwsCloud {
    target: AwsTarget,
    tuning: AwsTuning,
    clients: OnceCell<Clients>,
    /// Load balancer name -> kind, as the definitions using this adapter say.
    lb_kinds: std::sync::Mutex<HashMap<String, super::LbKind>>,
}

impl AwsCloud {
    pub fn new(target: AwsTarget, tuning: AwsTuning) -> Self {
        AwsCloud { target, tuning, clients: OnceCell::new(), lb_kinds: std::sync::Mutex::default() }
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
        Clients {
            ec2: ec2::Client::new(&config),
            elb: elb::Client::new(&config),
            elbv2: aws_sdk_elasticloadbalancingv2::Client::new(&config),
        }
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
            // The socket's own words (refused, reset, no route) stay in the
            // log: shown to whoever set the endpoint, they would make hawaf
            // a port scanner of its own network.
            SdkError::DispatchFailure(failure) if failure.is_io() => {
                tracing::warn!(%endpoint, operation, %cause, "AWS endpoint unreachable");
                CloudError::new(
                    "EndpointUnreachable",
                    format!(
                        "cannot reach {endpoint} for {operation}: check the region, the stack's endpoint URL or \
                         AWS_ENDPOINT_URL, and this host's network or proxy settings (the server log has the cause)"
                    ),
                )
            }
            SdkError::ResponseError(_) => {
                tracing::warn!(%endpoint, operation, %cause, "not an AWS API response");
                CloudError::new(
                    "InvalidResponse",
                    format!(
                        "{endpoint} sent an answer to {operation} that is not an AWS API response: check that the \
                         endpoint URL points at an AWS API (the server log has the details)"
                    ),
                )
            }
            SdkError::ConstructionFailure(_) => {
                CloudError::new("InvalidRequest", format!("{operation} could not be prepared: {cause}"))
            }
            _ => CloudError::new("RequestFailed", format!("{operation} to {endpoint} failed: {cause}")),
        }
    }
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
