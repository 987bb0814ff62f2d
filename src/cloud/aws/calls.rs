//! The `Cloud` port's operations as EC2 and classic-ELB calls.

use super::*;

#[async_trait]
impl Cloud for AwsCloud {
    async fn create_vpc(&self, cidr_block: Ipv4Net, tags: Tags) -> CloudResult<Vpc> {
        let out = (self.ec2().await)
            .create_vpc()
            .cidr_block(cidr_block.to_string())
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::Vpc, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateVpc", e))?;
        to_vpc(out.vpc().ok_or_else(|| missing("CreateVpc", "a VPC"))?)
    }

    async fn describe_vpcs(&self, filter: &Filter) -> CloudResult<Vec<Vpc>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_vpcs()
            .set_vpc_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeVpcs", e))?;
        found.iter().map(to_vpc).collect()
    }

    async fn delete_vpc(&self, vpc_id: &str) -> CloudResult<()> {
        (self.ec2().await).delete_vpc().vpc_id(vpc_id).send().await.map_err(|e| self.error("DeleteVpc", e))?;
        Ok(())
    }

    async fn create_subnet(
        &self,
        vpc_id: &str,
        cidr_block: Ipv4Net,
        availability_zone: &str,
        tags: Tags,
    ) -> CloudResult<Subnet> {
        let request = (self.ec2().await)
            .create_subnet()
            .vpc_id(vpc_id)
            .cidr_block(cidr_block.to_string())
            .availability_zone(availability_zone)
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::Subnet, &tags));
        let out = self.eventually("CreateSubnet", || request.clone().send()).await?;
        to_subnet(out.subnet().ok_or_else(|| missing("CreateSubnet", "a subnet"))?)
    }

    async fn describe_subnets(&self, filter: &Filter) -> CloudResult<Vec<Subnet>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_subnets()
            .set_subnet_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeSubnets", e))?;
        found.iter().map(to_subnet).collect()
    }

    async fn delete_subnet(&self, subnet_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_subnet()
            .subnet_id(subnet_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteSubnet", e))?;
        Ok(())
    }

    async fn create_internet_gateway(&self, tags: Tags) -> CloudResult<InternetGateway> {
        let out = (self.ec2().await)
            .create_internet_gateway()
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::InternetGateway, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateInternetGateway", e))?;
        Ok(to_igw(out.internet_gateway().ok_or_else(|| missing("CreateInternetGateway", "a gateway"))?))
    }

    async fn attach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        let request = (self.ec2().await).attach_internet_gateway().internet_gateway_id(igw_id).vpc_id(vpc_id);
        self.eventually("AttachInternetGateway", || request.clone().send()).await?;
        Ok(())
    }

    async fn detach_internet_gateway(&self, igw_id: &str, vpc_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map_err(|e| self.error("DetachInternetGateway", e))?;
        Ok(())
    }

    async fn delete_internet_gateway(&self, igw_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_internet_gateway()
            .internet_gateway_id(igw_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteInternetGateway", e))?;
        Ok(())
    }

    async fn describe_internet_gateways(&self, filter: &Filter) -> CloudResult<Vec<InternetGateway>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_internet_gateways()
            .set_internet_gateway_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeInternetGateways", e))?;
        Ok(found.iter().map(to_igw).collect())
    }

    async fn create_route_table(&self, vpc_id: &str, tags: Tags) -> CloudResult<RouteTable> {
        let out = (self.ec2().await)
            .create_route_table()
            .vpc_id(vpc_id)
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::RouteTable, &tags))
            .send()
            .await
            .map_err(|e| self.error("CreateRouteTable", e))?;
        Ok(to_route_table(out.route_table().ok_or_else(|| missing("CreateRouteTable", "a route table"))?))
    }

    async fn create_route(&self, route_table_id: &str, destination: Ipv4Net, target: RouteTarget) -> CloudResult<()> {
        let call = (self.ec2().await)
            .create_route()
            .route_table_id(route_table_id)
            .destination_cidr_block(destination.to_string());
        let call = match target {
            RouteTarget::Gateway(id) => call.gateway_id(id),
            RouteTarget::NatGateway(id) => call.nat_gateway_id(id),
            RouteTarget::Local => {
                return Err(CloudError::of(
                    ErrorCode::InvalidParameterValue,
                    "the local route is created by AWS with the VPC and cannot be added",
                ));
            }
        };
        self.eventually("CreateRoute", || call.clone().send()).await?;
        Ok(())
    }

    async fn associate_route_table(&self, route_table_id: &str, subnet_id: &str) -> CloudResult<String> {
        let request = (self.ec2().await).associate_route_table().route_table_id(route_table_id).subnet_id(subnet_id);
        let out = self.eventually("AssociateRouteTable", || request.clone().send()).await?;
        out.association_id().map(str::to_owned).ok_or_else(|| missing("AssociateRouteTable", "an association id"))
    }

    async fn disassociate_route_table(&self, association_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| self.error("DisassociateRouteTable", e))?;
        Ok(())
    }

    async fn describe_route_tables(&self, filter: &Filter) -> CloudResult<Vec<RouteTable>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_route_tables()
            .set_route_table_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeRouteTables", e))?;
        Ok(found.iter().map(to_route_table).collect())
    }

    async fn delete_route_table(&self, route_table_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_route_table()
            .route_table_id(route_table_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteRouteTable", e))?;
        Ok(())
    }

    async fn allocate_address(&self, tags: Tags) -> CloudResult<Address> {
        let out = (self.ec2().await)
            .allocate_address()
            .domain(ec2::types::DomainType::Vpc)
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::ElasticIp, &tags))
            .send()
            .await
            .map_err(|e| self.error("AllocateAddress", e))?;
        Ok(Address {
            allocation_id: out
                .allocation_id()
                .map(str::to_owned)
                .ok_or_else(|| missing("AllocateAddress", "an allocation id"))?,
            public_ip: ip(out.public_ip()).ok_or_else(|| missing("AllocateAddress", "a public IPv4 address"))?,
            association_id: None,
            instance_id: None,
            tags,
        })
    }

    async fn associate_address(&self, allocation_id: &str, instance_id: &str) -> CloudResult<String> {
        let request = (self.ec2().await).associate_address().allocation_id(allocation_id).instance_id(instance_id);
        let out = self.eventually("AssociateAddress", || request.clone().send()).await?;
        out.association_id().map(str::to_owned).ok_or_else(|| missing("AssociateAddress", "an association id"))
    }

    async fn disassociate_address(&self, association_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .disassociate_address()
            .association_id(association_id)
            .send()
            .await
            .map_err(|e| self.error("DisassociateAddress", e))?;
        Ok(())
    }

    async fn describe_addresses(&self, filter: &Filter) -> CloudResult<Vec<Address>> {
        // DescribeAddresses has no pagination: it answers with every address.
        let out = (self.ec2().await)
            .describe_addresses()
            .set_allocation_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .send()
            .await
            .map_err(|e| self.error("DescribeAddresses", e))?;
        Ok(out.addresses().iter().map(to_address).collect())
    }

    async fn release_address(&self, allocation_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .release_address()
            .allocation_id(allocation_id)
            .send()
            .await
            .map_err(|e| self.error("ReleaseAddress", e))?;
        Ok(())
    }

    async fn create_nat_gateway(&self, subnet_id: &str, allocation_id: &str, tags: Tags) -> CloudResult<NatGateway> {
        let request = (self.ec2().await)
            .create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::Natgateway, &tags));
        let out = self.eventually("CreateNatGateway", || request.clone().send()).await?;
        Ok(to_nat(out.nat_gateway().ok_or_else(|| missing("CreateNatGateway", "a NAT gateway"))?))
    }

    async fn describe_nat_gateways(&self, filter: &Filter) -> CloudResult<Vec<NatGateway>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_nat_gateways()
            .set_nat_gateway_ids(ec2_ids(filter))
            .set_filter(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeNatGateways", e))?;
        Ok(found.iter().map(to_nat).collect())
    }

    async fn delete_nat_gateway(&self, nat_gateway_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_nat_gateway()
            .nat_gateway_id(nat_gateway_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteNatGateway", e))?;
        Ok(())
    }

    async fn create_security_group(
        &self,
        vpc_id: &str,
        name: &str,
        description: &str,
        tags: Tags,
    ) -> CloudResult<SecurityGroup> {
        let request = (self.ec2().await)
            .create_security_group()
            .vpc_id(vpc_id)
            .group_name(name)
            .description(description)
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::SecurityGroup, &tags));
        let out = self.eventually("CreateSecurityGroup", || request.clone().send()).await?;
        Ok(SecurityGroup {
            id: out.group_id().map(str::to_owned).ok_or_else(|| missing("CreateSecurityGroup", "a group id"))?,
            vpc_id: vpc_id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            ingress: Vec::new(),
            tags,
        })
    }

    async fn authorize_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        let request = (self.ec2().await)
            .authorize_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(to_permissions(rules)));
        self.eventually("AuthorizeSecurityGroupIngress", || request.clone().send()).await?;
        Ok(())
    }

    async fn revoke_ingress(&self, group_id: &str, rules: &[IngressRule]) -> CloudResult<()> {
        (self.ec2().await)
            .revoke_security_group_ingress()
            .group_id(group_id)
            .set_ip_permissions(Some(to_permissions(rules)))
            .send()
            .await
            .map_err(|e| self.error("RevokeSecurityGroupIngress", e))?;
        Ok(())
    }

    async fn describe_security_groups(&self, filter: &Filter) -> CloudResult<Vec<SecurityGroup>> {
        let found: Vec<_> = (self.ec2().await)
            .describe_security_groups()
            .set_group_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeSecurityGroups", e))?;
        Ok(found.iter().map(to_security_group).collect())
    }

    async fn delete_security_group(&self, group_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .delete_security_group()
            .group_id(group_id)
            .send()
            .await
            .map_err(|e| self.error("DeleteSecurityGroup", e))?;
        Ok(())
    }

    async fn run_instance(&self, request: RunInstanceRequest) -> CloudResult<Instance> {
        let call = (self.ec2().await)
            .run_instances()
            .image_id(&request.image_id)
            .instance_type(ec2::types::InstanceType::from(request.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .subnet_id(&request.subnet_id)
            .set_private_ip_address(request.private_ip.map(|a| a.to_string()))
            .set_security_group_ids(Some(request.security_groups.clone()))
            // RunInstances takes user data base64-encoded; the SDK does not encode it.
            .set_user_data(request.user_data.as_ref().map(|u| base64::engine::general_purpose::STANDARD.encode(u)))
            .set_client_token(request.client_token.clone())
            .set_tag_specifications(tag_spec(ec2::types::ResourceType::Instance, &request.tags));
        let out = self.eventually("RunInstances", || call.clone().send()).await?;
        out.instances().first().map(to_instance).ok_or_else(|| missing("RunInstances", "an instance"))
    }

    async fn describe_instances(&self, filter: &Filter) -> CloudResult<Vec<Instance>> {
        let reservations: Vec<_> = (self.ec2().await)
            .describe_instances()
            .set_instance_ids(ec2_ids(filter))
            .set_filters(Some(ec2_filters(filter)))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeInstances", e))?;
        Ok(reservations.iter().flat_map(|r| r.instances()).map(to_instance).collect())
    }

    async fn stop_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .stop_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("StopInstances", e))?;
        Ok(())
    }

    async fn start_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .start_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("StartInstances", e))?;
        Ok(())
    }

    async fn terminate_instance(&self, instance_id: &str) -> CloudResult<()> {
        (self.ec2().await)
            .terminate_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| self.error("TerminateInstances", e))?;
        Ok(())
    }

    async fn modify_instance_security_groups(&self, instance_id: &str, group_ids: &[String]) -> CloudResult<()> {
        let request = (self.ec2().await)
            .modify_instance_attribute()
            .instance_id(instance_id)
            .set_groups(Some(group_ids.to_vec()));
        self.eventually("ModifyInstanceAttribute", || request.clone().send()).await?;
        Ok(())
    }

    async fn create_load_balancer(&self, request: CreateLoadBalancerRequest) -> CloudResult<LoadBalancer> {
        if request.kind.is_v2() {
            self.learn_kinds([(request.name.clone(), request.kind)]);
            return self.v2_create(request).await;
        }
        let mut listeners = Vec::new();
        for l in &request.listeners {
            listeners.push(built(
                elb::types::Listener::builder()
                    .protocol(&l.protocol)
                    .load_balancer_port(i32::from(l.load_balancer_port))
                    .instance_protocol(&l.instance_protocol)
                    .instance_port(i32::from(l.instance_port))
                    .build(),
            )?);
        }
        let mut tags = Vec::new();
        for (k, v) in &request.tags {
            tags.push(built(elb::types::Tag::builder().key(k).value(v).build())?);
        }
        let call = (self.elb().await)
            .create_load_balancer()
            .load_balancer_name(&request.name)
            .scheme(match request.scheme {
                Scheme::Internal => "internal",
                Scheme::InternetFacing => "internet-facing",
            })
            .set_listeners(Some(listeners))
            .set_subnets(Some(request.subnets.clone()))
            .set_security_groups(Some(request.security_groups.clone()))
            // AWS wants at least one tag when Tags is given.
            .set_tags((!tags.is_empty()).then_some(tags));
        self.eventually("CreateLoadBalancer", || call.clone().send()).await?;
        // CreateLoadBalancer answers with the DNS name only; the engine
        // wants the whole description (subnets, instances, tags).
        self.describe_load_balancers(std::slice::from_ref(&request.name))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| missing("DescribeLoadBalancers", "the load balancer just created"))
    }

    async fn configure_health_check(&self, lb_name: &str, check: HealthCheck) -> CloudResult<HealthCheck> {
        // AWS enforces these bounds server-side; checking first gives the
        // same ValidationError without a round trip (and on emulators that
        // do not enforce them).
        if self.kind_of(lb_name).is_v2() {
            return self.v2_configure_health_check(lb_name, check).await;
        }
        check.validate()?;
        let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let hc = built(
            elb::types::HealthCheck::builder()
                .target(&check.target)
                .interval(as_i32(check.interval))
                .timeout(as_i32(check.timeout))
                .healthy_threshold(as_i32(check.healthy_threshold))
                .unhealthy_threshold(as_i32(check.unhealthy_threshold))
                .build(),
        )?;
        let request = (self.elb().await).configure_health_check().load_balancer_name(lb_name).health_check(hc);
        let out = self.eventually("ConfigureHealthCheck", || request.clone().send()).await?;
        Ok(to_health_check(out.health_check()))
    }

    async fn register_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        if self.kind_of(lb_name).is_v2() {
            return self.v2_register(lb_name, instance_ids).await;
        }
        let request = (self.elb().await)
            .register_instances_with_load_balancer()
            .load_balancer_name(lb_name)
            .set_instances(Some(elb_instances(instance_ids)));
        let out = self.eventually("RegisterInstancesWithLoadBalancer", || request.clone().send()).await?;
        Ok(out.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect())
    }

    async fn deregister_instances(&self, lb_name: &str, instance_ids: &[String]) -> CloudResult<Vec<String>> {
        if self.kind_of(lb_name).is_v2() {
            return self.v2_deregister(lb_name, instance_ids).await;
        }
        let out = (self.elb().await)
            .deregister_instances_from_load_balancer()
            .load_balancer_name(lb_name)
            .set_instances(Some(elb_instances(instance_ids)))
            .send()
            .await
            .map_err(|e| self.error("DeregisterInstancesFromLoadBalancer", e))?;
        Ok(out.instances().iter().filter_map(|i| i.instance_id().map(str::to_owned)).collect())
    }

    async fn describe_instance_health(
        &self,
        lb_name: &str,
        instance_ids: &[String],
    ) -> CloudResult<Vec<InstanceHealth>> {
        if self.kind_of(lb_name).is_v2() {
            return self.v2_health(lb_name, instance_ids).await;
        }
        let out = (self.elb().await)
            .describe_instance_health()
            .load_balancer_name(lb_name)
            .set_instances((!instance_ids.is_empty()).then(|| elb_instances(instance_ids)))
            .send()
            .await
            .map_err(|e| self.error("DescribeInstanceHealth", e))?;
        Ok(out
            .instance_states()
            .iter()
            .map(|s| InstanceHealth {
                instance_id: owned(s.instance_id()),
                state: to_health_state(s.state()),
                // AWS: `ELB` (the LB's side), `Instance` (the check failed) or `N/A`.
                reason_code: s.reason_code().unwrap_or("N/A").to_owned(),
                description: s.description().unwrap_or("N/A").to_owned(),
            })
            .collect())
    }

    async fn describe_load_balancers(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        // Each name on its own API; no names means every load balancer of both.
        let (v2, classic): (Vec<String>, Vec<String>) = names.iter().cloned().partition(|n| self.kind_of(n).is_v2());
        let mut out = Vec::new();
        if names.is_empty() || !v2.is_empty() {
            out.extend(self.v2_describe(&v2).await?);
        }
        if names.is_empty() || !classic.is_empty() {
            out.extend(self.classic_describe(&classic).await?);
        }
        Ok(out)
    }

    async fn delete_load_balancer(&self, lb_name: &str) -> CloudResult<()> {
        if self.kind_of(lb_name).is_v2() {
            return self.v2_delete(lb_name).await;
        }
        (self.elb().await)
            .delete_load_balancer()
            .load_balancer_name(lb_name)
            .send()
            .await
            .map_err(|e| self.error("DeleteLoadBalancer", e))?;
        Ok(())
    }

    async fn create_tags(&self, kind: ResourceKind, id: &str, tags: &Tags) -> CloudResult<()> {
        if kind == ResourceKind::LoadBalancer && self.kind_of(id).is_v2() {
            return self.v2_add_tags(id, tags).await;
        }
        if kind == ResourceKind::LoadBalancer {
            let mut list = Vec::new();
            for (k, v) in tags {
                list.push(built(elb::types::Tag::builder().key(k).value(v).build())?);
            }
            (self.elb().await)
                .add_tags()
                .load_balancer_names(id)
                .set_tags(Some(list))
                .send()
                .await
                .map_err(|e| self.error("AddTags", e))?;
            return Ok(());
        }
        let list = tags.iter().map(|(k, v)| ec2::types::Tag::builder().key(k).value(v).build()).collect();
        (self.ec2().await)
            .create_tags()
            .resources(id)
            .set_tags(Some(list))
            .send()
            .await
            .map_err(|e| self.error("CreateTags", e))?;
        Ok(())
    }
}

