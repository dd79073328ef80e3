//! Graceful shutdown: stop accepting, let in-flight requests finish.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::spawn_app;
use inlet_testkit::raw::{read_reply, wait_until_refused};
use inlet_testkit::WAIT;

#[tokio::test]
async fn in_flight_requests_finish_and_new_connections_are_refused() {
    let mut app = spawn_app(&[]).await;
    let port = app.port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let body = b"userinput1=late&userinput2=arrival";
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nExpect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // "100 Continue" proves the server has read the head: the request is in flight.
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(WAIT, stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 1, "connection closed before 100 Continue");
        seen.push(byte[0]);
    }
    assert!(
        seen.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    stream.write_all(&body[..5]).await.unwrap();

    app.begin_stop();
    wait_until_refused(port).await;

    stream.write_all(&body[5..]).await.unwrap();
    let reply = read_reply(&mut stream, WAIT).await;
    assert_eq!(reply.status(), Some(200), "{reply:?}");
    assert!(reply
        .text
        .ends_with(r#"You Posted: {"userinput1":"late","userinput2":"arrival"}"#));

    let dir = app.stop().await;
    let journal = crate::helpers::journal_text_in(&dir.path().join("forms"));
    assert_eq!(journal.lines().count(), 1);
}
