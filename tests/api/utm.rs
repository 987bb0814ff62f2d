//! UTM 9 conformance: hawaf's client against a UTM REST API, for every
//! object and operation hawaf uses, including a locked object, an objection
//! on write, a delete that needs acknowledgement and an error body with
//! every real field.
//!
//! Each check runs against a lab WAF node, and also against a real appliance
//! when `HAWAF_UTM_URL` (`https://host:4444`) and `HAWAF_UTM_TOKEN` are set
//! (`HAWAF_UTM_FINGERPRINT`, the SHA-256 of its certificate, pins it; without
//! it the certificate presented now is trusted, as on first use). On a real
//! appliance the checks only touch objects named `hawaf-conformance …`,
//! delete them at the end, and leave the WAF switch as they found it.

use hawaf::lab::Lab;
use hawaf::secret::Secret;
use hawaf::waf::{
    Backend, Change, DnsHost, Frontend, LbTarget, Location, Pin, Profile, UtmClient, UtmObject, WAFMODE_BLOCK,
    WafError, probe_fingerprint,
};
use serde_json::json;

struct Target {
    what: String,
    client: UtmClient,
    lab: bool,
    /// Keeps a lab node alive for the check.
    _lab: Option<Lab>,
}

async fn lab_target() -> Target {
    let lab = Lab::default();
    let admin = lab.lone_waf_node().await.unwrap();
    let pin = Pin(admin.fingerprint_sha256.parse().unwrap());
    let client = UtmClient::new(&admin.api_url, Secret::new(admin.token.clone()), pin).unwrap();
    Target { what: "the lab UTM".into(), client, lab: true, _lab: Some(lab) }
}

async fn real_target() -> Option<Target> {
    let url = std::env::var("HAWAF_UTM_URL").ok().filter(|u| !u.is_empty())?;
    let token = std::env::var("HAWAF_UTM_TOKEN").expect("HAWAF_UTM_URL is set: set HAWAF_UTM_TOKEN too");
    let fingerprint = match std::env::var("HAWAF_UTM_FINGERPRINT").ok().filter(|f| !f.is_empty()) {
        Some(f) => f.parse().expect("HAWAF_UTM_FINGERPRINT is a SHA-256"),
        None => probe_fingerprint(&url).await.expect("the appliance presents a certificate"),
    };
    let client = UtmClient::new(&url, Secret::new(token), Pin(fingerprint)).expect("a client for HAWAF_UTM_URL");
    Some(Target { what: format!("the appliance at {url}"), client, lab: false, _lab: None })
}

/// The lab node, and the real appliance when one is configured.
async fn targets() -> Vec<Target> {
    let mut all = vec![lab_target().await];
    match real_target().await {
        Some(t) => all.push(t),
        None => eprintln!("HAWAF_UTM_URL is not set: the conformance checks run against the lab UTM only"),
    }
    all
}

const PREFIX: &str = "hawaf-conformance";

/// Deletes what a check made, newest first.
async fn clean(utm: &UtmClient, made: &[(&str, String)]) {
    for (typ, r) in made.iter().rev() {
        let result = match *typ {
            "network/dns_host" => utm.delete::<DnsHost>(r).await,
            "reverse_proxy/backend" => utm.delete::<Backend>(r).await,
            "reverse_proxy/location" => utm.delete::<Location>(r).await,
            "reverse_proxy/profile" => utm.delete::<Profile>(r).await,
            _ => utm.delete::<Frontend>(r).await,
        };
        // Already gone with a parent is fine.
        if let Err(e) = result
            && !matches!(e, WafError::NotFound { .. })
        {
            panic!("cleaning up {typ} {r}: {e}");
        }
    }
}

async fn dns_host(utm: &UtmClient, suffix: &str) -> DnsHost {
    let host = DnsHost {
        name: format!("{PREFIX} {suffix}"),
        hostname: "internal-lb.conformance.invalid".into(),
        ..DnsHost::default()
    };
    utm.create(&host).await.expect("a DNS host is created")
}

async fn backend(utm: &UtmClient, host: &DnsHost, status: bool) -> Backend {
    let b = Backend {
        name: format!("{PREFIX} real"),
        host: host.reference.clone(),
        port: 80,
        status,
        timeout: 300,
        ..Backend::fresh()
    };
    utm.create(&b).await.expect("a real webserver is created")
}

