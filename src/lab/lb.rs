//! Load-balancer nodes: the health checker (classic ELB's state machine) and
//! the per-request round-robin reverse proxy.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use super::http::{self, Body};
use super::net::connect_from;
use super::state::{DESC_IN_SERVICE, DESC_UNHEALTHY, HealthRec, now_ms};
use super::{Shared, World, lb_loopback, listener_addr};
use crate::cloud::{HealthCheck, HealthState, HealthTarget, InstanceState};

/// How long the proxy waits for a backend (classic ELB's idle timeout).
const BACKEND_TIMEOUT: Duration = Duration::from_secs(60);

enum Outcome {
    Pass,
    Fail(String),
    NotRunning(InstanceState),
}

struct Plan {
    hc: HealthCheck,
    target: HealthTarget,
    from: Ipv4Addr,
    targets: Vec<(String, Result<Option<SocketAddr>, InstanceState>)>,
}

fn plan(w: &World, name: &str) -> Option<Plan> {
    let lb = w.snap.load_balancers.get(name)?;
    let hc = lb.lb.health_check.clone();
    // The API validated the target; a bad one here means a hand-edited
    // snapshot, which simply never passes.
    let target =
        HealthTarget::parse(&hc.target).unwrap_or(HealthTarget { protocol: "TCP".into(), port: 0, path: None });
    let from = lb_loopback(w, &lb.lb.vpc_id, lb.private_ip)?;
    let targets = lb
        .lb
        .instances
        .iter()
        .map(|id| {
            let state = w.snap.instances.get(id).map(|r| r.instance.state).unwrap_or(InstanceState::Terminated);
            let t = if state == InstanceState::Running { Ok(listener_addr(w, id, target.port)) } else { Err(state) };
            (id.clone(), t)
        })
        .collect();
    Some(Plan { hc, target, from, targets })
}

