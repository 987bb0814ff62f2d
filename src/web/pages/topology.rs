//! The stack's topology as a server-rendered SVG: its boxes and links,
//! placed in their AZ columns and classed by health and WAF state, each
//! state in words as well as colour.

use std::collections::HashMap;

use askama::Template;

use crate::health::{Snapshot, Tier};
use crate::i18n;
use crate::stack::{InstanceRole, LbRole, Stack};
use crate::web::filters;
use crate::web::format_ms;

use super::ops::{state_class, state_label};

/// A box of the topology picture.
pub struct Box_ {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
    pub class: &'static str,
    pub title: String,
    pub line2: String,
    pub line3: String,
}

impl Box_ {
    pub fn cx(&self) -> i32 {
        self.x + self.w / 2
    }
    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }
    pub fn tx(&self) -> i32 {
        self.x + 10
    }
}

pub struct Link {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    pub class: &'static str,
}

#[derive(Template)]
#[template(path = "stacks/ops_topology.html")]
pub struct Topology {
    pub az_a: String,
    pub az_b: String,
    pub boxes: Vec<Box_>,
    pub links: Vec<Link>,
    pub note: String,
}

impl Topology {
    /// What the drawing shows, in words, for its accessible name: a screen
    /// reader gets each box's state, not just "topology".
    pub fn summary(&self) -> String {
        self.boxes.iter().map(|b| format!("{} {}", b.title, b.line3)).collect::<Vec<_>>().join("; ")
    }
}

/// Server-rendered SVG of the stack: external LB, two WAF nodes, internal
/// LB, two web servers, in their AZ columns, coloured by health and WAF state.
pub(super) fn topology(stack: &Stack, snap: Option<&Snapshot>, ips: &HashMap<String, String>) -> Topology {
    let d = &stack.definition;
    let az = |role: InstanceRole| d.instance_subnet(role).az().to_string();
    let tier_state = |tier: Option<&Tier>, node: &str| {
        tier.and_then(|t| t.instances.iter().find(|i| i.name == node))
            .map(|i| i.state.clone())
            .unwrap_or_else(|| "Unknown".into())
    };
    let ext = snap.map(|s| &s.external);
    let int = snap.map(|s| &s.internal);
    let lb_box = |y: i32, lb: String, tier: Option<&Tier>, scheme: &str| {
        let class = match tier {
            Some(t) if t.total > 0 && t.in_service == t.total => "ok",
            Some(t) if t.in_service > 0 => "degraded",
            Some(_) => "down",
            None => "unknown",
        };
        // The state in words as well as colour: "degraded" and "down" must
        // read as such in grey scale and to a screen reader.
        let key = match class {
            "degraded" => "ops-topo-lb-degraded",
            "down" => "ops-topo-lb-down",
            _ => "ops-topo-in-service",
        };
        Box_ {
            x: 270,
            y,
            w: 220,
            h: 50,
            class,
            title: lb,
            line2: scheme.to_owned(),
            line3: tier
                .map(|t| i18n::text_with(key, &[("in_service", &t.in_service), ("total", &t.total)]))
                .unwrap_or_else(|| i18n::text("ops-topo-no-data")),
        }
    };
    let mut boxes = vec![
        lb_box(30, d.load_balancer(LbRole::External).to_string(), ext, &i18n::text("ops-topo-internet-facing")),
        lb_box(250, d.load_balancer(LbRole::Internal).to_string(), int, &i18n::text("ops-topo-internal")),
    ];
    let mut links = Vec::new();
    for (i, role) in [InstanceRole::WafLeft, InstanceRole::WafRight, InstanceRole::WebLeft, InstanceRole::WebRight]
        .into_iter()
        .enumerate()
    {
        let name = d.instance(role).name().to_string();
        let (y, lb_tier, parent) = if role.is_waf() { (140, ext, 0) } else { (360, int, 1) };
        let state = tier_state(lb_tier, &name);
        let waf = snap.and_then(|s| s.waf.get(&name));
        let class = match (state.as_str(), waf.and_then(|w| w.enabled)) {
            (_, Some(false)) => "off",
            ("InService", _) => "ok",
            ("OutOfService", _) => "down",
            _ => "unknown",
        };
        let x = if i % 2 == 0 { 60 } else { 500 };
        let shown = match state.as_str() {
            "InService" => i18n::text("ops-topo-in-service-state"),
            "OutOfService" => i18n::text("ops-topo-out-of-service-state"),
            "Unknown" => i18n::text("ops-topo-unknown-state"),
            other => other.to_owned(),
        };
        let line3 = match waf {
            Some(w) => i18n::text_with("ops-topo-node-state", &[("state", &shown), ("waf", &state_label(w.label()))]),
            None => shown,
        };
        let b = Box_ {
            x,
            y,
            w: 200,
            h: 60,
            class,
            title: name.clone(),
            line2: ips.get(&name).cloned().unwrap_or_default(),
            line3,
        };
        let p = &boxes[parent];
        links.push(Link { x1: p.cx(), y1: p.bottom(), x2: b.cx(), y2: b.y, class: state_class(&state) });
        if role.is_waf() {
            // Each WAF node forwards to the internal LB.
            links.push(Link {
                x1: b.cx(),
                y1: b.bottom(),
                x2: 380,
                y2: 250,
                // A stopped or switched-off node's onward link is down, not
                // unknown: the two are drawn differently.
                class: match class {
                    "ok" => "ok",
                    "down" | "off" => "down",
                    _ => "unknown",
                },
            });
        }
        boxes.push(b);
    }
    let note = match snap {
        None if stack.is_built() => i18n::text("ops-topo-waiting"),
        None => i18n::text("ops-topo-not-built"),
        Some(s) => i18n::text_with("ops-topo-polled", &[("time", &format_ms(s.polled_at))]),
    };
    Topology { az_a: az(InstanceRole::WafLeft), az_b: az(InstanceRole::WafRight), boxes, links, note }
}