#[tokio::test]
async fn every_object_hawaf_uses_is_created_read_listed_replaced_patched_and_deleted() {
    for t in targets().await {
        let utm = &t.client;
        let host = dns_host(utm, "crud").await;
        assert!(host.reference.starts_with("REF_"), "{}: {host:?}", t.what);
        assert_eq!((host.address.as_str(), host.address6.as_str()), ("0.0.0.0", "::"), "{}", t.what);
        let b = backend(utm, &host, true).await;
        let loc = utm
            .create(&Location {
                name: format!("{PREFIX} /"),
                backend: vec![b.reference.clone()],
                status: true,
                access_control: "0".into(),
                allowed_networks: vec!["REF_NetworkAny".into()],
                ..Location::fresh()
            })
            .await
            .expect("a location is created");
        let profile = utm
            .create(&Profile {
                name: format!("{PREFIX} profile"),
                waf: true,
                wafmode: WAFMODE_BLOCK.into(),
                ..Profile::default()
            })
            .await
            .expect("a firewall profile in blocking mode is created");
        assert_eq!(profile.wafmode, "deny", "{}", t.what);
        let fe = utm
            .create(&Frontend {
                name: format!("{PREFIX} frontend"),
                domain: vec!["external-lb.conformance.invalid".into()],
                port: 80,
                address: "REF_DefaultInternalAddress".into(),
                locations: vec![loc.reference.clone()],
                profile: profile.reference.clone(),
                allowed_networks: vec!["REF_NetworkAny".into()],
                ..Frontend::fresh()
            })
            .await
            .expect("a virtual webserver is created");
        assert!(!fe.status, "{}: a virtual webserver is off unless asked", t.what);
        assert_eq!(fe.waflocalpath, "/.waf", "{}", t.what);

        let listed: Vec<Frontend> = utm.list().await.unwrap();
        assert!(listed.iter().any(|f| f.reference == fe.reference), "{}", t.what);
        let read: Backend = utm.get(&b.reference).await.unwrap();
        assert_eq!(read, b, "{}: GET answers what POST stored", t.what);
        let used = utm.usedby::<DnsHost>(&host.reference).await.unwrap();
        assert_eq!(used.objects.len(), 1, "{}: the real webserver uses the host", t.what);

        let mut changed = host.clone();
        changed.hostname = "internal-lb-2.conformance.invalid".into();
        let replaced = utm.put(&host.reference, &changed).await.unwrap();
        assert_eq!(replaced.hostname, changed.hostname, "{}: PUT, read back", t.what);
        utm.patch::<Frontend>(&fe.reference, &json!({"status": true})).await.unwrap();
        assert!(utm.get::<Frontend>(&fe.reference).await.unwrap().status, "{}: PATCH, read back", t.what);

        let made = [
            ("network/dns_host", host.reference.clone()),
            ("reverse_proxy/backend", b.reference.clone()),
            ("reverse_proxy/location", loc.reference.clone()),
            ("reverse_proxy/profile", profile.reference.clone()),
            ("reverse_proxy/frontend", fe.reference.clone()),
        ];
        clean(utm, &made).await;
        let err = utm.get::<Frontend>(&fe.reference).await.unwrap_err();
        assert!(matches!(err, WafError::NotFound { .. }), "{}: {err:?}", t.what);
    }
}

#[tokio::test]
async fn a_profile_in_a_mode_no_utm_has_is_refused_with_every_field_of_the_real_error_body() {
    for t in targets().await {
        let bad =
            Profile { name: format!("{PREFIX} reject"), waf: true, wafmode: "reject".into(), ..Profile::default() };
        let err = t.client.create(&bad).await.unwrap_err();
        let WafError::Refused { status, messages, .. } = &err else {
            panic!("{}: {err:?}", t.what);
        };
        assert!((400..=422).contains(status), "{}: {status}", t.what);
        assert!(messages.iter().any(|m| m.is_fatal()), "{}: {err}", t.what);
        for m in messages {
            for field in [
                "Oattrs",
                "attrs",
                "class",
                "del_object",
                "fatal",
                "format",
                "msgtype",
                "name",
                "never_hide",
                "objname",
                "perms",
                "ref",
                "rights",
                "type",
            ] {
                assert!(m.0.contains_key(field), "{}: the message lacks {field}: {m:?}", t.what);
            }
        }
        if t.lab {
            assert!(messages.iter().any(|m| m.attrs() == ["wafmode"]), "{err}");
            assert!(err.to_string().contains("\"detect\", \"deny\""), "the allowed values are named: {err}");
        }
    }
}

#[tokio::test]
async fn a_locked_object_is_still_changed_by_hawaf_which_overrides_user_locks() {
    for t in targets().await {
        let utm = &t.client;
        let host = dns_host(utm, "locked").await;
        utm.patch::<DnsHost>(&host.reference, &json!({"_locked": "user"})).await.unwrap();
        let locked: DnsHost = utm.get(&host.reference).await.unwrap();
        assert_eq!(locked.locked, json!("user"), "{}", t.what);
        let mut changed = locked.clone();
        changed.hostname = "moved.conformance.invalid".into();
        let after = utm.put(&host.reference, &changed).await.expect("X-Restd-Lock-Override lets the change through");
        assert_eq!(after.hostname, "moved.conformance.invalid", "{}", t.what);
        assert_eq!(after.locked, json!("user"), "{}: overriding the lock to change the object keeps it", t.what);
        utm.patch::<DnsHost>(&host.reference, &json!({"_locked": ""})).await.unwrap();
        clean(utm, &[("network/dns_host", host.reference.clone())]).await;
    }
}

