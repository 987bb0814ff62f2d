use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::SharedApp;
use crate::web::error::PageError;
use crate::web::session::Viewer;
use crate::web::{Layout, format_ms};

pub struct Row {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub struct AuditPage {
    layout: Layout,
    entries: Vec<Row>,
    target: Option<String>,
}

#[derive(Deserialize)]
pub struct Filter {
    target: Option<String>,
}

pub async fn page(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Query(filter): Query<Filter>,
) -> Result<AuditPage, PageError> {
    let target = filter.target.filter(|t| !t.is_empty());
    let entries = app
        .store
        .audit_entries(target.as_deref(), 500)
        .await?
        .into_iter()
        .map(|e| Row {
            at: format_ms(e.at),
            outcome_class: match e.outcome.as_str() {
                "ok" => "ok",
                "failed" => "failed",
                _ => "refused",
            },
            actor: e.actor,
            action: e.action,
            target: e.target,
            outcome: e.outcome,
            detail: e.detail,
        })
        .collect();
    Ok(AuditPage { layout: Layout::new("Audit log", "audit", Some(user)), entries, target })
}
