//! The JSON API client the server commands share.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ClientArgs, Failure};
use crate::i18n;

pub(super) struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// For calls without a body.
pub(super) const NO_BODY: Option<&()> = None;

impl Client {
    pub(super) fn new(args: &ClientArgs) -> Result<Client, Failure> {
        let token =
            args.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| Failure::input(i18n::text("cli-no-token")))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Failure::failed(e.to_string()))?;
        Ok(Client { http, base: args.url.trim_end_matches('/').to_owned(), token })
    }

    /// A call whose answer is one of the contract's types.
    pub(super) async fn typed<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, Failure> {
        let value = self.call(method, path, body).await?;
        parse(path, value)
    }

    /// Both: the answer as sent (what `--json` prints, fields this CLI does
    /// not know included) and as the contract's type.
    pub(super) async fn both<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<(Value, T), Failure> {
        let value = self.call(method, path, body).await?;
        let typed = parse(path, value.clone())?;
        Ok((value, typed))
    }

    pub(super) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Value, Failure> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .map_err(|e| Failure::failed(i18n::text_with("cli-unreachable", &[("url", &self.base), ("error", &e)])))?;
        let status = res.status();
        let value: Value = res.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let mut message = match value["error"]["message"].as_str() {
            Some(m) => m.to_owned(),
            None => i18n::text("cli-no-message"),
        };
        if let Some(fields) = value["errors"].as_array() {
            let list: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", f["field"].as_str().unwrap_or("?"), f["message"].as_str().unwrap_or("?")))
                .collect();
            message = list.join("; ");
        }
        let message = format!("{} ({status})", message);
        // The caller's input was at fault for these; the rest are failures of the operation.
        Err(match status.as_u16() {
            400 | 404 | 409 | 413 | 415 | 422 => Failure::input(message),
            _ => Failure::failed(message),
        })
    }
}

fn parse<T: DeserializeOwned>(path: &str, value: Value) -> Result<T, Failure> {
    serde_json::from_value(value)
        .map_err(|e| Failure::failed(i18n::text_with("cli-unexpected-answer", &[("path", &path), ("error", &e)])))
}
