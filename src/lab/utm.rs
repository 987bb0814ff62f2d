//! The Sophos UTM 9 REST API subset that hawaf's UTM driver uses, served by
//! lab WAF nodes over HTTPS with a self-signed certificate and HTTP Basic
//! auth (`token` + the node's token), and the mapping from those objects to
//! what the node's port-80 proxy does.
//!
//! Objects: `network/dns_host`, `network/host`, `reverse_proxy/backend`,
//! `reverse_proxy/location`, `reverse_proxy/profile`,
//! `reverse_proxy/frontend`, with list / get / create / PUT / PATCH /
//! DELETE / usedby under `/api/objects/<class>/<type>/`. Error bodies are a
//! JSON array of messages (`name`, `rc`, `msgtype` and its alias
//! `msg_type`, `Oattrs`, `fatal`, …).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::http::{self, Body};
use super::state::WafNode;
use super::{Shared, World, reconcile, resolve};

/// The WebAdmin / REST port of a UTM node.
pub const ADMIN_PORT: u16 = 4444;

const TYPES: [&str; 6] = [
    "network/dns_host",
    "network/host",
    "reverse_proxy/backend",
    "reverse_proxy/location",
    "reverse_proxy/profile",
    "reverse_proxy/frontend",
];

/// References every node knows without creating them.
const BUILTIN_REFS: [&str; 4] =
    ["REF_NetworkAny", "REF_DefaultInternalAddress", "REF_DefaultInternalNetwork", "REF_DefaultExternalAddress"];

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Int(i64, i64),
    Bool,
    StrList,
    /// A `_ref` to an object of one of these types ("" allowed when optional).
    Ref(&'static [&'static str], bool),
    RefList(&'static [&'static str]),
}

const HOSTS: &[&str] = &["network/dns_host", "network/host"];
const BACKENDS: &[&str] = &["reverse_proxy/backend"];
const LOCATIONS: &[&str] = &["reverse_proxy/location"];
const PROFILES: &[&str] = &["reverse_proxy/profile"];
const NETWORKS: &[&str] = &["network/dns_host", "network/host"];

