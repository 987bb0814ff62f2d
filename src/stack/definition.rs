//! `StackDefinition`: one HA-WAF stack, valid by construction. The only way
//! to make one is `parse` (directly, or through `Deserialize`, which runs the
//! same path), so the rest of the program never re-checks it.

use std::net::Ipv4Addr;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::draft::Draft;
use super::health_check::HealthCheck;
use super::names::{AmiId, Az, EndpointUrl, InstanceType, LbName, NameTag, Profile, Region, SgName, StackName};
use super::network::Cidr;
use super::roles::{InstanceRole, LbRole, SgRole, SubnetKey};
use super::validate::parse;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The embedded loopback data plane.
    Lab,
    /// Real AWS (or an emulator behind `aws.endpoint_url`).
    Aws,
}

impl Provider {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "lab" => Ok(Provider::Lab),
            "aws" => Ok(Provider::Aws),
            _ => Err(format!("the provider must be lab or aws, not `{value}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Lab => "lab",
            Provider::Aws => "aws",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubnetMode {
    /// The seed's layout: every subnet public, one route table to the IGW.
    Tutorial,
    /// The seed's production advice: web subnets private behind a NAT in public-a.
    Protected,
}

impl SubnetMode {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.to_ascii_lowercase().as_str() {
            "tutorial" => Ok(SubnetMode::Tutorial),
            "protected" => Ok(SubnetMode::Protected),
            _ => Err(format!("the subnet mode must be tutorial or protected, not `{value}`")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SubnetMode::Tutorial => "tutorial",
            SubnetMode::Protected => "protected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AwsSettings {
    pub(super) region: Region,
    pub(super) profile: Option<Profile>,
    pub(super) endpoint_url: Option<EndpointUrl>,
}

impl AwsSettings {
    pub fn region(&self) -> &Region {
        &self.region
    }

    pub fn profile(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    pub fn endpoint_url(&self) -> Option<&EndpointUrl> {
        self.endpoint_url.as_ref()
    }
}

/// A subnet inside the VPC, in an AZ of the stack's region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet {
    pub(super) cidr: Cidr,
    pub(super) az: Az,
}

impl Subnet {
    pub fn cidr(&self) -> &Cidr {
        &self.cidr
    }

    pub fn az(&self) -> &Az {
        &self.az
    }
}

/// The four subnets every stack has, and the optional pair that gives the
/// external load balancer subnets of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnets {
    pub(super) public_a: Subnet,
    pub(super) public_b: Subnet,
    pub(super) web_a: Subnet,
    pub(super) web_b: Subnet,
    pub(super) lbext: Option<(Subnet, Subnet)>,
}

impl Subnets {
    pub fn get(&self, key: SubnetKey) -> Option<&Subnet> {
        match key {
            SubnetKey::PublicA => Some(&self.public_a),
            SubnetKey::PublicB => Some(&self.public_b),
            SubnetKey::WebA => Some(&self.web_a),
            SubnetKey::WebB => Some(&self.web_b),
            SubnetKey::LbextA => self.lbext.as_ref().map(|(a, _)| a),
            SubnetKey::LbextB => self.lbext.as_ref().map(|(_, b)| b),
        }
    }

    /// The subnets the stack uses, in canonical order.
    pub fn iter(&self) -> impl Iterator<Item = (SubnetKey, &Subnet)> {
        SubnetKey::ALL.iter().filter_map(|&key| self.get(key).map(|subnet| (key, subnet)))
    }
}

impl Serialize for Subnets {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(SubnetKey::ALL.len()))?;
        for &key in SubnetKey::ALL {
            map.serialize_entry(key.as_str(), &self.get(key))?;
        }
        map.end()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instance {
    pub(super) name: NameTag,
    pub(super) instance_type: InstanceType,
    pub(super) ami: AmiId,
    pub(super) private_ip: Option<Ipv4Addr>,
}

impl Instance {
    pub fn name(&self) -> &NameTag {
        &self.name
    }

    pub fn instance_type(&self) -> &InstanceType {
        &self.instance_type
    }

    pub fn ami(&self) -> &AmiId {
        &self.ami
    }

    /// Always `Some` for WAF nodes (parse requires it); optional for web servers.
    pub fn private_ip(&self) -> Option<Ipv4Addr> {
        self.private_ip
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Instances {
    #[serde(rename = "web-left")]
    pub(super) web_left: Instance,
    #[serde(rename = "web-right")]
    pub(super) web_right: Instance,
    #[serde(rename = "waf-left")]
    pub(super) waf_left: Instance,
    #[serde(rename = "waf-right")]
    pub(super) waf_right: Instance,
}

/// The appliance on both WAF nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Waf {
    /// `utm9` (the tutorial's Sophos UTM 9) or `sfos` (Sophos Firewall).
    pub(super) kind: crate::waf::WafKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancer {
    pub(super) name: LbName,
    /// `classic` (the tutorial's), `application` or `network`.
    pub(super) kind: crate::cloud::LbKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadBalancers {
    pub(super) external: LoadBalancer,
    pub(super) internal: LoadBalancer,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityGroups {
    pub(super) lbext: SgName,
    pub(super) utm: SgName,
    pub(super) lbint: SgName,
    pub(super) web: SgName,
}

/// An instance together with where its role places it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedInstance<'a> {
    pub role: InstanceRole,
    pub instance: &'a Instance,
    pub subnet_key: SubnetKey,
    pub subnet: &'a Subnet,
}

/// One HA-WAF stack. Serializes to the canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackDefinition {
    pub(super) name: StackName,
    pub(super) provider: Provider,
    pub(super) aws: AwsSettings,
    pub(super) vpc_cidr: Cidr,
    pub(super) vpc_name: NameTag,
    pub(super) subnet_mode: SubnetMode,
    pub(super) admin_cidr: Cidr,
    pub(super) subnets: Subnets,
    pub(super) instances: Instances,
    pub(super) waf: Waf,
    pub(super) load_balancers: LoadBalancers,
    pub(super) security_groups: SecurityGroups,
    pub(super) health_check: HealthCheck,
}

impl StackDefinition {
    pub fn name(&self) -> &StackName {
        &self.name
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    pub fn aws(&self) -> &AwsSettings {
        &self.aws
    }

    pub fn region(&self) -> &Region {
        &self.aws.region
    }

    pub fn vpc_cidr(&self) -> &Cidr {
        &self.vpc_cidr
    }

    pub fn vpc_name(&self) -> &NameTag {
        &self.vpc_name
    }

    pub fn subnet_mode(&self) -> SubnetMode {
        self.subnet_mode
    }

    /// Who may reach SSH (22) on web servers and WebAdmin (4444) on WAF nodes.
    pub fn admin_cidr(&self) -> &Cidr {
        &self.admin_cidr
    }

    pub fn subnets(&self) -> &Subnets {
        &self.subnets
    }

    pub fn subnet(&self, key: SubnetKey) -> Option<&Subnet> {
        self.subnets.get(key)
    }

    pub fn instance(&self, role: InstanceRole) -> &Instance {
        match role {
            InstanceRole::WebLeft => &self.instances.web_left,
            InstanceRole::WebRight => &self.instances.web_right,
            InstanceRole::WafLeft => &self.instances.waf_left,
            InstanceRole::WafRight => &self.instances.waf_right,
        }
    }

    /// The subnet an instance's role places it in (always one of the four
    /// required subnets).
    pub fn instance_subnet(&self, role: InstanceRole) -> &Subnet {
        // Mirrors `InstanceRole::subnet`, spelled out so it stays total
        // over the four required subnets (a test keeps the two in step).
        match role {
            InstanceRole::WebLeft => &self.subnets.web_a,
            InstanceRole::WebRight => &self.subnets.web_b,
            InstanceRole::WafLeft => &self.subnets.public_a,
            InstanceRole::WafRight => &self.subnets.public_b,
        }
    }

    pub fn placed(&self, role: InstanceRole) -> PlacedInstance<'_> {
        PlacedInstance {
            role,
            instance: self.instance(role),
            subnet_key: role.subnet(),
            subnet: self.instance_subnet(role),
        }
    }

    /// All four instances with their placement, in canonical order.
    pub fn placed_instances(&self) -> [PlacedInstance<'_>; 4] {
        [
            self.placed(InstanceRole::WebLeft),
            self.placed(InstanceRole::WebRight),
            self.placed(InstanceRole::WafLeft),
            self.placed(InstanceRole::WafRight),
        ]
    }

    pub fn load_balancer(&self, role: LbRole) -> &LbName {
        match role {
            LbRole::External => &self.load_balancers.external.name,
            LbRole::Internal => &self.load_balancers.internal.name,
        }
    }

    /// The appliance the WAF nodes run, and so the driver step 8, the
    /// switch and the drills use.
    pub fn waf_kind(&self) -> crate::waf::WafKind {
        self.waf.kind
    }

    pub fn lb_kind(&self, role: LbRole) -> crate::cloud::LbKind {
        match role {
            LbRole::External => self.load_balancers.external.kind,
            LbRole::Internal => self.load_balancers.internal.kind,
        }
    }

    /// The instances a load balancer balances over.
    pub fn lb_members(&self, role: LbRole) -> [InstanceRole; 2] {
        match role {
            LbRole::External => [InstanceRole::WafLeft, InstanceRole::WafRight],
            LbRole::Internal => [InstanceRole::WebLeft, InstanceRole::WebRight],
        }
    }

    /// The external LB uses its own subnets when both are set (the seed's
    /// "more robust" option), else the WAF nodes' public subnets; the
    /// internal LB uses the web subnets.
    pub fn lb_subnets(&self, role: LbRole) -> [(SubnetKey, &Subnet); 2] {
        let s = &self.subnets;
        match (role, &s.lbext) {
            (LbRole::External, Some((a, b))) => [(SubnetKey::LbextA, a), (SubnetKey::LbextB, b)],
            (LbRole::External, None) => [(SubnetKey::PublicA, &s.public_a), (SubnetKey::PublicB, &s.public_b)],
            (LbRole::Internal, _) => [(SubnetKey::WebA, &s.web_a), (SubnetKey::WebB, &s.web_b)],
        }
    }

    pub fn security_group(&self, role: SgRole) -> &SgName {
        let g = &self.security_groups;
        match role {
            SgRole::Lbext => &g.lbext,
            SgRole::Utm => &g.utm,
            SgRole::Lbint => &g.lbint,
            SgRole::Web => &g.web,
        }
    }

    pub fn health_check(&self) -> &HealthCheck {
        &self.health_check
    }

    /// The definition as form values, for the edit form.
    pub fn to_draft(&self) -> Draft {
        Draft::from_canonical(&self.to_json())
    }

    /// The canonical JSON, as stored and returned by the API.
    pub fn to_json(&self) -> serde_json::Value {
        // Every key is a string and no Serialize impl here can fail, so
        // conversion to a Value cannot fail.
        serde_json::to_value(self).expect("a StackDefinition always converts to JSON")
    }
}

/// Deserialization runs the same validation as forms: stored JSON that no
/// longer parses is reported with every field error, never half-loaded.
impl<'de> Deserialize<'de> for StackDefinition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        let joined = |errors: Vec<super::FieldError>| {
            let parts: Vec<String> = errors.iter().map(ToString::to_string).collect();
            serde::de::Error::custom(format!("invalid stack definition: {}", parts.join("; ")))
        };
        let draft = Draft::from_complete_json(value).map_err(joined)?;
        parse(&draft).map_err(joined)
    }
}
