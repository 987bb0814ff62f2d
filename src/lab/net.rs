//! Loopback addressing, security-group evaluation, listeners and outbound
//! connections bound to a node's own address.
//!
//! Addressing: a VPC gets a slot `s` (1..=254) when it is created; a node
//! with private IP `p` in a VPC whose network is `n` (at most a /16) lives at
//! `127.s.hi.lo` where `hi.lo` is the 16-bit offset `p - n`. Two stacks may
//! both use 10.0.0.0/16 and still never share an address. 127.0.0.0/16 is
//! never a slot, so 127.0.0.1 is always "the internet". Ports are chosen by
//! the OS, so parallel labs never clash either.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use ipnet::Ipv4Net;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::cloud::{IngressRule, RuleSource, SecurityGroup};

/// The loopback address of private IP `ip` in a VPC with network `vpc` and
/// slot `slot`. `None` when `ip` is outside the VPC.
pub fn loopback_for(slot: u8, vpc: Ipv4Net, ip: Ipv4Addr) -> Option<Ipv4Addr> {
    if !vpc.contains(&ip) || vpc.prefix_len() < 16 {
        return None;
    }
    let offset = u32::from(ip) - u32::from(vpc.network());
    Some(Ipv4Addr::new(127, slot, (offset >> 8) as u8, offset as u8))
}

/// The inverse of [`loopback_for`]: the private IP behind a loopback address.
pub fn private_for(vpc: Ipv4Net, addr: Ipv4Addr) -> Ipv4Addr {
    let [_, _, hi, lo] = addr.octets();
    Ipv4Addr::from(u32::from(vpc.network()) + ((hi as u32) << 8) + lo as u32)
}

/// AWS reserves the first four addresses and the last one of every subnet.
pub fn is_reserved(subnet: Ipv4Net, ip: Ipv4Addr) -> bool {
    let off = u32::from(ip) - u32::from(subnet.network());
    off < 4 || ip == subnet.broadcast()
}

/// Usable addresses in a subnet (size minus AWS's five reserved).
pub fn usable_count(subnet: Ipv4Net) -> u32 {
    (1u32 << (32 - subnet.prefix_len())).saturating_sub(5)
}