/// Runs the configured health check against every registered instance,
/// forever (the task is aborted when the load balancer goes).
pub(crate) async fn run_checker(shared: Arc<Shared>, name: String, kick: Arc<tokio::sync::Notify>) {
    loop {
        let Some(p) = plan(&shared.lock(), &name) else {
            return;
        };
        let timeout = shared.cfg.scaled(p.hc.timeout);
        let interval = shared.cfg.scaled(p.hc.interval);
        let mut checks = JoinSet::new();
        for (id, t) in p.targets {
            let target = p.target.clone();
            let from = p.from;
            checks.spawn(async move {
                let outcome = match t {
                    Err(state) => Outcome::NotRunning(state),
                    Ok(None) => Outcome::Fail("connection refused".into()),
                    Ok(Some(addr)) => check(from, addr, &target, timeout).await,
                };
                (id, outcome)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = checks.join_next().await {
            if let Ok(r) = joined {
                results.push(r);
            }
        }
        if apply(&shared, &name, &p.hc, results) {
            shared.bump_health();
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = kick.notified() => {}
        }
    }
}

async fn check(from: Ipv4Addr, addr: SocketAddr, target: &HealthTarget, timeout: Duration) -> Outcome {
    let work = async {
        let stream = connect_from(from, addr, timeout).await.map_err(|e| e.to_string())?;
        // The lab speaks TLS only on UTM admin ports, so HTTPS and SSL
        // targets are checked as TCP: connected and not refused.
        match target.path.as_deref() {
            Some(path) if target.protocol == "HTTP" => http_check(stream, path).await,
            _ => tcp_check(stream, timeout).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(e)) => Outcome::Fail(e),
        Err(_) => Outcome::Fail("Request timed out".into()),
    }
}

async fn http_check(stream: TcpStream, path: &str) -> Result<(), String> {
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = Request::get(path)
        .header("host", "elb-healthchecker")
        .header("user-agent", "ELB-HealthChecker/1.0")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    // Drain so the server sees a clean exchange.
    let _ = resp.into_body().collect().await;
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(format!("Health checks failed with these codes: [{}]", status.as_u16()))
    }
}

/// A TCP check passes when the connection stays open: a listener whose
/// security groups refuse us accepts and closes at once.
async fn tcp_check(mut stream: TcpStream, timeout: Duration) -> Result<(), String> {
    let mut buf = [0u8; 1];
    match tokio::time::timeout(timeout / 4, stream.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Err("connection closed".into()),
        _ => Ok(()),
    }
}

/// Applies one round of results; true when some instance changed state.
fn apply(shared: &Shared, name: &str, hc: &HealthCheck, results: Vec<(String, Outcome)>) -> bool {
    let mut w = shared.lock();
    let Some(lb) = w.snap.load_balancers.get_mut(name) else {
        return false;
    };
    let mut changed = false;
    for (id, outcome) in results {
        let Some(rec) = lb.health.get_mut(&id) else {
            continue;
        };
        let before = rec.state;
        step(rec, hc, outcome);
        if rec.state != before {
            changed = true;
            rec.since_ms = now_ms();
            tracing::info!(
                lb = %name, instance = %id,
                from = before.as_str(), to = rec.state.as_str(),
                reason = ?rec.last_failure, "instance health changed"
            );
        }
    }
    changed
}

/// Classic ELB's state machine for one instance and one check result.
fn step(rec: &mut HealthRec, hc: &HealthCheck, outcome: Outcome) {
    match outcome {
        Outcome::NotRunning(state) => {
            rec.ok_streak = 0;
            rec.fail_streak = 0;
            rec.state = HealthState::OutOfService;
            rec.reason_code = "Instance".into();
            rec.description = format!("Instance is in {} state.", state.as_str());
        }
        Outcome::Pass => {
            rec.fail_streak = 0;
            rec.ok_streak = rec.ok_streak.saturating_add(1);
            rec.last_failure = None;
            if rec.state != HealthState::InService && rec.ok_streak >= hc.healthy_threshold {
                rec.state = HealthState::InService;
                rec.reason_code = "N/A".into();
                rec.description = DESC_IN_SERVICE.into();
            }
        }
        Outcome::Fail(why) => {
            rec.ok_streak = 0;
            rec.fail_streak = rec.fail_streak.saturating_add(1);
            rec.last_failure = Some(why);
            if rec.fail_streak >= hc.unhealthy_threshold {
                rec.state = HealthState::OutOfService;
                rec.reason_code = "Instance".into();
                rec.description = DESC_UNHEALTHY.into();
            }
        }
    }
}

/// Serves one client connection of a load balancer's listener.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    name: String,
    instance_port: u16,
    ip: Ipv4Addr,
    stream: TcpStream,
    peer: SocketAddr,
) {
    http::serve_connection(stream, move |req| handle(shared.clone(), name.clone(), instance_port, ip, peer, req)).await;
}

/// A network load balancer's listener: one client connection is one flow,
/// relayed as bytes to one healthy target (no HTTP, no X-Forwarded-For),
/// chosen when the connection opens.
pub(crate) async fn relay_tcp(
    shared: Arc<Shared>,
    name: String,
    instance_port: u16,
    ip: Ipv4Addr,
    mut stream: TcpStream,
) {
    let picked = pick(&mut shared.lock(), &name, instance_port);
    let Pick::At(addr) = picked else {
        // No healthy target: a network load balancer resets the connection.
        return;
    };
    match connect_from(ip, addr, BACKEND_CONNECT_TIMEOUT).await {
        Ok(mut backend) => {
            if let Err(e) = tokio::io::copy_bidirectional(&mut stream, &mut backend).await {
                tracing::trace!(lb = %name, error = %e, "flow ended");
            }
        }
        Err(e) => tracing::debug!(lb = %name, error = %e, "target refused the flow"),
    }
}

/// How long a network load balancer waits to open a flow to a target.
const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

enum Pick {
    NoneInService,
    Gone(String),
    At(SocketAddr),
}

fn pick(w: &mut World, name: &str, instance_port: u16) -> Pick {
    let Some(lb) = w.snap.load_balancers.get(name) else {
        return Pick::NoneInService;
    };
    let in_service: Vec<String> = lb
        .lb
        .instances
        .iter()
        .filter(|id| {
            lb.health.get(*id).is_some_and(|h| h.state == HealthState::InService)
                && w.snap.instances.get(*id).is_some_and(|r| r.instance.state == InstanceState::Running)
        })
        .cloned()
        .collect();
    if in_service.is_empty() {
        return Pick::NoneInService;
    }
    let counter = w.rt.round_robin.entry(name.to_string()).or_insert(0);
    // In range: `in_service` is not empty (checked above).
    let id = &in_service[*counter % in_service.len()];
    *counter = counter.wrapping_add(1);
    match listener_addr(w, id, instance_port) {
        Some(a) => Pick::At(a),
        None => Pick::Gone(id.clone()),
    }
}

async fn handle(
    shared: Arc<Shared>,
    name: String,
    instance_port: u16,
    ip: Ipv4Addr,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let picked = pick(&mut shared.lock(), &name, instance_port);
    match picked {
        Pick::NoneInService => http::html_status(StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable"),
        Pick::Gone(id) => {
            tracing::debug!(lb = %name, instance = %id, "backend not listening");
            http::html_status(StatusCode::BAD_GATEWAY, "502 Bad Gateway")
        }
        Pick::At(addr) => match http::forward(ip, addr, peer, req, BACKEND_TIMEOUT).await {
            Ok(resp) => http::relay(resp),
            Err(e) => {
                tracing::debug!(lb = %name, error = %e, "backend failed");
                http::html_status(e.status(), e.status().as_str())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc() -> HealthCheck {
        HealthCheck {
            target: "HTTP:80/index.html".into(),
            interval: 5,
            timeout: 2,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
        }
    }

    #[test]
    fn a_new_instance_goes_in_service_after_the_healthy_threshold() {
        let mut r = HealthRec::registering();
        step(&mut r, &hc(), Outcome::Pass);
        assert_eq!(r.state, HealthState::OutOfService);
        assert_eq!(r.description, "Instance registration is still in progress.");
        step(&mut r, &hc(), Outcome::Pass);
        assert_eq!(r.state, HealthState::InService);
    }

    #[test]
    fn an_instance_goes_out_after_the_unhealthy_threshold_consecutively() {
        let mut r = HealthRec::registering();
        step(&mut r, &hc(), Outcome::Pass);
        step(&mut r, &hc(), Outcome::Pass);
        step(&mut r, &hc(), Outcome::Fail("x".into()));
        step(&mut r, &hc(), Outcome::Fail("x".into()));
        step(&mut r, &hc(), Outcome::Pass);
        step(&mut r, &hc(), Outcome::Fail("x".into()));
        step(&mut r, &hc(), Outcome::Fail("x".into()));
        assert_eq!(r.state, HealthState::InService);
        step(&mut r, &hc(), Outcome::Fail("x".into()));
        assert_eq!(r.state, HealthState::OutOfService);
        assert_eq!(r.reason_code, "Instance");
        assert_eq!(r.description, DESC_UNHEALTHY);
    }

    #[test]
    fn a_stopped_instance_is_out_of_service_with_its_state_named() {
        let mut r = HealthRec::registering();
        step(&mut r, &hc(), Outcome::NotRunning(InstanceState::Stopped));
        assert_eq!(r.description, "Instance is in stopped state.");
        assert_eq!(r.reason_code, "Instance");
    }
}
