//! Live updates over Server-Sent Events: each browser gets the current state
//! first, then every change for its stack as an HTML fragment that htmx swaps
//! in. Nothing in the browser polls.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;

use super::error::{Error, PageError};
use super::pages::builds::{CallRowView, CallView, step_card_html, wizard_body};
use super::pages::ops::load_ops;
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

/// The operations view's fragments; only the timeline after a transition.
async fn ops_events(
    app: &SharedApp,
    name: &str,
    can_operate: bool,
    csrf: &str,
    timeline_only: bool,
) -> Result<Vec<SseEvent>, Error> {
    let ops = load_ops(app, name, can_operate, csrf).await?;
    let internal = |e: askama::Error| Error::Internal(e.to_string());
    let mut events = vec![SseEvent::default().event("timeline").data(ops.timeline_html().map_err(internal)?)];
    if !timeline_only {
        events.push(SseEvent::default().event("topology").data(ops.topology_html().map_err(internal)?));
        events.push(SseEvent::default().event("tier-external").data(ops.tier_html(0).map_err(internal)?));
        events.push(SseEvent::default().event("tier-internal").data(ops.tier_html(1).map_err(internal)?));
        events.push(SseEvent::default().event("nodes").data(ops.nodes_html().map_err(internal)?));
    }
    Ok(events)
}

/// Turns one bus event into the fragment the page needs, if it is about this stack.
async fn render(
    app: &SharedApp,
    name: &str,
    can_operate: bool,
    csrf: &str,
    event: &Event,
) -> Result<Vec<SseEvent>, Error> {
    if event.stack() != name {
        return Ok(Vec::new());
    }
    Ok(vec![match event {
        Event::BuildStarted { .. } | Event::BuildFinished { .. } => {
            return wizard_events(app, name, can_operate, csrf).await;
        }
        Event::HealthChanged { .. } => return ops_events(app, name, can_operate, csrf, false).await,
        Event::HealthTransition { .. } => return ops_events(app, name, can_operate, csrf, true).await,
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
    first.extend(ops_events(&app, &name, can_operate, &csrf, false).await?);
    let updates = stream::unfold((app, rx, name, csrf), move |(app, mut rx, name, csrf)| async move {
        loop {
            let events = match rx.recv().await {
                Ok(e) => render(&app, &name, can_operate, &csrf, &e).await,
                // Missed some: send the whole state again rather than a gap.
                Err(RecvError::Lagged(_)) => wizard_events(&app, &name, can_operate, &csrf).await,
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
