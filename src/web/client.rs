//! Who is on the other end: the TCP peer, or, when that peer is a proxy the
//! server was told to trust (`--trusted-proxy`), the client it forwarded.
//! Headers from anyone else are ignored: a client cannot pick its own
//! address (and so its own throttle key) or claim https.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

/// The TCP peer, if the server was started with connect info (always, but
/// for handlers called directly in tests).
fn peer(extensions: &Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| canonical(c.0.ip()))
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client's address: the peer's, or the nearest untrusted hop of
/// `X-Forwarded-For` when the peer is a trusted proxy (hops are appended,
/// so the list is read from the right and trusted proxies are skipped).
pub fn client_ip(extensions: &Extensions, headers: &HeaderMap, proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = peer(extensions)?;
    if !trusted(peer, proxies) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok().map(canonical))
        .collect();
    Some(hops.into_iter().rev().find(|hop| !trusted(*hop, proxies)).unwrap_or(peer))
}

/// The key a sign-in throttle counts an address under: IPv6 clients get a
/// /64 each (one subscriber's prefix), or one host could rotate through
/// its 2^64 addresses.
pub fn throttle_key(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(v4) => v4.to_string(),
        None => "unknown".into(),
    }
}

/// Whether the request came over https: only a trusted proxy's
/// `X-Forwarded-Proto` is believed.
pub fn forwarded_https(extensions: &Extensions, headers: &HeaderMap, proxies: &[IpNet]) -> bool {
    peer(extensions).is_some_and(|p| trusted(p, proxies))
        && headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, xff: Option<&str>, proxies: &[&str]) -> Option<IpAddr> {
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 5000)));
        let mut headers = HeaderMap::new();
        if let Some(x) = xff {
            headers.insert("x-forwarded-for", x.parse().unwrap());
        }
        let proxies: Vec<IpNet> = proxies.iter().map(|p| p.parse().unwrap()).collect();
        client_ip(&ext, &headers, &proxies)
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(from("203.0.113.9", Some("1.2.3.4"), &[]), ip("203.0.113.9"), "no proxy trusted: the peer");
        assert_eq!(from("10.0.0.2", Some("198.51.100.7"), &["10.0.0.0/8"]), ip("198.51.100.7"));
        // A client's own X-Forwarded-For comes first; the proxy appends the real peer.
        assert_eq!(from("10.0.0.2", Some("6.6.6.6, 198.51.100.7"), &["10.0.0.0/8"]), ip("198.51.100.7"));
        assert_eq!(from("10.0.0.2", Some("198.51.100.7, 10.0.0.3"), &["10.0.0.0/8"]), ip("198.51.100.7"));
        assert_eq!(from("10.0.0.2", Some("garbage"), &["10.0.0.0/8"]), ip("10.0.0.2"));
        assert_eq!(from("::ffff:10.0.0.2", Some("198.51.100.7"), &["10.0.0.0/8"]), ip("198.51.100.7"));
    }

    #[test]
    fn ipv6_clients_are_throttled_per_64() {
        let a = throttle_key(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = throttle_key(Some("2001:db8:1:2:bbbb::9".parse().unwrap()));
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_ne!(a, throttle_key(Some("2001:db8:1:3::1".parse().unwrap())));
        assert_eq!(throttle_key(Some("192.0.2.1".parse().unwrap())), "192.0.2.1");
    }
}
