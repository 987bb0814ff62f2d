//! Application and network load balancers through `aws-sdk-elasticloadbalancingv2`
//! (API 2015-12-01), behind the same port calls as classic ELB: one
//! load balancer is a load balancer, a target group of instances that holds
//! the health check (named like the load balancer), and a listener on the
//! port forwarding to it. Target health is answered in the port's terms
//! (`healthy` is in service; every other state is out of service, with
//! ELBv2's reason code and description).

use aws_sdk_elasticloadbalancingv2 as elbv2;
use elbv2::types::{
    Action, ActionTypeEnum, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, ProtocolEnum, TargetDescription,
    TargetHealthStateEnum, TargetTypeEnum,
};

use super::*;
use crate::cloud::{HealthTarget, LbKind, Listener};

/// The v2 operations this adapter calls (for IAM advice in errors).
pub(super) const ELBV2_OPERATIONS: &[&str] = &[
    "CreateTargetGroup",
    "CreateListener",
    "DescribeListeners",
    "DescribeTargetGroups",
    "DescribeTargetHealth",
    "ModifyTargetGroup",
    "RegisterTargets",
    "DeregisterTargets",
    "DeleteTargetGroup",
    "AddTags",
];

fn targets(ids: &[String]) -> Vec<TargetDescription> {
    ids.iter().map(|id| TargetDescription::builder().id(id).build()).collect()
}

fn v2_tags(tags: &Tags) -> Vec<elbv2::types::Tag> {
    tags.iter().map(|(k, v)| elbv2::types::Tag::builder().key(k).value(v).build()).collect()
}

/// A target's state in the port's terms, worded as ELBv2 words it.
fn to_health(d: &elbv2::types::TargetHealthDescription) -> Option<InstanceHealth> {
    let id = d.target()?.id()?.to_owned();
    let health = d.target_health();
    let state = match health.and_then(|h| h.state()) {
        Some(TargetHealthStateEnum::Healthy) => HealthState::InService,
        Some(TargetHealthStateEnum::Unavailable) | None => HealthState::Unknown,
        Some(_) => HealthState::OutOfService,
    };
    let (reason_code, description) = match (state, health) {
        (HealthState::InService, _) | (_, None) => (String::new(), String::new()),
        (_, Some(h)) => (
            h.reason().map(|r| r.as_str().to_owned()).unwrap_or_default(),
            h.description()
                .map(str::to_owned)
                .unwrap_or_else(|| h.state().map(|s| s.as_str().to_owned()).unwrap_or_default()),
        ),
    };
    Some(InstanceHealth { instance_id: id, state, reason_code, description })
}

impl AwsCloud {
    pub(super) async fn elbv2(&self) -> &elbv2::Client {
        &self.clients().await.elbv2
    }

    /// Which API a load balancer lives on, as the stack definitions that
    /// named it say (`Providers::cloud_for` tells the adapter); a name no
    /// definition gave is classic, the tutorial's.
    pub fn learn_kinds(&self, kinds: impl IntoIterator<Item = (String, LbKind)>) {
        let mut map = self.lb_kinds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.extend(kinds);
    }

    pub(super) fn kind_of(&self, lb_name: &str) -> LbKind {
        let map = self.lb_kinds.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(lb_name).copied().unwrap_or_default()
    }

    /// The target group behind a load balancer: the one named like it (what
    /// hawaf creates), else the one its listener forwards to (a load balancer
    /// built by hand and adopted names its group as it likes).
    async fn target_group_arn(&self, lb_name: &str) -> CloudResult<String> {
        let client = self.elbv2().await;
        match client.describe_target_groups().names(lb_name).send().await {
            Ok(out) => {
                if let Some(arn) = out.target_groups().first().and_then(|g| g.target_group_arn()) {
                    return Ok(arn.to_owned());
                }
            }
            Err(e) => {
                let e = self.error("DescribeTargetGroups", e);
                if e.code != "TargetGroupNotFound" {
                    return Err(e);
                }
            }
        }
        let lb_arn = self.v2_arn(lb_name).await?.ok_or_else(|| {
            CloudError::new("LoadBalancerNotFound", format!("Load balancers '[{lb_name}]' not found"))
        })?;
        let groups = client
            .describe_target_groups()
            .load_balancer_arn(&lb_arn)
            .send()
            .await
            .map_err(|e| self.error("DescribeTargetGroups", e))?;
        groups
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .map(str::to_owned)
            .ok_or_else(|| CloudError::new("TargetGroupNotFound", format!("{lb_name} forwards to no target group")))
    }

