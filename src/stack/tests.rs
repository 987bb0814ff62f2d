//! Behaviour of stack definitions, one rule per test.

use ipnet::Ipv4Net;
use serde_json::json;

use super::*;

fn operator() -> Ipv4Net {
    "203.0.113.7/32".parse().unwrap()
}

fn seed() -> StackDefinition {
    seed_definition(operator())
}

fn draft_with(edits: &[(&str, &str)]) -> Draft {
    let mut draft = preset("demo", operator());
    for (path, value) in edits {
        draft.set(path, *value);
    }
    draft
}

fn parsed_with(edits: &[(&str, &str)]) -> StackDefinition {
    parse(&draft_with(edits)).unwrap_or_else(|errors| panic!("expected no errors, got {errors:#?}"))
}

fn errors_with(edits: &[(&str, &str)]) -> Vec<FieldError> {
    parse(&draft_with(edits)).err().unwrap_or_default()
}

#[track_caller]
fn assert_has(errors: &[FieldError], field: &str, fragment: &str) {
    assert!(
        errors.iter().any(|e| e.field == field && e.message.contains(fragment)),
        "expected an error on `{field}` containing {fragment:?}, got {errors:#?}"
    );
}

#[track_caller]
fn assert_rejected(edits: &[(&str, &str)], field: &str, fragment: &str) {
    assert_has(&errors_with(edits), field, fragment);
}

#[track_caller]
fn assert_accepted(edits: &[(&str, &str)]) {
    parsed_with(edits);
}

mod preset_and_round_trips {
    use super::*;

    #[test]
    fn the_seed_preset_parses_without_errors() {
        let definition = parsed_with(&[]);
        assert_eq!(definition.name().as_str(), "demo");
        assert_eq!(definition.admin_cidr().to_string(), "203.0.113.7/32");
    }

    #[test]
    fn the_lab_boots_the_seed_utm_ami_as_a_utm_node() {
        // An instance launched by hand (no hawaf:role tag) from the preset's
        // UTM AMI must run a UTM on the lab, or adopting it would find a node
        // that serves nothing.
        assert!(crate::lab::UTM9_IMAGES.contains(&SEED_UTM_AMI));
    }

    #[test]
    fn the_preset_drops_host_bits_from_the_operator_address() {
        let definition = seed_definition("192.168.1.20/24".parse().unwrap());
        assert_eq!(definition.admin_cidr().to_string(), "192.168.1.0/24");
    }

    #[test]
    fn the_seed_serializes_to_the_canonical_json() {
        let json = seed().to_json();
        assert_eq!(json["provider"], "lab");
        assert_eq!(json["aws"], json!({"region": "us-east-1", "profile": null, "endpoint_url": null}));
        assert_eq!(json["subnets"]["web-a"], json!({"cidr": "10.0.20.0/24", "az": "us-east-1a"}));
        assert_eq!(json["subnets"]["lbext-a"], json!(null));
        assert_eq!(json["instances"]["waf-left"]["private_ip"], "10.0.10.10");
        assert_eq!(json["instances"]["web-left"]["private_ip"], json!(null));
        assert_eq!(json["load_balancers"]["external"], json!({"name": "ha-lbext", "kind": "classic"}));
        assert_eq!(json["security_groups"]["utm"], "secg-utm");
        assert_eq!(
            json["health_check"],
            json!({"target": "HTTP:80/index.html", "interval": 6, "timeout": 5,
                   "healthy_threshold": 2, "unhealthy_threshold": 2})
        );
    }

    #[test]
    fn every_field_path_names_a_leaf_of_the_canonical_json() {
        let json = seed().to_json();
        for path in FIELDS {
            let leaf = path.split('.').try_fold(&json, |node, key| node.get(key));
            let is_leaf = leaf.is_some_and(|v| !v.is_object());
            // lbext-* are null as a whole in the seed, so their leaves are absent.
            assert!(is_leaf || path.starts_with("subnets.lbext-"), "{path} is not a leaf");
        }
    }

