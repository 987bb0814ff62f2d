//! The definition form (new, edit, adopt): its sections and fields, with
//! what the user typed and what is wrong with it.

use askama::Template;
use askama_web::WebTemplate;

use crate::i18n;
use crate::stack::{self, Draft, FieldError, Warning};
use crate::web::Layout;
use crate::web::filters;
use crate::web::session::Principal;

/// One input of the form, with what the user typed and what is wrong with it.
pub struct Field {
    pub path: &'static str,
    pub label: String,
    pub value: String,
    pub error: Option<String>,
    pub warning: Option<String>,
    pub hint: String,
    pub options: &'static [&'static str],
    pub readonly: bool,
}

pub struct Section {
    pub title: String,
    pub intro: String,
    /// Column headings for a table section; empty for a plain list of fields.
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<Field>)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "stacks/form.html")]
pub struct FormPage {
    layout: Layout,
    editing: Option<String>,
    based_on: i64,
    sections: Vec<Section>,
    errors: Vec<FieldError>,
    problem: Option<String>,
    /// Set on the "adopt an existing stack" page: what was found so far.
    adopt: Option<super::adopt::Panel>,
}

impl FormPage {
    /// The same form on the adoption page, with what it found.
    pub(super) fn adopting(mut self, panel: super::adopt::Panel) -> FormPage {
        self.layout.title = i18n::text("stacks-adopt-title");
        self.adopt = Some(panel);
        self
    }
}

struct FormState<'a> {
    draft: &'a Draft,
    errors: &'a [FieldError],
    warnings: &'a [Warning],
    editing: bool,
}

impl FormState<'_> {
    fn field(&self, path: &'static str, label: String, hint: String) -> Field {
        Field {
            path,
            label,
            value: self.draft.get(path).to_owned(),
            error: self.errors.iter().find(|e| e.field == path).map(|e| e.message.clone()),
            warning: self.warnings.iter().find(|w| w.field == path).map(|w| w.message.clone()),
            hint,
            options: &[],
            readonly: self.editing && path == "name",
        }
    }

    fn select(&self, path: &'static str, label: String, options: &'static [&'static str]) -> Field {
        Field { options, ..self.field(path, label, String::new()) }
    }
}

fn list_section(title: String, intro: String, fields: Vec<Field>) -> Section {
    Section { title, intro, columns: Vec::new(), rows: vec![(String::new(), fields)] }
}

