//! Matching a definition's console names against what the provider holds,
//! free of any provider: each resource the eight steps would make is looked
//! for the way an operator would find it in the console (the VPC by its Name
//! tag, subnets by CIDR, groups by name, instances by Name tag, load
//! balancers by name) and comes out found, missing, ambiguous, owned by
//! another stack, or found but unlike the definition.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::cloud::{
    Address, Instance, InstanceState, InternetGateway, LoadBalancer, NatGateway, ResourceKind, RouteTable, RouteTarget,
    Scheme, SecurityGroup, Subnet, TAG_NAME, TAG_ROLE, TAG_STACK, Tags, Vpc,
};
use crate::contract::{AdoptResource, AdoptStatus};
use crate::stack::{InstanceRole, LbRole, SgRole, StackDefinition, SubnetKey, SubnetMode};

/// Everything the provider reported that adoption looks through.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub gateways: Vec<InternetGateway>,
    pub route_tables: Vec<RouteTable>,
    pub nat_gateways: Vec<NatGateway>,
    pub groups: Vec<SecurityGroup>,
    pub instances: Vec<Instance>,
    pub addresses: Vec<Address>,
    pub load_balancers: Vec<LoadBalancer>,
}

/// One resource of the definition and what was found for it.
#[derive(Debug, Clone)]
pub struct Item {
    pub report: AdoptResource,
    pub kind: ResourceKind,
    /// The apply step that owns it (and that records it).
    pub step: u8,
    /// The tags to write: hawaf's Name for it and the stack's tag.
    pub tags: Tags,
    /// What a build records for it.
    pub attributes: Value,
}

impl Item {
    pub fn is_found(&self) -> bool {
        self.report.status == AdoptStatus::Found
    }
}

const ANYWHERE: &str = "0.0.0.0/0";

struct Look<'a> {
    stack: &'a str,
    items: Vec<Item>,
}

impl Look<'_> {
    /// Records the outcome of one lookup: `matches` are the ids that fit
    /// `looked_for`; `tags` are the match's current tags (to tell an owner).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        resource: &str,
        kind: ResourceKind,
        cfn: &str,
        step: u8,
        looked_for: String,
        matches: Vec<(String, Tags)>,
        name: &str,
        mut extra_tags: Tags,
        attributes: Value,
        mismatch: Option<String>,
    ) -> Option<String> {
        let mut report = AdoptResource {
            resource: resource.to_owned(),
            kind: cfn.to_owned(),
            looked_for,
            status: AdoptStatus::Missing,
            id: None,
            candidates: Vec::new(),
            detail: None,
            tags: Vec::new(),
        };
        extra_tags.insert(TAG_NAME.to_owned(), name.to_owned());
        extra_tags.insert(TAG_STACK.to_owned(), self.stack.to_owned());
        let found = match matches.as_slice() {
            [] => None,
            [(id, tags)] => {
                report.id = Some(id.clone());
                match tags.get(TAG_STACK) {
                    Some(owner) if owner != self.stack => {
                        report.status = AdoptStatus::Owned;
                        report.detail = Some(format!("tagged {TAG_STACK}={owner}: it belongs to stack {owner}"));
                    }
                    _ => match mismatch {
                        Some(why) => {
                            report.status = AdoptStatus::Mismatch;
                            report.detail = Some(why);
                        }
                        None => {
                            report.status = AdoptStatus::Found;
                            if let Some(old) = tags.get(TAG_NAME).filter(|old| old.as_str() != name) {
                                report.detail = Some(format!("its Name tag {old:?} becomes {name:?}"));
                            }
                        }
                    },
                }
                report.tags = extra_tags
                    .iter()
                    .filter(|(k, v)| tags.get(*k) != Some(*v))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                Some(id.clone())
            }
            many => {
                report.status = AdoptStatus::Ambiguous;
                report.candidates = many.iter().map(|(id, _)| id.clone()).collect();
                report.detail = Some(format!(
                    "{} resources match: rename or tag all but one, or change the definition",
                    many.len()
                ));
                None
            }
        };
        self.items.push(Item { report, kind, step, tags: extra_tags, attributes });
        found.filter(|_| self.items.last().is_some_and(Item::is_found))
    }

    /// A resource not looked for because what it lives in was not found.
    fn skipped(&mut self, resource: &str, kind: ResourceKind, cfn: &str, step: u8, looked_for: String, why: &str) {
        self.items.push(Item {
            report: AdoptResource {
                resource: resource.to_owned(),
                kind: cfn.to_owned(),
                looked_for,
                status: AdoptStatus::Missing,
                id: None,
                candidates: Vec::new(),
                detail: Some(why.to_owned()),
                tags: Vec::new(),
            },
            kind,
            step,
            tags: Tags::new(),
            attributes: Value::Null,
        });
    }
}

