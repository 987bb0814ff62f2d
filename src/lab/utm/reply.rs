//! The lab UTM's replies: JSON, and error bodies in the appliance's shape.
//!
//! An error body is a JSON array of messages with exactly the fields a real
//! UTM sends (esurdam/go-sophos `errors.go`): `Oattrs` (the attributes at
//! fault), `attrs` (the arguments of `format`, a printf-like template whose
//! `%_X` placeholders they fill), `class`, `del_object`, `fatal` (1: the
//! request is wrong; 0: an objection that `X-Restd-Err-Ack` may
//! acknowledge), `format`, `msgtype`, `name` (the text), `never_hide`,
//! `objname`, `perms`, `ref`, `rights`, `type`. The `msgtype` tokens are the
//! lab's own where no public source names the appliance's.

use std::collections::BTreeMap;

use hyper::{Response, StatusCode};
use serde_json::{Value, json};

use crate::lab::http::{self, Body};

/// `class/type` -> `_ref` -> object.
pub type Objects = BTreeMap<String, BTreeMap<String, Value>>;

pub struct ApiError {
    pub status: StatusCode,
    pub messages: Vec<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, messages: Vec<Value>) -> Self {
        Self { status, messages }
    }

    /// One fatal message whose text needs no arguments.
    pub fn one(status: StatusCode, msgtype: &str, text: &str, ctx: &Ctx) -> Self {
        Self::new(status, vec![message(msgtype, text, &[], &[], ctx, true)])
    }

    pub fn into_response(self) -> Response<Body> {
        json_response(self.status, &Value::Array(self.messages))
    }
}

/// The object a message is about.
#[derive(Default, Clone)]
pub struct Ctx {
    pub class: String,
    pub typ: String,
    pub objname: String,
    pub reference: String,
}

/// Fills `%_X` placeholders of `format` in order with `args`.
fn render(format: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut args = args.iter();
    let mut rest = format;
    while let Some(i) = rest.find("%_") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let mut chars = after.chars();
        match (chars.next(), args.next()) {
            (Some(_), Some(a)) => out.push_str(a),
            (Some(c), None) => {
                out.push_str("%_");
                out.push(c);
            }
            (None, _) => out.push_str("%_"),
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out
}

pub fn message(msgtype: &str, format: &str, args: &[&str], oattrs: &[&str], ctx: &Ctx, fatal: bool) -> Value {
    json!({
        "Oattrs": oattrs,
        "attrs": args,
        "class": ctx.class,
        "del_object": "",
        "fatal": i32::from(fatal),
        "format": format,
        "msgtype": msgtype,
        "name": render(format, args),
        "never_hide": 0,
        "objname": ctx.objname,
        "perms": "",
        "ref": ctx.reference,
        "rights": "",
        "type": ctx.typ,
    })
}

pub fn json_response(status: StatusCode, v: &Value) -> Response<Body> {
    http::response(status, "application/json; charset=utf-8", v.to_string())
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn a_format_is_filled_with_its_arguments_in_order() {
        assert_eq!(
            render("The %_O object requires %_d for the %_A attribute.", &["group", "a list", "members"]),
            "The group object requires a list for the members attribute."
        );
        assert_eq!(render("no args %_A", &[]), "no args %_A");
    }
}
