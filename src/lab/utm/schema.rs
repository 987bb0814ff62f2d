//! The object types the lab UTM serves, held to the appliance's own API
//! definitions, not to hawaf's client.
//!
//! Source of every field, type, enumeration and default below: the Go
//! client esurdam/go-sophos, `api/v1.3.0/objects/{network,reverse_proxy}.go`,
//! generated from a UTM 9's `/api/definitions` (Restd 1.3.0). Those
//! definitions state no defaults for integers and lists and mark nothing
//! mandatory; where they are silent:
//! - an attribute without a default is left out of a new object rather than
//!   given an invented value;
//! - mandatory attributes are those real clients always send and the
//!   appliance cannot do without: `name` everywhere, a DNS host's
//!   `hostname`, a host's `address`, a real webserver's `host` and `port`, a
//!   location's `backend`, a virtual webserver's `domain` and `port`;
//! - `access_control` takes "0" or "1" (the Ansible community.general
//!   `utm_proxy_location` module's choices);
//! - an attribute the definitions do not have (`skipwafrules`, `rc`, …) is
//!   refused, which is at least as strict as the appliance.

use serde_json::{Map, Value, json};

use super::reply::{ApiError, Ctx, Objects, message};

/// The object types the lab serves.
pub const TYPES: [&str; 7] = [
    "network/dns_host",
    "network/dns_group",
    "network/host",
    "reverse_proxy/backend",
    "reverse_proxy/location",
    "reverse_proxy/profile",
    "reverse_proxy/frontend",
];

/// Objects every UTM has without creating them, with their types.
pub const BUILTIN_REFS: [(&str, &str); 4] = [
    ("REF_NetworkAny", "network/any"),
    ("REF_DefaultInternalAddress", "network/interface_address"),
    ("REF_DefaultInternalNetwork", "network/interface_network"),
    ("REF_DefaultExternalAddress", "network/interface_address"),
];

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Str,
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    Int(i64, i64),
    Bool,
    StrList,
    /// A `_ref` to an object of one of these types (`class/*` for any type
    /// of the class); "" allowed when optional.
    Ref(&'static [&'static str], bool),
    RefList(&'static [&'static str]),
}

pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// The definitions' default; `None` where they give none.
    pub default: Option<fn() -> Value>,
}

const fn f(name: &'static str, kind: Kind, default: fn() -> Value) -> Field {
    Field { name, kind, required: false, default: Some(default) }
}

/// An attribute the definitions give no default for.
const fn bare(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false, default: None }
}

const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true, default: None }
}

const HOSTS: &[&str] = &["network/dns_host", "network/dns_group", "network/host"];
const NETWORKS: &[&str] = &["network/*"];
const INTERFACES: &[&str] = &["interface/*"];
const BACKENDS: &[&str] = &["reverse_proxy/backend"];
const LOCATIONS: &[&str] = &["reverse_proxy/location"];
const PROFILES: &[&str] = &["reverse_proxy/profile"];
const EXCEPTIONS: &[&str] = &["reverse_proxy/exception"];
const AUTH_PROFILES: &[&str] = &["reverse_proxy/auth_profile"];
const BLOCKPAGES: &[&str] = &["reverse_proxy/blockpage"];
const CERTIFICATES: &[&str] = &["ca/host_key_cert"];

pub const WAFMODES: &[&str] = &["detect", "deny"];
pub const FRONTEND_TYPES: &[&str] = &["http", "https"];
pub const LBMETHODS: &[&str] = &["bybusyness", "bytraffic", "byrequests"];
pub const ACCESS_CONTROL: &[&str] = &["0", "1"];

fn no() -> Value {
    json!(false)
}
fn empty() -> Value {
    json!("")
}
fn slash() -> Value {
    json!("/")
}

