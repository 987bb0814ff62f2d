//! The in-process event bus: everything that happens (build steps, API
//! calls, health changes, drill progress) is published here, and SSE streams
//! render it for browsers. What must last is written to SQLite first.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    BuildStarted {
        stack: String,
        build_id: i64,
        kind: String,
    },
    StepChanged {
        stack: String,
        build_id: i64,
        step: u8,
        status: String,
        progress: String,
        error: Option<String>,
    },
    ApiCall {
        stack: String,
        build_id: i64,
        step: u8,
        operation: String,
        target: String,
        outcome: String,
        duration_ms: i64,
    },
    BuildFinished {
        stack: String,
        build_id: i64,
        status: String,
        error: Option<String>,
    },
    /// A drill's phase, marks or probes changed (probes: at most twice a second).
    DrillProgress {
        stack: String,
        drill_id: i64,
    },
    DrillFinished {
        stack: String,
        drill_id: i64,
    },
    /// The stack's health snapshot changed (read it from the monitors).
    HealthChanged {
        stack: String,
    },
    HealthTransition {
        stack: String,
        transition: Transition,
    },
    /// A drift check ended (its report is stored).
    DriftChecked {
        stack: String,
        status: String,
    },
}

impl Event {
    pub fn stack(&self) -> &str {
        match self {
            Event::BuildStarted { stack, .. }
            | Event::StepChanged { stack, .. }
            | Event::ApiCall { stack, .. }
            | Event::BuildFinished { stack, .. }
            | Event::DrillProgress { stack, .. }
            | Event::DrillFinished { stack, .. }
            | Event::HealthChanged { stack }
            | Event::HealthTransition { stack, .. }
            | Event::DriftChecked { stack, .. } => stack,
        }
    }
}

/// A state change seen between two polls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// `external`, `internal` or `waf`.
    pub tier: String,
    pub node: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub at: i64,
}

/// Cheap to clone; a slow subscriber misses events (and is told so by the
/// channel) instead of slowing publishers down.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        Bus { tx: broadcast::channel(capacity).0 }
    }

    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody is watching right now.
        let _ = self.tx.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new(4096)
    }
}
