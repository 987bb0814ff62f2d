//! What a drill checks before it starts, beyond the refusals of `prepare`:
//! both tiers fully in service, and two independent WAF nodes.

use super::runner::DrillError;
use crate::SharedApp;
use crate::cloud::{Cloud, HealthState};
use crate::node;
use crate::stack::{self, InstanceRole};

/// Refuses (with the reason) unless both tiers have every instance in service.
pub(super) async fn steady_state(
    cloud: &dyn Cloud,
    stack: &str,
    lbs: [&str; 2],
    names: &[(String, String)],
) -> Result<(), DrillError> {
    let unhealthy = |reason: String| DrillError::Unhealthy { stack: stack.to_owned(), reason };
    for lb in lbs {
        let health = cloud.describe_instance_health(lb, &[]).await.map_err(|e| unhealthy(format!("{lb}: {e}")))?;
        let in_service = health.iter().filter(|h| h.state == HealthState::InService).count();
        if health.len() < 2 || in_service < health.len() {
            let sick: Vec<String> = health
                .iter()
                .filter(|h| h.state != HealthState::InService)
                .map(|h| {
                    let name =
                        names.iter().find(|(id, _)| *id == h.instance_id).map_or(h.instance_id.as_str(), |(_, n)| n);
                    format!("{name} {} ({})", h.state.as_str(), h.description)
                })
                .collect();
            let detail = if sick.is_empty() { String::new() } else { format!(": {}", sick.join("; ")) };
            return Err(unhealthy(format!("{lb} has {in_service} of {} instances in service{detail}", health.len())));
        }
    }
    Ok(())
}

/// Refuses a pair of WAF nodes set up as a UTM HA cluster: a drill would
/// take "one node" down and find the cluster move its traffic, proving
/// nothing about this pattern. Nodes hawaf has no API access to are not read
/// (D1 and D2 need none); any other failure to read is left to the drill.
pub(super) async fn standalone_pair(
    app: &SharedApp,
    stack_id: i64,
    def: &stack::StackDefinition,
    ids: &[(InstanceRole, String, String)],
) -> Result<(), DrillError> {
    for (role, instance_id, name) in ids.iter().filter(|(r, _, _)| r.is_waf()) {
        let client = match node::waf_client(app, stack_id, def, name, instance_id).await {
            Ok(c) => c.last(),
            Err(e) => {
                tracing::debug!(node = %name, role = role.as_str(), error = %e, "no API access: HA not read before the drill");
                continue;
            }
        };
        match client.require_standalone(name).await {
            Err(e @ crate::waf::WafError::HaCluster { .. }) => return Err(DrillError::HaCluster(e.to_string())),
            Err(e) => tracing::warn!(node = %name, error = %e, "cannot read the node's HA setting before a drill"),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// A drill setting from the request, or its default, within its range.
pub(super) fn setting(
    field: &'static str,
    value: Option<u64>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, DrillError> {
    let v = value.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(DrillError::InvalidSetting {
            field,
            message: format!("must be between {} and {}", range.start(), range.end()),
        })
    }
}
