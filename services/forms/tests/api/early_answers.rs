//! An answer given before the body was read ends the connection at once: the
//! server stops reading, closes within a second, and never serves what the
//! client sends after it — chunked or not (request smuggling, floods).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app, TestApp, DEFAULT_CAP};
use inlet_testkit::raw::read_reply;
use inlet_testkit::WAIT;

/// How soon after its early answer the server must have closed the socket.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);

/// A valid POST that must never be served if it follows an early answer.
const SMUGGLED: &[u8] = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\nsmuggled=";

const CHUNKED_HEAD: &[u8] = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n";

/// What the client saw after the early answer.
struct Outcome {
    /// Everything the server sent.
    text: String,
    /// The server closed (EOF or reset) within [`CLOSE_WITHIN`] of its answer.
    closed_in_time: bool,
}

impl Outcome {
    fn status(&self) -> Option<u16> {
        self.text.get(9..12).and_then(|s| s.parse().ok())
    }

    fn answers(&self) -> usize {
        self.text.matches("HTTP/1.1 ").count()
    }
}

/// Sends `prefix`, then keeps sending whole `frame`s (if any) until the
/// server answers; then ends the body with `end`, sends a whole second
/// request, and watches the socket for [`CLOSE_WITHIN`].
async fn early_answer(app: &TestApp, prefix: &[u8], frame: Option<Vec<u8>>, end: &[u8]) -> Outcome {
    let stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(prefix).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            if let Some(frame) = frame {
                // Whole frames only, so what follows is parsed as the client meant it.
                while !stop.load(Ordering::SeqCst) {
                    if writer.write_all(&frame).await.is_err() {
                        break;
                    }
                }
            }
            writer
        })
    };

    let mut received = Vec::new();
    let mut buf = [0u8; 8192];
    let head_deadline = tokio::time::Instant::now() + WAIT;
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout_at(head_deadline, reader.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => received.extend_from_slice(&buf[..n]),
            other => panic!(
                "no answer head: {other:?}, got {:?}",
                String::from_utf8_lossy(&received)
            ),
        }
    }
    let answered = tokio::time::Instant::now();
    stop.store(true, Ordering::SeqCst);
    // A server that stopped reading without closing leaves the feeder blocked.
    if let Ok(Ok(mut writer)) = tokio::time::timeout(CLOSE_WITHIN, feeder).await {
        let _ = writer.write_all(end).await;
        let _ = writer.write_all(SMUGGLED).await;
        let _ = writer.flush().await;
        // Keep the write half open: a half-close must not be what ends it.
        tokio::spawn(async move {
            tokio::time::sleep(WAIT).await;
            drop(writer);
        });
    }

    let rest = read_reply(&mut reader, CLOSE_WITHIN.saturating_sub(answered.elapsed())).await;
    Outcome {
        text: String::from_utf8_lossy(&received).into_owned() + &rest.text,
        closed_in_time: rest.closed,
    }
}

fn chunk(data: &[u8]) -> Vec<u8> {
    let mut frame = format!("{:x}\r\n", data.len()).into_bytes();
    frame.extend_from_slice(data);
    frame.extend_from_slice(b"\r\n");
    frame
}

fn assert_ended(outcome: &Outcome, status: u16, app: &TestApp) {
    assert_eq!(outcome.status(), Some(status), "{}", outcome.text);
    assert_eq!(
        outcome.answers(),
        1,
        "a request after the early answer was served: {}",
        outcome.text
    );
    assert!(
        outcome.closed_in_time,
        "still open {CLOSE_WITHIN:?} after the answer: {}",
        outcome.text
    );
    assert!(
        app.stored().is_empty(),
        "nothing is stored: {:?}",
        app.stored()
    );
}

#[tokio::test]
async fn chunked_body_over_the_cap_ends_the_connection() {
    let app = spawn_app(&[]).await;
    let outcome = early_answer(
        &app,
        CHUNKED_HEAD,
        Some(chunk(&[b'a'; 64 * 1024])),
        b"0\r\n\r\n",
    )
    .await;
    assert_ended(&outcome, 413, &app);
    app.assert_still_serving().await;
}

#[tokio::test]
async fn slow_chunked_body_ends_the_connection() {
    let app = spawn_app(&[("INLET_HTTP__BODY_TIMEOUT_MS", "300")]).await;
    let mut prefix = CHUNKED_HEAD.to_vec();
    prefix.extend_from_slice(&chunk(b"a=1"));
    let outcome = early_answer(&app, &prefix, None, b"0\r\n\r\n").await;
    assert_ended(&outcome, 408, &app);
}

#[tokio::test]
async fn declared_length_over_the_cap_ends_the_connection() {
    let app = spawn_app(&[]).await;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        DEFAULT_CAP + 1
    );
    let outcome = early_answer(&app, head.as_bytes(), Some(vec![b'a'; 64 * 1024]), b"").await;
    assert_ended(&outcome, 413, &app);
}

#[tokio::test]
async fn unsupported_type_with_a_chunked_body_ends_the_connection() {
    let app = spawn_app(&[]).await;
    let head = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
    let outcome = early_answer(&app, head, Some(chunk(b"x")), b"0\r\n\r\n").await;
    assert_ended(&outcome, 415, &app);
}

#[tokio::test]
async fn many_stalled_chunked_posts_are_all_closed() {
    let app = spawn_app(&[("INLET_HTTP__BODY_TIMEOUT_MS", "300")]).await;
    let mut prefix = CHUNKED_HEAD.to_vec();
    prefix.extend_from_slice(&chunk(b"a=1"));
    let stalled = (0..100).map(|_| early_answer(&app, &prefix, None, b""));
    for outcome in futures_util::future::join_all(stalled).await {
        assert_eq!(outcome.status(), Some(408), "{}", outcome.text);
        assert!(outcome.closed_in_time, "{}", outcome.text);
    }
}
