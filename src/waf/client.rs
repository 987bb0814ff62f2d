use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use rustls::pki_types::ServerName;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{WafError, parse_messages};
use super::objects::{UsedBy, UtmObject};
use super::pin::{self, Pin, PinMismatch, PinnedVerifier};
use crate::secret::Secret;

/// The node's WebAdmin origin, `https://host:port`, without `/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Accepts `https://host:port`, with or without a trailing `/` or `/api/`
    /// (the lab hands out the latter).
    pub fn parse(input: &str) -> Result<Self, WafError> {
        let bad = |reason: &str| WafError::InvalidUrl { url: input.to_string(), reason: reason.to_string() };
        let url = Url::parse(input.trim()).map_err(|e| bad(&e.to_string()))?;
        if url.scheme() != "https" {
            return Err(bad("a WAF node's API is only spoken over https"));
        }
        if url.host().is_none() {
            return Err(bad("no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("credentials do not belong in the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("no query or fragment expected"));
        }
        let path = url.path().trim_end_matches('/');
        if !(path.is_empty() || path == "/api") {
            return Err(bad("expected https://host:port (hawaf adds the API's path)"));
        }
        let mut origin = url;
        origin.set_path("");
        Ok(Self(origin))
    }

    /// `…/api/<rest>`; `rest` must already be percent-safe.
    fn api(&self, rest: &str) -> String {
        format!("{}/api/{rest}", self.origin())
    }

    pub(super) fn origin(&self) -> String {
        self.0.as_str().trim_end_matches('/').to_string()
    }

    pub(crate) fn authority(&self) -> String {
        let port = self.0.port_or_known_default().unwrap_or(443);
        match self.0.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]:{port}"),
            Some(h) => format!("{h}:{port}"),
            None => format!(":{port}"),
        }
    }

    pub(crate) fn server_name(&self) -> Result<ServerName<'static>, WafError> {
        let name = match self.0.host() {
            Some(url::Host::Ipv4(ip)) => {
                return Ok(ServerName::IpAddress(std::net::IpAddr::V4(ip).into()));
            }
            Some(url::Host::Ipv6(ip)) => {
                return Ok(ServerName::IpAddress(std::net::IpAddr::V6(ip).into()));
            }
            Some(url::Host::Domain(d)) => d.to_string(),
            None => String::new(),
        };
        ServerName::try_from(name).map_err(|e| WafError::InvalidUrl { url: self.origin(), reason: e.to_string() })
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin())
    }
}

/// Connect and whole-request limits; a dead node must fail a caller fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(5), total: Duration::from_secs(20) }
    }
}

/// A UTM 9 node's REST API, trusting only the pinned certificate.
#[derive(Clone)]
pub struct UtmClient {
    base: BaseUrl,
    token: Secret,
    pin: Pin,
    http: reqwest::Client,
    verifier: Arc<PinnedVerifier>,
    /// Send `X-Restd-Session: close`: this client makes a series' last call.
    closing: bool,
}

/// `GET /api/status/version`: the firmware and the REST daemon's version.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Version {
    pub utm: String,
    pub restd: String,
}

impl fmt::Debug for UtmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UtmClient")
            .field("base", &self.base.to_string())
            .field("token", &self.token)
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

impl UtmClient {
    pub fn new(base_url: &str, token: Secret, pin: Pin) -> Result<Self, WafError> {
        Self::with_timeouts(base_url, token, pin, Timeouts::default())
    }

    pub fn with_timeouts(base_url: &str, token: Secret, pin: Pin, timeouts: Timeouts) -> Result<Self, WafError> {
        let base = BaseUrl::parse(base_url)?;
        if token.expose().is_empty() {
            return Err(WafError::Invalid("the API token is empty".into()));
        }
        let (http, verifier) = pinned_http(pin, timeouts)?;
        Ok(Self { base, token, pin, http, verifier, closing: false })
    }

    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    pub fn pin(&self) -> Pin {
        self.pin
    }

    /// The same client for the last call of a series: it asks the node to
    /// end the session (`X-Restd-Session: close`), as the API documentation
    /// advises for a session's last request only.
    pub fn last(&self) -> Self {
        Self { closing: true, ..self.clone() }
    }

    /// The same client for calls before a series' last one.
    pub(super) fn keeping_session(&self) -> Self {
        Self { closing: false, ..self.clone() }
    }

