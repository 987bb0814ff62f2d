//! The `/api/v1` contract as types: what the server sends and the CLI and
//! the tests read, in one place, so the three cannot drift apart. The JSON
//! each type makes is SPEC.md's (field names are binding; more are welcome).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A status column's value as an enum; `parse` takes the stored spelling.
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum!(
    /// What a build does.
    BuildKind { Apply => "apply", Destroy => "destroy", Adopt => "adopt" }
);

status_enum!(
    /// Where a build stands.
    BuildStatus { Running => "running", Succeeded => "succeeded", Failed => "failed", Interrupted => "interrupted" }
);

status_enum!(
    /// Where one of a build's steps stands.
    StepStatus {
        Pending => "pending",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Skipped => "skipped",
        Interrupted => "interrupted",
    }
);

status_enum!(
    /// What started a drill: the dashboard, the API (and CLI), or a schedule.
    DrillTrigger { Manual => "manual", Api => "api", Schedule => "schedule" }
);

status_enum!(
    /// Where a drill stands.
    DrillStatus { Running => "running", Finished => "finished", Halted => "halted", Aborted => "aborted" }
);

status_enum!(
    /// A finished drill's result.
    Verdict { Pass => "pass", Fail => "fail" }
);

status_enum!(
    /// Whether what the provider reports still matches the stack.
    DriftStatus { InSync => "in_sync", Drifted => "drifted", Unknown => "unknown" }
);

status_enum!(
    /// One resource against what the stack says it should be.
    ResourceState { InSync => "in_sync", Modified => "modified", Deleted => "deleted", Added => "added" }
);

status_enum!(
    /// A property difference, as CloudFormation's drift detection words it:
    /// `add` is live but not expected, `remove` expected but not live.
    DifferenceType { Add => "add", Remove => "remove", NotEqual => "not_equal" }
);

/// Ordered: each role can do everything the one before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

/// `202` to `POST /stacks/{name}/apply`, `/destroy`, `/builds/{id}/resume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BuildAccepted {
    pub build_id: i64,
}

/// `202` to `POST /stacks/{name}/drills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillAccepted {
    pub drill_id: i64,
}

/// One cloud (or UTM) call a build step made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Call {
    pub operation: String,
    pub target: String,
    pub outcome: String,
    pub duration_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Step {
    pub number: i64,
    pub title: String,
    pub status: StepStatus,
    pub progress: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub calls: Vec<Call>,
}

/// `GET /builds/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Build {
    pub build_id: i64,
    pub stack: String,
    pub version: i64,
    pub kind: BuildKind,
    pub status: BuildStatus,
    pub started_by: String,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub error: Option<String>,
    pub resumed_from: Option<i64>,
    pub steps: Vec<Step>,
}

/// One row of `GET /stacks/{name}/drills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillSummary {
    pub drill_id: i64,
    pub scenario: String,
    pub status: DrillStatus,
    pub verdict: Option<Verdict>,
    pub trigger: DrillTrigger,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// `POST /stacks/{name}/nodes/{node}/waf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WafRequest {
    pub enabled: bool,
    #[serde(default)]
    pub confirm: Option<String>,
}

/// The WAF switch as read back from the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WafState {
    pub stack: String,
    pub node: String,
    pub enabled: bool,
}

/// `POST /stacks/{name}/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    pub node: String,
    pub fault: String,
    #[serde(default)]
    pub confirm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FaultDone {
    pub stack: String,
    pub node: String,
    pub fault: String,
    pub done: bool,
}

/// `POST /stacks/{name}/nodes/{node}/access`: trust on first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequest {
    pub api_url: String,
    /// UTM 9: the REST API token. Sophos Firewall: the administrator's password.
    pub token: String,
    /// Sophos Firewall only: the administrator the API signs in as.
    #[serde(default)]
    pub username: Option<String>,
    /// The SHA-256 the operator confirmed (hex, with or without colons).
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessSaved {
    pub stack: String,
    pub node: String,
    pub pinned: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BuildState {
    Built,
    NotBuilt,
}

/// A stack as `GET /stacks` and `GET /stacks/{name}` answer it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StackView {
    /// Where a built lab stack is reached from this host (`external`).
    pub endpoints: BTreeMap<String, String>,
    pub name: String,
    pub version: i64,
    /// The definition as SPEC.md's stack definition shape.
    #[schema(value_type = Object)]
    pub definition: Value,
    pub warnings: Vec<FieldMessage>,
    pub build_state: BuildState,
    pub live_resources: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// RFC 3339, when hawaf took the stack over from a build made by hand;
    /// absent for a stack hawaf built. Its teardown asks for the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_at: Option<String>,
    /// 0–100, from the latest drill of each scenario (see `resilience`).
    #[serde(default)]
    pub resilience_score: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resilience: Option<Resilience>,
}

