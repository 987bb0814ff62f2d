//! Elastic Load Balancing semantics of the lab: classic ELB (API
//! 2012-06-01) and, for application and network load balancers, ELBv2's
//! (API 2015-12-01) rules and target-health reasons, behind the one `Cloud`
//! port: validation, error codes and what the health answer reports.

use std::collections::BTreeMap;

use super::World;
use super::state::{DESC_REGISTERING, DESC_UNHEALTHY, HealthRec, LbRec};
use crate::cloud::{
    CloudError, CloudResult, CreateLoadBalancerRequest, ErrorCode, HealthCheck, HealthState, InstanceHealth,
    InstanceState, LbKind, LoadBalancer, Scheme,
};

fn e(code: ErrorCode, msg: impl Into<String>) -> CloudError {
    CloudError::of(code, msg)
}

fn lb_not_found(name: &str) -> CloudError {
    e(ErrorCode::LoadBalancerNotFound, format!("There is no ACTIVE Load Balancer named '{name}'"))
}

fn valid_lb_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The listener protocols each kind accepts.
fn listener_protocols(kind: LbKind) -> &'static [&'static str] {
    match kind {
        LbKind::Classic => &["HTTP", "HTTPS", "TCP", "SSL"],
        LbKind::Application => &["HTTP", "HTTPS"],
        LbKind::Network => &["TCP", "TLS", "UDP", "TCP_UDP"],
    }
}

/// A target group's health check when none was set: ELBv2's defaults
/// (HTTP on `/` for an application load balancer, TCP for a network one).
fn v2_default_check(kind: LbKind, port: u16) -> HealthCheck {
    match kind {
        LbKind::Network => HealthCheck {
            target: format!("TCP:{port}"),
            interval: 30,
            timeout: 10,
            healthy_threshold: 5,
            unhealthy_threshold: 2,
        },
        _ => HealthCheck {
            target: format!("HTTP:{port}/"),
            interval: 30,
            timeout: 5,
            healthy_threshold: 5,
            unhealthy_threshold: 2,
        },
    }
}

/// A target's health as ELBv2 words it (DescribeTargetHealth's reason and
/// description), from what the shared health checker saw.
fn v2_health(classic: InstanceHealth, last_failure: Option<&str>) -> InstanceHealth {
    let (code, description) = match (classic.state, classic.description.as_str()) {
        (HealthState::InService, _) => (String::new(), String::new()),
        (_, DESC_REGISTERING) => ("Elb.InitialHealthChecking".into(), "Initial health checks in progress".into()),
        (_, d) if d.starts_with("Instance is in ") => {
            ("Target.InvalidState".into(), d.replacen("Instance is in", "Target is in the", 1))
        }
        (_, DESC_UNHEALTHY) => match last_failure {
            Some(f) if f.contains("codes") => ("Target.ResponseCodeMismatch".into(), f.to_owned()),
            Some(f) if f.contains("timed out") => ("Target.Timeout".into(), "Request timed out".into()),
            _ => ("Target.FailedHealthChecks".into(), "Health checks failed".into()),
        },
        (_, d) => ("Elb.InternalError".into(), d.to_owned()),
    };
    InstanceHealth { reason_code: code, description, ..classic }
}

