//! The audit log for operators and admins: newest first, a page at a time,
//! narrowed by who, stack, action and outcome.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::SharedApp;
use crate::i18n;
use crate::store::AuditFilter;
use crate::web::error::PageError;
use crate::web::filters;
use crate::web::session::Operator;
use crate::web::{Layout, format_ms};

const PAGE: i64 = 100;

pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub detail: String,
    /// "×37 since 09:55:48" for a folded burst, else empty.
    pub burst: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    layout: Layout,
    entries: Vec<Row>,
    q: Filter,
    /// The query string of the next (older) page, if there is one.
    older: Option<String>,
    filtered: bool,
}

#[derive(Deserialize, Default, Clone, serde::Serialize)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub actor: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stack: String,
    /// Older links kept working: a target is a stack (or a user) name.
    #[serde(default, skip_serializing)]
    pub target: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

fn given(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

pub async fn page(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Query(mut q): Query<Filter>,
) -> Result<AuditPage, PageError> {
    if q.stack.is_empty() {
        q.stack = std::mem::take(&mut q.target);
    }
    let filter = AuditFilter {
        actor: given(&q.actor),
        stack: given(&q.stack),
        action: given(&q.action),
        outcome: given(&q.outcome),
        before: q.before,
    };
    let mut found = app.store.audit_page(&filter, PAGE + 1).await?;
    let more = found.len() as i64 > PAGE;
    found.truncate(PAGE as usize);
    // Everything older than the last row shown comes next.
    let older = match (more, found.last()) {
        (true, Some(last)) => serde_urlencoded::to_string(Filter { before: Some(last.id), ..q.clone() }).ok(),
        _ => None,
    };
    let entries: Vec<Row> = found
        .into_iter()
        .map(|e| Row {
            at: format_ms(e.at),
            outcome_class: match e.outcome.as_str() {
                "ok" => "ok",
                "failed" => "failed",
                _ => "refused",
            },
            burst: match e.first_at {
                Some(first) if e.count > 1 => {
                    let since = format_ms(first);
                    let time = since.split(' ').nth(1).unwrap_or_default();
                    i18n::text_with("accounts-audit-burst", &[("count", &e.count), ("time", &time)])
                }
                _ => String::new(),
            },
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: outcome_label(&e.outcome),
            detail: e.detail,
        })
        .collect();
    let filtered =
        filter.actor.is_some() || filter.stack.is_some() || filter.action.is_some() || filter.outcome.is_some();
    Ok(AuditPage {
        layout: Layout::new(i18n::text("accounts-audit-title"), "audit", Some(user)),
        entries,
        q,
        older,
        filtered,
    })
}

/// An outcome as the reader's language names it; one this page does not
/// know is shown as stored.
fn outcome_label(outcome: &str) -> String {
    match outcome {
        "ok" => i18n::text("accounts-audit-outcome-ok"),
        "refused" => i18n::text("accounts-audit-outcome-refused"),
        "failed" => i18n::text("accounts-audit-outcome-failed"),
        other => other.to_owned(),
    }
}