pub fn schema(typ: &str) -> Vec<Field> {
    let mut v = vec![req("name", Kind::Str), f("comment", Kind::Str, empty)];
    match typ {
        "network/dns_host" => v.extend([
            req("hostname", Kind::Str),
            f("address", Kind::Str, || json!("0.0.0.0")),
            f("address6", Kind::Str, || json!("::")),
            f("interface", Kind::Ref(INTERFACES, true), empty),
            f("resolved", Kind::Bool, no),
            f("resolved6", Kind::Bool, no),
            bare("timeout", Kind::Int(0, 86_400)),
        ]),
        "network/dns_group" => v.extend([
            req("hostname", Kind::Str),
            bare("addresses", Kind::StrList),
            bare("addresses6", Kind::StrList),
            f("interface", Kind::Ref(INTERFACES, true), empty),
            f("resolved", Kind::Bool, no),
            f("resolved6", Kind::Bool, no),
            bare("timeout", Kind::Int(0, 86_400)),
        ]),
        "network/host" => v.extend([
            req("address", Kind::Str),
            f("address6", Kind::Str, empty),
            bare("duids", Kind::StrList),
            bare("hostnames", Kind::StrList),
            f("interface", Kind::Ref(INTERFACES, true), empty),
            bare("macs", Kind::StrList),
            f("resolved", Kind::Bool, no),
            f("resolved6", Kind::Bool, no),
            f("reverse_dns", Kind::Bool, no),
        ]),
        "reverse_proxy/backend" => v.extend([
            req("host", Kind::Ref(HOSTS, false)),
            req("port", Kind::Int(1, 65_535)),
            f("path", Kind::Str, slash),
            f("ssl", Kind::Bool, no),
            f("status", Kind::Bool, no),
            f("keepalive", Kind::Bool, no),
            bare("timeout", Kind::Int(0, 86_400)),
            f("disable_backend_connection_pooling", Kind::Bool, no),
        ]),
        "reverse_proxy/location" => v.extend([
            req("backend", Kind::RefList(BACKENDS)),
            f("path", Kind::Str, slash),
            f("status", Kind::Bool, no),
            bare("access_control", Kind::Enum(ACCESS_CONTROL)),
            bare("allowed_networks", Kind::RefList(NETWORKS)),
            bare("denied_networks", Kind::RefList(NETWORKS)),
            f("auth_profile", Kind::Ref(AUTH_PROFILES, true), empty),
            bare("be_path", Kind::Str),
            f("hot_standby", Kind::Bool, no),
            f("stickysession_status", Kind::Bool, no),
            f("stickysession_id", Kind::Str, || json!("ROUTEID")),
            f("websocket_passthrough", Kind::Bool, no),
        ]),
        "reverse_proxy/profile" => v.extend([
            f("av", Kind::Bool, no),
            f("av_block_unscannable", Kind::Bool, no),
            f("av_directions", Kind::Enum(&["uploads", "downloads", "both"]), || json!("uploads")),
            f("av_engines", Kind::Enum(&["single", "double"]), || json!("single")),
            bare("av_size_limit", Kind::Int(0, i64::MAX)),
            bare("av_timeout", Kind::Int(0, i64::MAX)),
            f("bad_clients", Kind::Bool, no),
            f("bad_clients_no_dnslookup", Kind::Bool, no),
            f("cookiesign", Kind::Bool, no),
            f("cookiesign_drop_unsigned", Kind::Bool, no),
            bare("custom_threats_filters", Kind::StrList),
            bare("extensions", Kind::StrList),
            bare("filter", Kind::StrList),
            f("filter_mode", Kind::Enum(&["black", "white"]), || json!("black")),
            f("formhardening", Kind::Bool, no),
            f("outlookanywhere", Kind::Bool, no),
            bare("sec_request_body_no_files_limit", Kind::Int(0, i64::MAX)),
            f("tft", Kind::Bool, no),
            f("tft_block_unscannable", Kind::Bool, no),
            bare("tft_blocked_mime_types", Kind::StrList),
            f("threats_filter", Kind::Bool, no),
            bare("threats_filter_categories", Kind::StrList),
            f("threats_filter_rigid", Kind::Bool, no),
            f("urlhardening", Kind::Bool, no),
            bare("urlhardening_entrypages", Kind::StrList),
            f("urlhardening_entrypages_source", Kind::Enum(&["manual", "sitemap_file", "sitemap_url"]), || {
                json!("manual")
            }),
            bare("urlhardening_sitemap_update", Kind::Int(0, i64::MAX)),
            f("urlhardening_sitemap_url", Kind::Str, empty),
            f("waf", Kind::Bool, no),
            f("wafmode", Kind::Enum(WAFMODES), || json!("detect")),
            f("wafparanoia", Kind::Bool, no),
        ]),
        "reverse_proxy/frontend" => v.extend([
            req("domain", Kind::StrList),
            req("port", Kind::Int(1, 65_535)),
            f("type", Kind::Enum(FRONTEND_TYPES), || json!("http")),
            bare("address", Kind::Ref(&["network/interface_address"], false)),
            bare("locations", Kind::RefList(LOCATIONS)),
            bare("profile", Kind::Ref(PROFILES, true)),
            f("status", Kind::Bool, no),
            bare("allowed_networks", Kind::RefList(NETWORKS)),
            f("lbmethod", Kind::Enum(LBMETHODS), || json!("bybusyness")),
            f("xheaders", Kind::Bool, no),
            f("preservehost", Kind::Bool, no),
            f("htmlrewrite", Kind::Bool, no),
            f("htmlrewrite_cookies", Kind::Bool, no),
            f("implicitredirect", Kind::Bool, no),
            f("disable_compression", Kind::Bool, no),
            f("add_content_type_header", Kind::Bool, no),
            f("blockpagetheme", Kind::Ref(BLOCKPAGES, true), empty),
            f("certificate", Kind::Ref(CERTIFICATES, true), empty),
            bare("exceptions", Kind::RefList(EXCEPTIONS)),
            f("waflocalpath", Kind::Str, || json!("/.waf")),
        ]),
        _ => {}
    }
    v
}

