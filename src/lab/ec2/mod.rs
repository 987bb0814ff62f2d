//! EC2 semantics of the lab: the same validation, dependency rules and error
//! codes (worded as AWS words them) as the real API.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

mod instances;

#[cfg(test)]
pub(crate) use instances::hex;

use super::state::{InstanceRec, Role, VpcRec, WafNode, new_id};
use super::{World, instance_not_found, net};
use crate::cloud::{
    Address, CloudError, CloudResult, ErrorCode, Filter, IngressRule, Instance, InstanceState, InternetGateway,
    NatGateway, ResourceKind, Route, RouteTable, RouteTableAssociation, RouteTarget, RuleSource, RunInstanceRequest,
    SecurityGroup, Subnet, TAG_ROLE, Tags, Vpc,
};

fn e(code: ErrorCode, msg: impl Into<String>) -> CloudError {
    CloudError::of(code, msg)
}

fn dependency(kind: &str, id: &str) -> CloudError {
    e(ErrorCode::DependencyViolation, format!("The {kind} '{id}' has dependencies and cannot be deleted."))
}

fn vpc_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidVpcIdNotFound, format!("The vpc ID '{id}' does not exist"))
}

fn subnet_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidSubnetIdNotFound, format!("The subnet ID '{id}' does not exist"))
}

fn group_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidGroupNotFound, format!("The security group '{id}' does not exist"))
}

fn igw_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidInternetGatewayIdNotFound, format!("The internetGateway ID '{id}' does not exist"))
}

fn rtb_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidRouteTableIdNotFound, format!("The routeTable ID '{id}' does not exist"))
}

fn alloc_not_found(id: &str) -> CloudError {
    e(ErrorCode::InvalidAllocationIdNotFound, format!("The allocation ID '{id}' does not exist"))
}

/// Selects records by filter; naming an unknown id fails as AWS does.
pub(crate) fn select<'a, T>(
    map: &'a BTreeMap<String, T>,
    filter: &Filter,
    tags: impl Fn(&T) -> &Tags,
    not_found: impl Fn(&str) -> CloudError,
) -> CloudResult<Vec<&'a T>> {
    if let Some(missing) = filter.ids.iter().find(|id| !map.contains_key(*id)) {
        return Err(not_found(missing));
    }
    Ok(map.iter().filter(|(id, r)| filter.matches(id, tags(r))).map(|(_, r)| r).collect())
}

fn check_cidr_size(cidr: Ipv4Net, code: ErrorCode) -> CloudResult<()> {
    if !(16..=28).contains(&cidr.prefix_len()) || cidr.trunc() != cidr {
        return Err(e(code, format!("The CIDR '{cidr}' is invalid.")));
    }
    Ok(())
}

impl World {
    // -- VPC ---------------------------------------------------------------

    pub(crate) fn create_vpc(&mut self, cidr: Ipv4Net, tags: Tags) -> CloudResult<Vpc> {
        check_cidr_size(cidr, ErrorCode::InvalidVpcRange)?;
        let used: Vec<u8> = self.snap.vpcs.values().map(|v| v.slot).collect();
        let slot = (1..=254u8).find(|s| !used.contains(s)).ok_or_else(|| {
            e(ErrorCode::Other("VpcLimitExceeded".into()), "The maximum number of VPCs has been reached.")
        })?;
        let vpc = Vpc { id: new_id("vpc"), cidr, state: "available".into(), tags };
        let main = RouteTable {
            id: new_id("rtb"),
            vpc_id: vpc.id.clone(),
            routes: vec![Route { destination: cidr, target: RouteTarget::Local }],
            associations: vec![RouteTableAssociation { id: new_id("rtbassoc"), subnet_id: None, main: true }],
            tags: Tags::new(),
        };
        let default_sg = SecurityGroup {
            id: new_id("sg"),
            vpc_id: vpc.id.clone(),
            name: "default".into(),
            description: "default VPC security group".into(),
            ingress: Vec::new(),
            tags: Tags::new(),
        };
        let rec = VpcRec {
            vpc: vpc.clone(),
            slot,
            main_route_table: main.id.clone(),
            default_security_group: default_sg.id.clone(),
        };
        // The default group admits its own members, as in AWS.
        let mut default_sg = default_sg;
        default_sg.ingress.push(IngressRule {
            protocol: "-1".into(),
            from_port: 0,
            to_port: 0,
            source: RuleSource::Group(default_sg.id.clone()),
        });
        self.snap.route_tables.insert(main.id.clone(), main);
        self.snap.security_groups.insert(default_sg.id.clone(), default_sg);
        self.snap.vpcs.insert(vpc.id.clone(), rec);
        Ok(vpc)
    }

