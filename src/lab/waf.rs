//! A lab UTM node's port-80 side: the web application firewall's filter
//! rules and the reverse proxy to the configured real webserver.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpStream;

use super::Shared;
use super::http::{self, Body};
use super::utm::{self, FilterMode};

/// Largest request body the node accepts (it buffers bodies to inspect them).
const MAX_BODY: usize = 1024 * 1024;
/// How much of a body the filter reads: "small bodies".
const INSPECT_LIMIT: usize = 64 * 1024;
const BACKEND_TIMEOUT: Duration = Duration::from_secs(300);

/// The filter's verdict: which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    SqlInjection,
    CrossSiteScripting,
    PathTraversal,
}

impl Rule {
    pub const ALL: [Rule; 3] = [Rule::SqlInjection, Rule::CrossSiteScripting, Rule::PathTraversal];

    pub fn name(self) -> &'static str {
        match self {
            Self::SqlInjection => "sql-injection",
            Self::CrossSiteScripting => "xss",
            Self::PathTraversal => "path-traversal",
        }
    }
}

/// Decodes percent-escapes (repeatedly, so double encoding does not hide
/// anything) and `+`, and lowercases.
fn normalize(s: &str) -> String {
    let mut cur = s.replace('+', " ");
    for _ in 0..3 {
        let next = percent_decode(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur.to_lowercase().replace('\\', "/")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Whitespace collapsed to one space and dropped around `=`:
/// `id=1  OR 1 = 1` -> `id=1 or 1=1`.
fn spaced(s: &str) -> String {
    let collapsed = s.replace("/**/", " ").split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed.replace(" =", "=").replace("= ", "=")
}

/// Whitespace and SQL comments removed: `' OR /**/ 1 = 1` -> `'or1=1`.
fn compact(s: &str) -> String {
    s.replace("/**/", "").chars().filter(|c| !c.is_whitespace()).collect()
}

/// `needle` occurs in `hay` not glued to a preceding word character, so
/// `color1=1` does not look like `or1=1`.
fn contains_token(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        !needle.starts_with(|c: char| c.is_ascii_alphanumeric())
            || hay[..i].chars().next_back().is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    })
}

const SQLI: &[&str] = &[
    "'or'",
    "'or1",
    "'or\"",
    "\"or\"",
    "\"or1",
    "'||'",
    "'--",
    "';--",
    "';drop",
    "';exec",
    "'=",
    "unionselect",
    "unionallselect",
    "sleep(",
    "benchmark(",
    "waitfordelay",
    "information_schema",
    "xp_cmdshell",
];
/// Tautologies matched on whole words (`color 1=1` is not `or 1=1`).
const SQLI_WORDS: &[&str] = &["or 1=1", "and 1=1", "or true--", "or 'a'='a"];
const XSS: &[&str] = &[
    "<script",
    "javascript:",
    "vbscript:",
    "<iframe",
    "<svg",
    "onerror=",
    "onload=",
    "onmouseover=",
    "onfocus=",
    "document.cookie",
    "<img",
];
const TRAVERSAL: &[&str] = &["../", "/..", "/etc/passwd", "/proc/self", "\0"];

/// Inspects a request target (path + query) and body; returns the first
/// rule that matches.
pub fn inspect(target: &str, body: &[u8]) -> Option<Rule> {
    let body = String::from_utf8_lossy(body);
    for part in [target, body.as_ref()] {
        if part.is_empty() {
            continue;
        }
        let n = normalize(part);
        let c = compact(&n);
        let sp = spaced(&n);
        if SQLI.iter().any(|p| c.contains(p)) || SQLI_WORDS.iter().any(|p| contains_token(&sp, p)) {
            return Some(Rule::SqlInjection);
        }
        if XSS.iter().any(|p| c.contains(p)) {
            return Some(Rule::CrossSiteScripting);
        }
        if TRAVERSAL.iter().any(|p| n.contains(p)) {
            return Some(Rule::PathTraversal);
        }
    }
    None
}

pub(crate) async fn serve(
    shared: Arc<Shared>,
    node: String,
    port: u16,
    ip: Ipv4Addr,
    stream: TcpStream,
    peer: SocketAddr,
) {
    http::serve_connection(stream, move |req| handle(shared.clone(), node.clone(), port, ip, peer, req)).await;
}

fn blocked_page(rule: Rule) -> Response<Body> {
    http::response(
        StatusCode::FORBIDDEN,
        "text/html; charset=utf-8",
        format!(
            "<html><head><title>403 Forbidden</title></head><body><h1>Request blocked</h1>\
             <p>The web application firewall blocked this request (rule: {}).</p></body></html>\n",
            rule.name()
        ),
    )
}

async fn handle(
    shared: Arc<Shared>,
    node: String,
    port: u16,
    ip: Ipv4Addr,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return http::html_status(StatusCode::PAYLOAD_TOO_LARGE, "413 Request Entity Too Large");
        }
    };
    let target = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let host = parts.headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string);
    let route = utm::route(&shared.lock(), &node, port, host.as_deref(), parts.uri.path());
    let route = match route {
        Ok(r) => r,
        Err(status) => return http::html_status(status, status.as_str()),
    };
    if route.filter != FilterMode::Off
        && let Some(rule) = inspect(&target, &body[..body.len().min(INSPECT_LIMIT)])
        && route.rules.contains(&rule)
    {
        {
            let mut w = shared.lock();
            if let Some(n) = w.snap.instances.get_mut(&node).and_then(|r| r.waf.as_mut()) {
                *n.rule_hits.entry(rule.name().to_string()).or_insert(0) += 1;
            }
        }
        tracing::warn!(
            node = %node, rule = rule.name(), client = %peer,
            blocked = route.filter == FilterMode::Block, "WAF rule matched"
        );
        if route.filter == FilterMode::Block {
            return blocked_page(rule);
        }
    }
    let Some(addr) = route.backend else {
        tracing::debug!(node = %node, host = %route.backend_host, "real webserver does not resolve");
        return http::html_status(StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable");
    };
    let req = Request::from_parts(parts, Full::new(body));
    match http::forward(ip, addr, peer, req, BACKEND_TIMEOUT).await {
        Ok(resp) => http::relay(resp),
        Err(e) => {
            tracing::debug!(node = %node, error = %e, "real webserver failed");
            http::html_status(StatusCode::BAD_GATEWAY, "502 Bad Gateway")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_injection_is_caught_in_the_query_however_encoded() {
        for q in [
            "/?id=1' OR '1'='1",
            "/?id=1%27%20OR%20%271%27%3D%271",
            "/?id=1%2527%2520OR%25201%253D1",
            "/?id=1 UNION SELECT password FROM users",
            "/?id=1+union+all+select+1,2",
            "/?id=1' or 1=1 --",
            "/?id=1 or 1=1",
            "/?id=1/**/OR/**/1=1",
        ] {
            assert_eq!(inspect(q, b""), Some(Rule::SqlInjection), "{q}");
        }
    }

    #[test]
    fn xss_and_traversal_are_caught_in_path_query_and_body() {
        assert_eq!(inspect("/?q=<script>alert(1)</script>", b""), Some(Rule::CrossSiteScripting));
        assert_eq!(inspect("/?u=javascript:alert(1)", b""), Some(Rule::CrossSiteScripting));
        assert_eq!(inspect("/", b"name=<img src=x onerror=alert(1)>"), Some(Rule::CrossSiteScripting));
        assert_eq!(inspect("/../../etc/passwd", b""), Some(Rule::PathTraversal));
        assert_eq!(inspect("/static/%2e%2e%2f%2e%2e%2fetc", b""), Some(Rule::PathTraversal));
        assert_eq!(inspect("/a/..%5c..%5cwin.ini", b""), Some(Rule::PathTraversal));
    }

    #[test]
    fn ordinary_requests_pass() {
        for q in [
            "/",
            "/index.html",
            "/?color1=1&order=asc",
            "/search?q=rock+and+roll",
            "/?name=O'Brien",
            "/docs/v1.2/readme.txt",
        ] {
            assert_eq!(inspect(q, b"comment=hello world"), None, "{q}");
        }
    }
}
