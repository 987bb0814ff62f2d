//! Lifecycle webhooks: drills, health and drift events as signed JSON to URLs
//! an admin registered. Emitting only queues a row (a drill never waits on a
//! receiver); a background worker delivers, retrying with back-off for 24 h,
//! and every attempt's status code is kept for the webhooks page.
//!
//! Each POST carries `X-Hawaf-Event`, `X-Hawaf-Delivery`, `X-Hawaf-Timestamp`
//! (Unix seconds of the attempt) and `X-Hawaf-Signature: sha256=<hex HMAC of
//! the body with the webhook's secret>`. The body has `event`, `at` (RFC
//! 3339), the event's fields, and `text`, so a Slack incoming webhook can
//! take it as it is.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::SharedApp;
use crate::contract::{Webhook, WebhookDelivery, WebhookRequest};
use crate::stack::FieldError;
use crate::stack::outbound::{METADATA_NAMES, never};
use crate::store::{DeliveryRow, NewAudit, Store, StoreError, now_ms};

pub const EVENTS: [&str; 8] = [
    "drill.started",
    "drill.phase",
    "drill.deviated",
    "drill.finished",
    "drill.halted",
    "stack.health_changed",
    "stack.drifted",
    "safety_lever.changed",
];

/// How long a delivery is retried before it is given up.
const RETRY_FOR_MS: i64 = 24 * 60 * 60 * 1000;
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many deliveries in flight: one slow receiver cannot hold the rest.
const IN_FLIGHT: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    #[error("there is no webhook {0}")]
    NotFound(i64),
    #[error("the stored webhook {id} cannot be read: {reason}")]
    Corrupt { id: i64, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn secret_context(url: &str) -> String {
    format!("webhook:{url}")
}

/// Where a delivery may go: http(s), never a link-local or metadata address
/// (checked again for every attempt, against what the name resolves to then).
async fn check_url(url: &str) -> Result<(url::Url, Vec<SocketAddr>), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("only http and https URLs can receive webhooks, not {}:", parsed.scheme()));
    }
    let host = parsed.host_str().ok_or("the URL has no host")?.trim_matches(['[', ']']).to_owned();
    if METADATA_NAMES.contains(&host.trim_end_matches('.').to_ascii_lowercase().as_str()) {
        return Err(format!("{host} is a cloud metadata service"));
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| format!("{host} does not resolve within 3 s"))?
            .map_err(|e| format!("{host} does not resolve: {e}"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} resolves to no address"));
    }
    if let Some(bad) = addrs.iter().find(|a| never(a.ip())) {
        return Err(format!("{host} is (or resolves to) {}, a link-local or metadata address", bad.ip()));
    }
    Ok((parsed, addrs))
}

fn events_of(text: &str, id: i64) -> Result<Vec<String>, WebhookError> {
    serde_json::from_str(text).map_err(|e| WebhookError::Corrupt { id, reason: e.to_string() })
}

fn delivery(d: DeliveryRow) -> WebhookDelivery {
    WebhookDelivery {
        id: d.id,
        event: d.event,
        status: d.status,
        attempts: d.attempts,
        last_code: d.last_code,
        last_error: d.last_error,
        created_at: crate::clock::rfc3339(d.created_at),
        finished_at: d.finished_at.map(crate::clock::rfc3339),
    }
}

pub async fn list(store: &Store) -> Result<Vec<Webhook>, WebhookError> {
    let mut out = Vec::new();
    for w in store.webhooks().await? {
        let deliveries = store.deliveries_of(w.id, 10).await?.into_iter().map(delivery).collect();
        out.push(Webhook {
            id: w.id,
            events: events_of(&w.events, w.id)?,
            url: w.url,
            created_by: w.created_by,
            created_at: crate::clock::rfc3339(w.created_at),
            deliveries,
        });
    }
    Ok(out)
}

/// Validates and registers a webhook; nothing is stored if a field is wrong.
pub async fn create(app: &SharedApp, req: WebhookRequest, actor: &str) -> Result<Webhook, WebhookError> {
    let mut errors = Vec::new();
    if let Err(e) = check_url(req.url.trim()).await {
        errors.push(FieldError::new("url", e));
    }
    let n = req.secret.chars().count();
    if !(16..=256).contains(&n) {
        errors.push(FieldError::new("secret", format!("16 to 256 characters, to sign with (this one has {n})")));
    }
    if req.events.is_empty() {
        errors.push(FieldError::new("events", format!("name at least one: {} (or *)", EVENTS.join(", "))));
    }
    for (i, e) in req.events.iter().enumerate() {
        if e != "*" && !EVENTS.contains(&e.as_str()) {
            errors.push(FieldError::new(format!("events[{i}]"), format!("unknown event `{e}`: {}", EVENTS.join(", "))));
        }
    }
    if !errors.is_empty() {
        return Err(WebhookError::Invalid(errors));
    }
    let url = req.url.trim().to_owned();
    let sealed = app.secrets.seal_for(&req.secret, &secret_context(&url));
    let events = serde_json::to_string(&req.events).unwrap_or_else(|_| "[]".into());
    let id = app.store.create_webhook(&url, &sealed, &events, actor).await?;
    let entry = NewAudit { actor, action: "webhook.create", target: &url, outcome: "ok", detail: events };
    if let Err(e) = app.store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    list(&app.store).await?.into_iter().find(|w| w.id == id).ok_or(WebhookError::NotFound(id))
}

pub async fn delete(store: &Store, id: i64, actor: &str) -> Result<(), WebhookError> {
    let w = store.webhook(id).await?.ok_or(WebhookError::NotFound(id))?;
    store.delete_webhook(id).await?;
    let entry =
        NewAudit { actor, action: "webhook.delete", target: &w.url, outcome: "ok", detail: format!("webhook {id}") };
    if let Err(e) = store.audit(entry).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
    Ok(())
}

