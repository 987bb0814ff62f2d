//! The comparison itself, free of any provider: what the definition and
//! the builds' records say against what the provider reported, resource by
//! resource, property by property.

use std::collections::{BTreeSet, HashMap};

use crate::cloud::{
    Address, IngressRule, Instance, InstanceState, LoadBalancer, RouteTable, RouteTarget, RuleSource, Scheme,
    SecurityGroup, Subnet, TAG_NAME, TAG_STACK, Vpc,
};
use crate::contract::{Difference, DifferenceType, ResourceDrift, ResourceState};
use crate::stack::{InstanceRole, LbRole, SgRole, StackDefinition, SubnetKey, SubnetMode};

/// What the provider reported, for one stack: everything tagged as the
/// stack's, and what its records name (found by id when a tag is gone).
#[derive(Debug, Default, Clone)]
pub struct Live {
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<Subnet>,
    pub route_tables: Vec<RouteTable>,
    pub groups: Vec<SecurityGroup>,
    pub instances: Vec<Instance>,
    pub addresses: Vec<Address>,
    pub load_balancers: Vec<LoadBalancer>,
}

/// What hawaf itself has taken down on purpose (a drill, a fault): not drift.
#[derive(Debug, Default, Clone)]
pub struct Held {
    /// Instance ids hawaf stopped.
    pub stopped: BTreeSet<String>,
    /// Instance ids hawaf isolated (their security groups swapped).
    pub isolated: BTreeSet<String>,
}

const ANYWHERE: &str = "0.0.0.0/0";

fn diff(path: &str, expected: impl ToString, actual: impl ToString) -> Option<Difference> {
    let (e, a) = (expected.to_string(), actual.to_string());
    (e != a).then(|| Difference {
        path: path.into(),
        expected: Some(e),
        actual: Some(a),
        kind: DifferenceType::NotEqual,
    })
}

/// Set differences: what is live but not expected (`add`) and what is
/// expected but not live (`remove`).
fn set_diff(path: &str, expected: &BTreeSet<String>, actual: &BTreeSet<String>) -> Vec<Difference> {
    let added = actual.difference(expected).map(|a| Difference {
        path: path.into(),
        expected: None,
        actual: Some(a.clone()),
        kind: DifferenceType::Add,
    });
    let removed = expected.difference(actual).map(|e| Difference {
        path: path.into(),
        expected: Some(e.clone()),
        actual: None,
        kind: DifferenceType::Remove,
    });
    added.chain(removed).collect()
}

fn set<I: IntoIterator<Item = S>, S: ToString>(items: I) -> BTreeSet<String> {
    items.into_iter().map(|s| s.to_string()).collect()
}

fn resource(resource: &str, kind: &str, name: &str, id: Option<&str>, differences: Vec<Difference>) -> ResourceDrift {
    ResourceDrift {
        resource: resource.into(),
        kind: kind.into(),
        name: name.into(),
        physical_id: id.map(str::to_owned),
        state: if differences.is_empty() { ResourceState::InSync } else { ResourceState::Modified },
        differences,
    }
}

fn deleted(resource: &str, kind: &str, name: &str, id: Option<&str>) -> ResourceDrift {
    ResourceDrift {
        resource: resource.into(),
        kind: kind.into(),
        name: name.into(),
        physical_id: id.map(str::to_owned),
        state: ResourceState::Deleted,
        differences: Vec::new(),
    }
}

fn tag_diffs(tags: &crate::cloud::Tags, name: &str, stack: &str) -> Vec<Difference> {
    let get = |k: &str| tags.get(k).cloned().unwrap_or_default();
    [diff("tags.Name", name, get(TAG_NAME)), diff(&format!("tags.{TAG_STACK}"), stack, get(TAG_STACK))]
        .into_iter()
        .flatten()
        .collect()
}

