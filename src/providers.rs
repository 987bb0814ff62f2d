//! Which `Cloud` a stack's definition talks to: the embedded lab, or AWS.
//! The port (`cloud`) knows no adapter; this is where they are wired.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::cloud::aws::{AwsCloud, AwsTarget, AwsTuning};
use crate::cloud::{Cloud, Faults};
use crate::lab::{Lab, LabConfig, LabSnapshot};
use crate::secret::SecretBox;
use crate::stack::{AwsSettings, Outbound, Provider, StackDefinition};
use crate::store::Store;

pub struct Providers {
    /// The running lab, once this replica leads (at start, or on taking the
    /// lead over); until then `idle`, an empty lab with no servers, which a
    /// follower never drives since it forwards every request.
    lab: std::sync::OnceLock<Lab>,
    idle: Lab,
    aws_tuning: AwsTuning,
    /// One client set per region, profile and endpoint: SDK clients hold
    /// connection pools and cached credentials worth keeping between builds.
    aws: Mutex<HashMap<AwsTarget, Arc<AwsCloud>>>,
    /// Checked again at every use: a stack saved under a looser policy
    /// (an older hawaf, another --allow-endpoint) cannot aim calls past it.
    outbound: Outbound,
}

impl Providers {
    /// Providers whose lab is `idle` until `set_lab`. Must be called inside a Tokio runtime.
    pub fn new(lab_config: LabConfig, aws_tuning: AwsTuning, outbound: Outbound) -> Self {
        Providers {
            lab: std::sync::OnceLock::new(),
            idle: Lab::new(lab_config),
            aws_tuning,
            aws: Mutex::new(HashMap::new()),
            outbound,
        }
    }

    /// Installs the running lab; a replica leads once in its life, so a
    /// second call is a bug and is refused.
    pub fn set_lab(&self, lab: Lab) -> Result<(), Lab> {
        self.lab.set(lab)
    }

    fn aws_checked(&self, settings: &AwsSettings) -> Result<Arc<AwsCloud>, String> {
        if let Some(url) = settings.endpoint_url() {
            self.outbound.check(url.as_str()).map_err(|reason| format!("aws.endpoint_url: {reason}"))?;
        }
        Ok(self.aws_for(settings))
    }

    pub fn lab(&self) -> &Lab {
        self.lab.get().unwrap_or(&self.idle)
    }

    pub fn cloud_for(&self, def: &StackDefinition) -> Result<Arc<dyn Cloud>, String> {
        match def.provider() {
            Provider::Lab => Ok(Arc::new(self.lab().clone())),
            Provider::Aws => {
                let aws = self.aws_checked(def.aws())?;
                aws.learn_kinds(
                    crate::stack::LbRole::ALL.iter().map(|r| (def.load_balancer(*r).to_string(), def.lb_kind(*r))),
                );
                Ok(aws)
            }
        }
    }

    /// Fault injection for drills, on the same provider as `cloud_for`.
    pub fn faults_for(&self, def: &StackDefinition) -> Result<Arc<dyn Faults>, String> {
        match def.provider() {
            Provider::Lab => Ok(Arc::new(self.lab().clone())),
            Provider::Aws => Ok(self.aws_checked(def.aws())?),
        }
    }

    /// The AWS adapter for a stack's settings, shared by every stack with
    /// the same region, profile and endpoint.
    pub fn aws_for(&self, settings: &AwsSettings) -> Arc<AwsCloud> {
        let target = AwsTarget {
            region: settings.region().as_str().to_owned(),
            profile: settings.profile().map(|p| p.as_str().to_owned()),
            endpoint_url: settings.endpoint_url().map(|u| u.as_str().to_owned()),
        };
        // The map is only ever inserted into, so a panic elsewhere while
        // holding the lock cannot leave it half-updated: poison is harmless.
        let mut cache = self.aws.lock().unwrap_or_else(PoisonError::into_inner);
        cache.entry(target.clone()).or_insert_with(|| Arc::new(AwsCloud::new(target, self.aws_tuning))).clone()
    }
}

/// What the lab's saved state is sealed for.
const LAB_STATE: &str = "lab-state";

/// The saved state as JSON: sealed (it holds the lab nodes' API tokens and
/// TLS keys, as real ones are), or plain as older hawafs saved it.
fn unseal(secrets: &SecretBox, stored: &str) -> Result<String, String> {
    if stored.trim_start().starts_with('{') {
        return Ok(stored.to_owned());
    }
    secrets.open_for(stored, LAB_STATE).map(|s| s.expose().to_owned()).map_err(|e| e.to_string())
}

/// Brings the lab back as the database last saw it (or starts an empty one)
/// and keeps the database up to date with every change the lab makes.
pub async fn start_lab(store: &Store, config: LabConfig, secrets: &SecretBox) -> Result<Lab, crate::store::StoreError> {
    let lab = match store.lab_snapshot().await? {
        Some(text) => match unseal(secrets, &text)
            .and_then(|json| serde_json::from_str::<LabSnapshot>(&json).map_err(|e| e.to_string()))
        {
            Ok(snapshot) => Lab::restore(config, snapshot),
            Err(e) => {
                // Keep the unreadable state for a human rather than overwrite it silently.
                tracing::error!(error = %e, "the saved lab state cannot be read; starting an empty lab");
                store.save_lab_snapshot_backup(&text).await?;
                Lab::new(config)
            }
        },
        None => Lab::new(config),
    };
    let mut changes = lab.subscribe();
    let (saver_lab, saver_store, saver_secrets) = (lab.clone(), store.clone(), secrets.clone());
    // The saver holds a clone of the lab, which keeps its servers running for
    // as long as the runtime that serves the dashboard.
    tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            // Coalesce bursts (a build makes dozens of calls in a second).
            tokio::time::sleep(Duration::from_millis(50)).await;
            changes.borrow_and_update();
            let snapshot = saver_lab.snapshot();
            match serde_json::to_string(&snapshot) {
                Ok(text) => {
                    let sealed = saver_secrets.seal_for(&text, LAB_STATE);
                    if let Err(e) = saver_store.save_lab_snapshot(&sealed).await {
                        tracing::error!(error = %e, "cannot save the lab state");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot serialise the lab state"),
            }
        }
    });
    Ok(lab)
}
