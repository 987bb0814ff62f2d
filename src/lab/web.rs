//! A web content server: the seed's Amazon Linux httpd with an index.html
//! that names the server.

use hyper::{Method, StatusCode};
use tokio::net::TcpStream;

use super::http::{self, response};

/// Serves one connection: `/` and `/index.html` answer
/// `<html><body>NAME</body></html>`, anything else 404 as Apache would.
pub async fn serve(stream: TcpStream, name: String) {
    let page = format!("<html><body>{name}</body></html>\n");
    http::serve_connection(stream, move |req| {
        let page = page.clone();
        async move {
            let path = req.uri().path();
            let get = req.method() == Method::GET || req.method() == Method::HEAD;
            match (get, path) {
                (true, "/" | "/index.html") => response(StatusCode::OK, "text/html; charset=UTF-8", page),
                (true, _) => http::html_status(StatusCode::NOT_FOUND, "404 Not Found"),
                (false, _) => http::html_status(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed"),
            }
        }
    })
    .await;
}
