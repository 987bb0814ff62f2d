//! Bounds on what hawaf reads from peers it does not control: the site it
//! probes during a drill, a WAF node's REST API. Whatever they send, one
//! answer costs at most [`ANSWER_LIMIT`] of memory.

/// The most of one answer hawaf reads.
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// An answer's body, read up to `limit` bytes; `true` when there was more
/// (the rest is not read).
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_huge_answer_is_read_only_up_to_the_limit() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            // An endless body: chunked, never finished.
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await;
            let chunk = format!("{:x}\r\n{}\r\n", 8192, "x".repeat(8192));
            while sock.write_all(chunk.as_bytes()).await.is_ok() {}
        });
        let res = reqwest::get(format!("http://{addr}/")).await.unwrap();
        let (body, more) = read_capped(res, ANSWER_LIMIT).await.unwrap();
        assert_eq!(body.len(), ANSWER_LIMIT);
        assert!(more);
    }
}
