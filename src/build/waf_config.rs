//! Step 8: configure both WAF nodes through the UTM 9 REST API (the `waf`
//! client, the only WAF driver), then wait for the external LB to see them.

use std::time::Instant;

use futures::future::try_join_all;

use super::StepError;
use super::apply::{lb_dns, wait_in_service};
use super::ctx::Ctx;
use crate::events::Event;
use crate::secret::Secret;
use crate::stack::{InstanceRole, LbRole, Provider};
use crate::waf::{Fingerprint, LbTarget, Pin, UtmClient};

pub async fn configure(ctx: &Ctx) -> Result<(), StepError> {
    let d = &ctx.def;
    let internal = LbTarget::new(d.load_balancer(LbRole::Internal).as_str(), lb_dns(ctx, LbRole::Internal).await?);
    let external = LbTarget::new(d.load_balancer(LbRole::External).as_str(), lb_dns(ctx, LbRole::External).await?);
    try_join_all([InstanceRole::WafLeft, InstanceRole::WafRight].map(|role| node(ctx, role, &internal, &external)))
        .await?;
    wait_in_service(ctx, LbRole::External).await
}

async fn node(ctx: &Ctx, role: InstanceRole, internal: &LbTarget, external: &LbTarget) -> Result<(), StepError> {
    let node = ctx.def.instance(role).name().to_string();
    let instance_id = ctx.id_of(&format!("instance/{}", role.as_str())).await?;
    let client = client_for(ctx, &node, &instance_id).await?;
    let started = Instant::now();
    let result = client.configure(internal, external).await;
    let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let applied = match result {
        Ok(applied) => applied,
        Err(e) => {
            log(ctx, "UTM configure", &node, &e.to_string(), elapsed).await?;
            return Err(StepError::Waf { node, message: e.to_string() });
        }
    };
    for object in &applied.objects {
        let outcome =
            serde_json::to_value(object.change).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        log(ctx, &format!("UTM {}", object.object_type), &format!("{node}: {}", object.name), &outcome, 0).await?;
    }
    ctx.progress(format!(
        "{node}: {}",
        if applied.enabled {
            "virtual webserver configured and enabled"
        } else {
            "configured, but the node reports it disabled"
        }
    ))
    .await
}

/// A client for a node's REST API: from what the database holds (token
/// sealed, certificate pinned), or, on the lab, from the lab itself, which
/// knows its nodes' tokens; on AWS the operator supplies them.
pub async fn client_for(ctx: &Ctx, node: &str, instance_id: &str) -> Result<UtmClient, StepError> {
    let waf_err = |message: String| StepError::Waf { node: node.to_owned(), message };
    let app = &ctx.app;
    if let Some(row) = app.store.waf_node(ctx.stack_id, node).await? {
        let token =
            app.secrets.open(&row.token_enc).map_err(|e| waf_err(format!("cannot read its stored API token: {e}")))?;
        let pin: Fingerprint =
            row.fingerprint.parse().map_err(|e| waf_err(format!("stored fingerprint is unreadable: {e}")))?;
        return UtmClient::new(&row.api_url, token, Pin(pin)).map_err(|e| waf_err(e.to_string()));
    }
    if ctx.def.provider() != Provider::Lab {
        return Err(waf_err(
            "waiting for its REST API token: open its console at https://EIP:4444/, do the first-time setup \
             (hostname = its private IP, admin password, time zone), enable the REST API, create a token, \
             and enter it here"
                .into(),
        ));
    }
    let admin = app
        .providers
        .lab()
        .waf_admin(instance_id)
        .ok_or_else(|| waf_err(format!("the lab has no WAF node {instance_id}")))?;
    let base = admin.api_url.trim_end_matches('/').trim_end_matches("/api").to_owned();
    let fingerprint = Fingerprint::of_der(&admin.certificate_der);
    app.store.upsert_waf_node(ctx.stack_id, node, &base, &app.secrets.seal(&admin.token), &fingerprint.hex()).await?;
    UtmClient::new(&base, Secret::new(admin.token), Pin(fingerprint)).map_err(|e| waf_err(e.to_string()))
}

async fn log(ctx: &Ctx, operation: &str, target: &str, outcome: &str, duration_ms: i64) -> Result<(), StepError> {
    ctx.app.store.record_call(ctx.build_id, ctx.step, operation, target, outcome, duration_ms).await?;
    ctx.app.bus.publish(Event::ApiCall {
        stack: ctx.stack.to_string(),
        build_id: ctx.build_id,
        step: ctx.step,
        operation: operation.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        duration_ms,
    });
    Ok(())
}
