//! Teardown in reverse dependency order. Resources are found both from the
//! database and by the stack's tag, so a half-built or failed stack (or one
//! whose database write was lost) still leaves nothing behind.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::StepError;
use super::apply::lb_key;
use super::ctx::Ctx;
use crate::cloud::{ErrorCode, Filter, InstanceState, RuleSource, TAG_ROLE, TAG_STACK, Tags};
use crate::stack::LbRole;

fn stack_tags(ctx: &Ctx) -> Tags {
    Tags::from([(TAG_STACK.to_owned(), ctx.stack.to_string())])
}

pub async fn waf_configuration(ctx: &Ctx) -> Result<(), StepError> {
    // The appliances go with their instances; only hawaf's own records of
    // them (tokens, pinned certificates) are left to remove.
    ctx.app.store.delete_waf_nodes(ctx.stack_id).await?;
    ctx.progress("forgot the WAF nodes' API tokens and pinned certificates").await
}

pub async fn load_balancer(ctx: &Ctx, role: LbRole) -> Result<(), StepError> {
    let name = ctx.def.load_balancer(role).as_str().to_owned();
    let mut names = vec![name];
    // A load balancer from an earlier version of the definition may carry
    // another name, and a migration not yet finished keeps the old one.
    for logical in [format!("lb/{}", lb_key(role)), super::previous_lb_id(role)] {
        if let Ok((recorded, _)) = ctx.resource(&logical).await
            && !names.contains(&recorded)
        {
            names.push(recorded);
        }
    }
    for name in names {
        let found = match ctx
            .call("DescribeLoadBalancers", &name, ctx.cloud.describe_load_balancers(std::slice::from_ref(&name)))
            .await
        {
            Ok(found) => found,
            Err(StepError::Cloud { error, .. }) if error.is_not_found() => Vec::new(),
            Err(e) => return Err(e),
        };
        let ours = found.iter().any(|lb| lb.tags.get(TAG_STACK).map(String::as_str) == Some(&*ctx.stack));
        // An ELBv2 tier whose load balancer is gone may still have its target
        // group (a create that failed half-way): deleting by name removes it.
        let v2_leftover =
            found.is_empty() && name == ctx.def.load_balancer(role).as_str() && ctx.def.lb_kind(role).is_v2();
        if ours || v2_leftover {
            ctx.call("DeleteLoadBalancer", &name, ctx.cloud.delete_load_balancer(&name)).await?;
        }
    }
    ctx.app.store.mark_resource_deleted(ctx.stack_id, &format!("lb/{}", lb_key(role))).await?;
    ctx.app.store.mark_resource_deleted(ctx.stack_id, &super::previous_lb_id(role)).await?;
    Ok(())
}

/// Terminates the stack's instances of one role (`web` or `waf`) and
/// releases their Elastic IPs.
pub async fn instances(ctx: &Ctx, role: &str) -> Result<(), StepError> {
    let mut tags = stack_tags(ctx);
    tags.insert(TAG_ROLE.to_owned(), role.to_owned());
    let found = ctx
        .call("DescribeInstances", format!("hawaf:role={role}"), ctx.cloud.describe_instances(&Filter::tags(tags)))
        .await?;
    let live: Vec<_> = found.into_iter().filter(|i| i.state != InstanceState::Terminated).collect();
    let ids: Vec<String> = live.iter().map(|i| i.id.clone()).collect();

    let addresses =
        ctx.call("DescribeAddresses", "stack", ctx.cloud.describe_addresses(&Filter::tags(stack_tags(ctx)))).await?;
    for addr in addresses.iter().filter(|a| a.instance_id.as_ref().is_some_and(|i| ids.contains(i))) {
        if let Some(assoc) = &addr.association_id {
            ctx.call_done_if(
                "DisassociateAddress",
                assoc,
                &["InvalidAssociationID.NotFound"],
                ctx.cloud.disassociate_address(assoc),
            )
            .await?;
        }
        release(ctx, &addr.allocation_id).await?;
    }
    // Addresses this role's instances never got to use.
    let prefix = format!("eip/{role}-");
    for row in
        ctx.app.store.live_resources(ctx.stack_id).await?.into_iter().filter(|r| r.logical_id.starts_with(&prefix))
    {
        if addresses.iter().any(|a| a.allocation_id == row.physical_id && a.instance_id.is_none()) {
            release(ctx, &row.physical_id).await?;
        }
        ctx.app.store.mark_resource_deleted(ctx.stack_id, &row.logical_id).await?;
    }

    ctx.all(ids.iter().map(|id| async move {
        ctx.call_done_if("TerminateInstances", id, &["InvalidInstanceID.NotFound"], ctx.cloud.terminate_instance(id))
            .await
    }))
    .await?;
    if !ids.is_empty() {
        let limit = ctx.timing.instance_running;
        ctx.wait_until("instances terminated", limit, || async {
            let now = ctx
                .poll("DescribeInstances", ids.join(","), ctx.cloud.describe_instances(&Filter::ids(ids.clone())))
                .await?;
            let gone = now.iter().filter(|i| i.state == InstanceState::Terminated).count();
            Ok((gone == ids.len(), format!("{gone} of {} instances terminated", ids.len())))
        })
        .await?;
    }
    for row in ctx.app.store.live_resources(ctx.stack_id).await? {
        if row.logical_id.starts_with(&format!("instance/{role}-")) {
            ctx.app.store.mark_resource_deleted(ctx.stack_id, &row.logical_id).await?;
        }
    }
    Ok(())
}

