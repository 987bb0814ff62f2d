//! The template side of `crate::i18n`: `{{ "key"|t }}`, and `t1`…`t3` for
//! messages with variables (`{{ "stack-created"|t1("name", name) }}`).
//! Each page module brings these in with `use crate::web::filters;`, where
//! askama looks for custom filters. The result is text, escaped like any
//! other value: catalogues hold no HTML, templates keep the markup.

use std::fmt::Display;

use askama::Values;

use crate::i18n;

#[askama::filter_fn]
pub fn t<K: Display>(key: K, _: &dyn Values) -> askama::Result<String> {
    Ok(i18n::text(&key.to_string()))
}

#[askama::filter_fn]
pub fn t1<K: Display, A: Display>(key: K, _: &dyn Values, a: &str, va: A) -> askama::Result<String> {
    Ok(i18n::text_with(&key.to_string(), &[(a, &va)]))
}

#[askama::filter_fn]
pub fn t2<K: Display, A: Display, B: Display>(
    key: K,
    _: &dyn Values,
    a: &str,
    va: A,
    b: &str,
    vb: B,
) -> askama::Result<String> {
    Ok(i18n::text_with(&key.to_string(), &[(a, &va), (b, &vb)]))
}

#[askama::filter_fn]
pub fn t3<K: Display, A: Display, B: Display, C: Display>(
    key: K,
    _: &dyn Values,
    a: &str,
    va: A,
    b: &str,
    vb: B,
    c: &str,
    vc: C,
) -> askama::Result<String> {
    Ok(i18n::text_with(&key.to_string(), &[(a, &va), (b, &vb), (c, &vc)]))
}
