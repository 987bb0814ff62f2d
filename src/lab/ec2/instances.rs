//! The lab's security groups and instances, with EC2's rules and errors.

use super::*;

impl World {
    pub(crate) fn create_security_group(
        &mut self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> CloudResult<SecurityGroup> {
        if !self.snap.vpcs.contains_key(vpc_id) {
            return Err(vpc_not_found(vpc_id));
        }
        if name.is_empty() || name.len() > 255 {
            return Err(e(ErrorCode::InvalidParameterValue, "Invalid value for groupName: must be 1-255 characters"));
        }
        if name.starts_with("sg-") {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!("Group names may not be in the format sg-*. ({name})"),
            ));
        }
        if description.is_empty() {
            return Err(e(
                ErrorCode::Other("MissingParameter".into()),
                "The request must contain the parameter groupDescription",
            ));
        }
        if self.snap.security_groups.values().any(|g| g.vpc_id == vpc_id && g.name == name) {
            return Err(e(
                ErrorCode::InvalidGroupDuplicate,
                format!("The security group '{name}' already exists for VPC '{vpc_id}'"),
            ));
        }
        let g = SecurityGroup {
            id: new_id("sg"),
            vpc_id: vpc_id.into(),
            name: name.into(),
            description: description.into(),
            ingress: Vec::new(),
            tags,
        };
        self.snap.security_groups.insert(g.id.clone(), g.clone());
        Ok(g)
    }

    fn check_rule(&self, group: &SecurityGroup, rule: &IngressRule) -> CloudResult<()> {
        if !["tcp", "udp", "icmp", "-1", "6", "17", "1"].contains(&rule.protocol.as_str()) {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!("Invalid value '{}' for IP protocol. Unknown protocol.", rule.protocol),
            ));
        }
        if rule.protocol != "-1" && rule.from_port > rule.to_port {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!(
                    "Invalid value '{}-{}' for portRange. Must be a valid port range.",
                    rule.from_port, rule.to_port
                ),
            ));
        }
        if let RuleSource::Group(src) = &rule.source {
            match self.snap.security_groups.get(src) {
                Some(g) if g.vpc_id == group.vpc_id => {}
                _ => return Err(group_not_found(src)),
            }
        }
        Ok(())
    }

    pub(crate) fn authorize_ingress(&mut self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        let g = self.snap.security_groups.get(group_id).ok_or_else(|| group_not_found(group_id))?;
        let mut seen: Vec<&IngressRule> = Vec::new();
        for rule in rules {
            self.check_rule(g, rule)?;
            if g.ingress.contains(rule) || seen.contains(&rule) {
                return Err(e(
                    ErrorCode::InvalidPermissionDuplicate,
                    format!("the specified rule {} already exists", describe_rule(rule)),
                ));
            }
            seen.push(rule);
        }
        if let Some(g) = self.snap.security_groups.get_mut(group_id) {
            g.ingress.extend(rules.iter().cloned());
        }
        Ok(())
    }

    pub(crate) fn revoke_ingress(&mut self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        let g = self.snap.security_groups.get_mut(group_id).ok_or_else(|| group_not_found(group_id))?;
        if rules.iter().any(|r| !g.ingress.contains(r)) {
            return Err(e(
                ErrorCode::InvalidPermissionNotFound,
                "The specified rule does not exist in this security group.",
            ));
        }
        g.ingress.retain(|r| !rules.contains(r));
        Ok(())
    }

    pub(crate) fn describe_security_groups(&self, f: &Filter) -> CloudResult<Vec<SecurityGroup>> {
        Ok(select(&self.snap.security_groups, f, |r| &r.tags, group_not_found)?.into_iter().cloned().collect())
    }

    pub(crate) fn delete_security_group(&mut self, group_id: &str) -> CloudResult<()> {
        let g = self.snap.security_groups.get(group_id).ok_or_else(|| group_not_found(group_id))?;
        if g.name == "default" {
            return Err(e(
                ErrorCode::CannotDelete,
                format!("the specified group: \"{group_id}\" name: \"default\" cannot be deleted by a user"),
            ));
        }
        let s = &self.snap;
        let in_use = s.instances.values().any(|r| {
            r.instance.state != InstanceState::Terminated
                && (r.instance.security_groups.iter().any(|x| x == group_id)
                    || r.isolated_from.iter().flatten().any(|x| x == group_id))
        }) || s.load_balancers.values().any(|l| l.lb.security_groups.iter().any(|x| x == group_id))
            || s.security_groups.values().any(|other| {
                other.id != group_id && other.ingress.iter().any(|r| r.source == RuleSource::Group(group_id.into()))
            });
        if in_use {
            return Err(e(ErrorCode::DependencyViolation, format!("resource {group_id} has a dependent object")));
        }
        self.snap.security_groups.remove(group_id);
        Ok(())
    }

    fn check_groups(&self, vpc_id: &str, groups: &[String]) -> CloudResult<()> {
        for g in groups {
            match self.snap.security_groups.get(g) {
                Some(x) if x.vpc_id == vpc_id => {}
                Some(_) => {
                    return Err(e(
                        ErrorCode::InvalidGroupNotFound,
                        format!("The security group '{g}' does not exist in VPC '{vpc_id}'"),
                    ));
                }
                None => return Err(group_not_found(g)),
            }
        }
        Ok(())
    }

    // -- Instances ---------------------------------------------------------

    pub(crate) fn run_instance(&mut self, req: RunInstanceRequest) -> CloudResult<Instance> {
        if let Some(token) = &req.client_token
            && let Some(rec) = self.snap.instances.values().find(|r| r.instance.client_token.as_ref() == Some(token))
        {
            let i = &rec.instance;
            let same = i.subnet_id == req.subnet_id
                && i.image_id == req.image_id
                && i.instance_type == req.instance_type
                && req.private_ip.is_none_or(|ip| ip == i.private_ip);
            if !same {
                return Err(e(
                    ErrorCode::IdempotentParameterMismatch,
                    format!(
                        "Arguments on this idempotent request are inconsistent with arguments used in previous request(s) with token '{token}'."
                    ),
                ));
            }
            return Ok(i.clone());
        }
        if !req.image_id.starts_with("ami-") || req.image_id.len() < 8 {
            return Err(e(
                ErrorCode::InvalidAmiIdMalformed,
                format!("Invalid id: \"{}\" (expecting \"ami-...\")", req.image_id),
            ));
        }
        if !valid_instance_type(&req.instance_type) {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                format!("Invalid value '{}' for InstanceType.", req.instance_type),
            ));
        }
        let subnet = self.snap.subnets.get(&req.subnet_id).ok_or_else(|| subnet_not_found(&req.subnet_id))?.clone();
        let groups = if req.security_groups.is_empty() {
            let vpc = self.snap.vpcs.get(&subnet.vpc_id).ok_or_else(|| vpc_not_found(&subnet.vpc_id))?;
            vec![vpc.default_security_group.clone()]
        } else {
            req.security_groups.clone()
        };
        self.check_groups(&subnet.vpc_id, &groups)?;
        let private_ip = match req.private_ip {
            Some(ip) => {
                if !subnet.cidr.contains(&ip) {
                    return Err(e(
                        ErrorCode::InvalidParameterValue,
                        format!("Address {ip} does not fall within the subnet's address range"),
                    ));
                }
                if net::is_reserved(subnet.cidr, ip) {
                    return Err(e(
                        ErrorCode::InvalidParameterValue,
                        format!("Address {ip} is in subnet's reserved address range"),
                    ));
                }
                if self.used_ips(&subnet).contains(&ip) {
                    return Err(e(ErrorCode::InvalidIpAddressInUse, format!("Address {ip} is in use.")));
                }
                ip
            }
            None => self.next_free_ip(&subnet.id)?,
        };
        let role = match req.tags.get(TAG_ROLE).map(String::as_str) {
            Some("web") => Role::Web,
            Some("waf") => Role::Waf,
            Some(other) => {
                return Err(e(
                    ErrorCode::InvalidParameterValue,
                    format!("Invalid value '{other}' for tag {TAG_ROLE}: expected web or waf"),
                ));
            }
            None if crate::waf::WafKind::of_lab_image(&req.image_id).is_some() => Role::Waf,
            None if req.user_data.as_deref().is_some_and(|u| u.contains("httpd")) => Role::Web,
            None => Role::None,
        };
        let instance = Instance {
            id: new_id("i"),
            subnet_id: subnet.id.clone(),
            vpc_id: subnet.vpc_id.clone(),
            image_id: req.image_id,
            instance_type: req.instance_type,
            private_ip,
            public_ip: None,
            state: InstanceState::Running,
            security_groups: groups,
            client_token: req.client_token,
            tags: req.tags,
        };
        let waf = match role {
            Role::Waf => {
                let slot = self.snap.vpcs.get(&subnet.vpc_id).map(|v| (v.slot, v.vpc.cidr));
                let loopback = slot.and_then(|(s, c)| net::loopback_for(s, c, private_ip));
                Some(new_waf_node(private_ip, loopback, &instance.image_id)?)
            }
            _ => None,
        };
        self.snap.instances.insert(
            instance.id.clone(),
            InstanceRec {
                instance: instance.clone(),
                user_data: req.user_data,
                role,
                httpd_stopped: false,
                isolated_from: None,
                ports: BTreeMap::new(),
                waf,
                error: None,
            },
        );
        Ok(instance)
    }

    pub(crate) fn describe_instances(&self, f: &Filter) -> CloudResult<Vec<Instance>> {
        if let Some(bad) = f.ids.iter().find(|i| !i.starts_with("i-")) {
            return Err(malformed_instance(bad));
        }
        Ok(select(&self.snap.instances, f, |r| &r.instance.tags, instance_not_found)?
            .into_iter()
            .map(|r| r.instance.clone())
            .collect())
    }

    fn live_instance(&mut self, id: &str) -> CloudResult<&mut InstanceRec> {
        if !id.starts_with("i-") {
            return Err(malformed_instance(id));
        }
        let rec = self.instance_mut(id)?;
        if rec.instance.state == InstanceState::Terminated {
            return Err(e(
                ErrorCode::IncorrectInstanceState,
                format!("The instance '{id}' is not in a state from which it can be stopped or started."),
            ));
        }
        Ok(rec)
    }

    pub(crate) fn stop_instance(&mut self, id: &str) -> CloudResult<()> {
        self.live_instance(id)?.instance.state = InstanceState::Stopped;
        Ok(())
    }

    pub(crate) fn start_instance(&mut self, id: &str) -> CloudResult<()> {
        self.live_instance(id)?.instance.state = InstanceState::Running;
        Ok(())
    }

    pub(crate) fn terminate_instance(&mut self, id: &str) -> CloudResult<()> {
        if !id.starts_with("i-") {
            return Err(malformed_instance(id));
        }
        let rec = self.instance_mut(id)?;
        if rec.instance.state == InstanceState::Terminated {
            return Ok(());
        }
        rec.instance.state = InstanceState::Terminated;
        rec.instance.public_ip = None;
        if let Some(before) = rec.isolated_from.take() {
            rec.instance.security_groups = before;
        }
        for a in self.snap.addresses.values_mut() {
            if a.instance_id.as_deref() == Some(id) {
                a.instance_id = None;
                a.association_id = None;
            }
        }
        Ok(())
    }

    pub(crate) fn modify_instance_security_groups(&mut self, id: &str, groups: &[String]) -> CloudResult<()> {
        let vpc_id = self.live_instance(id)?.instance.vpc_id.clone();
        if groups.is_empty() {
            return Err(e(
                ErrorCode::InvalidParameterValue,
                "Value () for parameter groupId is invalid. The value cannot be empty",
            ));
        }
        self.check_groups(&vpc_id, groups)?;
        self.live_instance(id)?.instance.security_groups = groups.to_vec();
        Ok(())
    }
}

