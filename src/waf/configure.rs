//! Wizard step 8 on one node: the objects that make the UTM proxy the
//! external LB's traffic to the internal LB through the WAF, found and kept
//! by name so the step can run any number of times.

use serde::Serialize;
use serde_json::json;

use super::client::UtmClient;
use super::error::WafError;
use super::objects::{Backend, DnsHost, Frontend, Location, Profile, UtmObject, WAFMODE_BLOCK};

const COMMENT: &str = "managed by hawaf";
/// The node setting behind WebAdmin's Web Application Firewall switch: the
/// seed's per-node Disable button.
pub const WAF_SWITCH: &str = "reverse_proxy.status";
/// Built-in objects every UTM has.
const NETWORK_ANY: &str = "REF_NetworkAny";
const INTERNAL_ADDRESS: &str = "REF_DefaultInternalAddress";

/// A load balancer as step 8 needs it: its logical name (objects are named
/// after it) and its DNS name (what the UTM resolves or serves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbTarget {
    pub name: String,
    pub dns_name: String,
}

impl LbTarget {
    pub fn new(name: impl Into<String>, dns_name: impl Into<String>) -> Self {
        Self { name: name.into(), dns_name: dns_name.into() }
    }

    pub(super) fn validate(&self, role: &str) -> Result<(), WafError> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(WafError::Invalid(format!(
                "the {role} load balancer name {:?} must be 1-64 letters, digits, '-', '_' or '.'",
                self.name
            )));
        }
        let dns_ok = !self.dns_name.is_empty()
            && self.dns_name.len() <= 253
            && self.dns_name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'));
        if !dns_ok {
            return Err(WafError::Invalid(format!(
                "the {role} load balancer DNS name {:?} is not a host name",
                self.dns_name
            )));
        }
        Ok(())
    }
}

/// The names hawaf gives its objects on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectNames {
    pub dns_host: String,
    pub backend: String,
    pub location: String,
    pub profile: String,
    pub frontend: String,
}

impl ObjectNames {
    pub fn new(internal_lb_name: &str, external_lb_name: &str) -> Self {
        Self {
            dns_host: format!("hawaf {internal_lb_name}"),
            backend: format!("hawaf real {internal_lb_name}"),
            location: "hawaf /".to_string(),
            profile: "hawaf default".to_string(),
            frontend: frontend_name(external_lb_name),
        }
    }
}