    #[test]
    fn canonical_json_deserializes_to_the_same_definition() {
        let definition = parsed_with(&[
            ("aws.profile", "lab-admin"),
            ("aws.endpoint_url", "http://127.0.0.1:5000"),
            ("subnets.lbext-a.cidr", "10.0.30.0/24"),
            ("subnets.lbext-a.az", "us-east-1a"),
            ("subnets.lbext-b.cidr", "10.0.31.0/24"),
            ("subnets.lbext-b.az", "us-east-1b"),
            ("instances.web-left.private_ip", "10.0.20.10"),
        ]);
        let text = serde_json::to_string(&definition).unwrap();
        let back: StackDefinition = serde_json::from_str(&text).unwrap();
        assert_eq!(back, definition);
    }

    #[test]
    fn a_definition_turned_into_a_draft_parses_back_to_itself() {
        let definition = parsed_with(&[
            ("subnet_mode", "protected"),
            ("health_check.target", "tcp:8080"),
            ("instances.web-right.private_ip", "10.0.21.50"),
        ]);
        assert_eq!(parse(&definition.to_draft()), Ok(definition));
    }

    #[test]
    fn stored_json_that_no_longer_parses_is_refused_with_every_error() {
        let mut json = seed().to_json();
        json["vpc_cidr"] = json!("10.0.0.1/16");
        json["health_check"]["interval"] = json!(1);
        let error = serde_json::from_value::<StackDefinition>(json).unwrap_err().to_string();
        assert!(error.contains("vpc_cidr: 10.0.0.1/16 has host bits set"), "{error}");
        assert!(error.contains("health_check.interval"), "{error}");
    }

    #[test]
    fn stored_json_missing_a_required_field_is_refused() {
        let mut json = seed().to_json();
        json.as_object_mut().unwrap().remove("vpc_name");
        let error = serde_json::from_value::<StackDefinition>(json).unwrap_err().to_string();
        assert!(error.contains("vpc_name: this field is required"), "{error}");
    }
}

mod collecting_errors {
    use super::*;

    #[test]
    fn every_error_is_reported_at_once_with_its_field() {
        let errors = errors_with(&[
            ("name", "Bad Name"),
            ("vpc_cidr", "10.0.0.0/8"),
            ("instances.waf-left.ami", "ami-xyz"),
            ("health_check.interval", "2"),
        ]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "vpc_cidr", "instances.waf-left.ami", "health_check.interval"]);
    }

    #[test]
    fn errors_come_in_form_order_whatever_order_they_were_found_in() {
        let errors = errors_with(&[("subnets.web-b.cidr", "10.0.10.0/25"), ("subnets.lbext-a.az", "us-east-1c")]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["subnets.web-b.cidr", "subnets.lbext-a.cidr", "subnets.lbext-b.cidr"]);
    }

    #[test]
    fn an_empty_required_field_is_reported_as_required() {
        assert_rejected(&[("vpc_name", "")], "vpc_name", "required");
        assert_rejected(&[("subnets.web-b.az", "  ")], "subnets.web-b.az", "required");
    }

    #[test]
    fn surrounding_whitespace_is_not_part_of_a_value() {
        let definition = parsed_with(&[("vpc_cidr", " 10.0.0.0/16 "), ("name", "demo\t")]);
        assert_eq!(definition.vpc_cidr().to_string(), "10.0.0.0/16");
    }

    #[test]
    fn the_provider_and_the_subnet_mode_must_be_known_values() {
        assert_rejected(&[("provider", "gcp")], "provider", "must be lab or aws");
        assert_rejected(&[("subnet_mode", "private")], "subnet_mode", "must be tutorial or protected");
        assert_eq!(parsed_with(&[("provider", "aws")]).provider(), Provider::Aws);
    }
}

mod names {
    use super::*;

    #[test]
    fn stack_names_of_lowercase_letters_digits_and_hyphens_are_accepted() {
        for name in ["a", "demo", "ha-waf-2", &"a".repeat(32)] {
            assert_accepted(&[("name", name)]);
        }
    }

