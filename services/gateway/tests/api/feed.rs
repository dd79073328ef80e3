//! The event feed: fan-out, order, replay with `since`, topics, slow subscribers.

use futures_util::future::join_all;
use inlet_testkit::ws::tungstenite::Message;
use inlet_testkit::ws::{next_json, Socket};

use crate::helpers::{form_event, publish, spawn_gateway};

#[tokio::test]
async fn a_thousand_subscribers_each_get_every_event_once_in_order() {
    let gw = spawn_gateway(&[]).await;
    let subscribers: Vec<Socket> = join_all((0..1000).map(|_| async {
        let (socket, hello) = gw.subscribe("").await;
        assert_eq!(hello["latest"], 0);
        socket
    }))
    .await;
    gw.wait_for_metric(
        "inlet_gateway_connections",
        Some(("endpoint", "events")),
        |n| n == 1000.0,
    )
    .await;
    let mut ingest = gw.ingest().await;
    assert_eq!(
        publish(&mut ingest, form_event("first", &["name"])).await,
        1
    );
    assert_eq!(
        publish(&mut ingest, form_event("second", &["name"])).await,
        2
    );
    let received = join_all(subscribers.into_iter().map(|mut socket| async move {
        let a = next_json(&mut socket).await;
        let b = next_json(&mut socket).await;
        (a, b)
    }))
    .await;
    for (a, b) in &received {
        // The second event right after the first: the first came exactly once.
        assert_eq!(
            (a["sequence"].as_u64(), b["sequence"].as_u64()),
            (Some(1), Some(2))
        );
        assert_eq!(a["type"], "event");
        assert_eq!(a["id"], "first");
        assert_eq!(a["topic"], "forms");
        assert_eq!(a["kind"], "form_submitted");
        assert_eq!(a["data"]["field_names"][0], "name");
    }
    assert_eq!(
        gw.metric("inlet_gateway_events_delivered_total", None)
            .await,
        2000.0
    );
    assert_eq!(
        gw.metric("inlet_gateway_events_published_total", None)
            .await,
        2.0
    );
}

#[tokio::test]
async fn reconnecting_with_since_replays_exactly_what_was_missed_then_goes_live() {
    let gw = spawn_gateway(&[]).await;
    let mut ingest = gw.ingest().await;
    let (mut socket, hello) = gw.subscribe("").await;
    let epoch = hello["epoch"].as_str().unwrap().to_owned();
    for i in 1..=3 {
        publish(&mut ingest, form_event(&format!("e{i}"), &[])).await;
    }
    let mut last_seen = 0;
    for _ in 1..=3 {
        last_seen = next_json(&mut socket).await["sequence"].as_u64().unwrap();
    }
    assert_eq!(last_seen, 3);
    drop(socket);
    for i in 4..=5 {
        publish(&mut ingest, form_event(&format!("e{i}"), &[])).await;
    }
    let (mut socket, hello) = gw
        .subscribe(&format!("?since={last_seen}&epoch={epoch}"))
        .await;
    assert_eq!(hello["replayed"], 2);
    assert_eq!(hello["recovered"], true);
    assert_eq!(hello["latest"], 5);
    publish(&mut ingest, form_event("e6", &[])).await;
    let ids: Vec<String> = [
        next_json(&mut socket).await,
        next_json(&mut socket).await,
        next_json(&mut socket).await,
    ]
    .iter()
    .map(|f| f["id"].as_str().unwrap().to_owned())
    .collect();
    assert_eq!(ids, ["e4", "e5", "e6"]);
}

#[tokio::test]
async fn a_since_older_than_the_history_says_it_is_not_recovered() {
    let gw = spawn_gateway(&[("INLET_EVENTS__HISTORY", "2")]).await;
    let mut ingest = gw.ingest().await;
    for i in 1..=4 {
        publish(&mut ingest, form_event(&format!("e{i}"), &[])).await;
    }
    let (mut socket, hello) = gw.subscribe("?since=1").await;
    assert_eq!(hello["recovered"], false);
    assert_eq!(hello["replayed"], 2);
    assert_eq!(next_json(&mut socket).await["sequence"], 3);
    assert_eq!(next_json(&mut socket).await["sequence"], 4);
}

