//! Sophos Firewall (SFOS), UTM 9's successor, through its XML API:
//! `POST https://node:4444/webconsole/APIController` with one form field,
//! `reqxml`, holding `<Request><Login>…</Login><Get|Set|Remove>…</Request>`.
//! Element names follow Sophos's API pages for SFOS 21 (the README names
//! them). The same pinned TLS as the UTM client; credentials (an
//! administrator's user name and password) travel in every request, as the
//! API requires, and never in a URL or a log.
//!
//! Every reply is parsed: SFOS answers HTTP 200 to a failed login or a
//! refused source address and says so inside the XML.

mod configure;

use std::fmt;
use std::sync::Arc;

use super::client::{BaseUrl, Timeouts, pinned_http, transport_error};
use super::error::WafError;
use super::pin::{Pin, PinnedVerifier};
use crate::secret::Secret;
use crate::xml::Element;

pub use configure::{SFOS_HOSTED_ADDRESS, SfosNames};

/// Where the XML API answers on the node's WebAdmin port.
pub const API_PATH: &str = "/webconsole/APIController";
/// What SFOS says to a good login.
const LOGIN_OK: &str = "Authentication Successful";
/// The reply of a `<Get>` that found nothing.
const NO_RECORDS: &str = "No. of records Zero.";

/// An administrator's API credentials. Sealed in the store as
/// `user\npassword` (a user name cannot hold a line break).
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

impl Credentials {
    pub fn new(username: &str, password: Secret) -> Result<Self, WafError> {
        let username = username.trim();
        if username.is_empty() || username.len() > 128 || username.chars().any(char::is_control) {
            return Err(WafError::Invalid("the Sophos Firewall user name must be 1-128 printable characters".into()));
        }
        if password.expose().is_empty() {
            return Err(WafError::Invalid("the Sophos Firewall password is empty".into()));
        }
        Ok(Self { username: username.to_owned(), password })
    }

    /// The form the store seals.
    pub fn to_sealable(&self) -> String {
        format!("{}\n{}", self.username, self.password.expose())
    }

    pub fn from_sealed(opened: &str) -> Result<Self, WafError> {
        let (user, password) = opened.split_once('\n').ok_or_else(|| {
            WafError::Invalid(
                "the stored credential is not a Sophos Firewall user name and password (a UTM 9 token?): \
                     enter an administrator's user name and password in step 8"
                    .into(),
            )
        })?;
        Self::new(user, Secret::new(password))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// One Sophos Firewall node's XML API, trusting only the pinned certificate.
#[derive(Clone)]
pub struct SfosClient {
    base: BaseUrl,
    credentials: Credentials,
    pin: Pin,
    http: reqwest::Client,
    verifier: Arc<PinnedVerifier>,
}

impl fmt::Debug for SfosClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SfosClient")
            .field("base", &self.base.to_string())
            .field("credentials", &self.credentials)
            .field("pin", &self.pin)
            .finish_non_exhaustive()
    }
}

/// What one request's reply says about one entity type.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The `APIVersion` the node reports, e.g. `2100.1`.
    pub api_version: String,
    pub root: Element,
}

impl Reply {
    /// The records of a `<Get>`: elements named `entity` that are not a
    /// reply's status (a firewall rule has a `Status` field of its own).
    pub fn records<'a>(&'a self, entity: &'a str) -> Vec<&'a Element> {
        self.root.children_named(entity).filter(|e| reply_status(e).is_none()).collect()
    }
}

impl SfosClient {
    pub fn new(base_url: &str, credentials: Credentials, pin: Pin) -> Result<Self, WafError> {
        Self::with_timeouts(base_url, credentials, pin, Timeouts::default())
    }

    pub fn with_timeouts(
        base_url: &str,
        credentials: Credentials,
        pin: Pin,
        timeouts: Timeouts,
    ) -> Result<Self, WafError> {
        let base = BaseUrl::parse(base_url.trim_end_matches('/').trim_end_matches(API_PATH))?;
        let (http, verifier) = pinned_http(pin, timeouts)?;
        Ok(Self { base, credentials, pin, http, verifier })
    }

    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    pub fn pin(&self) -> Pin {
        self.pin
    }