    #[test]
    fn stack_names_breaking_a_rule_are_rejected_with_the_rule() {
        let cases = [
            ("Demo", "lowercase letters, digits and hyphens, not `D`"),
            ("my_stack", "not `_`"),
            ("1demo", "must start with a letter"),
            ("-demo", "must start with a letter"),
            ("demo-", "must not end with a hyphen"),
            (&"a".repeat(33), "1–32 characters"),
        ];
        for (name, fragment) in cases {
            assert_rejected(&[("name", name)], "name", fragment);
        }
    }

    #[test]
    fn load_balancer_names_follow_the_classic_elb_rules() {
        assert_accepted(&[("load_balancers.external.name", "HA-lb-Ext-1")]);
        let cases = [
            ("-lbext", "must not start or end with a hyphen"),
            ("lbext-", "must not start or end with a hyphen"),
            ("internal-lb", "must not start with `internal-`"),
            ("lb_ext", "not `_`"),
            (&"l".repeat(33), "1–32 characters"),
        ];
        for (name, fragment) in cases {
            assert_rejected(&[("load_balancers.external.name", name)], "load_balancers.external.name", fragment);
        }
    }

    #[test]
    fn load_balancer_kinds_default_to_classic_and_their_health_check_must_suit_them() {
        assert_eq!(seed().lb_kind(LbRole::External), crate::cloud::LbKind::Classic);
        assert_rejected(
            &[("load_balancers.internal.kind", "gateway")],
            "load_balancers.internal.kind",
            "classic, application or network",
        );
        assert_rejected(
            &[("load_balancers.external.kind", "application"), ("health_check.target", "TCP:80")],
            "health_check.target",
            "checks HTTP or HTTPS",
        );
        assert_rejected(
            &[("load_balancers.internal.kind", "network"), ("health_check.target", "SSL:443")],
            "health_check.target",
            "HTTP, HTTPS or TCP",
        );
        assert_accepted(&[("load_balancers.internal.kind", "network"), ("health_check.target", "TCP:80")]);
    }

    #[test]
    fn the_two_load_balancers_need_different_names() {
        assert_rejected(
            &[("load_balancers.internal.name", "ha-lbext")],
            "load_balancers.internal.name",
            "already the name of the external load balancer",
        );
    }

    #[test]
    fn security_group_names_follow_the_aws_rules() {
        assert_accepted(&[("security_groups.web", "web servers (ha) #1: [80]")]);
        assert_rejected(&[("security_groups.web", "sg-web")], "security_groups.web", "must not start with `sg-`");
        assert_rejected(&[("security_groups.web", "web%")], "security_groups.web", "not `%`");
        assert_rejected(&[("security_groups.web", &"w".repeat(256))], "security_groups.web", "1–255");
    }

    #[test]
    fn security_groups_need_different_names() {
        assert_rejected(
            &[("security_groups.lbint", "secg-utm")],
            "security_groups.lbint",
            "already the name of security group utm",
        );
    }

    #[test]
    fn name_tags_allow_letters_digits_dots_underscores_and_hyphens() {
        assert_accepted(&[("vpc_name", "HA_vpc.prod-1")]);
        assert_rejected(&[("vpc_name", "ha vpc")], "vpc_name", "not ` `");
        assert_rejected(&[("instances.web-left.name", &"n".repeat(129))], "instances.web-left.name", "1–128");
    }

    #[test]
    fn instances_need_different_names() {
        assert_rejected(
            &[("instances.waf-right.name", "ha-utm-left")],
            "instances.waf-right.name",
            "already the name of waf-left",
        );
    }

    #[test]
    fn instance_types_are_a_family_a_dot_and_a_size() {
        for good in ["m1.small", "t3.micro", "c6gn.16xlarge", "u-6tb1.metal"] {
            assert_accepted(&[("instances.web-left.instance_type", good)]);
        }
        for bad in ["m1", "M1.small", "m1.", ".small", "small.m1", "m1.small.x", "t3.mi-cro"] {
            assert_rejected(
                &[("instances.web-left.instance_type", bad)],
                "instances.web-left.instance_type",
                "is not an instance type",
            );
        }
    }