fn alive(i: &Instance) -> bool {
    !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown)
}

fn name_tag(tags: &Tags) -> Option<&str> {
    tags.get(TAG_NAME).map(String::as_str)
}

/// Looks for every resource of `d` in `seen`, as stack `d.name()`.
pub fn survey(d: &StackDefinition, seen: &Seen) -> Vec<Item> {
    let stack = d.name().as_str();
    let mut look = Look { stack, items: Vec::new() };
    let vpc_name = d.vpc_name().as_str();
    const NO_VPC: &str = "not looked for: the VPC was not found exactly once";

    // Step 1: the VPC by its Name tag; its internet gateway and public table.
    let named: Vec<&Vpc> = seen.vpcs.iter().filter(|v| name_tag(&v.tags) == Some(vpc_name)).collect();
    let vpc_mismatch = match named.as_slice() {
        [v] if v.cidr != d.vpc_cidr().net() => {
            Some(format!("its CIDR is {}; the definition says {}", v.cidr, d.vpc_cidr()))
        }
        _ => None,
    };
    let vpc = look.push(
        "vpc",
        ResourceKind::Vpc,
        "AWS::EC2::VPC",
        1,
        format!("Name tag {vpc_name}"),
        named.iter().map(|v| (v.id.clone(), v.tags.clone())).collect(),
        vpc_name,
        Tags::new(),
        json!({"cidr": d.vpc_cidr().to_string(), "name": vpc_name}),
        vpc_mismatch,
    );
    if named.is_empty()
        && let Some(same) = seen.vpcs.iter().find(|v| v.cidr == d.vpc_cidr().net())
        && let Some(last) = look.items.last_mut()
    {
        last.report.detail = Some(format!(
            "{} has the CIDR {} but its Name tag is {:?}: name it {vpc_name} in the console, or set vpc_name",
            same.id,
            same.cidr,
            name_tag(&same.tags).unwrap_or("")
        ));
    }

    let Some(vpc) = vpc else {
        for (resource, kind, cfn, step, what) in planned(d) {
            look.skipped(&resource, kind, cfn, step, what, NO_VPC);
        }
        return look.items;
    };

    let igw_name = format!("{vpc_name}-igw");
    let igws: Vec<(String, Tags)> = seen
        .gateways
        .iter()
        .filter(|g| g.attached_vpc.as_deref() == Some(vpc.as_str()))
        .map(|g| (g.id.clone(), g.tags.clone()))
        .collect();
    let igw = look.push(
        "igw",
        ResourceKind::InternetGateway,
        "AWS::EC2::InternetGateway",
        1,
        format!("the internet gateway attached to {vpc}"),
        igws,
        &igw_name,
        Tags::new(),
        json!({"name": igw_name}),
        None,
    );
    let in_vpc_tables: Vec<&RouteTable> = seen.route_tables.iter().filter(|t| t.vpc_id == vpc).collect();
    let default_to = |pick: &dyn Fn(&RouteTarget) -> bool| -> Vec<(String, Tags)> {
        in_vpc_tables
            .iter()
            .filter(|t| t.routes.iter().any(|r| r.destination.to_string() == ANYWHERE && pick(&r.target)))
            .map(|t| (t.id.clone(), t.tags.clone()))
            .collect()
    };
    let public_name = format!("{vpc_name}-public");
    match &igw {
        Some(igw) => {
            let tables = default_to(&|t| matches!(t, RouteTarget::Gateway(g) if g == igw));
            look.push(
                "rtb/public",
                ResourceKind::RouteTable,
                "AWS::EC2::RouteTable",
                1,
                format!("the route table of {vpc} with {ANYWHERE} -> {igw}"),
                tables,
                &public_name,
                Tags::new(),
                json!({"name": public_name}),
                None,
            );
        }
        None => look.skipped(
            "rtb/public",
            ResourceKind::RouteTable,
            "AWS::EC2::RouteTable",
            1,
            format!("the route table of {vpc} with {ANYWHERE} -> the internet gateway"),
            "not looked for: the internet gateway was not found",
        ),
    }

    // Step 2: subnets by CIDR (unique within a VPC); NAT for protected mode.
    let mut subnet_ids: Vec<(SubnetKey, String)> = Vec::new();
    for (key, want) in d.subnets().iter() {
        let name = format!("{vpc_name}-{}", key.as_str());
        let matches: Vec<&Subnet> =
            seen.subnets.iter().filter(|s| s.vpc_id == vpc && s.cidr == want.cidr().net()).collect();
        let mismatch = match matches.as_slice() {
            [s] if s.availability_zone != want.az().as_str() => {
                Some(format!("it is in {}; the definition says {}", s.availability_zone, want.az()))
            }
            _ => None,
        };
        if let Some(id) = look.push(
            &format!("subnet/{}", key.as_str()),
            ResourceKind::Subnet,
            "AWS::EC2::Subnet",
            2,
            format!("CIDR {} in {vpc}", want.cidr()),
            matches.iter().map(|s| (s.id.clone(), s.tags.clone())).collect(),
            &name,
            Tags::new(),
            json!({"cidr": want.cidr().to_string(), "az": want.az().as_str()}),
            mismatch,
        ) {
            subnet_ids.push((key, id));
        }
    }
    if d.subnet_mode() == SubnetMode::Protected {
        let nat_name = format!("{vpc_name}-nat");
        let nats: Vec<&NatGateway> =
            seen.nat_gateways.iter().filter(|n| n.vpc_id == vpc && n.state != "deleted").collect();
        let nat = look.push(
            "nat",
            ResourceKind::NatGateway,
            "AWS::EC2::NatGateway",
            2,
            format!("the NAT gateway in {vpc}"),
            nats.iter().map(|n| (n.id.clone(), n.tags.clone())).collect(),
            &nat_name,
            Tags::new(),
            json!({"subnet": nats.first().map(|n| n.subnet_id.clone()).unwrap_or_default()}),
            None,
        );
        let private_name = format!("{vpc_name}-private");
        match nat {
            Some(nat) => {
                let allocation = nats.iter().find(|n| n.id == nat).map(|n| n.allocation_id.clone()).unwrap_or_default();
                let eips: Vec<&Address> = seen.addresses.iter().filter(|a| a.allocation_id == allocation).collect();
                look.push(
                    "eip/nat",
                    ResourceKind::Address,
                    "AWS::EC2::EIP",
                    2,
                    format!("the Elastic IP of {nat}"),
                    eips.iter().map(|a| (a.allocation_id.clone(), a.tags.clone())).collect(),
                    &format!("{nat_name}-eip"),
                    Tags::new(),
                    json!({"public_ip": eips.first().map(|a| a.public_ip.to_string()).unwrap_or_default()}),
                    None,
                );
                let tables = default_to(&|t| matches!(t, RouteTarget::NatGateway(g) if *g == nat));
                look.push(
                    "rtb/private",
                    ResourceKind::RouteTable,
                    "AWS::EC2::RouteTable",
                    2,
                    format!("the route table of {vpc} with {ANYWHERE} -> {nat}"),
                    tables,
                    &private_name,
                    Tags::new(),
                    json!({"name": private_name}),
                    None,
                );
            }
            None => {
                for (resource, cfn, kind) in [
                    ("eip/nat", "AWS::EC2::EIP", ResourceKind::Address),
                    ("rtb/private", "AWS::EC2::RouteTable", ResourceKind::RouteTable),
                ] {
                    look.skipped(
                        resource,
                        kind,
                        cfn,
                        2,
                        format!("the {resource} of the NAT gateway"),
                        "not looked for: the NAT gateway was not found",
                    );
                }
            }
        }
    }

    // Step 3: security groups by group name, within the VPC.
    for role in SgRole::ALL {
        let name = d.security_group(*role).as_str();
        let groups: Vec<&SecurityGroup> = seen.groups.iter().filter(|g| g.vpc_id == vpc && g.name == name).collect();
        look.push(
            &format!("sg/{}", role.as_str()),
            ResourceKind::SecurityGroup,
            "AWS::EC2::SecurityGroup",
            3,
            format!("group name {name} in {vpc}"),
            groups.iter().map(|g| (g.id.clone(), g.tags.clone())).collect(),
            name,
            Tags::new(),
            json!({"name": name}),
            None,
        );
    }

    // Steps 4 and 6: instances by Name tag, with their Elastic IPs.
    for role in InstanceRole::ALL {
        let placed = d.placed(*role);
        let name = placed.instance.name().as_str();
        let step = if role.is_waf() { 6 } else { 4 };
        let found: Vec<&Instance> =
            seen.instances.iter().filter(|i| i.vpc_id == vpc && alive(i) && name_tag(&i.tags) == Some(name)).collect();
        let subnet = subnet_ids.iter().find(|(k, _)| *k == placed.subnet_key).map(|(_, id)| id.as_str());
        let mismatch = match found.as_slice() {
            [i] => match (subnet, placed.instance.private_ip()) {
                (Some(s), _) if i.subnet_id != s => {
                    Some(format!("it is in {}; the definition places it in {s} ({})", i.subnet_id, placed.subnet_key))
                }
                (_, Some(ip)) if i.private_ip != ip => {
                    Some(format!("its private IP is {}; the definition says {ip}", i.private_ip))
                }
                _ => None,
            },
            _ => None,
        };
        let role_tag = Tags::from([(TAG_ROLE.to_owned(), if role.is_waf() { "waf" } else { "web" }.to_owned())]);
        let ip = found.first().map(|i| i.private_ip).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let id = look.push(
            &format!("instance/{}", role.as_str()),
            ResourceKind::Instance,
            "AWS::EC2::Instance",
            step,
            format!("Name tag {name} in {vpc}"),
            found.iter().map(|i| (i.id.clone(), i.tags.clone())).collect(),
            name,
            role_tag,
            json!({"name": name, "private_ip": ip.to_string()}),
            mismatch,
        );
        let Some(id) = id else { continue };
        if let (Some(i), Some(item)) = (found.first(), look.items.last_mut()) {
            let mut notes: Vec<String> = item.report.detail.take().into_iter().collect();
            if i.instance_type != placed.instance.instance_type().as_str() {
                notes.push(format!(
                    "type {} (the definition says {}: drift after adoption, which drift/accept can take)",
                    i.instance_type,
                    placed.instance.instance_type()
                ));
            }
            if i.image_id != placed.instance.ami().as_str() {
                notes.push(format!("AMI {} (the definition says {})", i.image_id, placed.instance.ami()));
            }
            item.report.detail = (!notes.is_empty()).then(|| notes.join("; "));
        }
        // An Elastic IP is taken along when there is one; none is not a gap.
        let eips: Vec<&Address> = seen.addresses.iter().filter(|a| a.instance_id.as_deref() == Some(&id)).collect();
        if !eips.is_empty() {
            look.push(
                &format!("eip/{}", role.as_str()),
                ResourceKind::Address,
                "AWS::EC2::EIP",
                step,
                format!("the Elastic IP associated with {id}"),
                eips.iter().map(|a| (a.allocation_id.clone(), a.tags.clone())).collect(),
                &format!("{name}-eip"),
                Tags::new(),
                json!({"public_ip": eips[0].public_ip.to_string()}),
                None,
            );
        }
    }

    // Steps 5 and 7: load balancers by name (unique per region).
    for role in [LbRole::Internal, LbRole::External] {
        let name = d.load_balancer(role).as_str();
        let found: Vec<&LoadBalancer> = seen.load_balancers.iter().filter(|l| l.name == name).collect();
        let want = match role {
            LbRole::External => Scheme::InternetFacing,
            LbRole::Internal => Scheme::Internal,
        };
        let kind = d.lb_kind(role);
        let mismatch = match found.as_slice() {
            [l] if l.kind != kind => {
                Some(format!("it is a {}; the definition asks for a {}", l.kind.title(), kind.title()))
            }
            [l] if l.vpc_id != vpc => Some(format!("it is in {}, not in {vpc}", l.vpc_id)),
            [l] if l.scheme != want => Some(format!(
                "it is {}; the {} load balancer must be {}",
                scheme(l.scheme),
                crate::build::lb_key(role),
                scheme(want)
            )),
            _ => None,
        };
        look.push(
            &format!("lb/{}", crate::build::lb_key(role)),
            ResourceKind::LoadBalancer,
            kind.cfn_type(),
            if role == LbRole::Internal { 5 } else { 7 },
            format!("load balancer name {name}"),
            found.iter().map(|l| (l.name.clone(), l.tags.clone())).collect(),
            name,
            Tags::new(),
            json!({"dns_name": found.first().map(|l| l.dns_name.clone()).unwrap_or_default(), "kind": kind.as_str()}),
            mismatch,
        );
    }
    look.items
}

