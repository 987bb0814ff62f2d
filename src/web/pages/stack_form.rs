//! The definition form (new, edit, adopt): its sections and fields, with
//! what the user typed and what is wrong with it.

use askama::Template;
use askama_web::WebTemplate;

use crate::stack::{self, Draft, FieldError, Warning};
use crate::web::filters;
use crate::web::Layout;
use crate::web::session::Principal;

/// One input of the form, with what the user typed and what is wrong with it.
pub struct Field {
    pub path: &'static str,
    pub label: &'static str,
    pub value: String,
    pub error: Option<String>,
    pub warning: Option<String>,
    pub hint: &'static str,
    pub options: &'static [&'static str],
    pub readonly: bool,
}

pub struct Section {
    pub title: &'static str,
    pub intro: &'static str,
    /// Column headings for a table section; empty for a plain list of fields.
    pub columns: Vec<&'static str>,
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
        self.layout.title = "Adopt an existing stack".to_owned();
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
    fn field(&self, path: &'static str, label: &'static str, hint: &'static str) -> Field {
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

    fn select(&self, path: &'static str, label: &'static str, options: &'static [&'static str]) -> Field {
        Field { options, ..self.field(path, label, "") }
    }
}

fn list_section(title: &'static str, intro: &'static str, fields: Vec<Field>) -> Section {
    Section { title, intro, columns: Vec::new(), rows: vec![(String::new(), fields)] }
}

fn sections(s: &FormState<'_>) -> Vec<Section> {
    const SUBNETS: [(&str, [&str; 2]); 6] = [
        ("public-a", ["subnets.public-a.cidr", "subnets.public-a.az"]),
        ("public-b", ["subnets.public-b.cidr", "subnets.public-b.az"]),
        ("web-a", ["subnets.web-a.cidr", "subnets.web-a.az"]),
        ("web-b", ["subnets.web-b.cidr", "subnets.web-b.az"]),
        ("lbext-a (optional)", ["subnets.lbext-a.cidr", "subnets.lbext-a.az"]),
        ("lbext-b (optional)", ["subnets.lbext-b.cidr", "subnets.lbext-b.az"]),
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
    vec![
        list_section(
            "General",
            "The stack name tags every resource (hawaf:stack) and cannot change later.",
            vec![
                s.field("name", "Stack name", "lowercase letters, digits and hyphens; up to 32"),
                s.select("provider", "Provider", &["lab", "aws"]),
                s.field("aws.region", "AWS region", "e.g. us-east-1"),
                s.field("aws.profile", "AWS profile", "optional; default credential chain when empty"),
                s.field("aws.endpoint_url", "Endpoint URL", "optional; an emulator such as moto"),
            ],
        ),
        list_section(
            "Network",
            "Step 1 creates the VPC with an internet gateway.",
            vec![
                s.field("vpc_cidr", "VPC CIDR", "/16 to /28"),
                s.field("vpc_name", "VPC name", ""),
                s.select("subnet_mode", "Subnet mode", &["tutorial", "protected"]),
                s.field("admin_cidr", "Admin CIDR", "who may reach SSH (22) and UTM WebAdmin (4444)"),
            ],
        ),
        Section {
            title: "Subnets",
            intro: "Step 2. Each tier spans two availability zones. Leave lbext-a/b empty to put the external LB in the public subnets, as the seed does.",
            columns: vec!["CIDR", "Availability zone"],
            rows: SUBNETS
                .iter()
                .map(|(label, [cidr, az])| (label.to_string(), vec![s.field(cidr, "CIDR", ""), s.field(az, "AZ", "")]))
                .collect(),
        },
        Section {
            title: "Instances",
            intro: "Steps 4 and 6. WAF nodes need fixed private IPs (the seed pins them by hand); web servers may leave theirs empty.",
            columns: vec!["Name", "Instance type", "AMI", "Private IP"],
            rows: INSTANCES
                .iter()
                .map(|(label, [name, ty, ami, ip])| {
                    (
                        label.to_string(),
                        vec![
                            s.field(name, "Name", ""),
                            s.field(ty, "Type", ""),
                            s.field(ami, "AMI", ""),
                            s.field(ip, "Private IP", ""),
                        ],
                    )
                })
                .collect(),
        },
        list_section(
            "WAF appliance",
            "Step 8 configures it through its API: Sophos UTM 9 (the tutorial's, end of life on 30 June 2026) through its REST API, or Sophos Firewall through its XML API. The WAF nodes' AMI must boot that appliance (on the lab: ami-0123456789abcdef0 for UTM 9, ami-05f05f05f05f05f05 for Sophos Firewall).",
            vec![s.select("waf.kind", "Appliance", &["utm9", "sfos"])],
        ),
        list_section(
            "Load balancers",
            "Listener on port 80 to port 80 of each instance: HTTP, or TCP through a network load balancer. Classic is the tutorial's; AWS now recommends application or network load balancers.",
            vec![
                s.field(
                    "load_balancers.external.name",
                    "External LB (internet-facing)",
                    "1–32 letters, digits, hyphens",
                ),
                s.select("load_balancers.external.kind", "External LB type", &["classic", "application", "network"]),
                s.field("load_balancers.internal.name", "Internal LB", "1–32 letters, digits, hyphens"),
                s.select("load_balancers.internal.kind", "Internal LB type", &["classic", "application", "network"]),
            ],
        ),
        list_section(
            "Security groups",
            "Step 3 creates them with the seed's rules: 80 from the tier in front, 22 and 4444 from the admin CIDR.",
            vec![
                s.field("security_groups.lbext", "External LB", "tcp/80 from 0.0.0.0/0"),
                s.field(
                    "security_groups.utm",
                    "WAF nodes",
                    "tcp/80 from the external LB, tcp/4444 from the admin CIDR",
                ),
                s.field("security_groups.lbint", "Internal LB", "tcp/80 from the WAF nodes"),
                s.field(
                    "security_groups.web",
                    "Web servers",
                    "tcp/80 from the internal LB, tcp/22 from the admin CIDR",
                ),
            ],
        ),
        list_section(
            "Health check",
            "Both load balancers use it. AWS limits: interval 5–300 s, timeout 2–60 s and below the interval, thresholds 2–10.",
            vec![
                s.field("health_check.target", "Target", "e.g. HTTP:80/index.html"),
                s.field("health_check.interval", "Interval (s)", ""),
                s.field("health_check.timeout", "Timeout (s)", ""),
                s.field("health_check.healthy_threshold", "Healthy threshold", ""),
                s.field("health_check.unhealthy_threshold", "Unhealthy threshold", ""),
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
        Some(name) => format!("Edit {name}"),
        None => "New stack".to_owned(),
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