    #[test]
    fn ami_ids_are_ami_and_8_or_17_lowercase_hex_digits() {
        for good in ["ami-1234abcd", "ami-0c02fb55956c7d316"] {
            assert_accepted(&[("instances.waf-left.ami", good)]);
        }
        for bad in ["ami-123", "ami-0C02FB55956C7D316", "ami-0c02fb55956c7d31g", "img-1234abcd", "1234abcd"] {
            assert_rejected(&[("instances.waf-left.ami", bad)], "instances.waf-left.ami", "is not an AMI id");
        }
    }
}

mod network {
    use super::*;

    #[test]
    fn a_cidr_that_does_not_parse_is_rejected_quoting_the_input() {
        assert_rejected(&[("vpc_cidr", "10.0.0/16")], "vpc_cidr", "`10.0.0/16` is not an IPv4 CIDR");
        assert_rejected(&[("subnets.web-a.cidr", "10.0.20.0")], "subnets.web-a.cidr", "`10.0.20.0` is not");
        assert_rejected(&[("admin_cidr", "::1/128")], "admin_cidr", "is not an IPv4 CIDR");
    }

    #[test]
    fn a_cidr_with_host_bits_set_suggests_the_network() {
        assert_rejected(&[("vpc_cidr", "10.0.0.1/16")], "vpc_cidr", "did you mean 10.0.0.0/16?");
        assert_rejected(&[("admin_cidr", "203.0.113.7/24")], "admin_cidr", "did you mean 203.0.113.0/24?");
    }

    #[test]
    fn a_vpc_prefix_must_be_between_16_and_28() {
        assert_rejected(&[("vpc_cidr", "10.0.0.0/8")], "vpc_cidr", "between /16 and /28 (AWS limits), not /8");
        assert_rejected(&[("vpc_cidr", "10.0.0.0/29")], "vpc_cidr", "not /29");
    }

    #[test]
    fn a_subnet_prefix_must_be_between_16_and_28() {
        assert_rejected(&[("subnets.web-a.cidr", "10.0.20.0/30")], "subnets.web-a.cidr", "not /30");
    }

    #[test]
    fn a_subnet_outside_the_vpc_is_rejected() {
        assert_rejected(
            &[("subnets.web-a.cidr", "10.1.20.0/24")],
            "subnets.web-a.cidr",
            "10.1.20.0/24 is not inside the VPC 10.0.0.0/16",
        );
    }

    #[test]
    fn overlapping_subnets_are_rejected_naming_the_other_subnet() {
        assert_rejected(
            &[("subnets.web-a.cidr", "10.0.10.0/23")],
            "subnets.web-a.cidr",
            "10.0.10.0/23 overlaps subnet public-a (10.0.10.0/24)",
        );
    }

    #[test]
    fn the_external_lb_subnets_are_both_set_or_both_empty() {
        let errors = errors_with(&[("subnets.lbext-a.cidr", "10.0.30.0/24"), ("subnets.lbext-a.az", "us-east-1a")]);
        assert_has(&errors, "subnets.lbext-b.cidr", "set lbext-b too, or clear lbext-a");
        assert_rejected(&[("subnets.lbext-b.az", "us-east-1b")], "subnets.lbext-b.cidr", "required");
    }

    #[test]
    fn the_external_lb_uses_its_own_subnets_when_both_are_set() {
        let definition = parsed_with(&[
            ("subnets.lbext-a.cidr", "10.0.30.0/24"),
            ("subnets.lbext-a.az", "us-east-1a"),
            ("subnets.lbext-b.cidr", "10.0.31.0/24"),
            ("subnets.lbext-b.az", "us-east-1b"),
        ]);
        let keys = definition.lb_subnets(LbRole::External).map(|(key, _)| key);
        assert_eq!(keys, [SubnetKey::LbextA, SubnetKey::LbextB]);
        assert_eq!(definition.subnets().iter().count(), 6);
    }
}

mod zones_and_aws {
    use super::*;

    #[test]
    fn an_az_is_a_region_followed_by_one_letter() {
        for bad in ["us-east-1", "us-east-1ab", "us-east-1A", "a"] {
            assert_rejected(&[("subnets.public-a.az", bad)], "subnets.public-a.az", "is not an availability zone");
        }
    }

    #[test]
    fn an_az_outside_the_stack_region_is_rejected() {
        assert_rejected(
            &[("subnets.web-b.az", "us-west-2b")],
            "subnets.web-b.az",
            "us-west-2b is not in the stack's region us-east-1",
        );
    }

