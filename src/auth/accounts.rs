//! The lifecycle of accounts and API tokens: what an admin does to users,
//! and what each user does to their own password and tokens. Every change
//! is audited, and the last enabled admin is never taken away.

use std::sync::LazyLock;

use tokio::sync::Semaphore;

use super::{
    AuthError, DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, Role, check_password, generate_password, hash_password_async,
    hash_token, new_token, verify_password,
};
use crate::store::{Changed, NewAudit, Store, TokenRow, UserChange, UserRow, now_ms};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Argon2 verifications at once: each takes about 19 MiB and a core for tens
/// of milliseconds, so a flood of sign-ins queues here instead of exhausting
/// memory and the blocking pool.
static VERIFICATIONS: LazyLock<Semaphore> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Semaphore::new(2 * cores)
});

/// [`verify_password`] on the blocking pool, at most 2 × cores at a time.
pub async fn verify(stored: Option<String>, password: String) -> Result<bool, AuthError> {
    let _permit = VERIFICATIONS.acquire().await.map_err(|e| AuthError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(move || verify_password(stored.as_deref(), &password))
        .await
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// A token as created: the secret is in `token`, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: i64,
    pub name: String,
    pub token: String,
    pub expires_at: i64,
}

async fn audit(store: &Store, actor: &str, action: &str, target: &str, outcome: &str, detail: String) {
    if let Err(e) = store.audit(NewAudit { actor, action, target, outcome, detail }).await {
        tracing::error!(error = %e, "cannot write an audit row");
    }
}

pub async fn users(store: &Store) -> Result<Vec<UserRow>, AuthError> {
    Ok(store.users().await?)
}

/// Changes a user's role or access, or deletes them: their sessions end at
/// once (and a disabled user's tokens too), and no cache keeps them alive.
pub async fn change_user(store: &Store, actor: &str, username: &str, change: UserChange<'_>) -> Result<(), AuthError> {
    let (action, detail) = match change {
        UserChange::Role(r) => {
            r.parse::<Role>()?;
            ("user.role", format!("role {r}"))
        }
        UserChange::Disable => ("user.disable", "sessions and tokens ended".to_owned()),
        UserChange::Enable => ("user.enable", String::new()),
        UserChange::Delete => ("user.delete", "sessions and tokens ended".to_owned()),
    };
    let result = match store.change_user(username, change).await? {
        Changed::Done => Ok(()),
        Changed::NoSuchUser => Err(AuthError::NoSuchUser(username.to_owned())),
        Changed::LastAdmin => Err(AuthError::LastAdmin(username.to_owned())),
    };
    let (outcome, detail) = match &result {
        Ok(()) => ("ok", detail),
        Err(e) => ("refused", e.to_string()),
    };
    audit(store, actor, action, username, outcome, detail).await;
    result
}

/// An admin's reset: the given password, or a generated one (returned), to
/// be changed at the next sign-in. All the user's sessions end.
pub async fn reset_password(
    store: &Store,
    actor: &str,
    username: &str,
    password: Option<&str>,
) -> Result<Option<String>, AuthError> {
    let user = store.user_by_name(username).await?.ok_or_else(|| AuthError::NoSuchUser(username.to_owned()))?;
    let generated = password.is_none().then(generate_password);
    let password = password.or(generated.as_deref()).unwrap_or_default();
    check_password(password)?;
    let hash = hash_password_async(password).await?;
    store.set_password(user.id, &hash, true, None).await?;
    audit(store, actor, "user.password_reset", username, "ok", "to be changed at the next sign-in".into()).await;
    Ok(generated)
}

/// A user changes their own password, proving the current one. Their other
/// sessions end; `keep_session` (the one asking) stays signed in.
pub async fn change_own_password(
    store: &Store,
    username: &str,
    current: &str,
    new: &str,
    keep_session: Option<&str>,
) -> Result<(), AuthError> {
    let user = store.user_by_name(username).await?.ok_or_else(|| AuthError::NoSuchUser(username.to_owned()))?;
    let result = async {
        if !verify(Some(user.password_hash.clone()), current.to_owned()).await? {
            return Err(AuthError::WrongPassword);
        }
        check_password(new)?;
        if new == current {
            return Err(AuthError::SamePassword);
        }
        let hash = hash_password_async(new).await?;
        store.set_password(user.id, &hash, false, keep_session).await?;
        Ok(())
    }
    .await;
    let (outcome, detail) = match &result {
        Ok(()) => ("ok", "other sessions ended".to_owned()),
        Err(e) => ("refused", e.to_string()),
    };
    audit(store, username, "user.password", username, outcome, detail).await;
    result
}

pub fn check_token_name(name: &str) -> Result<(), AuthError> {
    let ok = (1..=64).contains(&name.chars().count()) && !name.chars().any(char::is_control);
    if ok { Ok(()) } else { Err(AuthError::BadTokenName) }
}

/// A new API token for `username`, lasting `days` (default
/// [`DEFAULT_TOKEN_DAYS`], at most [`MAX_TOKEN_DAYS`]).
pub async fn create_token(
    store: &Store,
    actor: &str,
    username: &str,
    name: &str,
    days: Option<u32>,
) -> Result<CreatedToken, AuthError> {
    check_token_name(name)?;
    let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(AuthError::BadExpiry);
    }
    let user = store.user_by_name(username).await?.ok_or_else(|| AuthError::NoSuchUser(username.to_owned()))?;
    let token = new_token("hawaf_");
    let expires_at = now_ms() + i64::from(days) * DAY_MS;
    let id = store.create_api_token(user.id, name, &hash_token(&token), Some(expires_at)).await?;
    audit(store, actor, "token.create", username, "ok", format!("token {id} {name:?}, {days} days")).await;
    Ok(CreatedToken { id, name: name.to_owned(), token, expires_at })
}