/// A message about one field of a definition (warnings and errors alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// Every error answer: a stable code and a message; an invalid definition
/// also lists its fields' errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldMessage>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, …
    pub code: String,
    pub message: String,
}

/// A stack definition (SPEC.md's shape; every field but `name` has a
/// default, and PUT keeps the current version's values for omitted ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Definition(pub Value);

/// `GET /stacks/{name}/health`: both tiers and the WAF switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub stack: String,
    pub tiers: Tiers,
    /// Per WAF node, its switch as read back from the node.
    pub waf: BTreeMap<String, WafSwitch>,
    /// RFC 3339.
    pub polled_at: String,
    /// Why the last poll failed, and since when polls have been failing.
    pub error: Option<String>,
    pub error_since: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Tiers {
    pub external: TierHealth,
    pub internal: TierHealth,
}

/// One load balancer's view, in the AWS console's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierHealth {
    pub lb: String,
    pub in_service: usize,
    pub total: usize,
    pub instances: Vec<InstanceHealthView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InstanceHealthView {
    pub name: String,
    pub id: String,
    /// `InService`, `OutOfService` or `Unknown`.
    pub state: String,
    pub reason: String,
    /// RFC 3339: when `state` last changed.
    pub since: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WafSwitch {
    /// None when the node could not be read.
    pub enabled: Option<bool>,
    pub since: String,
    pub error: Option<String>,
    /// The node's firmware as it reports it (`9.719-3`), once read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    /// The end of life of the firmware's product line (`2026-06-30` for UTM 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<String>,
    /// The node's `ha.mode` (`off` for the independent nodes this pattern needs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha_mode: Option<String>,
}

/// `GET /drills/{id}`: status, phases, figures, verdict (SPEC.md's drill
/// shape, and more). Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Drill {
    pub drill_id: i64,
    pub stack: String,
    /// `D1` … `D5`.
    pub scenario: String,
    pub status: DrillStatus,
    pub verdict: Option<Verdict>,
    /// What started it; `started_by` says who (or which schedule).
    pub trigger: DrillTrigger,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub phases: Vec<DrillPhase>,
    pub total: DrillFigures,
    pub rounds: Vec<DrillRound>,
    pub marks: Vec<DrillMark>,
    /// The worst round's: fault until the LB reports the node out of service.
    pub mttd_ms: Option<i64>,
    /// The worst round's: restore until the node is back and serving.
    pub mttr_ms: Option<i64>,
    /// The lowest availability the failure budget allows (continuity drills).
    pub availability_floor: Option<f64>,
    pub budget: DrillBudget,
    pub settings: DrillSettings,
    /// The verdict's lines.
    pub checks: Vec<DrillCheck>,
    /// The stack's policy as the drill ran under it, target by target.
    #[serde(default)]
    pub policy: Vec<PolicyResult>,
    /// Against the previous finished run of the same scenario on the stack.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// Added after the fact (e.g. a restore carried out at start-up); empty if none.
    pub note: String,
    /// No restore of this drill is pending.
    pub restored: bool,
}

/// One phase of a drill (baseline, detect, hold, recover, verify) and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrillPhase {
    pub name: String,
    /// `baseline`, `detect`, `hold`, `recover` or `verify`.
    pub kind: String,
    pub round: Option<usize>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    #[serde(flatten)]
    pub figures: DrillFigures,
}

/// What the prober saw over a span of the drill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrillFigures {
    pub requests: u64,
    /// Percent of requests answered 200 by a web server.
    pub availability: f64,
    /// Failed requests per cause (`connect`, `timeout`, `http-502`, …).
    pub errors: BTreeMap<String, u64>,
    /// Answers per web server Name.
    pub split: BTreeMap<String, u64>,
    /// The same, in percent of the answered requests.
    pub split_pct: BTreeMap<String, f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// One round of faults: which nodes, and how long detection and recovery took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillRound {
    pub nodes: Vec<String>,
    pub mttd_ms: Option<i64>,
    pub mttr_ms: Option<i64>,
    pub failures: u64,
    pub allowed_failures: u64,
}

