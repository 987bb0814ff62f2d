//! The Fluent catalogues, parsed once from the files embedded at build time.

use std::collections::BTreeSet;
use std::fmt::Display;
use std::sync::{LazyLock, Mutex};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

use super::Lang;

/// `locales/<lang>/<area>.ftl`: one file per area of the product, so the
/// people translating one page do not edit the same file as everyone else.
#[derive(rust_embed::RustEmbed)]
#[folder = "locales/"]
struct Files;

struct Catalogue {
    bundle: FluentBundle<FluentResource>,
    keys: BTreeSet<String>,
}

struct Catalogues {
    by_lang: Vec<(Lang, Catalogue)>,
    /// Every problem met while loading: a syntax error or a key defined
    /// twice. Tests require none; a running server logs them once.
    errors: Vec<String>,
}

static CATALOGUES: LazyLock<Catalogues> = LazyLock::new(load);

/// Keys asked for and not found, per language: tests render pages and then
/// require this to be empty, so a page cannot ship with a missing message.
static MISSING: Mutex<BTreeSet<(Lang, String)>> = Mutex::new(BTreeSet::new());

fn load() -> Catalogues {
    let mut errors = Vec::new();
    let mut by_lang = Vec::new();
    for lang in Lang::ALL {
        let id: unic_langid::LanguageIdentifier = match lang.as_str().parse() {
            Ok(id) => id,
            Err(e) => {
                errors.push(format!("{lang}: {e}"));
                continue;
            }
        };
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        // Unicode isolation marks around every variable would end up in HTML
        // attributes and copied ids; both languages here run left to right.
        bundle.set_use_isolating(false);
        let mut keys = BTreeSet::new();
        let prefix = format!("{}/", lang.as_str());
        let mut names: Vec<_> = Files::iter().filter(|n| n.starts_with(&prefix) && n.ends_with(".ftl")).collect();
        names.sort();
        for name in names {
            let Some(file) = Files::get(&name) else { continue };
            let source = String::from_utf8_lossy(&file.data).into_owned();
            let resource = match FluentResource::try_new(source) {
                Ok(r) => r,
                Err((r, errs)) => {
                    errors.extend(errs.iter().map(|e| format!("{name}: {e:?}")));
                    r
                }
            };
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry
                    && !keys.insert(m.id.name.to_owned())
                {
                    errors.push(format!("{name}: {} is defined twice", m.id.name));
                }
            }
            if let Err(errs) = bundle.add_resource(resource) {
                errors.extend(errs.iter().map(|e| format!("{name}: {e:?}")));
            }
        }
        by_lang.push((lang, Catalogue { bundle, keys }));
    }
    for e in &errors {
        tracing::error!("message catalogue: {e}");
    }
    Catalogues { by_lang, errors }
}

fn catalogue(lang: Lang) -> Option<&'static Catalogue> {
    CATALOGUES.by_lang.iter().find(|(l, _)| *l == lang).map(|(_, c)| c)
}

/// Whole numbers go to Fluent as numbers, so plural forms can choose by
/// them; anything else (ids, names, CIDRs, `007`) stays text.
fn value(v: &dyn Display) -> FluentValue<'static> {
    let s = v.to_string();
    let numeric = !s.is_empty()
        && s.len() <= 15
        && s.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit())
        && !s.trim_start_matches('-').is_empty()
        && !(s.trim_start_matches('-').starts_with('0') && s.trim_start_matches('-').len() > 1);
    match s.parse::<i64>() {
        Ok(n) if numeric => FluentValue::from(n),
        _ => FluentValue::from(s),
    }
}

fn format(lang: Lang, key: &str, args: &FluentArgs<'_>) -> Option<String> {
    let catalogue = catalogue(lang)?;
    let pattern = catalogue.bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    let text = catalogue.bundle.format_pattern(pattern, Some(args), &mut errors).into_owned();
    if !errors.is_empty() {
        // A variable the message names and the caller did not give.
        note_missing(lang, format!("{key} ({errors:?})"));
    }
    Some(text)
}

fn note_missing(lang: Lang, what: String) {
    let mut missing = MISSING.lock().unwrap_or_else(|p| p.into_inner());
    if missing.insert((lang, what.clone())) {
        tracing::warn!(lang = %lang, "no message {what}");
    }
}

/// `key` in `lang`, else in English, else the key itself (so a gap shows
/// as a readable id, never as a blank), noting the gap.
pub(super) fn message(lang: Lang, key: &str, args: &[(&str, &dyn Display)], zone: &'static str) -> String {
    // Most messages are plain text: no arguments to build, nothing to
    // resolve (a page asks for dozens; scripts/bench, measure 2).
    if args.is_empty()
        && let Some(text) = plain(lang, key)
    {
        return text.to_owned();
    }
    let mut fluent_args = FluentArgs::with_capacity(args.len() + 1);
    fluent_args.set("zone", FluentValue::from(zone));
    for (name, v) in args {
        fluent_args.set(*name, value(*v));
    }
    if let Some(text) = format(lang, key, &fluent_args) {
        return text;
    }
    note_missing(lang, key.to_owned());
    format(Lang::En, key, &fluent_args).unwrap_or_else(|| key.to_owned())
}

/// The message's text when it is one piece of plain text.
fn plain(lang: Lang, key: &str) -> Option<&'static str> {
    let pattern = catalogue(lang)?.bundle.get_message(key)?.value()?;
    match pattern.elements.as_slice() {
        [fluent_syntax::ast::PatternElement::TextElement { value }] => Some(value),
        _ => None,
    }
}

/// Every key a language's catalogue defines.
pub fn keys(lang: Lang) -> BTreeSet<String> {
    catalogue(lang).map(|c| c.keys.clone()).unwrap_or_default()
}

/// The keys asked for and not found since the process started, as
/// `lang: key`.
pub fn missing() -> Vec<String> {
    let missing = MISSING.lock().unwrap_or_else(|p| p.into_inner());
    missing.iter().map(|(lang, key)| format!("{lang}: {key}")).collect()
}

/// Syntax errors and duplicate keys met while loading the catalogues.
pub fn parse_errors() -> Vec<String> {
    CATALOGUES.errors.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain-text shortcut gives what Fluent itself would.
    #[test]
    fn the_plain_text_shortcut_matches_fluent() {
        for lang in Lang::ALL {
            let mut args = FluentArgs::new();
            args.set("zone", FluentValue::from("UTC"));
            for key in keys(lang) {
                if let Some(text) = plain(lang, &key) {
                    assert_eq!(Some(text.to_owned()), format(lang, &key, &args), "{lang}: {key}");
                }
            }
        }
    }
}
