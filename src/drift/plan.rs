//! What a reconcile would do, from a drift report, before it does it: the
//! steps it runs, the calls they make to put each difference back, the tags
//! it restores first, and what no step puts back (and why).

use std::collections::BTreeSet;

use crate::cloud::{ResourceKind, TAG_NAME, TAG_STACK, Tags};
use crate::contract::{DifferenceType as T, DriftReport, ResourceDrift, ResourceState};

/// Tags to write back before the steps run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retag {
    pub resource: String,
    pub kind: ResourceKind,
    pub id: String,
    pub tags: Tags,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub steps: BTreeSet<u8>,
    /// The calls, in words: `AuthorizeSecurityGroupIngress secg-web tcp/80 from secg-lbint`.
    pub calls: Vec<String>,
    pub retag: Vec<Retag>,
    pub cannot: Vec<String>,
}

/// The apply step that creates and owns a resource (by hawaf's name for it).
pub fn owning_step(resource: &str) -> Option<u8> {
    let kind = resource.split('/').next().unwrap_or(resource);
    match (kind, resource) {
        ("vpc" | "igw", _) | (_, "rtb/public") => Some(1),
        ("subnet" | "nat", _) | (_, "rtb/private") => Some(2),
        ("sg", _) => Some(3),
        ("instance" | "eip", r) if r.contains("web-") => Some(4),
        ("instance" | "eip", _) => Some(6),
        (_, "lb/internal") => Some(5),
        (_, "lb/external") => Some(7),
        ("utm", _) => Some(8),
        _ => None,
    }
}

fn kind_of(resource: &str) -> Option<ResourceKind> {
    Some(match resource.split('/').next()? {
        "vpc" => ResourceKind::Vpc,
        "subnet" => ResourceKind::Subnet,
        "igw" => ResourceKind::InternetGateway,
        "rtb" => ResourceKind::RouteTable,
        "sg" => ResourceKind::SecurityGroup,
        "instance" => ResourceKind::Instance,
        "eip" => ResourceKind::Address,
        "nat" => ResourceKind::NatGateway,
        "lb" => ResourceKind::LoadBalancer,
        _ => return None,
    })
}

/// What creating a deleted resource again takes.
fn recreate(r: &ResourceDrift) -> String {
    let ops = match r.resource.split('/').next().unwrap_or("") {
        "vpc" => "CreateVpc",
        "igw" => "CreateInternetGateway, AttachInternetGateway",
        "rtb" => "CreateRouteTable, CreateRoute, AssociateRouteTable",
        "subnet" => "CreateSubnet, AssociateRouteTable",
        "sg" => "CreateSecurityGroup, AuthorizeSecurityGroupIngress",
        "instance" => "RunInstances, AssociateAddress",
        "eip" => "AllocateAddress, AssociateAddress",
        "nat" => "CreateNatGateway",
        "lb" if r.kind.contains("V2") => {
            "CreateTargetGroup, CreateLoadBalancer, CreateListener, ModifyTargetGroup, RegisterTargets"
        }
        "lb" => "CreateLoadBalancer, ConfigureHealthCheck, RegisterInstancesWithLoadBalancer",
        _ => "",
    };
    format!("{ops} {} (it was deleted)", r.name)
}

/// Reads a drift report as a reconcile would act on it.
pub fn plan(report: &DriftReport) -> Plan {
    let mut p = Plan::default();
    for r in report.resources.iter().filter(|r| r.state != ResourceState::InSync) {
        let Some(step) = owning_step(&r.resource) else {
            p.cannot.push(format!("{} ({}): not made by hawaf; remove it by hand", r.name, r.resource));
            continue;
        };
        p.steps.insert(step);
        if r.resource.starts_with("utm/") {
            // Step 8 creates or replaces each of its objects by name.
            match r.state {
                ResourceState::Deleted => p.calls.push(format!("UTM create {} {:?} ({})", r.kind, r.name, "REST API")),
                _ => {
                    p.calls.extend(r.differences.iter().map(|d| {
                        format!("UTM update {:?}: {} = {}", r.name, d.path, d.expected.as_deref().unwrap_or(""))
                    }))
                }
            }
            continue;
        }
        if r.state == ResourceState::Deleted {
            p.calls.push(recreate(r));
            continue;
        }
        let mut tags = Tags::new();
        let mut health_check = false;
        let mut groups = false;
        for d in &r.differences {
            let expected = d.expected.as_deref().unwrap_or("");
            let actual = d.actual.as_deref().unwrap_or("");
            let name = &r.name;
            let call = match (d.path.as_str(), d.kind) {
                (path, _) if path == format!("tags.{TAG_NAME}") || path == format!("tags.{TAG_STACK}") => {
                    let key = &path["tags.".len()..];
                    tags.insert(key.to_owned(), expected.to_owned());
                    Ok(format!("CreateTags {} {key}={expected}", r.physical_id.as_deref().unwrap_or(name)))
                }
                ("ingress", T::Add) => Ok(format!("RevokeSecurityGroupIngress {name} {actual}")),
                ("ingress", T::Remove) => Ok(format!("AuthorizeSecurityGroupIngress {name} {expected}")),
                ("instances", T::Remove) => Ok(format!("RegisterInstancesWithLoadBalancer {name} <- {expected}")),
                ("instances", T::Add) => Ok(format!("DeregisterInstancesFromLoadBalancer {name} -x- {actual}")),
                (path, _) if path.starts_with("health_check.") => {
                    if std::mem::replace(&mut health_check, true) {
                        continue;
                    }
                    Ok(format!("ConfigureHealthCheck {name}"))
                }
                ("state", _) if expected == "running" && actual == "stopped" => {
                    Ok(format!("StartInstances {}", r.physical_id.as_deref().unwrap_or(name)))
                }
                ("elastic_ip", T::NotEqual) => Ok(format!("AssociateAddress {expected}")),
                ("associations", T::Remove) => Ok(format!("AssociateRouteTable {name} <- {expected}")),
                ("routes", T::Remove) if !r.differences.iter().any(|o| o.path == "routes" && o.kind == T::Add) => {
                    Ok(format!("CreateRoute {name} {expected}"))
                }
                ("security_groups", _) if r.resource.starts_with("instance/") => {
                    if std::mem::replace(&mut groups, true) {
                        continue;
                    }
                    Ok(format!("ModifyInstanceAttribute {} groups", r.physical_id.as_deref().unwrap_or(name)))
                }
                ("instance_type" | "image_id" | "private_ip" | "subnet", _) => {
                    Err("replace the instance to change it (teardown and build), or accept the live value")
                }
                ("routes" | "associations", _) => Err("change the route table by hand"),
                ("kind", _) => Err("a load balancer cannot change its kind: migrate the tier (GET …/migration)"),
                ("scheme" | "subnets" | "listeners" | "security_groups", _) => {
                    Err("no step changes a load balancer in place: delete it and run its step, or fix it by hand")
                }
                ("cidr" | "availability_zone" | "vpc" | "name", _) => {
                    Err("fixed when it was made: tear the stack down and build it")
                }
                ("state", _) => Err("wait for it to settle, then check again"),
                _ => Err("no step puts this back"),
            };
            match call {
                Ok(c) => p.calls.push(c),
                Err(why) => p.cannot.push(format!("{} {}: {why}", r.resource, d.path)),
            }
        }
        if let (false, Some(id), Some(kind)) = (tags.is_empty(), &r.physical_id, kind_of(&r.resource)) {
            p.retag.push(Retag { resource: r.resource.clone(), kind, id: id.clone(), tags });
        }
    }
    p
}