    // ---- node settings ------------------------------------------------

    /// A node setting (`GET /api/nodes/<path>`), e.g. `reverse_proxy.status`.
    pub async fn node<T: DeserializeOwned>(&self, path: &str) -> Result<T, WafError> {
        let rest = node_path(path)?;
        self.call(Method::GET, &rest, None, &format!("reading the node setting {path}")).await
    }

    /// Sets a node (`PUT /api/nodes/<path>` with the bare JSON value). The
    /// reply is not relied on: callers read the setting back.
    pub async fn set_node(&self, path: &str, value: &Value) -> Result<(), WafError> {
        let rest = node_path(path)?;
        self.send(Method::PUT, &rest, Some(value), &format!("setting the node setting {path}")).await?;
        Ok(())
    }

    pub async fn version(&self) -> Result<Version, WafError> {
        self.call(Method::GET, "status/version", None, "reading the firmware version").await
    }

    // ---- object operations --------------------------------------------

    pub async fn list<T: UtmObject>(&self) -> Result<Vec<T>, WafError> {
        let path = format!("objects/{}/", T::TYPE);
        self.call(Method::GET, &path, None, &format!("listing {}s", T::LABEL)).await
    }

    pub async fn get<T: UtmObject>(&self, reference: &str) -> Result<T, WafError> {
        let path = object_path::<T>(reference)?;
        self.call(Method::GET, &path, None, &format!("reading {} {reference}", T::LABEL)).await
    }

    /// Creates `obj` (its `_ref` is ignored) and returns it as stored.
    pub async fn create<T: UtmObject>(&self, obj: &T) -> Result<T, WafError> {
        let body = to_body(obj)?;
        let path = format!("objects/{}/", T::TYPE);
        let action = format!("creating {} {:?}", T::LABEL, obj.name());
        self.call(Method::POST, &path, Some(&body), &action).await
    }

    /// Replaces the object at `reference` with `obj` and returns it as the
    /// node then has it, read back: real clients do not rely on the reply body.
    pub async fn put<T: UtmObject>(&self, reference: &str, obj: &T) -> Result<T, WafError> {
        let body = to_body(obj)?;
        let path = object_path::<T>(reference)?;
        let action = format!("replacing {} {:?}", T::LABEL, obj.name());
        self.send(Method::PUT, &path, Some(&body), &action).await?;
        self.get(reference).await
    }

    /// Changes only the given fields. The reply body, empty or partial on
    /// some firmware, is not read: read the object back with `get`.
    pub async fn patch<T: UtmObject>(&self, reference: &str, fields: &Value) -> Result<(), WafError> {
        let path = object_path::<T>(reference)?;
        let action = format!("changing {} {reference}", T::LABEL);
        self.send(Method::PATCH, &path, Some(fields), &action).await?;
        Ok(())
    }

    pub async fn delete<T: UtmObject>(&self, reference: &str) -> Result<(), WafError> {
        let path = object_path::<T>(reference)?;
        let action = format!("deleting {} {reference}", T::LABEL);
        self.send(Method::DELETE, &path, None, &action).await?;
        Ok(())
    }

    /// A DELETE that acknowledges nothing, as a client without
    /// `X-Restd-Err-Ack` sends it: what the appliance objects to before it
    /// deletes (the conformance suite; diagnostics). hawaf deletes with `delete`.
    pub async fn delete_unacknowledged<T: UtmObject>(&self, reference: &str) -> Result<(), WafError> {
        let path = object_path::<T>(reference)?;
        let action = format!("deleting {} {reference}", T::LABEL);
        self.send_with(Method::DELETE, &path, None, &action, false).await?;
        Ok(())
    }

    pub async fn usedby<T: UtmObject>(&self, reference: &str) -> Result<UsedBy, WafError> {
        let path = format!("{}/usedby", object_path::<T>(reference)?);
        let action = format!("reading what uses {} {reference}", T::LABEL);
        self.call(Method::GET, &path, None, &action).await
    }

