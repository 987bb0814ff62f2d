//! The eight steps, each idempotent: what exists (found by its tags) is
//! adopted, only what is missing is created, and every physical id is
//! recorded before the step moves on.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use sha2::{Digest, Sha256};

use super::StepError;
use super::ctx::Ctx;
use crate::cloud::{
    CreateLoadBalancerRequest, Filter, HealthCheck, HealthState, IngressRule, InstanceState, RouteTable, RouteTarget,
    RuleSource, RunInstanceRequest, Scheme, TAG_ROLE,
};
use crate::stack::{InstanceRole, LbRole, SgRole, StackDefinition, SubnetKey, SubnetMode};

const ANYWHERE: &str = "0.0.0.0/0";

fn anywhere() -> ipnet::Ipv4Net {
    // A constant that always parses.
    ANYWHERE.parse().unwrap_or_default()
}

// ---------- step 1: VPC, internet gateway, public route table ----------

pub async fn vpc(ctx: &Ctx) -> Result<(), StepError> {
    let d = &ctx.def;
    let name = d.vpc_name().as_str();
    let cidr = d.vpc_cidr().net();
    let tags = ctx.tags(name);
    let found =
        ctx.call("DescribeVpcs", format!("Name={name}"), ctx.cloud.describe_vpcs(&Filter::tags(tags.clone()))).await?;
    let vpc = match found.into_iter().next() {
        Some(v) if v.cidr != cidr => {
            return Err(StepError::Conflict(format!(
                "VPC {name} ({}) exists with {} but the definition says {cidr}: tear the stack down before changing the VPC",
                v.id, v.cidr
            )));
        }
        Some(v) => v,
        None => ctx.call("CreateVpc", cidr.to_string(), ctx.cloud.create_vpc(cidr, tags)).await?,
    };
    ctx.record("vpc", &vpc.id, json!({"cidr": cidr.to_string(), "name": name})).await?;

    let igw_name = format!("{name}-igw");
    let igw_tags = ctx.tags(&igw_name);
    let found = ctx
        .call(
            "DescribeInternetGateways",
            &igw_name,
            ctx.cloud.describe_internet_gateways(&Filter::tags(igw_tags.clone())),
        )
        .await?;
    let igw = match found.into_iter().next() {
        Some(g) => g,
        None => ctx.call("CreateInternetGateway", &igw_name, ctx.cloud.create_internet_gateway(igw_tags)).await?,
    };
    ctx.record("igw", &igw.id, json!({"name": igw_name})).await?;
    if igw.attached_vpc.as_deref() != Some(vpc.id.as_str()) {
        ctx.call_done_if(
            "AttachInternetGateway",
            format!("{} -> {}", igw.id, vpc.id),
            &["Resource.AlreadyAssociated"],
            ctx.cloud.attach_internet_gateway(&igw.id, &vpc.id),
        )
        .await?;
    }

    let rtb = route_table(ctx, &vpc.id, "rtb/public", &format!("{name}-public")).await?;
    default_route(ctx, &rtb, RouteTarget::Gateway(igw.id.clone())).await?;
    Ok(())
}

async fn route_table(ctx: &Ctx, vpc_id: &str, logical: &str, name: &str) -> Result<RouteTable, StepError> {
    let tags = ctx.tags(name);
    let found =
        ctx.call("DescribeRouteTables", name, ctx.cloud.describe_route_tables(&Filter::tags(tags.clone()))).await?;
    let rtb = match found.into_iter().next() {
        Some(r) => r,
        None => ctx.call("CreateRouteTable", name, ctx.cloud.create_route_table(vpc_id, tags)).await?,
    };
    ctx.record(logical, &rtb.id, json!({"name": name})).await?;
    Ok(rtb)
}

/// 0.0.0.0/0 through `target`, unless the table already has a default route.
async fn default_route(ctx: &Ctx, rtb: &RouteTable, target: RouteTarget) -> Result<(), StepError> {
    if rtb.routes.iter().any(|r| r.destination == anywhere()) {
        return Ok(());
    }
    let label = match &target {
        RouteTarget::Gateway(id) | RouteTarget::NatGateway(id) => format!("{} {ANYWHERE} -> {id}", rtb.id),
        RouteTarget::Local => format!("{} {ANYWHERE} -> local", rtb.id),
    };
    ctx.call_done_if("CreateRoute", label, &["RouteAlreadyExists"], ctx.cloud.create_route(&rtb.id, anywhere(), target))
        .await
}