/// A moment of the run: `fault`, `detected`, `restore` or `recovered`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillMark {
    pub kind: String,
    pub round: usize,
    pub at: i64,
}

/// How many failed requests a fault may cost: one detection window's worth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillBudget {
    pub window_ms: u64,
    pub allowed_failures: u64,
}

/// The settings the drill ran with, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillSettings {
    pub rate: u32,
    pub baseline_ms: u64,
    pub hold_ms: u64,
    pub verify_ms: u64,
    pub phase_timeout_ms: u64,
    pub target_url: String,
}

/// One line of the verdict: what was checked, and whether it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DrillCheck {
    pub ok: bool,
    pub text: String,
}

/// `POST /stacks/{name}/drills`: every setting but the scenario has a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillRequest {
    /// `D1` … `D5`.
    pub scenario: String,
    /// The stack's name, for a scenario that stops the site (D4).
    #[serde(default)]
    pub confirm: Option<String>,
    /// Probes per second.
    #[serde(default)]
    pub rate: Option<u32>,
    #[serde(default)]
    pub baseline_ms: Option<u64>,
    #[serde(default)]
    pub hold_ms: Option<u64>,
    #[serde(default)]
    pub verify_ms: Option<u64>,
    /// The longest a wait for the LB (detection, recovery) may take.
    #[serde(default)]
    pub phase_timeout_ms: Option<u64>,
    /// Run even if the drift check before it finds the stack drifted
    /// (a drill on a drifted stack proves little).
    #[serde(default)]
    pub allow_drift: bool,
}

/// A user as `GET /users` lists them (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    /// Set by a reset or a generated password: changed at the next sign-in.
    pub must_change_password: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// `POST /users`. Without a password one is generated and answered once;
/// either way the user changes it at their first sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    #[serde(default)]
    pub password: Option<String>,
}

/// `201` to `POST /users`, `200` to a `PATCH` that reset a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserSaved {
    pub user: User,
    /// The generated password, shown this once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `PATCH /users/{name}`: any of a role, access, or a password reset
/// (`reset_password: true` generates one). Taking away the last enabled
/// admin is refused (409); a change of role or access ends the user's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
    /// A new password chosen by the admin, to be changed at the next sign-in.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub reset_password: bool,
}

/// An API token as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: i64,
    pub username: String,
    pub name: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// None for tokens made before tokens expired.
    pub expires_at: Option<i64>,
}

/// `POST /tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    /// 1 to 365; 90 when omitted.
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// Admins only: whose token (default: the caller's).
    #[serde(default)]
    pub user: Option<String>,
}

/// `201` to `POST /tokens`: the secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub token: String,
    pub expires_at: i64,
}

/// `202` to `POST /stacks/{name}/reconcile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconcileAccepted {
    /// The build that puts back what the definition says (only the steps
    /// that own drifted resources).
    pub build_id: i64,
    /// Differences no step puts back, and why.
    pub cannot_reconcile: Vec<String>,
}

/// `GET /stacks/{name}/reconcile`: what a reconcile would do, read from the
/// last drift check (a reconcile checks again first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconcilePlan {
    pub stack: String,
    pub status: DriftStatus,
    pub checked_at: Option<String>,
    /// The apply steps it would run.
    pub steps: Vec<u8>,
    /// The calls that put each difference back, tags first.
    pub calls: Vec<String>,
    /// Differences no step puts back, and why.
    pub cannot_reconcile: Vec<String>,
}

/// `GET /stacks/{name}/export/cloudformation`: a CloudFormation template,
/// sent as YAML (`AWSTemplateFormatVersion`, `Parameters`, `Resources`, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub struct CloudFormationTemplate(pub Value);

/// `POST /stacks/{name}/drift/accept`: which drifted resources' live values
/// to take into a new version of the definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    /// Resource names from the last drift report, e.g. `instance/web-left`.
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AcceptAnswer {
    /// The new version; None if nothing could be taken.
    pub version: Option<i64>,
    /// `field = value` taken into the definition.
    pub accepted: Vec<String>,
    /// Differences the definition cannot express, and why.
    pub cannot_accept: Vec<String>,
}