impl World {
    pub(crate) fn create_load_balancer(
        &mut self,
        req: CreateLoadBalancerRequest,
        region: &str,
    ) -> CloudResult<LoadBalancer> {
        if req.kind.is_v2() && req.name.starts_with("internal-") {
            return Err(e(
                ErrorCode::ValidationError,
                format!("Load balancer name '{}' cannot begin with 'internal-'", req.name),
            ));
        }
        if !valid_lb_name(&req.name) {
            return Err(e(
                ErrorCode::ValidationError,
                format!(
                    "LoadBalancerName '{}' must have 1-32 alphanumeric characters or hyphens, and must not begin or end with a hyphen",
                    req.name
                ),
            ));
        }
        if req.listeners.is_empty() {
            return Err(e(
                ErrorCode::ValidationError,
                "1 validation error detected: Value null at 'listeners' failed to satisfy constraint: Member must not be null",
            ));
        }
        for l in &req.listeners {
            let ok_proto = |p: &str| listener_protocols(req.kind).contains(&p.to_ascii_uppercase().as_str());
            if !ok_proto(&l.protocol) || !ok_proto(&l.instance_protocol) {
                return Err(e(ErrorCode::ValidationError, format!("Invalid listener protocol: {}", l.protocol)));
            }
            if l.load_balancer_port == 0 || l.instance_port == 0 {
                return Err(e(ErrorCode::ValidationError, "Listener ports must be between 1 and 65535"));
            }
        }
        if req.subnets.is_empty() {
            return Err(e(ErrorCode::ValidationError, "Either AvailabilityZones or SubnetIds must be specified"));
        }
        let mut vpc_id = None;
        let mut azs = Vec::new();
        for s in &req.subnets {
            let subnet = self
                .snap
                .subnets
                .get(s)
                .ok_or_else(|| e(ErrorCode::SubnetNotFound, format!("One or more subnets were not found: {s}")))?;
            if vpc_id.get_or_insert_with(|| subnet.vpc_id.clone()) != &subnet.vpc_id {
                return Err(e(ErrorCode::InvalidConfigurationRequest, "All subnets must belong to the same VPC"));
            }
            if azs.contains(&subnet.availability_zone) {
                return Err(e(
                    ErrorCode::InvalidConfigurationRequest,
                    "Only one subnet per Availability Zone is allowed",
                ));
            }
            azs.push(subnet.availability_zone.clone());
        }
        if req.kind == LbKind::Application && azs.len() < 2 {
            return Err(e(
                ErrorCode::ValidationError,
                "At least two subnets in two different Availability Zones must be specified",
            ));
        }
        // Proven by the non-empty check above: every subnet set vpc_id.
        let vpc_id = vpc_id.unwrap_or_default();
        // A network load balancer may have no security group at all.
        let groups = if req.security_groups.is_empty() && req.kind == LbKind::Network {
            Vec::new()
        } else if req.security_groups.is_empty() {
            let vpc = self
                .snap
                .vpcs
                .get(&vpc_id)
                .ok_or_else(|| e(ErrorCode::InvalidConfigurationRequest, "VPC not found"))?;
            vec![vpc.default_security_group.clone()]
        } else {
            req.security_groups.clone()
        };
        for g in &groups {
            if self.snap.security_groups.get(g).map(|x| &x.vpc_id) != Some(&vpc_id) {
                return Err(e(
                    ErrorCode::InvalidSecurityGroup,
                    format!("One or more security groups are invalid: {g}"),
                ));
            }
        }
        if let Some(existing) = self.snap.load_balancers.get(&req.name) {
            let l = &existing.lb;
            if l.scheme == req.scheme
                && l.kind == req.kind
                && l.subnets == req.subnets
                && l.security_groups == groups
                && l.listeners == req.listeners
            {
                return Ok(l.clone());
            }
            return Err(e(
                ErrorCode::DuplicateLoadBalancerName,
                format!(
                    "Load Balancer named '{}' already exists and it is configured with different parameters.",
                    req.name
                ),
            ));
        }
        // Indexing is safe: subnets and listeners were checked non-empty.
        let private_ip = self.next_free_ip(&req.subnets[0])?;
        let number = {
            use rand::Rng;
            rand::rng().random_range(1_000_000_000u64..10_000_000_000)
        };
        let prefix = if req.scheme == Scheme::Internal { "internal-" } else { "" };
        let dns_name = format!("{prefix}{}-{number}.{region}.elb.localhost", req.name);
        let instance_port = req.listeners[0].instance_port;
        let lb = LoadBalancer {
            name: req.name.clone(),
            kind: req.kind,
            dns_name,
            scheme: req.scheme,
            vpc_id,
            subnets: req.subnets,
            availability_zones: azs,
            security_groups: groups,
            listeners: req.listeners,
            health_check: match req.kind {
                LbKind::Classic => HealthCheck::aws_default(instance_port),
                kind => v2_default_check(kind, instance_port),
            },
            instances: Vec::new(),
            tags: req.tags,
        };
        self.snap.load_balancers.insert(
            req.name,
            LbRec { lb: lb.clone(), private_ip, ports: BTreeMap::new(), health: BTreeMap::new(), error: None },
        );
        Ok(lb)
    }

    fn lb_mut(&mut self, name: &str) -> CloudResult<&mut LbRec> {
        self.snap.load_balancers.get_mut(name).ok_or_else(|| lb_not_found(name))
    }

    pub(crate) fn configure_health_check(&mut self, name: &str, hc: HealthCheck) -> CloudResult<HealthCheck> {
        let lb = self.lb_mut(name)?;
        hc.validate()?;
        lb.lb.health_check = hc.clone();
        self.kick_checker(name);
        Ok(hc)
    }

