//! The sockets: the seed's `/`, `/echo`, limits, origins, liveness, shutdown.

use futures_util::SinkExt;
use inlet_testkit::ws::tungstenite::protocol::frame::coding::{Data, OpCode};
use inlet_testkit::ws::tungstenite::protocol::frame::Frame;
use inlet_testkit::ws::tungstenite::Message;
use inlet_testkit::ws::{
    close_code, next_message, next_text, send_text, try_connect, try_connect_as_admin,
};

use crate::helpers::spawn_gateway;

#[tokio::test]
async fn hello_is_answered_websockets_and_other_text_is_not_answered() {
    let gw = spawn_gateway(&[]).await;
    let mut socket = gw.connect("/").await;
    send_text(&mut socket, "good morning").await;
    send_text(&mut socket, "Hello").await;
    // Had "good morning" been answered, that answer would come first.
    assert_eq!(next_text(&mut socket).await, "Websockets!");
    send_text(&mut socket, "Hello").await;
    assert_eq!(next_text(&mut socket).await, "Websockets!");
    socket.close(None).await.unwrap();
    assert_eq!(
        gw.wait_for_metric("inlet_gateway_messages_received_total", None, |v| v >= 3.0)
            .await,
        3.0
    );
    gw.stop().await;
}

#[tokio::test]
async fn echo_sends_back_text_as_text_and_binary_as_binary() {
    let gw = spawn_gateway(&[]).await;
    let mut socket = gw.connect("/echo").await;
    send_text(&mut socket, "ünïcode ✓").await;
    assert_eq!(next_text(&mut socket).await, "ünïcode ✓");
    let bytes: Vec<u8> = (0..=255).collect();
    socket.send(Message::binary(bytes.clone())).await.unwrap();
    assert_eq!(next_message(&mut socket).await, Message::binary(bytes));
    // A message in three frames comes back whole.
    for (data, opcode, last) in [
        ("ab", OpCode::Data(Data::Text), false),
        ("cd", OpCode::Data(Data::Continue), false),
        ("ef", OpCode::Data(Data::Continue), true),
    ] {
        let frame = Frame::message(data.as_bytes().to_vec(), opcode, last);
        socket.send(Message::Frame(frame)).await.unwrap();
    }
    assert_eq!(next_text(&mut socket).await, "abcdef");
    gw.stop().await;
}

#[tokio::test]
async fn a_message_over_the_limit_is_closed_with_1009_whole_or_in_frames() {
    let gw = spawn_gateway(&[]).await;
    let mut socket = gw.connect("/echo").await;
    let just_fits = "x".repeat(64 * 1024);
    send_text(&mut socket, &just_fits).await;
    assert_eq!(next_text(&mut socket).await.len(), just_fits.len());
    send_text(&mut socket, &"x".repeat(65 * 1024)).await;
    let (code, reason) = close_code(&mut socket).await;
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("websocket.max_message_bytes"), "{reason}");

    // The same limit holds for a message split into small frames.
    let gw = spawn_gateway(&[("INLET_WEBSOCKET__MAX_MESSAGE_BYTES", "1000")]).await;
    let mut socket = gw.connect("/").await;
    let chunk = vec![b'y'; 400];
    for (opcode, last) in [
        (OpCode::Data(Data::Binary), false),
        (OpCode::Data(Data::Continue), false),
        (OpCode::Data(Data::Continue), true),
    ] {
        let frame = Frame::message(chunk.clone(), opcode, last);
        let _ = socket.send(Message::Frame(frame)).await;
    }
    assert_eq!(close_code(&mut socket).await.0, 1009);
    gw.stop().await;
}

#[tokio::test]
async fn a_page_from_another_origin_is_refused_with_403() {
    let gw = spawn_gateway(&[]).await;
    let foreign = try_connect(&gw.ws_url("/"), &[("origin", "https://evil.example")]).await;
    assert_eq!(foreign.err().map(|s| s.as_u16()), Some(403));
    let own_origin = format!("http://127.0.0.1:{}", gw.port);
    assert!(try_connect(&gw.ws_url("/"), &[("origin", &own_origin)])
        .await
        .is_ok());
    assert_eq!(
        gw.metric(
            "inlet_gateway_upgrades_refused_total",
            Some(("reason", "origin_not_allowed"))
        )
        .await,
        1.0
    );

    let gw = spawn_gateway(&[("INLET_WEBSOCKET__ALLOWED_ORIGINS", "https://app.example")]).await;
    let allowed =
        try_connect_as_admin(&gw.ws_url("/events"), &[("origin", "https://app.example")]).await;
    assert!(allowed.is_ok());
    let own = try_connect_as_admin(
        &gw.ws_url("/events"),
        &[("origin", &format!("http://127.0.0.1:{}", gw.port))],
    )
    .await;
    assert_eq!(own.err().map(|s| s.as_u16()), Some(403));
}

