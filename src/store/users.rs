use super::{Result, Store, StoreError, is_unique_violation, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
    #[sqlx(try_from = "super::Flag")]
    pub disabled: bool,
    #[sqlx(try_from = "super::Flag")]
    pub must_change_password: bool,
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

/// An API token as its owner and admins see it (never the token itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A change to a user that must leave at least one enabled admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange<'a> {
    Role(&'a str),
    Disable,
    Enable,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Done,
    NoSuchUser,
    /// Refused: it would leave no enabled admin.
    LastAdmin,
}

/// The condition under which a change may not take this user's admin power
/// away: they are the only enabled admin. One statement, so two admins
/// demoting each other at once cannot both succeed.
const NOT_LAST_ADMIN: &str = "NOT (role = 'admin' AND disabled = 0 \
     AND (SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0) <= 1)";

/// A live session joined with its user, as the web layer needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: i64,
    #[sqlx(try_from = "super::Flag")]
    pub must_change_password: bool,
    /// The user's chosen language and time zone, if any (as stored: the
    /// web side parses them and ignores what it does not know).
    pub language: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub token_name: String,
    /// Checked on every use, the cached row's too.
    pub expires_at: Option<i64>,
}

impl Store {
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn create_user(&self, username: &str, password_hash: &str, role: &str, must_change: bool) -> Result<i64> {
        let res = sqlx::query_scalar::<_, i64>(
            "INSERT INTO users (username, password_hash, role, created_at, must_change_password) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(role)
        .bind(now_ms())
        .bind(i64::from(must_change))
            .fetch_one(&self.writer)
            .await;
        match res {
            Ok(done) => Ok(done),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate(format!("user {username}"))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE username = $1").bind(username).fetch_optional(&self.pool).await?)
    }

    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(sqlx::query_as("SELECT * FROM users ORDER BY username").fetch_all(&self.pool).await?)
    }

    /// Changes a user, unless that would leave no enabled admin. A user who
    /// loses power or access loses their sessions at once (and, disabled or
    /// deleted, their tokens); every cached session and token row is dropped.
    pub async fn change_user(&self, username: &str, change: UserChange<'_>) -> Result<Changed> {
        let Some(user) = self.user_by_name(username).await? else { return Ok(Changed::NoSuchUser) };
        // A write transaction: on PostgreSQL its lock serialises two admins
        // demoting each other, so the last-admin guard sees the other's change.
        let mut tx = self.begin_write().await?;
        let done = match change {
            UserChange::Role(role) => {
                let guard = if role == "admin" { "1 = 1" } else { NOT_LAST_ADMIN };
                sqlx::query(&format!("UPDATE users SET role = $1 WHERE id = $2 AND {guard}"))
                    .bind(role)
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?
            }
            UserChange::Disable => {
                sqlx::query(&format!("UPDATE users SET disabled = 1 WHERE id = $1 AND {NOT_LAST_ADMIN}"))
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?
            }
            UserChange::Enable => {
                sqlx::query("UPDATE users SET disabled = 0 WHERE id = $1").bind(user.id).execute(&mut *tx).await?
            }
            UserChange::Delete => {
                sqlx::query(&format!("DELETE FROM users WHERE id = $1 AND {NOT_LAST_ADMIN}"))
                    .bind(user.id)
                    .execute(&mut *tx)
                    .await?
            }
        };
        tx.commit().await?;
        if done.rows_affected() == 0 {
            // The user was there a moment ago: the guard refused.
            return Ok(if self.user_by_name(username).await?.is_some() {
                Changed::LastAdmin
            } else {
                Changed::NoSuchUser
            });
        }
        let role_kept = matches!(change, UserChange::Role(r) if r == user.role) || change == UserChange::Enable;
        if !role_kept {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user.id).execute(&self.writer).await?;
        }
        if change == UserChange::Disable {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1").bind(user.id).execute(&self.writer).await?;
        }
        self.sessions.forget_all();
        self.tokens.forget_all();
        Ok(Changed::Done)
    }

