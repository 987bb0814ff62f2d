//! The four SFOS entities the lab serves, as Sophos's API pages for SFOS 21
//! define them (element names, mandatory elements, allowed values,
//! lengths, ranges, defaults): anything else in a request is refused, as
//! the appliance refuses it. Parts of a firewall rule the lab does not
//! emulate (user and network policies, exceptions) are kept as sent.

use crate::xml::Element;

pub(super) enum Ty {
    /// Free text of at most this many characters (0: no limit).
    Text(usize),
    /// An entity name: 1-60 characters, no comma.
    Name,
    /// A host name (letters, digits, `-`, `.`, a leading `*.`), at most 255.
    Host,
    Choice(&'static [&'static str]),
    Int(i64, i64),
    /// `<list><item>…</item>…</list>`.
    List(&'static str, &'static Ty),
    Group(&'static [Field]),
    /// `<list><item>fields</item>…</list>`.
    Records(&'static str, &'static [Field]),
    /// Accepted as sent.
    Loose,
}

pub(super) struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub default: Option<&'static str>,
}

const fn f(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, required: false, default: None }
}

const fn req(name: &'static str, ty: Ty) -> Field {
    Field { name, ty, required: true, default: None }
}

const fn def(name: &'static str, ty: Ty, default: &'static str) -> Field {
    Field { name, ty, required: false, default: Some(default) }
}

const ED: &[&str] = &["Enable", "Disable"];
const BIT: &[&str] = &["0", "1"];
const NAME_TEXT: Ty = Ty::Text(60);

pub(super) struct Entity {
    pub tag: &'static str,
    /// The operation names in the API's status messages.
    pub noun: &'static str,
    pub added: &'static str,
    pub updated: &'static str,
    pub fields: &'static [Field],
}

pub(super) const FQDN_HOST: Entity = Entity {
    tag: "FQDNHost",
    noun: "FQDN host",
    added: "Configuration applied successfully.",
    updated: "Configuration applied successfully.",
    fields: &[
        req("Name", Ty::Name),
        f("Description", Ty::Text(255)),
        def("IPFamily", Ty::Choice(&["IPv4", "IPv6"]), "IPv4"),
        req("FQDN", Ty::Host),
        f("FQDNHostGroupList", Ty::List("FQDNHostGroup", &NAME_TEXT)),
    ],
};

pub(super) const WEB_SERVER: Entity = Entity {
    tag: "RealServers",
    noun: "Web server",
    added: "Web server has been added successfully",
    updated: "Web server has been updated successfully",
    fields: &[
        req("Name", Ty::Name),
        f("Description", Ty::Text(255)),
        req("Host", Ty::Text(0)),
        f("Type", Ty::Choice(&["Plaintext (HTTP)", "Encrypted (HTTPS)"])),
        def("Port", Ty::Int(1, 65535), "80"),
        def("KeepAlive", Ty::Choice(ED), "Enable"),
        def("TimeOut", Ty::Int(1, 65535), "300"),
        def("DisableReuse", Ty::Choice(ED), "Disable"),
    ],
};

pub(super) const THREAT_FILTERS: &[&str] = &[
    "Application attacks",
    "SQL injection attacks",
    "XSS attacks",
    "Protocol enforcement",
    "Scanner detection",
    "Data leakages",
];

pub(super) const POLICY: Entity = Entity {
    tag: "ProtocolSecurity",
    noun: "Protection policy",
    added: "Protection policy has been added successfully",
    updated: "Protection policy has been updated successfully",
    fields: &[
        req("Name", Ty::Name),
        f("Description", Ty::Text(255)),
        def("PassOutlookAnywhere", Ty::Choice(ED), "Disable"),
        req("Mode", Ty::Choice(&["Monitor", "Reject"])),
        def("CookieSigning", Ty::Choice(ED), "Disable"),
        def("StaticUrlHardening", Ty::Choice(ED), "Disable"),
        f("EntryURLType", Ty::Choice(&["Manual", "SitemapFile", "SitemapURL"])),
        f("EntryURLList", Ty::List("EntryURL", &Ty::Text(255))),
        def("FormHardening", Ty::Choice(ED), "Disable"),
        def("AntiVirus", Ty::Choice(ED), "Disable"),
        f("AVMode", Ty::Choice(&["Avira", "Sophos", "DualScan"])),
        f("Direction", Ty::Choice(&["Uploads", "Downloads", "UploadsAndDownloads"])),
        f("BlockUnscannableContent", Ty::Choice(ED)),
        f("LimitScanSize", Ty::Choice(ED)),
        f("Megabytes", Ty::Int(0, i64::MAX)),
        def("BlockClientsWithBadReputation", Ty::Choice(ED), "Disable"),
        f("SkipRemoteLookups", Ty::Choice(ED)),
        def("ThreatsFilter", Ty::Choice(ED), "Disable"),
        def("ParanoiaLevel", Ty::Choice(&["1", "2", "3", "4"]), "1"),
        f("SkipFilterRules", Ty::List("FilterRules", &Ty::Int(0, i64::MAX))),
        f("ThreatFilters", Ty::List("Filter", &Ty::Choice(THREAT_FILTERS))),
        def("HSTSEnforcement", Ty::Choice(ED), "Disable"),
        def("XContentTypeOptions", Ty::Choice(ED), "Disable"),
    ],
};