    #[test]
    fn each_tier_must_span_two_availability_zones() {
        let lbext = [
            ("subnets.lbext-a.cidr", "10.0.30.0/24"),
            ("subnets.lbext-a.az", "us-east-1c"),
            ("subnets.lbext-b.cidr", "10.0.31.0/24"),
            ("subnets.lbext-b.az", "us-east-1c"),
        ];
        let errors = errors_with(
            &[&[("subnets.public-b.az", "us-east-1a"), ("subnets.web-b.az", "us-east-1a")], &lbext[..]].concat(),
        );
        assert_has(&errors, "subnets.public-b.az", "public-a and public-b are both in us-east-1a");
        assert_has(&errors, "subnets.web-b.az", "the web tier must span two availability zones");
        assert_has(&errors, "subnets.lbext-b.az", "load-balancer tier must span two availability zones");
    }

    #[test]
    fn regions_look_like_us_east_1() {
        let in_eu = [
            ("aws.region", "eu-west-3"),
            ("subnets.public-a.az", "eu-west-3a"),
            ("subnets.public-b.az", "eu-west-3b"),
            ("subnets.web-a.az", "eu-west-3a"),
            ("subnets.web-b.az", "eu-west-3b"),
        ];
        assert_eq!(parsed_with(&in_eu).region().as_str(), "eu-west-3");
        let in_gov_cloud = errors_with(&[("aws.region", "us-gov-west-1")]);
        assert!(in_gov_cloud.iter().all(|e| e.field != "aws.region"), "{in_gov_cloud:#?}");
        assert_has(&in_gov_cloud, "subnets.web-a.az", "not in the stack's region us-gov-west-1");
        for bad in ["us_east_1", "useast1", "us-east", "US-EAST-1", "usa-east-1"] {
            assert_rejected(&[("aws.region", bad)], "aws.region", "is not an AWS region");
        }
    }

    #[test]
    fn a_profile_is_optional_but_cannot_contain_whitespace() {
        assert_eq!(parsed_with(&[("aws.profile", "")]).aws().profile(), None);
        assert_rejected(&[("aws.profile", "my profile")], "aws.profile", "cannot contain whitespace");
    }

    #[test]
    fn an_endpoint_url_is_optional_but_must_be_http_with_a_host() {
        let definition = parsed_with(&[("aws.endpoint_url", "https://moto.local:5000/")]);
        assert_eq!(definition.aws().endpoint_url().unwrap().as_str(), "https://moto.local:5000/");
        assert_rejected(&[("aws.endpoint_url", "moto")], "aws.endpoint_url", "is not a URL");
        assert_rejected(&[("aws.endpoint_url", "localhost:4566")], "aws.endpoint_url", "is not a URL");
        assert_rejected(&[("aws.endpoint_url", "ftp://moto.local")], "aws.endpoint_url", "http or https, not ftp");
        assert_rejected(&[("aws.endpoint_url", "http://")], "aws.endpoint_url", "is not a URL");
    }
}

mod private_ips {
    use super::*;

    #[test]
    fn a_malformed_private_ip_is_rejected() {
        assert_rejected(
            &[("instances.waf-left.private_ip", "10.0.10.300")],
            "instances.waf-left.private_ip",
            "`10.0.10.300` is not an IPv4 address",
        );
    }

    #[test]
    fn a_private_ip_outside_the_instance_subnet_is_rejected() {
        assert_rejected(
            &[("instances.waf-left.private_ip", "10.0.20.10")],
            "instances.waf-left.private_ip",
            "10.0.20.10 is not inside subnet public-a (10.0.10.0/24)",
        );
    }

    #[test]
    fn the_five_addresses_aws_reserves_in_every_subnet_are_rejected() {
        for reserved in ["10.0.10.0", "10.0.10.1", "10.0.10.2", "10.0.10.3", "10.0.10.255"] {
            assert_rejected(
                &[("instances.waf-left.private_ip", reserved)],
                "instances.waf-left.private_ip",
                "reserved by AWS in every subnet",
            );
        }
        assert_accepted(&[("instances.waf-left.private_ip", "10.0.10.4")]);
    }

