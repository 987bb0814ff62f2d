//! A lab Sophos Firewall node's XML API: `/webconsole/APIController` on the
//! node's WebAdmin port (HTTPS, the node's self-signed certificate), one
//! `reqxml` form field (POST, or a GET query as the appliance also takes),
//! answered as SFOS answers: HTTP 200 with the outcome inside the XML.
//!
//! As the appliance does, it answers only listed source addresses (status
//! 534 otherwise, before reading the request), checks the login on every
//! request, and holds the four entities it serves to Sophos's definitions
//! (`schema`). What the entities make the node do on port 80 is `apply`.

mod apply;
mod schema;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

pub(crate) use apply::{enabled_ports, route};
use schema::{Entity, FQDN_HOST, POLICY, RULE, WEB_SERVER};

use super::http::{self, Body};
use super::state::WafNode;
use super::{Shared, reconcile};
use crate::xml::Element;

/// The user the lab node's API signs in (its password is the node's token).
pub const API_USER: &str = "admin";
/// The API version the lab reports: SFOS 21.0's.
const API_VERSION: &str = "2100.1";
const API_PATH: &str = "/webconsole/APIController";
/// The lab node's only interface, as a hosted address.
const HOSTED_ADDRESSES: &[&str] = &["#PortA"];

/// What the appliance lists under Backup & firmware > API by default in
/// the lab: hawaf's own address.
pub fn default_api_allowed() -> Vec<String> {
    vec!["127.0.0.1".into()]
}

fn reply(children: Vec<Element>) -> Response<Body> {
    let mut root = Element::new("Response").attr("APIVersion", API_VERSION).attr("IPS_CAT_VER", "1");
    root.children = children;
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    body.push_str(&root.to_xml());
    http::response(StatusCode::OK, "application/xml; charset=UTF-8", body)
}

fn status(code: u16, text: impl Into<String>) -> Element {
    Element::leaf("Status", text).attr("code", code.to_string())
}

fn entity_status(tag: &str, code: u16, text: impl Into<String>) -> Element {
    Element::new(tag).attr("transactionid", "").with(status(code, text))
}

fn login(ok: bool) -> Element {
    Element::new("Login").with_leaf("status", if ok { "Authentication Successful" } else { "Authentication Failure" })
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    node: String,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    if req.uri().path() != API_PATH {
        return http::html_status(StatusCode::NOT_FOUND, "404 Not Found");
    }
    let (token, allowed) = {
        let w = shared.lock();
        match w.snap.instances.get(&node).and_then(|r| r.waf.as_ref()) {
            Some(n) => (n.token.clone(), n.api_allowed.clone()),
            None => return http::html_status(StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable"),
        }
    };
    if !allowed.iter().any(|a| a == &peer.ip().to_string()) {
        return reply(vec![status(534, "API operations are not allowed from the requester IP address")]);
    }
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let body = match Limited::new(req.into_body(), 1024 * 1024).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let form = match method {
        Method::POST => body.to_vec(),
        Method::GET => query.into_bytes(),
        _ => return http::html_status(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed"),
    };
    let reqxml = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&form)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "reqxml").map(|(_, v)| v));
    let Some(reqxml) = reqxml else {
        return reply(vec![status(500, "The request has no reqxml field")]);
    };
    let request = match Element::parse(&reqxml) {
        Ok(r) if r.name == "Request" => r,
        _ => return reply(vec![status(500, "Invalid XML request")]),
    };
    let signed_in = request.child("Login").is_some_and(|l| {
        let password_plain = l
            .child("Password")
            .is_some_and(|p| p.get_attr("passwordform").is_none_or(|f| f == "plain") && constant_eq(&p.text, &token));
        l.text_of("Username") == Some(API_USER) && password_plain
    });
    if !signed_in {
        return reply(vec![login(false)]);
    }
    let mut out = vec![login(true)];
    for op in request.children.iter().filter(|c| c.name != "Login") {
        out.extend(operation(&shared, &node, op));
    }
    reply(out)
}