    /// The object called `name`. Names are hawaf's key (the API has none);
    /// if an operator made duplicates, the lowest REF wins, deterministically.
    pub async fn find_by_name<T: UtmObject>(&self, name: &str) -> Result<Option<T>, WafError> {
        let mut matches: Vec<T> = self.list::<T>().await?.into_iter().filter(|o| o.name() == name).collect();
        if matches.len() > 1 {
            tracing::warn!(
                node = %self.base,
                object_type = T::TYPE,
                name,
                count = matches.len(),
                "several objects share a name; using the lowest REF"
            );
        }
        matches.sort_by(|a, b| a.reference().cmp(b.reference()));
        Ok(matches.into_iter().next())
    }

    // ---- transport ----------------------------------------------------

    async fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        action: &str,
    ) -> Result<R, WafError> {
        let bytes = self.send(method, path, body, action).await?;
        serde_json::from_slice(&bytes).map_err(|e| WafError::Protocol {
            action: action.to_string(),
            reason: format!("cannot decode the reply: {e}"),
        })
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>, action: &str) -> Result<Vec<u8>, WafError> {
        self.send_with(method, path, body, action, true).await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        action: &str,
        acknowledge_delete: bool,
    ) -> Result<Vec<u8>, WafError> {
        let started = std::time::Instant::now();
        let mut req = self
            .http
            .request(method.clone(), self.base.api(path))
            .basic_auth("token", Some(self.token.expose()))
            .header(reqwest::header::ACCEPT, "application/json");
        if matches!(method, Method::PUT | Method::PATCH | Method::DELETE) {
            // hawaf changes only its own objects: a lock an operator put on
            // one (`_locked: "user"`) must not block the WAF switch or step 8.
            req = req.header("X-Restd-Lock-Override", "yes");
        }
        if method == Method::DELETE && acknowledge_delete {
            // As real clients do, on DELETE only: removing hawaf's object also
            // removes the references hawaf's other objects hold to it. On
            // every other write an objection reaches the operator instead.
            req = req.header("X-Restd-Err-Ack", "all");
        }
        if self.closing {
            req = req.header("X-Restd-Session", "close");
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let result = req.send().await;
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let err = self.transport_error(&e);
                tracing::debug!(node = %self.base, %method, path, error = %err, "UTM call failed");
                return Err(err);
            }
        };
        let status = resp.status();
        let (bytes, more) = crate::limits::read_capped(resp, crate::limits::ANSWER_LIMIT)
            .await
            .map_err(|e| self.transport_error(&e))?;
        if more {
            return Err(WafError::Protocol {
                action: action.to_owned(),
                reason: format!("the answer is larger than the {} KiB hawaf reads", crate::limits::ANSWER_LIMIT / 1024),
            });
        }
        tracing::debug!(
            node = %self.base,
            %method,
            path,
            status = status.as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "UTM call"
        );
        if status.is_success() {
            return Ok(bytes);
        }
        let messages = parse_messages(&bytes);
        Err(match status {
            StatusCode::UNAUTHORIZED => WafError::BadToken { url: self.base.to_string() },
            // Objections come as a refusal of the request's content; a 403, a
            // 404 or a server error is something else, whatever its messages say.
            _ if matches!(status.as_u16(), 400 | 409 | 422)
                && !messages.is_empty()
                && messages.iter().all(|m| !m.is_fatal()) =>
            {
                WafError::Objection { action: action.to_string(), status: status.as_u16(), messages }
            }
            StatusCode::FORBIDDEN => WafError::Forbidden { url: self.base.to_string(), messages },
            StatusCode::NOT_FOUND => WafError::NotFound { what: format!("the target of {action}"), messages },
            _ => WafError::Refused { action: action.to_string(), status: status.as_u16(), messages },
        })
    }

    fn transport_error(&self, e: &reqwest::Error) -> WafError {
        transport_error(&self.base, self.pin, &self.verifier, e)
    }
}

