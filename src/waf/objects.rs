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

// Fields and defaults below are the appliance's own definitions (Restd
// 1.3.0, as esurdam/go-sophos `api/v1.3.0/objects/{network,reverse_proxy}.go`
// carries them). Every attribute those definitions give a default is typed
// here and sent with it, so an object is created as WebAdmin would create it;
// integers and lists they leave open round-trip through `other` untouched.

/// `network/dns_host`: a host known by DNS name, re-resolved by the UTM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    pub address: String,
    pub address6: String,
    /// REF of an `interface/*`, or empty.
    pub interface: String,
    pub resolved: bool,
    pub resolved6: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Default for DnsHost {
    fn default() -> Self {
        Self {
            reference: String::new(),
            object_type: String::new(),
            locked: Value::Null,
            name: String::new(),
            comment: String::new(),
            hostname: String::new(),
            address: "0.0.0.0".into(),
            address6: "::".into(),
            interface: String::new(),
            resolved: false,
            resolved6: false,
            other: Map::new(),
        }
    }
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
    /// REF of a `network/dns_host`, `network/dns_group` or `network/host`.
    pub host: String,
    #[serde(deserialize_with = "int_or_string")]
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
/// Every attribute with a default in the definitions (29 of the 33; the
/// four open integers stay in `other`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The web application firewall (common threat filter) on/off.
    pub waf: bool,
    /// `deny` blocks what the rules match, `detect` only logs it.
    pub wafmode: String,
    pub wafparanoia: bool,
    /// The category filter; with no categories it filters nothing.
    pub threats_filter: bool,
    pub threats_filter_categories: Vec<String>,
    pub threats_filter_rigid: bool,
    pub custom_threats_filters: Vec<String>,
    pub av: bool,
    pub av_block_unscannable: bool,
    /// `uploads`, `downloads` or `both`.
    pub av_directions: String,
    /// `single` or `double`.
    pub av_engines: String,
    pub bad_clients: bool,
    pub bad_clients_no_dnslookup: bool,
    pub cookiesign: bool,
    pub cookiesign_drop_unsigned: bool,
    pub extensions: Vec<String>,
    pub filter: Vec<String>,
    /// `black` or `white`.
    pub filter_mode: String,
    pub formhardening: bool,
    pub outlookanywhere: bool,
    pub tft: bool,
    pub tft_block_unscannable: bool,
    pub tft_blocked_mime_types: Vec<String>,
    pub urlhardening: bool,
    pub urlhardening_entrypages: Vec<String>,
    /// `manual`, `sitemap_file` or `sitemap_url`.
    pub urlhardening_entrypages_source: String,
    pub urlhardening_sitemap_url: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Profile, "reverse_proxy/profile", "firewall profile");

impl Default for Profile {
    fn default() -> Self {
        Self {
            reference: String::new(),
            object_type: String::new(),
            locked: Value::Null,
            name: String::new(),
            comment: String::new(),
            waf: false,
            wafmode: WAFMODE_DETECT.into(),
            wafparanoia: false,
            threats_filter: false,
            threats_filter_categories: Vec::new(),
            threats_filter_rigid: false,
            custom_threats_filters: Vec::new(),
            av: false,
            av_block_unscannable: false,
            av_directions: "uploads".into(),
            av_engines: "single".into(),
            bad_clients: false,
            bad_clients_no_dnslookup: false,
            cookiesign: false,
            cookiesign_drop_unsigned: false,
            extensions: Vec::new(),
            filter: Vec::new(),
            filter_mode: "black".into(),
            formhardening: false,
            outlookanywhere: false,
            tft: false,
            tft_block_unscannable: false,
            tft_blocked_mime_types: Vec::new(),
            urlhardening: false,
            urlhardening_entrypages: Vec::new(),
            urlhardening_entrypages_source: "manual".into(),
            urlhardening_sitemap_url: String::new(),
            other: Map::new(),
        }
    }
}

/// WAF mode that blocks what the rules match (the definitions' `deny`).
pub const WAFMODE_BLOCK: &str = "deny";
/// WAF mode that only logs, the definitions' default.
pub const WAFMODE_DETECT: &str = "detect";

/// `reverse_proxy/frontend`: a *virtual webserver*. Its `Default` is the
/// definitions' (see `Frontend::fresh`).
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
    #[serde(deserialize_with = "int_or_string")]
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
    /// REFs of `reverse_proxy/exception` objects.
    pub exceptions: Vec<String>,
    /// REF of a `reverse_proxy/blockpage`, or empty for the default page.
    pub blockpagetheme: String,
    /// Where the WAF serves its own resources (block pages' assets).
    pub waflocalpath: String,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
utm_object!(Frontend, "reverse_proxy/frontend", "virtual webserver");

impl Frontend {
    /// A virtual webserver with the definitions' defaults where they give one.
    pub fn fresh() -> Self {
        Self { kind: "http".into(), lbmethod: "bybusyness".into(), waflocalpath: "/.waf".into(), ..Self::default() }
    }
}

impl Location {
    /// A location with the definitions' defaults where they give one, and
    /// no access control (`"0"`: the definitions leave it open, WebAdmin's
    /// default and Ansible's are "0").
    pub fn fresh() -> Self {
        Self { path: "/".into(), stickysession_id: "ROUTEID".into(), access_control: "0".into(), ..Self::default() }
    }
}

impl Backend {
    /// A real webserver with the definitions' defaults where they give one.
    pub fn fresh() -> Self {
        Self { path: "/".into(), ..Self::default() }
    }
}

/// Live appliances sometimes send an integer attribute (a frontend's
/// `port`) as a JSON string: go-sophos had to accept both.
fn int_or_string<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + serde::Deserialize<'de>,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either<T> {
        Int(T),
        Text(String),
    }
    match Either::<T>::deserialize(d)? {
        Either::Int(n) => Ok(n),
        Either::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

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
        assert!(host.resolved);
        assert_eq!(host.other["timeout"], json!(0), "an attribute without a typed field is kept");
        let sent = serde_json::to_value(&host).expect("encodes");
        assert_eq!(sent["address"], "10.0.20.9");
        assert_eq!(sent["timeout"], 0);
        assert_eq!(sent["hostname"], "lb.internal");
        assert!(sent.get("_ref").is_none() && sent.get("_type").is_none());
        assert!(sent.get("_locked").is_none());
    }

    #[test]
    fn a_port_sent_as_a_string_is_read_as_a_number() {
        let fe: Frontend = serde_json::from_value(json!({"name": "x", "port": "80"})).expect("decodes");
        assert_eq!(fe.port, 80);
        assert!(serde_json::from_value::<Frontend>(json!({"name": "x", "port": "eighty"})).is_err());
    }

    #[test]
    fn a_new_profile_blocks_nothing_until_asked() {
        let p = serde_json::to_value(Profile::default()).expect("encodes");
        assert_eq!(p["wafmode"], "detect");
        assert_eq!(p["waf"], false);
        assert_eq!(p["threats_filter"], false);
        assert!(p.get("skipwafrules").is_none());
        assert_eq!(WAFMODE_BLOCK, "deny");
    }

    #[test]
    fn the_frontend_type_field_maps_to_kind() {
        let fe: Frontend =
            serde_json::from_value(json!({"name": "x", "type": "http", "domain": ["a"]})).expect("decodes");
        assert_eq!(fe.kind, "http");
        assert_eq!(serde_json::to_value(&fe).expect("encodes")["type"], "http");
    }
}
