//! Trust on first use for a WAF node's API (AWS): show the certificate the
//! node presents, then pin it with the credential the operator gives (UTM
//! 9's token, or a Sophos Firewall administrator and password).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::ops::answer;
use crate::SharedApp;
use crate::i18n;
use crate::node;
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::Operator;

#[derive(Template)]
#[template(path = "stacks/access_confirm.html")]
struct AccessConfirm<'a> {
    /// Sophos Firewall asks for an administrator and password, UTM 9 for a token.
    sfos: bool,
    stack: &'a str,
    node: &'a str,
    csrf: &'a str,
    api_url: &'a str,
    fingerprint: String,
    fingerprint_hex: String,
}

#[derive(Deserialize)]
pub struct ProbeForm {
    api_url: String,
}

/// Trust on first use, step one: show the certificate the node presents.
pub async fn probe(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<ProbeForm>,
) -> Response {
    match node::probe(&app, &name, &node_name, form.api_url.trim()).await {
        Ok(fp) => {
            let sfos = match node::find(&app, &name, &node_name).await {
                Ok(n) => node::node_kind(&app.store, n.stack.row.id, &n.stack.definition, &n.name, &n.instance_id)
                    .await
                    .is_ok_and(|k| k == crate::waf::WafKind::Sfos),
                Err(_) => false,
            };
            let page = AccessConfirm {
                sfos,
                stack: &name,
                node: &node_name,
                csrf: &user.csrf,
                api_url: form.api_url.trim(),
                fingerprint: fp.to_string(),
                fingerprint_hex: fp.hex(),
            };
            match page.render() {
                Ok(html) => Html(html).into_response(),
                Err(e) => PageError(Error::internal(e)).into_response(),
            }
        }
        Err(e) => answer(&headers, &name, Err(e)),
    }
}

#[derive(Deserialize)]
pub struct AccessForm {
    api_url: String,
    fingerprint: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    username: Option<String>,
}

/// Trust on first use, step two: pin the confirmed certificate, seal the token.
pub async fn save_access(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path((name, node_name)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<AccessForm>,
) -> Response {
    let username = form.username.as_deref().filter(|u| !u.trim().is_empty());
    let credential = node::Credential { username, secret: &form.token };
    let result =
        node::save_access(&app, &name, &node_name, form.api_url.trim(), credential, &form.fingerprint, &user.username)
            .await
            .map(|()| i18n::text_with("stacks-access-saved", &[("node", &node_name)]));
    answer(&headers, &name, result)
}