/// (field, kind, required, default)
type FieldSpec = (&'static str, Kind, bool, fn() -> Value);

fn schema(typ: &str) -> Vec<FieldSpec> {
    let mut v: Vec<FieldSpec> =
        vec![("name", Kind::Str, true, || json!("")), ("comment", Kind::Str, false, || json!(""))];
    match typ {
        "network/dns_host" => v.extend([
            ("hostname", Kind::Str, true, (|| json!("")) as fn() -> Value),
            ("address", Kind::Str, false, || json!("0.0.0.0")),
            ("address6", Kind::Str, false, || json!("")),
            ("interface", Kind::Str, false, || json!("")),
            ("resolved", Kind::Bool, false, || json!(false)),
            ("resolved6", Kind::Bool, false, || json!(false)),
            ("timeout", Kind::Int(0, 86400), false, || json!(0)),
        ]),
        "network/host" => v.extend([
            ("address", Kind::Str, true, (|| json!("")) as fn() -> Value),
            ("address6", Kind::Str, false, || json!("")),
            ("interface", Kind::Str, false, || json!("")),
            ("resolved", Kind::Bool, false, || json!(true)),
        ]),
        "reverse_proxy/backend" => v.extend([
            ("host", Kind::Ref(HOSTS, false), true, (|| json!("")) as fn() -> Value),
            ("port", Kind::Int(1, 65535), true, || json!(80)),
            ("path", Kind::Str, false, || json!("/")),
            ("ssl", Kind::Bool, false, || json!(false)),
            ("status", Kind::Bool, false, || json!(true)),
            ("keepalive", Kind::Bool, false, || json!(true)),
            ("timeout", Kind::Int(1, 86400), false, || json!(300)),
            ("disable_backend_connection_pooling", Kind::Bool, false, || json!(false)),
        ]),
        "reverse_proxy/location" => v.extend([
            ("path", Kind::Str, false, (|| json!("/")) as fn() -> Value),
            ("backend", Kind::RefList(BACKENDS), true, || json!([])),
            ("status", Kind::Bool, false, || json!(true)),
            ("access_control", Kind::Str, false, || json!("0")),
            ("allowed_networks", Kind::RefList(NETWORKS), false, || json!(["REF_NetworkAny"])),
            ("denied_networks", Kind::RefList(NETWORKS), false, || json!([])),
            ("auth_profile", Kind::Str, false, || json!("")),
            ("be_path", Kind::Str, false, || json!("")),
            ("hot_standby", Kind::Bool, false, || json!(false)),
            ("stickysession_status", Kind::Bool, false, || json!(false)),
            ("stickysession_id", Kind::Str, false, || json!("ROUTEID")),
            ("websocket_passthrough", Kind::Bool, false, || json!(false)),
        ]),
        "reverse_proxy/profile" => v.extend([
            ("waf", Kind::Bool, false, (|| json!(true)) as fn() -> Value),
            ("wafmode", Kind::Str, false, || json!("reject")),
            ("wafparanoia", Kind::Bool, false, || json!(false)),
            ("threats_filter", Kind::Bool, false, || json!(true)),
            ("threats_filter_categories", Kind::StrList, false, || json!([])),
            ("threats_filter_rigid", Kind::Bool, false, || json!(false)),
            ("skipwafrules", Kind::StrList, false, || json!([])),
            ("av", Kind::Bool, false, || json!(false)),
            ("urlhardening", Kind::Bool, false, || json!(false)),
            ("formhardening", Kind::Bool, false, || json!(false)),
            ("cookiesign", Kind::Bool, false, || json!(false)),
            ("bad_clients", Kind::Bool, false, || json!(false)),
        ]),
        "reverse_proxy/frontend" => v.extend([
            ("domain", Kind::StrList, true, (|| json!([])) as fn() -> Value),
            ("port", Kind::Int(1, 65535), false, || json!(80)),
            ("type", Kind::Str, false, || json!("http")),
            ("address", Kind::Str, false, || json!("REF_DefaultInternalAddress")),
            ("locations", Kind::RefList(LOCATIONS), false, || json!([])),
            ("profile", Kind::Ref(PROFILES, true), false, || json!("")),
            ("status", Kind::Bool, false, || json!(true)),
            ("allowed_networks", Kind::RefList(NETWORKS), false, || json!(["REF_NetworkAny"])),
            ("lbmethod", Kind::Str, false, || json!("bybusyness")),
            ("xheaders", Kind::Bool, false, || json!(false)),
            ("preservehost", Kind::Bool, false, || json!(false)),
            ("htmlrewrite", Kind::Bool, false, || json!(false)),
            ("htmlrewrite_cookies", Kind::Bool, false, || json!(false)),
            ("implicitredirect", Kind::Bool, false, || json!(false)),
            ("disable_compression", Kind::Bool, false, || json!(false)),
            ("add_content_type_header", Kind::Bool, false, || json!(false)),
            ("certificate", Kind::Str, false, || json!("")),
            ("exceptions", Kind::StrList, false, || json!([])),
        ]),
        _ => {}
    }
    v
}

// ---------------------------------------------------------------------------
// Errors

struct ApiError {
    status: StatusCode,
    messages: Vec<Value>,
}

impl ApiError {
    fn one(status: StatusCode, msgtype: &str, name: String, attrs: &[&str], ctx: &Ctx) -> Self {
        Self { status, messages: vec![message(msgtype, &name, attrs, ctx, true)] }
    }
}

#[derive(Default)]
struct Ctx {
    class: String,
    typ: String,
    objname: String,
    reference: String,
}

fn message(msgtype: &str, name: &str, attrs: &[&str], ctx: &Ctx, fatal: bool) -> Value {
    json!({
        "Oattrs": attrs,
        "attrs": attrs,
        "class": ctx.class,
        "type": ctx.typ,
        "del_object": "",
        "fatal": if fatal { 1 } else { 0 },
        "format": name,
        "msgtype": msgtype,
        "msg_type": msgtype,
        "rc": msgtype,
        "name": name,
        "never_hide": 0,
        "objname": ctx.objname,
        "perms": "",
        "ref": ctx.reference,
        "rights": "",
    })
}

fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    http::response(status, "application/json; charset=utf-8", v.to_string())
}

// ---------------------------------------------------------------------------
// TLS + transport

/// The node's TLS acceptor from its stored certificate and key.
pub(crate) fn tls_acceptor(node: &WafNode) -> std::io::Result<TlsAcceptor> {
    use base64::Engine as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64.decode(&node.cert_der_b64).map_err(std::io::Error::other)?;
    let key = b64.decode(&node.key_der_b64).map_err(std::io::Error::other)?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(cert)], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))
        .map_err(std::io::Error::other)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

