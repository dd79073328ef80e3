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
    subscribe_at(&gateway.ws_url(&format!("/events{query}"))).await
}

/// [`subscribe`] for a gateway at `url` (`ws://…/events?…`), e.g. one
/// running as a process.
async fn subscribe_at(url: &str) -> (Socket, serde_json::Value) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut socket = loop {
        match ws::try_connect_as_admin(url, &[]).await {
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
    let (mut on_a, hello) = subscribe_at(&format!("ws://127.0.0.1:{}/events", a.port)).await;
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

#[tokio::test]
async fn with_nats_down_for_ten_seconds_every_post_is_taken_and_each_event_arrives_once_after() {
    let store = tempfile::tempdir().unwrap();
    let mut nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let gateway = nats_gateway(&url, &[]).await;
    let forms = crate::publishing::spawn_forms_with(
        "http://127.0.0.1:9",
        &[
            ("INLET_EVENTS__BACKEND", "nats"),
            ("INLET_EVENTS__NATS__URL", &url),
            ("INLET_EVENTS__NATS__REQUEST_TIMEOUT_MS", "500"),
        ],
    )
    .await;
    let (mut live, _) = subscribe(&gateway, "?topics=forms").await;

    // A steady stream of posts, 20 a second: 2 s with NATS, 10 s without,
    // 2 s with it back. Each post names itself in its one field.
    let mut names = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for i in 0..280 {
        tick.tick().await;
        if i == 40 {
            nats.kill().await;
        }
        if i == 240 {
            nats.start_again().await;
        }
        let name = format!("p{i:04}");
        let res = forms.post_json(format!(r#"{{"{name}":1}}"#)).await;
        assert_eq!(
            res.status(),
            200,
            "post {i} while NATS is {}",
            if (40..240).contains(&i) { "down" } else { "up" }
        );
        names.push(name);
    }
    // Every event arrives, in the order posted, and then nothing twice:
    // a last post is the next event.
    let field =
        |frame: &serde_json::Value| frame["data"]["field_names"][0].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    while seen.len() < names.len() {
        seen.push(field(&next_json(&mut live).await));
    }
    assert_eq!(seen, names);
    assert_eq!(forms.post_json(r#"{"last":1}"#.into()).await.status(), 200);
    assert_eq!(
        field(&next_json(&mut live).await),
        "last",
        "no event came twice"
    );
    assert_eq!(
        forms.counter("inlet_publisher_events_dropped_total").await,
        0.0
    );
    assert!(
        forms.counter("inlet_publisher_retries_total").await > 0.0,
        "it did wait for NATS"
    );
}

/// A TCP proxy to `upstream` that loses the first JetStream publish
/// acknowledgement on its way back, passing everything else; counts what
/// it lost.
async fn ack_losing_proxy(upstream: u16) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lost = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&lost);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = tokio::net::TcpStream::connect(("127.0.0.1", upstream))
                .await
                .unwrap();
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move { tokio::io::copy(&mut client_read, &mut server_write).await });
            let counter = std::sync::Arc::clone(&counter);
            tokio::spawn(async move {
                let (mut pending, mut chunk) = (Vec::new(), vec![0; 65536]);
                loop {
                    let n = match server_read.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&chunk[..n]);
                    // Pass on every whole protocol item; hold a partial one.
                    while let Some(end) = pending.windows(2).position(|w| w == b"\r\n") {
                        let line = String::from_utf8_lossy(&pending[..end]).into_owned();
                        let mut size = end + 2;
                        if line.starts_with("MSG ") || line.starts_with("HMSG ") {
                            let total: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
                            size += total + 2;
                            if pending.len() < size {
                                break;
                            }
                            let payload = &pending[end + 2..end + 2 + total];
                            if payload.starts_with(b"{\"stream\":")
                                && counter.load(Ordering::SeqCst) == 0
                            {
                                counter.fetch_add(1, Ordering::SeqCst);
                                pending.drain(..size);
                                continue;
                            }
                        }
                        if client_write.write_all(&pending[..size]).await.is_err() {
                            return;
                        }
                        pending.drain(..size);
                    }
                }
            });
        }
    });
    (port, lost)
}