// ---------- step 2: subnets, route table associations (+ NAT) ----------

pub async fn subnets(ctx: &Ctx) -> Result<(), StepError> {
    let d = &ctx.def;
    let vpc_id = ctx.id_of("vpc").await?;
    let public_rtb = ctx.id_of("rtb/public").await?;
    let mut ids = Vec::new();
    for (key, subnet) in d.subnets().iter() {
        let name = format!("{}-{}", d.vpc_name(), key.as_str());
        let tags = ctx.tags(&name);
        let cidr = subnet.cidr().net();
        let found = ctx.call("DescribeSubnets", &name, ctx.cloud.describe_subnets(&Filter::tags(tags.clone()))).await?;
        let sn = match found.into_iter().next() {
            Some(s) if s.cidr != cidr || s.availability_zone != subnet.az().as_str() => {
                return Err(StepError::Conflict(format!(
                    "subnet {name} ({}) exists as {} in {} but the definition says {cidr} in {}: tear down first",
                    s.id,
                    s.cidr,
                    s.availability_zone,
                    subnet.az()
                )));
            }
            Some(s) => s,
            None => {
                ctx.call(
                    "CreateSubnet",
                    format!("{name} {cidr} {}", subnet.az()),
                    ctx.cloud.create_subnet(&vpc_id, cidr, subnet.az().as_str(), tags),
                )
                .await?
            }
        };
        ctx.record(
            &format!("subnet/{}", key.as_str()),
            &sn.id,
            json!({"cidr": cidr.to_string(), "az": subnet.az().as_str()}),
        )
        .await?;
        ids.push((key, sn.id));
    }

    let private_rtb = if d.subnet_mode() == SubnetMode::Protected { Some(nat(ctx, &vpc_id).await?) } else { None };
    for (key, subnet_id) in &ids {
        let is_web = matches!(key, SubnetKey::WebA | SubnetKey::WebB);
        let rtb = match (&private_rtb, is_web) {
            (Some(private), true) => private.clone(),
            _ => public_rtb.clone(),
        };
        associate(ctx, &rtb, subnet_id).await?;
    }
    Ok(())
}

async fn associate(ctx: &Ctx, rtb: &str, subnet_id: &str) -> Result<(), StepError> {
    let tables = ctx.call("DescribeRouteTables", rtb, ctx.cloud.describe_route_tables(&Filter::ids([rtb]))).await?;
    let already = tables.iter().flat_map(|t| &t.associations).any(|a| a.subnet_id.as_deref() == Some(subnet_id));
    if !already {
        ctx.call(
            "AssociateRouteTable",
            format!("{rtb} <- {subnet_id}"),
            ctx.cloud.associate_route_table(rtb, subnet_id),
        )
        .await?;
    }
    Ok(())
}

/// Protected mode: a NAT gateway in public-a and a private route table
/// through it for the web subnets (the seed's "protected subnet").
async fn nat(ctx: &Ctx, vpc_id: &str) -> Result<String, StepError> {
    let d = &ctx.def;
    let name = format!("{}-nat", d.vpc_name());
    let subnet = ctx.id_of("subnet/public-a").await?;
    let eip = elastic_ip(ctx, "eip/nat", &format!("{name}-eip")).await?;
    let tags = ctx.tags(&name);
    let found =
        ctx.call("DescribeNatGateways", &name, ctx.cloud.describe_nat_gateways(&Filter::tags(tags.clone()))).await?;
    let gw = match found.into_iter().find(|n| n.state != "deleted") {
        Some(n) => n,
        None => ctx.call("CreateNatGateway", &name, ctx.cloud.create_nat_gateway(&subnet, &eip, tags)).await?,
    };
    ctx.record("nat", &gw.id, json!({"subnet": subnet})).await?;
    let rtb = route_table(ctx, vpc_id, "rtb/private", &format!("{}-private", d.vpc_name())).await?;
    default_route(ctx, &rtb, RouteTarget::NatGateway(gw.id.clone())).await?;
    Ok(rtb.id)
}

