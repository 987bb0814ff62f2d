//! Field paths (the JSON paths joined by dots) and the messages attached to
//! them: the vocabulary shared by forms, the JSON API and validation.

use serde::Serialize;

/// Every field of a definition, in the order of the canonical JSON, so a
/// form can be generated from it.
pub const FIELDS: &[&str] = &[
    "name",
    "provider",
    "aws.region",
    "aws.profile",
    "aws.endpoint_url",
    "vpc_cidr",
    "vpc_name",
    "subnet_mode",
    "admin_cidr",
    "subnets.public-a.cidr",
    "subnets.public-a.az",
    "subnets.public-b.cidr",
    "subnets.public-b.az",
    "subnets.web-a.cidr",
    "subnets.web-a.az",
    "subnets.web-b.cidr",
    "subnets.web-b.az",
    "subnets.lbext-a.cidr",
    "subnets.lbext-a.az",
    "subnets.lbext-b.cidr",
    "subnets.lbext-b.az",
    "instances.web-left.name",
    "instances.web-left.instance_type",
    "instances.web-left.ami",
    "instances.web-left.private_ip",
    "instances.web-right.name",
    "instances.web-right.instance_type",
    "instances.web-right.ami",
    "instances.web-right.private_ip",
    "instances.waf-left.name",
    "instances.waf-left.instance_type",
    "instances.waf-left.ami",
    "instances.waf-left.private_ip",
    "instances.waf-right.name",
    "instances.waf-right.instance_type",
    "instances.waf-right.ami",
    "instances.waf-right.private_ip",
    "waf.kind",
    "load_balancers.external.name",
    "load_balancers.external.kind",
    "load_balancers.internal.name",
    "load_balancers.internal.kind",
    "security_groups.lbext",
    "security_groups.utm",
    "security_groups.lbint",
    "security_groups.web",
    "health_check.target",
    "health_check.interval",
    "health_check.timeout",
    "health_check.healthy_threshold",
    "health_check.unhealthy_threshold",
];

/// Fields whose JSON value is a number (a numeric string is accepted too).
pub(crate) const NUMERIC_FIELDS: &[&str] = &[
    "health_check.interval",
    "health_check.timeout",
    "health_check.healthy_threshold",
    "health_check.unhealthy_threshold",
];

/// Objects that may be `null` as a whole, meaning "not used".
pub(crate) const NULLABLE_GROUPS: &[&str] = &["subnets.lbext-a", "subnets.lbext-b"];

pub(crate) fn is_field(path: &str) -> bool {
    FIELDS.contains(&path)
}

/// A group is a JSON object holding fields, such as `aws` or `subnets.web-a`.
pub(crate) fn is_group(path: &str) -> bool {
    FIELDS
        .iter()
        .any(|field| field.len() > path.len() && field.starts_with(path) && field.as_bytes()[path.len()] == b'.')
}

/// What is wrong with one field, in words meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// Something allowed but worth a second look, shown next to its field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub field: String,
    pub message: String,
}

impl Warning {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Warning { field: field.into(), message: message.into() }
    }
}
