//! `parse`: the one path from a `Draft` to a `StackDefinition`. It checks
//! everything and collects every error, so a form shows them all at once.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use super::definition::{
    AwsSettings, Instance, Instances, LoadBalancer, LoadBalancers, Provider, SecurityGroups, StackDefinition, Subnet,
    SubnetMode, Subnets, Waf,
};
use super::draft::Draft;
use super::fields::{FIELDS, FieldError};
use super::health_check::{HealthCheck, HealthCheckParts, HealthCheckTarget, INTERVAL_SECS, THRESHOLD, TIMEOUT_SECS};
use super::names::{AmiId, Az, EndpointUrl, InstanceType, LbName, NameTag, Profile, Region, SgName, StackName};
use super::network::{AWS_PREFIX_RANGE, Cidr, parse_ipv4};
use super::roles::{InstanceRole, SgRole, SubnetKey, SubnetTier};

const REQUIRED: &str = "this field is required";

/// Parses a draft, reporting every problem with its field path.
pub fn parse(draft: &Draft) -> Result<StackDefinition, Vec<FieldError>> {
    let mut p = Parser { draft, errors: Vec::new() };

    let name = p.required("name", StackName::parse);
    let provider = p.required("provider", Provider::parse);
    let region = p.required("aws.region", Region::parse);
    let profile = p.optional("aws.profile", Profile::parse);
    let endpoint_url = p.optional("aws.endpoint_url", EndpointUrl::parse);
    let vpc_cidr = p.required("vpc_cidr", |text| {
        let cidr = Cidr::parse(text)?;
        check_prefix(&cidr, "a VPC")?;
        Ok(cidr)
    });
    let vpc_name = p.required("vpc_name", NameTag::parse);
    let subnet_mode = p.required("subnet_mode", SubnetMode::parse);
    let admin_cidr = p.required("admin_cidr", Cidr::parse);
    let subnets = p.subnets(vpc_cidr.as_ref(), region.as_ref());
    let instances = p.instances(&subnets);
    // Absent means the tutorial's UTM 9 (and every definition saved before the kind existed).
    let waf_kind = p.optional("waf.kind", crate::waf::WafKind::parse).map(Option::unwrap_or_default);
    if let (Some(Provider::Lab), Some(kind)) = (provider, waf_kind) {
        p.check_lab_images(kind);
    }
    let load_balancers = p.load_balancers();
    let security_groups = p.security_groups();
    let health_check = p.health_check();
    if let (Some(lbs), Some(hc)) = (&load_balancers, &health_check) {
        p.check_for_kinds(lbs, hc);
    }

    if !p.errors.is_empty() {
        // Cross-field checks run in their own order; show errors in form order.
        p.errors.sort_by_key(|e| FIELDS.iter().position(|&f| f == e.field));
        return Err(p.errors);
    }
    let (
        Some(name),
        Some(provider),
        Some(region),
        Some(profile),
        Some(endpoint_url),
        Some(vpc_cidr),
        Some(vpc_name),
        Some(subnet_mode),
        Some(admin_cidr),
        Some(subnets),
        Some(instances),
        Some(waf_kind),
        Some(load_balancers),
        Some(security_groups),
        Some(health_check),
    ) = (
        name,
        provider,
        region,
        profile,
        endpoint_url,
        vpc_cidr,
        vpc_name,
        subnet_mode,
        admin_cidr,
        subnets.build(),
        instances,
        waf_kind,
        load_balancers,
        security_groups,
        health_check,
    )
    else {
        // Every missing part pushed an error; this only guards against a
        // future part that forgets to.
        return Err(vec![FieldError::new("", "the definition is incomplete")]);
    };

    Ok(StackDefinition {
        name,
        provider,
        aws: AwsSettings { region, profile, endpoint_url },
        vpc_cidr,
        vpc_name,
        subnet_mode,
        admin_cidr,
        subnets,
        instances,
        waf: Waf { kind: waf_kind },
        load_balancers,
        security_groups,
        health_check,
    })
}

fn check_prefix(cidr: &Cidr, what: &str) -> Result<(), String> {
    if !AWS_PREFIX_RANGE.contains(&cidr.prefix_len()) {
        return Err(format!(
            "{what} prefix must be between /{} and /{} (AWS limits), not /{}",
            AWS_PREFIX_RANGE.start(),
            AWS_PREFIX_RANGE.end(),
            cidr.prefix_len()
        ));
    }
    Ok(())
}

fn subnet_field(key: SubnetKey, leaf: &str) -> String {
    format!("subnets.{key}.{leaf}")
}