pub fn cidrs_overlap(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Who is on the other end of a connection, as the lab knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The connecting socket's address (127.x.y.z).
    pub addr: Ipv4Addr,
    /// Set when the address belongs to a lab node.
    pub node: Option<PeerNode>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerNode {
    pub vpc_id: String,
    pub private_ip: Ipv4Addr,
    pub groups: Vec<String>,
}

/// Does any rule of `groups` admit TCP `port` from `peer`, for a listener in
/// `vpc_id`? Same-VPC peers are matched by private IP and group membership;
/// anyone else is the internet and matched by the address it connects from
/// (127.0.0.1 for a browser or prober on this host), never by group.
pub fn sg_allows(groups: &[&SecurityGroup], vpc_id: &str, port: u16, peer: &Peer) -> bool {
    let local = peer.node.as_ref().filter(|n| n.vpc_id == vpc_id);
    groups.iter().flat_map(|g| g.ingress.iter()).any(|rule| rule_allows(rule, port, peer.addr, local))
}

fn rule_allows(rule: &IngressRule, port: u16, addr: Ipv4Addr, local: Option<&PeerNode>) -> bool {
    let proto_ok = rule.protocol == "tcp" || rule.protocol == "6" || rule.protocol == "-1";
    let port_ok = rule.protocol == "-1" || (rule.from_port..=rule.to_port).contains(&port);
    if !proto_ok || !port_ok {
        return false;
    }
    match &rule.source {
        RuleSource::Cidr(net) => match local {
            Some(n) => net.contains(&n.private_ip),
            None => net.contains(&addr),
        },
        RuleSource::Group(g) => local.is_some_and(|n| n.groups.iter().any(|x| x == g)),
    }
}

/// Binds a listener on `ip`, on `preferred` when it is free, else on a port
/// the OS picks.
pub fn bind(ip: Ipv4Addr, preferred: Option<u16>) -> io::Result<std::net::TcpListener> {
    if let Some(p) = preferred.filter(|p| *p != 0)
        && let Ok(l) = std::net::TcpListener::bind(SocketAddrV4::new(ip, p))
    {
        return Ok(l);
    }
    std::net::TcpListener::bind(SocketAddrV4::new(ip, 0))
}

/// Decides per accepted connection whether the node's groups admit it.
pub type Gate = Arc<dyn Fn(Ipv4Addr) -> bool + Send + Sync>;
/// Called when the accept loop dies, to report it on the node.
pub type OnFailure = Box<dyn FnOnce(String) + Send>;

/// A running listener. Dropping it closes the port and every connection it
/// accepted, which is how a stopped server looks to its clients.
pub struct ListenerHandle {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ListenerHandle {
    /// The accept loop ended on its own (it failed and reported why).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for ListenerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the accept loop: each connection first passes `gate` (refused ones
/// are closed at once, as a security group would drop them) and is then
/// handed to `serve`.
pub fn spawn_listener<S, F>(
    std_listener: std::net::TcpListener,
    gate: Gate,
    on_failure: OnFailure,
    serve: S,
) -> io::Result<ListenerHandle>
where
    S: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    std_listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(std_listener)?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // Owning the connections here means aborting this task ends them too.
        let mut conns = JoinSet::new();
        let mut consecutive_errors = 0u32;
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        consecutive_errors = 0;
                        let allowed = match peer.ip() {
                            std::net::IpAddr::V4(v4) => gate(v4),
                            std::net::IpAddr::V6(_) => false,
                        };
                        if !allowed {
                            tracing::debug!(%addr, %peer, "connection refused by security groups");
                            drop(stream);
                            continue;
                        }
                        conns.spawn(serve(stream, peer));
                    }
                    Err(e) => {
                        // Running out of descriptors is transient; anything
                        // persistent is reported on the node.
                        consecutive_errors += 1;
                        tracing::warn!(%addr, error = %e, "accept failed");
                        if consecutive_errors >= 50 {
                            on_failure(format!("listener {addr} stopped: {e}"));
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                },
                Some(joined) = conns.join_next(), if !conns.is_empty() => {
                    if let Err(e) = joined && e.is_panic() {
                        tracing::error!(%addr, "connection task panicked");
                    }
                }
            }
        }
    });
    Ok(ListenerHandle { addr, task })
}