    /// Sends one request made of `operations` and checks what every reply
    /// carries: the node accepts this address, and the login.
    pub(crate) async fn call(&self, operations: Vec<Element>, action: &str) -> Result<Reply, WafError> {
        let mut request = Element::new("Request").with(
            Element::new("Login")
                .with_leaf("Username", self.credentials.username.as_str())
                .with_leaf("Password", self.credentials.password.expose()),
        );
        request.children.extend(operations);
        let body = serde_urlencoded::to_string([("reqxml", request.to_xml())])
            .map_err(|e| WafError::Invalid(format!("cannot encode the request: {e}")))?;
        let url = format!("{}{API_PATH}", self.base.origin());
        let started = std::time::Instant::now();
        let resp = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/xml")
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(&self.base, self.pin, &self.verifier, &e))?;
        let status = resp.status();
        let (bytes, more) = crate::limits::read_capped(resp, crate::limits::ANSWER_LIMIT)
            .await
            .map_err(|e| transport_error(&self.base, self.pin, &self.verifier, &e))?;
        tracing::debug!(node = %self.base, action, status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "SFOS call");
        let protocol = |reason: String| WafError::Protocol { action: action.to_owned(), reason };
        if more {
            return Err(protocol(format!(
                "the answer is larger than the {} KiB hawaf reads",
                crate::limits::ANSWER_LIMIT / 1024
            )));
        }
        if !status.is_success() {
            return Err(protocol(format!("HTTP {status} where the XML API always answers 200")));
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| protocol("the answer is not UTF-8".into()))?;
        let root = Element::parse(text).map_err(|e| protocol(e.to_string()))?;
        self.check_reply(root, action)
    }

    fn check_reply(&self, root: Element, action: &str) -> Result<Reply, WafError> {
        let url = self.base.to_string();
        if root.name != "Response" {
            return Err(WafError::Protocol {
                action: action.to_owned(),
                reason: format!("expected <Response>, got <{}>", root.name),
            });
        }
        // A request refused as a whole carries its status at the top.
        if let Some(s) = root.child("Status") {
            let code = s.get_attr("code").and_then(|c| c.parse::<u16>().ok()).unwrap_or(0);
            return Err(match code {
                534 => WafError::SourceNotAllowed { url },
                _ => WafError::SfosStatus { action: action.to_owned(), code, message: s.text.clone() },
            });
        }
        match root.child("Login").and_then(|l| l.text_of("status")) {
            Some(LOGIN_OK) => {}
            Some(s) if s.contains("Failure") => return Err(WafError::BadCredentials { url }),
            other => {
                return Err(WafError::Protocol {
                    action: action.to_owned(),
                    reason: format!("the login status is {:?}", other.unwrap_or("missing")),
                });
            }
        }
        let api_version = root.get_attr("APIVersion").unwrap_or_default().to_owned();
        Ok(Reply { api_version, root })
    }

    /// Every record of `entity` whose Name is `name` (the API's `=` filter).
    pub(crate) async fn get_named(&self, entity: &str, name: &str) -> Result<Option<Element>, WafError> {
        let filter = Element::new("Filter").with(Element::leaf("key", name).attr("name", "Name").attr("criteria", "="));
        let reply = self
            .call(
                vec![Element::new("Get").with(Element::new(entity).with(filter))],
                &format!("reading {entity} {name:?}"),
            )
            .await?;
        get_status(&reply, entity, &format!("reading {entity} {name:?}"))?;
        Ok(reply.records(entity).into_iter().find(|r| r.text_of("Name") == Some(name)).cloned())
    }

    /// `<Set operation="add|update">` of one entity; the node's status must be 200 (or 202, "renamed and updated").
    pub(crate) async fn set(&self, operation: &str, entity: Element) -> Result<(), WafError> {
        let name = entity.name.clone();
        let action = format!("{operation} {name} {:?}", entity.text_of("Name").unwrap_or_default());
        let reply = self.call(vec![Element::new("Set").attr("operation", operation).with(entity)], &action).await?;
        entity_status(&reply, &name, &action, &[200, 202])
    }

    /// `<Remove>` of one entity by name; a name already gone is not an error.
    pub(crate) async fn remove(&self, entity: &str, name: &str) -> Result<bool, WafError> {
        if self.get_named(entity, name).await?.is_none() {
            return Ok(false);
        }
        let action = format!("remove {entity} {name:?}");
        let op = Element::new("Remove").with(Element::new(entity).with_leaf("Name", name));
        let reply = self.call(vec![op], &action).await?;
        entity_status(&reply, entity, &action, &[200]).map(|()| true)
    }
}

/// A `<Get>` reply's status, when it has one: "no records" is an empty
/// answer, any other code an error.
fn get_status(reply: &Reply, entity: &str, action: &str) -> Result<(), WafError> {
    for e in reply.root.children_named(entity) {
        if let Some(s) = reply_status(e) {
            if s.text == NO_RECORDS {
                continue;
            }
            let code = s.get_attr("code").and_then(|c| c.parse().ok()).unwrap_or(0);
            if code != 200 {
                return Err(WafError::SfosStatus { action: action.to_owned(), code, message: s.text.clone() });
            }
        }
    }
    Ok(())
}