    #[test]
    fn a_waf_node_needs_a_private_ip_but_a_web_server_does_not() {
        assert_rejected(
            &[("instances.waf-right.private_ip", "")],
            "instances.waf-right.private_ip",
            "a WAF node needs a fixed private IP, e.g. 10.0.11.10",
        );
        let definition = parsed_with(&[("instances.web-left.private_ip", "")]);
        assert_eq!(definition.instance(InstanceRole::WebLeft).private_ip(), None);
    }

    #[test]
    fn two_instances_cannot_share_a_private_ip() {
        // Only overlapping subnets let two roles claim one address; the
        // overlap is reported, and so is the clash, on the later instance.
        let errors =
            errors_with(&[("subnets.web-a.cidr", "10.0.10.0/24"), ("instances.web-left.private_ip", "10.0.10.10")]);
        assert_has(&errors, "subnets.web-a.cidr", "overlaps subnet public-a");
        assert_has(&errors, "instances.waf-left.private_ip", "10.0.10.10 is already used by web-left");
    }
}

mod health_check {
    use super::*;

    const TARGET: &str = "health_check.target";

    #[test]
    fn targets_of_the_four_protocols_are_accepted_in_canonical_upper_case() {
        let cases = [
            ("HTTP:80/index.html", "HTTP:80/index.html"),
            ("https:443/health?full=1", "HTTPS:443/health?full=1"),
            ("tcp:80", "TCP:80"),
            ("Ssl:443", "SSL:443"),
        ];
        for (typed, canonical) in cases {
            let definition = parsed_with(&[(TARGET, typed)]);
            assert_eq!(definition.health_check().target().to_string(), canonical);
        }
    }

    #[test]
    fn malformed_targets_are_rejected_with_the_reason() {
        let cases = [
            ("HTTP80/index.html", "is not a health-check target"),
            ("FTP:21", "`FTP` is not a health-check protocol"),
            ("HTTP:80", "HTTP checks need a path starting with /"),
            ("TCP:80/index.html", "TCP checks take no path"),
            ("HTTP:0/", "from 1 to 65535, not `0`"),
            ("SSL:65536", "from 1 to 65535, not `65536`"),
            ("HTTP:eighty/", "not `eighty`"),
            ("HTTP:80/a b", "cannot contain spaces"),
        ];
        for (target, fragment) in cases {
            assert_rejected(&[(TARGET, target)], TARGET, fragment);
        }
    }

    #[test]
    fn the_interval_must_be_between_5_and_300_seconds() {
        assert_rejected(&[("health_check.interval", "4")], "health_check.interval", "between 5 and 300 seconds, not 4");
        assert_rejected(&[("health_check.interval", "301")], "health_check.interval", "not 301");
    }

    #[test]
    fn the_timeout_must_be_between_2_and_60_seconds_and_below_the_interval() {
        assert_rejected(&[("health_check.timeout", "1")], "health_check.timeout", "between 2 and 60 seconds");
        assert_rejected(
            &[("health_check.interval", "100"), ("health_check.timeout", "61")],
            "health_check.timeout",
            "not 61",
        );
        assert_rejected(
            &[("health_check.timeout", "6")],
            "health_check.timeout",
            "the timeout (6 s) must be less than the interval (6 s)",
        );
    }

    #[test]
    fn thresholds_must_be_between_2_and_10() {
        assert_rejected(
            &[("health_check.healthy_threshold", "1")],
            "health_check.healthy_threshold",
            "between 2 and 10",
        );
        assert_rejected(
            &[("health_check.unhealthy_threshold", "11")],
            "health_check.unhealthy_threshold",
            "between 2 and 10, not 11",
        );
    }

    #[test]
    fn only_whole_numbers_are_accepted() {
        assert_rejected(&[("health_check.interval", "6.5")], "health_check.interval", "must be a whole number");
        assert_rejected(&[("health_check.interval", "six")], "health_check.interval", "`six` is not a number");
        assert_rejected(&[("health_check.timeout", "-3")], "health_check.timeout", "not -3");
    }
}