pub(crate) async fn serve(shared: Arc<Shared>, node: String, tls: TlsAcceptor, stream: TcpStream) {
    let accepted = tokio::time::timeout(Duration::from_secs(10), tls.accept(stream)).await;
    let stream = match accepted {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(node = %node, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    http::serve_connection(stream, move |req| handle(shared.clone(), node.clone(), req)).await;
}

fn authorized(req: &Request<Incoming>, token: &str) -> bool {
    use base64::Engine as _;
    let Some(v) = req.headers().get(hyper::header::AUTHORIZATION).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Some(b64) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")) else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    let expected = format!("token:{token}");
    // Constant-time: the token is a credential.
    raw.len() == expected.len() && raw.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn handle(shared: Arc<Shared>, node: String, req: Request<Incoming>) -> Response<Body> {
    let token = {
        let w = shared.lock();
        w.snap.instances.get(&node).and_then(|r| r.waf.as_ref()).map(|n| n.token.clone())
    };
    let Some(token) = token else {
        return json_response(StatusCode::SERVICE_UNAVAILABLE, &json!([]));
    };
    if !authorized(&req, &token) {
        let err = ApiError::one(
            StatusCode::UNAUTHORIZED,
            "AUTH_FAILED",
            "Authentication failed".into(),
            &[],
            &Ctx::default(),
        );
        let mut r = json_response(err.status, &Value::Array(err.messages));
        r.headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Basic realm=\"restd\""));
        return r;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let ack = req
        .headers()
        .get("x-restd-err-ack")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("all") || v.eq_ignore_ascii_case("last"));
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let result = dispatch(&shared, &node, &method, &path, &body, ack);
    match result {
        Ok((status, v)) if status == StatusCode::NO_CONTENT => {
            let _ = v;
            let mut r = Response::new(http::full(Bytes::new()));
            *r.status_mut() = status;
            r
        }
        Ok((status, v)) => json_response(status, &v),
        Err(e) => json_response(e.status, &Value::Array(e.messages)),
    }
}

// ---------------------------------------------------------------------------
// Routing

fn dispatch(
    shared: &Arc<Shared>,
    node: &str,
    method: &Method,
    path: &str,
    body: &[u8],
    ack: bool,
) -> Result<(StatusCode, Value), ApiError> {
    let rest = path.strip_prefix("/api/objects/").unwrap_or("");
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (typ, reference, usedby) = match parts.as_slice() {
        [c, t] => (format!("{c}/{t}"), None, false),
        [c, t, r] => (format!("{c}/{t}"), Some(r.to_string()), false),
        [c, t, r, "usedby"] => (format!("{c}/{t}"), Some(r.to_string()), true),
        _ => {
            return Err(ApiError::one(
                StatusCode::NOT_FOUND,
                "PATH_UNKNOWN",
                format!("No such resource: {path}"),
                &[],
                &Ctx::default(),
            ));
        }
    };
    let (class, t) = typ.split_once('/').unwrap_or(("", ""));
    let mut ctx = Ctx {
        class: class.into(),
        typ: t.into(),
        objname: String::new(),
        reference: reference.clone().unwrap_or_default(),
    };
    if !TYPES.contains(&typ.as_str()) {
        return Err(ApiError::one(
            StatusCode::NOT_FOUND,
            "TYPE_UNKNOWN",
            format!("The object type {typ} is not known to this node"),
            &[],
            &ctx,
        ));
    }
    let parse = |ctx: &Ctx| -> Result<Map<String, Value>, ApiError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(ApiError::one(
                StatusCode::BAD_REQUEST,
                "INVALID_JSON",
                "The request body is not a JSON object".into(),
                &[],
                ctx,
            )),
        }
    };
    let mut w = shared.lock();
    let mutated;
    let out = {
        let Some(objs) = w.snap.instances.get_mut(node).and_then(|r| r.waf.as_mut()).map(|n| &mut n.objects) else {
            return Err(ApiError::one(
                StatusCode::SERVICE_UNAVAILABLE,
                "NODE_DOWN",
                "The node is not available".into(),
                &[],
                &ctx,
            ));
        };
        let not_found = |ctx: &Ctx, r: &str| {
            ApiError::one(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", format!("The object {r} does not exist"), &[], ctx)
        };
        match (method, reference) {
            (&Method::GET, None) => {
                mutated = false;
                let list: Vec<Value> = objs.get(&typ).map(|m| m.values().cloned().collect()).unwrap_or_default();
                (StatusCode::OK, Value::Array(list))
            }
            (&Method::POST, None) => {
                let body = parse(&ctx)?;
                ctx.objname = body.get("name").and_then(Value::as_str).unwrap_or("").into();
                let name = ctx.objname.clone();
                let reference = new_ref(objs, &typ, &name);
                ctx.reference = reference.clone();
                let obj = build(objs, &typ, &reference, Map::new(), body, true, &ctx)?;
                objs.entry(typ.clone()).or_default().insert(reference, obj.clone());
                mutated = true;
                (StatusCode::CREATED, obj)
            }
            (&Method::GET, Some(r)) if usedby => {
                mutated = false;
                if !exists(objs, &typ, &r) {
                    return Err(not_found(&ctx, &r));
                }
                let users = used_by(objs, &r);
                (StatusCode::OK, json!({"objects": users, "nodes": []}))
            }
            (&Method::GET, Some(r)) => {
                mutated = false;
                let obj = objs.get(&typ).and_then(|m| m.get(&r)).cloned();
                (StatusCode::OK, obj.ok_or_else(|| not_found(&ctx, &r))?)
            }
            (&Method::PUT | &Method::PATCH, Some(r)) => {
                let existing = objs
                    .get(&typ)
                    .and_then(|m| m.get(&r))
                    .and_then(Value::as_object)
                    .cloned()
                    .ok_or_else(|| not_found(&ctx, &r))?;
                ctx.objname = existing.get("name").and_then(Value::as_str).unwrap_or("").into();
                let body = parse(&ctx)?;
                let (base, full) = if method == Method::PUT { (Map::new(), true) } else { (existing, false) };
                let obj = build(objs, &typ, &r, base, body, full, &ctx)?;
                objs.entry(typ.clone()).or_default().insert(r, obj.clone());
                mutated = true;
                (StatusCode::OK, obj)
            }
            (&Method::DELETE, Some(r)) => {
                if !exists(objs, &typ, &r) {
                    return Err(not_found(&ctx, &r));
                }
                let users = used_by(objs, &r);
                if !users.is_empty() && !ack {
                    let name = format!(
                        "The object is still used by {} other object(s); confirm with X-Restd-Err-Ack: all",
                        users.len()
                    );
                    return Err(ApiError {
                        status: StatusCode::CONFLICT,
                        messages: vec![message("OBJECT_USED", &name, &[], &ctx, false)],
                    });
                }
                unlink(objs, &r);
                if let Some(m) = objs.get_mut(&typ) {
                    m.remove(&r);
                }
                mutated = true;
                (StatusCode::NO_CONTENT, Value::Null)
            }
            _ => {
                return Err(ApiError::one(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "METHOD_NOT_ALLOWED",
                    format!("{method} is not allowed here"),
                    &[],
                    &ctx,
                ));
            }
        }
    };
    if mutated {
        reconcile(shared, &mut w);
        drop(w);
        shared.bump();
    }
    Ok(out)
}

