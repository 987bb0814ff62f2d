//! What a running step holds: the stack, the cloud, and the means to record
//! every call, resource and bit of progress as it happens.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::StepError;
use crate::SharedApp;
use crate::cloud::{Cloud, CloudResult, TAG_NAME, TAG_STACK, Tags};
use crate::events::Event;
use crate::stack::StackDefinition;

/// How often to look again while waiting, and for how long at most.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub poll: Duration,
    pub instance_running: Duration,
    /// Added to what the health check itself needs to pass.
    pub in_service_slack: Duration,
    /// How long requests in flight get after an instance is deregistered
    /// before it is stopped or terminated (connection draining).
    pub drain: Duration,
}

impl Timing {
    /// The lab answers at once; only its health checks take time.
    pub const LAB: Timing = Timing {
        poll: Duration::from_millis(200),
        instance_running: Duration::from_secs(30),
        in_service_slack: Duration::from_secs(30),
        drain: Duration::from_secs(1),
    };
    /// AWS: instances take minutes to boot, UTM appliances longer.
    pub const AWS: Timing = Timing {
        poll: Duration::from_secs(5),
        instance_running: Duration::from_secs(15 * 60),
        in_service_slack: Duration::from_secs(15 * 60),
        // Requests to a web site end in seconds; hawaf creates its load
        // balancers without longer connection draining.
        drain: Duration::from_secs(30),
    };

    pub fn of(provider: crate::stack::Provider) -> Timing {
        match provider {
            crate::stack::Provider::Lab => Timing::LAB,
            crate::stack::Provider::Aws => Timing::AWS,
        }
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub app: SharedApp,
    pub stack: Arc<str>,
    pub stack_id: i64,
    pub build_id: i64,
    pub step: u8,
    pub def: Arc<StackDefinition>,
    pub cloud: Arc<dyn Cloud>,
    pub timing: Timing,
    /// One call at a time (`Config::build_serial`).
    pub serial: bool,
}

impl Ctx {
    /// A build's context for `stack`, timed for its provider.
    pub fn new(app: &SharedApp, stack: crate::stack::Stack, build_id: i64, cloud: Arc<dyn Cloud>, serial: bool) -> Ctx {
        Ctx {
            app: app.clone(),
            stack: Arc::from(stack.row.name.as_str()),
            stack_id: stack.row.id,
            build_id,
            step: 0,
            timing: Timing::of(stack.definition.provider()),
            def: Arc::new(stack.definition),
            cloud,
            serial,
        }
    }

    pub fn for_step(&self, step: u8) -> Ctx {
        Ctx { step, ..self.clone() }
    }

    /// Runs independent work (one future per instance or node) all at once,
    /// or one after the other when the build is serial; stops at the first error.
    pub fn all<I, F, T>(&self, work: I) -> impl Future<Output = Result<Vec<T>, StepError>> + use<I, F, T>
    where
        I: IntoIterator<Item = F>,
        F: Future<Output = Result<T, StepError>>,
    {
        // Collected before the returned future exists, so it holds only the
        // futures (which are lazy: none has started), not the iterator and its
        // closures, which would not be Send for every lifetime.
        let work: Vec<F> = work.into_iter().collect();
        let serial = self.serial;
        async move {
            if !serial {
                return futures::future::try_join_all(work).await;
            }
            let mut out = Vec::with_capacity(work.len());
            for item in work {
                out.push(item.await?);
            }
            Ok(out)
        }
    }

    /// Runs one cloud call, recording it (operation, target, outcome,
    /// duration) in the build's call log and on the event bus.
    pub async fn call<T>(
        &self,
        operation: &'static str,
        target: impl Into<String>,
        call: impl Future<Output = CloudResult<T>>,
    ) -> Result<T, StepError> {
        let target = target.into();
        let started = Instant::now();
        let result = call.await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code.clone(),
        };
        self.log_call(operation, &target, &outcome, duration_ms).await?;
        result.map_err(|error| StepError::Cloud { operation, target, error })
    }

