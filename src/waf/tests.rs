//! The client against a real UTM REST subset: a lab WAF node (HTTPS,
//! self-signed certificate, per-node token), as step 8 and the WAF switch use it.

use std::time::{Duration, Instant};

use super::*;
use crate::lab::{Lab, WafAdmin};
use crate::secret::Secret;

/// One lab WAF node whose admin port admits 127.0.0.1 (the operator).
async fn lab_node() -> (Lab, WafAdmin) {
    let lab = Lab::default();
    let admin = lab.lone_waf_node().await.unwrap();
    (lab, admin)
}

fn client(admin: &WafAdmin) -> UtmClient {
    let pin = Pin(admin.fingerprint_sha256.parse().unwrap());
    UtmClient::new(&admin.api_url, Secret::new(admin.token.clone()), pin).unwrap()
}

fn targets() -> (LbTarget, LbTarget) {
    (
        LbTarget::new("ha-lbint", "internal-ha-lbint-1.lab-1.elb.localhost"),
        LbTarget::new("ha-lbext", "ha-lbext-1.lab-1.elb.localhost"),
    )
}

#[tokio::test]
async fn configuring_a_node_creates_the_five_objects_once() {
    let (_lab, admin) = lab_node().await;
    let utm = client(&admin);
    let (int, ext) = targets();
    let first = utm.configure(&int, &ext).await.unwrap();
    assert_eq!(first.objects.len(), 5);
    assert!(first.objects.iter().all(|o| o.change == Change::Created), "{first:#?}");
    assert!(first.enabled);
    let again = utm.configure(&int, &ext).await.unwrap();
    assert!(!again.changed(), "the second run changes nothing: {again:#?}");
    let dns: DnsHost = utm.find_by_name("hawaf ha-lbint").await.unwrap().unwrap();
    assert_eq!(utm.usedby::<DnsHost>(&dns.reference).await.unwrap().objects.len(), 1, "the real webserver uses it");
}

#[tokio::test]
async fn the_waf_switch_reads_the_state_back_from_the_node() {
    let (_lab, admin) = lab_node().await;
    let utm = client(&admin);
    let (int, ext) = targets();
    utm.configure(&int, &ext).await.unwrap();
    assert!(!utm.set_enabled(false).await.unwrap());
    assert!(!utm.enabled().await.unwrap());
    assert!(utm.set_enabled(true).await.unwrap());
}

#[tokio::test]
async fn a_wrong_token_or_a_changed_certificate_is_refused_by_name() {
    let (_lab, admin) = lab_node().await;
    let pin = Pin(admin.fingerprint_sha256.parse().unwrap());
    let bad = UtmClient::new(&admin.api_url, Secret::new("wrong"), pin).unwrap();
    let err = bad.enabled().await.unwrap_err();
    assert!(matches!(err, WafError::BadToken { .. }), "{err:?}");

    let other = Pin(Fingerprint::of_der(b"another certificate"));
    let changed = UtmClient::new(&admin.api_url, Secret::new(admin.token.clone()), other).unwrap();
    let err = changed.enabled().await.unwrap_err();
    assert!(matches!(err, WafError::CertificateChanged { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&other.0.to_string()) || text.contains(&other.0.hex()),
        "names the pinned fingerprint: {text}"
    );
}

#[tokio::test]
async fn probing_shows_the_certificate_the_node_presents() {
    let (_lab, admin) = lab_node().await;
    let probed = probe_fingerprint(&admin.api_url).await.unwrap();
    assert_eq!(probed.hex(), admin.fingerprint_sha256);
}

#[tokio::test]
async fn appliance_refusals_keep_its_messages() {
    let (_lab, admin) = lab_node().await;
    let utm = client(&admin);
    let refused = utm
        .create(&Backend { name: "x".into(), host: "REF_Nope".into(), port: 80, ..Backend::default() })
        .await
        .unwrap_err();
    assert!(matches!(refused, WafError::Refused { status: 400, .. }), "{refused:?}");
    assert!(!refused.messages().is_empty());
}

#[tokio::test]
async fn an_unreachable_node_fails_fast() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let url = format!("https://{closed}");
    let utm = UtmClient::new(&url, Secret::new("t"), Pin(Fingerprint::of_der(b"x"))).unwrap();
    let started = Instant::now();
    let err = utm.enabled().await.unwrap_err();
    assert!(matches!(err, WafError::Unreachable { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}
