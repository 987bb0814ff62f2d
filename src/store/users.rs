use super::{Result, Store, StoreError, is_unique_violation, now_ms};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: i64,
}

/// A live session joined with its user, as the web layer needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub token_name: String,
}

impl Store {
    pub async fn user_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    pub async fn create_user(&self, username: &str, password_hash: &str, role: &str) -> Result<i64> {
        let res = sqlx::query("INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)")
            .bind(username)
            .bind(password_hash)
            .bind(role)
            .bind(now_ms())
            .execute(&self.writer)
            .await;
        match res {
            Ok(done) => Ok(done.last_insert_rowid()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate(format!("user {username}"))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE username = ?").bind(username).fetch_optional(&self.pool).await?)
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
        sqlx::query("DELETE FROM sessions WHERE expires_at < ?").bind(now).execute(&self.writer).await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
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
        if let Some(row) = self.sessions.get(token_hash) {
            return Ok(Some(row));
        }
        let read_at = std::time::Instant::now();
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT s.user_id, u.username, u.role, s.csrf_token, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = &row {
            self.sessions.put(token_hash, read_at, row.clone());
        }
        Ok(row)
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash).execute(&self.writer).await?;
        // After the delete: a lookup that read the row before it cannot store
        // it any more (`Recent::put` refuses rows read before a forget).
        self.sessions.forget(token_hash);
        Ok(())
    }

    pub async fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)")
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.writer)
            .await?;
        Ok(())
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
            "SELECT t.user_id, u.username, u.role, t.name AS token_name
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if row.is_some() {
            sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?")
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
