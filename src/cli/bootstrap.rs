//! Commands that open the database directly: the first users and tokens.

use std::io::Read;

use super::{DbArgs, Failure};
use crate::auth::{self, Role};
use crate::store::Store;

pub(super) async fn open(db: &DbArgs) -> Result<Store, Failure> {
    Store::open(&db.db).await.map_err(|e| Failure::failed(e.to_string()))
}

pub(super) async fn user_add(db: &DbArgs, name: &str, role: Role, password_stdin: bool) -> Result<(), Failure> {
    let store = open(db).await?;
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::input(format!("cannot read the password from stdin: {e}")))?;
        (s.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (auth::generate_password(), true)
    };
    auth::add_user(&store, "cli", name, &password, role).await.map_err(|e| match e {
        auth::AuthError::Store(crate::store::StoreError::Duplicate(_)) => {
            Failure::input(format!("user {name} already exists"))
        }
        auth::AuthError::Store(s) => Failure::failed(s.to_string()),
        other => Failure::input(other.to_string()),
    })?;
    if generated {
        super::secret_line(format_args!("created {role} {name} with password {password}"));
    } else {
        out!("created {role} {name}");
    }
    Ok(())
}

pub(super) async fn token_create(db: &DbArgs, user: &str, name: &str) -> Result<(), Failure> {
    let store = open(db).await?;
    let token = auth::create_api_token(&store, "cli", user, name).await.map_err(|e| match e {
        auth::AuthError::NoSuchUser(_) => Failure::input(e.to_string()),
        other => Failure::failed(other.to_string()),
    })?;
    super::secret_line(format_args!("{token}"));
    Ok(())
}