mod drafts {
    use super::*;

    fn from_json(value: serde_json::Value) -> Result<Draft, Vec<FieldError>> {
        Draft::from_json(value, &seed())
    }

    fn from_json_errors(value: serde_json::Value) -> Vec<FieldError> {
        from_json(value).err().unwrap_or_default()
    }

    #[test]
    fn a_form_keeps_what_was_typed_and_ignores_keys_that_are_not_fields() {
        let draft = Draft::from_pairs([
            ("csrf_token".to_owned(), "abc".to_owned()),
            ("vpc_cidr".to_owned(), "10.0.0.1/16 ".to_owned()),
        ]);
        assert_eq!(draft.get("vpc_cidr"), "10.0.0.1/16 ");
        assert_eq!(draft.get("csrf_token"), "");
        assert_eq!(draft.iter().count(), FIELDS.len());
    }

    #[test]
    fn json_fields_left_out_take_the_preset_values_even_inside_nested_objects() {
        let draft = from_json(json!({"name": "x", "health_check": {"interval": 10}})).unwrap();
        let definition = parse(&draft).unwrap();
        assert_eq!(definition.name().as_str(), "x");
        assert_eq!(definition.health_check().interval(), 10);
        assert_eq!(definition.health_check().timeout(), 5);
        assert_eq!(definition.health_check().target().to_string(), "HTTP:80/index.html");
        assert_eq!(definition.subnet(SubnetKey::WebB), seed().subnet(SubnetKey::WebB));
    }

    #[test]
    fn json_null_leaves_an_optional_field_empty() {
        let draft = from_json(json!({"name": "x", "aws": {"profile": null}, "subnets": {"lbext-a": null}})).unwrap();
        assert_eq!(draft.get("aws.profile"), "");
        assert_eq!(draft.get("subnets.lbext-a.cidr"), "");
        assert!(parse(&draft).is_ok());
    }

    #[test]
    fn json_can_give_the_external_lb_subnets_of_its_own() {
        let draft = from_json(json!({"name": "x", "subnets": {
            "lbext-a": {"cidr": "10.0.30.0/24", "az": "us-east-1a"},
            "lbext-b": {"cidr": "10.0.31.0/24", "az": "us-east-1b"},
        }}))
        .unwrap();
        let definition = parse(&draft).unwrap();
        assert_eq!(definition.lb_subnets(LbRole::External)[1].1.cidr().to_string(), "10.0.31.0/24");
    }

    #[test]
    fn unknown_json_fields_are_rejected_by_path() {
        let errors = from_json_errors(json!({
            "name": "x", "colour": "red",
            "subnets": {"web-c": {"cidr": "10.0.22.0/24"}},
            "health_check": {"path": "/"},
        }));
        assert_has(&errors, "colour", "unknown field `colour`");
        assert_has(&errors, "subnets.web-c", "unknown field `subnets.web-c`");
        assert_has(&errors, "health_check.path", "unknown field `health_check.path`");
    }

    #[test]
    fn json_values_of_the_wrong_type_are_rejected_by_path() {
        let errors = from_json_errors(json!({
            "name": "x", "vpc_cidr": 10,
            "health_check": {"interval": true},
            "aws": "us-east-1",
            "subnets": {"web-a": null},
        }));
        assert_has(&errors, "vpc_cidr", "expected a string");
        assert_has(&errors, "health_check.interval", "expected a number");
        assert_has(&errors, "aws", "expected an object");
        assert_has(&errors, "subnets.web-a", "expected an object");
    }

    #[test]
    fn numbers_may_come_as_json_numbers_or_numeric_strings() {
        let draft = from_json(json!({"name": "x", "health_check": {"interval": "30", "timeout": 10}})).unwrap();
        let check = parse(&draft).unwrap().health_check().clone();
        assert_eq!((check.interval(), check.timeout()), (30, 10));
        let fractional = from_json(json!({"name": "x", "health_check": {"interval": 6.5}})).unwrap();
        assert_has(&parse(&fractional).unwrap_err(), "health_check.interval", "whole number");
    }

    #[test]
    fn json_without_a_name_is_rejected() {
        assert_has(&from_json_errors(json!({"provider": "lab"})), "name", "required");
    }