    pub(crate) fn describe_vpcs(&self, f: &Filter) -> CloudResult<Vec<Vpc>> {
        Ok(select(&self.snap.vpcs, f, |r| &r.vpc.tags, vpc_not_found)?.into_iter().map(|r| r.vpc.clone()).collect())
    }

    pub(crate) fn delete_vpc(&mut self, id: &str) -> CloudResult<()> {
        let rec = self.snap.vpcs.get(id).ok_or_else(|| vpc_not_found(id))?;
        let s = &self.snap;
        let busy = s.subnets.values().any(|x| x.vpc_id == id)
            || s.security_groups.values().any(|g| g.vpc_id == id && g.id != rec.default_security_group)
            || s.internet_gateways.values().any(|g| g.attached_vpc.as_deref() == Some(id))
            || s.route_tables.values().any(|t| t.vpc_id == id && t.id != rec.main_route_table)
            || s.load_balancers.values().any(|l| l.lb.vpc_id == id);
        if busy {
            return Err(dependency("vpc", id));
        }
        let (main, sg) = (rec.main_route_table.clone(), rec.default_security_group.clone());
        self.snap.route_tables.remove(&main);
        self.snap.security_groups.remove(&sg);
        // Terminated instances stay visible for a while in AWS; in the lab
        // they go with their VPC.
        self.snap.instances.retain(|_, r| r.instance.vpc_id != id);
        self.snap.vpcs.remove(id);
        Ok(())
    }

    // -- Subnets -----------------------------------------------------------