async fn elastic_ip(ctx: &Ctx, logical: &str, name: &str) -> Result<String, StepError> {
    let tags = ctx.tags(name);
    let found = ctx.call("DescribeAddresses", name, ctx.cloud.describe_addresses(&Filter::tags(tags.clone()))).await?;
    let addr = match found.into_iter().next() {
        Some(a) => a,
        None => ctx.call("AllocateAddress", name, ctx.cloud.allocate_address(tags)).await?,
    };
    ctx.record(logical, &addr.allocation_id, json!({"public_ip": addr.public_ip.to_string()})).await?;
    Ok(addr.allocation_id)
}

// ---------- step 3: security groups ----------

pub async fn security_groups(ctx: &Ctx) -> Result<(), StepError> {
    let d = &ctx.def;
    let vpc_id = ctx.id_of("vpc").await?;
    let mut ids = HashMap::new();
    let mut found_rules: HashMap<SgRole, Vec<IngressRule>> = HashMap::new();
    for role in SgRole::ALL {
        let name = d.security_group(*role).as_str();
        let tags = ctx.tags(name);
        let found = ctx
            .call("DescribeSecurityGroups", name, ctx.cloud.describe_security_groups(&Filter::tags(tags.clone())))
            .await?;
        let sg = match found.into_iter().next() {
            Some(g) => g,
            None => {
                let description = format!("hawaf {}: {}", ctx.stack, sg_purpose(*role));
                ctx.call(
                    "CreateSecurityGroup",
                    name,
                    ctx.cloud.create_security_group(&vpc_id, name, &description, tags),
                )
                .await?
            }
        };
        ctx.record(&format!("sg/{}", role.as_str()), &sg.id, json!({"name": name})).await?;
        ids.insert(*role, sg.id.clone());
        found_rules.insert(*role, sg.ingress);
    }
    for (role, wanted) in seed_rules(d, &ids) {
        let id = &ids[&role];
        // These groups are hawaf's own: a rule added to one by hand (port 22
        // to the world "for a minute") is drift, and a build removes it.
        let extra: Vec<IngressRule> =
            found_rules.remove(&role).unwrap_or_default().into_iter().filter(|r| !wanted.contains(r)).collect();
        for rule in extra {
            let label =
                format!("{} tcp/{} from {}", d.security_group(role), rule.from_port, describe_source(&rule.source));
            ctx.call_done_if(
                "RevokeSecurityGroupIngress",
                label,
                &["InvalidPermission.NotFound"],
                ctx.cloud.revoke_ingress(id, std::slice::from_ref(&rule)),
            )
            .await?;
        }
        for rule in wanted {
            let label =
                format!("{} tcp/{} from {}", d.security_group(role), rule.from_port, describe_source(&rule.source));
            ctx.call_done_if(
                "AuthorizeSecurityGroupIngress",
                label,
                &["InvalidPermission.Duplicate"],
                ctx.cloud.authorize_ingress(id, std::slice::from_ref(&rule)),
            )
            .await?;
        }
    }
    Ok(())
}

/// The seed's chain of ingress rules, per security group: 80 from the tier
/// in front (the internet for the external LB), 4444 and 22 from the admin
/// CIDR to the WAF nodes and web servers. `ids` holds each group's id.
pub fn seed_rules(d: &StackDefinition, ids: &HashMap<SgRole, String>) -> [(SgRole, Vec<IngressRule>); 4] {
    let admin = d.admin_cidr().net();
    let group = |role: SgRole| RuleSource::Group(ids.get(&role).cloned().unwrap_or_default());
    [
        (SgRole::Lbext, vec![IngressRule::tcp(80, RuleSource::Cidr(anywhere()))]),
        (
            SgRole::Utm,
            vec![IngressRule::tcp(80, group(SgRole::Lbext)), IngressRule::tcp(4444, RuleSource::Cidr(admin))],
        ),
        (SgRole::Lbint, vec![IngressRule::tcp(80, group(SgRole::Utm))]),
        (SgRole::Web, vec![IngressRule::tcp(80, group(SgRole::Lbint)), IngressRule::tcp(22, RuleSource::Cidr(admin))]),
    ]
}

fn sg_purpose(role: SgRole) -> &'static str {
    match role {
        SgRole::Lbext => "external load balancer",
        SgRole::Utm => "WAF nodes",
        SgRole::Lbint => "internal load balancer",
        SgRole::Web => "web content servers",
    }
}

