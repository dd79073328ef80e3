//! `inlet ws` from a pipe, against inlet-gateway.

use crate::helpers::{inlet, Gateway};

#[tokio::test]
async fn piped_lines_go_out_one_message_each_and_every_reply_is_printed() {
    let gateway = Gateway::start().await;
    let input = "one\ntwo words\nÓ Maidín 🦀\n";
    let run = inlet(&["ws", &gateway.ws("/echo")], input.as_bytes()).await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, input);
    assert_eq!(run.stderr, "");
}

#[tokio::test]
async fn once_sends_one_line_and_prints_one_reply() {
    let gateway = Gateway::start().await;
    let run = inlet(&["ws", &gateway.ws("/"), "--once"], b"Hello\nnot sent\n").await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.stdout, "Websockets!\n");
    let log = gateway
        .process
        .wait_for_log(|v| v["message"] == "message received")
        .await
        .unwrap();
    assert_eq!(log["fields"]["text"], "\"Hello\"");
    assert!(!gateway.process.logs().join("\n").contains("not sent"));
}

#[tokio::test]
async fn a_refused_socket_is_one_clear_line_and_exit_1() {
    let gateway = Gateway::start().await;
    // A plain URL that is no socket: the handshake is refused (426 on a socket-only path
    // is for plain GETs; a missing path is 404).
    let run = inlet(&["ws", &gateway.ws("/no-such-socket")], b"hi\n").await;
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(
        run.stderr
            .contains("the server refused the WebSocket with 404"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);

    let run = inlet(&["ws", "http://127.0.0.1/"], b"").await;
    assert_eq!(run.code(), 2, "{run:?}");
    assert!(run.stderr.contains("not a ws or wss URL"), "{}", run.stderr);
}