    pub(super) async fn v2_create(&self, request: CreateLoadBalancerRequest) -> CloudResult<LoadBalancer> {
        let listener = request
            .listeners
            .first()
            .ok_or_else(|| CloudError::new("ValidationError", "a load balancer needs a listener"))?
            .clone();
        let subnet = request
            .subnets
            .first()
            .ok_or_else(|| CloudError::new("ValidationError", "a load balancer needs subnets"))?
            .clone();
        let vpc_id = self
            .describe_subnets(&Filter::ids([subnet.clone()]))
            .await?
            .into_iter()
            .next()
            .map(|s| s.vpc_id)
            .ok_or_else(|| {
                CloudError::new("SubnetNotFound", format!("One or more subnets were not found: {subnet}"))
            })?;
        let protocol = ProtocolEnum::from(listener.instance_protocol.as_str());
        let client = self.elbv2().await;
        // Same name and settings: AWS answers the existing group, so a step
        // run again creates nothing.
        let group = client
            .create_target_group()
            .name(&request.name)
            .protocol(protocol.clone())
            .port(i32::from(listener.instance_port))
            .vpc_id(&vpc_id)
            .target_type(TargetTypeEnum::Instance)
            .set_tags((!request.tags.is_empty()).then(|| v2_tags(&request.tags)));
        let group = self.eventually("CreateTargetGroup", || group.clone().send()).await?;
        let group_arn = group
            .target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .map(str::to_owned)
            .ok_or_else(|| missing("CreateTargetGroup", "the target group"))?;
        let lb = client
            .create_load_balancer()
            .name(&request.name)
            .r#type(match request.kind {
                LbKind::Network => LoadBalancerTypeEnum::Network,
                _ => LoadBalancerTypeEnum::Application,
            })
            .scheme(match request.scheme {
                Scheme::Internal => LoadBalancerSchemeEnum::Internal,
                Scheme::InternetFacing => LoadBalancerSchemeEnum::InternetFacing,
            })
            .set_subnets(Some(request.subnets.clone()))
            .set_security_groups((!request.security_groups.is_empty()).then(|| request.security_groups.clone()))
            .set_tags((!request.tags.is_empty()).then(|| v2_tags(&request.tags)));
        let lb = match self.eventually("CreateLoadBalancer", || lb.clone().send()).await {
            Ok(lb) => lb,
            Err(e) => {
                // No load balancer uses the group this call made: do not leave it behind
                // (a group another load balancer uses is refused as in use, and stays).
                if let Err(del) = client.delete_target_group().target_group_arn(&group_arn).send().await {
                    tracing::debug!(group = %group_arn, error = %self.error("DeleteTargetGroup", del), "target group kept");
                }
                return Err(e);
            }
        };
        let lb_arn = lb
            .load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .map(str::to_owned)
            .ok_or_else(|| missing("CreateLoadBalancer", "the load balancer"))?;
        let existing = client
            .describe_listeners()
            .load_balancer_arn(&lb_arn)
            .send()
            .await
            .map_err(|e| self.error("DescribeListeners", e))?;
        let port = i32::from(listener.load_balancer_port);
        if !existing.listeners().iter().any(|l| l.port() == Some(port)) {
            let forward = Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(&group_arn).build();
            client
                .create_listener()
                .load_balancer_arn(&lb_arn)
                .protocol(ProtocolEnum::from(listener.protocol.as_str()))
                .port(port)
                .default_actions(forward)
                .send()
                .await
                .map_err(|e| self.error("CreateListener", e))?;
        }
        self.v2_describe(std::slice::from_ref(&request.name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| missing("DescribeLoadBalancers", "the load balancer just created"))
    }

    pub(super) async fn v2_configure_health_check(
        &self,
        lb_name: &str,
        check: HealthCheck,
    ) -> CloudResult<HealthCheck> {
        check.validate()?;
        let target = HealthTarget::parse(&check.target)?;
        let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let arn = self.target_group_arn(lb_name).await?;
        let protocol = match target.protocol.as_str() {
            "SSL" | "TCP" => ProtocolEnum::Tcp,
            other => ProtocolEnum::from(other),
        };
        let request = (self.elbv2().await)
            .modify_target_group()
            .target_group_arn(&arn)
            .health_check_protocol(protocol)
            .health_check_port(target.port.to_string())
            .set_health_check_path(target.path.clone())
            .health_check_interval_seconds(as_i32(check.interval))
            .health_check_timeout_seconds(as_i32(check.timeout))
            .healthy_threshold_count(as_i32(check.healthy_threshold))
            .unhealthy_threshold_count(as_i32(check.unhealthy_threshold));
        self.eventually("ModifyTargetGroup", || request.clone().send()).await?;
        Ok(check)
    }

    pub(super) async fn v2_register(&self, lb_name: &str, ids: &[String]) -> CloudResult<Vec<String>> {
        let arn = self.target_group_arn(lb_name).await?;
        let request = (self.elbv2().await).register_targets().target_group_arn(&arn).set_targets(Some(targets(ids)));
        self.eventually("RegisterTargets", || request.clone().send()).await?;
        Ok(self.v2_health(lb_name, &[]).await?.into_iter().map(|h| h.instance_id).collect())
    }

    pub(super) async fn v2_deregister(&self, lb_name: &str, ids: &[String]) -> CloudResult<Vec<String>> {
        let arn = self.target_group_arn(lb_name).await?;
        (self.elbv2().await)
            .deregister_targets()
            .target_group_arn(&arn)
            .set_targets(Some(targets(ids)))
            .send()
            .await
            .map_err(|e| self.error("DeregisterTargets", e))?;
        Ok(self.v2_health(lb_name, &[]).await?.into_iter().map(|h| h.instance_id).collect())
    }

    pub(super) async fn v2_health(&self, lb_name: &str, ids: &[String]) -> CloudResult<Vec<InstanceHealth>> {
        let arn = self.target_group_arn(lb_name).await?;
        let out = (self.elbv2().await)
            .describe_target_health()
            .target_group_arn(&arn)
            .set_targets((!ids.is_empty()).then(|| targets(ids)))
            .send()
            .await
            .map_err(|e| self.error("DescribeTargetHealth", e))?;
        Ok(out.target_health_descriptions().iter().filter_map(to_health).collect())
    }

    /// The load balancers, each with its target group's health check and
    /// targets and its listeners, in the port's shape.
    pub(super) async fn v2_describe(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        let client = self.elbv2().await;
        let found: Vec<_> = client
            .describe_load_balancers()
            .set_names((!names.is_empty()).then(|| names.to_vec()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeLoadBalancers", e))?;
        let mut out = Vec::new();
        for lb in found {
            let (Some(arn), Some(name)) = (lb.load_balancer_arn(), lb.load_balancer_name()) else { continue };
            let kind = match lb.r#type() {
                Some(LoadBalancerTypeEnum::Network) => LbKind::Network,
                Some(LoadBalancerTypeEnum::Application) => LbKind::Application,
                // A gateway load balancer is nothing this pattern builds.
                _ => continue,
            };
            let groups = client
                .describe_target_groups()
                .load_balancer_arn(arn)
                .send()
                .await
                .map_err(|e| self.error("DescribeTargetGroups", e))?;
            let group = groups
                .target_groups()
                .iter()
                .find(|g| g.target_group_name() == Some(name))
                .or_else(|| groups.target_groups().first());
            let listeners = client
                .describe_listeners()
                .load_balancer_arn(arn)
                .send()
                .await
                .map_err(|e| self.error("DescribeListeners", e))?;
            let (group_protocol, group_port) = group
                .map(|g| (g.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(), g.port().unwrap_or(0)))
                .unwrap_or_default();
            let port16 = |p: i32| u16::try_from(p).unwrap_or(0);
            let health_check = match group {
                Some(g) => {
                    let port = match g.health_check_port() {
                        Some("traffic-port") | None => group_port.to_string(),
                        Some(p) => p.to_owned(),
                    };
                    let protocol = g.health_check_protocol().map(|p| p.as_str().to_owned()).unwrap_or_default();
                    let path = if protocol.starts_with("HTTP") { g.health_check_path().unwrap_or("/") } else { "" };
                    let n = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
                    HealthCheck {
                        target: format!("{protocol}:{port}{path}"),
                        interval: n(g.health_check_interval_seconds()),
                        timeout: n(g.health_check_timeout_seconds()),
                        healthy_threshold: n(g.healthy_threshold_count()),
                        unhealthy_threshold: n(g.unhealthy_threshold_count()),
                    }
                }
                None => HealthCheck::aws_default(80),
            };
            let instances = match group.and_then(|g| g.target_group_arn()) {
                Some(tg) => client
                    .describe_target_health()
                    .target_group_arn(tg)
                    .send()
                    .await
                    .map_err(|e| self.error("DescribeTargetHealth", e))?
                    .target_health_descriptions()
                    .iter()
                    .filter_map(|d| d.target().and_then(|t| t.id()).map(str::to_owned))
                    .collect(),
                None => Vec::new(),
            };
            let tags = client
                .describe_tags()
                .resource_arns(arn)
                .send()
                .await
                .map_err(|e| self.error("DescribeTags", e))?
                .tag_descriptions()
                .iter()
                .flat_map(|d| d.tags().iter())
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or_default().to_owned())))
                .collect();
            out.push(LoadBalancer {
                name: name.to_owned(),
                kind,
                dns_name: owned(lb.dns_name()),
                scheme: if lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal) {
                    Scheme::Internal
                } else {
                    Scheme::InternetFacing
                },
                vpc_id: owned(lb.vpc_id()),
                subnets: lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_owned)).collect(),
                availability_zones: lb
                    .availability_zones()
                    .iter()
                    .filter_map(|z| z.zone_name().map(str::to_owned))
                    .collect(),
                security_groups: lb.security_groups().to_vec(),
                listeners: listeners
                    .listeners()
                    .iter()
                    .map(|l| Listener {
                        protocol: l.protocol().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                        load_balancer_port: port16(l.port().unwrap_or(0)),
                        instance_protocol: group_protocol.clone(),
                        instance_port: port16(group_port),
                    })
                    .collect(),
                health_check,
                instances,
                tags,
            });
        }
        Ok(out)
    }

    /// Deletes the load balancer (its listeners go with it), then its target
    /// group, which AWS holds "in use" for a moment after.
    pub(super) async fn v2_delete(&self, lb_name: &str) -> CloudResult<()> {
        let client = self.elbv2().await;
        if let Some(arn) = self.v2_arn(lb_name).await? {
            client
                .delete_load_balancer()
                .load_balancer_arn(&arn)
                .send()
                .await
                .map_err(|e| self.error("DeleteLoadBalancer", e))?;
        }
        let group = match self.target_group_arn(lb_name).await {
            Ok(arn) => arn,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e),
        };
        let deadline = tokio::time::Instant::now() + self.tuning.consistency_wait;
        loop {
            match client.delete_target_group().target_group_arn(&group).send().await {
                Ok(_) => return Ok(()),
                Err(e) => {
                    let e = self.error("DeleteTargetGroup", e);
                    if e.code == "ResourceInUse" && tokio::time::Instant::now() < deadline {
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    async fn v2_arn(&self, lb_name: &str) -> CloudResult<Option<String>> {
        match (self.elbv2().await).describe_load_balancers().names(lb_name).send().await {
            Ok(out) => Ok(out.load_balancers().first().and_then(|l| l.load_balancer_arn()).map(str::to_owned)),
            Err(e) => {
                let e = self.error("DescribeLoadBalancers", e);
                if e.code == "LoadBalancerNotFound" { Ok(None) } else { Err(e) }
            }
        }
    }

    pub(super) async fn v2_add_tags(&self, lb_name: &str, tags: &Tags) -> CloudResult<()> {
        let arn = self
            .v2_arn(lb_name)
            .await?
            .ok_or_else(|| CloudError::new("LoadBalancerNotFound", format!("Load balancer '{lb_name}' not found")))?;
        (self.elbv2().await)
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(v2_tags(tags)))
            .send()
            .await
            .map_err(|e| self.error("AddTags", e))?;
        Ok(())
    }
}