const ACCESS_PATH: &[Field] = &[
    req("path", Ty::Text(63)),
    req("backend", Ty::Text(0)),
    f("auth_profile", Ty::Text(0)),
    f("allowed_networks", Ty::Text(0)),
    f("denied_networks", Ty::Text(0)),
    f("blocked_countries", Ty::Text(0)),
    f("block_unknown_country", Ty::Choice(BIT)),
    f("stickysession_status", Ty::Choice(BIT)),
    f("hot_standby", Ty::Choice(BIT)),
    f("websocket_passthrough", Ty::Choice(BIT)),
];

const HTTP_POLICY: &[Field] = &[
    req("HostedAddress", Ty::Text(0)),
    def("HTTPS", Ty::Choice(ED), "Disable"),
    def("RedirectHTTP", Ty::Choice(ED), "Disable"),
    def("ListenPort", Ty::Int(1, 65535), "80"),
    req("Domains", Ty::List("Domain", &Ty::Host)),
    f("SourceNetworks", Ty::List("Network", &NAME_TEXT)),
    f("ExceptionNetworks", Ty::List("Network", &NAME_TEXT)),
    req("AccessPaths", Ty::Records("AccessPath", ACCESS_PATH)),
    f("Exceptions", Ty::Loose),
    f("ProtocolSecurity", Ty::Text(0)),
    def("CompressionSupport", Ty::Choice(ED), "Disable"),
    f("RewriteHTML", Ty::Choice(&["0", "Enable"])),
    def("RewriteCookies", Ty::Choice(ED), "Enable"),
    def("PassHostHeader", Ty::Choice(ED), "Disable"),
    f("IntrusionPrevention", Ty::Text(0)),
    f("TrafficShapingPolicy", Ty::Text(0)),
];

pub(super) const RULE: Entity = Entity {
    tag: "FirewallRule",
    noun: "Firewall rule",
    added: "Firewall rule has been created successfully",
    updated: "Firewall rule has been updated successfully",
    fields: &[
        req("Name", Ty::Name),
        f("Description", Ty::Text(0)),
        def("Status", Ty::Choice(&["Disable", "Enable"]), "Enable"),
        def("IPFamily", Ty::Choice(&["IPv4", "IPv6"]), "IPv4"),
        // The page's sample writes these in lower case, its table capitalised: both are taken.
        req("Position", Ty::Choice(&["Bottom", "Top", "After", "Before", "bottom", "top", "after", "before"])),
        f("Section", Ty::Choice(&["Central_TOP", "Local", "Central_Bottom"])),
        f("After", Ty::Group(&[req("Name", Ty::Text(0))])),
        f("Before", Ty::Group(&[req("Name", Ty::Text(0))])),
        req("PolicyType", Ty::Choice(&["Network", "User", "HTTPBased"])),
        f("UserPolicy", Ty::Loose),
        f("NetworkPolicy", Ty::Loose),
        f("HTTPBasedPolicy", Ty::Group(HTTP_POLICY)),
    ],
};

pub(super) const ENTITIES: [&Entity; 4] = [&FQDN_HOST, &WEB_SERVER, &POLICY, &RULE];

pub(super) fn entity(tag: &str) -> Option<&'static Entity> {
    ENTITIES.into_iter().find(|e| e.tag == tag)
}

/// Checks `el` against `fields` and fills in the defaults of absent
/// optional elements, as the appliance stores them.
pub(super) fn check(el: &mut Element, fields: &[Field], at: &str) -> Result<(), String> {
    if !el.text.is_empty() {
        return Err(format!("<{at}> holds text where elements are expected"));
    }
    for child in &mut el.children {
        let field = fields
            .iter()
            .find(|f| f.name == child.name)
            .ok_or_else(|| format!("<{}> is not an element of <{at}>", child.name))?;
        check_value(child, &field.ty, &format!("{at}/{}", field.name))?;
    }
    for field in fields {
        let count = el.children.iter().filter(|c| c.name == field.name).count();
        // Only a Records list's items may repeat, and `backend` in an access path (an array).
        if count > 1 && field.name != "backend" {
            return Err(format!("<{}> appears {count} times in <{at}>", field.name));
        }
        if count == 0 {
            if field.required {
                return Err(format!("<{at}/{}> is mandatory", field.name));
            }
            if let Some(d) = field.default {
                el.children.push(Element::leaf(field.name, d));
            }
        }
    }
    Ok(())
}

