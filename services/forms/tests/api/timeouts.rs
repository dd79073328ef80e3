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
    let mut head = b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".to_vec();
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
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n")
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

/// Sends one whole GET on `stream` and reads its answer, keeping the connection.
async fn kept_alive_get(stream: &mut TcpStream) {
    use tokio::io::AsyncReadExt;
    stream
        .write_all(b"GET /about HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the answer came");
        answer.push(byte[0]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    let text = String::from_utf8_lossy(&answer).to_lowercase();
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .expect("a sized answer");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
}

#[tokio::test]
async fn the_next_head_on_a_kept_alive_connection_has_the_same_deadline() {
    // Not shorter: actix's own deadline for a first head counts from a clock
    // it updates every 500 ms, so the post below could miss a shorter one.
    let app = spawn_app(&[("INLET_HTTP__REQUEST_HEAD_TIMEOUT_MS", "1000")]).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    kept_alive_get(&mut stream).await;
    // The second head trickles in at 10 bytes a second: 20 s to finish.
    let (mut reader, writer) = stream.into_split();
    let mut head = b"GET /about HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 200));
    let started = Instant::now();
    let sender = trickle(writer, head, TRICKLE_EVERY);
    let reply = read_reply(&mut reader, WAIT).await;
    assert!(reply.closed, "server closed the connection: {reply:?}");
    assert_eq!(reply.status(), Some(408), "{reply:?}");
    assert!(
        reply
            .text
            .ends_with("the request head did not arrive in time"),
        "{reply:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    sender.abort();
    app.assert_still_serving().await;
}

#[tokio::test]
async fn a_kept_alive_request_past_its_head_may_take_longer_than_the_head_deadline() {
    let app = spawn_app(&[
        ("INLET_HTTP__REQUEST_HEAD_TIMEOUT_MS", "300"),
        ("INLET_HTTP__BODY_TIMEOUT_MS", "10000"),
    ])
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    kept_alive_get(&mut stream).await;
    // A whole head, then a body that keeps coming for about a second.
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n")
        .await
        .unwrap();
    let (mut reader, writer) = stream.into_split();
    let sender = trickle(writer, b"slow=12345".to_vec(), TRICKLE_EVERY);
    let reply = read_reply(&mut reader, Duration::from_secs(3)).await;
    assert_eq!(reply.status(), Some(200), "{reply:?}");
    assert!(reply.text.contains("slow"), "{reply:?}");
    sender.abort();
    assert_eq!(app.stored().len(), 1);
}
