//! HTTP plumbing shared by the lab's servers and proxies.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use super::net::connect_from;

pub type Body = BoxBody<Bytes, hyper::Error>;

pub fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|never| match never {}).boxed()
}

pub fn response(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

pub fn html_status(status: StatusCode, title: &str) -> Response<Body> {
    response(
        status,
        "text/html; charset=utf-8",
        format!("<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"),
    )
}

/// Serves HTTP/1.1 on one accepted connection until the peer goes away.
pub async fn serve_connection<IO, F, Fut>(io: IO, handler: F)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    let svc = service_fn(move |req| {
        let fut = handler(req);
        async move { Ok::<_, Infallible>(fut.await) }
    });
    if let Err(e) =
        hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(io), svc).await
    {
        tracing::trace!(error = %e, "connection ended with an error");
    }
}

/// Why a proxied request got no response.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("connect to {0} failed: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("backend {0} timed out")]
    Timeout(SocketAddr),
    #[error("backend {0} failed: {1}")]
    Http(SocketAddr, hyper::Error),
}

impl ForwardError {
    /// What a load balancer answers for this failure (ELB: 502/504).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_GATEWAY,
        }
    }
}

const HOP_BY_HOP: [&str; 7] =
    ["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"];

/// Sends `req` to `to` over a fresh connection made from `from`, so the
/// backend sees this node's address. Adds the `X-Forwarded-*` headers as an
/// ELB or the UTM's reverse proxy would.
pub async fn forward<B>(
    from: Ipv4Addr,
    to: SocketAddr,
    client: SocketAddr,
    mut req: Request<B>,
    timeout: Duration,
) -> Result<Response<Incoming>, ForwardError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    for h in HOP_BY_HOP {
        req.headers_mut().remove(h);
    }
    let xff = match req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prev) => format!("{prev}, {}", client.ip()),
        None => client.ip().to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&xff) {
        req.headers_mut().insert("x-forwarded-for", v);
    }
    req.headers_mut().entry("x-forwarded-proto").or_insert(HeaderValue::from_static("http"));
    let stream = connect_from(from, to, timeout).await.map_err(|e| ForwardError::Connect(to, e))?;
    let work = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| ForwardError::Http(to, e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::trace!(error = %e, "backend connection ended");
            }
        });
        sender.send_request(req).await.map_err(|e| ForwardError::Http(to, e))
    };
    tokio::time::timeout(timeout, work).await.map_err(|_| ForwardError::Timeout(to))?
}

/// Passes a backend response through, dropping hop-by-hop headers.
pub fn relay(resp: Response<Incoming>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    for h in HOP_BY_HOP {
        parts.headers.remove(h);
    }
    Response::from_parts(parts, body.boxed())
}