fn check_value(el: &mut Element, ty: &Ty, at: &str) -> Result<(), String> {
    let leaf = |el: &Element| {
        if el.children.is_empty() { Ok(()) } else { Err(format!("<{at}> must be a single value")) }
    };
    match ty {
        Ty::Text(max) => {
            leaf(el)?;
            if *max > 0 && el.text.chars().count() > *max {
                return Err(format!("<{at}> is longer than {max} characters"));
            }
        }
        Ty::Name => {
            leaf(el)?;
            let n = el.text.chars().count();
            if n == 0 || n > 60 || el.text.contains(',') {
                return Err(format!("<{at}> must be 1-60 characters without a comma"));
            }
        }
        Ty::Host => {
            leaf(el)?;
            let h = el.text.strip_prefix("*.").unwrap_or(&el.text);
            let ok = !h.is_empty()
                && el.text.len() <= 255
                && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
            if !ok {
                return Err(format!("<{at}> {:?} is not a host name", el.text));
            }
        }
        Ty::Choice(allowed) => {
            leaf(el)?;
            if !allowed.contains(&el.text.as_str()) {
                return Err(format!("<{at}> must be one of {}, not {:?}", allowed.join(", "), el.text));
            }
        }
        Ty::Int(lo, hi) => {
            leaf(el)?;
            match el.text.parse::<i64>() {
                Ok(n) if (*lo..=*hi).contains(&n) => {}
                _ => return Err(format!("<{at}> must be a whole number from {lo} to {hi}, not {:?}", el.text)),
            }
        }
        Ty::List(item, item_ty) => {
            if !el.text.is_empty() {
                return Err(format!("<{at}> holds text where <{item}> elements are expected"));
            }
            for c in &mut el.children {
                if c.name != *item {
                    return Err(format!("<{}> is not an element of <{at}> (expected <{item}>)", c.name));
                }
                check_value(c, item_ty, &format!("{at}/{item}"))?;
            }
        }
        Ty::Group(fields) => check(el, fields, at)?,
        Ty::Records(item, fields) => {
            if el.children.is_empty() {
                return Err(format!("<{at}> needs at least one <{item}>"));
            }
            for c in &mut el.children {
                if c.name != *item {
                    return Err(format!("<{}> is not an element of <{at}> (expected <{item}>)", c.name));
                }
                check(c, fields, &format!("{at}/{item}"))?;
            }
        }
        Ty::Loose => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Element {
        Element::new("FirewallRule")
            .with_leaf("Name", "hawaf ha-lbext")
            .with_leaf("Position", "Bottom")
            .with_leaf("PolicyType", "HTTPBased")
            .with(
                Element::new("HTTPBasedPolicy")
                    .with_leaf("HostedAddress", "#PortA")
                    .with(Element::new("Domains").with_leaf("Domain", "ha-lbext.lab"))
                    .with(
                        Element::new("AccessPaths")
                            .with(Element::new("AccessPath").with_leaf("path", "/").with_leaf("backend", "web")),
                    ),
            )
    }

    #[test]
    fn a_documented_rule_passes_with_its_defaults_filled_in() {
        let mut r = rule();
        check(&mut r, RULE.fields, "FirewallRule").expect("valid");
        assert_eq!(r.text_of("Status"), Some("Enable"));
        let http = r.child("HTTPBasedPolicy").expect("policy");
        assert_eq!(http.text_of("ListenPort"), Some("80"));
        assert_eq!(http.text_of("HTTPS"), Some("Disable"));
    }

    #[test]
    fn undocumented_elements_values_and_missing_mandatory_ones_are_refused() {
        let mut r = rule().with_leaf("wafmode", "deny");
        assert!(check(&mut r, RULE.fields, "FirewallRule").unwrap_err().contains("<wafmode> is not an element"));
        let mut r = rule().with_leaf("Status", "On");
        assert!(check(&mut r, RULE.fields, "FirewallRule").unwrap_err().contains("must be one of Disable, Enable"));
        let mut r = rule();
        r.children.retain(|c| c.name != "Position");
        assert!(check(&mut r, RULE.fields, "FirewallRule").unwrap_err().contains("Position> is mandatory"));
        let mut p = Element::new("ProtocolSecurity")
            .with_leaf("Name", "p")
            .with_leaf("Mode", "Reject")
            .with(Element::new("ThreatFilters").with_leaf("Filter", "SQL injection"));
        assert!(check(&mut p, POLICY.fields, "ProtocolSecurity").unwrap_err().contains("must be one of"));
        let mut w = Element::new("RealServers").with_leaf("Name", "a,b").with_leaf("Host", "h");
        assert!(check(&mut w, WEB_SERVER.fields, "RealServers").unwrap_err().contains("without a comma"));
        let mut w = Element::new("RealServers").with_leaf("Name", "w").with_leaf("Host", "h").with_leaf("Port", "0");
        assert!(check(&mut w, WEB_SERVER.fields, "RealServers").unwrap_err().contains("from 1 to 65535"));
    }
}
