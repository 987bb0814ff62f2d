//! The UTM's node settings (`/api/nodes/…`): configuration that is not an
//! object, addressed by a dotted path. The lab serves the ones hawaf reads
//! or switches, typed as the appliance's definitions type them
//! (esurdam/go-sophos `api/v1.3.0/objects/nodes.go`):
//! - `reverse_proxy.status` (bool): Webserver Protection's own on/off switch,
//!   WebAdmin's Web Application Firewall "Disable" button;
//! - `ha.mode`, `ha.status` (strings): high availability; this pattern needs
//!   two independent nodes, so the lab's nodes stand alone. The appliance's
//!   tokens for these are not in any public source: the lab answers "off";
//! - `webadmin.port` (integer).
//!
//! `GET /api/nodes` answers one flat object keyed by path; `GET
//! /api/nodes/<path>` the bare value; `PUT /api/nodes/<path>` takes the bare
//! JSON value as its whole body; `PATCH /api/nodes/` takes a map of several.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::reply::{ApiError, Ctx, message};

#[derive(Clone, Copy)]
enum NodeKind {
    Bool,
    Str,
    Port,
}

/// (path, type, default for a node created before the lab kept it)
type NodeSpec = (&'static str, NodeKind, fn() -> Value);

const NODES: [NodeSpec; 4] = [
    // A node saved before the lab kept this setting was serving.
    ("reverse_proxy.status", NodeKind::Bool, || json!(true)),
    ("ha.mode", NodeKind::Str, || json!("off")),
    ("ha.status", NodeKind::Str, || json!("off")),
    ("webadmin.port", NodeKind::Port, || json!(super::ADMIN_PORT)),
];

/// What a node created now starts with: Webserver Protection off, as on a
/// freshly set-up appliance, until step 8 turns it on.
pub fn fresh() -> BTreeMap<String, Value> {
    BTreeMap::from([("reverse_proxy.status".to_owned(), json!(false))])
}

/// The firmware the lab claims (`GET /api/status/version`).
pub const VERSION: &str = "9.719-3";
pub const RESTD_VERSION: &str = "1.3.0";

pub fn value(stored: &BTreeMap<String, Value>, path: &str) -> Option<Value> {
    let (_, _, default) = NODES.iter().find(|(p, _, _)| *p == path)?;
    Some(stored.get(path).cloned().unwrap_or_else(default))
}

pub fn all(stored: &BTreeMap<String, Value>) -> Value {
    let map: Map<String, Value> =
        NODES.iter().filter_map(|(p, _, _)| value(stored, p).map(|v| ((*p).to_owned(), v))).collect();
    Value::Object(map)
}

fn unknown(path: &str) -> ApiError {
    ApiError::new(
        hyper::StatusCode::NOT_FOUND,
        vec![message("NODE_UNKNOWN", "There is no node %_N.", &[path], &[], &Ctx::default(), true)],
    )
}

/// Sets one node after checking its type.
pub fn set(stored: &mut BTreeMap<String, Value>, path: &str, v: Value) -> Result<(), ApiError> {
    let Some((_, kind, _)) = NODES.iter().find(|(p, _, _)| *p == path) else {
        return Err(unknown(path));
    };
    let ok = match kind {
        NodeKind::Bool => v.is_boolean(),
        NodeKind::Str => v.is_string(),
        NodeKind::Port => v.as_u64().is_some_and(|p| (1..=65_535).contains(&p)),
    };
    if !ok {
        let wanted = match kind {
            NodeKind::Bool => "a boolean",
            NodeKind::Str => "a string",
            NodeKind::Port => "a port number",
        };
        return Err(ApiError::new(
            hyper::StatusCode::BAD_REQUEST,
            vec![message(
                "DATATYPE_NODE",
                "The node %_N requires %_d.",
                &[path, wanted],
                &[path],
                &Ctx::default(),
                true,
            )],
        ));
    }
    stored.insert(path.to_owned(), v);
    Ok(())
}

pub fn get(stored: &BTreeMap<String, Value>, path: &str) -> Result<Value, ApiError> {
    value(stored, path).ok_or_else(|| unknown(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waf_switch_node_is_a_boolean_and_unknown_nodes_are_refused() {
        let mut stored = fresh();
        assert_eq!(get(&stored, "reverse_proxy.status").ok(), Some(json!(false)));
        assert!(set(&mut stored, "reverse_proxy.status", json!("on")).is_err());
        set(&mut stored, "reverse_proxy.status", json!(true)).ok();
        assert_eq!(get(&stored, "reverse_proxy.status").ok(), Some(json!(true)));
        assert_eq!(set(&mut stored, "reverse_proxy.nope", json!(true)).err().map(|e| e.status.as_u16()), Some(404));
        assert!(set(&mut stored, "ha.mode", json!(1)).is_err());
    }

    #[test]
    fn the_flat_tree_lists_every_node_by_path() {
        let tree = all(&fresh());
        assert_eq!(tree["reverse_proxy.status"], false);
        assert_eq!(tree["ha.mode"], "off");
        assert_eq!(tree["webadmin.port"], 4444);
    }
}
