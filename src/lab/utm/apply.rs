//! What a lab UTM node does with its configuration: which ports it serves
//! and where a request goes.

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::nodes;
use crate::lab::state::WafNode;
use crate::lab::{World, resolve};

/// Webserver Protection as a whole: the node setting `reverse_proxy.status`.
fn serving(node: &WafNode) -> bool {
    nodes::value(&node.nodes, "reverse_proxy.status").and_then(|v| v.as_bool()).unwrap_or(false)
}

fn frontends(node: &WafNode) -> impl Iterator<Item = &Map<String, Value>> {
    let on = serving(node);
    node.objects
        .get("reverse_proxy/frontend")
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_object)
        .filter(move |f| on && enabled(f))
}

fn port_of(f: &Map<String, Value>) -> u16 {
    f.get("port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok()).unwrap_or(80)
}

/// The ports the node serves: one per enabled frontend port.
pub(crate) fn enabled_frontend_ports(node: &WafNode) -> Vec<u16> {
    if node.appliance == crate::waf::WafKind::Sfos {
        return crate::lab::sfos::enabled_ports(node);
    }
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
    /// The filter rules the node applies (SFOS policies pick categories).
    pub rules: Vec<crate::lab::waf::Rule>,
}

fn get<'a>(node: &'a WafNode, typ: &str, r: &str) -> Option<&'a Map<String, Value>> {
    node.objects.get(typ)?.get(r)?.as_object()
}

/// An object's `status`; the definitions' default is off.
fn enabled(o: &Map<String, Value>) -> bool {
    o.get("status").and_then(Value::as_bool).unwrap_or(false)
}

fn str_list<'a>(o: &'a Map<String, Value>, k: &str) -> Vec<&'a str> {
    o.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Where a request to the node's `port` goes: the virtual webserver for the
/// Host (else the first on the port, as Apache's default vhost), the
/// longest matching location, its first enabled real webserver, resolved by
/// the lab. The filter follows the frontend's firewall profile: none, or
/// one with `waf` off, filters nothing (as on the appliance); `wafmode`
/// `"detect"` logs what matches, anything else (`"deny"`) blocks it.
pub(crate) fn route(w: &World, node_id: &str, port: u16, host: Option<&str>, path: &str) -> Result<Route, StatusCode> {
    let node = w.snap.instances.get(node_id).and_then(|r| r.waf.as_ref()).ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let host = host.map(|h| h.rsplit_once(':').map(|(a, _)| a).unwrap_or(h).to_ascii_lowercase()).unwrap_or_default();
    if node.appliance == crate::waf::WafKind::Sfos {
        return crate::lab::sfos::route(node, w, port, &host, path);
    }
    let on_port: Vec<_> = frontends(node).filter(|f| port_of(f) == port).collect();
    let fe = on_port
        .iter()
        .find(|f| str_list(f, "domain").iter().any(|d| d.eq_ignore_ascii_case(&host)))
        .or_else(|| on_port.first())
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let filter = match fe.get("profile").and_then(Value::as_str).and_then(|p| get(node, "reverse_proxy/profile", p)) {
        Some(prof) if prof.get("waf").and_then(Value::as_bool) == Some(true) => {
            match prof.get("wafmode").and_then(Value::as_str) {
                Some("detect") => FilterMode::Monitor,
                _ => FilterMode::Block,
            }
        }
        _ => FilterMode::Off,
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
    let rules = crate::lab::waf::Rule::ALL.to_vec();
    Ok(Route { backend: resolve(w, &hostname, bport), backend_host: hostname, filter, rules })
}