#[tokio::test]
async fn topics_filter_what_a_subscriber_gets() {
    let gw = spawn_gateway(&[]).await;
    let mut ingest = gw.ingest().await;
    let (mut uploads_only, hello) = gw.subscribe("?topics=uploads").await;
    assert_eq!(hello["topics"], serde_json::json!(["uploads"]));
    publish(&mut ingest, form_event("a form", &[])).await;
    let file = inlet_proto::events::v1::Event {
        id: "a file".into(),
        source: "inlet-uploads".into(),
        kind: Some(inlet_proto::events::v1::event::Kind::FileStored(
            inlet_proto::events::v1::FileStored {
                stored_name: "a.txt".into(),
                original_name: "a.txt".into(),
                field: "userfile1".into(),
                size: 5,
                sha256: "00".into(),
            },
        )),
        ..Default::default()
    };
    publish(&mut ingest, file).await;
    let frame = next_json(&mut uploads_only).await;
    assert_eq!(frame["id"], "a file");
    assert_eq!(frame["sequence"], 2);
    assert_eq!(frame["data"]["stored_name"], "a.txt");
}

#[tokio::test]
async fn a_subscriber_that_never_reads_is_closed_and_the_others_get_everything() {
    let gw = spawn_gateway(&[
        ("INLET_EVENTS__SUBSCRIBER_QUEUE", "64"),
        ("INLET_EVENTS__HISTORY", "16"),
        ("INLET_WEBSOCKET__SEND_TIMEOUT_MS", "500"),
    ])
    .await;
    // A client with a tiny receive window that never reads.
    let stuck = stuck_subscriber(gw.port).await;
    let (mut reader, _) = gw.subscribe("").await;
    let mut ingest = gw.ingest().await;
    let fields: Vec<String> = (0..100)
        .map(|i| format!("field_with_a_long_name_{i:04}"))
        .collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let total = 3000;
    let reading = tokio::spawn(async move {
        for expected in 1..=total {
            let frame = next_json(&mut reader).await;
            assert_eq!(frame["sequence"], expected);
        }
        reader
    });
    for i in 0..total {
        publish(&mut ingest, form_event(&format!("e{i}"), &fields)).await;
    }
    let _reader = reading
        .await
        .expect("the reading subscriber got every event in order");
    gw.wait_for_metric("inlet_gateway_slow_subscribers_closed_total", None, |n| {
        n == 1.0
    })
    .await;
    assert_eq!(
        gw.wait_for_metric(
            "inlet_gateway_connections",
            Some(("endpoint", "events")),
            |n| n == 1.0
        )
        .await,
        1.0
    );
    drop(stuck);
}

/// Opens `/events` over a socket with a 4 KiB receive buffer and never reads it.
async fn stuck_subscriber(port: u16) -> Socket {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(([127, 0, 0, 1], port).into()).await.unwrap();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://127.0.0.1:{port}/events"
        ))
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        inlet_testkit::access::admin_bearer().parse().unwrap(),
    );
    let (socket, _) =
        tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream))
            .await
            .unwrap();
    socket
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_gets_1013_and_loses_nothing_reconnecting_with_since() {
    let gw = spawn_gateway(&[("INLET_EVENTS__SUBSCRIBER_QUEUE", "64")]).await;
    // Not read while the events are published: its sends block once the
    // socket buffers are full, and the feed runs over 64 ahead of it.
    let mut behind = stuck_subscriber(gw.port).await;
    let mut ingest = gw.ingest().await;
    let fields: Vec<String> = (0..100)
        .map(|i| format!("field_with_a_long_name_{i:04}"))
        .collect();
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let total = 2000u64;
    for i in 0..total {
        publish(&mut ingest, form_event(&format!("e{i}"), &fields)).await;
    }
    let mut seen = Vec::new();
    let hello = next_json(&mut behind).await;
    assert_eq!(hello["type"], "subscribed");
    let since = loop {
        match inlet_testkit::ws::next_message(&mut behind).await {
            Message::Text(text) => {
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                seen.push(frame["sequence"].as_u64().unwrap());
            }
            Message::Close(Some(close)) => {
                assert_eq!(u16::from(close.code), 1013, "{}", close.reason);
                let reason = close.reason.to_string();
                let since = reason
                    .rsplit("since=")
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap();
                break since;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(seen.len() < total as usize, "it did fall behind");
    assert_eq!(
        since,
        *seen.last().unwrap(),
        "since names the last event it got"
    );
    let (mut again, hello) = gw.subscribe(&format!("?since={since}")).await;
    assert_eq!(hello["recovered"], true);
    for _ in since..total {
        seen.push(next_json(&mut again).await["sequence"].as_u64().unwrap());
    }
    let expected: Vec<u64> = (1..=total).collect();
    assert!(
        seen == expected,
        "not every event once, in order: {} seen, first {:?}",
        seen.len(),
        seen.first()
    );
    assert_eq!(
        gw.metric("inlet_gateway_slow_subscribers_closed_total", None)
            .await,
        1.0
    );
    assert!(gw.metric("inlet_gateway_events_dropped_total", None).await >= 1.0);
}