type Objects = BTreeMap<String, BTreeMap<String, Value>>;

fn exists(objs: &Objects, typ: &str, r: &str) -> bool {
    objs.get(typ).is_some_and(|m| m.contains_key(r))
}

fn type_of<'a>(objs: &'a Objects, r: &str) -> Option<&'a str> {
    objs.iter().find(|(_, m)| m.contains_key(r)).map(|(t, _)| t.as_str())
}

/// `REF_RevFroHawafHaLbext`: class and type abbreviations plus the name,
/// made unique.
fn new_ref(objs: &Objects, typ: &str, name: &str) -> String {
    let cap = |s: &str| {
        let mut c = s.chars();
        c.next().map(|f| f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()).unwrap_or_default()
    };
    let (class, t) = typ.split_once('/').unwrap_or((typ, ""));
    let abbrev = |s: &str| cap(&s.chars().take(3).collect::<String>());
    let stem: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(cap)
        .collect::<String>()
        .chars()
        .take(24)
        .collect();
    let base = format!("REF_{}{}{}", abbrev(class), abbrev(t), stem);
    let taken = |r: &str| objs.values().any(|m| m.contains_key(r)) || BUILTIN_REFS.contains(&r);
    if !taken(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}{n}")).find(|r| !taken(r)).unwrap_or(base)
}

