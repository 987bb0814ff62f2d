//! The lab's faults for drills: a stopped web server (or reverse proxy) and
//! an instance isolated behind an empty quarantine group.

use super::{Lab, QUARANTINE_GROUP};
use crate::cloud::{CloudResult, TAG_NAME, TAG_STACK, Tags};

impl Lab {
    /// Fault: stop the instance's web server (for a WAF node, its reverse
    /// proxy). The port closes; clients get connection refused.
    pub fn stop_httpd(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| {
            w.instance_mut(instance_id)?.httpd_stopped = true;
            Ok(())
        })
    }

    pub fn start_httpd(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| {
            w.instance_mut(instance_id)?.httpd_stopped = false;
            Ok(())
        })
    }

    /// Fault: swap the instance's groups for an empty quarantine group
    /// (`hawaf-quarantine`, created in the VPC on first use and tagged with
    /// the instance's stack so a teardown finds it).
    pub fn isolate(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| {
            let rec = w.instance_mut(instance_id)?;
            if rec.isolated_from.is_some() {
                return Ok(());
            }
            let vpc_id = rec.instance.vpc_id.clone();
            let stack = rec.instance.tags.get(TAG_STACK).cloned();
            let existing = w
                .snap
                .security_groups
                .values()
                .find(|g| g.vpc_id == vpc_id && g.name == QUARANTINE_GROUP)
                .map(|g| g.id.clone());
            let qid = match existing {
                Some(id) => id,
                None => {
                    let mut tags = Tags::new();
                    tags.insert(TAG_NAME.into(), QUARANTINE_GROUP.into());
                    if let Some(s) = stack {
                        tags.insert(TAG_STACK.into(), s);
                    }
                    w.create_security_group(&vpc_id, QUARANTINE_GROUP, "hawaf drill isolation: no ingress", tags)?.id
                }
            };
            let rec = w.instance_mut(instance_id)?;
            let before = std::mem::replace(&mut rec.instance.security_groups, vec![qid]);
            rec.isolated_from = Some(before);
            Ok(())
        })
    }

    pub fn unisolate(&self, instance_id: &str) -> CloudResult<()> {
        self.mutate(|w| {
            let rec = w.instance_mut(instance_id)?;
            let Some(before) = rec.isolated_from.take() else {
                return Ok(());
            };
            let quarantine = std::mem::replace(&mut rec.instance.security_groups, before);
            // Leave no quarantine group behind once nobody is isolated.
            for q in quarantine {
                if w.snap.security_groups.get(&q).is_some_and(|g| g.name == QUARANTINE_GROUP)
                    && w.delete_security_group(&q).is_err()
                {
                    tracing::debug!(group = %q, "quarantine group still in use");
                }
            }
            Ok(())
        })
    }
}