fn sections(s: &FormState<'_>) -> Vec<Section> {
    const SUBNETS: [(&str, [&str; 2]); 6] = [
        ("public-a", ["subnets.public-a.cidr", "subnets.public-a.az"]),
        ("public-b", ["subnets.public-b.cidr", "subnets.public-b.az"]),
        ("web-a", ["subnets.web-a.cidr", "subnets.web-a.az"]),
        ("web-b", ["subnets.web-b.cidr", "subnets.web-b.az"]),
        ("lbext-a", ["subnets.lbext-a.cidr", "subnets.lbext-a.az"]),
        ("lbext-b", ["subnets.lbext-b.cidr", "subnets.lbext-b.az"]),
    ];
    const INSTANCES: [(&str, [&str; 4]); 4] = [
        (
            "web-left (web-a)",
            [
                "instances.web-left.name",
                "instances.web-left.instance_type",
                "instances.web-left.ami",
                "instances.web-left.private_ip",
            ],
        ),
        (
            "web-right (web-b)",
            [
                "instances.web-right.name",
                "instances.web-right.instance_type",
                "instances.web-right.ami",
                "instances.web-right.private_ip",
            ],
        ),
        (
            "waf-left (public-a)",
            [
                "instances.waf-left.name",
                "instances.waf-left.instance_type",
                "instances.waf-left.ami",
                "instances.waf-left.private_ip",
            ],
        ),
        (
            "waf-right (public-b)",
            [
                "instances.waf-right.name",
                "instances.waf-right.instance_type",
                "instances.waf-right.ami",
                "instances.waf-right.private_ip",
            ],
        ),
    ];
    let none = String::new;
    vec![
        list_section(
            i18n::text("stacks-form-general"),
            i18n::text("stacks-form-general-intro"),
            vec![
                s.field("name", i18n::text("stacks-field-name"), i18n::text("stacks-field-name-hint")),
                s.select("provider", i18n::text("stacks-field-provider"), &["lab", "aws"]),
                s.field("aws.region", i18n::text("stacks-field-region"), i18n::text("stacks-field-region-hint")),
                s.field("aws.profile", i18n::text("stacks-field-profile"), i18n::text("stacks-field-profile-hint")),
                s.field(
                    "aws.endpoint_url",
                    i18n::text("stacks-field-endpoint"),
                    i18n::text("stacks-field-endpoint-hint"),
                ),
            ],
        ),
        list_section(
            i18n::text("stacks-form-network"),
            i18n::text("stacks-form-network-intro"),
            vec![
                s.field("vpc_cidr", i18n::text("stacks-field-vpc-cidr"), i18n::text("stacks-field-vpc-cidr-hint")),
                s.field("vpc_name", i18n::text("stacks-field-vpc-name"), none()),
                s.select("subnet_mode", i18n::text("stacks-field-subnet-mode"), &["tutorial", "protected"]),
                s.field(
                    "admin_cidr",
                    i18n::text("stacks-field-admin-cidr"),
                    i18n::text("stacks-field-admin-cidr-hint"),
                ),
            ],
        ),
        Section {
            title: i18n::text("stacks-form-subnets"),
            intro: i18n::text("stacks-form-subnets-intro"),
            columns: vec![i18n::text("stacks-form-col-cidr"), i18n::text("stacks-form-col-az")],
            rows: SUBNETS
                .iter()
                .map(|(key, [cidr, az])| {
                    let label = if key.starts_with("lbext") {
                        i18n::text_with("stacks-form-optional", &[("name", key)])
                    } else {
                        key.to_string()
                    };
                    (
                        label,
                        vec![
                            s.field(cidr, i18n::text("stacks-field-cidr"), none()),
                            s.field(az, i18n::text("stacks-field-az"), none()),
                        ],
                    )
                })
                .collect(),
        },
        Section {
            title: i18n::text("stacks-form-instances"),
            intro: i18n::text("stacks-form-instances-intro"),
            columns: vec![
                i18n::text("stacks-form-col-name"),
                i18n::text("stacks-form-col-type"),
                i18n::text("stacks-form-col-ami"),
                i18n::text("stacks-form-col-ip"),
            ],
            rows: INSTANCES
                .iter()
                .map(|(label, [name, ty, ami, ip])| {
                    (
                        label.to_string(),
                        vec![
                            s.field(name, i18n::text("stacks-field-instance-name"), none()),
                            s.field(ty, i18n::text("stacks-field-instance-type"), none()),
                            s.field(ami, i18n::text("stacks-field-instance-ami"), none()),
                            s.field(ip, i18n::text("stacks-field-instance-ip"), none()),
                        ],
                    )
                })
                .collect(),
        },
        list_section(
            i18n::text("stacks-form-waf"),
            i18n::text("stacks-form-waf-intro"),
            vec![s.select("waf.kind", i18n::text("stacks-field-appliance"), &["utm9", "sfos"])],
        ),
        list_section(
            i18n::text("stacks-form-lbs"),
            i18n::text("stacks-form-lbs-intro"),
            vec![
                s.field(
                    "load_balancers.external.name",
                    i18n::text("stacks-field-lb-external"),
                    i18n::text("stacks-field-lb-name-hint"),
                ),
                s.select(
                    "load_balancers.external.kind",
                    i18n::text("stacks-field-lb-external-kind"),
                    &["classic", "application", "network"],
                ),
                s.field(
                    "load_balancers.internal.name",
                    i18n::text("stacks-field-lb-internal"),
                    i18n::text("stacks-field-lb-name-hint"),
                ),
                s.select(
                    "load_balancers.internal.kind",
                    i18n::text("stacks-field-lb-internal-kind"),
                    &["classic", "application", "network"],
                ),
            ],
        ),
        list_section(
            i18n::text("stacks-form-sgs"),
            i18n::text("stacks-form-sgs-intro"),
            vec![
                s.field(
                    "security_groups.lbext",
                    i18n::text("stacks-field-sg-lbext"),
                    i18n::text("stacks-field-sg-lbext-hint"),
                ),
                s.field(
                    "security_groups.utm",
                    i18n::text("stacks-field-sg-utm"),
                    i18n::text("stacks-field-sg-utm-hint"),
                ),
                s.field(
                    "security_groups.lbint",
                    i18n::text("stacks-field-sg-lbint"),
                    i18n::text("stacks-field-sg-lbint-hint"),
                ),
                s.field(
                    "security_groups.web",
                    i18n::text("stacks-field-sg-web"),
                    i18n::text("stacks-field-sg-web-hint"),
                ),
            ],
        ),
        list_section(
            i18n::text("stacks-form-health"),
            i18n::text("stacks-form-health-intro"),
            vec![
                s.field(
                    "health_check.target",
                    i18n::text("stacks-field-hc-target"),
                    i18n::text("stacks-field-hc-target-hint"),
                ),
                s.field("health_check.interval", i18n::text("stacks-field-hc-interval"), none()),
                s.field("health_check.timeout", i18n::text("stacks-field-hc-timeout"), none()),
                s.field("health_check.healthy_threshold", i18n::text("stacks-field-hc-healthy"), none()),
                s.field("health_check.unhealthy_threshold", i18n::text("stacks-field-hc-unhealthy"), none()),
            ],
        ),
    ]
}

pub(super) fn form_page(
    user: Principal,
    editing: Option<String>,
    based_on: i64,
    draft: &Draft,
    errors: Vec<FieldError>,
    problem: Option<String>,
) -> FormPage {
    // Warnings are worth showing even while the form has errors, whenever the draft parses.
    let warnings = stack::parse(draft).map(|d| d.warnings()).unwrap_or_default();
    let state = FormState { draft, errors: &errors, warnings: &warnings, editing: editing.is_some() };
    let sections = sections(&state);
    let title = match &editing {
        Some(name) => i18n::text_with("stacks-form-edit-title", &[("name", name)]),
        None => i18n::text("stacks-form-new-title"),
    };
    FormPage {
        layout: Layout::new(title, "stacks", Some(user)),
        editing,
        based_on,
        sections,
        errors,
        problem,
        adopt: None,
    }
}