fn instance_field(role: InstanceRole, leaf: &str) -> String {
    format!("instances.{role}.{leaf}")
}

/// What parsing found for the subnets: each part kept separately so that the
/// cross-checks can run on whatever did parse.
struct ParsedSubnets {
    cidrs: BTreeMap<SubnetKey, Cidr>,
    azs: BTreeMap<SubnetKey, Az>,
    /// Subnets the user left out (only the optional pair may be).
    absent: Vec<SubnetKey>,
}

impl ParsedSubnets {
    fn subnet(&self, key: SubnetKey) -> Option<Subnet> {
        Some(Subnet { cidr: *self.cidrs.get(&key)?, az: self.azs.get(&key)?.clone() })
    }

    fn build(&self) -> Option<Subnets> {
        let lbext = if self.absent.contains(&SubnetKey::LbextA) {
            None
        } else {
            Some((self.subnet(SubnetKey::LbextA)?, self.subnet(SubnetKey::LbextB)?))
        };
        Some(Subnets {
            public_a: self.subnet(SubnetKey::PublicA)?,
            public_b: self.subnet(SubnetKey::PublicB)?,
            web_a: self.subnet(SubnetKey::WebA)?,
            web_b: self.subnet(SubnetKey::WebB)?,
            lbext,
        })
    }
}

struct Parser<'a> {
    draft: &'a Draft,
    errors: Vec<FieldError>,
}