/// An entity element that is only a status: the answer to an operation,
/// not a record.
fn reply_status(e: &Element) -> Option<&Element> {
    match e.children.as_slice() {
        [only] if only.name == "Status" => Some(only),
        _ => None,
    }
}

fn entity_status(reply: &Reply, entity: &str, action: &str, ok: &[u16]) -> Result<(), WafError> {
    let status = reply.root.child(entity).and_then(reply_status).ok_or_else(|| WafError::Protocol {
        action: action.to_owned(),
        reason: format!("no <{entity}><Status> in the answer"),
    })?;
    let code = status.get_attr("code").and_then(|c| c.parse::<u16>().ok()).unwrap_or(0);
    if ok.contains(&code) {
        Ok(())
    } else {
        Err(WafError::SfosStatus { action: action.to_owned(), code, message: status.text.clone() })
    }
}

/// The firmware line a reply's `APIVersion` stands for: `2100.1` is SFOS 21.0.
pub fn firmware_of(api_version: &str) -> String {
    let digits: String = api_version.split('.').next().unwrap_or_default().to_owned();
    match (digits.len(), digits.parse::<u32>()) {
        // 2100 is 21.0, 1905 is 19.5, 2000 is 20.0.
        (4, Ok(n)) => {
            let minor = n % 100;
            format!("SFOS {}.{} (API {api_version})", n / 100, if minor >= 10 { minor / 10 } else { minor })
        }
        _ if api_version.is_empty() => "SFOS (API version not given)".to_owned(),
        _ => format!("SFOS (API {api_version})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_name_the_firmware_line() {
        assert_eq!(firmware_of("2100.1"), "SFOS 21.0 (API 2100.1)");
        assert_eq!(firmware_of("1905.1"), "SFOS 19.5 (API 1905.1)");
        assert_eq!(firmware_of("2000.1"), "SFOS 20.0 (API 2000.1)");
        assert_eq!(firmware_of(""), "SFOS (API version not given)");
        assert_eq!(firmware_of("x"), "SFOS (API x)");
    }

    #[test]
    fn credentials_seal_as_two_lines_and_refuse_bad_input() {
        let c = Credentials::new(" admin ", Secret::new("pa:ss\tword")).expect("valid");
        let back = Credentials::from_sealed(&c.to_sealable()).expect("opens");
        assert_eq!(back.username, "admin");
        assert_eq!(back.password.expose(), "pa:ss\tword");
        assert!(Credentials::new("", Secret::new("x")).is_err());
        assert!(Credentials::new("a\nb", Secret::new("x")).is_err());
        assert!(Credentials::new("admin", Secret::new("")).is_err());
        assert!(Credentials::from_sealed("no line break").is_err());
        assert!(!format!("{c:?}").contains("pa:ss"));
    }

    fn client() -> SfosClient {
        let creds = Credentials::new("admin", Secret::new("pw")).expect("valid");
        SfosClient::new("https://127.0.0.1:4444", creds, Pin(crate::waf::Fingerprint::of_der(b"x"))).expect("client")
    }

    #[test]
    fn replies_are_checked_for_source_login_and_status() {
        let c = client();
        let parse = |s: &str| Element::parse(s).expect("xml");
        let refused = parse(
            r#"<Response APIVersion="2100.1"><Status code="534">API operations are not allowed from the requester IP address</Status></Response>"#,
        );
        assert!(matches!(c.check_reply(refused, "x"), Err(WafError::SourceNotAllowed { .. })));
        let failed = parse(r#"<Response><Login><status>Authentication Failure</status></Login></Response>"#);
        assert!(matches!(c.check_reply(failed, "x"), Err(WafError::BadCredentials { .. })));
        let other = parse("<Reply/>");
        assert!(matches!(c.check_reply(other, "x"), Err(WafError::Protocol { .. })));
        let ok = parse(
            r#"<Response APIVersion="2100.1"><Login><status>Authentication Successful</status></Login><RealServers transactionid=""><Status code="502">Web server with the same name already exists. Please choose a different name</Status></RealServers></Response>"#,
        );
        let reply = c.check_reply(ok, "x").expect("login ok");
        assert_eq!(reply.api_version, "2100.1");
        let err = entity_status(&reply, "RealServers", "add", &[200]).expect_err("502");
        assert!(err.to_string().contains("status 502"), "{err}");
        let none = parse(
            r#"<Response><Login><status>Authentication Successful</status></Login><FQDNHost><Status>No. of records Zero.</Status></FQDNHost></Response>"#,
        );
        let reply = c.check_reply(none, "x").expect("ok");
        assert!(get_status(&reply, "FQDNHost", "get").is_ok());
        assert!(reply.records("FQDNHost").is_empty());
    }
}
