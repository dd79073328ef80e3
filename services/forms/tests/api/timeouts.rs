//! Slow clients (slowloris) are cut off by the configured timeouts.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{read_reply, spawn_app};
use inlet_testkit::WAIT;

#[tokio::test]
async fn trickled_headers_are_disconnected() {
    let app = spawn_app(&[("INLET_HTTP__REQUEST_HEAD_TIMEOUT_MS", "300")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the head; the server must give up on its own.
    let reply = read_reply(&mut stream, WAIT).await;
    assert!(reply.closed, "{reply:?}");
    assert!(matches!(reply.status(), None | Some(408)), "{reply:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn trickled_bodies_get_408_and_are_disconnected() {
    let app = spawn_app(&[("INLET_HTTP__BODY_TIMEOUT_MS", "300")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\na=1")
        .await
        .unwrap();
    let started = Instant::now();
    let reply = read_reply(&mut stream, WAIT).await;
    assert_eq!(reply.status(), Some(408), "{reply:?}");
    assert!(reply.closed, "{reply:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(app.stored().is_empty());
}
