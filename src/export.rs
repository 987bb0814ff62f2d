//! A stack as a CloudFormation template: the same resources, names, rules
//! and tags a hawaf build makes, so a team can hand the stack to their IaC
//! (and hawaf can adopt what the template deploys). One YAML document with
//! parameters for the AMIs, the admin CIDR and an optional key pair.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::cloud::{RuleSource, TAG_NAME, TAG_ROLE, TAG_STACK};
use crate::stack::{InstanceRole, LbRole, SgRole, StackDefinition, SubnetKey, SubnetMode};

#[derive(Debug, thiserror::Error)]
#[error("cannot write the template as YAML: {0}")]
pub struct ExportError(String);

/// The template's logical name for a subnet, group, instance or LB.
fn pascal(s: &str) -> String {
    s.split(['-', '/'])
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn subnet_ref(key: SubnetKey) -> Value {
    json!({"Ref": format!("Subnet{}", pascal(key.as_str()))})
}

fn sg_logical(role: SgRole) -> String {
    format!("SecurityGroup{}", pascal(role.as_str()))
}

fn tags(stack: &str, name: &str, extra: &[(&str, &str)]) -> Value {
    let mut t = vec![json!({"Key": TAG_NAME, "Value": name}), json!({"Key": TAG_STACK, "Value": stack})];
    t.extend(extra.iter().map(|(k, v)| json!({"Key": k, "Value": v})));
    Value::Array(t)
}

const SETUP: &str = "After the stack is created, finish each UTM 9 node (its Elastic IP on port 4444) as the \
seed tutorial does: 1. accept the licence and set the admin password in WebAdmin; 2. enable Web Application \
Firewall; 3. add a real webserver for the internal load balancer's DNS name (output InternalLbDns) on port 80; \
4. add a virtual webserver on port 80 for the external load balancer's DNS name (output ExternalLbDns) pointing \
at it; 5. enable the REST API and create a token if hawaf should manage the node (Management > REST API).";

/// The template as a JSON value (the YAML's content).
pub fn template(d: &StackDefinition) -> Value {
    let stack = d.name().as_str();
    let mut r = Map::new();
    let vpc_name = d.vpc_name().as_str();
    r.insert(
        "Vpc".into(),
        json!({"Type": "AWS::EC2::VPC", "Properties": {
            "CidrBlock": d.vpc_cidr().net().to_string(),
            "EnableDnsSupport": true, "EnableDnsHostnames": true,
            "Tags": tags(stack, vpc_name, &[])}}),
    );
    r.insert(
        "InternetGateway".into(),
        json!({"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": tags(stack, &format!("{vpc_name}-igw"), &[])}}),
    );
    r.insert(
        "GatewayAttachment".into(),
        json!({"Type": "AWS::EC2::VPCGatewayAttachment", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "InternetGatewayId": {"Ref": "InternetGateway"}}}),
    );
    r.insert(
        "PublicRouteTable".into(),
        json!({"Type": "AWS::EC2::RouteTable", "Properties": {
            "VpcId": {"Ref": "Vpc"}, "Tags": tags(stack, &format!("{vpc_name}-public"), &[])}}),
    );
    r.insert(
        "PublicDefaultRoute".into(),
        json!({"Type": "AWS::EC2::Route", "DependsOn": "GatewayAttachment", "Properties": {
            "RouteTableId": {"Ref": "PublicRouteTable"}, "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": {"Ref": "InternetGateway"}}}),
    );
    let protected = d.subnet_mode() == SubnetMode::Protected;
    for (key, subnet) in d.subnets().iter() {
        let logical = format!("Subnet{}", pascal(key.as_str()));
        let web = matches!(key, SubnetKey::WebA | SubnetKey::WebB);
        r.insert(
            logical.clone(),
            json!({"Type": "AWS::EC2::Subnet", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "CidrBlock": subnet.cidr().net().to_string(),
                "AvailabilityZone": subnet.az().as_str(),
                "Tags": tags(stack, &format!("{vpc_name}-{}", key.as_str()), &[])}}),
        );
        let table = if protected && web { "PrivateRouteTable" } else { "PublicRouteTable" };
        r.insert(
            format!("{logical}RouteTableAssociation"),
            json!({"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
                "SubnetId": {"Ref": logical}, "RouteTableId": {"Ref": table}}}),
        );
    }
    if protected {
        r.insert(
            "NatAddress".into(),
            json!({"Type": "AWS::EC2::EIP", "DependsOn": "GatewayAttachment", "Properties": {
                "Domain": "vpc", "Tags": tags(stack, &format!("{vpc_name}-nat-eip"), &[])}}),
        );
        r.insert(
            "NatGateway".into(),
            json!({"Type": "AWS::EC2::NatGateway", "Properties": {
                "SubnetId": subnet_ref(SubnetKey::PublicA),
                "AllocationId": {"Fn::GetAtt": ["NatAddress", "AllocationId"]},
                "Tags": tags(stack, &format!("{vpc_name}-nat"), &[])}}),
        );
        r.insert(
            "PrivateRouteTable".into(),
            json!({"Type": "AWS::EC2::RouteTable", "Properties": {
                "VpcId": {"Ref": "Vpc"}, "Tags": tags(stack, &format!("{vpc_name}-private"), &[])}}),
        );
        r.insert(
            "PrivateDefaultRoute".into(),
            json!({"Type": "AWS::EC2::Route", "Properties": {
                "RouteTableId": {"Ref": "PrivateRouteTable"}, "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": {"Ref": "NatGateway"}}}),
        );
    }

    // The seed's rules, written by the same function the build uses, with
    // each group's logical name standing in for its id.
    let logical: HashMap<SgRole, String> = SgRole::ALL.iter().map(|r| (*r, sg_logical(*r))).collect();
    let admin = d.admin_cidr().net();
    for (role, rules) in crate::build::seed_rules(d, &logical) {
        let ingress: Vec<Value> = rules
            .iter()
            .map(|rule| {
                let mut v = json!({"IpProtocol": rule.protocol, "FromPort": rule.from_port, "ToPort": rule.to_port});
                match &rule.source {
                    // The admin CIDR is a parameter; the external LB's rule is the internet's.
                    RuleSource::Cidr(c) if *c == admin && role != SgRole::Lbext => {
                        v["CidrIp"] = json!({"Ref": "AdminCidr"})
                    }
                    RuleSource::Cidr(c) => v["CidrIp"] = json!(c.to_string()),
                    RuleSource::Group(g) => v["SourceSecurityGroupId"] = json!({"Ref": g}),
                }
                v
            })
            .collect();
        let name = d.security_group(role).as_str();
        r.insert(
            sg_logical(role),
            json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {
                "GroupName": name, "GroupDescription": format!("hawaf {stack}: {}", role.as_str()),
                "VpcId": {"Ref": "Vpc"}, "SecurityGroupIngress": ingress, "Tags": tags(stack, name, &[])}}),
        );
    }

    for placed in d.placed_instances() {
        let role = placed.role;
        let logical = format!("Instance{}", pascal(role.as_str()));
        let name = placed.instance.name().as_str();
        let (sg, ami, kind) =
            if role.is_waf() { (SgRole::Utm, "UtmAmi", "waf") } else { (SgRole::Web, "WebAmi", "web") };
        let mut props = json!({
            "ImageId": {"Ref": ami},
            "InstanceType": placed.instance.instance_type().as_str(),
            "SubnetId": subnet_ref(placed.subnet_key),
            "SecurityGroupIds": [{"Ref": sg_logical(sg)}],
            "KeyName": {"Fn::If": ["HasKeyName", {"Ref": "KeyName"}, {"Ref": "AWS::NoValue"}]},
            "Tags": tags(stack, name, &[(TAG_ROLE, kind)]),
        });
        if let Some(ip) = placed.instance.private_ip() {
            props["PrivateIpAddress"] = json!(ip.to_string());
        }
        if role.is_web() {
            props["UserData"] = json!({"Fn::Base64": crate::build::web_user_data(name)});
        }
        r.insert(logical.clone(), json!({"Type": "AWS::EC2::Instance", "Properties": props}));
        r.insert(
            format!("{logical}Address"),
            json!({"Type": "AWS::EC2::EIP", "DependsOn": "GatewayAttachment", "Properties": {
                "Domain": "vpc", "InstanceId": {"Ref": logical},
                "Tags": tags(stack, &format!("{name}-eip"), &[])}}),
        );
    }

    let hc = d.health_check();
    for role in LbRole::ALL {
        let name = d.load_balancer(*role).as_str();
        let (scheme, sg) = match role {
            LbRole::External => ("internet-facing", SgRole::Lbext),
            LbRole::Internal => ("internal", SgRole::Lbint),
        };
        let members: Vec<Value> =
            d.lb_members(*role).iter().map(|m| json!({"Ref": format!("Instance{}", pascal(m.as_str()))})).collect();
        let subnets: Vec<Value> = d.lb_subnets(*role).iter().map(|(k, _)| subnet_ref(*k)).collect();
        let key = pascal(crate::build::lb_key(*role));
        let kind = d.lb_kind(*role);
        if kind.is_v2() {
            load_balancer_v2(&mut r, stack, d, *role, &key, members, subnets);
            continue;
        }
        r.insert(
            format!("{key}LoadBalancer"),
            json!({"Type": "AWS::ElasticLoadBalancing::LoadBalancer", "DependsOn": "GatewayAttachment", "Properties": {
                "LoadBalancerName": name, "Scheme": scheme, "Subnets": subnets,
                "SecurityGroups": [{"Ref": sg_logical(sg)}],
                "Listeners": [{"LoadBalancerPort": "80", "InstancePort": "80", "Protocol": "HTTP", "InstanceProtocol": "HTTP"}],
                "HealthCheck": {
                    "Target": hc.target().to_string(), "Interval": hc.interval().to_string(),
                    "Timeout": hc.timeout().to_string(), "HealthyThreshold": hc.healthy_threshold().to_string(),
                    "UnhealthyThreshold": hc.unhealthy_threshold().to_string()},
                "Instances": members,
                "Tags": tags(stack, name, &[])}}),
        );
    }

    let ami = |role: InstanceRole| d.instance(role).ami().as_str().to_owned();
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!(
            "hawaf stack {stack}: the highly-available WAF pattern (external ELB, two Sophos UTM 9 nodes in two \
             AZs, internal ELB, two web servers). Exported by hawaf. {SETUP}"
        ),
        "Parameters": {
            "WebAmi": {"Type": "AWS::EC2::Image::Id", "Default": ami(InstanceRole::WebLeft),
                       "Description": "AMI of the web content servers (Amazon Linux)"},
            "UtmAmi": {"Type": "AWS::EC2::Image::Id", "Default": ami(InstanceRole::WafLeft),
                       "Description": "AMI of the Sophos UTM 9 nodes (AWS Marketplace, PAYG or BYOL)"},
            "AdminCidr": {"Type": "String", "Default": d.admin_cidr().net().to_string(),
                          "AllowedPattern": "^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$",
                          "Description": "Where administrators reach WebAdmin (4444) and SSH (22) from"},
            "KeyName": {"Type": "String", "Default": "",
                        "Description": "An EC2 key pair for SSH to the instances (empty: none)"},
        },
        "Conditions": {"HasKeyName": {"Fn::Not": [{"Fn::Equals": [{"Ref": "KeyName"}, ""]}]}},
        "Resources": r,
        "Outputs": {
            "ExternalLbDns": {"Description": "The site's address",
                              "Value": {"Fn::GetAtt": ["ExternalLoadBalancer", "DNSName"]}},
            "InternalLbDns": {"Description": "What the UTM nodes' real webserver points at",
                              "Value": {"Fn::GetAtt": ["InternalLoadBalancer", "DNSName"]}},
        },
    })
}