fn scheme(s: Scheme) -> &'static str {
    match s {
        Scheme::InternetFacing => "internet-facing",
        Scheme::Internal => "internal",
    }
}

/// Everything but the VPC, for the report when the VPC itself is not found.
fn planned(d: &StackDefinition) -> Vec<(String, ResourceKind, &'static str, u8, String)> {
    let mut out = vec![
        (
            "igw".to_owned(),
            ResourceKind::InternetGateway,
            "AWS::EC2::InternetGateway",
            1,
            "the VPC's internet gateway".to_owned(),
        ),
        (
            "rtb/public".to_owned(),
            ResourceKind::RouteTable,
            "AWS::EC2::RouteTable",
            1,
            "the VPC's public route table".to_owned(),
        ),
    ];
    for (key, want) in d.subnets().iter() {
        out.push((
            format!("subnet/{}", key.as_str()),
            ResourceKind::Subnet,
            "AWS::EC2::Subnet",
            2,
            format!("CIDR {}", want.cidr()),
        ));
    }
    for role in SgRole::ALL {
        let name = d.security_group(*role).as_str();
        out.push((
            format!("sg/{}", role.as_str()),
            ResourceKind::SecurityGroup,
            "AWS::EC2::SecurityGroup",
            3,
            format!("group name {name}"),
        ));
    }
    for role in InstanceRole::ALL {
        let name = d.instance(*role).name().as_str();
        let step = if role.is_waf() { 6 } else { 4 };
        out.push((
            format!("instance/{}", role.as_str()),
            ResourceKind::Instance,
            "AWS::EC2::Instance",
            step,
            format!("Name tag {name}"),
        ));
    }
    for role in [LbRole::Internal, LbRole::External] {
        let name = d.load_balancer(role).as_str();
        let step = if role == LbRole::Internal { 5 } else { 7 };
        out.push((
            format!("lb/{}", crate::build::lb_key(role)),
            ResourceKind::LoadBalancer,
            d.lb_kind(role).cfn_type(),
            step,
            format!("load balancer name {name}"),
        ));
    }
    out
}
