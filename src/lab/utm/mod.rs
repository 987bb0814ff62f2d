//! The Sophos UTM 9 REST API subset that hawaf's UTM driver uses, served by
//! lab WAF nodes over HTTPS with a self-signed certificate and HTTP Basic
//! auth (`token` + the node's token), held to the appliance's definitions
//! (`schema`, `nodes`, `reply`), and the mapping from those objects to what
//! the node's port-80 proxy does (`apply`).
//!
//! Served: `/api/objects/<class>/<type>/` (list, create) and `…/<REF>` (get,
//! PUT — which creates the object under that REF when it does not exist, as
//! the API documentation says — PATCH, DELETE, `usedby`); `/api/nodes` and
//! `/api/nodes/<path>`; `/api/status/version`. Headers as the appliance
//! reads them: `X-Restd-Err-Ack: last|all` acknowledges objections (non-fatal
//! messages), `none` or no header refuses the request with them;
//! `X-Restd-Lock-Override: yes` lets a change through a user's lock (never a
//! global one); `X-Restd-Session: close` is accepted.

mod apply;
mod nodes;
mod reply;
mod schema;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

pub(crate) use apply::{FilterMode, Route, enabled_frontend_ports, route};
pub(crate) use nodes::fresh as fresh_nodes;
use reply::{ApiError, Ctx, Objects, json_response, message};
use schema::{BUILTIN_REFS, TYPES, build};

use super::http::{self, Body};
use super::state::WafNode;
use super::{Shared, reconcile};

/// The images the lab knows as Sophos UTM 9: its stand-in for the
/// Marketplace listing, so an instance launched from one without hawaf's
/// role tag still boots a UTM, as it would on AWS. The seed preset's UTM AMI
/// is one of them.
pub const UTM9_IMAGES: &[&str] = &[crate::waf::WafKind::Utm9.lab_image()];

/// The WebAdmin / REST port of a UTM node.
pub const ADMIN_PORT: u16 = 4444;

/// What the request's headers ask of the appliance.
#[derive(Debug, Clone, Copy, Default)]
struct Asks {
    /// `X-Restd-Err-Ack: last|all`.
    ack: bool,
    /// `X-Restd-Lock-Override: yes`.
    lock_override: bool,
}

impl Asks {
    fn of(req: &Request<Incoming>) -> Self {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase);
        Asks {
            ack: header("x-restd-err-ack").is_some_and(|v| v == "all" || v == "last"),
            lock_override: header("x-restd-lock-override").is_some_and(|v| v == "yes"),
        }
    }
}

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

/// Serves a WAF node's WebAdmin port: the UTM 9 REST API, or on a node
/// that booted Sophos Firewall its XML API.
pub(crate) async fn serve(shared: Arc<Shared>, node: String, tls: TlsAcceptor, stream: TcpStream) {
    let Ok(peer) = stream.peer_addr() else { return };
    let accepted = tokio::time::timeout(Duration::from_secs(10), tls.accept(stream)).await;
    let stream = match accepted {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(node = %node, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => return,
    };
    let sfos = {
        let w = shared.lock();
        w.snap
            .instances
            .get(&node)
            .and_then(|r| r.waf.as_ref())
            .is_some_and(|n| n.appliance == crate::waf::WafKind::Sfos)
    };
    if sfos {
        http::serve_connection(stream, move |req| crate::lab::sfos::handle(shared.clone(), node.clone(), peer, req))
            .await;
    } else {
        http::serve_connection(stream, move |req| handle(shared.clone(), node.clone(), req)).await;
    }
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
        let mut r = ApiError::one(StatusCode::UNAUTHORIZED, "AUTH_FAILED", "Authentication failed", &Ctx::default())
            .into_response();
        // The challenge a browser's (and urllib's) Basic auth waits for.
        r.headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, hyper::header::HeaderValue::from_static("Basic realm=\"restd\""));
        return r;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let asks = Asks::of(&req);
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let result = if let Some(rest) = path.strip_prefix("/api/objects/") {
        objects(&shared, &node, &method, rest, &body, asks)
    } else if path == "/api/nodes" || path.starts_with("/api/nodes/") {
        node_settings(&shared, &node, &method, path.trim_start_matches("/api/nodes").trim_matches('/'), &body)
    } else if path.trim_end_matches('/') == "/api/status/version" && method == Method::GET {
        Ok((StatusCode::OK, json!({"utm": nodes::VERSION, "restd": nodes::RESTD_VERSION})))
    } else {
        Err(ApiError::one(StatusCode::NOT_FOUND, "PATH_UNKNOWN", &format!("No such resource: {path}"), &Ctx::default()))
    };
    match result {
        Ok((StatusCode::NO_CONTENT, _)) => {
            let mut r = Response::new(http::full(Bytes::new()));
            *r.status_mut() = StatusCode::NO_CONTENT;
            r
        }
        Ok((status, v)) => json_response(status, &v),
        Err(e) => e.into_response(),
    }
}