    /// Sets a new password hash. The user's other sessions end (all of them
    /// when `keep_session` is None, e.g. an admin's reset).
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        keep_session: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(i64::from(must_change))
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
            .bind(user_id)
            .bind(keep_session)
            .execute(&self.writer)
            .await?;
        self.sessions.forget_all();
        Ok(())
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        expires_at: i64,
    ) -> Result<()> {
        let now = now_ms();
        // Expired rows are swept here rather than by a timer: sign-ins are rare
        // enough that this costs nothing, and it keeps the table small.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1").bind(now).execute(&self.writer).await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The session for a cookie's token hash, expired or not: the caller tells
    /// "expired" apart from "unknown" so the user gets the right message.
    /// A row read within the last couple of seconds is reused (see `recent`);
    /// unknown tokens are always looked up, so guesses cannot fill the cache.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        self.session_within(token_hash, super::recent::FRESH_FOR).await
    }

    /// Like `session`, reusing a row read up to `age` ago: what a live stream
    /// checks before each event, without a thousand streams of one session
    /// each asking the database. Sign-out, disabling and role changes made
    /// here drop the row at once; other processes' within `age`.
    pub async fn session_within(&self, token_hash: &str, age: std::time::Duration) -> Result<Option<SessionRow>> {
        if let Some(row) = self.sessions.get_within(token_hash, age) {
            return Ok(Some(row));
        }
        let read_at = std::time::Instant::now();
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.user_id, u.username, u.role, s.csrf_token, s.expires_at, u.must_change_password,
                    u.language, u.time_zone
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = &row {
            self.sessions.put(token_hash, read_at, row.clone());
        }
        Ok(row)
    }

    /// Stores a user's language and time zone (None: follow the browser, UTC).
    pub async fn set_preferences(&self, user_id: i64, language: Option<&str>, time_zone: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET language = $1, time_zone = $2 WHERE id = $3")
            .bind(language)
            .bind(time_zone)
            .bind(user_id)
            .execute(&self.writer)
            .await?;
        // Sessions carry the preferences: the next page must show the new ones.
        self.sessions.forget_all();
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.writer).await?;
        // After the delete: a lookup that read the row before it cannot store
        // it any more (`Recent::put` refuses rows read before a forget).
        self.sessions.forget(token_hash);
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        expires_at: Option<i64>,
    ) -> Result<i64> {
        let done = sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(now_ms())
        .bind(expires_at)
        .fetch_one(&self.writer)
        .await?;
        Ok(done)
    }

    /// Tokens, newest first: one user's, or everyone's.
    pub async fn api_tokens(&self, user_id: Option<i64>) -> Result<Vec<TokenRow>> {
        Ok(sqlx::query_as(
            "SELECT t.id, u.username, t.name, t.created_at, t.last_used_at, t.expires_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE ($1 IS NULL OR t.user_id = $1) ORDER BY t.id DESC",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Deletes a token (only if it is `owner`'s, when given); false if there
    /// was none. Its cached row goes with it, so its next use is refused.
    pub async fn revoke_api_token(&self, id: i64, owner: Option<i64>) -> Result<bool> {
        let hash: Option<String> = sqlx::query_scalar(
            "DELETE FROM api_tokens WHERE id = $1 AND ($2 IS NULL OR user_id = $2) RETURNING token_hash",
        )
        .bind(id)
        .bind(owner)
        .fetch_optional(&self.writer)
        .await?;
        if let Some(h) = &hash {
            self.tokens.forget(h);
        }
        Ok(hash.is_some())
    }

    /// Like `session`, a recently read token is reused; `last_used_at` is
    /// written when the token is read from the database, so it is accurate to
    /// within a few seconds without a write on every API call.
    pub async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>> {
        if let Some(row) = self.tokens.get(token_hash) {
            return Ok(Some(row));
        }
        let read_at = std::time::Instant::now();
        let row: Option<ApiTokenRow> = sqlx::query_as(
            "SELECT t.user_id, u.username, u.role, t.name AS token_name, t.expires_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND u.disabled = 0",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
                .bind(now_ms())
                .bind(token_hash)
                .execute(&self.writer)
                .await?;
        }
        if let Some(row) = &row {
            self.tokens.put(token_hash, read_at, row.clone());
        }
        Ok(row)
    }
}