    #[test]
    fn the_json_top_level_must_be_an_object() {
        assert_has(&from_json_errors(json!(["demo"])), "", "expected a JSON object");
    }
}

mod placement {
    use super::*;

    #[test]
    fn each_instance_is_placed_in_the_subnet_of_its_role() {
        let definition = seed();
        let placed = definition.placed_instances();
        let summary: Vec<(&str, &str, String)> = placed
            .iter()
            .map(|p| (p.instance.name().as_str(), p.subnet_key.as_str(), p.subnet.cidr().to_string()))
            .collect();
        assert_eq!(
            summary,
            [
                ("ha-web-left", "web-a", "10.0.20.0/24".to_owned()),
                ("ha-web-right", "web-b", "10.0.21.0/24".to_owned()),
                ("ha-utm-left", "public-a", "10.0.10.0/24".to_owned()),
                ("ha-utm-right", "public-b", "10.0.11.0/24".to_owned()),
            ]
        );
        for &role in InstanceRole::ALL {
            assert_eq!(Some(definition.instance_subnet(role)), definition.subnet(role.subnet()));
        }
    }

    #[test]
    fn by_default_the_external_lb_shares_the_public_subnets_and_the_internal_lb_uses_the_web_subnets() {
        let definition = seed();
        let keys = |role| definition.lb_subnets(role).map(|(key, _)| key);
        assert_eq!(keys(LbRole::External), [SubnetKey::PublicA, SubnetKey::PublicB]);
        assert_eq!(keys(LbRole::Internal), [SubnetKey::WebA, SubnetKey::WebB]);
        assert_eq!(definition.load_balancer(LbRole::Internal).as_str(), "ha-lbint");
        assert_eq!(definition.lb_members(LbRole::External), [InstanceRole::WafLeft, InstanceRole::WafRight]);
        assert_eq!(definition.security_group(SgRole::Utm).as_str(), "secg-utm");
    }
}

mod warnings {
    use super::*;

    fn warning_fields(definition: &StackDefinition) -> Vec<String> {
        definition.warnings().into_iter().map(|w| w.field).collect()
    }

    #[test]
    fn an_admin_cidr_open_to_the_world_is_warned_about() {
        let definition = parsed_with(&[("admin_cidr", "0.0.0.0/0")]);
        let warning = definition.warnings().into_iter().find(|w| w.field == "admin_cidr").unwrap();
        assert!(warning.message.contains("22 (SSH to web servers) and 4444 (UTM WebAdmin)"));
        assert!(!warning_fields(&seed()).contains(&"admin_cidr".to_owned()));
    }

    #[test]
    fn tutorial_mode_is_warned_about_and_protected_mode_is_not() {
        assert!(warning_fields(&seed()).contains(&"subnet_mode".to_owned()));
        assert!(warning_fields(&parsed_with(&[("subnet_mode", "protected")])).is_empty());
    }

    #[test]
    fn the_preset_utm_ami_outside_us_east_1_on_aws_is_warned_about_per_node() {
        let elsewhere = [
            ("provider", "aws"),
            ("subnet_mode", "protected"),
            ("aws.region", "eu-west-3"),
            ("subnets.public-a.az", "eu-west-3a"),
            ("subnets.public-b.az", "eu-west-3b"),
            ("subnets.web-a.az", "eu-west-3a"),
            ("subnets.web-b.az", "eu-west-3b"),
        ];
        let definition = parsed_with(&elsewhere);
        assert_eq!(warning_fields(&definition), ["instances.waf-left.ami", "instances.waf-right.ami"]);
        assert!(definition.warnings()[0].message.contains("set the UTM 9 Marketplace AMI for eu-west-3"));
        let on_lab = parsed_with(&[&elsewhere[1..], &[("provider", "lab")]].concat());
        assert!(warning_fields(&on_lab).is_empty());
        let own_ami = parsed_with(&[&elsewhere[..], &[("instances.waf-left.ami", "ami-1234abcd")]].concat());
        assert_eq!(warning_fields(&own_ami), ["instances.waf-right.ami"]);
    }
}
