use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{Extensions, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use ipnet::Ipv4Net;
use serde::Deserialize;

use crate::SharedApp;
use crate::i18n;
use crate::stack::{self, Draft, FieldError, StackError, Updated, Warning};
use crate::web::error::{Error, PageError};
use crate::web::filters;
use crate::web::session::{Operator, Principal, Viewer};
use crate::web::{Layout, format_ms};

// ---------- list ----------

pub struct StackLine {
    pub name: String,
    pub provider: String,
    pub region: String,
    pub vpc: String,
    pub version: i64,
    pub updated: String,
    pub built: bool,
    pub warnings: usize,
    pub score: u8,
}

#[derive(Template, WebTemplate)]
#[template(path = "stacks/list.html")]
pub struct ListPage {
    layout: Layout,
    stacks: Vec<StackLine>,
    notice: Option<String>,
    /// The first-run checklist; empty once every step is done.
    checklist: Vec<super::checklist::ChecklistItem>,
}

#[derive(Deserialize)]
pub struct Notice {
    done: Option<String>,
}

fn notice_text(done: Option<&str>, name: &str) -> Option<String> {
    match done? {
        "created" => Some(i18n::text_with("stacks-notice-created", &[("name", &name)])),
        "saved" => Some(i18n::text_with("stacks-notice-saved", &[("name", &name)])),
        "unchanged" => Some(i18n::text("stacks-notice-unchanged")),
        "deleted" => Some(i18n::text("stacks-notice-deleted")),
        "migrating" => Some(i18n::text_with("stacks-notice-migrating", &[("name", &name)])),
        "migrated" => Some(i18n::text("stacks-notice-migrated")),
        "replacing" => Some(i18n::text_with("stacks-notice-replacing", &[("name", &name)])),
        "accepted" => Some(i18n::text_with("stacks-notice-accepted", &[("name", &name)])),
        _ => None,
    }
}

pub async fn list(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Query(q): Query<Notice>,
) -> Result<ListPage, PageError> {
    let scores = crate::drill::score::all(&app.store).await.map_err(Error::from)?;
    let mut stacks = Vec::new();
    let all = stack::list(&app.store).await?;
    let checklist = super::checklist::checklist(&app, &all).await?;
    for s in all {
        let score = crate::drill::score::from_all(&scores, &s.row.name).score;
        stacks.push(StackLine {
            score,
            provider: s.definition.provider().as_str().to_owned(),
            region: s.definition.region().as_str().to_owned(),
            vpc: s.definition.vpc_cidr().to_string(),
            version: s.row.current_version,
            updated: format_ms(s.row.updated_at),
            built: s.is_built(),
            warnings: s.definition.warnings().len(),
            name: s.row.name,
        });
    }
    Ok(ListPage {
        layout: Layout::new(i18n::text("stacks-list-title"), "stacks", Some(user)),
        stacks,
        notice: notice_text(q.done.as_deref(), ""),
        checklist,
    })
}

// ---------- new / edit form ----------

pub(super) use super::stack_form::{FormPage, form_page};

/// The operator's own address as a /32: the seed opens 22 and 4444 to the
/// world, hawaf starts from "only me".
pub(super) fn operator_cidr(ext: &Extensions) -> Ipv4Net {
    let ip = match ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) {
        Some(IpAddr::V4(v4)) => v4,
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::LOCALHOST),
        None => Ipv4Addr::LOCALHOST,
    };
    Ipv4Net::from(ip)
}

pub async fn new_form(Operator(user): Operator, ext: Extensions) -> FormPage {
    let draft = stack::preset("", operator_cidr(&ext));
    form_page(user, None, 0, &draft, Vec::new(), None)
}

type Pairs = Form<Vec<(String, String)>>;

