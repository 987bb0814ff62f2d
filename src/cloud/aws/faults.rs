//! Faults for drills on AWS: stop and start instances, isolate them in a
//! quarantine security group.

use super::*;

impl AwsCloud {
    async fn one_instance(&self, instance_id: &str) -> CloudResult<Instance> {
        self.describe_instances(&Filter::ids([instance_id])).await?.into_iter().next().ok_or_else(|| {
            CloudError::of(
                ErrorCode::InvalidInstanceIdNotFound,
                format!("The instance ID '{instance_id}' does not exist"),
            )
        })
    }

    /// The VPC's quarantine group: found by name (unique per VPC) or made,
    /// tagged with the stack so that a teardown removes it too.
    async fn quarantine_group(&self, vpc_id: &str, stack: Option<&String>) -> CloudResult<String> {
        if let Some(id) = self.find_quarantine_group(vpc_id).await? {
            return Ok(id);
        }
        let mut tags = Tags::from([(TAG_NAME.to_owned(), QUARANTINE_GROUP.to_owned())]);
        if let Some(stack) = stack {
            tags.insert(TAG_STACK.to_owned(), stack.clone());
        }
        let group =
            self.create_security_group(vpc_id, QUARANTINE_GROUP, "hawaf drill isolation: no ingress", tags).await?;
        Ok(group.id)
    }

    async fn find_quarantine_group(&self, vpc_id: &str) -> CloudResult<Option<String>> {
        let by_name = [
            ec2::types::Filter::builder().name("vpc-id").values(vpc_id).build(),
            ec2::types::Filter::builder().name("group-name").values(QUARANTINE_GROUP).build(),
        ];
        let out = (self.ec2().await)
            .describe_security_groups()
            .set_filters(Some(by_name.to_vec()))
            .send()
            .await
            .map_err(|e| self.error("DescribeSecurityGroups", e))?;
        Ok(out.security_groups().first().and_then(|g| g.group_id()).map(str::to_owned))
    }
}

#[async_trait]
impl Faults for AwsCloud {
    async fn stop_httpd(&self, _instance_id: &str) -> CloudResult<()> {
        Err(unsupported_httpd())
    }

    async fn start_httpd(&self, _instance_id: &str) -> CloudResult<()> {
        Err(unsupported_httpd())
    }

    /// Swaps the instance's groups for the VPC's quarantine group (no
    /// ingress). The original groups are written to an instance tag first,
    /// so a crash in between leaves something `unisolate` can undo.
    async fn isolate(&self, instance_id: &str) -> CloudResult<()> {
        let instance = self.one_instance(instance_id).await?;
        if instance.tags.contains_key(TAG_ISOLATED_FROM) {
            return Ok(());
        }
        let quarantine = self.quarantine_group(&instance.vpc_id, instance.tags.get(TAG_STACK)).await?;
        (self.ec2().await)
            .create_tags()
            .resources(instance_id)
            .tags(ec2::types::Tag::builder().key(TAG_ISOLATED_FROM).value(instance.security_groups.join(",")).build())
            .send()
            .await
            .map_err(|e| self.error("CreateTags", e))?;
        self.modify_instance_security_groups(instance_id, &[quarantine]).await
    }

    async fn unisolate(&self, instance_id: &str) -> CloudResult<()> {
        let instance = self.one_instance(instance_id).await?;
        let Some(before) = instance.tags.get(TAG_ISOLATED_FROM) else {
            return Ok(());
        };
        let groups: Vec<String> = before.split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect();
        if !groups.is_empty() {
            self.modify_instance_security_groups(instance_id, &groups).await?;
        }
        (self.ec2().await)
            .delete_tags()
            .resources(instance_id)
            .tags(ec2::types::Tag::builder().key(TAG_ISOLATED_FROM).build())
            .send()
            .await
            .map_err(|e| self.error("DeleteTags", e))?;
        // Leave no quarantine group behind once nobody is isolated; while
        // another instance still uses it AWS refuses, which is fine.
        if let Some(group) = self.find_quarantine_group(&instance.vpc_id).await? {
            match self.delete_security_group(&group).await {
                Ok(()) => {}
                Err(e) if e.is(ErrorCode::DependencyViolation) || e.is_not_found() => {
                    tracing::debug!(group = %group, "quarantine group still in use");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

pub(super) fn unsupported_httpd() -> CloudError {
    CloudError::of(
        ErrorCode::UnsupportedOperation,
        "stopping or starting httpd needs a command run on the instance, which the EC2 API cannot do (it takes \
         AWS Systems Manager, which hawaf does not use): use the stop-instance or isolate fault on AWS stacks",
    )
}
