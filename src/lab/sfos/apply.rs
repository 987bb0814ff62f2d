//! What a lab SFOS node does with its entities: each enabled firewall rule
//! of the web-server-protection kind serves its listen port; a request goes
//! to the rule for its Host (else the first on the port), the longest
//! matching access path, that path's first web server, resolved by the lab;
//! the rule's protection policy decides the filter.

use hyper::StatusCode;

use super::schema::{FQDN_HOST, POLICY, RULE, WEB_SERVER};
use crate::lab::state::WafNode;
use crate::lab::utm::{FilterMode, Route};
use crate::lab::waf::Rule;
use crate::lab::{World, resolve};
use crate::xml::Element;

/// Enabled, plain-HTTP, web-server-protection rules.
fn serving(node: &WafNode) -> impl Iterator<Item = &Element> {
    node.entities.get(RULE.tag).into_iter().flat_map(|m| m.values()).filter(|r| {
        r.text_of("PolicyType") == Some("HTTPBased")
            && r.text_of("Status") != Some("Disable")
            && r.child("HTTPBasedPolicy").is_some_and(|h| h.text_of("HTTPS") != Some("Enable"))
    })
}

fn port_of(rule: &Element) -> u16 {
    rule.child("HTTPBasedPolicy").and_then(|h| h.text_of("ListenPort")).and_then(|p| p.parse().ok()).unwrap_or(80)
}

pub(crate) fn enabled_ports(node: &WafNode) -> Vec<u16> {
    let mut ports: Vec<u16> = serving(node).map(port_of).collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

fn entity<'a>(node: &'a WafNode, tag: &str, name: &str) -> Option<&'a Element> {
    node.entities.get(tag)?.get(name)
}

/// The threat category a filter rule of the lab belongs to in a protection policy.
fn category(rule: Rule) -> &'static str {
    match rule {
        Rule::SqlInjection => "SQL injection attacks",
        Rule::CrossSiteScripting => "XSS attacks",
        // Path traversal is among the common threat filter's application attacks.
        Rule::PathTraversal => "Application attacks",
    }
}

pub(crate) fn route(node: &WafNode, w: &World, port: u16, host: &str, path: &str) -> Result<Route, StatusCode> {
    let on_port: Vec<&Element> = serving(node).filter(|r| port_of(r) == port).collect();
    let rule = on_port
        .iter()
        .find(|r| {
            r.child("HTTPBasedPolicy")
                .is_some_and(|h| h.list("Domains", "Domain").iter().any(|d| d.eq_ignore_ascii_case(host)))
        })
        .or_else(|| on_port.first())
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let http = rule.child("HTTPBasedPolicy").ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let (filter, rules) = match http.text_of("ProtocolSecurity").and_then(|p| entity(node, POLICY.tag, p)) {
        Some(p) if p.text_of("ThreatsFilter") == Some("Enable") => {
            let filters = p.list("ThreatFilters", "Filter");
            let rules = [Rule::SqlInjection, Rule::CrossSiteScripting, Rule::PathTraversal]
                .into_iter()
                .filter(|r| filters.iter().any(|f| f == category(*r)))
                .collect();
            let mode = if p.text_of("Mode") == Some("Reject") { FilterMode::Block } else { FilterMode::Monitor };
            (mode, rules)
        }
        _ => (FilterMode::Off, Vec::new()),
    };
    let access = http
        .child("AccessPaths")
        .into_iter()
        .flat_map(|a| a.children_named("AccessPath"))
        .filter(|a| path.starts_with(a.text_of("path").unwrap_or("/")))
        .max_by_key(|a| a.text_of("path").unwrap_or("/").len())
        .ok_or(StatusCode::NOT_FOUND)?;
    let server = access
        .children_named("backend")
        .find_map(|b| entity(node, WEB_SERVER.tag, &b.text))
        .ok_or(StatusCode::SERVICE_UNAVAILABLE)?;
    let host_name = server.text_of("Host").unwrap_or_default();
    let hostname =
        entity(node, FQDN_HOST.tag, host_name).and_then(|h| h.text_of("FQDN")).unwrap_or_default().to_owned();
    let bport = server.text_of("Port").and_then(|p| p.parse().ok()).unwrap_or(80);
    Ok(Route { backend: resolve(w, &hostname, bport), backend_host: hostname, filter, rules })
}
