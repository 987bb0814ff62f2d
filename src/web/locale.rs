//! Which language and time zone a page is rendered in: `?lang=` (the switch
//! shown before sign-in, remembered in a cookie), else the user's setting,
//! else that cookie, else `Accept-Language`, else English; the zone is the
//! user's setting, else UTC.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::i18n::{Lang, Locale, parse_zone};

pub const LANG_COOKIE: &str = "hawaf_lang";

/// The locale for this request, and the cookie to set when `?lang=` chose it.
pub fn choose(
    parts: &Parts,
    jar: &CookieJar,
    user_lang: Option<&str>,
    user_zone: Option<&str>,
) -> (Locale, Option<HeaderValue>) {
    let asked = parts
        .uri
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v));
    let lang = asked
        .or_else(|| user_lang.and_then(Lang::parse))
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .or_else(|| {
            parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::negotiate)
        })
        .unwrap_or_default();
    let zone = user_zone.and_then(parse_zone).unwrap_or_default();
    let cookie = asked.and_then(|lang| {
        // A preference, not a credential: readable by no script all the
        // same, and kept for a year.
        let cookie = Cookie::build((LANG_COOKIE, lang.as_str()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(365))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    });
    (Locale { lang, zone }, cookie)
}