#[tokio::test]
async fn an_objection_on_write_reaches_the_operator_instead_of_being_acknowledged() {
    for t in targets().await {
        let utm = &t.client;
        let host = dns_host(utm, "objection").await;
        let b = backend(utm, &host, true).await;
        let loc = utm
            .create(&Location {
                name: format!("{PREFIX} objection /"),
                backend: vec![b.reference.clone()],
                status: true,
                ..Location::fresh()
            })
            .await
            .unwrap();
        let answer = utm.patch::<Backend>(&b.reference, &json!({"status": false})).await;
        if t.lab {
            let err = answer.expect_err("switching off a real webserver an enabled location uses is objected to");
            let WafError::Objection { messages, .. } = &err else { panic!("{err:?}") };
            assert!(messages.iter().all(|m| !m.is_fatal()), "{err}");
            assert!(err.to_string().contains("does not acknowledge"), "the operator is told what to do: {err}");
            assert!(utm.get::<Backend>(&b.reference).await.unwrap().status, "nothing changed");
        } else {
            eprintln!("{}: switching off a used real webserver answered {answer:?}", t.what);
        }
        clean(
            utm,
            &[
                ("network/dns_host", host.reference.clone()),
                ("reverse_proxy/backend", b.reference.clone()),
                ("reverse_proxy/location", loc.reference.clone()),
            ],
        )
        .await;
    }
}

#[tokio::test]
async fn a_delete_of_a_used_object_needs_acknowledgement_and_then_takes_its_dependants() {
    for t in targets().await {
        let utm = &t.client;
        let host = dns_host(utm, "delete").await;
        let b = backend(utm, &host, false).await;
        let err = utm.delete_unacknowledged::<DnsHost>(&host.reference).await.unwrap_err();
        let WafError::Objection { messages, .. } = &err else { panic!("{}: {err:?}", t.what) };
        assert!(messages.iter().any(|m| m.0.get("del_object").is_some()), "{}: {err}", t.what);
        assert!(
            utm.get::<DnsHost>(&host.reference).await.is_ok(),
            "{}: an unacknowledged delete deletes nothing",
            t.what
        );
        utm.delete::<DnsHost>(&host.reference).await.expect("acknowledged, the delete goes through");
        if t.lab {
            let gone = utm.get::<Backend>(&b.reference).await.unwrap_err();
            assert!(matches!(gone, WafError::NotFound { .. }), "the real webserver cannot exist without its host");
        }
        clean(utm, &[("reverse_proxy/backend", b.reference.clone())]).await;
    }
}

#[tokio::test]
async fn the_waf_switch_is_the_node_setting_and_reads_back() {
    for t in targets().await {
        let utm = &t.client;
        let before = utm.enabled().await.unwrap();
        assert_eq!(utm.set_enabled(!before).await.unwrap(), !before, "{}", t.what);
        assert_eq!(utm.set_enabled(before).await.unwrap(), before, "{}: restored", t.what);
        let ha: String = utm.node("ha.mode").await.unwrap();
        let version = utm.version().await.unwrap();
        eprintln!("{}: ha.mode {ha:?}, firmware {} (restd {})", t.what, version.utm, version.restd);
        assert!(!version.utm.is_empty(), "{}", t.what);
        if t.lab {
            assert_eq!(version.restd, "1.3.0");
            let err = utm.set_node("reverse_proxy.status", &json!("off")).await.unwrap_err();
            assert!(matches!(err, WafError::Refused { status: 400, .. }), "the switch is a boolean: {err:?}");
        }
    }
}

#[tokio::test]
async fn step_8_configures_a_fresh_lab_node_and_turns_its_waf_on() {
    // Step 8 changes a node's WAF configuration for real: lab only.
    let t = lab_target().await;
    let utm = &t.client;
    assert!(!utm.enabled().await.unwrap(), "a fresh node's Webserver Protection is off");
    let internal = LbTarget::new("ha-lbint", "internal-ha-lbint-1.lab.elb.localhost");
    let external = LbTarget::new("ha-lbext", "ha-lbext-1.lab.elb.localhost");
    let applied = utm.configure(&internal, &external).await.unwrap();
    assert!(applied.enabled, "step 8 turns the node's WAF on");
    assert!(applied.objects.iter().all(|o| o.change == Change::Created));
    let again = utm.configure(&internal, &external).await.unwrap();
    assert!(!again.changed(), "{again:#?}");
    let profile: Profile = utm.find_by_name("hawaf default").await.unwrap().unwrap();
    assert_eq!((profile.waf, profile.wafmode.as_str()), (true, "deny"));
    assert!(!profile.threats_filter, "no category filter without categories");
    assert_eq!(Profile::TYPE, "reverse_proxy/profile");
}