fn json_body(body: &[u8], ctx: &Ctx) -> Result<Value, ApiError> {
    serde_json::from_slice::<Value>(body)
        .map_err(|_| ApiError::one(StatusCode::BAD_REQUEST, "INVALID_JSON", "The request body is not JSON", ctx))
}

fn object_body(body: &[u8], ctx: &Ctx) -> Result<Map<String, Value>, ApiError> {
    match json_body(body, ctx)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::one(StatusCode::BAD_REQUEST, "INVALID_JSON", "The request body is not a JSON object", ctx)),
    }
}

/// Runs `f` on the node's stored configuration; a change reconfigures the
/// node's listeners.
fn with_node<T>(
    shared: &Arc<Shared>,
    node: &str,
    f: impl FnOnce(&mut WafNode) -> Result<(bool, T), ApiError>,
) -> Result<T, ApiError> {
    let mut w = shared.lock();
    let Some(n) = w.snap.instances.get_mut(node).and_then(|r| r.waf.as_mut()) else {
        return Err(ApiError::one(
            StatusCode::SERVICE_UNAVAILABLE,
            "NODE_DOWN",
            "The node is not available",
            &Ctx::default(),
        ));
    };
    let (mutated, out) = f(n)?;
    if mutated {
        reconcile(shared, &mut w);
        drop(w);
        shared.bump();
    }
    Ok(out)
}

fn node_settings(
    shared: &Arc<Shared>,
    node: &str,
    method: &Method,
    path: &str,
    body: &[u8],
) -> Result<(StatusCode, Value), ApiError> {
    let ctx = Ctx::default();
    with_node(shared, node, |n| match (method, path) {
        (&Method::GET, "") => Ok((false, (StatusCode::OK, nodes::all(&n.nodes)))),
        (&Method::GET, p) => Ok((false, (StatusCode::OK, nodes::get(&n.nodes, p)?))),
        (&Method::PUT, p) if !p.is_empty() => {
            let v = json_body(body, &ctx)?;
            nodes::set(&mut n.nodes, p, v)?;
            Ok((true, (StatusCode::OK, nodes::get(&n.nodes, p)?)))
        }
        (&Method::PATCH, "") => {
            let changes = object_body(body, &ctx)?;
            // All or nothing: check every node before setting any.
            let mut next = n.nodes.clone();
            for (p, v) in changes {
                nodes::set(&mut next, &p, v)?;
            }
            n.nodes = next;
            Ok((true, (StatusCode::OK, nodes::all(&n.nodes))))
        }
        _ => Err(ApiError::one(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            &format!("{method} is not allowed here"),
            &ctx,
        )),
    })
}

/// A REF as the appliance makes them: `REF_` and letters or digits.
fn valid_ref(r: &str) -> bool {
    r.strip_prefix("REF_").is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn locked_refusal(obj: &Value, asks: Asks, ctx: &Ctx) -> Result<(), ApiError> {
    match obj.get("_locked").and_then(Value::as_str).unwrap_or("") {
        "" => Ok(()),
        "user" if asks.lock_override => Ok(()),
        lock => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            vec![message(
                "OBJECT_LOCKED",
                "The %_O object %_N is locked (%_L).",
                &[&format!("{}/{}", ctx.class, ctx.typ), &ctx.objname, lock],
                &["_locked"],
                ctx,
                true,
            )],
        )),
    }
}

/// Objections to a change that affects other objects: switching off an
/// object that an enabled object uses. Non-fatal: acknowledged, it goes through.
fn objections(objs: &Objects, reference: &str, before: &Value, after: &Value, ctx: &Ctx) -> Vec<Value> {
    let was_on = before.get("status").and_then(Value::as_bool) == Some(true);
    let now_off = after.get("status").and_then(Value::as_bool) == Some(false);
    if !(was_on && now_off) {
        return Vec::new();
    }
    used_by(objs, reference)
        .into_iter()
        .filter(|user| {
            objs.values().filter_map(|m| m.get(user)).any(|o| o.get("status").and_then(Value::as_bool) == Some(true))
        })
        .map(|user| {
            message(
                "OBJECT_CHANGE_AFFECTS_USER",
                "Disabling %_N leaves the enabled object %_R without it.",
                &[&ctx.objname, &user],
                &["status"],
                ctx,
                false,
            )
        })
        .collect()
}