/// Constant-time: the password is a credential.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One `<Get>`, `<Set>` or `<Remove>`: one answer element per entity in it.
fn operation(shared: &Arc<Shared>, node: &str, op: &Element) -> Vec<Element> {
    let mut out = Vec::new();
    for e in &op.children {
        let Some(entity) = schema::entity(&e.name) else {
            out.push(entity_status(&e.name, 500, "The lab node does not emulate this entity"));
            continue;
        };
        let answer = match op.name.as_str() {
            "Get" => get(shared, node, entity, e),
            "Set" => match op.get_attr("operation").unwrap_or("add") {
                "add" => vec![set(shared, node, entity, e.clone(), false)],
                "update" => vec![set(shared, node, entity, e.clone(), true)],
                other => vec![entity_status(entity.tag, 500, format!("Unknown operation {other:?}"))],
            },
            "Remove" => vec![remove(shared, node, entity, e)],
            other => vec![entity_status(entity.tag, 500, format!("Unknown request <{other}>"))],
        };
        out.extend(answer);
    }
    out
}

type Store = BTreeMap<String, BTreeMap<String, Element>>;

fn get(shared: &Arc<Shared>, node: &str, entity: &Entity, e: &Element) -> Vec<Element> {
    let filter = e.child("Filter").and_then(|f| f.child("key")).filter(|k| k.get_attr("name") == Some("Name"));
    let w = shared.lock();
    let Some(store) = w.snap.instances.get(node).and_then(|r| r.waf.as_ref()).map(|n| &n.entities) else {
        return vec![entity_status(entity.tag, 500, "The node is not available")];
    };
    let records: Vec<Element> = store
        .get(entity.tag)
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|r| match filter {
            None => true,
            Some(k) => {
                let name = r.text_of("Name").unwrap_or_default();
                match k.get_attr("criteria").unwrap_or("=") {
                    "like" => name.to_lowercase().contains(&k.text.to_lowercase()),
                    "!=" => name != k.text,
                    _ => name == k.text,
                }
            }
        })
        .map(|r| Element { attrs: vec![("transactionid".into(), String::new())], ..r.clone() })
        .collect();
    if records.is_empty() {
        return vec![Element::new(entity.tag).with_leaf("Status", "No. of records Zero.")];
    }
    records
}

fn set(shared: &Arc<Shared>, node: &str, entity: &Entity, mut e: Element, update: bool) -> Element {
    let (verb, done) = if update { ("updated", entity.updated) } else { ("added", entity.added) };
    let failed = |why: String| {
        let noun = entity.noun;
        let what = if entity.tag == RULE.tag && !update { "created".to_owned() } else { verb.to_owned() };
        entity_status(entity.tag, 500, format!("{noun} could not be {what} (lab: {why})"))
    };
    e.attrs.clear();
    if let Err(why) = schema::check(&mut e, entity.fields, entity.tag) {
        return failed(why);
    }
    let name = e.text_of("Name").unwrap_or_default().to_owned();
    let mut w = shared.lock();
    let Some(n) = w.snap.instances.get_mut(node).and_then(|r| r.waf.as_mut()) else {
        return failed("the node is not available".into());
    };
    let exists = n.entities.get(entity.tag).is_some_and(|m| m.contains_key(&name));
    match (update, exists) {
        (false, true) => {
            let text = match entity.tag {
                "RealServers" => "Web server with the same name already exists. Please choose a different name",
                "ProtocolSecurity" => {
                    "Protection policy with the same name already exists. Please choose a different name"
                }
                "FirewallRule" => "Firewall rule with the same name already exists",
                _ => "Operation failed. Entity having same name already exists.",
            };
            return entity_status(entity.tag, 502, text);
        }
        (true, false) => return failed(format!("there is no {} named {name:?}", entity.noun.to_lowercase())),
        _ => {}
    }
    if let Err((code, why)) = references(n, entity, &e) {
        return if code == 500 { failed(why) } else { entity_status(entity.tag, code, why) };
    }
    n.entities.entry(entity.tag.to_owned()).or_default().insert(name, e);
    reconcile(shared, &mut w);
    drop(w);
    shared.bump();
    entity_status(entity.tag, 200, done)
}

