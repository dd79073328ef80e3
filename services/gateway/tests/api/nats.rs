//! The feed on NATS JetStream (`events.backend = "nats"`), against a real
//! `nats-server` with file storage: several gateways, restarts of either,
//! NATS away under load, and a publish whose acknowledgement is lost.

use std::time::Duration;

use inlet_common::jetstream::{FeedBackend, FeedSettings, NatsSettings};
use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishSettings, Publisher};
use inlet_testkit::nats::NatsServer;
use inlet_testkit::ws::{self, next_json, Socket};
use inlet_testkit::WAIT;

use crate::helpers::{form_event, spawn_gateway, TestGateway};

/// A gateway in this process following the stream on `nats`.
async fn nats_gateway(nats: &str, extra: &[(&str, &str)]) -> TestGateway {
    let mut env = vec![
        ("INLET_EVENTS__BACKEND", "nats"),
        ("INLET_EVENTS__NATS__URL", nats),
        ("INLET_EVENTS__NATS__REQUEST_TIMEOUT_MS", "1000"),
    ];
    env.extend_from_slice(extra);
    spawn_gateway(&env).await
}

/// A publisher straight to the stream, as forms, uploads and smtp publish.
fn publisher(nats: &str, metrics: &Metrics) -> Publisher {
    let feed = FeedSettings {
        backend: FeedBackend::Nats,
        nats: NatsSettings {
            url: nats.to_owned(),
            request_timeout_ms: 500,
            ..NatsSettings::default()
        },
    };
    let settings = PublishSettings {
        retry_min_ms: 20,
        retry_max_ms: 200,
        ..PublishSettings::default()
    };
    Publisher::start_for(&feed, None, None, &settings, metrics, "test").expect("starts")
}

/// Subscribes to `/events` + `query` once the gateway follows the stream
/// (until then it answers 503); gives the socket and its `subscribed` frame.
async fn subscribe(gateway: &TestGateway, query: &str) -> (Socket, serde_json::Value) {
    let url = gateway.ws_url(&format!("/events{query}"));
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut socket = loop {
        match ws::try_connect_as_admin(&url, &[]).await {
            Ok(socket) => break socket,
            Err(status) => {
                assert_eq!(status.as_u16(), 503, "only 'not attached yet' is expected");
                assert!(tokio::time::Instant::now() < deadline, "never attached");
                // Polling readiness, not a timed guess.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let hello = next_json(&mut socket).await;
    assert_eq!(hello["type"], "subscribed", "{hello}");
    (socket, hello)
}

/// The next `count` event frames: (sequence, id).
async fn events(socket: &mut Socket, count: usize) -> Vec<(u64, String)> {
    let mut seen = Vec::with_capacity(count);
    while seen.len() < count {
        let frame = next_json(socket).await;
        assert_eq!(frame["type"], "event", "{frame}");
        seen.push((
            frame["sequence"].as_u64().unwrap(),
            frame["id"].as_str().unwrap().to_owned(),
        ));
    }
    seen
}

fn ids(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{tag}-{i:04}")).collect()
}

#[tokio::test]
async fn two_gateways_on_one_stream_give_every_event_once_in_order_with_the_same_sequences() {
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let (a, b) = tokio::join!(nats_gateway(&url, &[]), nats_gateway(&url, &[]));
    let (mut on_a, hello_a) = subscribe(&a, "").await;
    let (mut on_b, hello_b) = subscribe(&b, "").await;
    assert_eq!(hello_a["epoch"], hello_b["epoch"], "one stream, one epoch");
    assert_eq!(hello_a["recovered"], true);

    let metrics = Metrics::new();
    let publisher = publisher(&nats.url(), &metrics);
    let sent = ids(200, "two");
    for id in &sent {
        publisher.publish(form_event(id, &["name"]));
    }
    let (seen_a, seen_b) = tokio::join!(events(&mut on_a, 200), events(&mut on_b, 200));
    assert_eq!(
        seen_a, seen_b,
        "the same events with the same sequences on both"
    );
    let got: Vec<&String> = seen_a.iter().map(|(_, id)| id).collect();
    assert_eq!(
        got,
        sent.iter().collect::<Vec<_>>(),
        "every event once, in order"
    );
    let sequences: Vec<u64> = seen_a.iter().map(|(s, _)| *s).collect();
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );
}

/// Every event frame until the socket ends (closed, or its gateway
/// killed): (sequence, id), and the close code if one came.
async fn events_until_closed(socket: &mut Socket) -> (Vec<(u64, String)>, Option<u16>) {
    events_through(socket, u64::MAX).await
}

/// Event frames until one with sequence `last` or the socket's end.
async fn events_through(socket: &mut Socket, last: u64) -> (Vec<(u64, String)>, Option<u16>) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let mut seen = Vec::new();
    loop {
        let next = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("the socket ends in time");
        match next {
            Some(Ok(Message::Text(text))) => {
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
                let sequence = frame["sequence"].as_u64().unwrap();
                seen.push((sequence, frame["id"].as_str().unwrap().to_owned()));
                if sequence >= last {
                    return (seen, None);
                }
            }
            Some(Ok(Message::Close(close))) => return (seen, close.map(|c| u16::from(c.code))),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (seen, None),
        }
    }
}

/// Publishes `ids` at about `per_second`, from a task.
fn publish_paced(
    publisher: Publisher,
    ids: Vec<String>,
    per_second: u64,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
        for id in ids {
            tick.tick().await;
            publisher.publish(form_event(&id, &["name"]));
        }
    })
}

