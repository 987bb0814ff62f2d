//! The real `hawaf` binary as a server process: started on an OS-chosen
//! port, talked to over its API, killed with SIGKILL when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn hawaf() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hawaf"))
}

/// Starts `hawaf serve` on `db` (a file or a postgres:// URL) with `env`
/// added, and reads the address it logs.
pub fn start_with(db: impl AsRef<OsStr>, env: &[(&str, &str)]) -> Server {
    let mut cmd = hawaf();
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .env("HAWAF_DB", db)
        .env("HAWAF_LAB_SPEEDUP", "10")
        .env("RUST_LOG", "hawaf=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut said = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://").filter(|_| !said) {
                let url: String = line[at + "listening on ".len()..]
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                    .collect();
                said = true;
                let _ = tx.send(Ok(url));
            } else if !said && line.contains("ERROR") {
                let _ = tx.send(Err(line));
            }
        }
    });
    let base = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server says where it listens")
        .unwrap_or_else(|line| panic!("the server failed to start: {line}"));
    Server { child, base }
}

pub fn start(db: impl AsRef<OsStr>) -> Server {
    start_with(db, &[])
}

pub async fn api(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new().request(method, format!("{}/api/v1{path}", server.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

pub async fn until(server: &Server, token: &str, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, v) = api(server, token, reqwest::Method::GET, path, None).await;
        if check(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: {v:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Bootstraps an operator and an API token in a fresh database, as an admin would.
pub fn operator_token(db: impl AsRef<OsStr>) -> String {
    let db = db.as_ref();
    let mut add = hawaf()
        .args(["user", "add", "ops", "--role", "operator", "--password-stdin", "--db"])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    assert!(add.wait().unwrap().success());
    let out = hawaf().args(["token", "create", "--user", "ops", "--db"]).arg(db).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