/// `GET`/`POST /stacks/{name}/drift`: the stack against what the provider
/// reports (the last check, or one run now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftReport {
    pub stack: String,
    pub status: DriftStatus,
    /// RFC 3339; None when the stack was never checked.
    pub checked_at: Option<String>,
    /// Every resource checked, drifted ones first.
    pub resources: Vec<ResourceDrift>,
    /// Calls that failed or timed out: what could not be checked.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResourceDrift {
    /// hawaf's name for it: `vpc`, `subnet/web-a`, `sg/web`, `instance/waf-left`, `lb/external`, …
    pub resource: String,
    /// `AWS::EC2::SecurityGroup`, `AWS::ElasticLoadBalancing::LoadBalancer`, …
    pub kind: String,
    /// Its Name (tag, group or load balancer name).
    pub name: String,
    pub physical_id: Option<String>,
    pub state: ResourceState,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Difference {
    /// The property, e.g. `ingress`, `instance_type`, `health_check.target`.
    pub path: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
    #[serde(rename = "type")]
    pub kind: DifferenceType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_travel_in_their_stored_spelling() {
        for s in BuildStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(BuildStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(serde_json::to_value(BuildState::NotBuilt).unwrap(), "not_built");
        assert_eq!(StepStatus::parse("skipped"), Some(StepStatus::Skipped));
        assert_eq!(DrillStatus::parse("paused"), None);
    }

    #[test]
    fn a_step_without_an_error_has_no_error_key() {
        let step = Step {
            number: 1,
            title: "VPC".into(),
            status: StepStatus::Succeeded,
            progress: String::new(),
            error: None,
            calls: vec![],
        };
        let v = serde_json::to_value(&step).unwrap();
        assert!(v.get("error").is_none());
        assert_eq!(v["status"], "succeeded");
    }
}

/// `POST /stacks/{name}/destroy`: the name typed, which an adopted stack's
/// teardown requires (it deletes what hawaf did not create).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DestroyRequest {
    pub confirm: Option<String>,
}

/// `POST /stacks/{name}/adopt`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptRequest {
    /// The stack as it was built by hand, with the names used in the
    /// console; omitted fields take the stack's current definition, or the
    /// seed preset's for a new stack (whose names are the tutorial's).
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    /// Only look (the default, unless `confirm` names the stack).
    pub dry_run: Option<bool>,
    /// The stack's name: tag what was found and record it as built.
    pub confirm: Option<String>,
}

status_enum!(
    /// What adoption found for one resource of the definition.
    AdoptStatus {
        Found => "found",
        Missing => "missing",
        Ambiguous => "ambiguous",
        Owned => "owned",
        Mismatch => "mismatch",
    }
);

/// One resource of the definition, looked for by its console name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdoptResource {
    /// hawaf's name for it: `vpc`, `subnet/web-a`, `sg/web`, `instance/waf-left`, `lb/external`, …
    pub resource: String,
    /// CloudFormation type, e.g. `AWS::EC2::Subnet`.
    pub kind: String,
    /// How it was looked for: `Name tag ha-vpc`, `CIDR 10.0.0.0/24 in vpc-…`, …
    pub looked_for: String,
    pub status: AdoptStatus,
    /// The one match (found, owned or mismatch).
    pub id: Option<String>,
    /// Every match, when more than one.
    pub candidates: Vec<String>,
    /// Why it cannot be adopted (owner, differing value), or what is noted.
    pub detail: Option<String>,
    /// The tags adoption writes on it (`key=value`).
    pub tags: Vec<String>,
}

/// What adoption found, and, when confirmed, the build that records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdoptAnswer {
    pub stack: String,
    pub dry_run: bool,
    /// Every resource found exactly once, unowned, matching the definition.
    pub adoptable: bool,
    pub resources: Vec<AdoptResource>,
    /// The adoption's build (kind `adopt`), when confirmed.
    pub build_id: Option<i64>,
    /// What adoption does not take over, and what to do about it.
    pub notes: Vec<String>,
}

/// `GET /safety-lever`: whether drills may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SafetyLever {
    pub engaged: bool,
    /// Why it was engaged (empty when released).
    pub reason: String,
    pub changed_by: Option<String>,
    /// RFC 3339; None when it was never set.
    pub since: Option<String>,
}

/// `POST /safety-lever`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyLeverRequest {
    pub engaged: bool,
    /// Required to engage.
    #[serde(default)]
    pub reason: String,
}

/// `POST /safety-lever`'s answer: the new state and the drills it halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SafetyLeverChanged {
    #[serde(flatten)]
    pub lever: SafetyLever,
    pub halted_drills: Vec<i64>,
}