/// Validates and assembles an object: defaults, then `base` (the stored
/// object on PATCH), then the request body; server-owned fields last.
fn build(
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
    if full {
        for (field, _, required, _) in &spec {
            if *required && !body.contains_key(*field) {
                errors.push(message(
                    "ATTRIBUTE_REQUIRED",
                    &format!("The attribute \"{field}\" is required."),
                    &[field],
                    ctx,
                    true,
                ));
            }
        }
    }
    let mut obj = Map::new();
    if full {
        for (field, _, _, default) in &spec {
            obj.insert(field.to_string(), default());
        }
    }
    obj.extend(base);
    obj.extend(body);
    for (field, kind, _, _) in &spec {
        let Some(v) = obj.get(*field) else { continue };
        if let Err(why) = check_kind(objs, v, *kind) {
            errors.push(message(
                "ATTRIBUTE_INVALID",
                &format!("The attribute \"{field}\" has an invalid value: {why}"),
                &[field],
                ctx,
                true,
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError { status: StatusCode::BAD_REQUEST, messages: errors });
    }
    obj.insert("_ref".into(), json!(reference));
    obj.insert("_type".into(), json!(typ));
    obj.entry("_locked").or_insert(json!(""));
    Ok(Value::Object(obj))
}

fn check_kind(objs: &Objects, v: &Value, kind: Kind) -> Result<(), String> {
    let ref_ok = |r: &str, types: &[&str]| -> Result<(), String> {
        if BUILTIN_REFS.contains(&r) {
            return Ok(());
        }
        match type_of(objs, r) {
            Some(t) if types.contains(&t) => Ok(()),
            Some(t) => Err(format!("{r} is a {t}, expected {}", types.join(" or "))),
            None => Err(format!("the object {r} does not exist")),
        }
    };
    match kind {
        Kind::Str => v.is_string().then_some(()).ok_or_else(|| "expected a string".into()),
        Kind::Bool => v.is_boolean().then_some(()).ok_or_else(|| "expected a boolean".into()),
        Kind::Int(lo, hi) => match v.as_i64() {
            Some(n) if (lo..=hi).contains(&n) => Ok(()),
            _ => Err(format!("expected an integer from {lo} to {hi}")),
        },
        Kind::StrList => match v.as_array() {
            Some(a) if a.iter().all(Value::is_string) => Ok(()),
            _ => Err("expected an array of strings".into()),
        },
        Kind::Ref(types, optional) => match v.as_str() {
            Some("") if optional => Ok(()),
            Some("") => Err("a reference is required".into()),
            Some(r) => ref_ok(r, types),
            None => Err("expected a REF string".into()),
        },
        Kind::RefList(types) => match v.as_array() {
            Some(a) => a.iter().try_for_each(|x| match x.as_str() {
                Some(r) => ref_ok(r, types),
                None => Err("expected an array of REF strings".into()),
            }),
            None => Err("expected an array of REF strings".into()),
        },
    }
}

fn references(v: &Value, r: &str) -> bool {
    match v {
        Value::String(s) => s == r,
        Value::Array(a) => a.iter().any(|x| references(x, r)),
        _ => false,
    }
}

fn used_by(objs: &Objects, r: &str) -> Vec<String> {
    objs.values()
        .flat_map(|m| m.iter())
        .filter(|(own, obj)| {
            *own != r && obj.as_object().is_some_and(|o| o.iter().any(|(k, v)| !k.starts_with('_') && references(v, r)))
        })
        .map(|(own, _)| own.clone())
        .collect()
}

/// Removes every reference to `r` (confirmed delete).
fn unlink(objs: &mut Objects, r: &str) {
    for obj in objs.values_mut().flat_map(|m| m.values_mut()) {
        let Some(o) = obj.as_object_mut() else {
            continue;
        };
        for (k, v) in o.iter_mut() {
            if k.starts_with('_') {
                continue;
            }
            match v {
                Value::String(s) if s == r => s.clear(),
                Value::Array(a) => a.retain(|x| x.as_str() != Some(r)),
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Applying the configuration

fn frontends(node: &WafNode) -> impl Iterator<Item = &Map<String, Value>> {
    node.objects
        .get("reverse_proxy/frontend")
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_object)
        .filter(|f| f.get("status").and_then(Value::as_bool).unwrap_or(true))
}

fn port_of(f: &Map<String, Value>) -> u16 {
    f.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(80)
}

/// The ports the node serves: one per enabled frontend port.
pub(crate) fn enabled_frontend_ports(node: &WafNode) -> Vec<u16> {
    let mut ports: Vec<u16> = frontends(node).map(port_of).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterMode {
    Block,
    Monitor,
    Off,
}

pub(crate) struct Route {
    pub backend: Option<std::net::SocketAddr>,
    pub backend_host: String,
    pub filter: FilterMode,
}

fn get<'a>(node: &'a WafNode, typ: &str, r: &str) -> Option<&'a Map<String, Value>> {
    node.objects.get(typ)?.get(r)?.as_object()
}

fn enabled(o: &Map<String, Value>) -> bool {
    o.get("status").and_then(Value::as_bool).unwrap_or(true)
}

fn str_list<'a>(o: &'a Map<String, Value>, k: &str) -> Vec<&'a str> {
    o.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Where a request to the node's `port` goes: the virtual webserver for the
/// Host (else the first on the port, as Apache's default vhost), the
/// longest matching location, its first enabled real webserver, resolved by
/// the lab. The filter is on unless the frontend's firewall profile turns
/// the WAF off (`waf: false`) or to monitoring (`wafmode: "monitor"`).
pub(crate) fn route(w: &World, node_id: &str, port: u16, host: Option<&str>, path: &str) -> Result<Route, StatusCode> {
    let node = w.snap.instances.get(node_id).and_then(|r| r.waf.as_ref()).ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let host = host.map(|h| h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h).to_ascii_lowercase()).unwrap_or_default();
    let on_port: Vec<_> = frontends(node).filter(|f| port_of(f) == port).collect();
    let fe = on_port
        .iter()
        .find(|f| str_list(f, "domain").iter().any(|d| d.eq_ignore_ascii_case(&host)))
        .or_else(|| on_port.first())
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let filter = match fe.get("profile").and_then(Value::as_str).filter(|p| !p.is_empty()) {
        None => FilterMode::Block,
        Some(p) => match get(node, "reverse_proxy/profile", p) {
            Some(prof) if prof.get("waf").and_then(Value::as_bool) == Some(false) => FilterMode::Off,
            Some(prof) if prof.get("wafmode").and_then(Value::as_str) == Some("monitor") => FilterMode::Monitor,
            _ => FilterMode::Block,
        },
    };
    let location = str_list(fe, "locations")
        .into_iter()
        .filter_map(|r| get(node, "reverse_proxy/location", r))
        .filter(|l| enabled(l))
        .filter(|l| path.starts_with(l.get("path").and_then(Value::as_str).unwrap_or("/")))
        .max_by_key(|l| l.get("path").and_then(Value::as_str).unwrap_or("/").len())
        .ok_or(StatusCode::NOT_FOUND)?;
    let backend = str_list(location, "backend")
        .into_iter()
        .filter_map(|r| get(node, "reverse_proxy/backend", r))
        .find(|b| enabled(b))
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let host_ref = backend.get("host").and_then(Value::as_str).unwrap_or("");
    let hostname = get(node, "network/dns_host", host_ref)
        .and_then(|h| h.get("hostname"))
        .or_else(|| get(node, "network/host", host_ref).and_then(|h| h.get("address")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let bport = backend.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(80);
    Ok(Route { backend: resolve(w, &hostname, bport), backend_host: hostname, filter })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_derived_from_class_type_and_name_and_kept_unique() {
        let mut objs = Objects::new();
        let r = new_ref(&objs, "reverse_proxy/frontend", "hawaf ha-lbext");
        assert_eq!(r, "REF_RevFroHawafHaLbext");
        objs.entry("reverse_proxy/frontend".into()).or_default().insert(r.clone(), json!({}));
        assert_eq!(new_ref(&objs, "reverse_proxy/frontend", "hawaf ha-lbext"), "REF_RevFroHawafHaLbext2");
    }

    #[test]
    fn a_backend_must_reference_an_existing_host() {
        let objs = Objects::new();
        let body = json!({"name": "b", "host": "REF_Nope", "port": 80});
        let Value::Object(body) = body else { unreachable!() };
        let err = build(&objs, "reverse_proxy/backend", "REF_x", Map::new(), body, true, &Ctx::default())
            .err()
            .map(|e| e.messages);
        let msgs = err.unwrap_or_default();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0]["Oattrs"], json!(["host"]));
    }

    #[test]
    fn missing_mandatory_fields_are_each_reported() {
        let objs = Objects::new();
        let err = build(&objs, "network/dns_host", "REF_x", Map::new(), Map::new(), true, &Ctx::default())
            .err()
            .map(|e| e.messages)
            .unwrap_or_default();
        let attrs: Vec<_> = err.iter().map(|m| m["Oattrs"][0].clone()).collect();
        assert_eq!(attrs, vec![json!("name"), json!("hostname")]);
    }
}
