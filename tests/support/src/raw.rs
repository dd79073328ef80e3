//! Raw TCP for what a well-behaved HTTP client will not send: partial heads,
//! lying lengths, trickled bytes, smuggled requests.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::WAIT;

/// What came back on a raw connection.
#[derive(Debug)]
pub struct RawReply {
    /// Everything the server sent, lossily decoded.
    pub text: String,
    /// The server closed the connection (EOF or reset) within the limit.
    pub closed: bool,
}

impl RawReply {
    /// The status of the first answer, if one came.
    pub fn status(&self) -> Option<u16> {
        self.text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
    }
}

/// Connects to `port`, sends `request`, optionally closes the write side, and
/// reads until the server closes the connection (bounded by `limit`).
pub async fn send(port: u16, request: &[u8], close_write: bool, limit: Duration) -> RawReply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request).await.unwrap();
    if close_write {
        stream.shutdown().await.unwrap();
    }
    read_reply(&mut stream, limit).await
}

/// Reads until the server closes the connection or `limit` passes.
pub async fn read_reply<R: AsyncRead + Unpin>(stream: &mut R, limit: Duration) -> RawReply {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + limit;
    let closed = loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => break false,
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    RawReply {
        text: String::from_utf8_lossy(&buf).into_owned(),
        closed,
    }
}

/// Writes `bytes` one at a time, `every` apart, like a slowloris client,
/// until the server closes the connection or the bytes run out.
pub fn trickle(mut writer: OwnedWriteHalf, bytes: Vec<u8>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    })
}

/// Waits (up to [`WAIT`]) until nothing accepts connections on `port`.
pub async fn wait_until_refused(port: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "port {port} still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