/// Validates and assembles an object: defaults (on create or replace), then
/// `base` (the stored object, on PATCH), then the request body. The REF and
/// type are the server's; `_locked` may be set to "" or "user".
pub fn build(
    objs: &Objects,
    typ: &str,
    reference: &str,
    base: Map<String, Value>,
    body: Map<String, Value>,
    full: bool,
    ctx: &Ctx,
) -> Result<Value, ApiError> {
    let spec = schema(typ);
    let mut errors = Vec::new();
    for key in body.keys() {
        let known = spec.iter().any(|f| f.name == key) || matches!(key.as_str(), "_ref" | "_type" | "_locked");
        if !known {
            errors.push(message(
                "OBJECT_ATTRIBUTE_UNKNOWN",
                "The %_O object has no %_A attribute.",
                &[typ, key],
                &[key],
                ctx,
                true,
            ));
        }
    }
    if full {
        for field in spec.iter().filter(|f| f.required && !body.contains_key(f.name)) {
            errors.push(message(
                "OBJECT_ATTRIBUTE_MISSING",
                "The %_O object requires the %_A attribute.",
                &[typ, field.name],
                &[field.name],
                ctx,
                true,
            ));
        }
    }
    let locked = match body.get("_locked") {
        None => base.get("_locked").cloned().unwrap_or(json!("")),
        Some(Value::String(l)) if l.is_empty() || l == "user" => json!(l),
        Some(_) => {
            errors.push(message(
                "DATATYPE_OBJECT_ATTRIBUTE",
                "The %_O object's %_A attribute takes \"\" or \"user\".",
                &[typ, "_locked"],
                &["_locked"],
                ctx,
                true,
            ));
            json!("")
        }
    };
    let mut obj = Map::new();
    if full {
        for field in &spec {
            if let Some(default) = field.default {
                obj.insert(field.name.to_owned(), default());
            }
        }
    }
    obj.extend(base);
    obj.extend(body.into_iter().filter(|(k, _)| !k.starts_with('_')));
    for field in &spec {
        let Some(v) = obj.get(field.name) else { continue };
        if let Err(why) = check_kind(objs, v, field.kind) {
            errors.push(message(
                "DATATYPE_OBJECT_ATTRIBUTE",
                "The %_O object requires %_d for the %_A attribute.",
                &[typ, &why, field.name],
                &[field.name],
                ctx,
                true,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::new(hyper::StatusCode::BAD_REQUEST, errors));
    }
    obj.insert("_ref".into(), json!(reference));
    obj.insert("_type".into(), json!(typ));
    obj.insert("_locked".into(), locked);
    Ok(Value::Object(obj))
}

/// The type of a REF: a stored object's, or a built-in's.
pub fn type_of<'a>(objs: &'a Objects, r: &str) -> Option<&'a str> {
    BUILTIN_REFS
        .iter()
        .find(|(b, _)| *b == r)
        .map(|(_, t)| *t)
        .or_else(|| objs.iter().find(|(_, m)| m.contains_key(r)).map(|(t, _)| t.as_str()))
}

