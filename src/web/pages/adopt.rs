//! "Adopt an existing stack": the new-stack form, filled with the names used
//! in the console; "Look for it" shows what was found, and typing the name
//! takes the stack over. The same service as `POST /api/v1/stacks/{name}/adopt`.

use axum::extract::{Form, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::stacks::{FormPage, admin_only, form_page, operator_cidr};
use crate::SharedApp;
use crate::adopt::{self, AdoptError, Adopter, Proposal};
use crate::contract::{AdoptAnswer, AdoptRequest};
use crate::i18n;
use crate::stack::{self, Draft, FieldError, StackError};
use crate::web::error::PageError;
use crate::web::session::Operator;

/// What the page shows below the form once it has looked.
pub struct Panel {
    pub answer: Option<AdoptAnswer>,
    /// The name typed in the confirm box, kept on a refusal.
    pub confirm: String,
}

fn page(form: FormPage, answer: Option<AdoptAnswer>, confirm: String) -> FormPage {
    form.adopting(Panel { answer, confirm })
}

pub async fn form(Operator(user): Operator, ext: Extensions) -> FormPage {
    let draft = stack::preset("", operator_cidr(&ext));
    page(form_page(user, None, 0, &draft, Vec::new(), None), None, String::new())
}

/// "Look for it" (a dry run) or "Adopt" (with the name typed).
pub async fn submit(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    ext: Extensions,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim().to_owned());
    let confirm = value("confirm").unwrap_or_default();
    let adopting = value("go").as_deref() == Some("adopt");
    let draft = Draft::from_pairs(pairs.iter().filter(|(k, _)| k != "confirm" && k != "go").cloned());
    let name = draft.get("name").to_owned();
    let shown = |status: StatusCode, errors: Vec<FieldError>, problem: Option<String>, answer: Option<AdoptAnswer>| {
        let form = form_page(user.clone(), None, 0, &draft, errors, problem);
        (status, page(form, answer, confirm.clone())).into_response()
    };
    if name.is_empty() {
        let errors = vec![FieldError::new("name", i18n::text("stacks-adopt-name-required"))];
        return shown(StatusCode::UNPROCESSABLE_ENTITY, errors, None, None);
    }
    let who =
        Adopter { author: user.author(&app.config.outbound), preset: stack::seed_definition(operator_cidr(&ext)) };
    // A mistyped name: look again, so the page still shows what was found.
    let mistyped = adopting && confirm != name;
    let req = AdoptRequest {
        definition: None,
        dry_run: Some(!adopting || mistyped),
        confirm: (adopting && !mistyped).then(|| confirm.clone()),
    };
    match adopt::adopt(&app, who, &name, Proposal::Form(draft.clone()), req).await {
        Ok(answer) if mistyped => {
            let problem = i18n::text_with("stacks-adopt-mistyped", &[("name", &name)]);
            shown(StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), Some(problem), Some(answer))
        }
        Ok(answer) if answer.build_id.is_some() => Redirect::to(&format!("/stacks/{name}/build")).into_response(),
        Ok(answer) => shown(StatusCode::OK, Vec::new(), None, Some(answer)),
        Err(AdoptError::Stack(StackError::Invalid(errors))) => {
            shown(StatusCode::UNPROCESSABLE_ENTITY, errors, None, None)
        }
        Err(AdoptError::Stack(StackError::AdminOnly(fields))) => {
            shown(StatusCode::FORBIDDEN, admin_only(&fields), None, None)
        }
        Err(e @ AdoptError::Confirm { .. }) => {
            shown(StatusCode::UNPROCESSABLE_ENTITY, Vec::new(), Some(e.to_string()), None)
        }
        Err(AdoptError::NotAdoptable(answer)) => {
            shown(StatusCode::CONFLICT, Vec::new(), Some(i18n::text("stacks-adopt-changed")), Some(*answer))
        }
        Err(e @ (AdoptError::AlreadyBuilt(_) | AdoptError::Look { .. } | AdoptError::Provider(_))) => {
            let status =
                if matches!(e, AdoptError::AlreadyBuilt(_)) { StatusCode::CONFLICT } else { StatusCode::BAD_GATEWAY };
            shown(status, Vec::new(), Some(e.to_string()), None)
        }
        Err(e) => PageError::from(crate::web::error::Error::from(e)).into_response(),
    }
}