/// Queues `event` for every webhook that wants it. `fields` are the event's
/// own (stack, drill_id, …); `text` is the one line Slack shows. Failures
/// are logged: an event is never worth failing the action that caused it.
pub async fn emit(store: &Store, event: &str, fields: Value, text: String) {
    let result = async {
        let hooks: Vec<i64> = store
            .webhooks()
            .await?
            .into_iter()
            .filter(|w| {
                serde_json::from_str::<Vec<String>>(&w.events)
                    .is_ok_and(|list| list.iter().any(|e| e == "*" || e == event))
            })
            .map(|w| w.id)
            .collect();
        if hooks.is_empty() {
            return Ok::<(), StoreError>(());
        }
        let mut body = Map::new();
        body.insert("event".into(), json!(event));
        body.insert("at".into(), json!(crate::clock::rfc3339(now_ms())));
        if let Value::Object(extra) = fields {
            body.extend(extra);
        }
        body.insert("text".into(), json!(text));
        store.queue_deliveries(&hooks, event, &Value::Object(body).to_string()).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(event, error = %e, "cannot queue a webhook event");
    }
}

/// `emit` in its own task: the caller (a drill's runner) goes on at once.
pub fn emit_later(store: &Store, event: &'static str, fields: Value, text: String) {
    let store = store.clone();
    tokio::spawn(async move { emit(&store, event, fields, text).await });
}

/// `sha256=<hex>` of the body with the secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// One attempt: the status code, or why there was none.
async fn attempt(url: &str, secret: &str, d: &DeliveryRow) -> Result<u16, String> {
    let (parsed, addrs) = check_url(url).await?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    // Pin what was checked: the name cannot resolve elsewhere in between.
    let client = reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(&host, &addrs)
        .build()
        .map_err(|e| e.to_string())?;
    let res = client
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Hawaf-Event", &d.event)
        .header("X-Hawaf-Delivery", d.id.to_string())
        .header("X-Hawaf-Timestamp", (now_ms() / 1000).to_string())
        .header("X-Hawaf-Signature", signature(secret, d.body.as_bytes()))
        .body(d.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
            } else {
                format!("cannot connect: {e}")
            }
        })?;
    Ok(res.status().as_u16())
}

/// 10 s, 20 s, 40 s, … up to an hour between attempts.
fn backoff(attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 12) as u32;
    (10_000i64 << exp).min(60 * 60 * 1000)
}

async fn deliver_one(app: SharedApp, d: DeliveryRow) {
    let outcome = match app.store.webhook(d.webhook_id).await {
        Ok(Some(w)) => match app.secrets.open_for(&w.secret_enc, &secret_context(&w.url)) {
            Ok(secret) => attempt(&w.url, secret.expose(), &d).await,
            Err(e) => Err(format!("cannot open the webhook's secret: {e}")),
        },
        // Deleted meanwhile: its deliveries went with it.
        Ok(None) => return,
        Err(e) => Err(e.to_string()),
    };
    let now = now_ms();
    let (code, error, status, next) = match outcome {
        Ok(code) if (200..300).contains(&code) => (Some(code), None, "delivered", now),
        Ok(code) => (Some(code), Some(format!("answered {code}")), "pending", now + backoff(d.attempts)),
        Err(e) => (None, Some(e), "pending", now + backoff(d.attempts)),
    };
    let status = if status == "pending" && next - d.created_at > RETRY_FOR_MS { "failed" } else { status };
    if let Err(e) = app.store.record_attempt(d.id, code, error.as_deref(), status, next).await {
        tracing::warn!(delivery = d.id, error = %e, "cannot record a webhook attempt");
    }
}

/// Health transitions from the monitors, as `stack.health_changed`.
pub async fn health_events(app: SharedApp) {
    let mut rx = app.bus.subscribe();
    loop {
        match rx.recv().await {
            Ok(e) => {
                if let crate::events::Event::HealthTransition { stack, transition: t } = e.as_ref() {
                    let text = format!("{stack}: {} {} {} -> {} ({})", t.tier, t.node, t.from, t.to, t.reason);
                    let fields = json!({"stack": stack, "tier": t.tier, "node": t.node, "from": t.from, "to": t.to, "reason": t.reason});
                    emit(&app.store, "stack.health_changed", fields, text).await;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Delivers what is due, for as long as the server runs.
pub async fn deliver(app: SharedApp) {
    let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut every = tokio::time::interval(Duration::from_millis(500));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let free = slots.available_permits() as i64;
        if free == 0 {
            continue;
        }
        // Leased past the attempt's timeout, so no poll sends one twice.
        let lease = now_ms() + 2 * ATTEMPT_TIMEOUT.as_millis() as i64;
        let due = match app.store.lease_due_deliveries(free, lease).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read due webhook deliveries");
                continue;
            }
        };
        for d in due {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let app = app.clone();
            tokio::spawn(async move {
                deliver_one(app, d).await;
                drop(permit);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[tokio::test]
    async fn link_local_and_metadata_urls_are_refused() {
        assert!(check_url("http://169.254.169.254/latest/meta-data/").await.is_err());
        assert!(check_url("http://[fe80::1]/").await.is_err());
        assert!(check_url("http://metadata.google.internal/").await.is_err());
        assert!(check_url("ftp://127.0.0.1/").await.is_err());
        assert!(check_url("http://127.0.0.1:9/hook").await.is_ok());
    }

    #[test]
    fn back_off_doubles_up_to_an_hour() {
        assert_eq!(backoff(0), 10_000);
        assert_eq!(backoff(3), 80_000);
        assert_eq!(backoff(40), 3_600_000);
    }
}