fn describe_source(source: &RuleSource) -> String {
    match source {
        RuleSource::Cidr(c) => c.to_string(),
        RuleSource::Group(g) => g.clone(),
    }
}

// ---------- steps 4 and 6: instances ----------

pub async fn web_servers(ctx: &Ctx) -> Result<(), StepError> {
    instances(ctx, &[InstanceRole::WebLeft, InstanceRole::WebRight], SgRole::Web).await
}

pub async fn waf_nodes(ctx: &Ctx) -> Result<(), StepError> {
    instances(ctx, &[InstanceRole::WafLeft, InstanceRole::WafRight], SgRole::Utm).await
}

/// Both instances of a tier at once, then waits until both run.
async fn instances(ctx: &Ctx, roles: &[InstanceRole], sg: SgRole) -> Result<(), StepError> {
    let sg_id = ctx.id_of(&format!("sg/{}", sg.as_str())).await?;
    let ids = ctx.all(roles.iter().map(|role| instance(ctx, *role, &sg_id))).await?;
    let limit = ctx.timing.instance_running;
    ctx.wait_until("instances running", limit, || async {
        let found = ctx
            .poll("DescribeInstances", ids.join(","), ctx.cloud.describe_instances(&Filter::ids(ids.clone())))
            .await?;
        if let Some(gone) =
            found.iter().find(|i| matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown))
        {
            return Err(StepError::Conflict(format!(
                "instance {} is {} while waiting for it to run",
                gone.id,
                gone.state.as_str()
            )));
        }
        let running = found.iter().filter(|i| i.state == InstanceState::Running).count();
        Ok((running == ids.len(), format!("{running} of {} instances running", ids.len())))
    })
    .await?;
    ctx.all(roles.iter().zip(&ids).map(|(role, id)| attach_eip(ctx, *role, id))).await?;
    Ok(())
}

async fn instance(ctx: &Ctx, role: InstanceRole, sg_id: &str) -> Result<String, StepError> {
    let placed = ctx.def.placed(role);
    let name = placed.instance.name().as_str();
    let logical = format!("instance/{}", role.as_str());
    let subnet_id = ctx.id_of(&format!("subnet/{}", placed.subnet_key.as_str())).await?;
    let tags = ctx.tags(name);
    let found = ctx.call("DescribeInstances", name, ctx.cloud.describe_instances(&Filter::tags(tags.clone()))).await?;
    let existing =
        found.into_iter().find(|i| !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown));
    let inst = match existing {
        // Stopped by someone else (hawaf's own stops are holds, settled by
        // drills and faults): the definition says it runs.
        Some(i) if i.state == InstanceState::Stopped && !held(ctx, &i.id, "instance-stopped").await? => {
            ctx.call("StartInstances", &i.id, ctx.cloud.start_instance(&i.id)).await?;
            i
        }
        Some(i) => i,
        None => {
            let mut tags = tags;
            tags.insert(TAG_ROLE.to_owned(), if role.is_waf() { "waf" } else { "web" }.to_owned());
            let generation = ctx.app.store.resource_generation(ctx.stack_id, &logical).await?;
            let request = RunInstanceRequest {
                subnet_id,
                image_id: placed.instance.ami().as_str().to_owned(),
                instance_type: placed.instance.instance_type().as_str().to_owned(),
                private_ip: placed.instance.private_ip(),
                security_groups: vec![sg_id.to_owned()],
                user_data: role.is_web().then(|| web_user_data(name)),
                client_token: Some(client_token(&ctx.stack, ctx.stack_id, &logical, generation)),
                tags,
            };
            ctx.call("RunInstances", name, ctx.cloud.run_instance(request)).await?
        }
    };
    // Its groups swapped by hand (hawaf's own isolation is a hold): put back.
    if inst.security_groups != [sg_id] && !held(ctx, &inst.id, "isolated").await? {
        ctx.call(
            "ModifyInstanceAttribute",
            format!("{} groups {sg_id}", inst.id),
            ctx.cloud.modify_instance_security_groups(&inst.id, &[sg_id.to_owned()]),
        )
        .await?;
    }
    ctx.record(&logical, &inst.id, json!({"name": name, "private_ip": inst.private_ip.to_string()})).await?;
    Ok(inst.id)
}

