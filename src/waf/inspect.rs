//! What step 8 made on a node, read back and compared with what it would
//! make now: the drift check's view of a WAF node. Only the fields step 8
//! owns are compared; the rest is the operator's (WebAdmin) to change.

use super::client::UtmClient;
use super::configure::{LbTarget, ObjectNames};
use super::error::WafError;
use super::objects::{Backend, DnsHost, Frontend, Location, Profile, UtmObject, WAFMODE_BLOCK};

/// One of step 8's objects on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectState {
    /// WebAdmin's word for it ("virtual webserver", …).
    pub label: &'static str,
    pub name: String,
    /// None: no object of that name on the node.
    pub reference: Option<String>,
    /// `(field, expected, actual)` for each owned field that differs.
    pub differences: Vec<(String, String, String)>,
}

fn differ(out: &mut Vec<(String, String, String)>, field: &str, expected: impl ToString, actual: impl ToString) {
    let (e, a) = (expected.to_string(), actual.to_string());
    if e != a {
        out.push((field.to_owned(), e, a));
    }
}

impl UtmClient {
    /// Step 8's five objects as the node has them, each compared with what
    /// step 8 would set for these load balancers.
    pub async fn inspect(&self, internal: &LbTarget, external: &LbTarget) -> Result<Vec<ObjectState>, WafError> {
        let names = ObjectNames::new(&internal.name, &external.name);
        let mut out = Vec::with_capacity(5);
        let dns = self.find_by_name::<DnsHost>(&names.dns_host).await?;
        out.push(state::<DnsHost>(&names.dns_host, dns.as_ref(), |h, d| {
            differ(d, "hostname", &internal.dns_name, &h.hostname)
        }));
        let dns_ref = dns.map(|h| h.reference).unwrap_or_default();
        let backend = self.find_by_name::<Backend>(&names.backend).await?;
        out.push(state::<Backend>(&names.backend, backend.as_ref(), |b, d| {
            differ(d, "host", &dns_ref, &b.host);
            differ(d, "port", 80, b.port);
            differ(d, "status", true, b.status);
        }));
        let backend_ref = backend.map(|b| b.reference).unwrap_or_default();
        let location = self.find_by_name::<Location>(&names.location).await?;
        out.push(state::<Location>(&names.location, location.as_ref(), |l, d| {
            differ(d, "path", "/", &l.path);
            differ(d, "backend", &backend_ref, l.backend.join(","));
            differ(d, "status", true, l.status);
        }));
        let location_ref = location.map(|l| l.reference).unwrap_or_default();
        let profile = self.find_by_name::<Profile>(&names.profile).await?;
        out.push(state::<Profile>(&names.profile, profile.as_ref(), |p, d| {
            differ(d, "waf", true, p.waf);
            differ(d, "wafmode", WAFMODE_BLOCK, &p.wafmode);
        }));
        let profile_ref = profile.map(|p| p.reference).unwrap_or_default();
        let frontend = self.find_by_name::<Frontend>(&names.frontend).await?;
        out.push(state::<Frontend>(&names.frontend, frontend.as_ref(), |f, d| {
            differ(d, "domain", &external.dns_name, f.domain.join(","));
            differ(d, "port", 80, f.port);
            differ(d, "locations", &location_ref, f.locations.join(","));
            differ(d, "profile", &profile_ref, &f.profile);
            differ(d, "status", true, f.status);
        }));
        Ok(out)
    }
}

fn state<T: UtmObject>(
    name: &str,
    found: Option<&T>,
    compare: impl FnOnce(&T, &mut Vec<(String, String, String)>),
) -> ObjectState {
    let mut differences = Vec::new();
    if let Some(obj) = found {
        compare(obj, &mut differences);
    }
    ObjectState {
        label: T::LABEL,
        name: name.to_owned(),
        reference: found.map(|o| o.reference().to_owned()),
        differences,
    }
}