impl AwsCloud {
    /// Classic ELB's DescribeLoadBalancers, with each one's tags.
    async fn classic_describe(&self, names: &[String]) -> CloudResult<Vec<LoadBalancer>> {
        let client = self.elb().await;
        let found: Vec<_> = client
            .describe_load_balancers()
            .set_load_balancer_names((!names.is_empty()).then(|| names.to_vec()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(|e| self.error("DescribeLoadBalancers", e))?;
        // Tags are not part of the description: the engine needs them to
        // tell its own load balancers from others of the same name.
        let mut tags: HashMap<String, Tags> = HashMap::new();
        let all: Vec<String> = found.iter().filter_map(|d| d.load_balancer_name().map(str::to_owned)).collect();
        for chunk in all.chunks(ELB_TAGS_PER_CALL) {
            let out = client
                .describe_tags()
                .set_load_balancer_names(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| self.error("DescribeTags", e))?;
            for d in out.tag_descriptions() {
                let map = d.tags().iter().map(|t| (t.key().to_owned(), t.value().unwrap_or_default().to_owned()));
                tags.insert(owned(d.load_balancer_name()), map.collect());
            }
        }
        Ok(found
            .iter()
            .map(|d| {
                let t = d.load_balancer_name().and_then(|n| tags.get(n)).cloned().unwrap_or_default();
                to_load_balancer(d, t)
            })
            .collect())
    }
}
