//! Live updates over Server-Sent Events: each browser gets the current state
//! first, then every change for its stack as an HTML fragment that htmx swaps
//! in. Nothing in the browser polls.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::OnceCell;
use tokio::sync::broadcast::error::RecvError;

use super::error::{Error, PageError};
use super::pages::builds::{CallRowView, CallView, step_card_html, wizard_body};
use super::pages::ops::{Ops, load_ops};
use super::session::Viewer;
use crate::SharedApp;
use crate::auth::Role;
use crate::events::Event;
use crate::stack;
use crate::store::CallRow;

/// The whole wizard as separate fragments (header, then each step), so
/// every target element stays in place and keeps listening.
async fn wizard_events(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<Vec<SseEvent>, Error> {
    let body = wizard_body(app, name, can_operate, csrf).await?;
    let internal = |e: askama::Error| Error::Internal(e.to_string());
    let mut events = vec![SseEvent::default().event("build-head").data(body.head_html().map_err(internal)?)];
    for step in &body.steps {
        events.push(
            SseEvent::default().event(format!("step-{}", step.number)).data(body.step_html(step).map_err(internal)?),
        );
    }
    Ok(events)
}

/// The operations view's fragments, freshly loaded for one subscriber.
async fn ops_events(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<Vec<SseEvent>, Error> {
    SharedOps::load(app, name).await?.events(can_operate, csrf)
}

/// The operations view's user-independent panels, rendered once.
struct SharedOps {
    /// Kept for the nodes panel, whose buttons carry each user's CSRF token.
    ops: Ops,
    timeline: String,
    topology: String,
    tiers: [String; 2],
}

impl SharedOps {
    async fn load(app: &SharedApp, name: &str) -> Result<SharedOps, Error> {
        let ops = load_ops(app, name, false, "").await?;
        let internal = |e: askama::Error| Error::Internal(e.to_string());
        Ok(SharedOps {
            timeline: ops.timeline_html().map_err(internal)?,
            topology: ops.topology_html().map_err(internal)?,
            tiers: [ops.tier_html(0).map_err(internal)?, ops.tier_html(1).map_err(internal)?],
            ops,
        })
    }

    fn events(&self, can_operate: bool, csrf: &str) -> Result<Vec<SseEvent>, Error> {
        let nodes = self.ops.nodes_html_as(can_operate, csrf).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(vec![
            SseEvent::default().event("timeline").data(self.timeline.as_str()),
            SseEvent::default().event("topology").data(self.topology.as_str()),
            SseEvent::default().event("tier-external").data(self.tiers[0].as_str()),
            SseEvent::default().event("tier-internal").data(self.tiers[1].as_str()),
            SseEvent::default().event("nodes").data(nodes),
        ])
    }
}

type Cell = Arc<OnceCell<Arc<SharedOps>>>;

/// One health event reaches every subscriber of its stack at once; the first
/// to handle it loads and renders the panels, the others reuse that (a
/// thousand subscribers used to mean a thousand rounds of database reads and
/// templates for one transition; scripts/bench, measure 3).
#[derive(Default)]
pub struct Renders {
    /// Per stack, the latest health event and its rendering.
    latest: Mutex<HashMap<String, (Arc<Event>, Cell)>>,
}

impl Renders {
    async fn ops(&self, app: &SharedApp, event: &Arc<Event>) -> Result<Arc<SharedOps>, Error> {
        let cell = {
            // Plain map updates: a poisoned lock is still consistent.
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            match latest.get(event.stack()) {
                // The same Arc: the very event this subscriber holds.
                Some((seen, cell)) if Arc::ptr_eq(seen, event) => cell.clone(),
                _ => {
                    let cell = Cell::default();
                    latest.insert(event.stack().to_owned(), (event.clone(), cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_try_init(|| async { SharedOps::load(app, event.stack()).await.map(Arc::new) }).await.cloned()
    }
}

/// Turns one bus event into the fragment the page needs, if it is about this stack.
async fn render(
    app: &SharedApp,
    name: &str,
    can_operate: bool,
    csrf: &str,
    event: &Arc<Event>,
) -> Result<Vec<SseEvent>, Error> {
    if event.stack() != name {
        return Ok(Vec::new());
    }
    Ok(vec![match event.as_ref() {
        Event::BuildStarted { .. } | Event::BuildFinished { .. } => {
            return wizard_events(app, name, can_operate, csrf).await;
        }
        Event::HealthChanged { .. } => return app.renders.ops(app, event).await?.events(can_operate, csrf),
        // The monitor follows its transitions with HealthChanged at once, whose
        // panels include the timeline: rendering both would send every subscriber
        // the timeline twice and wake it twice per change (scripts/bench, measure 3).
        Event::HealthTransition { .. } => return Ok(Vec::new()),
        Event::StepChanged { build_id, step, .. } => {
            let html = step_card_html(app, name, *build_id, *step, can_operate, csrf).await?;
            SseEvent::default().event(format!("step-{step}")).data(html)
        }
        Event::ApiCall { step, operation, target, outcome, duration_ms, .. } => {
            let row = CallRow {
                id: 0,
                step: i64::from(*step),
                at: crate::store::now_ms(),
                operation: operation.clone(),
                target: target.clone(),
                outcome: outcome.clone(),
                duration_ms: *duration_ms,
            };
            let view = CallView::from(&row);
            let html = CallRowView { call: &view }.render().map_err(|e| Error::Internal(e.to_string()))?;
            SseEvent::default().event(format!("call-{step}")).data(html)
        }
        // The drill page has its own stream.
        Event::DrillProgress { .. } | Event::DrillFinished { .. } => return Ok(Vec::new()),
    }])
}

pub async fn stack_events(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, PageError> {
    stack::load(&app.store, &name).await?;
    let can_operate = user.role >= Role::Operator;
    let csrf = if can_operate { user.csrf } else { String::new() };
    // Subscribe before rendering the snapshot, so nothing falls between the two.
    let rx = app.bus.subscribe();
    let mut first = wizard_events(&app, &name, can_operate, &csrf).await?;
    first.extend(ops_events(&app, &name, can_operate, &csrf).await?);
    let updates = stream::unfold((app, rx, name, csrf), move |(app, mut rx, name, csrf)| async move {
        loop {
            let events = match rx.recv().await {
                Ok(e) => render(&app, &name, can_operate, &csrf, &e).await,
                // Missed some: send the whole state again rather than a gap.
                Err(RecvError::Lagged(_)) => match wizard_events(&app, &name, can_operate, &csrf).await {
                    Ok(mut all) => ops_events(&app, &name, can_operate, &csrf).await.map(|ops| {
                        all.extend(ops);
                        all
                    }),
                    Err(e) => Err(e),
                },
                Err(RecvError::Closed) => return None,
            };
            match events {
                Ok(events) if !events.is_empty() => return Some((events, (app, rx, name, csrf))),
                Ok(_) => continue,
                Err(e) => tracing::warn!(error = %e, "cannot render a live update"),
            }
        }
    });
    let stream = stream::iter(first).chain(updates.flat_map(stream::iter)).map(Ok::<_, Infallible>);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
