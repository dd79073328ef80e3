//! Slow clients (slowloris) are cut off by the configured timeouts, even while
//! they keep sending a byte at a time.

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::spawn_app;
use inlet_testkit::raw::{read_reply, trickle};
use inlet_testkit::WAIT;

/// How often the slow client sends its next byte: well inside any idle timer.
const TRICKLE_EVERY: Duration = Duration::from_millis(100);

#[tokio::test]
async fn trickled_headers_are_disconnected() {
    let app = spawn_app(&[("INLET_HTTP__REQUEST_HEAD_TIMEOUT_MS", "300")]).await;
    let stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let (mut reader, writer) = stream.into_split();
    // 200 header bytes at 10 per second would take 20 s to finish.
    let mut head = b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 200));
    let started = Instant::now();
    let sender = trickle(writer, head, TRICKLE_EVERY);
    let reply = read_reply(&mut reader, WAIT).await;
    assert!(reply.closed, "server closed the connection: {reply:?}");
    assert!(
        matches!(reply.status(), None | Some(408)),
        "no answer or 408, got {reply:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    sender.abort();
}

#[tokio::test]
async fn trickled_bodies_get_408_and_are_disconnected() {
    let app = spawn_app(&[("INLET_HTTP__BODY_TIMEOUT_MS", "300")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n")
        .await
        .unwrap();
    let (mut reader, writer) = stream.into_split();
    let started = Instant::now();
    let sender = trickle(writer, vec![b'a'; 100], TRICKLE_EVERY);
    let reply = read_reply(&mut reader, WAIT).await;
    assert_eq!(reply.status(), Some(408), "{reply:?}");
    assert!(reply.closed, "{reply:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(app.stored().is_empty());
    sender.abort();
}
