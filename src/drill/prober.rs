//! The prober: requests the external LB at a steady rate for the whole
//! drill and records every request (time, status, which web server
//! answered, latency). Results go to memory, for the runner's stop
//! conditions, and to the database in batches.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::SharedApp;
use crate::events::Event;
use crate::store::{ProbeRow, now_ms};

/// Answers slower than this count as a timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How often recorded probes are written and the page told.
const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Requests in flight at most; beyond it a tick is skipped rather than
/// piling up load on a sick stack.
const MAX_IN_FLIGHT: usize = 64;
/// No drill sends more than this many probes, whatever its settings.
pub const MAX_PROBES: usize = 20_000;

pub struct ProberConfig {
    pub drill_id: i64,
    pub stack: String,
    pub url: String,
    pub rate: u32,
    /// The two web servers' Names, as the answers carry them.
    pub servers: [String; 2],
}

/// What the runner asks of the probes so far.
#[derive(Default)]
pub struct ProbeLog {
    pub probes: Vec<ProbeRow>,
}

impl ProbeLog {
    pub fn failures_since(&self, at: i64) -> u64 {
        self.probes.iter().filter(|p| p.at >= at && p.error.is_some()).count() as u64
    }

    pub fn requests_since(&self, at: i64) -> u64 {
        self.probes.iter().filter(|p| p.at >= at).count() as u64
    }

    /// Whether a good answer sent at or after `at` came from `server`
    /// (any server when `None`).
    pub fn served_since(&self, at: i64, server: Option<&str>) -> bool {
        self.probes
            .iter()
            .any(|p| p.at >= at && p.error.is_none() && server.is_none_or(|s| p.server.as_deref() == Some(s)))
    }
}

pub struct Prober {
    log: Arc<Mutex<ProbeLog>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Prober {
    /// Starts probing; `phase` says which phase each probe belongs to.
    pub fn start(app: SharedApp, cfg: ProberConfig, phase: watch::Receiver<usize>) -> Result<Prober, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            // A fresh connection per probe, like independent visitors: a kept-alive
            // connection would hide a node whose listener has closed.
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let log = Arc::new(Mutex::new(ProbeLog::default()));
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(run(app, cfg, http, phase, log.clone(), stop_rx));
        Ok(Prober { log, stop: Some(stop_tx), task })
    }

    pub fn log(&self) -> MutexGuard<'_, ProbeLog> {
        lock(&self.log)
    }

    /// Stops sending, waits for the requests in flight (bounded by their
    /// timeout) and writes the last batch.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Err(e) = (&mut self.task).await {
            tracing::error!(error = %e, "the prober task failed");
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        // A runner that ends without stop() must not leave traffic running.
        self.task.abort();
    }
}

fn lock(log: &Mutex<ProbeLog>) -> MutexGuard<'_, ProbeLog> {
    // Probes are appended whole; a panicked holder cannot leave one half-written.
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// Which web server an answer names, from its body.
pub fn classify(status: u16, body: &str, servers: &[String; 2]) -> (Option<String>, Option<String>) {
    // The longest matching name wins, should one Name contain the other.
    let server = servers.iter().filter(|s| body.contains(s.as_str())).max_by_key(|s| s.len()).cloned();
    let error = match (status, &server) {
        (200, Some(_)) => None,
        (200, None) => Some("unknown-body".to_owned()),
        (s, _) => Some(format!("http-{s}")),
    };
    (server, error)
}

fn error_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

async fn probe(http: reqwest::Client, url: String, servers: [String; 2], seq: i64, phase: usize) -> ProbeRow {
    let at = now_ms();
    let started = Instant::now();
    let result = async {
        let res = http.get(&url).send().await?;
        let status = res.status().as_u16();
        // The server's name is near the top of the page; the rest of a page
        // however large is not read.
        let (body, _) = crate::limits::read_capped(res, crate::limits::ANSWER_LIMIT).await?;
        Ok::<_, reqwest::Error>((status, String::from_utf8_lossy(&body).into_owned()))
    }
    .await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (status, server, error) = match result {
        Ok((status, body)) => {
            let (server, error) = classify(status, &body, &servers);
            (Some(i64::from(status)), server, error)
        }
        Err(e) => (None, None, Some(error_kind(&e).to_owned())),
    };
    ProbeRow { seq, at, phase: phase as i64, status, server, error, latency_ms }
}

async fn run(
    app: SharedApp,
    cfg: ProberConfig,
    http: reqwest::Client,
    phase: watch::Receiver<usize>,
    log: Arc<Mutex<ProbeLog>>,
    mut stop: oneshot::Receiver<()>,
) {
    let period = Duration::from_secs_f64(1.0 / f64::from(cfg.rate.max(1)));
    let mut ticks = tokio::time::interval(period);
    // A late tick is dropped, not bunched: the rate stays steady.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut flush = tokio::time::interval(FLUSH_EVERY);
    let mut in_flight = FuturesUnordered::new();
    let mut batch: Vec<ProbeRow> = Vec::new();
    let mut seq: i64 = 0;
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = ticks.tick(), if !stopping && (seq as usize) < MAX_PROBES => {
                if in_flight.len() < MAX_IN_FLIGHT {
                    let current = *phase.borrow();
                    in_flight.push(probe(http.clone(), cfg.url.clone(), cfg.servers.clone(), seq, current));
                    seq += 1;
                }
            }
            Some(p) = in_flight.next(), if !in_flight.is_empty() => {
                lock(&log).probes.push(p.clone());
                batch.push(p);
            }
            _ = flush.tick() => write(&app, &cfg, &mut batch).await,
            _ = &mut stop, if !stopping => stopping = true,
        }
        if stopping && in_flight.is_empty() {
            break;
        }
    }
    write(&app, &cfg, &mut batch).await;
}

async fn write(app: &SharedApp, cfg: &ProberConfig, batch: &mut Vec<ProbeRow>) {
    if batch.is_empty() {
        return;
    }
    // Probes arrive in completion order; the table is read in send order.
    batch.sort_by_key(|p| p.seq);
    match app.store.insert_probes(cfg.drill_id, batch).await {
        Ok(()) => app.bus.publish(Event::DrillProgress { stack: cfg.stack.clone(), drill_id: cfg.drill_id }),
        Err(e) => tracing::error!(drill = cfg.drill_id, error = %e, "cannot record probes"),
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_the_server_they_name() {
        let servers = ["ha-web-left".to_owned(), "ha-web-right".to_owned()];
        assert_eq!(
            classify(200, "<html><body>ha-web-right</body></html>", &servers),
            (Some("ha-web-right".into()), None)
        );
        assert_eq!(classify(200, "hello", &servers), (None, Some("unknown-body".into())));
        assert_eq!(classify(502, "502 Bad Gateway", &servers), (None, Some("http-502".into())));
        let nested = ["web".to_owned(), "web-2".to_owned()];
        assert_eq!(classify(200, "web-2", &nested).0.as_deref(), Some("web-2"));
    }
}
