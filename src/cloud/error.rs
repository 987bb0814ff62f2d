//! Errors in AWS's terms: the code the engine matches on and the message as
//! AWS words it, for the AWS adapter and the lab alike.

use serde::{Deserialize, Serialize};

/// An error as AWS reports it: the machine-readable `code` the engine matches
/// on, and the human `message` worded as AWS words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{code}: {message}")]
pub struct CloudError {
    pub code: String,
    pub message: String,
}

/// The AWS error codes the engine reacts to. Anything else is `Other`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidVpcRange,
    InvalidSubnetRange,
    InvalidSubnetConflict,
    InvalidVpcIdNotFound,
    InvalidSubnetIdNotFound,
    InvalidGroupDuplicate,
    InvalidGroupNotFound,
    InvalidPermissionDuplicate,
    InvalidPermissionNotFound,
    DependencyViolation,
    InvalidInstanceIdNotFound,
    InvalidInstanceIdMalformed,
    IncorrectInstanceState,
    InvalidParameterValue,
    InvalidIpAddressInUse,
    InvalidAllocationIdNotFound,
    InvalidInternetGatewayIdNotFound,
    InvalidRouteTableIdNotFound,
    InvalidNatGatewayIdNotFound,
    ResourceAlreadyAssociated,
    RouteAlreadyExists,
    IdempotentParameterMismatch,
    InvalidAmiIdMalformed,
    CannotDelete,
    LoadBalancerNotFound,
    DuplicateLoadBalancerName,
    ValidationError,
    InvalidInstance,
    InvalidConfigurationRequest,
    SubnetNotFound,
    InvalidSecurityGroup,
    Throttling,
    TagLimitExceeded,
    /// The provider cannot do this at all (e.g. stop httpd through the EC2 API).
    UnsupportedOperation,
    Other(String),
}

impl ErrorCode {
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidVpcRange => "InvalidVpc.Range",
            Self::InvalidSubnetRange => "InvalidSubnet.Range",
            Self::InvalidSubnetConflict => "InvalidSubnet.Conflict",
            Self::InvalidVpcIdNotFound => "InvalidVpcID.NotFound",
            Self::InvalidSubnetIdNotFound => "InvalidSubnetID.NotFound",
            Self::InvalidGroupDuplicate => "InvalidGroup.Duplicate",
            Self::InvalidGroupNotFound => "InvalidGroup.NotFound",
            Self::InvalidPermissionDuplicate => "InvalidPermission.Duplicate",
            Self::InvalidPermissionNotFound => "InvalidPermission.NotFound",
            Self::DependencyViolation => "DependencyViolation",
            Self::InvalidInstanceIdNotFound => "InvalidInstanceID.NotFound",
            Self::InvalidInstanceIdMalformed => "InvalidInstanceID.Malformed",
            Self::IncorrectInstanceState => "IncorrectInstanceState",
            Self::InvalidParameterValue => "InvalidParameterValue",
            Self::InvalidIpAddressInUse => "InvalidIPAddress.InUse",
            Self::InvalidAllocationIdNotFound => "InvalidAllocationID.NotFound",
            Self::InvalidInternetGatewayIdNotFound => "InvalidInternetGatewayID.NotFound",
            Self::InvalidRouteTableIdNotFound => "InvalidRouteTableID.NotFound",
            Self::InvalidNatGatewayIdNotFound => "NatGatewayNotFound",
            Self::ResourceAlreadyAssociated => "Resource.AlreadyAssociated",
            Self::RouteAlreadyExists => "RouteAlreadyExists",
            Self::IdempotentParameterMismatch => "IdempotentParameterMismatch",
            Self::InvalidAmiIdMalformed => "InvalidAMIID.Malformed",
            Self::CannotDelete => "CannotDelete",
            Self::LoadBalancerNotFound => "LoadBalancerNotFound",
            Self::TagLimitExceeded => "TagLimitExceeded",
            Self::DuplicateLoadBalancerName => "DuplicateLoadBalancerName",
            Self::ValidationError => "ValidationError",
            Self::InvalidInstance => "InvalidInstance",
            Self::InvalidConfigurationRequest => "InvalidConfigurationRequest",
            Self::SubnetNotFound => "SubnetNotFound",
            Self::InvalidSecurityGroup => "InvalidSecurityGroup",
            Self::Throttling => "Throttling",
            Self::UnsupportedOperation => "UnsupportedOperation",
            Self::Other(s) => s,
        }
    }

    pub fn parse(code: &str) -> Self {
        const ALL: [ErrorCode; 34] = [
            ErrorCode::InvalidVpcRange,
            ErrorCode::InvalidSubnetRange,
            ErrorCode::InvalidSubnetConflict,
            ErrorCode::InvalidVpcIdNotFound,
            ErrorCode::InvalidSubnetIdNotFound,
            ErrorCode::InvalidGroupDuplicate,
            ErrorCode::InvalidGroupNotFound,
            ErrorCode::InvalidPermissionDuplicate,
            ErrorCode::InvalidPermissionNotFound,
            ErrorCode::DependencyViolation,
            ErrorCode::InvalidInstanceIdNotFound,
            ErrorCode::InvalidInstanceIdMalformed,
            ErrorCode::IncorrectInstanceState,
            ErrorCode::InvalidParameterValue,
            ErrorCode::InvalidIpAddressInUse,
            ErrorCode::InvalidAllocationIdNotFound,
            ErrorCode::InvalidInternetGatewayIdNotFound,
            ErrorCode::InvalidRouteTableIdNotFound,
            ErrorCode::InvalidNatGatewayIdNotFound,
            ErrorCode::ResourceAlreadyAssociated,
            ErrorCode::RouteAlreadyExists,
            ErrorCode::IdempotentParameterMismatch,
            ErrorCode::InvalidAmiIdMalformed,
            ErrorCode::CannotDelete,
            ErrorCode::LoadBalancerNotFound,
            ErrorCode::DuplicateLoadBalancerName,
            ErrorCode::ValidationError,
            ErrorCode::InvalidInstance,
            ErrorCode::InvalidConfigurationRequest,
            ErrorCode::SubnetNotFound,
            ErrorCode::InvalidSecurityGroup,
            ErrorCode::Throttling,
            ErrorCode::TagLimitExceeded,
            ErrorCode::UnsupportedOperation,
        ];
        ALL.into_iter().find(|c| c.as_str() == code).unwrap_or_else(|| ErrorCode::Other(code.to_string()))
    }
}

/// Codes AWS returns for conditions that go away on a retry.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "ServiceUnavailable",
    "Unavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
    "RequestTimeoutException",
];

impl CloudError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code: code.into(), message: message.into() }
    }

    pub fn of(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code.as_str(), message)
    }

    pub fn kind(&self) -> ErrorCode {
        ErrorCode::parse(&self.code)
    }

    pub fn is(&self, code: ErrorCode) -> bool {
        self.code == code.as_str()
    }

    /// Worth retrying with back-off (throttling, 5xx-style service trouble).
    pub fn is_transient(&self) -> bool {
        TRANSIENT_CODES.contains(&self.code.as_str())
    }

    /// Retrying the same call will fail the same way.
    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// The "not found" family: the engine treats these as "already gone"
    /// during teardown.
    pub fn is_not_found(&self) -> bool {
        self.code.ends_with(".NotFound")
            || self.code == "LoadBalancerNotFound"
            || self.code == "TargetGroupNotFound"
            || self.code == "NatGatewayNotFound"
            || self.code == "SubnetNotFound"
    }
}

pub type CloudResult<T> = Result<T, CloudError>;