async fn release(ctx: &Ctx, allocation_id: &str) -> Result<(), StepError> {
    ctx.call_done_if(
        "ReleaseAddress",
        allocation_id,
        &["InvalidAllocationID.NotFound"],
        ctx.cloud.release_address(allocation_id),
    )
    .await
}

/// Groups reference each other (utm admits lbext, …): delete those nobody
/// else references first. AWS also refuses while network interfaces of just
/// terminated instances linger, so DependencyViolation is retried for a while.
pub async fn security_groups(ctx: &Ctx) -> Result<(), StepError> {
    let found = ctx
        .call("DescribeSecurityGroups", "stack", ctx.cloud.describe_security_groups(&Filter::tags(stack_tags(ctx))))
        .await?;
    let mut left: BTreeMap<String, Vec<String>> = found
        .into_iter()
        .map(|g| {
            let refs = g.ingress.iter().filter_map(|r| match &r.source {
                RuleSource::Group(id) if *id != g.id => Some(id.clone()),
                _ => None,
            });
            (g.id.clone(), refs.collect())
        })
        .collect();
    let deadline = Instant::now() + ctx.timing.instance_running;
    while !left.is_empty() {
        let referenced: Vec<String> = left.values().flatten().cloned().collect();
        let next = left.keys().find(|id| !referenced.contains(id)).cloned();
        // A cycle (only possible if edited by hand): take any; AWS will say if it cannot.
        let Some(id) = next.or_else(|| left.keys().next().cloned()) else { break };
        match ctx.call("DeleteSecurityGroup", &id, ctx.cloud.delete_security_group(&id)).await {
            Ok(()) => {
                left.remove(&id);
            }
            Err(StepError::Cloud { error, .. }) if error.is_not_found() => {
                left.remove(&id);
            }
            Err(StepError::Cloud { error, operation, target }) if error.is(ErrorCode::DependencyViolation) => {
                if Instant::now() >= deadline {
                    return Err(StepError::Cloud { operation, target, error });
                }
                ctx.progress(format!("{id} still in use, retrying")).await?;
                tokio::time::sleep(ctx.timing.poll.max(Duration::from_millis(500))).await;
            }
            Err(e) => return Err(e),
        }
    }
    mark_prefix(ctx, "sg/").await
}

pub async fn subnets(ctx: &Ctx) -> Result<(), StepError> {
    let tables = ctx
        .call("DescribeRouteTables", "stack", ctx.cloud.describe_route_tables(&Filter::tags(stack_tags(ctx))))
        .await?;
    for assoc in tables.iter().flat_map(|t| &t.associations).filter(|a| !a.main && a.subnet_id.is_some()) {
        ctx.call_done_if(
            "DisassociateRouteTable",
            &assoc.id,
            &["InvalidAssociationID.NotFound"],
            ctx.cloud.disassociate_route_table(&assoc.id),
        )
        .await?;
    }
    let nats = ctx
        .call("DescribeNatGateways", "stack", ctx.cloud.describe_nat_gateways(&Filter::tags(stack_tags(ctx))))
        .await?;
    let nat_ids: Vec<String> = nats.iter().filter(|n| n.state != "deleted").map(|n| n.id.clone()).collect();
    for id in &nat_ids {
        ctx.call_done_if("DeleteNatGateway", id, &["NatGatewayNotFound"], ctx.cloud.delete_nat_gateway(id)).await?;
    }
    if !nat_ids.is_empty() {
        let limit = ctx.timing.instance_running;
        ctx.wait_until("NAT gateway deleted", limit, || async {
            let now = ctx
                .poll(
                    "DescribeNatGateways",
                    nat_ids.join(","),
                    ctx.cloud.describe_nat_gateways(&Filter::ids(nat_ids.clone())),
                )
                .await?;
            let gone = now.iter().filter(|n| n.state == "deleted").count();
            Ok((gone == nat_ids.len(), format!("{gone} of {} NAT gateways deleted", nat_ids.len())))
        })
        .await?;
    }
    // Whatever Elastic IPs are left (the NAT's) go too.
    let addresses =
        ctx.call("DescribeAddresses", "stack", ctx.cloud.describe_addresses(&Filter::tags(stack_tags(ctx)))).await?;
    for addr in addresses {
        if let Some(assoc) = &addr.association_id {
            ctx.call_done_if(
                "DisassociateAddress",
                assoc,
                &["InvalidAssociationID.NotFound"],
                ctx.cloud.disassociate_address(assoc),
            )
            .await?;
        }
        release(ctx, &addr.allocation_id).await?;
    }
    let subnets =
        ctx.call("DescribeSubnets", "stack", ctx.cloud.describe_subnets(&Filter::tags(stack_tags(ctx)))).await?;
    for sn in subnets {
        delete_when_free(ctx, "DeleteSubnet", &sn.id, &["InvalidSubnetID.NotFound"], || {
            ctx.cloud.delete_subnet(&sn.id)
        })
        .await?;
    }
    mark_prefix(ctx, "subnet/").await?;
    mark_prefix(ctx, "nat").await?;
    mark_prefix(ctx, "eip/").await
}

