//! `hawaf-bench`: the load generator and stopwatch behind `scripts/bench`.
//! Bench tooling, not part of the product: it talks only to 127.0.0.1, every
//! loop is bounded in count and time, and each subcommand prints one line of
//! `key=value` figures on stdout (progress goes to stderr) for the script to
//! format. It reports; it never judges.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Parser, Subcommand};
use rand::Rng;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

#[derive(Parser)]
#[command(about = "Benchmark helpers for scripts/bench (loopback only)")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct Api {
    /// Base URL of a running hawaf, e.g. http://127.0.0.1:18080.
    #[arg(long)]
    url: String,
    /// API token (hawaf token create).
    #[arg(long)]
    token: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print a free loopback TCP port.
    FreePort,
    /// Sign in through the login form; prints the session cookie's value. Password on stdin.
    Login {
        #[arg(long)]
        url: String,
        #[arg(long)]
        user: String,
    },
    /// Create NAME (lab unless --definition says otherwise), build it and wait until both tiers are 2 of 2.
    Setup {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        stack: String,
    },
    /// Create COUNT unbuilt lab stacks named PREFIX-000…
    Stacks {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        prefix: String,
        #[arg(long, default_value_t = 100)]
        count: usize,
    },
    /// Measure 1: fault injected -> transition seen by an SSE subscriber.
    Detect {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        cookie: String,
        #[arg(long)]
        stack: String,
        /// Repetitions per fault kind (stop httpd on a web node; disable a WAF node).
        #[arg(long, default_value_t = 20)]
        reps: usize,
        /// The server's HAWAF_LAB_SPEEDUP, to put the bound in lab time.
        #[arg(long)]
        speedup: u32,
    },
    /// Open-loop load at a fixed rate; latency counted from each request's scheduled time.
    Rate {
        #[arg(long)]
        url: String,
        /// Extra request header, `Name: value`.
        #[arg(long)]
        header: Vec<String>,
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Most requests in flight at once (and keep-alive connections).
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Measure 3: N SSE subscribers, one transition; delivery latency and server RSS.
    Fanout {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        cookie: String,
        #[arg(long)]
        stack: String,
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// The server's process id, for VmRSS.
        #[arg(long)]
        pid: u32,
        /// Another replica of the same database: every other subscriber
        /// connects through it (measure 3b).
        #[arg(long)]
        also_url: Option<String>,
    },
    /// Create database NAME on the PostgreSQL server at URL (measure 3b).
    Createdb {
        #[arg(long)]
        url: String,
        #[arg(long)]
        name: String,
    },
    /// Measure 4: apply (then destroy) a stack RUNS times; the build's own start and end times.
    Build {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        stack: String,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Definition fields merged into `{"name"}` (e.g. an aws provider with an endpoint).
        #[arg(long)]
        definition: Option<String>,
        /// Count a build whose only failure is step 8 waiting for a WAF node's
        /// REST API token (a person's step on AWS; moto has no UTM): steps 1-7.
        #[arg(long)]
        through_step7: bool,
    },
    /// Tear a stack down (bounded wait).
    Teardown {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        stack: String,
    },
    /// Does this server build aws stacks? Prints available=1|0 and the server's answer.
    AwsProbe {
        #[command(flatten)]
        api: Api,
        #[arg(long)]
        endpoint: String,
    },
    /// Measure 5: process start -> GET /healthz 200, alternating two databases.
    Coldstart {
        #[arg(long)]
        bin: PathBuf,
        /// The database measured (e.g. 100 stacks).
        #[arg(long)]
        db: PathBuf,
        /// The reference database (e.g. empty).
        #[arg(long)]
        reference_db: PathBuf,
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::FreePort => {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", l.local_addr()?.port());
        }
        Cmd::Login { url, user } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            println!("{}", login(&url, &user, password.trim_end()).await?);
        }
        Cmd::Setup { api, stack } => {
            let c = ApiClient::new(&api);
            c.create_stack(&json!({"name": stack})).await?;
            let b = c.build(&stack, "apply").await?;
            if b["status"] != "succeeded" {
                bail!("build of {stack} did not succeed: {b}");
            }
            c.wait_health(&stack, |h| in_service(h, "external") == 2 && in_service(h, "internal") == 2).await?;
            println!("stack={stack} built=1");
        }
        Cmd::Stacks { api, prefix, count } => {
            let c = ApiClient::new(&api);
            for i in 0..count {
                c.create_stack(&json!({"name": format!("{prefix}-{i:03}")})).await?;
            }
            println!("stacks={count}");
        }
        Cmd::Detect { api, cookie, stack, reps, speedup } => detect(&api, &cookie, &stack, reps, speedup).await?,
        Cmd::Rate { url, header, rate, seconds, connections } => {
            let r = rate_run(&url, &header, rate, seconds, connections).await?;
            println!(
                "sent={} ok={} errors={} rate={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
                r.sent, r.ok, r.errors, r.achieved, r.p50, r.p99, r.max
            );
        }
        Cmd::Fanout { api, cookie, stack, subscribers, pid, also_url } => {
            let urls: Vec<String> = std::iter::once(api.url.clone()).chain(also_url).collect();
            fanout(&api, &urls, &cookie, &stack, subscribers, pid).await?
        }
        Cmd::Createdb { url, name } => {
            use sqlx::Connection as _;
            let mut admin = sqlx::postgres::PgConnection::connect(&format!("{url}/postgres")).await?;
            sqlx::query(&format!("CREATE DATABASE \"{}\"", name.replace('"', ""))).execute(&mut admin).await?;
        }
        Cmd::Build { api, stack, runs, definition, through_step7 } => {
            build_runs(&api, &stack, runs, definition.as_deref(), through_step7).await?
        }
        Cmd::AwsProbe { api, endpoint } => aws_probe(&api, &endpoint).await?,
        Cmd::Teardown { api, stack } => {
            let b = ApiClient::new(&api).build(&stack, "destroy").await?;
            println!("stack={stack} teardown={}", b["status"].as_str().unwrap_or("?"));
        }
        Cmd::Coldstart { bin, db, reference_db, runs } => coldstart(&bin, &db, &reference_db, runs)?,
    }
    Ok(())
}

