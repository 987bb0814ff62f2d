//! `Cloud` and `Faults` for the loopback lab: every call goes through the
//! lab's model (same rules and errors as AWS) and then the real servers are
//! reconciled with it.

use async_trait::async_trait;
use ipnet::Ipv4Net;

use super::Lab;
use crate::cloud::{
    Address, Cloud, CloudResult, CreateLoadBalancerRequest, Faults, Filter, HealthCheck, IngressRule, Instance,
    InstanceHealth, InternetGateway, LoadBalancer, NatGateway, ResourceKind, RouteTable, RouteTarget,
    RunInstanceRequest, SecurityGroup, Subnet, Tags, Vpc,
};

#[async_trait]
impl Cloud for Lab {
    async fn create_vpc(&self, cidr: Ipv4Net, tags: Tags) -> CloudResult<Vpc> {
        self.mutate(|w| w.create_vpc(cidr, tags))
    }
    async fn describe_vpcs(&self, filter: &Filter) -> CloudResult<Vec<Vpc>> {
        self.read(|w| w.describe_vpcs(filter))
    }
    async fn delete_vpc(&self, vpc_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_vpc(vpc_id))
    }

    async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr: Ipv4Net,
        availability_zone: &str,
        tags: Tags,
    ) -> CloudResult<Subnet> {
        self.mutate(|w| w.create_subnet(vpc_id, cidr, availability_zone, tags))
    }
    async fn describe_subnets(&self, filter: &Filter) -> CloudResult<Vec<Subnet>> {
        self.read(|w| w.describe_subnets(filter))
    }
    async fn delete_subnet(&self, subnet_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_subnet(subnet_id))
    }

    async fn create_internet_gateway(&self, tags: Tags) -> CloudResult<InternetGateway> {
        self.mutate(|w| Ok(w.create_internet_gateway(tags)))
    }
    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.attach_internet_gateway(igw_id, vpc_id))
    }
    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.detach_internet_gateway(igw_id, vpc_id))
    }
    async fn delete_internet_gateway(&self, igw_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_internet_gateway(igw_id))
    }
    async fn describe_internet_gateways(&self, filter: &Filter) -> CloudResult<Vec<InternetGateway>> {
        self.read(|w| {
            Ok(crate::lab::ec2::select(
                &w.snap.internet_gateways,
                filter,
                |g| &g.tags,
                |id| {
                    super::CloudError::of(
                        super::ErrorCode::InvalidInternetGatewayIdNotFound,
                        format!("The internetGateway ID '{id}' does not exist"),
                    )
                },
            )?
            .into_iter()
            .cloned()
            .collect())
        })
    }

    async fn create_route_table(&self, vpc_id: &str, tags: Tags) -> CloudResult<RouteTable> {
        self.mutate(|w| w.create_route_table(vpc_id, tags))
    }
    async fn create_route(&self, route_table_id: &str, destination: Ipv4Net, target: RouteTarget) -> CloudResult<()> {
        self.mutate(|w| w.create_route(route_table_id, destination, target))
    }
    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> CloudResult<String> {
        self.mutate(|w| w.associate_route_table(route_table_id, subnet_id))
    }
    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.disassociate_route_table(association_id))
    }
    async fn describe_route_tables(&self, filter: &Filter) -> CloudResult<Vec<RouteTable>> {
        self.read(|w| w.describe_route_tables(filter))
    }
    async fn delete_route_table(&self, route_table_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_route_table(route_table_id))
    }

    async fn allocate_address(&self, tags: Tags) -> CloudResult<Address> {
        self.mutate(|w| Ok(w.allocate_address(tags)))
    }
    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> CloudResult<String> {
        self.mutate(|w| w.associate_address(allocation_id, instance_id))
    }
    async fn disassociate_address(&self, association_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.disassociate_address(association_id))
    }
    async fn describe_addresses(&self, filter: &Filter) -> CloudResult<Vec<Address>> {
        self.read(|w| w.describe_addresses(filter))
    }
    async fn release_address(&self, allocation_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.release_address(allocation_id))
    }

    async fn create_nat_gateway(&self, subnet_id: &str, allocation_id: &str, tags: Tags) -> CloudResult<NatGateway> {
        self.mutate(|w| w.create_nat_gateway(subnet_id, allocation_id, tags))
    }
    async fn describe_nat_gateways(&self, filter: &Filter) -> CloudResult<Vec<NatGateway>> {
        self.read(|w| w.describe_nat_gateways(filter))
    }
    async fn delete_nat_gateway(&self, nat_gateway_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_nat_gateway(nat_gateway_id))
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> CloudResult<SecurityGroup> {
        self.mutate(|w| w.create_security_group(vpc_id, name, description, tags))
    }
    async fn authorize_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        self.mutate(|w| w.authorize_ingress(group_id, rules))
    }
    async fn revoke_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        self.mutate(|w| w.revoke_ingress(group_id, rules))
    }
    async fn describe_security_groups(&self, filter: &Filter) -> CloudResult<Vec<SecurityGroup>> {
        self.read(|w| w.describe_security_groups(filter))
    }
    async fn delete_security_group(&self, group_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.delete_security_group(group_id))
    }

    async fn run_instance(&self, request: RunInstanceRequest) -> CloudResult<Instance> {
        self.mutate(|w| w.run_instance(request))
    }
    async fn describe_instances(&self, filter: &Filter) -> CloudResult<Vec<Instance>> {
        self.read(|w| w.describe_instances(filter))
    }
    async fn stop_instance(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.stop_instance(instance_id))
    }
    async fn start_instance(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.start_instance(instance_id))
    }
    async fn terminate_instance(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| w.terminate_instance(instance_id))
    }
    async fn modify_instance_security_groups(&self, instance_id: &str, group_ids: &[String]) -> CloudResult<()> {
        self.mutate(|w| w.modify_instance_security_groups(instance_id, group_ids))
    }

    async fn create_load_balancer(&self, request: CreateLoadBalancerRequest) -> CloudResult<LoadBalancer> {
        let region = self.config().region.clone();
        self.mutate(|w| w.create_load_balancer(request, &region))
    }
    async fn configure_health_check(&self, lb_name: &str, check: HealthCheck) -> CloudResult<HealthCheck> {
        self.mutate(|w| w.configure_health_check(lb_name, check))
    }
    async fn register_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        self.mutate(|w| w.register_instances(lb_name, instance_ids))
    }
    async fn deregister_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        self.mutate(|w| w.deregister_instances(lb_name, instance_ids))
    }
    async fn describe_instance_health(
        &self,
        lb_name: &str,
        instance_ids: &[String],
    ) -> CloudResult<Vec<InstanceHealth>> {
        self.read(|w| w.describe_instance_health(lb_name, instance_ids))
    }
    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        self.read(|w| w.describe_load_balancers(names))
    }
    async fn create_tags(&self, kind: ResourceKind, id: &str, tags: &Tags) -> CloudResult<()> {
        self.mutate(|w| w.create_tags(kind, id, tags))
    }
    async fn delete_load_balancer(&self, lb_name: &str) -> CloudResult<()> {
        self.mutate(|w| {
            w.delete_load_balancer(lb_name);
            Ok(())
        })
    }
}

#[async_trait]
impl Faults for Lab {
    async fn stop_httpd(&self, instance_id: &str) -> CloudResult<()> {
        Lab::stop_httpd(self, instance_id)
    }
    async fn start_httpd(&self, instance_id: &str) -> CloudResult<()> {
        Lab::start_httpd(self, instance_id)
    }
    async fn isolate(&self, instance_id: &str) -> CloudResult<()> {
        Lab::isolate(self, instance_id)
    }
    async fn unisolate(&self, instance_id: &str) -> CloudResult<()> {
        Lab::unisolate(self, instance_id)
    }
}
