//! Graceful shutdown: stop accepting, let in-flight requests finish.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::helpers::{read_reply, spawn_app};
use inlet_testkit::WAIT;

#[tokio::test]
async fn in_flight_requests_finish_and_new_connections_are_refused() {
    let mut app = spawn_app(&[]).await;
    let port = app.port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let body = b"userinput1=late&userinput2=arrival";
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..5]).await.unwrap();
    // Make sure the server has the request in hand before it is told to stop.
    wait_until_in_flight(port).await;

    app.begin_stop();
    wait_until_refused(port).await;

    stream.write_all(&body[5..]).await.unwrap();
    let reply = read_reply(&mut stream, WAIT).await;
    assert_eq!(reply.status(), Some(200), "{reply:?}");
    assert!(reply
        .text
        .ends_with(r#"You Posted: {"userinput1":"late","userinput2":"arrival"}"#));

    let dir = app.finish_stop().await;
    let journal = std::fs::read_to_string(dir.path().join("forms/submissions.jsonl")).unwrap();
    assert_eq!(journal.lines().count(), 1);
}

/// Waits until another client can see the server answering, so the first
/// connection's request head has been read.
async fn wait_until_in_flight(port: u16) {
    let client = reqwest::Client::new();
    let res = client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(WAIT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// Waits (bounded) until the listener is closed.
async fn wait_until_refused(port: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "listener still open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
