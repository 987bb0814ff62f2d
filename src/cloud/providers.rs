//! Which `Cloud` a stack's definition talks to: the embedded lab, or AWS.

use std::sync::Arc;
use std::time::Duration;

use super::{Cloud, Faults};
use crate::lab::{Lab, LabConfig, LabSnapshot};
use crate::stack::{Provider, StackDefinition};
use crate::store::Store;

pub struct Providers {
    lab: Lab,
}

impl Providers {
    pub fn new(lab: Lab) -> Self {
        Providers { lab }
    }

    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    pub fn cloud_for(&self, def: &StackDefinition) -> Result<Arc<dyn Cloud>, String> {
        match def.provider() {
            Provider::Lab => Ok(Arc::new(self.lab.clone())),
            Provider::Aws => Err("this server has no aws provider yet: set the stack's provider to lab".into()),
        }
    }

    pub fn faults_for(&self, def: &StackDefinition) -> Result<Arc<dyn Faults>, String> {
        match def.provider() {
            Provider::Lab => Ok(Arc::new(self.lab.clone())),
            Provider::Aws => Err("this server has no aws provider yet: set the stack's provider to lab".into()),
        }
    }
}

/// Brings the lab back as the database last saw it (or starts an empty one)
/// and keeps the database up to date with every change the lab makes.
pub async fn start_lab(store: &Store, config: LabConfig) -> Result<Lab, crate::store::StoreError> {
    let lab = match store.lab_snapshot().await? {
        Some(text) => match serde_json::from_str::<LabSnapshot>(&text) {
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
    let (saver_lab, saver_store) = (lab.clone(), store.clone());
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
                    if let Err(e) = saver_store.save_lab_snapshot(&text).await {
                        tracing::error!(error = %e, "cannot save the lab state");
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot serialise the lab state"),
            }
        }
    });
    Ok(lab)
}