fn type_matches(t: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(class) => t.starts_with(class),
        None => *a == t,
    })
}

/// What a value must be, in the appliance's words ("a boolean", …).
fn check_kind(objs: &Objects, v: &Value, kind: Kind) -> Result<(), String> {
    let ref_ok = |r: &str, types: &[&str]| -> Result<(), String> {
        match type_of(objs, r) {
            Some(t) if type_matches(t, types) => Ok(()),
            Some(t) => Err(format!("a REF of {} ({r} is a {t})", types.join(" or "))),
            None => Err(format!("a REF of {} ({r} does not exist)", types.join(" or "))),
        }
    };
    match kind {
        Kind::Str => v.is_string().then_some(()).ok_or_else(|| "a string".into()),
        Kind::Enum(values) => match v.as_str() {
            Some(s) if values.contains(&s) => Ok(()),
            _ => Err(format!("one of {}", values.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", "))),
        },
        Kind::Bool => v.is_boolean().then_some(()).ok_or_else(|| "a boolean".into()),
        Kind::Int(lo, hi) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(()),
            _ => Err(format!("an integer from {lo} to {hi}")),
        },
        Kind::StrList => match v.as_array() {
            Some(a) if a.iter().all(Value::is_string) => Ok(()),
            _ => Err("an array of strings".into()),
        },
        Kind::Ref(types, optional) => match v.as_str() {
            Some("") if optional => Ok(()),
            Some("") => Err(format!("a REF of {}", types.join(" or "))),
            Some(r) => ref_ok(r, types),
            None => Err(format!("a REF of {}", types.join(" or "))),
        },
        Kind::RefList(types) => match v.as_array() {
            Some(a) => a.iter().try_for_each(|x| match x.as_str() {
                Some(r) => ref_ok(r, types),
                None => Err(format!("an array of REFs of {}", types.join(" or "))),
            }),
            None => Err(format!("an array of REFs of {}", types.join(" or "))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn create(objs: &Objects, typ: &str, body: Value) -> Result<Value, Vec<Value>> {
        build(objs, typ, "REF_x", Map::new(), obj(body), true, &Ctx::default()).map_err(|e| e.messages)
    }

    fn refused_attr(objs: &Objects, typ: &str, body: Value) -> Vec<String> {
        create(objs, typ, body)
            .err()
            .unwrap_or_default()
            .iter()
            .map(|m| m["Oattrs"][0].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn with(typ: &str, reference: &str, o: Value) -> Objects {
        let mut objs = Objects::new();
        objs.entry(typ.into()).or_default().insert(reference.into(), o);
        objs
    }

    #[test]
    fn a_profile_takes_wafmode_detect_or_deny_and_nothing_else() {
        // tests/api/utm.rs sends the mode hawaf once sent, through the client.
        let objs = Objects::new();
        for other in ["monitor", "block", "Deny", ""] {
            let body = json!({"name": "p", "wafmode": other});
            assert_eq!(refused_attr(&objs, "reverse_proxy/profile", body), ["wafmode"], "{other}");
        }
        for mode in ["detect", "deny"] {
            assert!(create(&objs, "reverse_proxy/profile", json!({"name": "p", "wafmode": mode})).is_ok());
        }
    }

    #[test]
    fn a_new_profile_takes_the_definitions_defaults() {
        let p = create(&Objects::new(), "reverse_proxy/profile", json!({"name": "p"})).unwrap();
        assert_eq!(p["wafmode"], "detect");
        assert_eq!(p["waf"], false);
        assert_eq!(p["threats_filter"], false);
        assert_eq!(p["av_directions"], "uploads");
        assert_eq!(p["filter_mode"], "black");
        assert!(p.get("skipwafrules").is_none());
        assert!(p.get("av_size_limit").is_none(), "no invented default for an integer the definitions leave open");
    }

    #[test]
    fn attributes_the_definitions_do_not_have_are_refused() {
        let objs = Objects::new();
        assert_eq!(
            refused_attr(&objs, "reverse_proxy/profile", json!({"name": "p", "skipwafrules": []})),
            ["skipwafrules"]
        );
        assert_eq!(refused_attr(&objs, "network/dns_host", json!({"name": "h", "hostname": "a", "rc": 0})), ["rc"]);
    }

    #[test]
    fn frontend_type_and_lbmethod_are_enumerations() {
        let objs = Objects::new();
        let base = json!({"name": "f", "domain": ["a"], "port": 80});
        let mut bad_type = base.clone();
        bad_type["type"] = json!("tcp");
        assert_eq!(refused_attr(&objs, "reverse_proxy/frontend", bad_type), ["type"]);
        let mut bad_lb = base.clone();
        bad_lb["lbmethod"] = json!("roundrobin");
        assert_eq!(refused_attr(&objs, "reverse_proxy/frontend", bad_lb), ["lbmethod"]);
        let mut empty_lb = base.clone();
        empty_lb["lbmethod"] = json!("");
        assert_eq!(refused_attr(&objs, "reverse_proxy/frontend", empty_lb), ["lbmethod"]);
        for (t, m) in [("http", "bybusyness"), ("https", "bytraffic"), ("http", "byrequests")] {
            let mut ok = base.clone();
            ok["type"] = json!(t);
            ok["lbmethod"] = json!(m);
            assert!(create(&objs, "reverse_proxy/frontend", ok).is_ok(), "{t} {m}");
        }
    }

    #[test]
    fn a_new_frontend_takes_the_definitions_defaults() {
        let fe = create(&Objects::new(), "reverse_proxy/frontend", json!({"name": "f", "domain": ["a"], "port": 80}))
            .unwrap();
        assert_eq!(fe["status"], false, "a virtual webserver is off until asked");
        assert_eq!(fe["type"], "http");
        assert_eq!(fe["lbmethod"], "bybusyness");
        assert_eq!(fe["waflocalpath"], "/.waf");
        assert_eq!(fe["blockpagetheme"], "");
        assert_eq!(fe["_locked"], "");
    }

    #[test]
    fn access_control_takes_zero_or_one() {
        let objs = with("reverse_proxy/backend", "REF_RevBacB", json!({}));
        let loc = |ac: &str| json!({"name": "l", "backend": ["REF_RevBacB"], "access_control": ac});
        assert_eq!(refused_attr(&objs, "reverse_proxy/location", loc("yes")), ["access_control"]);
        assert!(create(&objs, "reverse_proxy/location", loc("1")).is_ok());
        let l = create(&objs, "reverse_proxy/location", json!({"name": "l", "backend": ["REF_RevBacB"]})).unwrap();
        assert_eq!(l["status"], false);
        assert_eq!(l["stickysession_id"], "ROUTEID");
    }

    #[test]
    fn a_backend_host_may_be_a_dns_host_a_dns_group_or_a_host_and_nothing_else() {
        for typ in ["network/dns_host", "network/dns_group", "network/host"] {
            let objs = with(typ, "REF_H", json!({}));
            let b = create(&objs, "reverse_proxy/backend", json!({"name": "b", "host": "REF_H", "port": 80})).unwrap();
            assert_eq!((b["status"].clone(), b["keepalive"].clone()), (json!(false), json!(false)), "{typ}");
        }
        let objs = with("reverse_proxy/profile", "REF_P", json!({}));
        assert_eq!(
            refused_attr(&objs, "reverse_proxy/backend", json!({"name": "b", "host": "REF_P", "port": 80})),
            ["host"]
        );
        assert_eq!(
            refused_attr(
                &Objects::new(),
                "reverse_proxy/backend",
                json!({"name": "b", "host": "REF_Nope", "port": 80})
            ),
            ["host"]
        );
    }

    #[test]
    fn allowed_networks_take_any_network_object() {
        let objs = with("network/host", "REF_NetHosAdmin", json!({}));
        let fe = |nets: Value| json!({"name": "f", "domain": ["a"], "port": 80, "allowed_networks": nets});
        assert!(create(&objs, "reverse_proxy/frontend", fe(json!(["REF_NetworkAny", "REF_NetHosAdmin"]))).is_ok());
        assert!(create(&objs, "reverse_proxy/frontend", fe(json!(["REF_DefaultInternalNetwork"]))).is_ok());
        assert_eq!(refused_attr(&objs, "reverse_proxy/frontend", fe(json!(["REF_Nope"]))), ["allowed_networks"]);
    }

    #[test]
    fn dns_host_and_host_defaults_are_the_appliances() {
        let h = create(&Objects::new(), "network/dns_host", json!({"name": "h", "hostname": "lb"})).unwrap();
        assert_eq!((h["address"].clone(), h["address6"].clone()), (json!("0.0.0.0"), json!("::")));
        assert_eq!((h["resolved"].clone(), h["interface"].clone()), (json!(false), json!("")));
        let h = create(&Objects::new(), "network/host", json!({"name": "h", "address": "10.0.0.1"})).unwrap();
        assert_eq!(h["resolved"], false);
    }

    #[test]
    fn missing_mandatory_attributes_are_each_reported() {
        assert_eq!(refused_attr(&Objects::new(), "network/dns_host", json!({})), ["name", "hostname"]);
        assert_eq!(refused_attr(&Objects::new(), "reverse_proxy/frontend", json!({"name": "f"})), ["domain", "port"]);
    }

    #[test]
    fn a_user_lock_may_be_set_and_a_global_one_may_not() {
        let objs = Objects::new();
        let h = create(&objs, "network/dns_host", json!({"name": "h", "hostname": "a", "_locked": "user"})).unwrap();
        assert_eq!(h["_locked"], "user");
        assert_eq!(
            refused_attr(&objs, "network/dns_host", json!({"name": "h", "hostname": "a", "_locked": "global"})),
            ["_locked"]
        );
    }

    #[test]
    fn an_error_message_carries_every_field_of_the_real_shape() {
        let err =
            create(&Objects::new(), "reverse_proxy/profile", json!({"name": "p", "wafmode": "block"})).unwrap_err();
        let m = err[0].as_object().unwrap();
        let mut keys: Vec<&str> = m.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "Oattrs",
                "attrs",
                "class",
                "del_object",
                "fatal",
                "format",
                "msgtype",
                "name",
                "never_hide",
                "objname",
                "perms",
                "ref",
                "rights",
                "type"
            ]
        );
        assert_eq!(m["fatal"], 1);
        assert!(m["name"].as_str().unwrap().contains("\"detect\", \"deny\""), "{m:?}");
        assert!(m["format"].as_str().unwrap().contains("%_A"), "the template, its arguments in attrs");
        assert_eq!(m["attrs"][2], "wafmode");
    }
}