pub async fn vpc(ctx: &Ctx) -> Result<(), StepError> {
    let tables = ctx
        .call("DescribeRouteTables", "stack", ctx.cloud.describe_route_tables(&Filter::tags(stack_tags(ctx))))
        .await?;
    for t in tables.iter().filter(|t| !t.associations.iter().any(|a| a.main)) {
        ctx.call_done_if(
            "DeleteRouteTable",
            &t.id,
            &["InvalidRouteTableID.NotFound"],
            ctx.cloud.delete_route_table(&t.id),
        )
        .await?;
    }
    let gateways = ctx
        .call("DescribeInternetGateways", "stack", ctx.cloud.describe_internet_gateways(&Filter::tags(stack_tags(ctx))))
        .await?;
    for g in gateways {
        if let Some(vpc) = &g.attached_vpc {
            ctx.call_done_if(
                "DetachInternetGateway",
                format!("{} -x- {vpc}", g.id),
                &["Gateway.NotAttached"],
                ctx.cloud.detach_internet_gateway(&g.id, vpc),
            )
            .await?;
        }
        ctx.call_done_if(
            "DeleteInternetGateway",
            &g.id,
            &["InvalidInternetGatewayID.NotFound"],
            ctx.cloud.delete_internet_gateway(&g.id),
        )
        .await?;
    }
    let vpcs = ctx.call("DescribeVpcs", "stack", ctx.cloud.describe_vpcs(&Filter::tags(stack_tags(ctx)))).await?;
    for v in vpcs {
        delete_when_free(ctx, "DeleteVpc", &v.id, &["InvalidVpcID.NotFound"], || ctx.cloud.delete_vpc(&v.id)).await?;
    }
    // Nothing of the stack is left in the cloud: whatever the database still
    // lists as live is gone too.
    mark_prefix(ctx, "").await
}

/// Deletes something AWS may still see in use for a while: a deleted
/// classic ELB's network interfaces, and those of just terminated instances,
/// are released asynchronously (minutes, for an ELB), and until then
/// DeleteSubnet and DeleteVpc answer DependencyViolation. Retried until the
/// same deadline as other teardown waits, then the error stands.
async fn delete_when_free<F, Fut>(
    ctx: &Ctx,
    operation: &'static str,
    target: &str,
    done_codes: &[&str],
    mut call: F,
) -> Result<(), StepError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::cloud::CloudResult<()>>,
{
    let deadline = Instant::now() + ctx.timing.instance_running;
    loop {
        match ctx.call_done_if(operation, target, done_codes, call()).await {
            Err(StepError::Cloud { error, .. })
                if error.is(ErrorCode::DependencyViolation) && Instant::now() < deadline =>
            {
                ctx.progress(format!("{target} still in use, retrying")).await?;
                tokio::time::sleep(ctx.timing.poll.max(Duration::from_millis(500))).await;
            }
            other => return other,
        }
    }
}

async fn mark_prefix(ctx: &Ctx, prefix: &str) -> Result<(), StepError> {
    for row in ctx.app.store.live_resources(ctx.stack_id).await? {
        if row.logical_id.starts_with(prefix) {
            ctx.app.store.mark_resource_deleted(ctx.stack_id, &row.logical_id).await?;
        }
    }
    Ok(())
}