pub(super) fn admin_only(fields: &[&'static str]) -> Vec<FieldError> {
    fields.iter().map(|f| FieldError::new(*f, i18n::text("stacks-form-admin-only"))).collect()
}

fn based_on(pairs: &[(String, String)]) -> i64 {
    pairs.iter().find(|(k, _)| k == "based_on").and_then(|(_, v)| v.parse().ok()).unwrap_or(0)
}

pub async fn create(State(app): State<SharedApp>, Operator(user): Operator, Form(pairs): Pairs) -> Response {
    let draft = Draft::from_pairs(pairs);
    match stack::create(&app.store, user.author(&app.config.outbound), &draft).await {
        Ok(s) => Redirect::to(&format!("/stacks/{}?done=created", s.row.name)).into_response(),
        Err(StackError::Invalid(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, form_page(user, None, 0, &draft, errors, None)).into_response()
        }
        Err(StackError::AdminOnly(fields)) => {
            (StatusCode::FORBIDDEN, form_page(user, None, 0, &draft, admin_only(&fields), None)).into_response()
        }
        Err(StackError::Duplicate(name)) => {
            let message = i18n::text_with("stacks-form-duplicate", &[("name", &name)]);
            let errors = vec![FieldError::new("name", message)];
            (StatusCode::CONFLICT, form_page(user, None, 0, &draft, errors, None)).into_response()
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

pub async fn edit_form(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
) -> Result<FormPage, PageError> {
    let s = stack::load(&app.store, &name).await?;
    Ok(form_page(user, Some(name), s.row.current_version, &s.definition.to_draft(), Vec::new(), None))
}

pub async fn update(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(pairs): Pairs,
) -> Response {
    let based = based_on(&pairs);
    let draft = Draft::from_pairs(pairs);
    match stack::update(&app.store, user.author(&app.config.outbound), &name, based, &draft).await {
        Ok(Updated::NewVersion(_)) => Redirect::to(&format!("/stacks/{name}?done=saved")).into_response(),
        Ok(Updated::Unchanged(_)) => Redirect::to(&format!("/stacks/{name}?done=unchanged")).into_response(),
        Err(StackError::Invalid(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, form_page(user, Some(name), based, &draft, errors, None)).into_response()
        }
        Err(StackError::AdminOnly(fields)) => {
            let page = form_page(user, Some(name), based, &draft, admin_only(&fields), None);
            (StatusCode::FORBIDDEN, page).into_response()
        }
        Err(e @ StackError::Stale { current, .. }) => {
            // Keep what the user typed; the next save is based on the version they were shown about.
            let page = form_page(user, Some(name), current, &draft, Vec::new(), Some(e.to_string()));
            (StatusCode::CONFLICT, page).into_response()
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

// ---------- show / delete ----------

pub struct VersionLine {
    pub version: i64,
    pub by: String,
    pub at: String,
    pub changes: Vec<(String, String, String)>,
}

pub struct Row2 {
    pub key: String,
    pub cidr: String,
    pub az: String,
    pub used_by: String,
}

pub struct InstanceLine {
    pub role: &'static str,
    pub name: String,
    pub instance_type: String,
    pub ami: String,
    pub subnet: String,
    pub private_ip: String,
}

pub struct SgLine {
    pub name: String,
    pub for_what: String,
    pub ingress: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "stacks/show.html")]
pub struct ShowPage {
    layout: Layout,
    name: String,
    version: i64,
    provider: String,
    region: String,
    endpoint: String,
    vpc_cidr: String,
    vpc_name: String,
    subnet_mode: String,
    admin_cidr: String,
    subnets: Vec<Row2>,
    instances: Vec<InstanceLine>,
    /// "Sophos UTM 9 (utm9)" or "Sophos Firewall (sfos)".
    waf: String,
    lb_external: String,
    lb_external_subnets: String,
    lb_internal: String,
    groups: Vec<SgLine>,
    health: String,
    warnings: Vec<Warning>,
    versions: Vec<VersionLine>,
    built: bool,
    live_resources: i64,
    /// When it was taken over from a build made by hand (the reader's zone, to the minute).
    adopted_at: Option<String>,
    resilience: crate::contract::Resilience,
    /// Classic tiers that can move to ELBv2, and a migration awaiting its finish.
    classic_tiers: Vec<String>,
    pending: Vec<crate::contract::PendingTier>,
    /// The WAF nodes run UTM 9 (the appliance migration is offered).
    utm9: bool,
    /// The latest replacement of the WAF nodes, if any.
    appliance_run: Option<crate::contract::ApplianceRun>,
    notice: Option<String>,
    problem: Option<String>,
    confirm_value: String,
    ops_topology: String,
    ops_external: String,
    ops_internal: String,
    ops_nodes: String,
    drift_panel: String,
    ops_timeline: String,
    /// (what, address, is a link): DNS names, the lab site's URL, WAF consoles.
    endpoints: Vec<(String, String, bool)>,
}

impl ShowPage {
    /// "external and internal": the classic tiers, as the migration panel names them.
    fn classic_tiers_text(&self) -> String {
        self.classic_tiers.join(&format!(" {} ", i18n::text("stacks-and")))
    }
}

#[derive(Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(app): State<SharedApp>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<ShowPage, PageError> {
    let notice = notice_text(q.done.as_deref(), &name);
    show_page(&app, user, &name, notice, None, String::new()).await
}

async fn show_page(
    app: &SharedApp,
    user: Principal,
    name: &str,
    notice: Option<String>,
    problem: Option<String>,
    confirm_value: String,
) -> Result<ShowPage, PageError> {
    use stack::{InstanceRole, LbRole, SgRole, SubnetKey};
    let s = stack::load(&app.store, name).await?;
    let d = &s.definition;
    let rows = stack::versions(&app.store, &s).await?;
    let parsed: Vec<Option<stack::StackDefinition>> =
        rows.iter().map(|r| serde_json::from_str(&r.definition).ok()).collect();
    let versions = rows
        .iter()
        .enumerate()
        .map(|(i, r)| VersionLine {
            version: r.version,
            by: r.created_by.clone(),
            at: format_ms(r.created_at),
            // Rows are newest first, so the previous version is the next row.
            changes: match (parsed.get(i + 1).and_then(Option::as_ref), parsed[i].as_ref()) {
                (Some(old), Some(new)) => stack::diff(old, new),
                _ => Vec::new(),
            },
        })
        .collect();
    let used_by = |key: SubnetKey| match key {
        SubnetKey::PublicA | SubnetKey::PublicB if d.subnet(SubnetKey::LbextA).is_some() => {
            i18n::text("stacks-used-by-waf")
        }
        SubnetKey::PublicA | SubnetKey::PublicB => i18n::text("stacks-used-by-waf-lbext"),
        SubnetKey::WebA | SubnetKey::WebB => i18n::text("stacks-used-by-web"),
        SubnetKey::LbextA | SubnetKey::LbextB => i18n::text("stacks-used-by-lbext"),
    };
    let subnets = d
        .subnets()
        .iter()
        .map(|(key, sn)| Row2 {
            key: key.as_str().to_owned(),
            cidr: sn.cidr().to_string(),
            az: sn.az().as_str().to_owned(),
            used_by: used_by(key),
        })
        .collect();
    let instances = InstanceRole::ALL
        .iter()
        .map(|&role| {
            let p = d.placed(role);
            InstanceLine {
                role: role.as_str(),
                name: p.instance.name().as_str().to_owned(),
                instance_type: p.instance.instance_type().as_str().to_owned(),
                ami: p.instance.ami().as_str().to_owned(),
                subnet: format!("{} ({})", p.subnet_key.as_str(), p.subnet.cidr()),
                private_ip: p
                    .instance
                    .private_ip()
                    .map(|ip| ip.to_string())
                    .unwrap_or_else(|| i18n::text("stacks-ip-by-aws")),
            }
        })
        .collect();
    let admin = d.admin_cidr().to_string();
    let sg = |role: SgRole| d.security_group(role).as_str().to_owned();
    let rule = |port: &str, source: &str| i18n::text_with("stacks-sg-rule", &[("port", &port), ("source", &source)]);
    let groups = vec![
        SgLine {
            name: sg(SgRole::Lbext),
            for_what: i18n::text("stacks-sg-for-lbext"),
            ingress: vec![rule("tcp/80", "0.0.0.0/0")],
        },
        SgLine {
            name: sg(SgRole::Utm),
            for_what: i18n::text("stacks-sg-for-utm"),
            ingress: vec![rule("tcp/80", &sg(SgRole::Lbext)), rule("tcp/4444", &admin)],
        },
        SgLine {
            name: sg(SgRole::Lbint),
            for_what: i18n::text("stacks-sg-for-lbint"),
            ingress: vec![rule("tcp/80", &sg(SgRole::Utm))],
        },
        SgLine {
            name: sg(SgRole::Web),
            for_what: i18n::text("stacks-sg-for-web"),
            ingress: vec![rule("tcp/80", &sg(SgRole::Lbint)), rule("tcp/22", &admin)],
        },
    ];
    let can_operate = user.role >= crate::auth::Role::Operator;
    let ops = super::ops::ops(app, &s, can_operate, &user.csrf).await?;
    let drift_panel =
        if s.is_built() { super::drift::panel_html(app, name, can_operate, &user.csrf).await? } else { String::new() };
    let endpoints = super::ops::endpoints(app, &s).await?;
    let internal = |e: askama::Error| Error::internal(e);
    let hc = d.health_check();
    // Built before the page: the arguments borrow values that cannot be held across an await.
    let health = i18n::text_with(
        "stacks-health-value",
        &[
            ("target", hc.target()),
            ("interval", &hc.interval()),
            ("timeout", &hc.timeout()),
            ("healthy", &hc.healthy_threshold()),
            ("unhealthy", &hc.unhealthy_threshold()),
        ],
    );
    let lb_subnets = d.lb_subnets(LbRole::External).iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ");
    Ok(ShowPage {
        layout: Layout::new(name.to_owned(), "stacks", Some(user)),
        name: name.to_owned(),
        version: s.row.current_version,
        provider: d.provider().as_str().to_owned(),
        region: d.region().as_str().to_owned(),
        endpoint: d.aws().endpoint_url().map(|u| u.as_str().to_owned()).unwrap_or_default(),
        vpc_cidr: d.vpc_cidr().to_string(),
        vpc_name: d.vpc_name().as_str().to_owned(),
        subnet_mode: d.subnet_mode().as_str().to_owned(),
        admin_cidr: admin,
        subnets,
        instances,
        waf: format!("{} ({})", d.waf_kind().title(), d.waf_kind().as_str()),
        lb_external: format!(
            "{} ({})",
            d.load_balancer(LbRole::External).as_str(),
            d.lb_kind(LbRole::External).title()
        ),
        lb_external_subnets: lb_subnets,
        lb_internal: format!(
            "{} ({})",
            d.load_balancer(LbRole::Internal).as_str(),
            d.lb_kind(LbRole::Internal).title()
        ),
        groups,
        health,
        warnings: d.warnings(),
        versions,
        built: s.is_built(),
        live_resources: s.row.live_resources,
        resilience: crate::drill::score::of(&app.store, s.row.id).await.map_err(Error::from)?,
        classic_tiers: LbRole::ALL
            .iter()
            .filter(|r| d.lb_kind(**r) == crate::cloud::LbKind::Classic)
            .map(|r| crate::build::lb_key(*r).to_owned())
            .collect(),
        pending: if s.is_built() { crate::migrate::pending(app, &s).await.map_err(Error::from)? } else { Vec::new() },
        utm9: d.waf_kind() == crate::waf::WafKind::Utm9,
        appliance_run: crate::migrate::appliance::last_run(app, s.row.id).await.map_err(Error::from)?,
        adopted_at: s.row.adopted_at.map(|t| format_ms(t).chars().take(16).collect()),
        notice,
        problem,
        confirm_value,
        ops_topology: ops.topology_html().map_err(internal)?,
        ops_external: ops.tier_html(0).map_err(internal)?,
        ops_internal: ops.tier_html(1).map_err(internal)?,
        ops_nodes: ops.nodes_html().map_err(internal)?,
        drift_panel,
        ops_timeline: ops.timeline_html().map_err(internal)?,
        endpoints,
    })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(app): State<SharedApp>,
    Operator(user): Operator,
    Path(name): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, PageError> {
    if form.confirm.trim() != name {
        let problem = Some(i18n::text_with("stacks-delete-confirm", &[("name", &name)]));
        let page = show_page(&app, user, &name, None, problem, form.confirm).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match stack::delete(&app.store, &user.username, &name).await {
        Ok(()) => Ok(Redirect::to("/stacks?done=deleted").into_response()),
        Err(e @ StackError::Built { .. }) => {
            let page = show_page(&app, user, &name, None, Some(e.to_string()), form.confirm).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(e) => Err(Error::from(e).into()),
    }
}
