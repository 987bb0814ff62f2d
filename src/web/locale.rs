//! Which language and time zone a page is rendered in: `?lang=` (the switch
//! shown before sign-in, remembered in a cookie), else the user's setting,
//! else that cookie, else `Accept-Language`, else English; the zone is the
//! user's setting, else UTC. Saving a setting clears the cookie, so "as my
//! browser asks" means the browser, not an old click.

use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::i18n::{Lang, Locale, parse_zone};

pub const LANG_COOKIE: &str = "hawaf_lang";

tokio::task_local! {
    /// The page being served, when it can be asked for again with GET (path,
    /// and query without `lang`): where the language switch comes back to.
    static PAGE: Option<(String, String)>;
}

/// Runs `f` knowing the page being served (None: not a GET).
pub async fn with_page<F: Future>(page: Option<(String, String)>, f: F) -> F::Output {
    PAGE.scope(page, f).await
}

/// The request's path and query without `lang`, for a GET.
pub fn page_of(parts: &Parts) -> Option<(String, String)> {
    if parts.method != axum::http::Method::GET {
        return None;
    }
    let query = parts.uri.query().map(|q| {
        url::form_urlencoded::Serializer::new(String::new())
            // A `next=` that would leave the site is not carried on (the
            // sign-in page's link would hand it back).
            .extend_pairs(
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, v)| k != "lang" && (k != "next" || local_path(v).is_some())),
            )
            .finish()
    });
    Some((parts.uri.path().to_owned(), query.unwrap_or_default()))
}

/// Where to come back to after switching language: this page when a GET
/// can show it again, else the root of its section (a form's answer).
pub fn back(section_root: &str) -> String {
    match PAGE.try_with(Clone::clone).ok().flatten() {
        Some((path, query)) if query.is_empty() => path,
        Some((path, query)) => format!("{path}?{query}"),
        None => section_root.to_owned(),
    }
}

/// This page again in `lang`, keeping its query (`next=`, `expired=`).
pub fn href_in(lang: Lang) -> String {
    match PAGE.try_with(Clone::clone).ok().flatten() {
        Some((path, query)) if !query.is_empty() => format!("{path}?{query}&lang={lang}"),
        Some((path, _)) => format!("{path}?lang={lang}"),
        None => format!("?lang={lang}"),
    }
}

/// `target` if it is a path on this site (with its query), else None.
/// Browsers drop tabs and newlines from a URL and read a backslash as a
/// slash, so `/\t/evil.example` or `/\\evil.example` would leave the site:
/// anything with a control character or a backslash is refused, and what is
/// left must resolve to this origin.
pub fn local_path(target: &str) -> Option<String> {
    if !target.starts_with('/') || target.starts_with("//") || target.chars().any(|c| c.is_control() || c == '\\') {
        return None;
    }
    let base = url::Url::parse("http://hawaf.invalid/").ok()?;
    match base.join(target) {
        // Dot segments collapse on joining: `/a/..//evil.example` becomes
        // `//evil.example`, which a browser would read as another host.
        Ok(u) if u.origin() == base.origin() && !u.path().starts_with("//") => Some(match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        }),
        _ => None,
    }
}

/// The answer's header that forgets a `?lang=` choice.
pub fn forget_cookie() -> HeaderValue {
    HeaderValue::from_static("hawaf_lang=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// The locale for this request, and the cookie to set when `?lang=` chose it.
pub fn choose(
    parts: &Parts,
    jar: &CookieJar,
    user_lang: Option<&str>,
    user_zone: Option<&str>,
    secure: bool,
) -> (Locale, Option<HeaderValue>) {
    let asked = parts
        .uri
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang"))
        .and_then(|(_, v)| Lang::parse(&v));
    let lang = asked
        .or_else(|| user_lang.and_then(Lang::parse))
        .or_else(|| jar.get(LANG_COOKIE).and_then(|c| Lang::parse(c.value())))
        .or_else(|| parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::negotiate))
        .unwrap_or_default();
    let zone = user_zone.and_then(parse_zone).unwrap_or_default();
    let cookie = asked.and_then(|lang| {
        // A preference, not a credential: readable by no script all the
        // same, and kept for a year.
        let cookie = Cookie::build((LANG_COOKIE, lang.as_str()))
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(365))
            .build();
        HeaderValue::from_str(&cookie.to_string()).ok()
    });
    (Locale { lang, zone }, cookie)
}
