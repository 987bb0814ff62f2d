//! A stack built by hand, the way the seed tutorial builds it in the AWS
//! console: plain Cloud calls, no hawaf tags, the operator's own names for
//! what the tutorial leaves unnamed (subnets, route table), one route table
//! with the internet gateway for every subnet, Elastic IPs on the UTM nodes
//! for WebAdmin. It runs on the lab and, through the SDK, on moto.

use std::collections::HashMap;

use hawaf::cloud::{
    Cloud, CreateLoadBalancerRequest, HealthCheck, Listener, RunInstanceRequest, Scheme, TAG_NAME, Tags,
};
use hawaf::stack::{InstanceRole, LbRole, SgRole, StackDefinition};

/// What was built, by hawaf's names for it.
pub struct ByHand {
    pub vpc: String,
    pub instances: HashMap<InstanceRole, String>,
}

fn named(name: &str) -> Tags {
    Tags::from([(TAG_NAME.to_owned(), name.to_owned())])
}

pub async fn build(cloud: &dyn Cloud, d: &StackDefinition) -> ByHand {
    let vpc = cloud.create_vpc(d.vpc_cidr().net(), named(d.vpc_name().as_str())).await.unwrap();
    let igw = cloud.create_internet_gateway(Tags::new()).await.unwrap();
    cloud.attach_internet_gateway(&igw.id, &vpc.id).await.unwrap();
    let rtb = cloud.create_route_table(&vpc.id, named("public-rt")).await.unwrap();
    cloud
        .create_route(&rtb.id, "0.0.0.0/0".parse().unwrap(), hawaf::cloud::RouteTarget::Gateway(igw.id.clone()))
        .await
        .unwrap();
    let mut subnets = HashMap::new();
    for (key, s) in d.subnets().iter() {
        let sn = cloud
            .create_subnet(&vpc.id, s.cidr().net(), s.az().as_str(), named(&format!("my {}", key.as_str())))
            .await
            .unwrap();
        cloud.associate_route_table(&rtb.id, &sn.id).await.unwrap();
        subnets.insert(key, sn.id);
    }
    let mut groups = HashMap::new();
    for role in SgRole::ALL {
        let name = d.security_group(*role).as_str();
        let g = cloud.create_security_group(&vpc.id, name, "made in the console", Tags::new()).await.unwrap();
        groups.insert(*role, g.id);
    }
    for (role, rules) in hawaf::build::seed_rules(d, &groups) {
        cloud.authorize_ingress(&groups[&role], &rules).await.unwrap();
    }
    let mut instances = HashMap::new();
    for role in InstanceRole::ALL {
        let placed = d.placed(*role);
        let name = placed.instance.name().as_str();
        let sg = if role.is_waf() { SgRole::Utm } else { SgRole::Web };
        let i = cloud
            .run_instance(RunInstanceRequest {
                subnet_id: subnets[&placed.subnet_key].clone(),
                image_id: placed.instance.ami().as_str().to_owned(),
                instance_type: placed.instance.instance_type().as_str().to_owned(),
                private_ip: placed.instance.private_ip(),
                security_groups: vec![groups[&sg].clone()],
                user_data: role.is_web().then(|| hawaf::build::web_user_data(name)),
                client_token: None,
                tags: named(name),
            })
            .await
            .unwrap();
        if role.is_waf() {
            let eip = cloud.allocate_address(Tags::new()).await.unwrap();
            cloud.associate_address(&eip.allocation_id, &i.id).await.unwrap();
        }
        instances.insert(*role, i.id);
    }
    let hc = d.health_check();
    for role in [LbRole::Internal, LbRole::External] {
        let name = d.load_balancer(role).as_str().to_owned();
        let (scheme, sg) = match role {
            LbRole::Internal => (Scheme::Internal, SgRole::Lbint),
            LbRole::External => (Scheme::InternetFacing, SgRole::Lbext),
        };
        cloud
            .create_load_balancer(CreateLoadBalancerRequest {
                kind: Default::default(),
                name: name.clone(),
                scheme,
                subnets: d.lb_subnets(role).iter().map(|(k, _)| subnets[k].clone()).collect(),
                security_groups: vec![groups[&sg].clone()],
                listeners: vec![Listener::http(80, 80)],
                tags: Tags::new(),
            })
            .await
            .unwrap();
        let check = HealthCheck {
            target: hc.target().to_string(),
            interval: hc.interval(),
            timeout: hc.timeout(),
            healthy_threshold: hc.healthy_threshold(),
            unhealthy_threshold: hc.unhealthy_threshold(),
        };
        cloud.configure_health_check(&name, check).await.unwrap();
        let members: Vec<String> = d.lb_members(role).iter().map(|m| instances[m].clone()).collect();
        cloud.register_instances(&name, &members).await.unwrap();
    }
    ByHand { vpc: vpc.id, instances }
}