/// Whether hawaf itself holds the instance so (a drill's or a fault's).
async fn held(ctx: &Ctx, instance_id: &str, hold: &str) -> Result<bool, StepError> {
    let holds = ctx.app.store.holds(ctx.stack_id).await?;
    Ok(holds.iter().any(|h| h.instance_id == instance_id && h.hold == hold))
}

/// The seed's user data: install and start httpd, and an index.html that
/// names the server, so a response tells which web server answered.
pub fn web_user_data(name: &str) -> String {
    format!(
        "#!/bin/bash\nyum -y install httpd\nsystemctl enable --now httpd || service httpd start\n\
         echo '<html><body>{name}</body></html>' > /var/www/html/index.html\n"
    )
}

/// Deterministic per stack, resource and generation: a retried RunInstances
/// returns the instance the first try made (AWS honours client tokens; the
/// tag lookup above covers emulators that do not), while a rebuild after
/// teardown gets a new token.
fn client_token(stack: &str, stack_id: i64, logical: &str, generation: i64) -> String {
    let digest = Sha256::digest(format!("{stack}/{stack_id}/{logical}/{generation}").as_bytes());
    hex::encode(&digest[..16])
}

async fn attach_eip(ctx: &Ctx, role: InstanceRole, instance_id: &str) -> Result<(), StepError> {
    let name = format!("{}-eip", ctx.def.instance(role).name());
    let logical = format!("eip/{}", role.as_str());
    let allocation = elastic_ip(ctx, &logical, &name).await?;
    let current = ctx
        .call("DescribeAddresses", &allocation, ctx.cloud.describe_addresses(&Filter::ids([allocation.clone()])))
        .await?;
    if current.first().and_then(|a| a.instance_id.as_deref()) != Some(instance_id) {
        ctx.call(
            "AssociateAddress",
            format!("{allocation} -> {instance_id}"),
            ctx.cloud.associate_address(&allocation, instance_id),
        )
        .await?;
    }
    Ok(())
}

// ---------- steps 5 and 7: load balancers ----------

pub async fn internal_lb(ctx: &Ctx) -> Result<(), StepError> {
    load_balancer(ctx, LbRole::Internal).await?;
    wait_in_service(ctx, LbRole::Internal).await
}

/// Registers the WAF nodes but does not wait for them: a UTM serves port 80
/// only once step 8 has configured its virtual webserver, so "2 of 2 in
/// service" on the external LB is what step 8 waits for.
pub async fn external_lb(ctx: &Ctx) -> Result<(), StepError> {
    load_balancer(ctx, LbRole::External).await
}

/// The AWS operation behind a port call, as the call log names it: classic
/// ELB's, or ELBv2's for application and network load balancers.
pub fn lb_op(kind: crate::cloud::LbKind, classic: &'static str, v2: &'static str) -> &'static str {
    if kind.is_v2() { v2 } else { classic }
}