impl Parser<'_> {
    /// Surrounding whitespace is a typing accident, not part of the value.
    fn text(&self, path: &str) -> &str {
        self.draft.get(path).trim()
    }

    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(path, message));
    }

    fn required<T>(&mut self, path: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let text = self.text(path);
        if text.is_empty() {
            self.error(path, REQUIRED);
            return None;
        }
        match parse(text) {
            Ok(value) => Some(value),
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }

    /// `Some(None)` when left empty, `None` when invalid.
    fn optional<T>(&mut self, path: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Option<Option<T>> {
        if self.text(path).is_empty() {
            return Some(None);
        }
        self.required(path, parse).map(Some)
    }

    fn whole_number(&mut self, path: &str, what: &str, range: RangeInclusive<u32>, unit: &str) -> Option<u32> {
        self.required(path, |text| {
            let Ok(number) = text.parse::<i64>() else {
                return Err(if text.parse::<f64>().is_ok() {
                    format!("{what} must be a whole number{unit}, not {text}")
                } else {
                    format!("`{text}` is not a number")
                });
            };
            match u32::try_from(number) {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(format!("{what} must be between {} and {}{unit}, not {number}", range.start(), range.end())),
            }
        })
    }

    fn subnets(&mut self, vpc: Option<&Cidr>, region: Option<&Region>) -> ParsedSubnets {
        let mut parsed = ParsedSubnets { cidrs: BTreeMap::new(), azs: BTreeMap::new(), absent: Vec::new() };
        self.check_lbext_pair();
        for &key in SubnetKey::ALL {
            let cidr_path = subnet_field(key, "cidr");
            let az_path = subnet_field(key, "az");
            if key.is_optional() && self.text(&cidr_path).is_empty() && self.text(&az_path).is_empty() {
                parsed.absent.push(key);
                continue;
            }
            let cidr = self.required(&cidr_path, |text| {
                let cidr = Cidr::parse(text)?;
                check_prefix(&cidr, "a subnet")?;
                match vpc {
                    Some(vpc) if !vpc.contains_net(&cidr) => Err(format!("{cidr} is not inside the VPC {vpc}")),
                    _ => Ok(cidr),
                }
            });
            if let Some(cidr) = cidr {
                let overlapping = parsed.cidrs.iter().find(|(_, other)| other.overlaps(&cidr));
                match overlapping {
                    Some((other_key, other)) => {
                        let message = format!("{cidr} overlaps subnet {other_key} ({other})");
                        self.error(&cidr_path, message);
                    }
                    None => {
                        parsed.cidrs.insert(key, cidr);
                    }
                }
            }
            let az = self.required(&az_path, |text| {
                let az = Az::parse(text)?;
                match region {
                    Some(region) if az.region() != region.as_str() => {
                        Err(format!("{az} is not in the stack's region {region}"))
                    }
                    _ => Ok(az),
                }
            });
            if let Some(az) = az {
                parsed.azs.insert(key, az);
            }
        }
        for tier in SubnetTier::ALL {
            let (a, b) = tier.pair();
            if let (Some(az_a), Some(az_b)) = (parsed.azs.get(&a), parsed.azs.get(&b))
                && az_a == az_b
            {
                let message =
                    format!("{a} and {b} are both in {az_a}; {} must span two availability zones", tier.describe());
                self.error(&subnet_field(b, "az"), message);
                parsed.azs.remove(&b);
            }
        }
        parsed
    }

    /// The external LB's own subnets come as a pair or not at all.
    fn check_lbext_pair(&mut self) {
        let is_set =
            |key| !self.text(&subnet_field(key, "cidr")).is_empty() || !self.text(&subnet_field(key, "az")).is_empty();
        let (a, b) = (SubnetKey::LbextA, SubnetKey::LbextB);
        let missing = match (is_set(a), is_set(b)) {
            (true, false) => Some((b, a)),
            (false, true) => Some((a, b)),
            _ => None,
        };
        if let Some((missing, given)) = missing {
            let message = format!(
                "set {missing} too, or clear {given}: the external load balancer uses either both \
                 lbext subnets or public-a and public-b"
            );
            self.error(&subnet_field(missing, "cidr"), message);
        }
    }

    fn instances(&mut self, subnets: &ParsedSubnets) -> Option<Instances> {
        let mut names: Vec<(InstanceRole, NameTag)> = Vec::new();
        let mut ips: Vec<(InstanceRole, Ipv4Addr)> = Vec::new();
        let mut built = BTreeMap::new();
        for &role in InstanceRole::ALL {
            let subnet_key = role.subnet();
            let subnet = subnets.cidrs.get(&subnet_key);
            let name_path = instance_field(role, "name");
            let name = self.required(&name_path, NameTag::parse);
            if let Some(name) = &name {
                match names.iter().find(|(_, other)| other == name) {
                    Some((other_role, _)) => {
                        self.error(&name_path, format!("{name} is already the name of {other_role}"))
                    }
                    None => names.push((role, name.clone())),
                }
            }
            let instance_type = self.required(&instance_field(role, "instance_type"), InstanceType::parse);
            let ami = self.required(&instance_field(role, "ami"), AmiId::parse);
            let ip_path = instance_field(role, "private_ip");
            let check_ip = |text: &str| {
                let ip = parse_ipv4(text)?;
                match subnet {
                    Some(cidr) if !cidr.contains_addr(ip) => {
                        Err(format!("{ip} is not inside subnet {subnet_key} ({cidr})"))
                    }
                    Some(cidr) if cidr.is_aws_reserved(ip) => Err(format!(
                        "{ip} is reserved by AWS in every subnet (the network address, the next three and the \
                         broadcast address); use one from {}",
                        cidr.usable_range()
                    )),
                    _ => Ok(ip),
                }
            };
            let private_ip = if role.is_waf() && self.text(&ip_path).is_empty() {
                let example = subnet.map_or_else(|| "10.0.10.10".to_owned(), |cidr| cidr.suggested_host().to_string());
                self.error(&ip_path, format!("a WAF node needs a fixed private IP, e.g. {example}"));
                None
            } else {
                self.optional(&ip_path, check_ip)
            };
            if let Some(Some(ip)) = private_ip {
                match ips.iter().find(|(_, other)| *other == ip) {
                    Some((other_role, _)) => self.error(&ip_path, format!("{ip} is already used by {other_role}")),
                    None => ips.push((role, ip)),
                }
            }
            if let (Some(name), Some(instance_type), Some(ami), Some(private_ip)) =
                (name, instance_type, ami, private_ip)
            {
                built.insert(role, Instance { name, instance_type, ami, private_ip });
            }
        }
        Some(Instances {
            web_left: built.remove(&InstanceRole::WebLeft)?,
            web_right: built.remove(&InstanceRole::WebRight)?,
            waf_left: built.remove(&InstanceRole::WafLeft)?,
            waf_right: built.remove(&InstanceRole::WafRight)?,
        })
    }

    /// On the lab the image decides what a WAF node boots, as the AMI does
    /// on AWS: a Sophos Firewall stack needs the lab's SFOS image, and a
    /// UTM 9 stack any image but that one.
    fn check_lab_images(&mut self, kind: crate::waf::WafKind) {
        use crate::waf::WafKind;
        for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
            let path = instance_field(role, "ami");
            let ami = self.text(&path).trim().to_owned();
            if ami.is_empty() {
                continue;
            }
            let boots = WafKind::of_lab_image(&ami).unwrap_or(WafKind::Utm9);
            if boots != kind {
                self.error(
                    &path,
                    format!(
                        "on the lab, {ami} boots {}; a `{}` stack's WAF nodes need the lab's {} image {}",
                        boots.title(),
                        kind.as_str(),
                        kind.title(),
                        kind.lab_image()
                    ),
                );
            }
        }
    }

    fn load_balancers(&mut self) -> Option<LoadBalancers> {
        let external = self.required("load_balancers.external.name", LbName::parse);
        let internal = self.required("load_balancers.internal.name", LbName::parse);
        if let (Some(external), Some(internal)) = (&external, &internal)
            && external.as_str().eq_ignore_ascii_case(internal.as_str())
        {
            self.error(
                "load_balancers.internal.name",
                format!("{internal} is already the name of the external load balancer"),
            );
            return None;
        }
        // Absent means the tutorial's classic ELB (and every definition saved
        // before the kind existed).
        let kind =
            |p: &mut Self, path: &str| p.optional(path, crate::cloud::LbKind::parse).map(Option::unwrap_or_default);
        let external_kind = kind(self, "load_balancers.external.kind");
        let internal_kind = kind(self, "load_balancers.internal.kind");
        Some(LoadBalancers {
            external: LoadBalancer { name: external?, kind: external_kind? },
            internal: LoadBalancer { name: internal?, kind: internal_kind? },
        })
    }

    /// The one health check must suit every tier's kind: ELBv2 target groups
    /// check HTTP, HTTPS or (network only) TCP, and an application load
    /// balancer's check times out below its interval, as classic's does.
    fn check_for_kinds(&mut self, lbs: &LoadBalancers, hc: &super::HealthCheck) {
        use super::HealthCheckTarget as T;
        use crate::cloud::LbKind;
        for lb in [&lbs.external, &lbs.internal] {
            let wrong = match (lb.kind, hc.target()) {
                (LbKind::Application, T::Tcp { port } | T::Ssl { port }) => Some(format!(
                    "{} ({}) checks HTTP or HTTPS: use e.g. HTTP:{port}/index.html",
                    lb.name,
                    lb.kind.title()
                )),
                (LbKind::Network, T::Ssl { port }) => {
                    Some(format!("{} ({}) checks HTTP, HTTPS or TCP: use e.g. TCP:{port}", lb.name, lb.kind.title()))
                }
                _ => None,
            };
            if let Some(message) = wrong {
                self.error("health_check.target", message);
                return;
            }
        }
    }

    fn security_groups(&mut self) -> Option<SecurityGroups> {
        let mut seen: Vec<(SgRole, SgName)> = Vec::new();
        let mut parsed = Vec::new();
        for &role in SgRole::ALL {
            let path = format!("security_groups.{role}");
            let name = self.required(&path, SgName::parse);
            if let Some(name) = &name {
                match seen.iter().find(|(_, other)| other == name) {
                    Some((other_role, _)) => {
                        self.error(&path, format!("{name} is already the name of security group {other_role}"));
                        parsed.push(None);
                        continue;
                    }
                    None => seen.push((role, name.clone())),
                }
            }
            parsed.push(name);
        }
        let mut parsed = parsed.into_iter();
        Some(SecurityGroups {
            lbext: parsed.next()??,
            utm: parsed.next()??,
            lbint: parsed.next()??,
            web: parsed.next()??,
        })
    }

    fn health_check(&mut self) -> Option<HealthCheck> {
        let target = self.required("health_check.target", HealthCheckTarget::parse);
        let interval = self.whole_number("health_check.interval", "the interval", INTERVAL_SECS, " seconds");
        let timeout = self.whole_number("health_check.timeout", "the timeout", TIMEOUT_SECS, " seconds");
        let healthy_threshold =
            self.whole_number("health_check.healthy_threshold", "the healthy threshold", THRESHOLD, "");
        let unhealthy_threshold =
            self.whole_number("health_check.unhealthy_threshold", "the unhealthy threshold", THRESHOLD, "");
        if let (Some(interval), Some(timeout)) = (interval, timeout)
            && timeout >= interval
        {
            let message = format!("the timeout ({timeout} s) must be less than the interval ({interval} s)");
            self.error("health_check.timeout", message);
            return None;
        }
        let parts = HealthCheckParts {
            target: target?,
            interval: interval?,
            timeout: timeout?,
            healthy_threshold: healthy_threshold?,
            unhealthy_threshold: unhealthy_threshold?,
        };
        HealthCheck::from_parts(parts).map_err(|message| self.error("health_check.timeout", message)).ok()
    }
}