/// A failed request in the caller's terms: a changed certificate, TLS,
/// an unreachable node, or something else on the way.
pub(super) fn transport_error(base: &BaseUrl, pin: Pin, verifier: &PinnedVerifier, e: &reqwest::Error) -> WafError {
    let url = base.to_string();
    if let Some(m) = find_pin_mismatch(e) {
        verifier.take_mismatch();
        return WafError::CertificateChanged { url, expected: m.expected, got: m.got };
    }
    if let Some(tls) = find_rustls_error(e) {
        // The typed cause did not survive the error chain; the verifier
        // saw the certificate, so it can still name it.
        if let (rustls::Error::InvalidCertificate(_), Some(got)) = (tls, verifier.take_mismatch()) {
            return WafError::CertificateChanged { url, expected: pin.fingerprint(), got };
        }
        return WafError::Tls { url, reason: tls.to_string() };
    }
    if e.is_timeout() || e.is_connect() {
        // The socket's own words stay in the log (see AwsCloud's errors).
        tracing::warn!(node = %url, cause = %chain_text(e), "WAF node unreachable");
        let reason = if e.is_timeout() { "no answer in time" } else { "the connection failed" };
        return WafError::Unreachable { url, reason: format!("{reason} (the server log has the cause)") };
    }
    WafError::Protocol { action: "talking to the node".into(), reason: chain_text(e) }
}

/// The reqwest client every WAF driver uses: only the pinned certificate,
/// no redirects (they would carry credentials off the node), no proxy.
pub(super) fn pinned_http(pin: Pin, timeouts: Timeouts) -> Result<(reqwest::Client, Arc<PinnedVerifier>), WafError> {
    let (tls, verifier) = pin::pinned_config(pin)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| WafError::Config(e.to_string()))?;
    Ok((http, verifier))
}

fn object_path<T: UtmObject>(reference: &str) -> Result<String, WafError> {
    // REFs are `REF_` + alphanumerics; refusing anything else keeps a
    // stored or typed value from steering the request to another path.
    if reference.is_empty() || !reference.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(WafError::Invalid(format!("{reference:?} is not an object REF")));
    }
    Ok(format!("objects/{}/{reference}", T::TYPE))
}

/// `nodes/<path>` for a dotted node path such as `reverse_proxy.status`.
fn node_path(path: &str) -> Result<String, WafError> {
    let ok = !path.is_empty()
        && path.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !ok {
        return Err(WafError::Invalid(format!("{path:?} is not a node path")));
    }
    Ok(format!("nodes/{path}"))
}

fn to_body<T: UtmObject>(obj: &T) -> Result<Value, WafError> {
    serde_json::to_value(obj).map_err(|e| WafError::Invalid(e.to_string()))
}

fn sources<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e| e.source())
}

/// The rustls error behind a failed request. It sits inside nested
/// `io::Error`s, which hide their payload from `source()`.
fn find_rustls_error(e: &reqwest::Error) -> Option<&rustls::Error> {
    sources(e).find_map(|s| {
        let mut cur: &(dyn StdError + 'static) = s;
        loop {
            if let Some(r) = cur.downcast_ref::<rustls::Error>() {
                return Some(r);
            }
            cur = cur.downcast_ref::<std::io::Error>()?.get_ref()?;
        }
    })
}

fn find_pin_mismatch(e: &reqwest::Error) -> Option<&PinMismatch> {
    match find_rustls_error(e)? {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => o.0.downcast_ref::<PinMismatch>(),
        _ => None,
    }
}

fn chain_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in sources(e) {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_to_the_origin() {
        for input in [
            "https://127.0.1.10:4444",
            "https://127.0.1.10:4444/",
            "https://127.0.1.10:4444/api/",
            "https://127.0.1.10:4444/api",
        ] {
            let b = BaseUrl::parse(input).expect(input);
            assert_eq!(b.to_string(), "https://127.0.1.10:4444", "{input}");
            assert_eq!(b.api("objects/network/dns_host/"), "https://127.0.1.10:4444/api/objects/network/dns_host/");
            assert_eq!(b.authority(), "127.0.1.10:4444");
        }
    }

    #[test]
    fn plain_http_and_odd_urls_are_refused() {
        for input in
            ["http://127.0.0.1:4444", "https://token:x@127.0.0.1:4444", "https://127.0.0.1:4444/webadmin", "not a url"]
        {
            assert!(matches!(BaseUrl::parse(input), Err(WafError::InvalidUrl { .. })), "{input}");
        }
    }

    #[test]
    fn refs_cannot_escape_the_object_path() {
        use super::super::objects::DnsHost;
        assert!(object_path::<DnsHost>("REF_NetDnsHawaf").is_ok());
        for bad in ["", "../nodes", "REF_a/usedby", "REF a"] {
            assert!(object_path::<DnsHost>(bad).is_err(), "{bad}");
        }
    }
}
