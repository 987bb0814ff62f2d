use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pin::Fingerprint;

/// One message of a UTM error body, kept verbatim (every field the
/// appliance sent) so the operator sees exactly what the node said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UtmMessage(pub Map<String, Value>);

impl UtmMessage {
    fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// The human text.
    pub fn name(&self) -> Option<String> {
        self.text("name").or_else(|| self.text("format"))
    }

    pub fn msg_type(&self) -> Option<String> {
        self.text("msgtype")
    }

    /// `fatal: 0` is an objection the appliance would let through if
    /// acknowledged; anything else (or no flag) means the request is wrong.
    pub fn is_fatal(&self) -> bool {
        match self.0.get("fatal") {
            Some(Value::Number(n)) => n.as_i64() != Some(0),
            Some(Value::Bool(b)) => *b,
            _ => true,
        }
    }

    /// The attributes at fault (`Oattrs`; `attrs` are the arguments of the
    /// message's `format`, not attribute names).
    pub fn attrs(&self) -> Vec<String> {
        self.0
            .get("Oattrs")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect())
            .unwrap_or_default()
    }

    fn plain(text: String) -> Self {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(text));
        Self(m)
    }
}

impl fmt::Display for UtmMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name().unwrap_or_else(|| Value::Object(self.0.clone()).to_string());
        f.write_str(&name)?;
        let kind = self.msg_type();
        let attrs = self.attrs();
        match (kind, attrs.is_empty()) {
            (Some(k), true) => write!(f, " ({k})"),
            (Some(k), false) => write!(f, " ({k}; attributes: {})", attrs.join(", ")),
            (None, false) => write!(f, " (attributes: {})", attrs.join(", ")),
            (None, true) => Ok(()),
        }
    }
}

/// The messages of an error reply; an appliance that answers with something
/// other than the documented JSON array still gets its text shown.
pub(crate) fn parse_messages(body: &[u8]) -> Vec<UtmMessage> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::Object(m) => UtmMessage(m),
                other => UtmMessage::plain(other.to_string()),
            })
            .collect(),
        Ok(Value::Object(m)) => vec![UtmMessage(m)],
        _ => {
            let text = String::from_utf8_lossy(body).trim().chars().take(500).collect::<String>();
            if text.is_empty() { Vec::new() } else { vec![UtmMessage::plain(text)] }
        }
    }
}

pub struct Messages<'a>(pub &'a [UtmMessage]);

impl fmt::Display for Messages<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no details given");
        }
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WafError {
    /// Connection refused, DNS failure or timeout: the node is down or not
    /// reachable from here.
    #[error("the WAF node at {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "the WAF node at {url} rejected the API token (HTTP 401); check the token in WebAdmin > Management > REST API"
    )]
    BadToken { url: String },
    #[error("the API token may not do this on {url} (HTTP 403): {}", Messages(messages))]
    Forbidden { url: String, messages: Vec<UtmMessage> },
    #[error("{what} does not exist on the WAF node (HTTP 404): {}", Messages(messages))]
    NotFound { what: String, messages: Vec<UtmMessage> },
    #[error(
        "the WAF node at {url} presented a different certificate: pinned {expected}, presented {got}; if the appliance's certificate was replaced on purpose, confirm the new fingerprint"
    )]
    CertificateChanged { url: String, expected: Fingerprint, got: Fingerprint },
    #[error("TLS with the WAF node at {url} failed: {reason}")]
    Tls { url: String, reason: String },
    /// The appliance objects to a change (only non-fatal messages): it
    /// would go through if acknowledged, which hawaf leaves to the operator.
    #[error(
        "the WAF node objects to {action} (HTTP {status}): {}; hawaf does not acknowledge objections on your behalf: resolve them in WebAdmin, then run the step again",
        Messages(messages)
    )]
    Objection { action: String, status: u16, messages: Vec<UtmMessage> },
    /// The appliance understood the request and said no (400, 409, 422, …).
    #[error("the WAF node refused {action} (HTTP {status}): {}", Messages(messages))]
    Refused { action: String, status: u16, messages: Vec<UtmMessage> },
    #[error("unexpected reply from the WAF node for {action}: {reason}")]
    Protocol { action: String, reason: String },
    #[error(
        "{node} is part of a UTM high-availability pair (ha.mode {mode}, ha.status {status}): this pattern needs two independent nodes behind the load balancer, each with its own switch; turn high availability off on both nodes in WebAdmin (Management > High Availability), then try again"
    )]
    HaCluster { node: String, mode: String, status: String },
    /// Sophos Firewall answered its login with "Authentication Failure".
    #[error(
        "the Sophos Firewall at {url} refused the API user name or password (Authentication Failure); check the administrator hawaf signs in as"
    )]
    BadCredentials { url: String },
    /// Sophos Firewall's status 534: API access is limited to listed addresses.
    #[error(
        "the Sophos Firewall at {url} does not accept API calls from hawaf's address (status 534): add it under Backup & firmware > API > Allowed IP address"
    )]
    SourceNotAllowed { url: String },
    /// A Sophos Firewall status other than success for one entity.
    #[error("the Sophos Firewall refused {action} (status {code}): {message}")]
    SfosStatus { action: String, code: u16, message: String },
    #[error("invalid WAF node address {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error("cannot set up the UTM client: {0}")]
    Config(String),
}

impl WafError {
    /// The appliance's own messages, for display next to the node.
    pub fn messages(&self) -> &[UtmMessage] {
        match self {
            Self::Forbidden { messages, .. }
            | Self::NotFound { messages, .. }
            | Self::Refused { messages, .. }
            | Self::Objection { messages, .. } => messages,
            _ => &[],
        }
    }

    /// Worth retrying later without changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utm_error_arrays_are_kept_verbatim_and_rendered_readably() {
        let body = br#"[{"name":"The attribute \"host\" is required.","msgtype":"ATTRIBUTE_REQUIRED","Oattrs":["host"],"attrs":["backend","host"],"fatal":1,"class":"reverse_proxy"}]"#;
        let msgs = parse_messages(body);
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].0["fatal"], 1);
        assert_eq!(msgs[0].0["class"], "reverse_proxy");
        assert_eq!(msgs[0].attrs(), vec!["host"]);
        assert_eq!(msgs[0].msg_type().as_deref(), Some("ATTRIBUTE_REQUIRED"));
        assert_eq!(msgs[0].to_string(), "The attribute \"host\" is required. (ATTRIBUTE_REQUIRED; attributes: host)");
        assert!(msgs[0].is_fatal());
    }

    #[test]
    fn a_non_json_error_body_is_still_shown() {
        let msgs = parse_messages(b"Service Unavailable");
        assert_eq!(msgs[0].to_string(), "Service Unavailable");
        assert!(parse_messages(b"").is_empty());
    }
}
