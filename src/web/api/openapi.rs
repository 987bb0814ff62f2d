//! The API's OpenAPI 3.1 description, generated from the handlers'
//! annotations and the contract's types (utoipa), served at
//! `GET /api/v1/openapi.json` without a token: it holds no data, and tools
//! (schemathesis in scripts/test, client generators) read it first.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use super::{accounts, adopt, builds, drift, drills, migrate, ops, stacks, webhooks};
use crate::contract;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hawaf",
        description = "Control plane for the highly-available WAF pattern on AWS. Every call but this document needs `Authorization: Bearer <token>`."
    ),
    servers((url = "/api/v1")),
    paths(
        stacks::list,
        stacks::show,
        stacks::create,
        stacks::update,
        stacks::delete,
        builds::apply,
        builds::destroy,
        builds::resume,
        builds::show,
        ops::health,
        ops::waf,
        ops::fault,
        ops::access,
        drills::start,
        drills::list,
        drills::show,
        drills::halt,
        drills::lever,
        drills::set_lever,
        drills::schedules,
        drills::policy,
        drills::definitions,
        drills::define,
        drills::undefine,
        drills::set_policy,
        drills::create_schedule,
        drills::update_schedule,
        drills::delete_schedule,
        drift::last,
        drift::check,
        drift::preview,
        drift::reconcile,
        drift::accept,
        drift::cloudformation,
        adopt::adopt,
        migrate::plan,
        migrate::start,
        migrate::finish,
        accounts::list_users,
        accounts::create_user,
        accounts::update_user,
        accounts::delete_user,
        accounts::list_tokens,
        accounts::create_token,
        accounts::revoke_token,
        webhooks::list,
        webhooks::create,
        webhooks::delete,
    ),
    components(schemas(
        contract::AccessRequest,
        contract::AccessSaved,
        contract::AdoptAnswer,
        contract::AdoptRequest,
        contract::AdoptResource,
        contract::AdoptStatus,
        contract::MigrationAccepted,
        contract::MigrationFinish,
        contract::MigrationFinished,
        contract::MigrationPlan,
        contract::MigrationRequest,
        contract::PendingTier,
        contract::TierMigration,
        contract::DestroyRequest,
        contract::ReconcilePlan,
        contract::SafetyLever,
        contract::SafetyLeverChanged,
        contract::SafetyLeverRequest,
        contract::DrillTrigger,
        contract::Blackout,
        contract::Policy,
        contract::DrillDefinition,
        contract::DrillDefinitionRequest,
        contract::Hypothesis,
        contract::MethodStep,
        contract::PolicyResult,
        contract::Comparison,
        contract::Webhook,
        contract::WebhookDelivery,
        contract::WebhookRequest,
        contract::Resilience,
        contract::ResiliencePart,
        contract::Schedule,
        contract::SchedulePatch,
        contract::ScheduleRequest,
        contract::ScheduleRun,
        contract::Build,
        contract::BuildAccepted,
        contract::BuildKind,
        contract::BuildState,
        contract::BuildStatus,
        contract::Call,
        contract::Definition,
        contract::Drill,
        contract::DrillAccepted,
        contract::DrillBudget,
        contract::DrillCheck,
        contract::DrillFigures,
        contract::DrillMark,
        contract::DrillPhase,
        contract::DrillRound,
        contract::DrillSettings,
        contract::DrillRequest,
        contract::DrillStatus,
        contract::DrillSummary,
        contract::ErrorBody,
        contract::ErrorDetail,
        contract::FaultDone,
        contract::FaultRequest,
        contract::FieldMessage,
        contract::Health,
        contract::InstanceHealthView,
        contract::TierHealth,
        contract::Tiers,
        contract::WafSwitch,
        contract::StackView,
        contract::Step,
        contract::StepStatus,
        contract::Verdict,
        contract::WafRequest,
        contract::WafState,
        contract::Role,
        contract::DriftReport,
        contract::ReconcileAccepted,
        contract::AcceptRequest,
        contract::AcceptAnswer,
        contract::CloudFormationTemplate,
        contract::DriftStatus,
        contract::ResourceDrift,
        contract::ResourceState,
        contract::Difference,
        contract::DifferenceType,
        contract::User,
        contract::NewUser,
        contract::UserSaved,
        contract::UserPatch,
        contract::Token,
        contract::NewToken,
        contract::TokenCreated,
    )),
    tags(
        (name = "stacks", description = "Define stacks: versioned, validated definitions"),
        (name = "webhooks", description = "Lifecycle events, signed, to other systems"),
        (name = "builds", description = "The eight-step wizard: apply, destroy, resume"),
        (name = "operations", description = "Health of both tiers, the WAF switch, faults, node access"),
        (name = "drills", description = "Failover drills D1-D4"),
        (name = "accounts", description = "Users (admins) and API tokens"),
        (name = "drift", description = "Whether AWS (or the lab) still matches the stack"),
    )
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> String {
    // Serialising a document of plain strings and maps cannot fail; an empty
    // object is still valid JSON should it ever.
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|_| "{}".to_owned())
}

pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_names_every_route() {
        let doc: serde_json::Value = serde_json::from_str(&document()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        for path in [
            "/stacks",
            "/stacks/{name}",
            "/stacks/{name}/apply",
            "/builds/{id}",
            "/stacks/{name}/health",
            "/stacks/{name}/nodes/{node}/waf",
            "/stacks/{name}/faults",
            "/stacks/{name}/drills",
            "/drills/{id}/halt",
            "/users",
            "/users/{name}",
            "/tokens",
            "/tokens/{id}",
            "/stacks/{name}/drift",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is documented");
        }
        assert_eq!(doc["components"]["schemas"]["BuildStatus"]["enum"][0], "running");
    }
}
