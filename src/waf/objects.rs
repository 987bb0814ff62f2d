//! Typed views of the UTM objects hawaf manages.
//!
//! Each struct names the fields hawaf reads or sets and keeps everything
//! else the appliance sent in `other`, so a PUT of an object read with GET
//! sends back the fields this code does not know about instead of resetting
//! them. The server-owned `_ref`, `_type` and `_locked` are read but never
//! sent: the REF is in the URL and the appliance owns the rest.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A UTM object type served under `/api/objects/<class>/<type>/`.
pub trait UtmObject: Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync {
    /// `<class>/<type>`, e.g. `network/dns_host`.
    const TYPE: &'static str;
    /// What the operator calls it (WebAdmin's wording).
    const LABEL: &'static str;

    fn reference(&self) -> &str;
    fn name(&self) -> &str;
    fn set_name(&mut self, name: &str);
}

macro_rules! utm_object {
    ($ty:ident, $path:literal, $label:literal) => {
        impl UtmObject for $ty {
            const TYPE: &'static str = $path;
            const LABEL: &'static str = $label;

            fn reference(&self) -> &str {
                &self.reference
            }

            fn name(&self) -> &str {
                &self.name
            }

            fn set_name(&mut self, name: &str) {
                self.name = name.to_string();
            }
        }
    };
}

/// `network/dns_host`: a host known by DNS name, re-resolved by the UTM.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DnsHost {
    #[serde(rename = "_ref", skip_serializing)]
    pub reference: String,
    #[serde(rename = "_type", skip_serializing)]
    pub object_type: String,
    #[serde(rename = "_locked", skip_serializing)]
    pub locked: Value,
    pub name: String,
    pub comment: String,
    pub hostname: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(DnsHost, "network/dns_host", "DNS host");

/// `reverse_proxy/backend`: a *real webserver*.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Backend {
    #[serde(rename = "_ref", skip_serializing)]
    pub reference: String,
    #[serde(rename = "_type", skip_serializing)]
    pub object_type: String,
    #[serde(rename = "_locked", skip_serializing)]
    pub locked: Value,
    pub name: String,
    pub comment: String,
    /// REF of a `network/dns_host` or `network/host`.
    pub host: String,
    pub port: u16,
    pub path: String,
    pub ssl: bool,
    pub status: bool,
    pub keepalive: bool,
    pub timeout: u32,
    pub disable_backend_connection_pooling: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Backend, "reverse_proxy/backend", "real webserver");

/// `reverse_proxy/location`: routes a path of a virtual webserver to real
/// webservers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Location {
    #[serde(rename = "_ref", skip_serializing)]
    pub reference: String,
    #[serde(rename = "_type", skip_serializing)]
    pub object_type: String,
    #[serde(rename = "_locked", skip_serializing)]
    pub locked: Value,
    pub name: String,
    pub comment: String,
    pub path: String,
    /// REFs of `reverse_proxy/backend` objects.
    pub backend: Vec<String>,
    pub status: bool,
    pub access_control: String,
    pub allowed_networks: Vec<String>,
    pub denied_networks: Vec<String>,
    pub auth_profile: String,
    pub be_path: String,
    pub hot_standby: bool,
    pub stickysession_status: bool,
    pub stickysession_id: String,
    pub websocket_passthrough: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Location, "reverse_proxy/location", "location");

/// `reverse_proxy/profile`: a firewall profile (WAF rule sets and mode).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    #[serde(rename = "_ref", skip_serializing)]
    pub reference: String,
    #[serde(rename = "_type", skip_serializing)]
    pub object_type: String,
    #[serde(rename = "_locked", skip_serializing)]
    pub locked: Value,
    pub name: String,
    pub comment: String,
    /// Common threat filter on/off.
    pub waf: bool,
    /// `reject` blocks matching requests, `monitor` only logs them.
    pub wafmode: String,
    pub wafparanoia: bool,
    pub threats_filter: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Profile, "reverse_proxy/profile", "firewall profile");

/// WAF mode that blocks what the rules match.
pub const WAFMODE_BLOCK: &str = "reject";

/// `reverse_proxy/frontend`: a *virtual webserver*.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Frontend {
    #[serde(rename = "_ref", skip_serializing)]
    pub reference: String,
    #[serde(rename = "_type", skip_serializing)]
    pub object_type: String,
    #[serde(rename = "_locked", skip_serializing)]
    pub locked: Value,
    pub name: String,
    pub comment: String,
    pub domain: Vec<String>,
    pub port: u16,
    #[serde(rename = "type")]
    pub kind: String,
    /// REF of the interface address it listens on.
    pub address: String,
    /// REFs of `reverse_proxy/location` objects.
    pub locations: Vec<String>,
    /// REF of a `reverse_proxy/profile`, or empty.
    pub profile: String,
    pub status: bool,
    pub allowed_networks: Vec<String>,
    pub lbmethod: String,
    pub xheaders: bool,
    pub preservehost: bool,
    pub htmlrewrite: bool,
    pub htmlrewrite_cookies: bool,
    pub implicitredirect: bool,
    pub disable_compression: bool,
    pub add_content_type_header: bool,
    pub certificate: String,
    pub exceptions: Vec<Value>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Frontend, "reverse_proxy/frontend", "virtual webserver");

/// What references an object (`GET …/<REF>/usedby`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UsedBy {
    pub objects: Vec<Value>,
    pub nodes: Vec<Value>,
}

impl UsedBy {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.nodes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_a_round_trip_and_server_fields_are_not_sent() {
        let from_appliance = json!({
            "_ref": "REF_NetDnsHawaf", "_type": "network/dns_host", "_locked": "",
            "name": "hawaf ha-lbint", "comment": "", "hostname": "lb.internal",
            "address": "10.0.20.9", "interface": "", "resolved": true, "timeout": 0
        });
        let host: DnsHost = serde_json::from_value(from_appliance).expect("decodes");
        assert_eq!(host.reference(), "REF_NetDnsHawaf");
        assert_eq!(host.other["resolved"], json!(true));
        let sent = serde_json::to_value(&host).expect("encodes");
        assert_eq!(sent["address"], "10.0.20.9");
        assert_eq!(sent["hostname"], "lb.internal");
        assert!(sent.get("_ref").is_none() && sent.get("_type").is_none());
        assert!(sent.get("_locked").is_none());
    }

    #[test]
    fn the_frontend_type_field_maps_to_kind() {
        let fe: Frontend =
            serde_json::from_value(json!({"name": "x", "type": "http", "domain": ["a"]})).expect("decodes");
        assert_eq!(fe.kind, "http");
        assert_eq!(serde_json::to_value(&fe).expect("encodes")["type"], "http");
    }
}