/// Compares; `ids` maps hawaf's logical names (`vpc`, `sg/web`, …) to the
/// physical ids its builds recorded.
pub fn compare(d: &StackDefinition, ids: &HashMap<String, String>, live: &Live, held: &Held) -> Vec<ResourceDrift> {
    let stack = d.name().as_str();
    let id = |logical: &str| ids.get(logical).map(String::as_str);
    let mut out = Vec::new();

    // VPC
    let vpc_name = d.vpc_name().as_str();
    match id("vpc").and_then(|v| live.vpcs.iter().find(|x| x.id == v)) {
        Some(vpc) => {
            let mut diffs: Vec<Difference> = diff("cidr", d.vpc_cidr().net(), vpc.cidr).into_iter().collect();
            diffs.extend(tag_diffs(&vpc.tags, vpc_name, stack));
            out.push(resource("vpc", "AWS::EC2::VPC", vpc_name, Some(&vpc.id), diffs));
        }
        None => out.push(deleted("vpc", "AWS::EC2::VPC", vpc_name, id("vpc"))),
    }

    // Subnets
    for (key, want) in d.subnets().iter() {
        let logical = format!("subnet/{}", key.as_str());
        let name = format!("{vpc_name}-{}", key.as_str());
        match id(&logical).and_then(|s| live.subnets.iter().find(|x| x.id == s)) {
            Some(sn) => {
                let mut diffs: Vec<Difference> = [
                    diff("cidr", want.cidr().net(), sn.cidr),
                    diff("availability_zone", want.az(), &sn.availability_zone),
                    id("vpc").and_then(|v| diff("vpc", v, &sn.vpc_id)),
                ]
                .into_iter()
                .flatten()
                .collect();
                diffs.extend(tag_diffs(&sn.tags, &name, stack));
                out.push(resource(&logical, "AWS::EC2::Subnet", &name, Some(&sn.id), diffs));
            }
            None => out.push(deleted(&logical, "AWS::EC2::Subnet", &name, id(&logical))),
        }
    }

    // Route tables: the default route and which subnets use the table.
    let protected = d.subnet_mode() == SubnetMode::Protected;
    let mut tables =
        vec![("rtb/public", format!("{vpc_name}-public"), id("igw").map(|g| format!("{ANYWHERE} -> {g}")))];
    if protected {
        tables.push(("rtb/private", format!("{vpc_name}-private"), id("nat").map(|n| format!("{ANYWHERE} -> {n}"))));
    }
    for (logical, name, want_route) in tables {
        let Some(rtb) = id(logical).and_then(|r| live.route_tables.iter().find(|x| x.id == r)) else {
            out.push(deleted(logical, "AWS::EC2::RouteTable", &name, id(logical)));
            continue;
        };
        let routes = set(rtb.routes.iter().filter(|r| r.target != RouteTarget::Local).map(|r| match &r.target {
            RouteTarget::Gateway(t) | RouteTarget::NatGateway(t) => format!("{} -> {t}", r.destination),
            RouteTarget::Local => String::new(),
        }));
        let mut diffs = set_diff("routes", &set(want_route), &routes);
        let private = logical == "rtb/private";
        let members = d.subnets().iter().filter(|(key, _)| {
            let web = matches!(key, SubnetKey::WebA | SubnetKey::WebB);
            if protected { web == private } else { !private }
        });
        let want_assoc = set(members.filter_map(|(key, _)| id(&format!("subnet/{}", key.as_str()))));
        let assoc = set(rtb.associations.iter().filter_map(|a| a.subnet_id.clone()));
        diffs.extend(set_diff("associations", &want_assoc, &assoc));
        out.push(resource(logical, "AWS::EC2::RouteTable", &name, Some(&rtb.id), diffs));
    }

    // Security groups: every ingress rule, the seed's and any other.
    let sg_ids: HashMap<SgRole, String> =
        SgRole::ALL.iter().filter_map(|r| id(&format!("sg/{}", r.as_str())).map(|i| (*r, i.to_owned()))).collect();
    let group_names: HashMap<&str, &str> = live.groups.iter().map(|g| (g.id.as_str(), g.name.as_str())).collect();
    let rule_text = |r: &IngressRule| {
        let from = match &r.source {
            RuleSource::Cidr(c) => c.to_string(),
            RuleSource::Group(g) => group_names.get(g.as_str()).map_or(g.clone(), |n| (*n).to_owned()),
        };
        let ports =
            if r.from_port == r.to_port { r.from_port.to_string() } else { format!("{}-{}", r.from_port, r.to_port) };
        format!("{}/{ports} from {from}", r.protocol)
    };
    for (role, rules) in crate::build::seed_rules(d, &sg_ids) {
        let logical = format!("sg/{}", role.as_str());
        let name = d.security_group(role).as_str();
        match id(&logical).and_then(|g| live.groups.iter().find(|x| x.id == g)) {
            Some(g) => {
                let mut diffs =
                    set_diff("ingress", &set(rules.iter().map(rule_text)), &set(g.ingress.iter().map(rule_text)));
                diffs.extend(diff("name", name, &g.name));
                out.push(resource(&logical, "AWS::EC2::SecurityGroup", name, Some(&g.id), diffs));
            }
            None => out.push(deleted(&logical, "AWS::EC2::SecurityGroup", name, id(&logical))),
        }
    }

    // Instances, with their Elastic IPs.
    for role in InstanceRole::ALL {
        let placed = d.placed(*role);
        let logical = format!("instance/{}", role.as_str());
        let name = placed.instance.name().as_str();
        let sg = if role.is_waf() { SgRole::Utm } else { SgRole::Web };
        let inst = id(&logical)
            .and_then(|i| live.instances.iter().find(|x| x.id == i))
            .filter(|i| !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown));
        let Some(inst) = inst else {
            out.push(deleted(&logical, "AWS::EC2::Instance", name, id(&logical)));
            continue;
        };
        let mut diffs: Vec<Difference> = [
            diff("instance_type", placed.instance.instance_type(), &inst.instance_type),
            diff("image_id", placed.instance.ami(), &inst.image_id),
            id(&format!("subnet/{}", placed.subnet_key.as_str())).and_then(|s| diff("subnet", s, &inst.subnet_id)),
            placed.instance.private_ip().and_then(|ip| diff("private_ip", ip, inst.private_ip)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !held.isolated.contains(&inst.id)
            && let Some(want) = sg_ids.get(&sg)
        {
            diffs.extend(set_diff("security_groups", &set([want]), &set(&inst.security_groups)));
        }
        let want_state = if held.stopped.contains(&inst.id) { None } else { Some(InstanceState::Running) };
        if let Some(want) = want_state
            && inst.state != want
            && inst.state != InstanceState::Pending
        {
            diffs.extend(diff("state", want.as_str(), inst.state.as_str()));
        }
        diffs.extend(tag_diffs(&inst.tags, name, stack));
        let eip = format!("eip/{}", role.as_str());
        if let Some(alloc) = id(&eip) {
            let attached = live.addresses.iter().find(|a| a.allocation_id == alloc).and_then(|a| a.instance_id.clone());
            match live.addresses.iter().any(|a| a.allocation_id == alloc) {
                true => diffs.extend(diff(
                    "elastic_ip",
                    format!("{alloc} -> {}", inst.id),
                    format!("{alloc} -> {}", attached.unwrap_or_else(|| "nothing".into())),
                )),
                false => diffs.push(Difference {
                    path: "elastic_ip".into(),
                    expected: Some(alloc.to_owned()),
                    actual: None,
                    kind: DifferenceType::Remove,
                }),
            }
        }
        out.push(resource(&logical, "AWS::EC2::Instance", name, Some(&inst.id), diffs));
    }

    // Load balancers.
    for role in LbRole::ALL {
        let name = d.load_balancer(*role).as_str();
        let logical = format!("lb/{}", crate::build::lb_key(*role));
        let kind = d.lb_kind(*role);
        let Some(lb) = live.load_balancers.iter().find(|l| l.name == name) else {
            out.push(deleted(&logical, kind.cfn_type(), name, id(&logical)));
            continue;
        };
        let scheme = |s: Scheme| match s {
            Scheme::InternetFacing => "internet-facing",
            Scheme::Internal => "internal",
        };
        let want_scheme = match role {
            LbRole::External => Scheme::InternetFacing,
            LbRole::Internal => Scheme::Internal,
        };
        let mut diffs: Vec<Difference> = diff("kind", kind.as_str(), lb.kind.as_str()).into_iter().collect();
        diffs.extend(diff("scheme", scheme(want_scheme), scheme(lb.scheme)));
        let subnets = set(d.lb_subnets(*role).iter().filter_map(|(k, _)| id(&format!("subnet/{}", k.as_str()))));
        diffs.extend(set_diff("subnets", &subnets, &set(&lb.subnets)));
        let sg = match role {
            LbRole::External => SgRole::Lbext,
            LbRole::Internal => SgRole::Lbint,
        };
        diffs.extend(set_diff("security_groups", &set(sg_ids.get(&sg)), &set(&lb.security_groups)));
        let listeners = set(lb.listeners.iter().map(|l| {
            format!("{}:{} -> {}:{}", l.protocol, l.load_balancer_port, l.instance_protocol, l.instance_port)
        }));
        let want = kind.listener();
        let want = format!(
            "{}:{} -> {}:{}",
            want.protocol, want.load_balancer_port, want.instance_protocol, want.instance_port
        );
        diffs.extend(set_diff("listeners", &set([want]), &listeners));
        let hc = d.health_check();
        diffs.extend(
            [
                diff("health_check.target", hc.target(), &lb.health_check.target),
                diff("health_check.interval", hc.interval(), lb.health_check.interval),
                diff("health_check.timeout", hc.timeout(), lb.health_check.timeout),
                diff("health_check.healthy_threshold", hc.healthy_threshold(), lb.health_check.healthy_threshold),
                diff("health_check.unhealthy_threshold", hc.unhealthy_threshold(), lb.health_check.unhealthy_threshold),
            ]
            .into_iter()
            .flatten(),
        );
        let members = set(d.lb_members(*role).iter().filter_map(|m| id(&format!("instance/{}", m.as_str()))));
        diffs.extend(set_diff("instances", &members, &set(&lb.instances)));
        out.push(resource(&logical, kind.cfn_type(), name, Some(&lb.name), diffs));
    }

    // Added: the stack's tag on resources no build of it recorded.
    let recorded: BTreeSet<&str> = ids.values().map(String::as_str).collect();
    let ours = |tags: &crate::cloud::Tags| tags.get(TAG_STACK).map(String::as_str) == Some(stack);
    let name_of = |tags: &crate::cloud::Tags| tags.get(TAG_NAME).cloned().unwrap_or_default();
    let mut added = |kind: &str, rid: &str, name: String| {
        out.push(ResourceDrift {
            resource: format!("unrecorded/{rid}"),
            kind: kind.into(),
            name,
            physical_id: Some(rid.to_owned()),
            state: ResourceState::Added,
            differences: Vec::new(),
        })
    };
    for g in live.groups.iter().filter(|g| ours(&g.tags) && !recorded.contains(g.id.as_str())) {
        added("AWS::EC2::SecurityGroup", &g.id, g.name.clone());
    }
    for i in live.instances.iter().filter(|i| {
        ours(&i.tags)
            && !recorded.contains(i.id.as_str())
            && !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown)
    }) {
        added("AWS::EC2::Instance", &i.id, name_of(&i.tags));
    }
    for s in live.subnets.iter().filter(|s| ours(&s.tags) && !recorded.contains(s.id.as_str())) {
        added("AWS::EC2::Subnet", &s.id, name_of(&s.tags));
    }
    out
}