#[tokio::test]
async fn past_max_connections_an_upgrade_gets_503_until_a_socket_closes() {
    let gw = spawn_gateway(&[("INLET_WEBSOCKET__MAX_CONNECTIONS", "2")]).await;
    let first = gw.connect("/").await;
    let _second = gw.connect("/echo").await;
    assert_eq!(
        try_connect_as_admin(&gw.ws_url("/events"), &[])
            .await
            .err()
            .map(|s| s.as_u16()),
        Some(503)
    );
    let res = inlet_testkit::http::client()
        .get(gw.url("/echo"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "1");
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("websocket.max_connections"));
    drop(first);
    gw.wait_for_metric("inlet_gateway_connections", None, |open| open < 2.0)
        .await;
    assert!(try_connect(&gw.ws_url("/"), &[]).await.is_ok());
}

#[tokio::test]
async fn plain_http_gets_the_page_at_root_and_426_on_socket_only_paths() {
    let gw = spawn_gateway(&[]).await;
    let client = inlet_testkit::http::client();
    let page = client.get(gw.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"id="send""#) && html.contains(r#"id="events""#));
    let echo = client.get(gw.url("/echo")).send().await.unwrap();
    assert_eq!(echo.status(), 426);
    assert_eq!(echo.headers()["upgrade"], "websocket");
    let post = client.post(gw.url("/")).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    let bad = inlet_testkit::http::admin_client()
        .get(gw.url("/events?topics=forms,files"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad
        .text()
        .await
        .unwrap()
        .contains("unknown topic \"files\""));
    let bad_since = try_connect_as_admin(&gw.ws_url("/events?since=yesterday"), &[]).await;
    assert_eq!(bad_since.err().map(|s| s.as_u16()), Some(400));
}

#[tokio::test]
async fn a_peer_that_misses_pongs_is_closed() {
    let gw = spawn_gateway(&[
        ("INLET_WEBSOCKET__PING_INTERVAL_MS", "100"),
        ("INLET_WEBSOCKET__PONG_TIMEOUT_MS", "100"),
    ])
    .await;
    // A socket nobody reads answers no ping (tungstenite pongs while reading).
    let mut silent = gw.connect("/").await;
    // One that keeps reading answers every ping and stays open.
    let (mut writer, mut reader) = futures_util::StreamExt::split(gw.connect("/echo").await);
    let (heard, mut hearing) = tokio::sync::mpsc::unbounded_channel();
    let reading = tokio::spawn(async move {
        while let Some(Ok(message)) = futures_util::StreamExt::next(&mut reader).await {
            if let Message::Text(text) = message {
                let _ = heard.send(text.to_string());
            }
        }
    });
    gw.wait_for_metric("inlet_gateway_closes_total", Some(("code", "1008")), |n| {
        n >= 1.0
    })
    .await;
    let (code, reason) = close_code(&mut silent).await;
    assert_eq!(code, 1008);
    assert!(reason.contains("pong"), "{reason}");
    writer.send(Message::text("still here")).await.unwrap();
    let echoed = tokio::time::timeout(inlet_testkit::WAIT, hearing.recv())
        .await
        .unwrap();
    assert_eq!(echoed.as_deref(), Some("still here"));
    assert_eq!(
        gw.metric("inlet_gateway_closes_total", Some(("code", "1008")))
            .await,
        1.0
    );
    reading.abort();
}

#[tokio::test]
async fn a_peer_that_floods_pings_and_never_reads_the_pongs_is_closed() {
    let gw = spawn_gateway(&[("INLET_WEBSOCKET__SEND_TIMEOUT_MS", "300")]).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket
        .connect(([127, 0, 0, 1], gw.port).into())
        .await
        .unwrap();
    let (mut flooder, _) = tokio_tungstenite::client_async(
        gw.ws_url("/"),
        tokio_tungstenite::MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    let ping = Message::Ping(vec![b'p'; 125].into());
    let flooding = tokio::spawn(async move {
        // Until the gateway gives up on it (the send fails) or 200k pings.
        for _ in 0..200_000 {
            if flooder.send(ping.clone()).await.is_err() {
                break;
            }
        }
    });
    gw.wait_for_metric("inlet_gateway_closes_total", Some(("code", "1008")), |n| {
        n >= 1.0
    })
    .await;
    gw.wait_for_metric("inlet_gateway_connections", None, |open| open == 0.0)
        .await;
    flooding.abort();
    // The gateway still serves others.
    let mut other = gw.connect("/").await;
    send_text(&mut other, "Hello").await;
    assert_eq!(next_text(&mut other).await, "Websockets!");
}

#[tokio::test]
async fn stopping_closes_every_socket_with_1001() {
    let mut gw = spawn_gateway(&[]).await;
    let mut chat = gw.connect("/").await;
    let (mut feed, _) = gw.subscribe("").await;
    gw.begin_stop();
    assert_eq!(close_code(&mut chat).await.0, 1001);
    let (code, reason) = close_code(&mut feed).await;
    assert_eq!(code, 1001);
    assert!(reason.contains("shutting down"), "{reason}");
    let port = gw.port;
    gw.stop().await;
    inlet_testkit::raw::wait_until_refused(port).await;
}