/// The virtual webserver's name for an external LB: the WAF switch.
pub fn frontend_name(external_lb_name: &str) -> String {
    format!("hawaf {external_lb_name}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Created,
    Updated,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectOutcome {
    /// `<class>/<type>`.
    pub object_type: &'static str,
    /// WebAdmin's word for it ("real webserver", …).
    pub label: &'static str,
    pub name: String,
    pub reference: String,
    pub change: Change,
}

/// What step 8 did on one node, in creation order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    pub objects: Vec<ObjectOutcome>,
    /// The node's Web Application Firewall switch (`reverse_proxy.status`)
    /// as the node reported it after the change.
    pub enabled: bool,
}

impl Applied {
    pub fn changed(&self) -> bool {
        self.objects.iter().any(|o| o.change != Change::Unchanged)
    }

    pub fn frontend_ref(&self) -> Option<&str> {
        self.objects.iter().find(|o| o.object_type == Frontend::TYPE).map(|o| o.reference.as_str())
    }
}

impl UtmClient {
    /// Step 8: creates or updates, by name, the DNS host for the internal
    /// LB, the real webserver on it, the `/` location, the blocking firewall
    /// profile and the enabled virtual webserver for the external LB.
    /// Fields hawaf does not decide (timeouts, allowed networks, vendor
    /// fields) are set on creation and afterwards left as the node has them.
    pub async fn configure(
        &self,
        real_webserver: &LbTarget,
        virtual_webserver: &LbTarget,
    ) -> Result<Applied, WafError> {
        real_webserver.validate("internal")?;
        virtual_webserver.validate("external")?;
        let names = ObjectNames::new(&real_webserver.name, &virtual_webserver.name);
        let mut objects = Vec::with_capacity(5);

        let hostname = real_webserver.dns_name.clone();
        let (dns, outcome) = self
            .ensure(
                &names.dns_host,
                || DnsHost { comment: COMMENT.into(), ..DnsHost::default() },
                |h: &mut DnsHost| h.hostname.clone_from(&hostname),
            )
            .await?;
        objects.push(outcome);

        let host_ref = dns.reference.clone();
        let (backend, outcome) = self
            .ensure(
                &names.backend,
                // hawaf's choices beyond the definitions' defaults: keep-alive to
                // the internal LB, with the 300 s timeout WebAdmin suggests.
                || Backend { keepalive: true, timeout: 300, comment: COMMENT.into(), ..Backend::fresh() },
                |b: &mut Backend| {
                    b.host.clone_from(&host_ref);
                    b.port = 80;
                    b.path = "/".into();
                    b.ssl = false;
                    b.status = true;
                },
            )
            .await?;
        objects.push(outcome);

        let backend_ref = backend.reference.clone();
        let (location, outcome) = self
            .ensure(
                &names.location,
                || Location {
                    access_control: "0".into(),
                    allowed_networks: vec![NETWORK_ANY.into()],
                    comment: COMMENT.into(),
                    ..Location::fresh()
                },
                |l: &mut Location| {
                    l.path = "/".into();
                    l.backend = vec![backend_ref.clone()];
                    l.status = true;
                },
            )
            .await?;
        objects.push(outcome);

        let (profile, outcome) = self
            .ensure(
                &names.profile,
                // The definitions' defaults, then the WAF on in blocking mode. The
                // category filter stays off: without categories it filters nothing.
                || Profile { comment: COMMENT.into(), ..Profile::default() },
                |p: &mut Profile| {
                    p.waf = true;
                    p.wafmode = WAFMODE_BLOCK.into();
                },
            )
            .await?;
        objects.push(outcome);

        let domain = virtual_webserver.dns_name.clone();
        let location_ref = location.reference.clone();
        let profile_ref = profile.reference.clone();
        let (frontend, outcome) = self
            .ensure(
                &names.frontend,
                || Frontend {
                    address: INTERNAL_ADDRESS.into(),
                    allowed_networks: vec![NETWORK_ANY.into()],
                    comment: COMMENT.into(),
                    ..Frontend::fresh()
                },
                |f: &mut Frontend| {
                    f.domain = vec![domain.clone()];
                    f.port = 80;
                    f.kind = "http".into();
                    f.locations = vec![location_ref.clone()];
                    f.profile.clone_from(&profile_ref);
                    f.status = true;
                },
            )
            .await?;
        objects.push(outcome);
        if !frontend.status {
            return Err(WafError::Protocol {
                action: format!("enabling the virtual webserver {:?}", names.frontend),
                reason: "the node reports it disabled after the change".into(),
            });
        }

        // Webserver Protection itself is off on a freshly set-up appliance.
        let enabled = self.set_enabled(true).await?;
        Ok(Applied { objects, enabled })
    }

    /// The node's Web Application Firewall switch, WebAdmin's Disable
    /// button: the node setting `reverse_proxy.status`. Returns the state
    /// read back from the node, in the call that ends the session.
    pub async fn set_enabled(&self, on: bool) -> Result<bool, WafError> {
        self.set_node(WAF_SWITCH, &json!(on)).await?;
        // Read back rather than trust the reply: the panel must show what
        // the node actually does.
        self.last().enabled().await
    }

    /// Whether the node's Web Application Firewall is on.
    pub async fn enabled(&self) -> Result<bool, WafError> {
        self.node::<bool>(WAF_SWITCH).await
    }

    /// Finds `name`; creates it from `fresh` + `owned` if missing, replaces it
    /// if `owned` changes anything, and otherwise leaves it alone.
    async fn ensure<T: UtmObject>(
        &self,
        name: &str,
        fresh: impl FnOnce() -> T,
        owned: impl Fn(&mut T),
    ) -> Result<(T, ObjectOutcome), WafError> {
        let outcome = |obj: &T, change| ObjectOutcome {
            object_type: T::TYPE,
            label: T::LABEL,
            name: name.to_string(),
            reference: obj.reference().to_string(),
            change,
        };
        if let Some(existing) = self.find_by_name::<T>(name).await? {
            let mut wanted = existing.clone();
            owned(&mut wanted);
            if wanted == existing {
                let o = outcome(&existing, Change::Unchanged);
                return Ok((existing, o));
            }
            let stored = self.put(existing.reference(), &wanted).await?;
            tracing::info!(node = %self.base_url(), object_type = T::TYPE, name, "updated");
            let o = outcome(&stored, Change::Updated);
            return Ok((stored, o));
        }
        let mut obj = fresh();
        obj.set_name(name);
        owned(&mut obj);
        let stored = self.create(&obj).await?;
        if stored.reference().is_empty() {
            return Err(WafError::Protocol {
                action: format!("creating {} {name:?}", T::LABEL),
                reason: "the reply carries no _ref".into(),
            });
        }
        tracing::info!(node = %self.base_url(), object_type = T::TYPE, name, "created");
        let o = outcome(&stored, Change::Created);
        Ok((stored, o))
    }
}