/// A window in which a schedule must not start a drill (UTC). `days` are
/// `mon` … `sun` (empty: every day); `to` before `from` spans midnight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Blackout {
    #[serde(default)]
    pub days: Vec<String>,
    /// `HH:MM`.
    pub from: String,
    /// `HH:MM`.
    pub to: String,
}

/// `POST /stacks/{name}/schedules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// `D1` … `D3`, `D5`, or the name of one of the stack's custom drills (D4,
    /// and a custom drill that takes a whole tier down, stop the site and are
    /// never scheduled).
    pub scenario: String,
    /// Five fields (minute hour day-of-month month day-of-week), UTC.
    pub cron: String,
    #[serde(default)]
    pub blackouts: Vec<Blackout>,
    #[serde(default)]
    pub suspended: bool,
}

/// `PATCH /schedules/{id}`: what is given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    pub cron: Option<String>,
    pub blackouts: Option<Vec<Blackout>>,
    pub suspended: Option<bool>,
}

/// One slot a schedule reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleRun {
    pub at: String,
    /// `started` or `skipped`.
    pub outcome: String,
    pub drill_id: Option<i64>,
    /// Why it skipped (unhealthy, drifted, a drill running, the lever, a blackout).
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    pub id: i64,
    pub stack: String,
    pub scenario: String,
    pub cron: String,
    /// The cron expression in words.
    pub description: String,
    pub blackouts: Vec<Blackout>,
    pub suspended: bool,
    /// The next slots (RFC 3339, UTC) outside the blackouts; none while suspended.
    pub next_runs: Vec<String>,
    /// The latest slots reached, newest first.
    pub recent: Vec<ScheduleRun>,
    pub created_by: String,
    pub created_at: String,
}

/// A stack's resilience score and what it is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resilience {
    /// 0–100.
    pub score: u8,
    pub parts: Vec<ResiliencePart>,
}

/// One scenario's share of the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResiliencePart {
    pub scenario: String,
    pub weight: u32,
    /// The latest finished drill's verdict; None if it never ran.
    pub verdict: Option<String>,
    pub age_days: Option<i64>,
    /// Percent of its weight it carries now (fading after 30 days).
    pub credit: u8,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// http(s); never a link-local or metadata address.
    pub url: String,
    /// 16–256 characters; signs every body (`X-Hawaf-Signature`). Never shown again.
    pub secret: String,
    /// Event names, or `*` for all: drill.started, drill.phase, drill.deviated,
    /// drill.finished, drill.halted, stack.health_changed, stack.drifted, safety_lever.changed.
    pub events: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    /// The latest deliveries, newest first.
    pub deliveries: Vec<WebhookDelivery>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    pub id: i64,
    pub event: String,
    /// `pending` (retried with back-off for 24 h), `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// The receiver's last status code.
    pub last_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

/// `GET/PUT /stacks/{name}/policy`: what every drill on the stack is judged
/// against. An absent target is not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Percent of requests answered in every phase but the fault's own
    /// detection window (which the failure budget covers).
    pub availability_floor: Option<f64>,
    pub max_mttd_ms: Option<i64>,
    pub max_mttr_ms: Option<i64>,
    /// Over the whole drill.
    pub max_p99_ms: Option<f64>,
}

/// One policy target as a drill met it or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyResult {
    pub target: String,
    pub limit: String,
    pub actual: String,
    pub met: bool,
}

/// A drill against the previous finished run of the same scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Comparison {
    pub previous_drill_id: i64,
    pub previous_mttr_ms: Option<i64>,
    pub mttr_ms: Option<i64>,
    pub previous_failed: u64,
    pub failed: u64,
    /// MTTR or failed requests grew by more than 20%.
    pub regression: bool,
}

/// What must hold for a custom drill to pass, beyond both tiers being in
/// service before and serving after (always checked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    /// Percent of requests answered in every phase outside a fault's
    /// detection window.
    pub availability_floor: Option<f64>,
}

/// One step of a custom drill's method: a fault on a named node, held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodStep {
    /// The node's name in the definition, e.g. `ha-web-left`.
    pub node: String,
    /// `waf-off`, `stop-httpd`, `stop-instance` or `isolate` (each is undone by the rollback).
    pub action: String,
    /// How long the fault holds once detected (default: the drill's hold).
    pub hold_ms: Option<u64>,
    /// Injected together with the step before, as one round.
    #[serde(default)]
    pub with_previous: bool,
}

