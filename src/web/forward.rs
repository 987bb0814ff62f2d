//! On a follower replica, every request but its own health, metrics and
//! static assets goes to the leading replica, streamed both ways (SSE too);
//! see `replica`. The answer comes back as the leader gave it.

use std::sync::LazyLock;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::SharedApp;

/// Marks a forwarded request, so two replicas that each believe the other
/// leads (for a moment, during a takeover) never pass a request back and forth.
const FORWARDED_BY: &str = "x-hawaf-forwarded-by";

/// Connection-level headers (RFC 9110 §7.6.1), which a proxy does not pass on.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// One client for all forwarding: it keeps connections to the leader open.
/// No overall timeout (live streams last), redirects handed back untouched.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(3))
        .no_proxy()
        .build()
        // Building a client without TLS settings only fails if the TLS backend
        // cannot start; the fallback still never follows a redirect.
        .unwrap_or_else(|_| {
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default()
        })
});

fn local_only(path: &str) -> bool {
    path == "/healthz" || path == "/metrics" || path.starts_with("/static/")
}

fn unavailable(message: String) -> Response {
    let mut res = (StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    res
}

fn strip(headers: &mut HeaderMap) {
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    headers.remove(header::UPGRADE);
}

pub async fn forward(State(app): State<SharedApp>, req: Request, next: Next) -> Response {
    let Some(target) = app.replica.forward_to() else {
        return next.run(req).await;
    };
    if local_only(req.uri().path()) {
        return next.run(req).await;
    }
    let Ok(leader) = target else {
        return unavailable("no replica leads yet; one takes the lead within seconds\n".into());
    };
    if req.headers().contains_key(FORWARDED_BY) {
        return unavailable("the replicas are handing the lead over; try again in a moment\n".into());
    }
    let client = super::client::client_ip(req.extensions(), req.headers(), &app.config.trusted_proxies);
    let https = super::session::served_over_https(&app, req.extensions(), req.headers());
    let (parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    strip(&mut headers);
    // The leader sees the client and its scheme as this replica judged them
    // (a client's own X-Forwarded-Proto counts only if this replica trusts
    // its sender), provided the leader trusts this replica (--trusted-proxy).
    if let Some(ip) = client
        && let Ok(v) = HeaderValue::from_str(&ip.to_string())
    {
        headers.append("x-forwarded-for", v);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static(if https { "https" } else { "http" }));
    // This replica checked the Host; the leader checks its own name, which a
    // replica bound to another address would fail without --public-url.
    if let Some(host) = headers.remove(header::HOST) {
        headers.insert("x-forwarded-host", host);
    }
    if let Ok(v) = HeaderValue::from_str(&app.replica.id) {
        headers.insert(FORWARDED_BY, v);
    }
    let sent = CLIENT
        .request(parts.method, format!("{leader}{path}"))
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    app.replica.forwarded.fetch_add(1, Ordering::Relaxed);
    match sent {
        Ok(answer) => {
            let mut res = Response::builder().status(answer.status().as_u16());
            if let Some(h) = res.headers_mut() {
                *h = answer.headers().clone();
                strip(h);
            }
            res.body(Body::from_stream(answer.bytes_stream()))
                .unwrap_or_else(|e| unavailable(format!("cannot pass the leader's answer on: {e}\n")))
        }
        Err(e) => unavailable(format!(
            "the leading replica at {leader} does not answer ({e}); if it is down, this replica takes over within {} s\n",
            crate::replica::TTL.as_secs() + crate::replica::RENEW.as_secs()
        )),
    }
}