    pub(crate) fn create_subnet(&mut self, vpc_id: &str, cidr: Ipv4Net, az: &str, tags: Tags) -> CloudResult<Subnet> {
        let vpc = self.snap.vpcs.get(vpc_id).ok_or_else(|| vpc_not_found(vpc_id))?;
        check_cidr_size(cidr, ErrorCode::InvalidSubnetRange)?;
        if !vpc.vpc.cidr.contains(&cidr) {
            return Err(e(ErrorCode::InvalidSubnetRange, format!("The CIDR '{cidr}' is invalid.")));
        }
        if self.snap.subnets.values().any(|s| s.vpc_id == vpc_id && net::cidrs_overlap(s.cidr, cidr)) {
            return Err(e(
                ErrorCode::InvalidSubnetConflict,
                format!("The CIDR '{cidr}' conflicts with another subnet"),
            ));
        }
        if az.trim().is_empty() {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!("Value ({az}) for parameter availabilityZone is invalid."),
            ));
        }
        let subnet = Subnet {
            id: new_id("subnet"),
            vpc_id: vpc_id.into(),
            cidr,
            availability_zone: az.into(),
            available_ip_address_count: net::usable_count(cidr),
            tags,
        };
        self.snap.subnets.insert(subnet.id.clone(), subnet.clone());
        Ok(subnet)
    }

    pub(crate) fn describe_subnets(&self, f: &Filter) -> CloudResult<Vec<Subnet>> {
        Ok(select(&self.snap.subnets, f, |r| &r.tags, subnet_not_found)?
            .into_iter()
            .map(|s| {
                let mut s = s.clone();
                s.available_ip_address_count = net::usable_count(s.cidr).saturating_sub(self.used_ips(&s).len() as u32);
                s
            })
            .collect())
    }

    pub(crate) fn delete_subnet(&mut self, id: &str) -> CloudResult<()> {
        let subnet = self.snap.subnets.get(id).ok_or_else(|| subnet_not_found(id))?;
        let s = &self.snap;
        let busy =
            s.instances.values().any(|r| r.instance.subnet_id == id && r.instance.state != InstanceState::Terminated)
                || s.load_balancers.values().any(|l| l.lb.subnets.iter().any(|x| x == id))
                || s.nat_gateways.values().any(|n| n.subnet_id == id && n.state != "deleted");
        if busy {
            return Err(dependency("subnet", id));
        }
        let _ = subnet;
        for t in self.snap.route_tables.values_mut() {
            t.associations.retain(|a| a.subnet_id.as_deref() != Some(id));
        }
        self.snap.subnets.remove(id);
        Ok(())
    }

    /// Private IPs taken in a subnet: live instances, ELB and NAT nodes.
    pub(crate) fn used_ips(&self, subnet: &Subnet) -> Vec<Ipv4Addr> {
        let s = &self.snap;
        let mut ips: Vec<Ipv4Addr> = s
            .instances
            .values()
            .filter(|r| r.instance.subnet_id == subnet.id && r.instance.state != InstanceState::Terminated)
            .map(|r| r.instance.private_ip)
            .collect();
        ips.extend(
            s.load_balancers
                .values()
                .filter(|l| l.lb.vpc_id == subnet.vpc_id && subnet.cidr.contains(&l.private_ip))
                .map(|l| l.private_ip),
        );
        ips.extend(
            s.nat_gateways.values().filter(|n| n.subnet_id == subnet.id && n.state != "deleted").map(|n| n.private_ip),
        );
        ips
    }

    /// The next free, non-reserved private IP of a subnet.
    pub(crate) fn next_free_ip(&self, subnet_id: &str) -> CloudResult<Ipv4Addr> {
        let subnet = self.snap.subnets.get(subnet_id).ok_or_else(|| subnet_not_found(subnet_id))?;
        let used = self.used_ips(subnet);
        subnet
            .cidr
            .hosts()
            .find(|ip| !net::is_reserved(subnet.cidr, *ip) && !used.contains(ip))
            .ok_or_else(|| {
                e(
                    ErrorCode::Other("InsufficientFreeAddressesInSubnet".into()),
                    format!("There are not enough free addresses in subnet '{subnet_id}' to satisfy the requested number of instances."),
                )
            })
    }

    // -- Internet gateways -------------------------------------------------

    pub(crate) fn create_internet_gateway(&mut self, tags: Tags) -> InternetGateway {
        let igw = InternetGateway { id: new_id("igw"), attached_vpc: None, tags };
        self.snap.internet_gateways.insert(igw.id.clone(), igw.clone());
        igw
    }

    pub(crate) fn attach_internet_gateway(&mut self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        if !self.snap.vpcs.contains_key(vpc_id) {
            return Err(vpc_not_found(vpc_id));
        }
        let igw = self.snap.internet_gateways.get(igw_id).ok_or_else(|| igw_not_found(igw_id))?;
        if let Some(v) = &igw.attached_vpc {
            return Err(e(
                ErrorCode::ResourceAlreadyAssociated,
                format!("resource {igw_id} is already attached to network {v}"),
            ));
        }
        if let Some(other) = self.snap.internet_gateways.values().find(|g| g.attached_vpc.as_deref() == Some(vpc_id)) {
            return Err(e(
                ErrorCode::ResourceAlreadyAssociated,
                format!("Network {vpc_id} already has an internet gateway attached ({})", other.id),
            ));
        }
        if let Some(g) = self.snap.internet_gateways.get_mut(igw_id) {
            g.attached_vpc = Some(vpc_id.into());
        }
        Ok(())
    }

    pub(crate) fn detach_internet_gateway(&mut self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let igw = self.snap.internet_gateways.get(igw_id).ok_or_else(|| igw_not_found(igw_id))?;
        if igw.attached_vpc.as_deref() != Some(vpc_id) {
            return Err(e(
                ErrorCode::Other("Gateway.NotAttached".into()),
                format!("resource {igw_id} is not attached to network {vpc_id}"),
            ));
        }
        let mapped = self.snap.addresses.values().any(|a| {
            a.instance_id.as_ref().and_then(|i| self.snap.instances.get(i)).is_some_and(|r| r.instance.vpc_id == vpc_id)
        }) || self.snap.nat_gateways.values().any(|n| n.vpc_id == vpc_id && n.state != "deleted");
        if mapped {
            return Err(e(
                ErrorCode::DependencyViolation,
                format!(
                    "Network {vpc_id} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway."
                ),
            ));
        }
        if let Some(g) = self.snap.internet_gateways.get_mut(igw_id) {
            g.attached_vpc = None;
        }
        Ok(())
    }

    pub(crate) fn delete_internet_gateway(&mut self, igw_id: &str) -> CloudResult<()> {
        let igw = self.snap.internet_gateways.get(igw_id).ok_or_else(|| igw_not_found(igw_id))?;
        if igw.attached_vpc.is_some() {
            return Err(dependency("internetGateway", igw_id));
        }
        self.snap.internet_gateways.remove(igw_id);
        Ok(())
    }

    // -- Route tables ------------------------------------------------------

    pub(crate) fn create_route_table(&mut self, vpc_id: &str, tags: Tags) -> CloudResult<RouteTable> {
        let vpc = self.snap.vpcs.get(vpc_id).ok_or_else(|| vpc_not_found(vpc_id))?;
        let t = RouteTable {
            id: new_id("rtb"),
            vpc_id: vpc_id.into(),
            routes: vec![Route { destination: vpc.vpc.cidr, target: RouteTarget::Local }],
            associations: Vec::new(),
            tags,
        };
        self.snap.route_tables.insert(t.id.clone(), t.clone());
        Ok(t)
    }

    pub(crate) fn create_route(&mut self, rtb_id: &str, destination: Ipv4Net, target: RouteTarget) -> CloudResult<()> {
        let t = self.snap.route_tables.get(rtb_id).ok_or_else(|| rtb_not_found(rtb_id))?;
        if destination.trunc() != destination {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Value ({destination}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block."
                ),
            ));
        }
        match &target {
            RouteTarget::Local => {
                return Err(e(ErrorCode::InvalidParameterValue, "Cannot create a route with a local target."));
            }
            RouteTarget::Gateway(g) => {
                let igw = self.snap.internet_gateways.get(g).ok_or_else(|| igw_not_found(g))?;
                if igw.attached_vpc.as_deref() != Some(t.vpc_id.as_str()) {
                    return Err(e(
                        ErrorCode::InvalidParameterValue,
                        format!("route table {rtb_id} and network gateway {g} belong to different networks"),
                    ));
                }
            }
            RouteTarget::NatGateway(n) => {
                let nat = self.snap.nat_gateways.get(n).filter(|x| x.state != "deleted").ok_or_else(|| {
                    e(ErrorCode::InvalidNatGatewayIdNotFound, format!("The Nat Gateway {n} was not found"))
                })?;
                if nat.vpc_id != t.vpc_id {
                    return Err(e(
                        ErrorCode::InvalidParameterValue,
                        format!("route table {rtb_id} and NAT gateway {n} belong to different networks"),
                    ));
                }
            }
        }
        if t.routes.iter().any(|r| r.destination == destination) {
            return Err(e(
                ErrorCode::RouteAlreadyExists,
                format!("The route identified by {destination} already exists."),
            ));
        }
        if let Some(t) = self.snap.route_tables.get_mut(rtb_id) {
            t.routes.push(Route { destination, target });
        }
        Ok(())
    }

    pub(crate) fn associate_route_table(&mut self, rtb_id: &str, subnet_id: &str) -> CloudResult<String> {
        let t = self.snap.route_tables.get(rtb_id).ok_or_else(|| rtb_not_found(rtb_id))?;
        let subnet = self.snap.subnets.get(subnet_id).ok_or_else(|| subnet_not_found(subnet_id))?;
        if subnet.vpc_id != t.vpc_id {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!("Route table {rtb_id} and subnet {subnet_id} belong to different networks"),
            ));
        }
        for other in self.snap.route_tables.values() {
            if let Some(a) = other.associations.iter().find(|a| a.subnet_id.as_deref() == Some(subnet_id)) {
                if other.id == rtb_id {
                    return Ok(a.id.clone());
                }
                return Err(e(
                    ErrorCode::ResourceAlreadyAssociated,
                    format!(
                        "the specified association for route table {rtb_id} conflicts with an existing association"
                    ),
                ));
            }
        }
        let id = new_id("rtbassoc");
        if let Some(t) = self.snap.route_tables.get_mut(rtb_id) {
            t.associations.push(RouteTableAssociation {
                id: id.clone(),
                subnet_id: Some(subnet_id.into()),
                main: false,
            });
        }
        Ok(id)
    }

    pub(crate) fn disassociate_route_table(&mut self, assoc_id: &str) -> CloudResult<()> {
        for t in self.snap.route_tables.values_mut() {
            if let Some(pos) = t.associations.iter().position(|a| a.id == assoc_id) {
                if t.associations[pos].main {
                    return Err(e(
                        ErrorCode::InvalidParameterValue,
                        format!("cannot disassociate the main route table association {assoc_id}"),
                    ));
                }
                t.associations.remove(pos);
                return Ok(());
            }
        }
        Err(e(
            ErrorCode::Other("InvalidAssociationID.NotFound".into()),
            format!("The association ID '{assoc_id}' does not exist"),
        ))
    }

    pub(crate) fn describe_route_tables(&self, f: &Filter) -> CloudResult<Vec<RouteTable>> {
        Ok(select(&self.snap.route_tables, f, |r| &r.tags, rtb_not_found)?.into_iter().cloned().collect())
    }

    pub(crate) fn delete_route_table(&mut self, rtb_id: &str) -> CloudResult<()> {
        let t = self.snap.route_tables.get(rtb_id).ok_or_else(|| rtb_not_found(rtb_id))?;
        if !t.associations.is_empty() {
            return Err(dependency("routeTable", rtb_id));
        }
        self.snap.route_tables.remove(rtb_id);
        Ok(())
    }

    // -- Elastic IPs and NAT -----------------------------------------------

    pub(crate) fn allocate_address(&mut self, tags: Tags) -> Address {
        // TEST-NET-3 and onwards: documentation addresses, never routed to.
        let base = u32::from(Ipv4Addr::new(203, 0, 113, 10));
        let public_ip = Ipv4Addr::from(base + self.snap.next_public_ip);
        self.snap.next_public_ip += 1;
        let a = Address { allocation_id: new_id("eipalloc"), public_ip, association_id: None, instance_id: None, tags };
        self.snap.addresses.insert(a.allocation_id.clone(), a.clone());
        a
    }

    pub(crate) fn associate_address(&mut self, alloc: &str, instance_id: &str) -> CloudResult<String> {
        let a = self.snap.addresses.get(alloc).ok_or_else(|| alloc_not_found(alloc))?;
        let rec = self.snap.instances.get(instance_id).ok_or_else(|| instance_not_found(instance_id))?;
        if rec.instance.state == InstanceState::Terminated {
            return Err(e(
                ErrorCode::IncorrectInstanceState,
                format!("The instance '{instance_id}' is not in a valid state for this operation."),
            ));
        }
        if let Some(assoc) = &a.association_id {
            if a.instance_id.as_deref() == Some(instance_id) {
                return Ok(assoc.clone());
            }
            return Err(e(
                ErrorCode::ResourceAlreadyAssociated,
                format!("resource {alloc} is already associated with associate-id {assoc}"),
            ));
        }
        let vpc_id = rec.instance.vpc_id.clone();
        if !self.snap.internet_gateways.values().any(|g| g.attached_vpc.as_deref() == Some(vpc_id.as_str())) {
            return Err(e(
                ErrorCode::Other("Gateway.NotAttached".into()),
                format!("Network {vpc_id} is not attached to any internet gateway"),
            ));
        }
        let assoc = new_id("eipassoc");
        let public_ip = a.public_ip;
        if let Some(a) = self.snap.addresses.get_mut(alloc) {
            a.association_id = Some(assoc.clone());
            a.instance_id = Some(instance_id.into());
        }
        if let Some(r) = self.snap.instances.get_mut(instance_id) {
            r.instance.public_ip = Some(public_ip);
        }
        Ok(assoc)
    }

    pub(crate) fn disassociate_address(&mut self, assoc_id: &str) -> CloudResult<()> {
        let a = self.snap.addresses.values_mut().find(|a| a.association_id.as_deref() == Some(assoc_id)).ok_or_else(
            || {
                e(
                    ErrorCode::Other("InvalidAssociationID.NotFound".into()),
                    format!("The association ID '{assoc_id}' does not exist"),
                )
            },
        )?;
        a.association_id = None;
        if let Some(i) = a.instance_id.take()
            && let Some(r) = self.snap.instances.get_mut(&i)
        {
            r.instance.public_ip = None;
        }
        Ok(())
    }

    pub(crate) fn describe_addresses(&self, f: &Filter) -> CloudResult<Vec<Address>> {
        Ok(select(&self.snap.addresses, f, |r| &r.tags, alloc_not_found)?.into_iter().cloned().collect())
    }

    pub(crate) fn release_address(&mut self, alloc: &str) -> CloudResult<()> {
        let a = self.snap.addresses.get(alloc).ok_or_else(|| alloc_not_found(alloc))?;
        if a.association_id.is_some() {
            return Err(e(ErrorCode::InvalidIpAddressInUse, format!("Address {} is in use.", a.public_ip)));
        }
        self.snap.addresses.remove(alloc);
        Ok(())
    }

    pub(crate) fn create_nat_gateway(&mut self, subnet_id: &str, alloc: &str, tags: Tags) -> CloudResult<NatGateway> {
        let vpc_id = self.snap.subnets.get(subnet_id).ok_or_else(|| subnet_not_found(subnet_id))?.vpc_id.clone();
        let a = self.snap.addresses.get(alloc).ok_or_else(|| alloc_not_found(alloc))?;
        if a.association_id.is_some() {
            return Err(e(
                ErrorCode::ResourceAlreadyAssociated,
                format!("Elastic IP address [{alloc}] is already associated"),
            ));
        }
        let private_ip = self.next_free_ip(subnet_id)?;
        let nat = NatGateway {
            id: new_id("nat"),
            subnet_id: subnet_id.into(),
            vpc_id,
            allocation_id: alloc.into(),
            private_ip,
            state: "available".into(),
            tags,
        };
        if let Some(a) = self.snap.addresses.get_mut(alloc) {
            a.association_id = Some(new_id("eipassoc"));
        }
        self.snap.nat_gateways.insert(nat.id.clone(), nat.clone());
        Ok(nat)
    }

    pub(crate) fn describe_nat_gateways(&self, f: &Filter) -> CloudResult<Vec<NatGateway>> {
        Ok(select(
            &self.snap.nat_gateways,
            f,
            |r| &r.tags,
            |id| e(ErrorCode::InvalidNatGatewayIdNotFound, format!("The Nat Gateway {id} was not found")),
        )?
        .into_iter()
        .cloned()
        .collect())
    }

    /// CreateTags (AddTags for a load balancer), with AWS's limits: keys up
    /// to 128 characters and not `aws:`, values up to 256, 50 tags per
    /// resource.
    pub(crate) fn create_tags(&mut self, kind: ResourceKind, id: &str, tags: &Tags) -> CloudResult<()> {
        for (k, v) in tags {
            if k.is_empty() || k.chars().count() > 128 || v.chars().count() > 256 {
                return Err(e(
                    ErrorCode::InvalidParameterValue,
                    format!("Tag key must be 1 to 128 characters and its value at most 256: {k}"),
                ));
            }
            if k.to_ascii_lowercase().starts_with("aws:") {
                return Err(e(
                    ErrorCode::InvalidParameterValue,
                    format!("Tag keys starting with 'aws:' are reserved for internal use: {k}"),
                ));
            }
        }
        let not_found = |what: &str, code: ErrorCode| e(code, format!("The {what} ID '{id}' does not exist"));
        let target: &mut Tags = match kind {
            ResourceKind::Vpc => &mut self.snap.vpcs.get_mut(id).ok_or_else(|| vpc_not_found(id))?.vpc.tags,
            ResourceKind::Subnet => &mut self.snap.subnets.get_mut(id).ok_or_else(|| subnet_not_found(id))?.tags,
            ResourceKind::InternetGateway => {
                &mut self.snap.internet_gateways.get_mut(id).ok_or_else(|| igw_not_found(id))?.tags
            }
            ResourceKind::RouteTable => &mut self.snap.route_tables.get_mut(id).ok_or_else(|| rtb_not_found(id))?.tags,
            ResourceKind::SecurityGroup => {
                &mut self.snap.security_groups.get_mut(id).ok_or_else(|| group_not_found(id))?.tags
            }
            ResourceKind::Instance => {
                &mut self
                    .snap
                    .instances
                    .get_mut(id)
                    .ok_or_else(|| not_found("instance", ErrorCode::InvalidInstanceIdNotFound))?
                    .instance
                    .tags
            }
            ResourceKind::Address => &mut self.snap.addresses.get_mut(id).ok_or_else(|| alloc_not_found(id))?.tags,
            ResourceKind::NatGateway => {
                &mut self
                    .snap
                    .nat_gateways
                    .get_mut(id)
                    .ok_or_else(|| {
                        e(ErrorCode::InvalidNatGatewayIdNotFound, format!("The Nat Gateway {id} was not found"))
                    })?
                    .tags
            }
            ResourceKind::LoadBalancer => {
                &mut self
                    .snap
                    .load_balancers
                    .get_mut(id)
                    .ok_or_else(|| e(ErrorCode::LoadBalancerNotFound, format!("Cannot find Load Balancer {id}")))?
                    .lb
                    .tags
            }
        };
        let added = tags.keys().filter(|k| !target.contains_key(*k)).count();
        if target.len() + added > 50 {
            return Err(e(
                ErrorCode::TagLimitExceeded,
                format!("The maximum number of tags (50) for resource {id} has been reached."),
            ));
        }
        target.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(())
    }

    pub(crate) fn delete_nat_gateway(&mut self, id: &str) -> CloudResult<()> {
        let nat =
            self.snap.nat_gateways.get_mut(id).ok_or_else(|| {
                e(ErrorCode::InvalidNatGatewayIdNotFound, format!("The Nat Gateway {id} was not found"))
            })?;
        nat.state = "deleted".into();
        let alloc = nat.allocation_id.clone();
        if let Some(a) = self.snap.addresses.get_mut(&alloc) {
            a.association_id = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::IngressRule;
    use super::instances::{describe_rule, valid_instance_type};

    #[test]
    fn instance_types_look_like_family_dot_size() {
        assert!(valid_instance_type("t1.micro"));
        assert!(valid_instance_type("m1.small"));
        assert!(!valid_instance_type("micro"));
        assert!(!valid_instance_type("t1."));
    }

    #[test]
    fn a_duplicate_rule_is_described_as_aws_does() {
        let r = IngressRule::tcp_from_cidr(80, "0.0.0.0/0".parse().unwrap());
        assert_eq!(describe_rule(&r), "\"peer: 0.0.0.0/0, TCP, from port: 80, to port: 80, ALLOW\"");
    }
}
