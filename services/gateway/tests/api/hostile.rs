//! Frames no honest client sends: lying lengths, reserved bits, fragmented
//! control frames, and upgrades the protocol does not allow.

use std::time::Duration;

use inlet_testkit::ws::{close_code, next_text, send_raw, send_text};

use crate::helpers::spawn_gateway;

/// A masked frame header with the 64-bit length form.
fn head(first: u8, length: u64) -> Vec<u8> {
    let mut bytes = vec![first, 0x80 | 127];
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    bytes
}

#[tokio::test]
async fn a_frame_declaring_more_than_the_limit_is_closed_with_1009_before_its_payload_arrives() {
    let gw = spawn_gateway(&[("INLET_WEBSOCKET__MAX_MESSAGE_BYTES", "1000")]).await;
    for path in ["/", "/echo", "/events"] {
        let mut socket = gw.connect(path).await;
        // 2^40 bytes declared, 4 KiB of them sent: the gateway must not wait
        // for the rest (before, it buffered whatever followed, for ever).
        let mut bytes = head(0x82, 1 << 40);
        bytes.extend(vec![0u8; 4096]);
        send_raw(&mut socket, &bytes).await;
        let (code, reason) = close_code(&mut socket).await;
        assert_eq!(code, 1009, "{path}: {reason}");
        assert!(reason.contains("websocket.max_message_bytes"), "{reason}");
    }
    // A fragmented message whose declared fragments sum past the limit is
    // closed at the fragment that crosses it.
    let mut socket = gw.connect("/echo").await;
    let mut bytes = head(0x02, 600);
    bytes.extend(vec![b'a' ^ 0x11; 600]);
    bytes.extend(head(0x80, 600));
    send_raw(&mut socket, &bytes).await;
    assert_eq!(close_code(&mut socket).await.0, 1009);
    assert!(
        gw.metric("inlet_gateway_closes_total", Some(("code", "1009")))
            .await
            >= 4.0
    );
}

#[tokio::test]
async fn reserved_bits_and_fragmented_control_frames_are_closed_with_1002() {
    let gw = spawn_gateway(&[]).await;
    // RSV1 without a negotiated extension (was 1007, "not UTF-8").
    let mut socket = gw.connect("/echo").await;
    let mut bytes = vec![0xC1, 0x80 | 2, 1, 2, 3, 4];
    bytes.extend([b'h' ^ 1, b'i' ^ 2]);
    send_raw(&mut socket, &bytes).await;
    let (code, reason) = close_code(&mut socket).await;
    assert_eq!(code, 1002, "{reason}");
    assert!(reason.contains("reserved bits"), "{reason}");

    // A ping without FIN (actix-http logged this at ERROR).
    let mut socket = gw.connect("/").await;
    send_raw(&mut socket, &[0x09, 0x80 | 1, 9, 9, 9, 9, b'p' ^ 9]).await;
    let (code, reason) = close_code(&mut socket).await;
    assert_eq!(code, 1002, "{reason}");
    assert!(reason.contains("control frame"), "{reason}");

    // Others are unaffected.
    let mut socket = gw.connect("/").await;
    send_text(&mut socket, "Hello").await;
    assert_eq!(next_text(&mut socket).await, "Websockets!");
}

#[tokio::test]
async fn an_upgrade_over_http_1_0_is_refused() {
    let gw = spawn_gateway(&[]).await;
    let request = "GET /echo HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n\
                   Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    let reply =
        inlet_testkit::raw::send(gw.port, request.as_bytes(), false, Duration::from_secs(5)).await;
    assert!(
        reply.text.starts_with("HTTP/1.0 400") || reply.text.starts_with("HTTP/1.1 400"),
        "{}",
        reply.text
    );
    assert!(reply.text.contains("HTTP/1.1"), "{}", reply.text);
}

#[tokio::test]
async fn a_rebound_host_is_refused_even_when_origin_matches_it() {
    let gw = spawn_gateway(&[]).await;
    // DNS rebinding: the page at evil.example now resolves to the gateway.
    let rebound = inlet_testkit::ws::try_connect_as_admin(
        &gw.ws_url("/events"),
        &[("host", "evil.example"), ("origin", "http://evil.example")],
    )
    .await;
    assert_eq!(rebound.err().map(|s| s.as_u16()), Some(403));
    let page = inlet_testkit::http::client()
        .get(gw.url("/"))
        .header("host", "evil.example:8082")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("http.allowed_hosts"));
    // The names of the quick start are answered; probes use any name.
    for host in ["localhost:8082", "127.0.0.1"] {
        let ok = inlet_testkit::http::client()
            .get(gw.url("/"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{host}");
    }
    let probe = inlet_testkit::http::admin_client()
        .get(gw.url("/healthz"))
        .header("host", "gateway")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);

    // Configured names are answered.
    let gw = spawn_gateway(&[("INLET_HTTP__ALLOWED_HOSTS", "app.example")]).await;
    let socket = inlet_testkit::ws::try_connect(
        &gw.ws_url("/echo"),
        &[("host", "app.example"), ("origin", "http://app.example")],
    )
    .await;
    assert!(socket.is_ok());
}