/// The template as YAML.
pub fn cloudformation_yaml(d: &StackDefinition) -> Result<String, ExportError> {
    yaml_serde::to_string(&template(d)).map_err(|e| ExportError(e.to_string()))
}

/// An application or network tier: the load balancer, a target group of
/// the two instances with the stack's health check, and a listener on 80
/// forwarding to it (ELBv2's three resources for classic ELB's one).
fn load_balancer_v2(
    r: &mut serde_json::Map<String, Value>,
    stack: &str,
    d: &crate::stack::StackDefinition,
    role: LbRole,
    key: &str,
    members: Vec<Value>,
    subnets: Vec<Value>,
) {
    use crate::stack::HealthCheckTarget as T;
    let name = d.load_balancer(role).as_str();
    let kind = d.lb_kind(role);
    let (scheme, sg) = match role {
        LbRole::External => ("internet-facing", SgRole::Lbext),
        LbRole::Internal => ("internal", SgRole::Lbint),
    };
    let hc = d.health_check();
    let (hc_protocol, hc_path) = match hc.target() {
        T::Http { path, .. } => ("HTTP", Some(path.clone())),
        T::Https { path, .. } => ("HTTPS", Some(path.clone())),
        T::Tcp { .. } | T::Ssl { .. } => ("TCP", None),
    };
    let protocol = kind.listener().protocol;
    let mut group = json!({
        "Name": name, "Protocol": protocol, "Port": 80, "VpcId": {"Ref": "Vpc"}, "TargetType": "instance",
        "HealthCheckProtocol": hc_protocol, "HealthCheckPort": hc.target().port().to_string(),
        "HealthCheckIntervalSeconds": hc.interval(), "HealthCheckTimeoutSeconds": hc.timeout(),
        "HealthyThresholdCount": hc.healthy_threshold(), "UnhealthyThresholdCount": hc.unhealthy_threshold(),
        "Targets": members.into_iter().map(|m| json!({"Id": m})).collect::<Vec<_>>(),
        "Tags": tags(stack, name, &[])});
    if let Some(path) = hc_path {
        group["HealthCheckPath"] = json!(path);
    }
    r.insert(
        format!("{key}TargetGroup"),
        json!({"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": group}),
    );
    r.insert(
        format!("{key}LoadBalancer"),
        json!({"Type": kind.cfn_type(), "DependsOn": "GatewayAttachment", "Properties": {
            "Name": name, "Type": kind.as_str(), "Scheme": scheme, "Subnets": subnets,
            "SecurityGroups": [{"Ref": sg_logical(sg)}],
            "Tags": tags(stack, name, &[])}}),
    );
    r.insert(
        format!("{key}Listener"),
        json!({"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {
            "LoadBalancerArn": {"Ref": format!("{key}LoadBalancer")}, "Port": 80, "Protocol": protocol,
            "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": format!("{key}TargetGroup")}}]}}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_exports_every_resource_a_build_makes() {
        let d = crate::stack::seed_definition("198.51.100.0/24".parse().unwrap());
        let t = template(&d);
        let resources = t["Resources"].as_object().unwrap();
        let count = |kind: &str| resources.values().filter(|r| r["Type"] == kind).count();
        assert_eq!(count("AWS::EC2::Subnet"), 4);
        assert_eq!(count("AWS::EC2::SecurityGroup"), 4);
        assert_eq!(count("AWS::EC2::Instance"), 4);
        assert_eq!(count("AWS::EC2::EIP"), 4);
        assert_eq!(count("AWS::ElasticLoadBalancing::LoadBalancer"), 2);
        assert_eq!(count("AWS::EC2::NatGateway"), 0, "the seed is all-public");
        let web = &resources["SecurityGroupWeb"]["Properties"]["SecurityGroupIngress"];
        assert_eq!(web[0]["SourceSecurityGroupId"]["Ref"], "SecurityGroupLbint");
        let yaml = cloudformation_yaml(&d).unwrap();
        assert!(yaml.contains("CidrIp:\n          Ref: AdminCidr") || yaml.contains("Ref: AdminCidr"), "{yaml}");
        assert!(yaml.starts_with("AWSTemplateFormatVersion"), "{}", &yaml[..80]);
    }
}
