//! Stack definitions: what one HA-WAF stack looks like, how user input (a
//! form or API JSON) becomes one, and the seed preset.
//!
//! Input of either kind becomes a [`Draft`] (field path -> typed text, so a
//! form can be shown again as typed); [`parse`] turns a draft into a
//! [`StackDefinition`] or every [`FieldError`] at once. A definition cannot be
//! made any other way, so the rest of the program takes it as valid.

mod definition;
mod draft;
mod fields;
mod health_check;
mod names;
mod network;
pub mod outbound;
mod preset;
mod roles;
mod validate;
mod warnings;

#[cfg(test)]
mod tests;

pub use definition::{
    AwsSettings, Instance, Instances, LoadBalancer, LoadBalancers, PlacedInstance, Provider, SecurityGroups,
    StackDefinition, Subnet, SubnetMode, Subnets,
};
pub use draft::Draft;
pub use fields::{FIELDS, FieldError, Warning};
pub use health_check::{HealthCheck, HealthCheckTarget, INTERVAL_SECS, THRESHOLD, TIMEOUT_SECS};
pub use names::{AmiId, Az, EndpointUrl, InstanceType, LbName, NameTag, Profile, Region, SgName, StackName};
pub use network::{AWS_PREFIX_RANGE, Cidr};
pub use preset::{SEED_NAME, SEED_REGION, SEED_UTM_AMI, SEED_WEB_AMI, preset, seed_definition};
pub use roles::{InstanceRole, LbRole, SgRole, SubnetKey};
pub use validate::parse;

mod service;
pub use outbound::Outbound;
pub use service::{Author, Stack, StackError, Updated, check, create, delete, diff, list, load, update, versions};