    pub(crate) fn register_instances(&mut self, name: &str, ids: &[String]) -> CloudResult<Vec<String>> {
        let vpc_id = self.lb_mut(name)?.lb.vpc_id.clone();
        for id in ids {
            match self.snap.instances.get(id) {
                Some(r) if r.instance.state == InstanceState::Terminated => {
                    return Err(e(ErrorCode::InvalidInstance, format!("The following instance ids are invalid: {id}")));
                }
                Some(r) if r.instance.vpc_id != vpc_id => {
                    return Err(e(
                        ErrorCode::InvalidInstance,
                        format!("EC2 instance {id} is not in the same VPC as ELB."),
                    ));
                }
                Some(_) => {}
                None => {
                    return Err(e(ErrorCode::InvalidInstance, format!("The following instance ids are invalid: {id}")));
                }
            }
        }
        let lb = self.lb_mut(name)?;
        for id in ids {
            if !lb.lb.instances.contains(id) {
                lb.lb.instances.push(id.clone());
                lb.health.insert(id.clone(), HealthRec::registering());
            }
        }
        let registered = lb.lb.instances.clone();
        self.kick_checker(name);
        Ok(registered)
    }

    pub(crate) fn deregister_instances(&mut self, name: &str, ids: &[String]) -> CloudResult<Vec<String>> {
        let lb = self.lb_mut(name)?;
        if let Some(bad) = ids.iter().find(|i| !lb.lb.instances.contains(i)) {
            return Err(e(
                ErrorCode::InvalidInstance,
                format!("The requested instance {bad} is not registered with the load balancer {name}"),
            ));
        }
        lb.lb.instances.retain(|i| !ids.contains(i));
        lb.health.retain(|i, _| !ids.contains(i));
        Ok(lb.lb.instances.clone())
    }

    pub(crate) fn describe_instance_health(&self, name: &str, ids: &[String]) -> CloudResult<Vec<InstanceHealth>> {
        let lb = self.snap.load_balancers.get(name).ok_or_else(|| lb_not_found(name))?;
        if let Some(bad) = ids.iter().find(|i| !lb.lb.instances.contains(i)) {
            return Err(e(ErrorCode::InvalidInstance, format!("Could not find EC2 instance {bad}.")));
        }
        let wanted: Vec<&String> = if ids.is_empty() { lb.lb.instances.iter().collect() } else { ids.iter().collect() };
        let view = |id: &String, h: InstanceHealth| match lb.lb.kind {
            LbKind::Classic => h,
            _ => v2_health(h, lb.health.get(id).and_then(|r| r.last_failure.as_deref())),
        };
        Ok(wanted
            .into_iter()
            .map(|id| {
                let h = {
                    let state = self.snap.instances.get(id).map(|r| r.instance.state);
                    match (state, lb.health.get(id)) {
                        (
                            Some(
                                s @ (InstanceState::Stopped
                                | InstanceState::Terminated
                                | InstanceState::Stopping
                                | InstanceState::ShuttingDown),
                            ),
                            _,
                        ) => InstanceHealth {
                            instance_id: id.clone(),
                            state: HealthState::OutOfService,
                            reason_code: "Instance".into(),
                            description: format!("Instance is in {} state.", s.as_str()),
                        },
                        (_, Some(h)) => InstanceHealth {
                            instance_id: id.clone(),
                            state: h.state,
                            reason_code: h.reason_code.clone(),
                            description: h.description.clone(),
                        },
                        (_, None) => InstanceHealth {
                            instance_id: id.clone(),
                            state: HealthState::Unknown,
                            reason_code: "ELB".into(),
                            description: "A transient error occurred. Please try again later.".into(),
                        },
                    }
                };
                view(id, h)
            })
            .collect())
    }

    pub(crate) fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        if let Some(bad) = names.iter().find(|n| !self.snap.load_balancers.contains_key(*n)) {
            return Err(e(ErrorCode::LoadBalancerNotFound, format!("Cannot find Load Balancer {bad}")));
        }
        Ok(self
            .snap
            .load_balancers
            .values()
            .filter(|l| names.is_empty() || names.contains(&l.lb.name))
            .map(|l| l.lb.clone())
            .collect())
    }

    pub(crate) fn delete_load_balancer(&mut self, name: &str) {
        self.snap.load_balancers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balancer_names_follow_aws_rules() {
        assert!(valid_lb_name("ha-lbext"));
        assert!(!valid_lb_name("-ha"));
        assert!(!valid_lb_name("ha_lb"));
        assert!(!valid_lb_name(&"a".repeat(33)));
    }
}
