//! Live updates over Server-Sent Events: each browser gets the current state
//! first, then every change for its stack as an HTML fragment that htmx swaps
//! in. Nothing in the browser polls.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::OnceCell;
use tokio::sync::broadcast::error::RecvError;

use super::error::{Error, PageError};
use super::pages::builds::{CallRowView, CallView, step_card_html, wizard_body};
use super::pages::ops::{Ops, TIMELINE_LEN, load_ops};
use super::session::Viewer;
use crate::SharedApp;
use crate::auth::Role;
use crate::events::Event;
use crate::stack;
use crate::store::CallRow;

/// The whole wizard as separate fragments (header, then each step), so
/// every target element stays in place and keeps listening.
async fn wizard_events(app: &SharedApp, name: &str, can_operate: bool, csrf: &str) -> Result<Vec<Bytes>, Error> {
    let body = wizard_body(app, name, can_operate, csrf).await?;
    let internal = |e: askama::Error| Error::internal(e);
    let mut events = vec![frame("build-head", &body.head_html().map_err(internal)?)];
    for step in &body.steps {
        events.push(frame(&format!("step-{}", step.number), &body.step_html(step).map_err(internal)?));
    }
    Ok(events)
}

/// The operations view's fragments, freshly loaded for one subscriber.
async fn ops_events(
    app: &SharedApp,
    name: &str,
    can_operate: bool,
    csrf: &str,
    sent: &mut Sent,
) -> Result<Vec<Bytes>, Error> {
    SharedOps::load(app, name).await?.events(can_operate, csrf, sent)
}

/// What one subscriber's page already shows, so a change sends only what
/// differs: a health change usually alters one tier, the diagram and the
/// timeline, and the timeline only gains an item. That spares every browser
/// the DOM swaps, and the server and network most of the bytes per
/// subscriber (scripts/bench, measure 3).
#[derive(Default)]
struct Sent {
    /// Per panel, the fingerprint of the HTML last sent.
    panels: HashMap<&'static str, u64>,
    timeline: Option<TimelineShown>,
}

struct TimelineShown {
    /// The newest transition in the subscriber's list (None: the list is empty).
    newest: Option<i64>,
    /// Items added since the whole list was last sent.
    added: usize,
}

impl Sent {
    /// True (and remembered) when `fingerprint` is not what the page shows.
    fn changed(&mut self, panel: &'static str, fingerprint: u64) -> bool {
        self.panels.insert(panel, fingerprint) != Some(fingerprint)
    }
}

fn fingerprint(html: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    html.hash(&mut h);
    h.finish()
}