fn malformed_instance(id: &str) -> CloudError {
    e(ErrorCode::InvalidInstanceIdMalformed, format!("Invalid id: \"{id}\""))
}

/// `family.size`, e.g. `t1.micro`, `m1.small`, `t3a.large`.
pub(super) fn valid_instance_type(t: &str) -> bool {
    match t.split_once('.') {
        Some((family, size)) => {
            !family.is_empty()
                && !size.is_empty()
                && family.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && size.chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    }
}

pub(crate) fn describe_rule(rule: &IngressRule) -> String {
    let peer = match &rule.source {
        RuleSource::Cidr(c) => c.to_string(),
        RuleSource::Group(g) => g.clone(),
    };
    format!(
        "\"peer: {peer}, {}, from port: {}, to port: {}, ALLOW\"",
        rule.protocol.to_uppercase(),
        rule.from_port,
        rule.to_port
    )
}

/// A UTM node's identity: REST token and self-signed certificate.
fn new_waf_node(private_ip: Ipv4Addr, loopback: Option<Ipv4Addr>, image: &str) -> CloudResult<WafNode> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut names = vec!["localhost".to_string(), private_ip.to_string()];
    if let Some(l) = loopback {
        names.push(l.to_string());
    }
    let ck = rcgen::generate_simple_self_signed(names).map_err(|err| {
        e(ErrorCode::Other("InternalError".into()), format!("cannot create the node certificate: {err}"))
    })?;
    let cert_der = ck.cert.der().to_vec();
    let key_der = ck.signing_key.serialize_der();
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(WafNode {
        token: crate::lab::state::random_token(32),
        fingerprint_sha256: hex(&sha2::Sha256::digest(&cert_der)),
        cert_der_b64: b64.encode(&cert_der),
        key_der_b64: b64.encode(&key_der),
        objects: BTreeMap::new(),
        rule_hits: BTreeMap::new(),
        nodes: crate::lab::utm::fresh_nodes(),
        // The image decides the appliance, as the AMI does on AWS; hawaf's
        // role tag on any other image boots the tutorial's UTM 9.
        appliance: crate::waf::WafKind::of_lab_image(image).unwrap_or_default(),
        entities: BTreeMap::new(),
        api_allowed: crate::lab::sfos::default_api_allowed(),
    })
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