#[tokio::test]
async fn a_publish_retried_after_its_acknowledgement_was_lost_is_stored_once() {
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let gateway = nats_gateway(&nats.url(), &[]).await;
    let (mut live, _) = subscribe(&gateway, "").await;
    let (proxy, lost) = ack_losing_proxy(nats.port()).await;
    let metrics = Metrics::new();
    let publisher = publisher(&format!("nats://127.0.0.1:{proxy}"), &metrics);
    publisher.publish(form_event("once", &["name"]));
    publisher.publish(form_event("after", &["name"]));
    let seen = events(&mut live, 2).await;
    assert_eq!(
        lost.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "an acknowledgement was lost"
    );
    assert_eq!(
        seen.iter().map(|(_, id)| id.as_str()).collect::<Vec<_>>(),
        ["once", "after"]
    );
    assert_eq!(
        seen[1].0,
        seen[0].0 + 1,
        "the retry did not take a sequence of its own"
    );
    // Done when the lost one's retry is acknowledged (as a duplicate).
    publisher.drain().await;
    let text = metrics.encode();
    assert!(text.contains("inlet_publisher_retries_total 1"), "{text}");
    assert!(
        text.contains("inlet_publisher_events_published_total 2"),
        "{text}"
    );
}

#[tokio::test]
async fn one_post_is_one_trace_from_forms_through_nats_into_the_gateway() {
    use inlet_testkit::otlp::OtlpReceiver;
    use inlet_testkit::process::{sibling_binary, ServiceProcess};
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let receiver = OtlpReceiver::start().await;
    let (url, endpoint) = (nats.url(), receiver.grpc_endpoint());
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let mut common = vec![
        ("INLET_LISTEN", "127.0.0.1:0"),
        ("INLET_EVENTS__BACKEND", "nats"),
        ("INLET_EVENTS__NATS__URL", url.as_str()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
    ];
    common.extend(inlet_testkit::access::CREDENTIAL_ENV);
    let mut gateway = ServiceProcess::start(env!("CARGO_BIN_EXE_inlet-gateway"), &common).await;
    let mut forms_env = common.clone();
    forms_env.push(("INLET_DATA_DIR", &data_dir));
    let forms_bin = sibling_binary("inlet-forms");
    let mut forms = ServiceProcess::start(forms_bin.to_str().unwrap(), &forms_env).await;
    let (mut feed, _) = subscribe_at(&format!("ws://127.0.0.1:{}/events", gateway.port)).await;
    let trace = "5bf92f3577b34da6a3ce929d0e0e4736";
    let res = inlet_testkit::http::client()
        .post(format!("{}/", forms.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .body("traced=yes")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let frame = next_json(&mut feed).await;
    assert_eq!(frame["trace_id"], trace, "{frame}");
    drop(feed);
    assert!(forms.terminate().await.success());
    assert!(gateway.terminate().await.success());

    let deliver = receiver
        .wait_for_span(WAIT, |s| s.name == "gateway.deliver" && s.trace_id == trace)
        .await
        .expect("the gateway's deliver span in the post's trace");
    let publish = receiver
        .spans()
        .into_iter()
        .find(|s| s.service_name == "inlet-forms" && s.name == "events.publish")
        .expect("forms' publish span");
    assert_eq!(publish.trace_id, trace);
    // SpanKind: 4 producer, 5 consumer.
    assert_eq!((publish.kind, deliver.kind), (4, 5));
    assert_eq!(deliver.parent_span_id, publish.span_id);
    assert_eq!(deliver.service_name, "inlet-gateway");
    assert_eq!(deliver.attr_i64("subscribers"), Some(1));
}

#[tokio::test]
async fn a_stream_made_anew_closes_subscribers_with_1012_and_starts_a_new_epoch() {
    let store = tempfile::tempdir().unwrap();
    let nats = NatsServer::start(store.path()).await;
    let url = nats.url();
    let gateway = nats_gateway(&url, &[]).await;
    let (mut old, hello) = subscribe(&gateway, "").await;
    let old_epoch = hello["epoch"].as_str().unwrap().to_owned();

    // An operator deletes the stream; the gateway makes it again.
    let client = async_nats::connect(url.as_str()).await.unwrap();
    let deleted = async_nats::jetstream::new(client)
        .delete_stream("INLET_EVENTS")
        .await
        .unwrap();
    assert!(deleted.success);
    let (frames, close) = events_until_closed(&mut old).await;
    assert!(frames.is_empty());
    assert_eq!(close, Some(1012), "told to start over");

    let (mut new, hello) = subscribe(&gateway, "").await;
    assert_ne!(
        hello["epoch"],
        old_epoch.as_str(),
        "a new stream, a new epoch"
    );
    let metrics = Metrics::new();
    publisher(&url, &metrics).publish(form_event("after", &["name"]));
    assert_eq!(events(&mut new, 1).await, [(1, "after".to_owned())]);
}
