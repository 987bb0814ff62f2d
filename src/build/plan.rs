//! What each step will do, in words, from the definition alone: the plan the
//! wizard shows before any call is made.

use super::Kind;
use crate::stack::{InstanceRole, LbRole, SgRole, StackDefinition, SubnetMode};

pub fn plan(d: &StackDefinition, kind: Kind, step: u8) -> Vec<String> {
    match kind {
        Kind::Apply => apply(d, step),
        Kind::Destroy => destroy(d, step),
    }
}

fn apply(d: &StackDefinition, step: u8) -> Vec<String> {
    let vpc = d.vpc_name();
    let hc = d.health_check();
    let check = format!(
        "health check {} every {} s, timeout {} s, healthy after {}, unhealthy after {}",
        hc.target(),
        hc.interval(),
        hc.timeout(),
        hc.healthy_threshold(),
        hc.unhealthy_threshold()
    );
    let instance = |role: InstanceRole| {
        let p = d.placed(role);
        let ip = p.instance.private_ip().map(|ip| format!(" at {ip}")).unwrap_or_default();
        format!(
            "instance {} ({}, {}){ip} in {} with {}",
            p.instance.name(),
            p.instance.instance_type(),
            p.instance.ami(),
            p.subnet_key,
            d.security_group(if role.is_waf() { SgRole::Utm } else { SgRole::Web })
        )
    };
    let lb = |role: LbRole| {
        let subnets: Vec<&str> = d.lb_subnets(role).iter().map(|(k, _)| k.as_str()).collect();
        let members: Vec<String> = d.lb_members(role).iter().map(|r| d.instance(*r).name().to_string()).collect();
        let (scheme, sg) = match role {
            LbRole::External => ("internet-facing", SgRole::Lbext),
            LbRole::Internal => ("internal", SgRole::Lbint),
        };
        vec![
            format!(
                "classic ELB {} ({scheme}) in {} with {}, listener HTTP 80 → 80",
                d.load_balancer(role),
                subnets.join(", "),
                d.security_group(sg)
            ),
            check.clone(),
            format!("register {}", members.join(" and ")),
        ]
    };
    let admin = d.admin_cidr();
    match step {
        1 => vec![
            format!("VPC {vpc} {}", d.vpc_cidr()),
            format!("internet gateway {vpc}-igw, attached"),
            format!("route table {vpc}-public: 0.0.0.0/0 → internet gateway"),
        ],
        2 => {
            let mut lines: Vec<String> =
                d.subnets().iter().map(|(k, s)| format!("subnet {vpc}-{k} {} in {}", s.cidr(), s.az())).collect();
            match d.subnet_mode() {
                SubnetMode::Tutorial => {
                    lines.push(format!("associate every subnet with {vpc}-public (the seed's tutorial mode)"))
                }
                SubnetMode::Protected => {
                    lines.push(format!("Elastic IP and NAT gateway {vpc}-nat in public-a"));
                    lines.push(format!("route table {vpc}-private: 0.0.0.0/0 → NAT, for web-a and web-b"));
                    lines.push(format!("public subnets associated with {vpc}-public"));
                }
            }
            lines
        }
        3 => vec![
            format!("{}: tcp/80 from 0.0.0.0/0", d.security_group(SgRole::Lbext)),
            format!(
                "{}: tcp/80 from {}, tcp/4444 from {admin}",
                d.security_group(SgRole::Utm),
                d.security_group(SgRole::Lbext)
            ),
            format!("{}: tcp/80 from {}", d.security_group(SgRole::Lbint), d.security_group(SgRole::Utm)),
            format!(
                "{}: tcp/80 from {}, tcp/22 from {admin}",
                d.security_group(SgRole::Web),
                d.security_group(SgRole::Lbint)
            ),
        ],
        4 => vec![
            instance(InstanceRole::WebLeft) + "; user data installs httpd and an index.html naming it",
            instance(InstanceRole::WebRight) + "; same",
            "an Elastic IP each for maintenance; wait until both run".into(),
        ],
        5 => {
            let mut lines = lb(LbRole::Internal);
            lines.push(format!("wait for \"2 of 2 instances in service\" on {}", d.load_balancer(LbRole::Internal)));
            lines
        }
        6 => vec![
            instance(InstanceRole::WafLeft),
            instance(InstanceRole::WafRight),
            "an Elastic IP each; wait until both run; console at https://EIP:4444/".into(),
        ],
        7 => lb(LbRole::External),
        _ => match d.waf_kind() {
            crate::waf::WafKind::Utm9 => vec![
                format!(
                    "on each WAF node through the UTM 9 REST API: DNS host and real webserver = {} DNS name, location /, firewall profile",
                    d.load_balancer(LbRole::Internal)
                ),
                format!("virtual webserver = {} DNS name, enabled", d.load_balancer(LbRole::External)),
                format!("wait for \"2 of 2 instances in service\" on {}", d.load_balancer(LbRole::External)),
            ],
            crate::waf::WafKind::Sfos => vec![
                format!(
                    "on each WAF node through the Sophos Firewall XML API: FQDN host and web server = {} DNS name, protection policy (Reject)",
                    d.load_balancer(LbRole::Internal)
                ),
                format!(
                    "web server protection rule for {} DNS name on port 80, enabled",
                    d.load_balancer(LbRole::External)
                ),
                format!("wait for \"2 of 2 instances in service\" on {}", d.load_balancer(LbRole::External)),
            ],
        },
    }
}

fn destroy(d: &StackDefinition, step: u8) -> Vec<String> {
    let names = |roles: [InstanceRole; 2]| roles.map(|r| d.instance(r).name().to_string()).join(" and ");
    match step {
        8 => vec!["forget the WAF nodes' API credentials and pinned certificates".into()],
        7 => vec![format!("delete {}", d.load_balancer(LbRole::External))],
        6 => vec![format!("release Elastic IPs, terminate {}", names([InstanceRole::WafLeft, InstanceRole::WafRight]))],
        5 => vec![format!("delete {}", d.load_balancer(LbRole::Internal))],
        4 => vec![format!("release Elastic IPs, terminate {}", names([InstanceRole::WebLeft, InstanceRole::WebRight]))],
        3 => vec!["delete the four security groups, referenced ones last".into()],
        2 => vec![
            "disassociate route tables, delete the NAT gateway if any, release its address, delete the subnets".into(),
        ],
        _ => vec![format!("delete route tables, detach and delete the internet gateway, delete VPC {}", d.vpc_name())],
    }
}
