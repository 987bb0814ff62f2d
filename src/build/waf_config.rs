//! Step 8: configure both WAF nodes through their appliance's API (the
//! `waf` driver the stack's `waf.kind` names), then wait for the external
//! LB to see them.

use std::time::Instant;

use super::StepError;
use super::apply::{lb_dns, wait_in_service};
use super::ctx::Ctx;
use crate::stack::{InstanceRole, LbRole};
use crate::waf::{LbTarget, WafDriver};

pub async fn configure(ctx: &Ctx) -> Result<(), StepError> {
    let d = &ctx.def;
    let internal = LbTarget::new(d.load_balancer(LbRole::Internal).as_str(), lb_dns(ctx, LbRole::Internal).await?);
    let external = LbTarget::new(d.load_balancer(LbRole::External).as_str(), lb_dns(ctx, LbRole::External).await?);
    // Both nodes are checked before either is changed: half a configured
    // pair is worse than none.
    let clients = ctx.all([InstanceRole::WafLeft, InstanceRole::WafRight].map(|role| standalone(ctx, role))).await?;
    ctx.all(clients.into_iter().map(|(node, client)| configure_node(ctx, node, client, &internal, &external))).await?;
    wait_in_service(ctx, LbRole::External).await
}

/// The node's client, once it has shown it is not part of a UTM HA pair;
/// its firmware goes to the call log.
async fn standalone(ctx: &Ctx, role: InstanceRole) -> Result<(String, WafDriver), StepError> {
    let node = ctx.def.instance(role).name().to_string();
    let instance_id = ctx.id_of(&format!("instance/{}", role.as_str())).await?;
    let client = client_for(ctx, &node, &instance_id).await?;
    let started = Instant::now();
    let result = client.require_standalone(&node).await;
    let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match result {
        Ok(facts) => {
            let outcome = match client.kind() {
                crate::waf::WafKind::Utm9 => format!("UTM {}, ha.mode {}", facts.firmware, facts.ha_mode),
                crate::waf::WafKind::Sfos => facts.firmware.clone(),
            };
            ctx.log_call(facts_call(&client), &node, &outcome, elapsed).await?;
            Ok((node, client))
        }
        Err(e @ crate::waf::WafError::HaCluster { .. }) => {
            ctx.log_call(facts_call(&client), &node, &e.to_string(), elapsed).await?;
            Err(StepError::Waf { node, message: e.to_string() })
        }
        // Credentials that may not read these, or a moment's trouble, do
        // not stop the step: configuring the node says soon enough what is wrong.
        Err(e) => {
            ctx.log_call(facts_call(&client), &node, &format!("not read: {e}"), elapsed).await?;
            Ok((node, client))
        }
    }
}

/// The call log's name for reading a node's facts.
fn facts_call(client: &WafDriver) -> &'static str {
    match client.kind() {
        crate::waf::WafKind::Utm9 => "UTM status/version, ha.mode",
        crate::waf::WafKind::Sfos => "SFOS Login (API version)",
    }
}

/// The call log's prefix for a node's calls.
fn appliance(client: &WafDriver) -> &'static str {
    match client.kind() {
        crate::waf::WafKind::Utm9 => "UTM",
        crate::waf::WafKind::Sfos => "SFOS",
    }
}

async fn configure_node(
    ctx: &Ctx,
    node: String,
    client: WafDriver,
    internal: &LbTarget,
    external: &LbTarget,
) -> Result<(), StepError> {
    let started = Instant::now();
    let result = client.configure(internal, external).await;
    let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let applied = match result {
        Ok(applied) => applied,
        Err(e) => {
            ctx.log_call(&format!("{} configure", appliance(&client)), &node, &e.to_string(), elapsed).await?;
            return Err(StepError::Waf { node, message: e.to_string() });
        }
    };
    for object in &applied.objects {
        let outcome =
            serde_json::to_value(object.change).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let call = format!("{} {}", appliance(&client), object.object_type);
        ctx.log_call(&call, &format!("{node}: {}", object.name), &outcome, 0).await?;
    }
    ctx.progress(format!(
        "{node}: {}",
        match (applied.enabled, client.kind()) {
            (true, crate::waf::WafKind::Utm9) => "virtual webserver configured and enabled",
            (true, crate::waf::WafKind::Sfos) => "web server protection rule configured and enabled",
            (false, _) => "configured, but the node reports it disabled",
        }
    ))
    .await
}

async fn client_for(ctx: &Ctx, node: &str, instance_id: &str) -> Result<WafDriver, StepError> {
    crate::node::waf_client(&ctx.app, ctx.stack_id, &ctx.def, node, instance_id).await.map_err(|e| match e {
        crate::node::NodeError::NoAccess { message, .. } => StepError::Waf { node: node.to_owned(), message },
        other => StepError::Waf { node: node.to_owned(), message: other.to_string() },
    })
}