    /// Adds a row to the build's call log and shows it live.
    pub async fn log_call(
        &self,
        operation: &str,
        target: &str,
        outcome: &str,
        duration_ms: i64,
    ) -> Result<(), StepError> {
        self.app.store.record_call(self.build_id, self.step, operation, target, outcome, duration_ms).await?;
        self.app.bus.publish(Event::ApiCall {
            stack: self.stack.to_string(),
            build_id: self.build_id,
            step: self.step,
            operation: operation.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
            duration_ms,
        });
        Ok(())
    }

    /// A call made while polling: only failures go to the call log (a wait
    /// makes dozens of identical calls; `wait_until` logs one summary line).
    pub async fn poll<T>(
        &self,
        operation: &'static str,
        target: impl Into<String>,
        call: impl Future<Output = CloudResult<T>>,
    ) -> Result<T, StepError> {
        let target = target.into();
        match call.await {
            Ok(v) => Ok(v),
            Err(error) => {
                self.app.store.record_call(self.build_id, self.step, operation, &target, &error.code, 0).await?;
                Err(StepError::Cloud { operation, target, error })
            }
        }
    }

    /// Like `call`, but an error with one of `done_codes` means the work was
    /// already done (a rule that exists, a route already there) and counts as success.
    pub async fn call_done_if(
        &self,
        operation: &'static str,
        target: impl Into<String>,
        done_codes: &[&str],
        call: impl Future<Output = CloudResult<()>>,
    ) -> Result<(), StepError> {
        match self.call(operation, target, call).await {
            Err(StepError::Cloud { error, .. }) if done_codes.contains(&error.code.as_str()) => Ok(()),
            other => other,
        }
    }

    /// `Name` and `hawaf:stack`: how every resource is found again.
    pub fn tags(&self, name: &str) -> Tags {
        Tags::from([(TAG_NAME.to_owned(), name.to_owned()), (TAG_STACK.to_owned(), self.stack.to_string())])
    }

    pub async fn record(&self, logical: &str, physical: &str, attributes: Value) -> Result<(), StepError> {
        self.app.store.record_resource(self.stack_id, logical, physical, &attributes.to_string(), self.step).await?;
        Ok(())
    }

    /// The physical id a previous step recorded for `logical`.
    pub async fn id_of(&self, logical: &str) -> Result<String, StepError> {
        self.resource(logical).await.map(|(id, _)| id)
    }

    pub async fn resource(&self, logical: &str) -> Result<(String, Value), StepError> {
        let rows = self.app.store.live_resources(self.stack_id).await?;
        rows.into_iter()
            .find(|r| r.logical_id == logical)
            .map(|r| (r.physical_id, serde_json::from_str(&r.attributes).unwrap_or(Value::Null)))
            .ok_or_else(|| StepError::Missing(logical.to_owned()))
    }

    pub async fn progress(&self, text: impl Into<String>) -> Result<(), StepError> {
        let text = text.into();
        self.app.store.set_step_progress(self.build_id, self.step, &text).await?;
        self.app.bus.publish(Event::StepChanged {
            stack: self.stack.to_string(),
            build_id: self.build_id,
            step: self.step,
            status: crate::contract::StepStatus::Running.as_str().to_owned(),
            progress: text,
            error: None,
        });
        Ok(())
    }

    /// Polls `check` until it says done, reporting its progress text, or
    /// gives up after `limit` with what was last seen.
    pub async fn wait_until<F, Fut>(&self, what: &str, limit: Duration, mut check: F) -> Result<(), StepError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(bool, String), StepError>>,
    {
        let started = Instant::now();
        let deadline = started + limit;
        let mut last = String::new();
        let mut polls = 0u32;
        loop {
            let (done, seen) = check().await?;
            polls += 1;
            if seen != last {
                self.progress(seen.clone()).await?;
                last = seen;
            }
            let timed_out = !done && Instant::now() >= deadline;
            if done || timed_out {
                let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
                let outcome =
                    if done { format!("ok after {polls} polls") } else { format!("timed out after {polls} polls") };
                self.log_call("Wait", what, &outcome, ms).await?;
                if done {
                    return Ok(());
                }
                return Err(StepError::Timeout { what: what.to_owned(), after: limit, last });
            }
            tokio::time::sleep(self.timing.poll).await;
        }
    }
}
