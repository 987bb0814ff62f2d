//! `hawaf user …` and `hawaf token …`: accounts and API tokens, on the
//! server's host, opening the database directly. This is also the way back
//! in when no admin can sign in; a running server sees a change within
//! two seconds (its cache of sessions and tokens).

use std::io::Read;

use super::args::{DbCommand, TokenCommand, UserCommand};
use super::{DbArgs, Failure};
use crate::auth::accounts;
use crate::auth::{self, AuthError, Role};
use crate::i18n;
use crate::store::{Location, Store, StoreError, UserChange};

const ACTOR: &str = "cli";

async fn open(db: &DbArgs) -> Result<Store, Failure> {
    Store::connect(&db.db).await.map_err(|e| Failure::failed(e.to_string()))
}

/// `hawaf db migrate-from-sqlite FILE --db postgres://…`.
pub(super) async fn db(command: DbCommand) -> Result<(), Failure> {
    let DbCommand::MigrateFromSqlite { file, db } = command;
    if !matches!(db.db, Location::Postgres(_)) {
        return Err(Failure::input(i18n::text_with("cli-db-not-postgres", &[("db", &db.db)])));
    }
    if !file.is_file() {
        return Err(Failure::input(i18n::text_with("cli-db-not-sqlite-file", &[("file", &file.display())])));
    }
    let source = Store::connect(&Location::File(file.clone())).await.map_err(|e| Failure::failed(e.to_string()))?;
    let target = open(&db).await?;
    let copied = crate::store::copy::sqlite_to_postgres(&source, &target).await.map_err(|e| match e {
        crate::store::copy::CopyError::NotEmpty(_) => Failure::input(e.to_string()),
        other => Failure::failed(other.to_string()),
    })?;
    let width = copied.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for (table, rows) in &copied {
        println!("{table:<width$}  {rows:>8}");
    }
    let total: i64 = copied.iter().map(|(_, n)| n).sum();
    println!("{}", i18n::text_with("cli-db-copied", &[("total", &total), ("db", &db.db)]));
    let key_file = crate::secret::key_file_path(&file);
    println!("{}", i18n::text_with("cli-db-sealed-secrets", &[("file", &key_file.display())]));
    Ok(())
}

/// The user's mistakes exit 2, the rest 1.
fn failure(e: AuthError) -> Failure {
    match e {
        AuthError::Store(StoreError::Duplicate(what)) => {
            Failure::input(i18n::text_with("cli-already-exists", &[("what", &what)]))
        }
        AuthError::Store(s) => Failure::failed(s.to_string()),
        AuthError::Hash(h) => Failure::failed(h),
        other => Failure::input(other.to_string()),
    }
}

fn read_password() -> Result<String, Failure> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| Failure::input(i18n::text_with("cli-password-unreadable", &[("error", &e)])))?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

/// A role as a sentence names it (the ROLE column keeps the stored value).
fn role_name(role: Role) -> String {
    match role {
        Role::Viewer => i18n::text("cli-role-viewer"),
        Role::Operator => i18n::text("cli-role-operator"),
        Role::Admin => i18n::text("cli-role-admin"),
    }
}

fn day(ms: i64) -> String {
    crate::clock::format_day(ms)
}

pub(super) async fn user(command: UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::List { db } => {
            let store = open(&db).await?;
            out!("{:<24} {:<9} {:<9} CREATED", "NAME", "ROLE", "STATE");
            for u in accounts::users(&store).await.map_err(failure)? {
                let state = match (u.disabled, u.must_change_password) {
                    (true, _) => "disabled",
                    (false, true) => "reset",
                    (false, false) => "active",
                };
                out!("{:<24} {:<9} {:<9} {}", u.username, u.role, state, day(u.created_at));
            }
        }
        UserCommand::Add { name, role, password_stdin, db } => {
            let store = open(&db).await?;
            let role: Role = role.into();
            if password_stdin {
                let password = read_password()?;
                auth::create_user(&store, ACTOR, &name, &password, role, false).await.map_err(failure)?;
                out!("{}", i18n::text_with("cli-user-created", &[("role", &role_name(role)), ("name", &name)]));
            } else {
                let password = auth::generate_password();
                auth::create_user(&store, ACTOR, &name, &password, role, true).await.map_err(failure)?;
                let role = role_name(role);
                let args: [(&str, &dyn std::fmt::Display); 3] =
                    [("role", &role), ("name", &name), ("password", &password)];
                super::secret_line(format_args!("{}", i18n::text_with("cli-user-created-with-password", &args)));
            }
        }
        UserCommand::Role { name, role, db } => {
            let store = open(&db).await?;
            let role: Role = role.into();
            accounts::change_user(&store, ACTOR, &name, UserChange::Role(role.as_str())).await.map_err(failure)?;
            out!("{}", i18n::text_with("cli-user-role-changed", &[("name", &name), ("role", &role_name(role))]));
        }
        UserCommand::Disable { name, db } => {
            let store = open(&db).await?;
            accounts::change_user(&store, ACTOR, &name, UserChange::Disable).await.map_err(failure)?;
            out!("{}", i18n::text_with("cli-user-disabled", &[("name", &name)]));
        }
        UserCommand::Enable { name, db } => {
            let store = open(&db).await?;
            accounts::change_user(&store, ACTOR, &name, UserChange::Enable).await.map_err(failure)?;
            out!("{}", i18n::text_with("cli-user-enabled", &[("name", &name)]));
        }
        UserCommand::Delete { name, db } => {
            let store = open(&db).await?;
            accounts::change_user(&store, ACTOR, &name, UserChange::Delete).await.map_err(failure)?;
            out!("{}", i18n::text_with("cli-user-deleted", &[("name", &name)]));
        }
        UserCommand::Passwd { name, password_stdin, db } => {
            let store = open(&db).await?;
            let chosen = if password_stdin { Some(read_password()?) } else { None };
            let generated = accounts::reset_password(&store, ACTOR, &name, chosen.as_deref()).await.map_err(failure)?;
            match generated {
                Some(p) => super::secret_line(format_args!(
                    "{}",
                    i18n::text_with("cli-password-generated", &[("name", &name), ("password", &p)])
                )),
                None => out!("{}", i18n::text_with("cli-password-reset", &[("name", &name)])),
            }
        }
    }
    Ok(())
}

pub(super) async fn token(command: TokenCommand) -> Result<(), Failure> {
    match command {
        TokenCommand::List { user, db } => {
            let store = open(&db).await?;
            out!("{:<6} {:<20} {:<20} {:<10} {:<10} EXPIRES", "ID", "USER", "NAME", "CREATED", "LAST USED");
            for t in accounts::tokens(&store, user.as_deref()).await.map_err(failure)? {
                out!(
                    "{:<6} {:<20} {:<20} {:<10} {:<10} {}",
                    t.id,
                    t.username,
                    t.name,
                    day(t.created_at),
                    t.last_used_at.map_or("never".to_owned(), day),
                    t.expires_at.map_or("never".to_owned(), day)
                );
            }
        }
        TokenCommand::Create { user, name, days, db } => {
            let store = open(&db).await?;
            let t = accounts::create_token(&store, ACTOR, &user, &name, Some(days)).await.map_err(failure)?;
            super::secret_line(format_args!("{}", t.token));
        }
        TokenCommand::Revoke { id, db } => {
            let store = open(&db).await?;
            accounts::revoke_token(&store, ACTOR, id, None).await.map_err(failure)?;
            out!("{}", i18n::text_with("cli-token-revoked", &[("id", &id)]));
        }
    }
    Ok(())
}