/// What the appliance checks across entities: a web server's host exists,
/// a rule's hosted address is an interface, its web servers and policy
/// exist, and no other rule serves the same domain on the same port.
fn references(n: &WafNode, entity: &Entity, e: &Element) -> Result<(), (u16, String)> {
    let has = |tag: &str, name: &str| n.entities.get(tag).is_some_and(|m| m.contains_key(name));
    if entity.tag == WEB_SERVER.tag {
        let host = e.text_of("Host").unwrap_or_default();
        if !has(FQDN_HOST.tag, host) {
            return Err((500, format!("the host {host:?} is not an FQDN host on this node")));
        }
    }
    if entity.tag != RULE.tag {
        return Ok(());
    }
    let Some(http) = e.child("HTTPBasedPolicy") else {
        return if e.text_of("PolicyType") == Some("HTTPBased") {
            Err((500, "an HTTPBased rule needs <HTTPBasedPolicy>".into()))
        } else {
            Ok(())
        };
    };
    let hosted = http.text_of("HostedAddress").unwrap_or_default();
    if !HOSTED_ADDRESSES.contains(&hosted) {
        return Err((
            500,
            format!("hosted address {hosted:?} is not one of this node's interfaces ({})", HOSTED_ADDRESSES.join(", ")),
        ));
    }
    for ap in http.child("AccessPaths").into_iter().flat_map(|a| a.children_named("AccessPath")) {
        for b in ap.children_named("backend") {
            if !has(WEB_SERVER.tag, &b.text) {
                return Err((500, format!("the web server {:?} does not exist", b.text)));
            }
        }
    }
    if let Some(p) = http.text_of("ProtocolSecurity").filter(|p| !p.is_empty() && *p != "None")
        && !has(POLICY.tag, p)
    {
        return Err((500, format!("the protection policy {p:?} does not exist")));
    }
    let position = e.text_of("Position").unwrap_or_default().to_ascii_lowercase();
    if matches!(position.as_str(), "after" | "before") {
        let anchor = if position == "after" { "After" } else { "Before" };
        let target = e.child(anchor).and_then(|a| a.text_of("Name")).unwrap_or_default();
        if !has(RULE.tag, target) {
            return Err((500, format!("Position {position} needs <{anchor}><Name> of an existing rule")));
        }
    }
    let name = e.text_of("Name").unwrap_or_default();
    let port = http.text_of("ListenPort").unwrap_or("80");
    let domains = http.list("Domains", "Domain");
    if domains.is_empty() {
        return Err((500, "<HTTPBasedPolicy/Domains> needs at least one <Domain>".into()));
    }
    let clash = n.entities.get(RULE.tag).into_iter().flat_map(|m| m.values()).any(|other| {
        let Some(oh) = other.child("HTTPBasedPolicy") else { return false };
        other.text_of("Name") != Some(name)
            && oh.text_of("ListenPort").unwrap_or("80") == port
            && oh.list("Domains", "Domain").iter().any(|d| domains.iter().any(|x| x.eq_ignore_ascii_case(d)))
    });
    if clash {
        return Err((546, "The specified domains are in use in another policy on the same listening port".into()));
    }
    Ok(())
}

fn remove(shared: &Arc<Shared>, node: &str, entity: &Entity, e: &Element) -> Element {
    let name = e.text_of("Name").unwrap_or_default().to_owned();
    let mut w = shared.lock();
    let Some(n) = w.snap.instances.get_mut(node).and_then(|r| r.waf.as_mut()) else {
        return entity_status(entity.tag, 500, "The node is not available");
    };
    if !n.entities.get(entity.tag).is_some_and(|m| m.contains_key(&name)) {
        return entity_status(entity.tag, 526, "Record does not exist.");
    }
    if let Some(user) = used_by(&n.entities, entity, &name) {
        return entity_status(entity.tag, 500, format!("{} could not be deleted: it is used by {user}", entity.noun));
    }
    if let Some(m) = n.entities.get_mut(entity.tag) {
        m.remove(&name);
    }
    reconcile(shared, &mut w);
    drop(w);
    shared.bump();
    entity_status(entity.tag, 200, "Configuration applied successfully.")
}

/// The entity that refers to `name`, if any: the appliance keeps referenced objects.
fn used_by(store: &Store, entity: &Entity, name: &str) -> Option<String> {
    let all = |tag: &str| store.get(tag).into_iter().flat_map(|m| m.values());
    match entity.tag {
        "FQDNHost" => all(WEB_SERVER.tag)
            .find(|w| w.text_of("Host") == Some(name))
            .map(|w| format!("web server {:?}", w.text_of("Name").unwrap_or_default())),
        "RealServers" => all(RULE.tag)
            .find(|r| {
                r.child("HTTPBasedPolicy").and_then(|h| h.child("AccessPaths")).is_some_and(|a| {
                    a.children_named("AccessPath").any(|p| p.children_named("backend").any(|b| b.text == name))
                })
            })
            .map(|r| format!("firewall rule {:?}", r.text_of("Name").unwrap_or_default())),
        "ProtocolSecurity" => all(RULE.tag)
            .find(|r| r.child("HTTPBasedPolicy").is_some_and(|h| h.text_of("ProtocolSecurity") == Some(name)))
            .map(|r| format!("firewall rule {:?}", r.text_of("Name").unwrap_or_default())),
        _ => None,
    }
}
