//! The Account page (one's own password and API tokens) and the Users page
//! (admins: roles, access, resets). Each form posts, and the page comes back
//! with what happened: a new secret is shown on that page, once.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::SharedApp;
use crate::auth::accounts;
use crate::auth::{self, AuthError, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, Role};
use crate::i18n;
use crate::i18n::local_day as format_day;
use crate::store::UserChange;
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::{Admin, Operator, Principal, Viewer};
use crate::web::{Layout, format_ms};

pub struct TokenLine {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub expired: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub struct AccountPage {
    layout: Layout,
    must_change: bool,
    notice: Option<String>,
    pub(super) problem: Option<String>,
    /// A token just created: its secret, shown this once.
    created: Option<String>,
    tokens: Vec<TokenLine>,
    /// Admins see everyone's tokens here.
    everyone: bool,
    token_name: String,
    default_days: u32,
    max_days: u32,
    /// The user's language setting ("" follows the browser) and time zone.
    language: String,
    time_zone: String,
    zones: &'static [chrono_tz::Tz],
}

#[derive(Deserialize)]
pub struct AccountQuery {
    must_change: Option<String>,
    changed: Option<String>,
    revoked: Option<i64>,
    preferences: Option<String>,
}

pub(super) async fn account_page(app: &SharedApp, user: Principal) -> Result<AccountPage, Error> {
    let everyone = user.role >= Role::Admin;
    let rows = accounts::tokens(&app.store, (!everyone).then_some(user.username.as_str())).await?;
    let now = crate::store::now_ms();
    let tokens = rows
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            username: t.username,
            name: t.name,
            created: format_day(t.created_at),
            last_used: t.last_used_at.map_or_else(|| i18n::text("accounts-tokens-never-used"), format_ms),
            expires: t.expires_at.map_or_else(|| i18n::text("accounts-tokens-never-expires"), format_day),
            expired: t.expires_at.is_some_and(|at| at <= now),
        })
        .collect();
    let me = app.store.user_by_name(&user.username).await?;
    let (language, time_zone) = me.map(|u| (u.language, u.time_zone)).unwrap_or_default();
    Ok(AccountPage {
        language: language.unwrap_or_default(),
        time_zone: time_zone.unwrap_or_else(|| "UTC".into()),
        zones: crate::i18n::ZONES,
        must_change: user.must_change_password,
        layout: Layout::new(i18n::text("accounts-account-title"), "account", Some(user)),
        notice: None,
        problem: None,
        created: None,
        tokens,
        everyone,
        token_name: String::new(),
        default_days: DEFAULT_TOKEN_DAYS,
        max_days: MAX_TOKEN_DAYS,
    })
}