/// The operations view's user-independent panels, rendered once.
struct SharedOps {
    /// Kept for the nodes panel, whose buttons carry each user's CSRF token.
    ops: Ops,
    /// (event name, encoded event, fingerprint of its HTML), in the order
    /// the page is swapped; a subscriber's copy is a reference count.
    panels: [(&'static str, Bytes, u64); 3],
    /// The whole transitions list (event `timeline`)…
    timeline: Bytes,
    /// …and each of its items alone (event `timeline-entry`), with its id, newest first.
    entries: Vec<(i64, Bytes)>,
    /// Fingerprint of the nodes panel as an operator sees it, without a CSRF
    /// token: that shows everything any role sees, and a user's token never
    /// changes while their stream lasts, so it changes whenever anyone's
    /// panel does, and nobody's is rendered for nothing.
    nodes: u64,
}

impl SharedOps {
    async fn load(app: &SharedApp, name: &str) -> Result<SharedOps, Error> {
        let ops = load_ops(app, name, false, "").await?;
        let internal = |e: askama::Error| Error::internal(e);
        let panel = |event: &'static str, html: String| (event, frame(event, &html), fingerprint(&html));
        Ok(SharedOps {
            panels: [
                panel("topology", ops.topology_html().map_err(internal)?),
                panel("tier-external", ops.tier_html(0).map_err(internal)?),
                panel("tier-internal", ops.tier_html(1).map_err(internal)?),
            ],
            timeline: frame("timeline", &ops.timeline_html().map_err(internal)?),
            entries: ops
                .timeline_entries()
                .map_err(internal)?
                .into_iter()
                .map(|(id, html)| (id, frame("timeline-entry", &html)))
                .collect(),
            nodes: fingerprint(&ops.nodes_html_as(true, "").map_err(internal)?),
            ops,
        })
    }

    /// The panels that differ from what this subscriber was last sent.
    fn events(&self, can_operate: bool, csrf: &str, sent: &mut Sent) -> Result<Vec<Bytes>, Error> {
        let mut events: Vec<Bytes> = Vec::with_capacity(4);
        timeline_events(&self.entries, &self.timeline, &mut sent.timeline, &mut events);
        events.extend(
            self.panels.iter().filter(|(event, _, f)| sent.changed(event, *f)).map(|(_, frame, _)| frame.clone()),
        );
        if sent.changed("nodes", self.nodes) {
            let nodes = self.ops.nodes_html_as(can_operate, csrf).map_err(Error::internal)?;
            events.push(frame("nodes", &nodes));
        }
        Ok(events)
    }
}

/// New transitions as items to add at the top, oldest first; the whole list
/// instead when the subscriber's list cannot simply grow: nothing shown yet,
/// an empty list (its placeholder must go), a gap (its newest item is no
/// longer among ours), or so many added that hidden items would pile up.
fn timeline_events(entries: &[(i64, Bytes)], whole: &Bytes, shown: &mut Option<TimelineShown>, out: &mut Vec<Bytes>) {
    let newest = entries.first().map(|(id, _)| *id);
    if let Some(shown) = shown {
        if shown.newest == newest {
            return;
        }
        if let Some(last) = shown.newest {
            let new = entries.iter().take_while(|(id, _)| *id > last).count();
            if new > 0 && new < entries.len() && shown.added + new <= TIMELINE_LEN {
                out.extend(entries[..new].iter().rev().map(|(_, item)| item.clone()));
                shown.newest = newest;
                shown.added += new;
                return;
            }
        }
    }
    out.push(whole.clone());
    *shown = Some(TimelineShown { newest, added: 0 });
}

type Cell = Arc<OnceCell<Arc<SharedOps>>>;
/// One event's panels as each locale reading them sees them.
type PerLocale = HashMap<crate::i18n::Locale, Cell>;

/// One health event reaches every subscriber of its stack at once; the first
/// to handle it loads and renders the panels, the others reuse that (a
/// thousand subscribers used to mean a thousand rounds of database reads and
/// templates for one transition; scripts/bench, measure 3).
#[derive(Default)]
pub struct Renders {
    /// Per stack and reader's locale (the panels carry words and times), the
    /// latest health event and its rendering.
    /// A new event replaces all of a stack's renderings, so a locale nobody
    /// reads any more is not kept.
    latest: Mutex<HashMap<String, (Arc<Event>, PerLocale)>>,
}

impl Renders {
    async fn ops(&self, app: &SharedApp, event: &Arc<Event>) -> Result<Arc<SharedOps>, Error> {
        let cell = {
            // Plain map updates: a poisoned lock is still consistent.
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            let entry = latest.entry(event.stack().to_owned()).or_insert_with(|| (event.clone(), HashMap::new()));
            // The same Arc: the very event this subscriber holds.
            if !Arc::ptr_eq(&entry.0, event) {
                *entry = (event.clone(), HashMap::new());
            }
            entry.1.entry(crate::i18n::current()).or_default().clone()
        };
        cell.get_or_try_init(|| async { SharedOps::load(app, event.stack()).await.map(Arc::new) }).await.cloned()
    }
}

/// Turns one bus event into the fragment the page needs, if it is about this stack.
async fn render(
    app: &SharedApp,
    renders: &Renders,
    name: &str,
    can_operate: bool,
    csrf: &str,
    event: &Arc<Event>,
    sent: &mut Sent,
) -> Result<Vec<Bytes>, Error> {
    if event.stack() != name {
        return Ok(Vec::new());
    }
    Ok(vec![match event.as_ref() {
        Event::BuildStarted { .. } | Event::BuildFinished { .. } => {
            return wizard_events(app, name, can_operate, csrf).await;
        }
        Event::HealthChanged { .. } => return renders.ops(app, event).await?.events(can_operate, csrf, sent),
        // The monitor follows its transitions with HealthChanged at once, whose
        // panels include the timeline: rendering both would send every subscriber
        // the timeline twice and wake it twice per change (scripts/bench, measure 3).
        Event::HealthTransition { .. } => return Ok(Vec::new()),
        Event::StepChanged { build_id, step, .. } => {
            let html = step_card_html(app, name, *build_id, *step, can_operate, csrf).await?;
            frame(&format!("step-{step}"), &html)
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
            let html = CallRowView { call: &view }.render().map_err(Error::internal)?;
            frame(&format!("call-{step}"), &html)
        }
        // The drill page has its own stream.
        Event::DrillProgress { .. } | Event::DrillFinished { .. } => return Ok(Vec::new()),
        Event::DriftChecked { .. } => {
            frame("drift", &super::pages::drift::panel_html(app, name, can_operate, csrf).await?)
        }
    }])
}

pub async fn stack_events(
    State(app): State<SharedApp>,
    State(renders): State<Arc<Renders>>,
    State(streams): State<Arc<Streams>>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
) -> Result<Response, PageError> {
    stack::load(&app.store, &name).await?;
    let guard = Guard::open(&app, &streams, &user)?;
    let can_operate = user.role >= Role::Operator;
    let csrf = if can_operate { user.csrf } else { String::new() };
    // Subscribe before rendering the snapshot, so nothing falls between the two.
    let rx = app.bus.subscribe();
    let mut sent = Sent::default();
    let mut first = wizard_events(&app, &name, can_operate, &csrf).await?;
    first.extend(ops_events(&app, &name, can_operate, &csrf, &mut sent).await?);
    let state = (app, renders, rx, name, csrf, sent);
    // Each update renders later, outside this request: in its reader's locale.
    let locale = crate::i18n::current();
    let updates = stream::unfold(state, move |(app, renders, mut rx, name, csrf, mut sent)| {
        crate::i18n::scope(locale, async move {
            loop {
                let events = match rx.recv().await {
                    Ok(e) => render(&app, &renders, &name, can_operate, &csrf, &e, &mut sent).await,
                    // Missed some: send the whole state again rather than a gap.
                    Err(RecvError::Lagged(_)) => match wizard_events(&app, &name, can_operate, &csrf).await {
                        Ok(mut all) => {
                            sent = Sent::default();
                            ops_events(&app, &name, can_operate, &csrf, &mut sent).await.map(|ops| {
                                all.extend(ops);
                                all
                            })
                        }
                        Err(e) => Err(e),
                    },
                    Err(RecvError::Closed) => return None,
                };
                match events {
                    Ok(events) if !events.is_empty() => return Some((events, (app, renders, rx, name, csrf, sent))),
                    Ok(_) => continue,
                    Err(e) => tracing::warn!(error = %e, "cannot render a live update"),
                }
            }
        })
    });
    Ok(event_stream(stream::iter(first).chain(updates.flat_map(stream::iter)), guard))
}

/// How often an idle stream sends a comment, so proxies and browsers keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often a stream checks that its session still stands (it also checks
/// before every event): sign-out, expiry, a disabled user or a changed role
/// close it within this long.
const RECHECK: Duration = Duration::from_secs(30);

/// The live streams open now, per user and in all, within the configured caps.
pub struct Streams {
    open: Mutex<(HashMap<String, usize>, usize)>,
    per_user: usize,
    total: usize,
}

impl Streams {
    pub fn new(per_user: usize, total: usize) -> Self {
        Streams { open: Mutex::new((HashMap::new(), 0)), per_user, total }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (HashMap<String, usize>, usize)> {
        // Plain counters: a poisoned lock still holds consistent numbers.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more stream of `user`'s, freed when the stream ends.
    pub fn open(self: &Arc<Self>, user: &str) -> Result<Slot, Error> {
        let mut open = self.lock();
        if open.1 >= self.total {
            return Err(Error::TooMany(format!(
                "the server holds its limit of {} live pages open: try again later",
                self.total
            )));
        }
        let mine = open.0.entry(user.to_owned()).or_default();
        if *mine >= self.per_user {
            return Err(Error::TooMany(format!(
                "you have {} live pages open, the most one user may: close one and reload",
                self.per_user
            )));
        }
        *mine += 1;
        open.1 += 1;
        Ok(Slot { streams: self.clone(), user: user.to_owned() })
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        self.lock().1
    }
}

/// One open stream's place; dropping it (the stream ended or the client
/// went away) frees it.
pub struct Slot {
    streams: Arc<Streams>,
    user: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.streams.lock();
        if let Some(n) = open.0.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.0.remove(&self.user);
            }
        }
        open.1 = open.1.saturating_sub(1);
    }
}

/// What a stream needs to know that it may go on: the session it was
/// opened under, looked up again.
#[derive(Clone)]
pub struct Right {
    store: crate::store::Store,
    session: Option<String>,
}

impl Right {
    pub fn of(app: &SharedApp, user: &super::session::Principal) -> Self {
        Right { store: app.store.clone(), session: user.session.clone() }
    }

