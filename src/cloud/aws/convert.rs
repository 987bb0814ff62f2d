//! Between the SDK's types and the port's.

use super::*;

pub(super) fn ec2_filters(filter: &Filter) -> Vec<ec2::types::Filter> {
    filter.tags.iter().map(|(k, v)| ec2::types::Filter::builder().name(format!("tag:{k}")).values(v).build()).collect()
}

pub(super) fn ec2_ids(filter: &Filter) -> Option<Vec<String>> {
    (!filter.ids.is_empty()).then(|| filter.ids.clone())
}

/// The TagSpecifications of a create call; none when there are no tags,
/// since AWS refuses a specification without one ("Tag specification must
/// have at least one tag").
pub(super) fn tag_spec(kind: ec2::types::ResourceType, tags: &Tags) -> Option<Vec<ec2::types::TagSpecification>> {
    if tags.is_empty() {
        return None;
    }
    let mut spec = ec2::types::TagSpecification::builder().resource_type(kind);
    for (k, v) in tags {
        spec = spec.tags(ec2::types::Tag::builder().key(k).value(v).build());
    }
    Some(vec![spec.build()])
}

pub(super) fn from_ec2_tags(tags: &[ec2::types::Tag]) -> Tags {
    tags.iter().filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned()))).collect()
}

pub(super) fn cidr(value: Option<&str>, what: &str) -> CloudResult<Ipv4Net> {
    let text = value.unwrap_or_default();
    text.parse()
        .map_err(|_| CloudError::new("InvalidResponse", format!("AWS returned {what} `{text}`, not an IPv4 CIDR")))
}

pub(super) fn ip(value: Option<&str>) -> Option<Ipv4Addr> {
    value.and_then(|v| v.parse().ok())
}

pub(super) fn owned(value: Option<&str>) -> String {
    value.unwrap_or_default().to_owned()
}

/// A response that lacks what the call promises (a CreateVpc without a VPC).
pub(super) fn missing(operation: &str, what: &str) -> CloudError {
    CloudError::new("InvalidResponse", format!("{operation} answered without {what}"))
}

pub(super) fn to_vpc(v: &ec2::types::Vpc) -> CloudResult<Vpc> {
    Ok(Vpc {
        id: owned(v.vpc_id()),
        cidr: cidr(v.cidr_block(), "a VPC CIDR")?,
        state: v.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
        tags: from_ec2_tags(v.tags()),
    })
}

pub(super) fn to_subnet(s: &ec2::types::Subnet) -> CloudResult<Subnet> {
    Ok(Subnet {
        id: owned(s.subnet_id()),
        vpc_id: owned(s.vpc_id()),
        cidr: cidr(s.cidr_block(), "a subnet CIDR")?,
        availability_zone: owned(s.availability_zone()),
        available_ip_address_count: s.available_ip_address_count().and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
        tags: from_ec2_tags(s.tags()),
    })
}

pub(super) fn to_igw(g: &ec2::types::InternetGateway) -> InternetGateway {
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

pub(super) fn to_route_table(t: &ec2::types::RouteTable) -> RouteTable {
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

pub(super) fn to_address(a: &ec2::types::Address) -> Address {
    Address {
        allocation_id: owned(a.allocation_id()),
        public_ip: ip(a.public_ip()).unwrap_or(Ipv4Addr::UNSPECIFIED),
        association_id: a.association_id().map(str::to_owned),
        instance_id: a.instance_id().filter(|i| !i.is_empty()).map(str::to_owned),
        tags: from_ec2_tags(a.tags()),
    }
}

pub(super) fn to_nat(n: &ec2::types::NatGateway) -> NatGateway {
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

pub(super) fn port(value: Option<i32>, default: u16) -> u16 {
    value.and_then(|p| u16::try_from(p).ok()).unwrap_or(default)
}

pub(super) fn to_rules(permissions: &[ec2::types::IpPermission]) -> Vec<IngressRule> {
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

pub(super) fn to_permissions(rules: &[IngressRule]) -> Vec<ec2::types::IpPermission> {
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

pub(super) fn to_security_group(g: &ec2::types::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: owned(g.group_id()),
        vpc_id: owned(g.vpc_id()),
        name: owned(g.group_name()),
        description: owned(g.description()),
        ingress: to_rules(g.ip_permissions()),
        tags: from_ec2_tags(g.tags()),
    }
}

pub(super) fn to_instance_state(name: Option<&ec2::types::InstanceStateName>) -> InstanceState {
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

pub(super) fn to_instance(i: &ec2::types::Instance) -> Instance {
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

pub(super) fn to_health_state(state: Option<&str>) -> HealthState {
    match state {
        Some("InService") => HealthState::InService,
        Some("OutOfService") => HealthState::OutOfService,
        _ => HealthState::Unknown,
    }
}

pub(super) fn to_health_check(h: Option<&elb::types::HealthCheck>) -> HealthCheck {
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

pub(super) fn to_load_balancer(d: &elb::types::LoadBalancerDescription, tags: Tags) -> LoadBalancer {
    LoadBalancer {
        kind: crate::cloud::LbKind::Classic,
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
            .map(|l| crate::cloud::Listener {
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
pub(super) fn built<T>(result: Result<T, elb::error::BuildError>) -> CloudResult<T> {
    result.map_err(|e| CloudError::new("InvalidRequest", format!("cannot build the request: {e}")))
}

pub(super) fn elb_instances(ids: &[String]) -> Vec<elb::types::Instance> {
    ids.iter().map(|id| elb::types::Instance::builder().instance_id(id).build()).collect()
}