async fn load_balancer(ctx: &Ctx, role: LbRole) -> Result<(), StepError> {
    let d = &ctx.def;
    let name = d.load_balancer(role).as_str().to_owned();
    let kind = d.lb_kind(role);
    let logical = format!("lb/{}", lb_key(role));
    let mut subnets = Vec::new();
    for (key, _) in d.lb_subnets(role) {
        subnets.push(ctx.id_of(&format!("subnet/{}", key.as_str())).await?);
    }
    let sg = ctx
        .id_of(match role {
            LbRole::External => "sg/lbext",
            LbRole::Internal => "sg/lbint",
        })
        .await?;
    let existing = match ctx
        .call("DescribeLoadBalancers", &name, ctx.cloud.describe_load_balancers(std::slice::from_ref(&name)))
        .await
    {
        Ok(found) => found.into_iter().next(),
        Err(StepError::Cloud { error, .. }) if error.code == "LoadBalancerNotFound" => None,
        Err(e) => return Err(e),
    };
    let lb = match existing {
        Some(lb) if lb.tags.get(crate::cloud::TAG_STACK).map(String::as_str) != Some(&*ctx.stack) => {
            return Err(StepError::Conflict(format!(
                "a load balancer named {name} already exists and does not belong to stack {}: load balancer names are unique per region, choose another",
                ctx.stack
            )));
        }
        Some(lb) if lb.kind != kind => {
            return Err(StepError::Conflict(format!(
                "{name} exists as a {}, and the definition asks for a {}: a load balancer cannot change its kind; \
                 migrate the tier (GET /api/v1/stacks/{}/migration) or give the new one another name",
                lb.kind.title(),
                kind.title(),
                ctx.stack
            )));
        }
        Some(lb) => lb,
        None => {
            let request = CreateLoadBalancerRequest {
                name: name.clone(),
                kind,
                scheme: match role {
                    LbRole::External => Scheme::InternetFacing,
                    LbRole::Internal => Scheme::Internal,
                },
                subnets,
                security_groups: vec![sg],
                listeners: vec![kind.listener()],
                tags: ctx.tags(&name),
            };
            ctx.call("CreateLoadBalancer", &name, ctx.cloud.create_load_balancer(request)).await?
        }
    };
    ctx.record(&logical, &lb.name, json!({"dns_name": lb.dns_name, "kind": lb.kind.as_str()})).await?;

    let hc = d.health_check();
    let check = HealthCheck {
        target: hc.target().to_string(),
        interval: hc.interval(),
        timeout: hc.timeout(),
        healthy_threshold: hc.healthy_threshold(),
        unhealthy_threshold: hc.unhealthy_threshold(),
    };
    ctx.call(
        lb_op(kind, "ConfigureHealthCheck", "ModifyTargetGroup"),
        format!("{name} {}", check.target),
        ctx.cloud.configure_health_check(&name, check),
    )
    .await?;

    let mut members = Vec::new();
    for member in d.lb_members(role) {
        members.push(ctx.id_of(&format!("instance/{}", member.as_str())).await?);
    }
    // Instances registered by hand are not the definition's: this load
    // balancer is hawaf's own, as its security groups are.
    let extra: Vec<String> = lb.instances.iter().filter(|i| !members.contains(i)).cloned().collect();
    if !extra.is_empty() {
        ctx.call(
            lb_op(kind, "DeregisterInstancesFromLoadBalancer", "DeregisterTargets"),
            format!("{name} -x- {}", extra.join(", ")),
            ctx.cloud.deregister_instances(&name, &extra),
        )
        .await?;
    }
    if members.iter().any(|m| !lb.instances.contains(m)) {
        ctx.call(
            lb_op(kind, "RegisterInstancesWithLoadBalancer", "RegisterTargets"),
            format!("{name} <- {}", members.join(", ")),
            ctx.cloud.register_instances(&name, &members),
        )
        .await?;
    }
    Ok(())
}

/// The logical id of a tier's previous load balancer while a migration to
/// another kind awaits its finish (`migrate`); teardown removes it too.
pub fn previous_lb_id(role: LbRole) -> String {
    format!("lb/{}-previous", lb_key(role))
}

pub fn lb_key(role: LbRole) -> &'static str {
    match role {
        LbRole::External => "external",
        LbRole::Internal => "internal",
    }
}

/// Waits for the AWS console's "2 of 2 instances in service".
pub async fn wait_in_service(ctx: &Ctx, role: LbRole) -> Result<(), StepError> {
    let d = &ctx.def;
    let name = d.load_balancer(role).as_str().to_owned();
    let hc = d.health_check();
    // The checker needs `healthy_threshold` passing checks, `interval` apart.
    let needed = Duration::from_secs(u64::from(hc.interval()) * u64::from(hc.healthy_threshold() + 1));
    let limit = needed + ctx.timing.in_service_slack;
    ctx.wait_until(&format!("{name}: all instances in service"), limit, || async {
        let op = lb_op(d.lb_kind(role), "DescribeInstanceHealth", "DescribeTargetHealth");
        let health = ctx.poll(op, &name, ctx.cloud.describe_instance_health(&name, &[])).await?;
        let in_service = health.iter().filter(|h| h.state == HealthState::InService).count();
        let mut text = format!("{name}: {in_service} of {} instances in service", health.len());
        if let Some(out) = health.iter().find(|h| h.state != HealthState::InService) {
            text.push_str(&format!(" ({}: {})", out.instance_id, out.description));
        }
        Ok((!health.is_empty() && in_service == health.len(), text))
    })
    .await
}

/// The DNS name a step recorded for a load balancer.
pub async fn lb_dns(ctx: &Ctx, role: LbRole) -> Result<String, StepError> {
    let (_, attrs) = ctx.resource(&format!("lb/{}", lb_key(role))).await?;
    attrs["dns_name"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| StepError::Missing(format!("lb/{} DNS name", lb_key(role))))
}