// ---------- small helpers ----------

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank: the smallest value with at least p% of the sample at or below it.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn unix_ms_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn in_service(h: &Value, tier: &str) -> i64 {
    h["tiers"][tier]["in_service"].as_i64().unwrap_or(-1)
}

fn instance_state<'a>(h: &'a Value, tier: &str, node: &str) -> Option<&'a Value> {
    h["tiers"][tier]["instances"].as_array()?.iter().find(|i| i["name"] == node)
}

/// The state a tier panel fragment shows for `node` (`InService`, `OutOfService`, …).
fn fragment_state<'a>(html: &'a str, node: &str) -> Option<&'a str> {
    let row = &html[html.find(&format!("<strong>{node}</strong>"))?..];
    let span = &row[row.find("class=\"hstate")?..];
    let text = &span[span.find('>')? + 1..];
    Some(&text[..text.find('<')?])
}

struct ApiClient {
    http: Client,
    url: String,
    token: String,
}

impl ApiClient {
    fn new(api: &Api) -> Self {
        ApiClient { http: Client::new(), url: api.url.trim_end_matches('/').to_owned(), token: api.token.clone() }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<(StatusCode, Value)> {
        let mut req = self.http.request(method, format!("{}/api/v1{path}", self.url)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.timeout(Duration::from_secs(30)).send().await?;
        let status = res.status();
        let text = res.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value> {
        let (status, v) = self.call(method.clone(), path, body).await?;
        if !status.is_success() {
            bail!("{method} {path}: {status} {v}");
        }
        Ok(v)
    }

    /// Creates the stack unless it exists already.
    async fn create_stack(&self, def: &Value) -> Result<()> {
        let (status, v) = self.call(Method::POST, "/stacks", Some(def.clone())).await?;
        if status.is_success() || status == StatusCode::CONFLICT {
            return Ok(());
        }
        bail!("creating stack {}: {status} {v}", def["name"])
    }

    /// Starts an apply or destroy and waits (bounded) for its end; returns the build.
    async fn build(&self, stack: &str, kind: &str) -> Result<Value> {
        let started = self.ok(Method::POST, &format!("/stacks/{stack}/{kind}"), None).await?;
        let id = started["build_id"].as_i64().ok_or_else(|| anyhow!("no build_id in {started}"))?;
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let b = self.ok(Method::GET, &format!("/builds/{id}"), None).await?;
            if b["status"] != "running" {
                return Ok(b);
            }
            if Instant::now() > deadline {
                bail!("build {id} still running after 180 s");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn health(&self, stack: &str) -> Result<Value> {
        self.ok(Method::GET, &format!("/stacks/{stack}/health"), None).await
    }

    async fn wait_health(&self, stack: &str, check: impl Fn(&Value) -> bool) -> Result<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let h = self.health(stack).await?;
            if check(&h) {
                return Ok(h);
            }
            if Instant::now() > deadline {
                bail!("health of {stack} never reached the expected state: {h}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn fault(&self, stack: &str, node: &str, fault: &str) -> Result<()> {
        self.ok(Method::POST, &format!("/stacks/{stack}/faults"), Some(json!({"node": node, "fault": fault}))).await?;
        Ok(())
    }

    async fn waf(&self, stack: &str, node: &str, enabled: bool) -> Result<()> {
        self.ok(Method::POST, &format!("/stacks/{stack}/nodes/{node}/waf"), Some(json!({"enabled": enabled}))).await?;
        Ok(())
    }
}

async fn login(url: &str, user: &str, password: &str) -> Result<String> {
    let http = Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let res = http.get(format!("{url}/login")).send().await?;
    let login_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("hawaf_login_csrf="))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| anyhow!("no login CSRF cookie"))?
        .to_owned();
    let page = res.text().await?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).ok_or_else(|| anyhow!("no csrf_token field on /login"))? + marker.len();
    let csrf = page[start..].split('"').next().unwrap_or_default();
    let res = http
        .post(format!("{url}/login"))
        .header("cookie", login_cookie)
        .form(&[("username", user), ("password", password), ("csrf_token", csrf), ("next", "/stacks")])
        .send()
        .await?;
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("hawaf_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("sign-in of {user} failed: {}", res.status()))
}

// ---------- SSE ----------

/// A minimal text/event-stream reader: named events with their data.
struct Sse {
    res: reqwest::Response,
    /// Bytes received and not yet parsed; `scanned` of them are known to hold
    /// no event boundary. The parser only decodes complete events and never
    /// rescans: with a thousand streams on two cores shared with the server,
    /// a char-by-char parser was the largest cost in measure 3 (perf).
    buf: Vec<u8>,
    scanned: usize,
}

impl Sse {
    async fn open(http: &Client, url: &str, stack: &str, cookie: &str) -> Result<Sse> {
        let res = http
            .get(format!("{url}/stacks/{stack}/events"))
            .header("cookie", format!("hawaf_session={cookie}"))
            .send()
            .await?;
        if res.status() != StatusCode::OK {
            bail!("SSE answered {}", res.status());
        }
        Ok(Sse { res, buf: Vec::new(), scanned: 0 })
    }

    /// The next event (name, data); None when the stream ends.
    async fn next(&mut self) -> Result<Option<(String, String)>> {
        self.next_of(None).await
    }

    /// The next event, or with `only`, the next event of that name: others
    /// are skipped without decoding their data.
    async fn next_of(&mut self, only: Option<&str>) -> Result<Option<(String, String)>> {
        loop {
            let from = self.scanned.saturating_sub(1);
            if let Some(at) = self.buf[from..].windows(2).position(|w| w == b"\n\n") {
                let end = from + at;
                let block = &self.buf[..end];
                let wanted = only.is_none_or(|name| {
                    block
                        .strip_prefix(b"event: ")
                        .and_then(|r| r.strip_prefix(name.as_bytes()))
                        .is_some_and(|r| r.first() == Some(&b'\n'))
                });
                let parsed = if wanted { parse_event(block) } else { None };
                self.buf.drain(..end + 2);
                self.scanned = 0;
                match parsed {
                    Some(event) => return Ok(Some(event)),
                    None => continue, // a keep-alive comment, or not the one asked for
                }
            }
            self.scanned = self.buf.len();
            match self.res.chunk().await? {
                Some(bytes) => self.buf.extend_from_slice(&bytes),
                None => return Ok(None),
            }
        }
    }

    /// Reads until `event` shows `node` in `state`; bounded by `limit`.
    async fn until_state(&mut self, event: &str, node: &str, state: &str, limit: Duration) -> Result<Instant> {
        let wait = async {
            loop {
                let Some((_, data)) = self.next_of(Some(event)).await? else { bail!("the event stream ended") };
                if fragment_state(&data, node) == Some(state) {
                    return Ok(Instant::now());
                }
            }
        };
        tokio::time::timeout(limit, wait).await.map_err(|_| anyhow!("{node} not {state} within {limit:?}"))?
    }
}

/// One SSE event block (without its blank line) as (name, data); None for a
/// block with no data, such as a keep-alive comment.
fn parse_event(block: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(block);
    let mut name = "message";
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    (!data.is_empty()).then(|| (name.to_owned(), data.join("\n")))
}

// ---------- measure 1 ----------

async fn detect(api: &Api, cookie: &str, stack: &str, reps: usize, speedup: u32) -> Result<()> {
    let c = ApiClient::new(api);
    let s = c.ok(Method::GET, &format!("/stacks/{stack}"), None).await?;
    let d = &s["definition"];
    let interval = d["health_check"]["interval"].as_u64().ok_or_else(|| anyhow!("no health_check.interval"))?;
    let unhealthy = d["health_check"]["unhealthy_threshold"].as_u64().ok_or_else(|| anyhow!("no threshold"))?;
    let healthy = d["health_check"]["healthy_threshold"].as_u64().unwrap_or(2);
    let web = d["instances"]["web-left"]["name"].as_str().unwrap_or("ha-web-left").to_owned();
    let waf = d["instances"]["waf-left"]["name"].as_str().unwrap_or("ha-utm-left").to_owned();
    // The lab scales each interval the way LabConfig::scaled does (whole ms, at least 20).
    let interval_ms = (interval * 1000 / u64::from(speedup.max(1))).max(20);
    let bound_ms = (interval_ms * unhealthy) as f64;
    let limit = Duration::from_millis(interval_ms * (unhealthy.max(healthy) + 3) * 4);
    let http = Client::new();
    let mut sse = Sse::open(&http, &api.url, stack, cookie).await?;
    let (mut all, mut by_kind) = (Vec::new(), HashMap::<&str, Vec<f64>>::new());
    let started = Instant::now();
    for rep in 0..reps * 2 {
        let kind = if rep % 2 == 0 { "web" } else { "waf" };
        // A fault lands anywhere in the check cycle, as a real one would.
        let jitter = rand::rng().random_range(0..interval_ms.max(1));
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        let t0 = Instant::now();
        let seen = if kind == "web" {
            c.fault(stack, &web, "stop-httpd").await?;
            sse.until_state("tier-internal", &web, "OutOfService", limit).await?
        } else {
            c.waf(stack, &waf, false).await?;
            sse.until_state("tier-external", &waf, "OutOfService", limit).await?
        };
        let took = ms(seen - t0);
        all.push(took);
        by_kind.entry(kind).or_default().push(took);
        eprintln!("  detect {kind} #{}: {took:.0} ms", rep / 2 + 1);
        if kind == "web" {
            c.fault(stack, &web, "start-httpd").await?;
            sse.until_state("tier-internal", &web, "InService", limit).await?;
        } else {
            c.waf(stack, &waf, true).await?;
            sse.until_state("tier-external", &waf, "InService", limit).await?;
        }
    }
    let all = sorted(all);
    let med = |k: &str| percentile(&sorted(by_kind.get(k).cloned().unwrap_or_default()), 50.0);
    println!(
        "n={} median_ms={:.0} p95_ms={:.0} max_ms={:.0} bound_ms={bound_ms:.0} interval_s={interval} unhealthy_threshold={unhealthy} speedup={speedup} web_median_ms={:.0} waf_median_ms={:.0} wall_s={:.0}",
        all.len(),
        percentile(&all, 50.0),
        percentile(&all, 95.0),
        percentile(&all, 100.0),
        med("web"),
        med("waf"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---------- fixed-rate load ----------

struct RateResult {
    sent: usize,
    ok: usize,
    errors: usize,
    achieved: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

async fn rate_run(url: &str, headers: &[String], rate: u32, seconds: u32, connections: usize) -> Result<RateResult> {
    let mut map = reqwest::header::HeaderMap::new();
    for h in headers {
        let (k, v) = h.split_once(':').ok_or_else(|| anyhow!("header {h} is not Name: value"))?;
        map.insert(reqwest::header::HeaderName::from_bytes(k.trim().as_bytes())?, v.trim().parse()?);
    }
    let http = Client::builder().default_headers(map).pool_max_idle_per_host(connections).build()?;
    // Warm the connections and the server up; not counted.
    for _ in 0..50 {
        http.get(url).send().await?.bytes().await?;
    }
    let total = usize::try_from(u64::from(rate) * u64::from(seconds))?;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let gate = Arc::new(Semaphore::new(connections));
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<f64>>();
    let start = tokio::time::Instant::now() + Duration::from_millis(20);
    for i in 0..total {
        // Open loop: the schedule does not wait for answers, and a request's
        // latency counts from when it was due (no coordinated omission).
        let due = start + period.mul_f64(i as f64);
        tokio::time::sleep_until(due).await;
        let (http, gate, tx, url) = (http.clone(), gate.clone(), tx.clone(), url.to_owned());
        tokio::spawn(async move {
            let result = async {
                let _permit = gate.acquire_owned().await.ok()?;
                let res = http.get(&url).timeout(Duration::from_secs(10)).send().await.ok()?;
                let good = res.status() == StatusCode::OK;
                res.bytes().await.ok()?;
                good.then(|| ms(due.elapsed()))
            }
            .await;
            let _ = tx.send(result);
        });
    }
    drop(tx);
    let mut lat = Vec::with_capacity(total);
    let mut errors = 0;
    while let Ok(Some(r)) = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await {
        match r {
            Some(l) => lat.push(l),
            None => errors += 1,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let lat = sorted(lat);
    Ok(RateResult {
        sent: total,
        ok: lat.len(),
        errors,
        achieved: lat.len() as f64 / elapsed,
        p50: percentile(&lat, 50.0),
        p99: percentile(&lat, 99.0),
        max: percentile(&lat, 100.0),
    })
}

// ---------- measure 3 ----------

fn vm_status(pid: u32, field: &str) -> Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = text.lines().find(|l| l.starts_with(field)).ok_or_else(|| anyhow!("no {field} for {pid}"))?;
    let kb = line.split_whitespace().nth(1).ok_or_else(|| anyhow!("odd {line}"))?;
    Ok(kb.parse::<u64>()? / 1024)
}

/// CPU time (user + system) a process has used so far, in ms.
fn cpu_ms(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')').ok_or_else(|| anyhow!("odd /proc/{pid}/stat"))?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11).zip(fields.get(12)).ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?;
    // The kernel reports in clock ticks, USER_HZ, which is 100 on Linux.
    Ok((ticks.0.parse::<f64>()? + ticks.1.parse::<f64>()?) * 10.0)
}

fn parse_rfc3339_ms(s: &str) -> Result<f64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)?;
    Ok(t.unix_timestamp_nanos() as f64 / 1e6)
}

/// One fault, `n` subscribers: each one's delay from the monitor's
/// observation (the transition's time) to the fragment's arrival.
/// What one fan-out measured: each subscriber's delay (sorted), the server's
/// RSS, and the CPU time (ms) the server and this client spent meanwhile.
struct Fan {
    delays: Vec<f64>,
    rss_mib: u64,
    server_cpu_ms: f64,
    client_cpu_ms: f64,
}

/// Subscriber `i` connects to `urls[i % urls.len()]`; the fault goes through `api`.
async fn fan_once(
    api: &Api,
    urls: &[String],
    cookie: &str,
    stack: &str,
    node: &str,
    n: usize,
    pid: u32,
) -> Result<Fan> {
    let c = ApiClient::new(api);
    let http = Client::builder().pool_max_idle_per_host(0).build()?;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<()>>();
    let (go_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let connecting = Arc::new(Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (http, url, stack, cookie, node) =
            (http.clone(), urls[i % urls.len()].clone(), stack.to_owned(), cookie.to_owned(), node.to_owned());
        let (ready_tx, connecting) = (ready_tx.clone(), connecting.clone());
        let mut go = go_tx.subscribe();
        tasks.spawn(async move {
            let opened = async {
                let _permit = connecting.acquire().await?;
                let mut sse = Sse::open(&http, &url, &stack, &cookie).await?;
                // The snapshot ends with the nodes panel.
                loop {
                    match sse.next().await? {
                        Some((name, _)) if name == "nodes" => return Ok::<_, anyhow::Error>(sse),
                        Some(_) => {}
                        None => bail!("stream ended during the snapshot"),
                    }
                }
            }
            .await;
            let mut sse = match opened {
                Ok(s) => {
                    let _ = ready_tx.send(Ok(()));
                    s
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return None;
                }
            };
            go.recv().await.ok()?;
            sse.until_state("tier-internal", &node, "OutOfService", Duration::from_secs(60)).await.ok()?;
            Some(unix_ms_now())
        });
    }
    drop(ready_tx);
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut ready = 0;
    while ready < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => ready += 1,
            Ok(Some(Err(e))) => bail!("a subscriber could not connect: {e:#}"),
            Ok(None) | Err(_) => bail!("only {ready} of {n} subscribers connected"),
        }
    }
    let rss = vm_status(pid, "VmRSS:")?;
    eprintln!("  {n} subscribers connected; server VmRSS {rss} MiB");
    let _ = go_tx.send(());
    let cpu_before = (cpu_ms(&pid.to_string())?, cpu_ms("self")?);
    c.fault(stack, node, "stop-httpd").await?;
    let mut arrivals = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Some(at)) = joined {
            arrivals.push(at);
        }
    }
    // Where the time goes: the server and this client share the two cores.
    let (server_cpu_ms, client_cpu_ms) = (cpu_ms(&pid.to_string())? - cpu_before.0, cpu_ms("self")? - cpu_before.1);
    let rss_after = vm_status(pid, "VmRSS:")?;
    let h = c.wait_health(stack, |h| in_service(h, "internal") < 2).await?;
    let since = instance_state(&h, "internal", node)
        .and_then(|i| i["since"].as_str())
        .ok_or_else(|| anyhow!("no since for {node}"))?;
    let at = parse_rfc3339_ms(since)?;
    let lat: Vec<f64> = arrivals.iter().map(|a| a - at).collect();
    if lat.len() < n {
        eprintln!("  warning: {} of {n} subscribers saw the transition", lat.len());
    }
    c.fault(stack, node, "start-httpd").await?;
    c.wait_health(stack, |h| in_service(h, "internal") == 2).await?;
    Ok(Fan { delays: sorted(lat), rss_mib: rss.max(rss_after), server_cpu_ms, client_cpu_ms })
}

async fn fanout(api: &Api, urls: &[String], cookie: &str, stack: &str, n: usize, pid: u32) -> Result<()> {
    let c = ApiClient::new(api);
    let s = c.ok(Method::GET, &format!("/stacks/{stack}"), None).await?;
    let node = s["definition"]["instances"]["web-left"]["name"].as_str().unwrap_or("ha-web-left").to_owned();
    let idle = vm_status(pid, "VmRSS:")?;
    let one = fan_once(api, urls, cookie, stack, &node, 1, pid).await?;
    let many = fan_once(api, urls, cookie, stack, &node, n, pid).await?;
    let peak = vm_status(pid, "VmHWM:")?;
    println!(
        "subscribers={n} delivered={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} single_ms={:.1} rss_mib={} idle_rss_mib={idle} peak_rss_mib={peak} server_cpu_ms={:.0} client_cpu_ms={:.0} single_server_cpu_ms={:.0}",
        many.delays.len(),
        percentile(&many.delays, 50.0),
        percentile(&many.delays, 99.0),
        percentile(&many.delays, 100.0),
        percentile(&one.delays, 50.0),
        many.rss_mib,
        many.server_cpu_ms,
        many.client_cpu_ms,
        one.server_cpu_ms,
    );
    Ok(())
}

// ---------- measure 4 ----------

async fn build_runs(api: &Api, stack: &str, runs: usize, definition: Option<&str>, through_step7: bool) -> Result<()> {
    let c = ApiClient::new(api);
    let mut def = match definition {
        Some(text) => serde_json::from_str::<Value>(text).context("--definition is not JSON")?,
        None => json!({}),
    };
    def["name"] = json!(stack);
    c.create_stack(&def).await?;
    let mut times = Vec::new();
    let (mut call_counts, mut call_sums) = (Vec::new(), Vec::new());
    let mut failures: Vec<String> = Vec::new();
    // A failed build is recorded and retried (bounded), so one flaky run does
    // not leave the line without a figure; the failures are reported.
    for attempt in 0..runs * 2 {
        if times.len() == runs {
            break;
        }
        let b = c.build(stack, "apply").await?;
        let took = b["finished_at_ms"].as_f64().unwrap_or(f64::NAN) - b["started_at_ms"].as_f64().unwrap_or(f64::NAN);
        let only_token_wait = b["steps"].as_array().is_some_and(|steps| {
            steps.iter().filter(|s| s["status"] == "failed").all(|s| {
                s["number"] == 8 && s["error"].as_str().is_some_and(|e| e.contains("waiting for its REST API token"))
            }) && steps.iter().any(|s| s["status"] == "failed")
        });
        if b["status"] == "succeeded" || (through_step7 && only_token_wait) {
            // The time spent inside cloud calls (not waits), summed: beside the
            // wall time it shows how much the calls overlapped.
            let calls: Vec<f64> = b["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["calls"].as_array().into_iter().flatten())
                .filter(|c| c["operation"] != "Wait")
                .filter_map(|c| c["duration_ms"].as_f64())
                .collect();
            eprintln!(
                "  build {stack} #{}: {took:.0} ms, {} calls taking {:.0} ms",
                attempt + 1,
                calls.len(),
                calls.iter().sum::<f64>()
            );
            call_counts.push(calls.len() as f64);
            call_sums.push(calls.iter().sum::<f64>());
            times.push(took);
        } else {
            let failed: Vec<String> = b["steps"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .filter(|s| s["status"] == "failed")
                        .map(|s| format!("step {}: {}", s["number"], s["error"].as_str().unwrap_or("")))
                        .collect()
                })
                .unwrap_or_default();
            eprintln!("  build {stack} #{} {} after {took:.0} ms: {}", attempt + 1, b["status"], failed.join("; "));
            failures.push(failed.join("; "));
        }
        let d = c.build(stack, "destroy").await?;
        if d["status"] != "succeeded" {
            bail!("teardown of {stack} failed: {d}");
        }
    }
    if times.is_empty() {
        println!(
            "status=failed failures={} first_failure={:?}",
            failures.len(),
            failures.first().cloned().unwrap_or_default()
        );
        return Ok(());
    }
    let all = times.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(",");
    println!(
        "status=succeeded median_ms={:.0} runs_ms={all} failed_runs={} calls={:.0} calls_ms={:.0}",
        percentile(&sorted(times), 50.0),
        failures.len(),
        percentile(&sorted(call_counts), 50.0),
        percentile(&sorted(call_sums), 50.0),
    );
    Ok(())
}

async fn aws_probe(api: &Api, endpoint: &str) -> Result<()> {
    let c = ApiClient::new(api);
    let name = "bench-aws-probe";
    let def = json!({"name": name, "provider": "aws", "aws": {"region": "us-east-1", "endpoint_url": endpoint}});
    let (status, v) = c.call(Method::POST, "/stacks", Some(def)).await?;
    if !status.is_success() && status != StatusCode::CONFLICT {
        println!("available=0 answer={:?}", format!("create: {status} {v}"));
        return Ok(());
    }
    // Nothing listens at the endpoint: a server with the aws provider accepts
    // the build (which then fails to connect); one without refuses it at once.
    let (status, v) = c.call(Method::POST, &format!("/stacks/{name}/apply"), None).await?;
    let available = status == StatusCode::ACCEPTED;
    if let Some(id) = v["build_id"].as_i64() {
        // Let that doomed build end before anything else runs.
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let b = c.ok(Method::GET, &format!("/builds/{id}"), None).await?;
            if b["status"] != "running" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let answer = v["error"]["message"].as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    println!("available={} answer={answer:?}", u8::from(available));
    Ok(())
}

// ---------- measure 5 ----------

/// GET /healthz over a fresh connection; true on 200.
fn healthz(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn one_start(bin: &PathBuf, db: &PathBuf) -> Result<f64> {
    let port = free_port()?;
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--db"])
        .arg(db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = t0 + Duration::from_secs(20);
    let up = loop {
        if healthz(port) {
            break Some(t0.elapsed());
        }
        if Instant::now() > deadline || child.try_wait()?.is_some() {
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    // A clean stop (SIGTERM) so the next start finds the database as a stopped server leaves it.
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let stop_deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait()?.is_none() {
        if Instant::now() > stop_deadline {
            child.kill()?;
            child.wait()?;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    up.map(ms).ok_or_else(|| anyhow!("the server did not answer /healthz within 20 s"))
}

fn coldstart(bin: &PathBuf, db: &PathBuf, reference: &PathBuf, runs: usize) -> Result<()> {
    // One unmeasured start each warms the page cache for the binary and both files.
    one_start(bin, db)?;
    one_start(bin, reference)?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(one_start(bin, db)?);
        b.push(one_start(bin, reference)?);
    }
    let (a, b) = (sorted(a), sorted(b));
    println!(
        "runs={runs} median_ms={:.1} max_ms={:.1} reference_median_ms={:.1}",
        percentile(&a, 50.0),
        percentile(&a, 100.0),
        percentile(&b, 50.0)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_event;

    #[test]
    fn sse_blocks_parse_into_name_and_joined_data() {
        assert_eq!(
            parse_event(b"event: tier-internal\ndata: <div>\ndata: </div>"),
            Some(("tier-internal".into(), "<div>\n</div>".into()))
        );
        assert_eq!(parse_event(b"data:x"), Some(("message".into(), "x".into())));
        assert_eq!(parse_event(b": keep-alive"), None);
    }
}