    async fn stands(&self) -> bool {
        let Some(hash) = &self.session else { return true };
        let session = self.store.session_within(hash, RECHECK).await;
        matches!(session, Ok(Some(s)) if s.expires_at > crate::store::now_ms())
    }
}

/// A stream as the caps and checks see it: its slot and its right.
pub struct Guard {
    pub slot: Slot,
    pub right: Right,
}

impl Guard {
    pub fn open(app: &SharedApp, streams: &Arc<Streams>, user: &super::session::Principal) -> Result<Guard, Error> {
        Ok(Guard { slot: streams.open(&user.username)?, right: Right::of(app, user) })
    }
}

/// One Server-Sent Event as it goes on the wire. hawaf encodes each shared
/// panel once per change and hands every subscriber the same bytes: with
/// axum's `Sse`, each of a thousand subscribers re-encoded (and reallocated)
/// the same fragments, the largest server cost of a fan-out (perf;
/// scripts/bench, measure 3).
pub(crate) fn frame(event: &str, data: &str) -> Bytes {
    let mut out = String::with_capacity(event.len() + data.len() + data.len() / 16 + 32);
    out.push_str("event: ");
    out.push_str(event);
    out.push('\n');
    // CR, LF and CRLF all end a line in SSE: each line gets its own field, so
    // no character of the data can end the event early or be lost.
    let normalized;
    let data = if data.contains('\r') {
        normalized = data.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        data
    };
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// A `text/event-stream` response of pre-encoded events, with a keep-alive
/// comment every [`KEEP_ALIVE`]. It ends when `events` does, or when the
/// guard's session no longer stands (checked before each event and every
/// [`RECHECK`]); its slot is freed then.
pub(crate) fn event_stream(events: impl Stream<Item = Bytes> + Send + 'static, guard: Guard) -> Response {
    let Guard { slot, right } = guard;
    let keep_alive = stream::unfold((), |()| async {
        tokio::time::sleep(KEEP_ALIVE).await;
        Some((Some(Bytes::from_static(b":\n\n")), ()))
    });
    let recheck = stream::unfold(right.clone(), |right| async move {
        loop {
            tokio::time::sleep(RECHECK).await;
            if !right.stands().await {
                return Some((None, right));
            }
        }
    });
    // `None` marks the end: of the events, or of the right to them. The
    // never-ending keep-alive cannot hold the response open after it.
    let events = events
        .then(move |event| {
            let right = right.clone();
            async move { right.stands().await.then_some(event) }
        })
        .chain(stream::once(async { None }));
    let body = stream::select(stream::select(events, keep_alive), recheck)
        .take_while(|item| std::future::ready(item.is_some()))
        .filter_map(std::future::ready)
        .map(move |bytes| {
            // Held by the body: the slot is freed when the stream is dropped.
            let _held = &slot;
            Ok::<_, Infallible>(bytes)
        });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
            // Tells nginx-style proxies not to hold events back in a buffer.
            (header::HeaderName::from_static("x-accel-buffering"), "no"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::{TIMELINE_LEN, frame, timeline_events};

    fn items(ids: &[i64]) -> Vec<(i64, Bytes)> {
        ids.iter().map(|id| (*id, Bytes::from(id.to_string()))).collect()
    }

    #[test]
    fn the_timeline_grows_by_its_new_items_and_is_resent_whole_when_it_cannot() {
        let whole = Bytes::from_static(b"whole");
        let mut shown = None;
        let mut out = Vec::new();
        let mut step = |ids: &[i64], shown: &mut _| {
            out.clear();
            timeline_events(&items(ids), &whole, shown, &mut out);
            out.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect::<Vec<_>>()
        };
        assert_eq!(step(&[], &mut shown), ["whole"], "first contact: the whole (empty) list");
        assert!(step(&[], &mut shown).is_empty(), "nothing new, nothing sent");
        assert_eq!(step(&[1], &mut shown), ["whole"], "the empty list's placeholder must go");
        assert_eq!(step(&[3, 2, 1], &mut shown), ["2", "3"], "new items, oldest first, each added on top");
        assert!(step(&[3, 2, 1], &mut shown).is_empty());
        assert_eq!(step(&[9, 8], &mut shown), ["whole"], "a gap: item 3 is gone from the list");
        let ids: Vec<i64> = (10..10 + TIMELINE_LEN as i64 + 1).collect();
        for (n, id) in ids.iter().enumerate() {
            let newest_first: Vec<i64> = ids[..=n].iter().rev().copied().chain([9, 8]).collect();
            let sent = step(&newest_first, &mut shown);
            let expected = if n < TIMELINE_LEN { id.to_string() } else { "whole".to_owned() };
            assert_eq!(sent, [expected], "after {n} items added on top the list is sent whole again");
        }
    }

    #[test]
    fn streams_are_capped_per_user_and_in_all_and_freed_when_dropped() {
        use std::sync::Arc;
        let streams = Arc::new(super::Streams::new(2, 3));
        let a1 = streams.open("ann").unwrap();
        let _a2 = streams.open("ann").unwrap();
        assert!(streams.open("ann").is_err(), "a third of ann's is refused");
        let _b1 = streams.open("bob").unwrap();
        let refused = streams.open("cat").err().unwrap();
        assert_eq!(refused.status(), axum::http::StatusCode::TOO_MANY_REQUESTS, "the server's cap: {refused}");
        drop(a1);
        assert_eq!(streams.count(), 2);
        assert!(streams.open("ann").is_ok(), "a closed stream frees its place");
    }

    #[test]
    fn every_line_of_the_data_is_its_own_field() {
        assert_eq!(&frame("nodes", "<p>\n</p>")[..], b"event: nodes\ndata: <p>\ndata: </p>\n\n");
        assert_eq!(&frame("x", "")[..], b"event: x\ndata: \n\n", "empty data still dispatches");
        assert_eq!(&frame("x", "a\r\nb\rc")[..], b"event: x\ndata: a\ndata: b\ndata: c\n\n");
    }
}
