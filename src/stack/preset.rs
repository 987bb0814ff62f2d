//! The seed's topology as a preset: what a new stack starts from, and what
//! omitted JSON fields default to.

use ipnet::Ipv4Net;

use super::definition::StackDefinition;
use super::draft::Draft;
use super::network::Cidr;
use super::validate::parse;

/// The region the seed was verified in.
pub const SEED_REGION: &str = "us-east-1";

/// The Amazon Linux AMI the seed's web servers run (us-east-1).
pub const SEED_WEB_AMI: &str = "ami-0c02fb55956c7d316";

/// The UTM 9 Marketplace AMI for us-east-1. The seed names none (it launches
/// from the Marketplace page), so this is AWS's documentation placeholder id:
/// replace it with the subscribed Marketplace AMI before building on AWS.
/// `warnings()` flags it outside us-east-1.
pub const SEED_UTM_AMI: &str = "ami-0123456789abcdef0";

/// The name the preset definition carries when none is chosen yet.
pub const SEED_NAME: &str = "demo";

/// The seed preset as form values. `admin_cidr` is the operator's own
/// address by default (the caller knows it); host bits are dropped.
pub fn preset(name: &str, admin_cidr: Ipv4Net) -> Draft {
    let admin_cidr = Cidr::from_net(admin_cidr).to_string();
    let values: [(&str, &str); 51] = [
        ("name", name),
        ("provider", "lab"),
        ("aws.region", SEED_REGION),
        ("aws.profile", ""),
        ("aws.endpoint_url", ""),
        ("vpc_cidr", "10.0.0.0/16"),
        ("vpc_name", "ha-vpc"),
        ("subnet_mode", "tutorial"),
        ("admin_cidr", &admin_cidr),
        ("subnets.public-a.cidr", "10.0.10.0/24"),
        ("subnets.public-a.az", "us-east-1a"),
        ("subnets.public-b.cidr", "10.0.11.0/24"),
        ("subnets.public-b.az", "us-east-1b"),
        ("subnets.web-a.cidr", "10.0.20.0/24"),
        ("subnets.web-a.az", "us-east-1a"),
        ("subnets.web-b.cidr", "10.0.21.0/24"),
        ("subnets.web-b.az", "us-east-1b"),
        ("subnets.lbext-a.cidr", ""),
        ("subnets.lbext-a.az", ""),
        ("subnets.lbext-b.cidr", ""),
        ("subnets.lbext-b.az", ""),
        ("instances.web-left.name", "ha-web-left"),
        ("instances.web-left.instance_type", "t1.micro"),
        ("instances.web-left.ami", SEED_WEB_AMI),
        ("instances.web-left.private_ip", ""),
        ("instances.web-right.name", "ha-web-right"),
        ("instances.web-right.instance_type", "t1.micro"),
        ("instances.web-right.ami", SEED_WEB_AMI),
        ("instances.web-right.private_ip", ""),
        ("instances.waf-left.name", "ha-utm-left"),
        ("instances.waf-left.instance_type", "m1.small"),
        ("instances.waf-left.ami", SEED_UTM_AMI),
        ("instances.waf-left.private_ip", "10.0.10.10"),
        ("instances.waf-right.name", "ha-utm-right"),
        ("instances.waf-right.instance_type", "m1.small"),
        ("instances.waf-right.ami", SEED_UTM_AMI),
        ("instances.waf-right.private_ip", "10.0.11.10"),
        ("waf.kind", "utm9"),
        ("load_balancers.external.name", "ha-lbext"),
        ("load_balancers.external.kind", "classic"),
        ("load_balancers.internal.name", "ha-lbint"),
        ("load_balancers.internal.kind", "classic"),
        ("security_groups.lbext", "secg-lbext"),
        ("security_groups.utm", "secg-utm"),
        ("security_groups.lbint", "secg-lbint"),
        ("security_groups.web", "secg-web"),
        ("health_check.target", "HTTP:80/index.html"),
        // The seed shortens the check for drills: 0.1 min, threshold 2.
        ("health_check.interval", "6"),
        ("health_check.timeout", "5"),
        ("health_check.healthy_threshold", "2"),
        ("health_check.unhealthy_threshold", "2"),
    ];
    Draft::from_pairs(values)
}

/// The seed preset, parsed: the base that API JSON is merged onto.
pub fn seed_definition(admin_cidr: Ipv4Net) -> StackDefinition {
    // Every value is a constant except the admin CIDR, and any network
    // (host bits dropped above) is a valid admin CIDR; a test parses it.
    parse(&preset(SEED_NAME, admin_cidr)).expect("the seed preset is a valid definition")
}
