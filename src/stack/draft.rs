//! `Draft`: a definition exactly as the user typed it, one string per field
//! path. Forms and JSON both become a draft, and `parse` is the one door
//! from a draft to a `StackDefinition`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::definition::StackDefinition;
use super::fields::{FIELDS, FieldError, NULLABLE_GROUPS, NUMERIC_FIELDS, is_field, is_group};

/// Field path -> what the user typed. An empty string means "absent".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Draft {
    values: BTreeMap<String, String>,
}

impl Draft {
    pub fn new() -> Self {
        Draft::default()
    }

    /// From submitted form pairs. Keys that are not fields (a CSRF token, a
    /// submit button) are ignored.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        let values = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).filter(|(k, _)| is_field(k)).collect();
        Draft { values }
    }

    /// What was typed for `path`; empty when nothing was.
    pub fn get(&self, path: &str) -> &str {
        self.values.get(path).map_or("", String::as_str)
    }

    /// Sets a field. A path that is not a field is a programming error:
    /// caught in debug builds, ignored (as in `from_pairs`) in release.
    pub fn set(&mut self, path: &str, value: impl Into<String>) {
        debug_assert!(is_field(path), "`{path}` is not a stack definition field");
        if is_field(path) {
            self.values.insert(path.to_owned(), value.into());
        }
    }

    /// Every field in form order, with what was typed (empty when nothing).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        FIELDS.iter().map(|&path| (path, self.get(path)))
    }

    /// From API JSON. Omitted fields, also inside nested objects, take the
    /// preset's values; `name` is the one field that must be given. A
    /// top level that is not an object is reported on the empty path `""`.
    pub fn from_json(value: Value, preset: &StackDefinition) -> Result<Draft, Vec<FieldError>> {
        let input = top_level_object(value)?;
        let mut errors = Vec::new();
        check_shape(&input, "", &mut errors);
        if !input.contains_key("name") {
            errors.push(FieldError::new("name", "this field is required"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut merged = preset.to_json();
        merge(&mut merged, Value::Object(input));
        Ok(Draft::from_canonical(&merged))
    }

    /// From JSON that must be complete by itself (stored definitions): no
    /// preset fills the gaps, so a missing required field is an error.
    pub(crate) fn from_complete_json(value: Value) -> Result<Draft, Vec<FieldError>> {
        let input = top_level_object(value)?;
        let mut errors = Vec::new();
        check_shape(&input, "", &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Draft::from_canonical(&Value::Object(input)))
    }

    /// Reads every field out of JSON whose shape is already known to be
    /// right; missing and `null` values become empty strings.
    pub(crate) fn from_canonical(json: &Value) -> Draft {
        let values = FIELDS
            .iter()
            .map(|&path| {
                let leaf = path.split('.').try_fold(json, |node, key| node.get(key));
                (path.to_owned(), leaf.map(leaf_text).unwrap_or_default())
            })
            .collect();
        Draft { values }
    }
}

fn top_level_object(value: Value) -> Result<Map<String, Value>, Vec<FieldError>> {
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(vec![FieldError::new("", "expected a JSON object holding a stack definition")]),
    }
}

fn leaf_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        // Numbers keep their JSON spelling so `parse` can say what was wrong
        // with, say, 6.5; other kinds were turned away by `check_shape`.
        other => other.to_string(),
    }
}

/// Reports unknown fields and values of the wrong JSON type, by path.
fn check_shape(object: &Map<String, Value>, prefix: &str, errors: &mut Vec<FieldError>) {
    for (key, value) in object {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        if is_field(&path) {
            let numeric = NUMERIC_FIELDS.contains(&path.as_str());
            match value {
                Value::String(_) | Value::Null => {}
                Value::Number(_) if numeric => {}
                _ if numeric => errors.push(FieldError::new(&path, "expected a number")),
                _ => errors.push(FieldError::new(&path, "expected a string")),
            }
        } else if is_group(&path) {
            match value {
                Value::Object(inner) => check_shape(inner, &path, errors),
                Value::Null if NULLABLE_GROUPS.contains(&path.as_str()) => {}
                _ => errors.push(FieldError::new(&path, "expected an object")),
            }
        } else {
            errors.push(FieldError::new(&path, format!("unknown field `{path}`")));
        }
    }
}

/// Deep merge: objects merge key by key, anything else (including `null`)
/// replaces what the base had.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => merge(existing, value),
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, patch) => *base = patch,
    }
}