fn objects(
    shared: &Arc<Shared>,
    node: &str,
    method: &Method,
    rest: &str,
    body: &[u8],
    asks: Asks,
) -> Result<(StatusCode, Value), ApiError> {
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (typ, reference, usedby) = match parts.as_slice() {
        [c, t] => (format!("{c}/{t}"), None, false),
        [c, t, r] => (format!("{c}/{t}"), Some(r.to_string()), false),
        [c, t, r, "usedby"] => (format!("{c}/{t}"), Some(r.to_string()), true),
        _ => {
            let text = format!("No such resource: /api/objects/{rest}");
            return Err(ApiError::one(StatusCode::NOT_FOUND, "PATH_UNKNOWN", &text, &Ctx::default()));
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
        let text = format!("The object type {typ} is not known to this node");
        return Err(ApiError::one(StatusCode::NOT_FOUND, "TYPE_UNKNOWN", &text, &ctx));
    }
    if usedby && method != Method::GET {
        let text = format!("{method} is not allowed on usedby");
        return Err(ApiError::one(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", &text, &ctx));
    }
    with_node(shared, node, |n| {
        let objs = &mut n.objects;
        let not_found = |ctx: &Ctx, r: &str| {
            ApiError::one(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", &format!("The object {r} does not exist"), ctx)
        };
        match (method, reference) {
            (&Method::GET, None) => {
                let list: Vec<Value> = objs.get(&typ).map(|m| m.values().cloned().collect()).unwrap_or_default();
                Ok((false, (StatusCode::OK, Value::Array(list))))
            }
            (&Method::POST, None) => {
                let body = object_body(body, &ctx)?;
                ctx.objname = body.get("name").and_then(Value::as_str).unwrap_or("").into();
                let reference = new_ref(objs, &typ, &ctx.objname.clone());
                ctx.reference = reference.clone();
                let obj = build(objs, &typ, &reference, Map::new(), body, true, &ctx)?;
                objs.entry(typ.clone()).or_default().insert(reference, obj.clone());
                Ok((true, (StatusCode::CREATED, obj)))
            }
            (&Method::GET, Some(r)) if usedby => {
                if !exists(objs, &typ, &r) {
                    return Err(not_found(&ctx, &r));
                }
                Ok((false, (StatusCode::OK, json!({"objects": used_by(objs, &r), "nodes": []}))))
            }
            (&Method::GET, Some(r)) => {
                let obj = objs.get(&typ).and_then(|m| m.get(&r)).cloned();
                Ok((false, (StatusCode::OK, obj.ok_or_else(|| not_found(&ctx, &r))?)))
            }
            (&Method::PUT | &Method::PATCH, Some(r)) => {
                let existing = objs.get(&typ).and_then(|m| m.get(&r)).cloned();
                let body = object_body(body, &ctx)?;
                let Some(existing) = existing else {
                    if method == Method::PATCH {
                        return Err(not_found(&ctx, &r));
                    }
                    // The documented PUT: it creates the object under that REF
                    // (one the appliance would not accept gets a REF of its own).
                    ctx.objname = body.get("name").and_then(Value::as_str).unwrap_or("").into();
                    let taken = objs.values().any(|m| m.contains_key(&r)) || BUILTIN_REFS.iter().any(|(b, _)| *b == r);
                    let reference = if valid_ref(&r) && !taken { r } else { new_ref(objs, &typ, &ctx.objname.clone()) };
                    ctx.reference = reference.clone();
                    let obj = build(objs, &typ, &reference, Map::new(), body, true, &ctx)?;
                    objs.entry(typ.clone()).or_default().insert(reference, obj.clone());
                    return Ok((true, (StatusCode::OK, obj)));
                };
                ctx.objname = existing.get("name").and_then(Value::as_str).unwrap_or("").into();
                locked_refusal(&existing, asks, &ctx)?;
                let mut body = body;
                // A replace that does not name the lock keeps it: overriding a
                // user's lock to change an object does not remove the lock.
                if !body.contains_key("_locked")
                    && let Some(lock) = existing.get("_locked").filter(|l| l.as_str() != Some("global"))
                {
                    body.insert("_locked".into(), lock.clone());
                }
                let (base, full) = match (method, existing.as_object()) {
                    (&Method::PATCH, Some(o)) => (o.clone(), false),
                    _ => (Map::new(), true),
                };
                let obj = build(objs, &typ, &r, base, body, full, &ctx)?;
                let objected = objections(objs, &r, &existing, &obj, &ctx);
                if !objected.is_empty() && !asks.ack {
                    return Err(ApiError::new(StatusCode::CONFLICT, objected));
                }
                objs.entry(typ.clone()).or_default().insert(r, obj.clone());
                Ok((true, (StatusCode::OK, obj)))
            }
            (&Method::DELETE, Some(r)) => {
                let Some(existing) = objs.get(&typ).and_then(|m| m.get(&r)).cloned() else {
                    return Err(not_found(&ctx, &r));
                };
                ctx.objname = existing.get("name").and_then(Value::as_str).unwrap_or("").into();
                locked_refusal(&existing, asks, &ctx)?;
                let users = used_by(objs, &r);
                if !users.is_empty() && !asks.ack {
                    // The appliance's objection: deleting it changes the objects that use it.
                    let messages = users
                        .iter()
                        .map(|u| {
                            let (msgtype, consequence) = if needs_parent_delete(objs, u, &r) {
                                ("OBJECT_DELETE_PARENT_DEL", "delete")
                            } else {
                                ("OBJECT_DELETE_PARENT_CHANGE", "change")
                            };
                            let mut m = message(
                                msgtype,
                                "%_N is used by %_R. Continuing will %_C the latter object as well.",
                                &[&ctx.objname, u, consequence],
                                &[],
                                &ctx,
                                false,
                            );
                            m["del_object"] = json!(u);
                            m
                        })
                        .collect();
                    return Err(ApiError::new(StatusCode::CONFLICT, messages));
                }
                unlink(objs, &r);
                if let Some(m) = objs.get_mut(&typ) {
                    m.remove(&r);
                }
                Ok((true, (StatusCode::NO_CONTENT, Value::Null)))
            }
            _ => Err(ApiError::one(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                &format!("{method} is not allowed here"),
                &ctx,
            )),
        }
    })
}

fn exists(objs: &Objects, typ: &str, r: &str) -> bool {
    objs.get(typ).is_some_and(|m| m.contains_key(r))
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
    let taken = |r: &str| objs.values().any(|m| m.contains_key(r)) || BUILTIN_REFS.iter().any(|(b, _)| *b == r);
    if !taken(&base) {
        return base;
    }
    (2..).map(|n| format!("{base}{n}")).find(|r| !taken(r)).unwrap_or(base)
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

/// Whether `owner` holds `r` in a mandatory single reference: deleting `r`
/// then deletes the owner too, as the appliance's OBJECT_DELETE_PARENT_DEL
/// objection says ("Continuing will delete the latter object as well").
fn needs_parent_delete(objs: &Objects, owner: &str, r: &str) -> bool {
    let Some((typ, obj)) = objs.iter().find_map(|(t, m)| m.get(owner).map(|o| (t, o))) else {
        return false;
    };
    schema::schema(typ)
        .iter()
        .any(|f| matches!(f.kind, schema::Kind::Ref(_, false)) && obj.get(f.name).and_then(Value::as_str) == Some(r))
}

/// A confirmed delete: `r` goes, objects that cannot exist without it go
/// with it, and every other reference to them is dropped.
fn unlink(objs: &mut Objects, r: &str) {
    let mut doomed = vec![r.to_owned()];
    let mut i = 0;
    while i < doomed.len() {
        let next = doomed[i].clone();
        for owner in used_by(objs, &next) {
            if !doomed.contains(&owner) && needs_parent_delete(objs, &owner, &next) {
                doomed.push(owner);
            }
        }
        i += 1;
    }
    for m in objs.values_mut() {
        m.retain(|k, _| !doomed.contains(k));
    }
    for obj in objs.values_mut().flat_map(|m| m.values_mut()) {
        let Some(o) = obj.as_object_mut() else {
            continue;
        };
        for (k, v) in o.iter_mut() {
            if k.starts_with('_') {
                continue;
            }
            match v {
                Value::String(s) if doomed.contains(s) => s.clear(),
                Value::Array(a) => a.retain(|x| x.as_str().is_none_or(|x| !doomed.iter().any(|d| d == x))),
                _ => {}
            }
        }
    }
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
}
