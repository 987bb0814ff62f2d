//! Things a definition allows but the user should see before building.

use super::definition::{Provider, StackDefinition, SubnetMode};
use super::fields::Warning;
use super::preset::{SEED_REGION, SEED_UTM_AMI};
use super::roles::InstanceRole;

impl StackDefinition {
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        if self.admin_cidr().is_whole_internet() {
            warnings.push(Warning::new(
                "admin_cidr",
                "ports 22 (SSH to web servers) and 4444 (UTM WebAdmin) are open to the whole internet",
            ));
        }
        if self.subnet_mode() == SubnetMode::Tutorial {
            warnings.push(Warning::new(
                "subnet_mode",
                "tutorial mode puts the web servers in public subnets; the seed recommends protected \
                 subnets for production",
            ));
        }
        let region = self.region();
        if self.provider() == Provider::Aws && region.as_str() != SEED_REGION {
            for role in [InstanceRole::WafLeft, InstanceRole::WafRight] {
                if self.instance(role).ami().as_str() == SEED_UTM_AMI {
                    warnings.push(Warning::new(
                        format!("instances.{role}.ami"),
                        format!(
                            "{SEED_UTM_AMI} is the preset's UTM 9 AMI for {SEED_REGION}; set the UTM 9 \
                             Marketplace AMI for {region}"
                        ),
                    ));
                }
            }
        }
        warnings
    }
}