/// Connects to `dest` from the node's own address, so the receiver sees the
/// real source and can apply its security groups.
pub async fn connect_from(local: Ipv4Addr, dest: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::V4(SocketAddrV4::new(local, 0)))?;
    match tokio::time::timeout(timeout, socket.connect(dest)).await {
        Ok(r) => {
            let s = r?;
            s.set_nodelay(true)?;
            Ok(s)
        }
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::Tags;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }
    fn group(id: &str, rules: Vec<IngressRule>) -> SecurityGroup {
        SecurityGroup {
            id: id.into(),
            vpc_id: "vpc-1".into(),
            name: id.into(),
            description: String::new(),
            ingress: rules,
            tags: Tags::new(),
        }
    }
    fn node(ipa: &str, groups: &[&str]) -> Peer {
        Peer {
            addr: ip("127.1.20.5"),
            node: Some(PeerNode {
                vpc_id: "vpc-1".into(),
                private_ip: ip(ipa),
                groups: groups.iter().map(|g| g.to_string()).collect(),
            }),
        }
    }
    fn internet() -> Peer {
        Peer { addr: ip("127.0.0.1"), node: None }
    }

    #[test]
    fn a_private_ip_maps_to_a_loopback_address_in_its_vpc_slot() {
        let vpc = net("10.0.0.0/16");
        assert_eq!(loopback_for(3, vpc, ip("10.0.20.5")), Some(ip("127.3.20.5")));
        assert_eq!(private_for(vpc, ip("127.3.20.5")), ip("10.0.20.5"));
        assert_eq!(loopback_for(3, vpc, ip("10.1.0.5")), None);
        let small = net("192.168.4.0/24");
        assert_eq!(loopback_for(2, small, ip("192.168.4.10")), Some(ip("127.2.0.10")));
    }

    #[test]
    fn aws_reserves_the_first_four_and_the_last_address_of_a_subnet() {
        let s = net("10.0.10.0/24");
        for r in ["10.0.10.0", "10.0.10.1", "10.0.10.2", "10.0.10.3", "10.0.10.255"] {
            assert!(is_reserved(s, ip(r)), "{r}");
        }
        assert!(!is_reserved(s, ip("10.0.10.4")));
        assert!(!is_reserved(s, ip("10.0.10.254")));
        assert_eq!(usable_count(s), 251);
    }

    #[test]
    fn overlapping_cidrs_are_detected_both_ways() {
        assert!(cidrs_overlap(net("10.0.0.0/16"), net("10.0.10.0/24")));
        assert!(cidrs_overlap(net("10.0.10.0/24"), net("10.0.10.128/25")));
        assert!(cidrs_overlap(net("10.0.10.128/25"), net("10.0.10.0/24")));
        assert!(!cidrs_overlap(net("10.0.10.0/24"), net("10.0.11.0/24")));
    }

    #[test]
    fn a_group_source_admits_members_of_that_group_only() {
        let web = group("sg-web", vec![IngressRule::tcp_from_group(80, "sg-lbint")]);
        assert!(sg_allows(&[&web], "vpc-1", 80, &node("10.0.20.9", &["sg-lbint"])));
        assert!(!sg_allows(&[&web], "vpc-1", 80, &node("10.0.10.10", &["sg-utm"])));
        assert!(!sg_allows(&[&web], "vpc-1", 22, &node("10.0.20.9", &["sg-lbint"])));
        assert!(!sg_allows(&[&web], "vpc-1", 80, &internet()));
    }

    #[test]
    fn a_group_source_never_admits_a_node_of_another_vpc() {
        let web = group("sg-web", vec![IngressRule::tcp_from_group(80, "sg-lbint")]);
        let mut other = node("10.0.20.9", &["sg-lbint"]);
        if let Some(n) = other.node.as_mut() {
            n.vpc_id = "vpc-2".into();
        }
        assert!(!sg_allows(&[&web], "vpc-1", 80, &other));
    }

    #[test]
    fn a_cidr_source_matches_private_ips_inside_and_the_loopback_source_outside() {
        let lbext = group("sg-lbext", vec![IngressRule::tcp_from_cidr(80, net("0.0.0.0/0"))]);
        assert!(sg_allows(&[&lbext], "vpc-1", 80, &internet()));
        let admin = group("sg-utm", vec![IngressRule::tcp_from_cidr(4444, net("127.0.0.1/32"))]);
        assert!(sg_allows(&[&admin], "vpc-1", 4444, &internet()));
        assert!(!sg_allows(&[&admin], "vpc-1", 4444, &node("10.0.10.10", &[])));
        let vpc_only = group("sg-x", vec![IngressRule::tcp_from_cidr(80, net("10.0.0.0/16"))]);
        assert!(sg_allows(&[&vpc_only], "vpc-1", 80, &node("10.0.10.10", &[])));
        assert!(!sg_allows(&[&vpc_only], "vpc-1", 80, &internet()));
    }

    #[test]
    fn an_empty_group_admits_nothing_and_all_traffic_admits_everything() {
        let empty = group("sg-q", vec![]);
        assert!(!sg_allows(&[&empty], "vpc-1", 80, &internet()));
        let all = group(
            "sg-all",
            vec![IngressRule {
                protocol: "-1".into(),
                from_port: 0,
                to_port: 0,
                source: RuleSource::Cidr(net("0.0.0.0/0")),
            }],
        );
        assert!(sg_allows(&[&empty, &all], "vpc-1", 4444, &internet()));
    }

    #[test]
    fn port_ranges_are_inclusive() {
        let g = group(
            "sg-r",
            vec![IngressRule {
                protocol: "tcp".into(),
                from_port: 8000,
                to_port: 8080,
                source: RuleSource::Cidr(net("0.0.0.0/0")),
            }],
        );
        assert!(sg_allows(&[&g], "vpc-1", 8000, &internet()));
        assert!(sg_allows(&[&g], "vpc-1", 8080, &internet()));
        assert!(!sg_allows(&[&g], "vpc-1", 8081, &internet()));
    }
}
