//! SDK failures as `CloudError`: AWS's own code and message for service
//! errors, and for failures that never reached AWS a code and a message that
//! names what to fix.

use super::*;

/// "Not found" answers that, right after a create, mean "not yet".
pub(super) fn not_visible_yet(e: &CloudError) -> bool {
    e.is_not_found() || matches!(e.code.as_str(), "InvalidInstance" | "InvalidSecurityGroup")
}

/// The classic ELB operations this adapter calls; every other is EC2's.
pub(super) const ELB_OPERATIONS: &[&str] = &[
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
pub(super) fn with_advice(code: &str, message: &str, operation: &str, target: &AwsTarget) -> String {
    let elb = ELB_OPERATIONS.contains(&operation) || super::v2::ELBV2_OPERATIONS.contains(&operation);
    let service = if elb { "elasticloadbalancing" } else { "ec2" };
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

pub(super) fn timeout(operation: &str, endpoint: &str, t: AwsTuning) -> CloudError {
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

pub(super) fn credentials_error(err: &CredentialsError, target: &AwsTarget) -> CloudError {
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
pub(super) fn causes(err: &(dyn StdError + 'static)) -> String {
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
pub(super) fn find_cause<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}