/// Tokens: `username`'s, or everyone's with None.
pub async fn tokens(store: &Store, username: Option<&str>) -> Result<Vec<TokenRow>, AuthError> {
    let user_id = match username {
        Some(u) => Some(store.user_by_name(u).await?.ok_or_else(|| AuthError::NoSuchUser(u.to_owned()))?.id),
        None => None,
    };
    Ok(store.api_tokens(user_id).await?)
}

/// Revokes a token: `owner`'s only, or anyone's with None (admins). Its
/// next use answers 401.
pub async fn revoke_token(store: &Store, actor: &str, id: i64, owner: Option<&str>) -> Result<(), AuthError> {
    let owner_id = match owner {
        Some(u) => Some(store.user_by_name(u).await?.ok_or_else(|| AuthError::NoSuchUser(u.to_owned()))?.id),
        None => None,
    };
    if !store.revoke_api_token(id, owner_id).await? {
        return Err(AuthError::NoSuchToken(id));
    }
    audit(store, actor, "token.revoke", &format!("token {id}"), "ok", String::new()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn the_last_enabled_admin_cannot_be_demoted_disabled_or_deleted() {
        let (_dir, s) = store().await;
        crate::auth::add_user(&s, "t", "root", "correct-horse-battery", Role::Admin).await.unwrap();
        for change in [UserChange::Role("operator"), UserChange::Disable, UserChange::Delete] {
            let err = change_user(&s, "t", "root", change).await.unwrap_err();
            assert!(matches!(err, AuthError::LastAdmin(_)), "{change:?}: {err}");
        }
        crate::auth::add_user(&s, "t", "second", "correct-horse-battery", Role::Admin).await.unwrap();
        change_user(&s, "t", "root", UserChange::Role("viewer")).await.unwrap();
        let err = change_user(&s, "t", "second", UserChange::Disable).await.unwrap_err();
        assert!(matches!(err, AuthError::LastAdmin(_)), "second is now the only admin");
    }

    #[tokio::test]
    async fn a_revoked_or_disabled_users_token_is_refused_at_once() {
        let (_dir, s) = store().await;
        crate::auth::add_user(&s, "t", "ops", "correct-horse-battery", Role::Operator).await.unwrap();
        let a = create_token(&s, "t", "ops", "ci", None).await.unwrap();
        let b = create_token(&s, "t", "ops", "laptop", Some(1)).await.unwrap();
        assert!(s.api_token(&hash_token(&a.token)).await.unwrap().is_some(), "read once: now cached");
        revoke_token(&s, "t", a.id, Some("ops")).await.unwrap();
        assert!(s.api_token(&hash_token(&a.token)).await.unwrap().is_none());
        assert!(s.api_token(&hash_token(&b.token)).await.unwrap().is_some());
        change_user(&s, "t", "ops", UserChange::Disable).await.unwrap();
        assert!(s.api_token(&hash_token(&b.token)).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn token_names_and_lifetimes_are_checked() {
        let (_dir, s) = store().await;
        crate::auth::add_user(&s, "t", "ops", "correct-horse-battery", Role::Operator).await.unwrap();
        assert!(matches!(create_token(&s, "t", "ops", "", None).await, Err(AuthError::BadTokenName)));
        assert!(matches!(create_token(&s, "t", "ops", "a\nb", None).await, Err(AuthError::BadTokenName)));
        assert!(matches!(create_token(&s, "t", "ops", "x", Some(0)).await, Err(AuthError::BadExpiry)));
        assert!(matches!(create_token(&s, "t", "ops", "x", Some(366)).await, Err(AuthError::BadExpiry)));
        let t = create_token(&s, "t", "ops", "x", None).await.unwrap();
        let days = (t.expires_at - now_ms()) as f64 / DAY_MS as f64;
        assert!((89.9..=90.0).contains(&days), "{days}");
    }

    #[tokio::test]
    async fn changing_ones_password_needs_the_current_one_and_a_new_one() {
        let (_dir, s) = store().await;
        crate::auth::add_user(&s, "t", "ops", "correct-horse-battery", Role::Operator).await.unwrap();
        let wrong = change_own_password(&s, "ops", "not-the-password", "another-long-one", None).await;
        assert!(matches!(wrong, Err(AuthError::WrongPassword)));
        let short = change_own_password(&s, "ops", "correct-horse-battery", "short", None).await;
        assert!(matches!(short, Err(AuthError::WeakPassword)));
        let same = change_own_password(&s, "ops", "correct-horse-battery", "correct-horse-battery", None).await;
        assert!(matches!(same, Err(AuthError::SamePassword)));
        change_own_password(&s, "ops", "correct-horse-battery", "another-long-one", None).await.unwrap();
        let user = s.user_by_name("ops").await.unwrap().unwrap();
        assert!(verify(Some(user.password_hash), "another-long-one".into()).await.unwrap());
        assert!(!user.must_change_password);
        let generated = reset_password(&s, "admin", "ops", None).await.unwrap().unwrap();
        let user = s.user_by_name("ops").await.unwrap().unwrap();
        assert!(user.must_change_password, "a reset is changed at the next sign-in");
        assert!(verify(Some(user.password_hash), generated).await.unwrap());
    }
}
