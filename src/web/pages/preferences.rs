//! A user's language and time zone: the header's switch and the Account
//! page's form. Both are stored on the user, so every browser they sign in
//! from follows them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::SharedApp;
use crate::i18n::{self, Lang, parse_zone};
use crate::web::error::{Error, PageError};
use crate::web::locale::{forget_cookie, local_path};
use crate::web::session::{Principal, Viewer};

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
    /// The page the switch was pressed on (a GET path of this server).
    #[serde(default)]
    back: String,
}

async fn stored(app: &SharedApp, user: &Principal) -> Result<crate::store::UserRow, Error> {
    app.store.user_by_name(&user.username).await?.ok_or(Error::Unauthenticated)
}

/// The header's switch: keeps the time zone, changes the language, and goes
/// back to the page it was pressed on (only ever a path on this server, so
/// the switch cannot send anyone elsewhere).
pub async fn switch_language(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    axum::Form(form): axum::Form<LanguageForm>,
) -> Result<Response, PageError> {
    let lang = Lang::parse(&form.language)
        .ok_or_else(|| Error::BadRequest(format!("unknown language {:?}: choose en or ja", form.language)))?;
    let me = stored(&app, &user).await?;
    app.store.set_preferences(me.id, Some(lang.as_str()), me.time_zone.as_deref()).await?;
    let back = local_path(&form.back).unwrap_or_else(|| "/stacks".to_owned());
    Ok(([(header::SET_COOKIE, forget_cookie())], Redirect::to(&back)).into_response())
}

#[derive(Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    language: String,
    #[serde(default)]
    time_zone: String,
}

/// The Account page's form: a language ("" follows the browser) and an
/// IANA time zone.
pub async fn save(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    axum::Form(form): axum::Form<PreferencesForm>,
) -> Result<Response, PageError> {
    let language = match form.language.trim() {
        "" => Ok(None),
        tag => Lang::parse(tag).map(Some).ok_or_else(|| i18n::text_with("prefs-bad-language", &[("value", &tag)])),
    };
    let zone = parse_zone(&form.time_zone)
        .ok_or_else(|| i18n::text_with("prefs-bad-zone", &[("value", &form.time_zone.trim())]));
    match (language, zone) {
        (Ok(language), Ok(zone)) => {
            let me = stored(&app, &user).await?;
            let stored_zone = (zone != chrono_tz::UTC).then(|| zone.name());
            app.store.set_preferences(me.id, language.map(Lang::as_str), stored_zone).await?;
            Ok(([(header::SET_COOKIE, forget_cookie())], Redirect::to("/account?preferences=1")).into_response())
        }
        (Err(problem), _) | (_, Err(problem)) => {
            // Nothing is stored: the page says which value is wrong.
            let mut page = super::accounts::account_page(&app, user).await?;
            page.problem = Some(problem);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}