pub async fn account(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Query(q): Query<AccountQuery>,
) -> Result<AccountPage, PageError> {
    let mut page = account_page(&app, user).await?;
    page.must_change |= q.must_change.is_some();
    if q.changed.is_some() {
        page.notice = Some(i18n::text("accounts-account-password-changed"));
    }
    if q.preferences.is_some() {
        page.notice = Some(crate::i18n::text("prefs-saved"));
    }
    if let Some(id) = q.revoked {
        page.notice = Some(i18n::text_with("accounts-tokens-revoked", &[("id", &id)]));
    }
    Ok(page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn change_password(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    axum::Form(form): axum::Form<PasswordForm>,
) -> Result<Response, PageError> {
    let refused = |message: String| async {
        let mut page = account_page(&app, user.clone()).await?;
        page.problem = Some(message);
        Ok::<_, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    if form.new_password != form.confirm_password {
        return refused(i18n::text("accounts-account-passwords-differ")).await;
    }
    let keep = user.session.clone();
    match accounts::change_own_password(
        &app.store,
        &user.username,
        &form.current_password,
        &form.new_password,
        keep.as_deref(),
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/account?changed=1").into_response()),
        Err(e) => {
            let (_, message) = refusal(e)?;
            refused(message).await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    days: String,
}

pub async fn create_token(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    axum::Form(form): axum::Form<TokenForm>,
) -> Result<Response, PageError> {
    let mut page = account_page(&app, user.clone()).await?;
    let days = match form.days.trim() {
        "" => Ok(None),
        d => d.parse::<u32>().map(Some).map_err(|_| AuthError::BadExpiry),
    };
    let created = match days {
        Ok(days) => accounts::create_token(&app.store, &user.username, &user.username, form.name.trim(), days).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(t) => {
            let mut page = account_page(&app, user).await?;
            page.created = Some(t.token);
            page.notice = Some(i18n::text_with(
                "accounts-tokens-created",
                &[("name", &format!("{:?}", t.name)), ("until", &format_day(t.expires_at))],
            ));
            Ok((StatusCode::CREATED, page).into_response())
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            page.problem = Some(message);
            page.token_name = form.name;
            Ok((status, page).into_response())
        }
    }
}

pub async fn revoke_token(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let owner = (user.role < Role::Admin).then_some(user.username.as_str());
    accounts::revoke_token(&app.store, &user.username, id, owner).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/account?revoked={id}")).into_response())
}

pub struct UserLine {
    pub username: String,
    pub role: String,
    pub disabled: bool,
    pub must_change: bool,
    pub created: String,
    pub is_me: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
pub struct UsersPage {
    layout: Layout,
    users: Vec<UserLine>,
    notice: Option<String>,
    problem: Option<String>,
    /// A password just generated, and whose: shown this once.
    generated: Option<(String, String)>,
    new_username: String,
}

async fn users_page(app: &SharedApp, admin: Principal) -> Result<UsersPage, Error> {
    let users = accounts::users(&app.store)
        .await?
        .into_iter()
        .map(|u| UserLine {
            is_me: u.username == admin.username,
            username: u.username,
            role: u.role,
            disabled: u.disabled,
            must_change: u.must_change_password,
            created: format_day(u.created_at),
        })
        .collect();
    Ok(UsersPage {
        layout: Layout::new(i18n::text("accounts-users-title"), "users", Some(admin)),
        users,
        notice: None,
        problem: None,
        generated: None,
        new_username: String::new(),
    })
}

pub async fn users(State(app): State<SharedApp>, Admin(admin): Admin) -> Result<UsersPage, PageError> {
    Ok(users_page(&app, admin).await?)
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

pub async fn create_user(
    State(app): State<SharedApp>,
    Admin(admin): Admin,
    axum::Form(form): axum::Form<NewUserForm>,
) -> Result<Response, PageError> {
    let username = form.username.trim().to_owned();
    let result = async {
        let role: Role = form.role.parse()?;
        let password = auth::generate_password();
        auth::create_user(&app.store, &admin.username, &username, &password, role, true).await?;
        Ok::<_, AuthError>(password)
    }
    .await;
    let mut page = users_page(&app, admin).await?;
    match result {
        Ok(password) => {
            page.notice = Some(i18n::text_with("accounts-users-added", &[("name", &username)]));
            page.generated = Some((username, password));
            Ok((StatusCode::CREATED, page).into_response())
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            page.problem = Some(message);
            page.new_username = username;
            Ok((status, page).into_response())
        }
    }
}

/// A refusal to show on the page with its status; anything else is an error page.
fn refusal(e: AuthError) -> Result<(StatusCode, String), PageError> {
    let message = refusal_message(&e);
    match Error::from(e) {
        err @ Error::Internal(_) => Err(err.into()),
        err => Ok((err.status(), message)),
    }
}

/// The account rules' refusals in the reader's language (the English is
/// the library's own wording); anything else as the library words it.
fn refusal_message(e: &AuthError) -> String {
    use AuthError as A;
    match e {
        A::UnknownRole(role) => i18n::text_with("accounts-refused-unknown-role", &[("role", role)]),
        A::BadUsername => i18n::text("accounts-refused-bad-username"),
        A::WeakPassword => i18n::text_with("accounts-refused-weak-password", &[("min", &auth::MIN_PASSWORD)]),
        A::NoSuchUser(name) => i18n::text_with("accounts-refused-no-such-user", &[("name", name)]),
        A::LastAdmin(name) => i18n::text_with("accounts-refused-last-admin", &[("name", name)]),
        A::NoSuchToken(id) => i18n::text_with("accounts-refused-no-such-token", &[("id", id)]),
        A::WrongPassword => i18n::text("accounts-refused-wrong-password"),
        A::SamePassword => i18n::text("accounts-refused-same-password"),
        A::BadExpiry => i18n::text_with("accounts-refused-bad-expiry", &[("max", &MAX_TOKEN_DAYS)]),
        A::BadTokenName => i18n::text("accounts-refused-bad-token-name"),
        A::Store(_) | A::Hash(_) => e.to_string(),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    action: String,
    #[serde(default)]
    role: String,
}

pub async fn change_user(
    State(app): State<SharedApp>,
    Admin(admin): Admin,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<UserActionForm>,
) -> Result<Response, PageError> {
    let actor = admin.username.clone();
    let result = match form.action.as_str() {
        "role" => match form.role.parse::<Role>() {
            Ok(role) => {
                accounts::change_user(&app.store, &actor, &name, UserChange::Role(role.as_str())).await.map(|()| {
                    let role = i18n::text(&format!("role-{}", role.as_str()));
                    (i18n::text_with("accounts-users-role-changed", &[("name", &name), ("role", &role)]), None)
                })
            }
            Err(e) => Err(e),
        },
        "disable" => accounts::change_user(&app.store, &actor, &name, UserChange::Disable)
            .await
            .map(|()| (i18n::text_with("accounts-users-disabled", &[("name", &name)]), None)),
        "enable" => accounts::change_user(&app.store, &actor, &name, UserChange::Enable)
            .await
            .map(|()| (i18n::text_with("accounts-users-enabled", &[("name", &name)]), None)),
        "delete" => accounts::change_user(&app.store, &actor, &name, UserChange::Delete)
            .await
            .map(|()| (i18n::text_with("accounts-users-deleted", &[("name", &name)]), None)),
        "reset" => accounts::reset_password(&app.store, &actor, &name, None)
            .await
            .map(|generated| (i18n::text_with("accounts-users-reset", &[("name", &name)]), generated)),
        other => {
            let action = format!("{other:?}");
            return Err(
                Error::BadRequest(i18n::text_with("accounts-users-unknown-action", &[("action", &action)])).into()
            );
        }
    };
    let mut page = users_page(&app, admin).await?;
    match result {
        Ok((notice, generated)) => {
            page.notice = Some(notice);
            page.generated = generated.map(|p| (name, p));
            Ok(page.into_response())
        }
        Err(e) => {
            let (status, message) = refusal(e)?;
            page.problem = Some(message);
            Ok((status, page).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_english_are_the_librarys_own_words() {
        for e in [
            AuthError::UnknownRole("root".into()),
            AuthError::BadUsername,
            AuthError::WeakPassword,
            AuthError::NoSuchUser("pat".into()),
            AuthError::LastAdmin("admin".into()),
            AuthError::NoSuchToken(7),
            AuthError::WrongPassword,
            AuthError::SamePassword,
            AuthError::BadExpiry,
            AuthError::BadTokenName,
        ] {
            assert_eq!(refusal_message(&e), e.to_string());
        }
    }
}