#[tokio::test]
async fn subscribers_of_a_killed_gateway_resume_on_the_other_with_since_missing_nothing() {
    use inlet_testkit::process::ServiceProcess;
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let mut env = vec![
        ("INLET_LISTEN", "127.0.0.1:0"),
        ("INLET_EVENTS__BACKEND", "nats"),
        ("INLET_EVENTS__NATS__URL", url.as_str()),
    ];
    env.extend(inlet_testkit::access::CREDENTIAL_ENV);
    let mut a = ServiceProcess::start(env!("CARGO_BIN_EXE_inlet-gateway"), &env).await;
    let b = nats_gateway(&url, &[]).await;
    let a_url = format!("ws://127.0.0.1:{}/events", a.port);
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut on_a = loop {
        if let Ok(socket) = ws::try_connect_as_admin(&a_url, &[]).await {
            break socket;
        }
        assert!(tokio::time::Instant::now() < deadline, "a never attached");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let hello = next_json(&mut on_a).await;
    let epoch = hello["epoch"].as_str().unwrap().to_owned();

    let metrics = Metrics::new();
    let sent = ids(400, "kill");
    let publishing = publish_paced(publisher(&url, &metrics), sent.clone(), 400);
    let mut seen = events(&mut on_a, 50).await;
    a.kill().await;
    let (rest, _) = events_until_closed(&mut on_a).await;
    seen.extend(rest);
    let last = seen.last().unwrap().0;

    let (mut on_b, hello) = subscribe(&b, &format!("?since={last}&epoch={epoch}")).await;
    assert_eq!(hello["recovered"], true, "{hello}");
    assert_eq!(hello["epoch"], epoch.as_str());
    seen.extend(events(&mut on_b, sent.len() - seen.len()).await);
    publishing.await.unwrap();
    let got: Vec<&String> = seen.iter().map(|(_, id)| id).collect();
    assert_eq!(got, sent.iter().collect::<Vec<_>>(), "no gap, no duplicate");
    let sequences: Vec<u64> = seen.iter().map(|(s, _)| *s).collect();
    assert!(
        sequences.windows(2).all(|w| w[1] == w[0] + 1),
        "{sequences:?}"
    );
}

#[tokio::test]
async fn history_survives_a_nats_restart_and_since_replays_across_it() {
    let store = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let gateway = nats_gateway(&url, &[]).await;
    let (mut live, hello) = subscribe(&gateway, "").await;
    let epoch = hello["epoch"].as_str().unwrap().to_owned();
    let metrics = Metrics::new();
    let publisher = publisher(&url, &metrics);
    let sent = ids(20, "restart");
    for id in &sent[..10] {
        publisher.publish(form_event(id, &["name"]));
    }
    let before = events(&mut live, 10).await;

    nats.start_again().await;
    for id in &sent[10..] {
        publisher.publish(form_event(id, &["name"]));
    }
    // The gateway follows the stream again; its subscriber stayed.
    let after = events(&mut live, 10).await;
    let all: Vec<(u64, String)> = before.into_iter().chain(after).collect();
    let got: Vec<&String> = all.iter().map(|(_, id)| id).collect();
    assert_eq!(got, sent.iter().collect::<Vec<_>>());

    // `since` from before the restart replays across it, in the same epoch.
    let (mut caught_up, hello) = subscribe(&gateway, &format!("?since=5&epoch={epoch}")).await;
    assert_eq!(
        hello["epoch"],
        epoch.as_str(),
        "the stream is the same stream"
    );
    assert_eq!(
        (hello["recovered"].clone(), hello["replayed"].clone()),
        (true.into(), 15.into())
    );
    assert_eq!(events(&mut caught_up, 15).await, all[5..]);

    // A gateway started now has the history too; one that keeps only five
    // events reads older ones back from the stream, five per connection.
    let small = nats_gateway(&url, &[("INLET_EVENTS__HISTORY", "5")]).await;
    let mut replayed = Vec::new();
    let mut connections = 0;
    while replayed.last().is_none_or(|(sequence, _)| *sequence < 20) {
        let since = replayed.last().map_or(2, |(sequence, _)| *sequence);
        let (mut socket, hello) = subscribe(&small, &format!("?since={since}&epoch={epoch}")).await;
        assert_eq!(hello["recovered"], true, "{hello}");
        let (frames, close) = events_through(&mut socket, 20).await;
        assert!(
            close.is_none_or(|code| code == 1013),
            "a replay that stops short says to reconnect"
        );
        replayed.extend(frames);
        connections += 1;
    }
    assert!(
        connections >= 3,
        "five at most per connection: {connections}"
    );
    assert_eq!(replayed, all[2..]);
}

#[tokio::test]
async fn a_since_older_than_the_stream_holds_is_not_recovered() {
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let gateway = nats_gateway(
        &url,
        &[
            ("INLET_EVENTS__NATS__MAX_MESSAGES", "10"),
            ("INLET_EVENTS__HISTORY", "3"),
        ],
    )
    .await;
    let (mut live, hello) = subscribe(&gateway, "").await;
    let epoch = hello["epoch"].as_str().unwrap().to_owned();
    let metrics = Metrics::new();
    let publisher = publisher(&url, &metrics);
    for id in ids(20, "old") {
        publisher.publish(form_event(&id, &["name"]));
    }
    // The stream may drop some before the gateway reads them: wait for the last.
    while events(&mut live, 1).await[0].1 != "old-0019" {}
    let (mut socket, hello) = subscribe(&gateway, &format!("?since=4&epoch={epoch}")).await;
    assert_eq!(hello["recovered"], false, "{hello}");
    let first = events(&mut socket, 1).await;
    assert_eq!(first[0].0, 11, "the oldest event the stream still holds");
}