/// `POST /stacks/{name}/drill-definitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrillDefinitionRequest {
    /// How it is started: `"scenario": name`. Lowercase letters, digits, hyphens.
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub hypothesis: Hypothesis,
    pub method: Vec<MethodStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DrillDefinition {
    pub name: String,
    pub title: String,
    pub hypothesis: Hypothesis,
    pub method: Vec<MethodStep>,
    /// Rollback: always; every fault is undone at the end, on halt and on failure.
    pub rollback: String,
    /// It takes a tier's last path down: starting it needs the stack's name typed.
    pub needs_confirmation: bool,
    /// Why it cannot run against the stack as it is now (a node renamed
    /// since it was saved); empty when it can.
    #[serde(default)]
    pub problems: Vec<String>,
    pub created_by: String,
    pub created_at: String,
}

/// `POST /stacks/{name}/migration`: move classic tiers to ELBv2, blue/green.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationRequest {
    /// `application` or `network` (load balancers), or `sfos` (WAF nodes).
    pub to: String,
    /// `external`, `internal` or both (the default: empty).
    #[serde(default)]
    pub tiers: Vec<String>,
    /// `to: sfos`: the Sophos Firewall AMI (the lab's own by default).
    #[serde(default)]
    pub image: Option<String>,
}

/// One tier's part of a migration plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TierMigration {
    pub tier: String,
    pub from_kind: String,
    pub from_name: String,
    pub to_kind: String,
    pub to_name: String,
    /// What is created, in the console's words.
    pub creates: Vec<String>,
    /// What changes for clients (the DNS name, addresses seen by the WAF).
    pub client_changes: Vec<String>,
    pub health_check: Vec<String>,
    pub cost: Vec<String>,
}

/// A tier whose old load balancer still runs, awaiting the finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PendingTier {
    pub tier: String,
    pub previous: String,
    pub current: String,
    pub current_kind: String,
}

/// One WAF node's replacement in an appliance migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeReplacement {
    pub node: String,
    /// `pending`, `replacing`, `done`, `failed` or `waiting` (for credentials).
    pub status: String,
    pub from_instance: String,
    #[serde(default)]
    pub to_instance: Option<String>,
    /// The node that served alone meanwhile.
    pub served_by: String,
    /// Requests to the external load balancer while this node was out, and
    /// how many of them failed.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub failed_requests: u64,
    #[serde(default)]
    pub duration_ms: u64,
    /// What was done, in order.
    #[serde(default)]
    pub log: Vec<String>,
}

/// An appliance migration (`to: sfos`): its nodes, one at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApplianceRun {
    pub id: i64,
    pub stack: String,
    /// `running`, `succeeded`, `failed`, `waiting` or `interrupted`.
    pub status: String,
    pub to: String,
    pub image: String,
    pub started_by: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    pub nodes: Vec<NodeReplacement>,
    #[serde(default)]
    pub error: Option<String>,
    /// The definition version saved at the end (waf.kind and the new image).
    #[serde(default)]
    pub version: Option<i64>,
}

/// `GET /stacks/{name}/migration?to=application|network[&tiers=external]`
/// or `?to=sfos` (the WAF nodes, one at a time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MigrationPlan {
    pub stack: String,
    pub to: String,
    pub tiers: Vec<TierMigration>,
    /// `to: sfos`: the nodes, in the order they are replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// `to: sfos`: the latest run of it on this stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<ApplianceRun>,
    /// What `POST` does, in order.
    pub steps: Vec<String>,
    /// Why it cannot start now; empty when it can.
    pub refusals: Vec<String>,
    /// A migration started earlier and not yet finished.
    pub pending: Vec<PendingTier>,
}

/// The answer to `POST /stacks/{name}/migration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MigrationAccepted {
    /// The apply build that creates the new tiers; D1 follows it (0 for `to: sfos`).
    pub build_id: i64,
    /// `to: sfos`: the run that replaces the nodes (follow it with GET ?to=sfos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// The definition version with the new tiers.
    pub version: i64,
    pub plan: MigrationPlan,
}

/// `POST /stacks/{name}/migration/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationFinish {
    /// The stack's name, typed.
    #[serde(default)]
    pub confirm: Option<String>,
}

/// The answer to `POST /stacks/{name}/migration/finish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MigrationFinished {
    /// The old load balancers removed.
    pub removed: Vec<String>,
    /// Per WAF node, the objects deleted that only the old tiers used.
    pub waf_objects: Vec<String>,
}
