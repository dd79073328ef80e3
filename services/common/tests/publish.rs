//! The publisher against a real gRPC `EventIngest` server on a free port
//! (the test kit's stand-in for the gateway's ingest).

use std::net::SocketAddr;
use std::time::Duration;

use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishSettings, Publisher};
use inlet_proto::events::v1::Event;
use inlet_testkit::ingest::IngestStandIn;

use inlet_testkit::WAIT;

/// A free port nothing listens on yet.
fn unused_address() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

fn event(id: &str) -> Event {
    Event {
        id: id.into(),
        source: "test".into(),
        ..Event::default()
    }
}

fn fast() -> PublishSettings {
    PublishSettings {
        retry_min_ms: 20,
        retry_max_ms: 100,
        ..PublishSettings::default()
    }
}

fn counter(metrics: &Metrics, name: &str) -> u64 {
    let text = metrics.encode();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map_or(0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn events_arrive_in_publish_order() {
    let mut gateway = IngestStandIn::start().await;
    let metrics = Metrics::new();
    let publisher = Publisher::start(Some(&gateway.url), None, &fast(), &metrics).unwrap();
    for id in ["a", "b", "c"] {
        publisher.publish(event(id));
    }
    for id in ["a", "b", "c"] {
        assert_eq!(gateway.next().await.event.id, id);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    while counter(&metrics, "inlet_publisher_events_published_total") < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            metrics.encode()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn an_event_waits_for_a_gateway_that_starts_later() {
    let addr = unused_address();
    let metrics = Metrics::new();
    let publisher =
        Publisher::start(Some(&format!("http://{addr}")), None, &fast(), &metrics).unwrap();
    publisher.publish(event("early"));
    // The publisher has tried and failed before the gateway comes up.
    let deadline = tokio::time::Instant::now() + WAIT;
    while counter(&metrics, "inlet_publisher_retries_total") == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no retry was counted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut gateway = IngestStandIn::serve(tokio::net::TcpListener::bind(addr).await.unwrap());
    assert_eq!(gateway.next().await.event.id, "early");
}

#[tokio::test]
async fn a_full_buffer_drops_and_counts_without_waiting() {
    let addr = unused_address();
    let metrics = Metrics::new();
    let settings = PublishSettings {
        buffer: 2,
        ..fast()
    };
    let publisher =
        Publisher::start(Some(&format!("http://{addr}")), None, &settings, &metrics).unwrap();
    for i in 0..10 {
        publisher.publish(event(&i.to_string()));
    }
    // Two wait in the buffer and at most one has been taken out to be sent.
    let dropped = counter(&metrics, "inlet_publisher_events_dropped_total");
    assert!((7..=8).contains(&dropped), "{}", metrics.encode());
}

#[test]
fn a_disabled_publisher_takes_events_outside_any_runtime() {
    let publisher = Publisher::disabled();
    publisher.publish(event("nowhere"));
}

#[tokio::test]
async fn a_bad_url_is_refused_at_start() {
    let err =
        Publisher::start(Some("not a url"), None, &fast(), &Metrics::new()).expect_err("refused");
    assert!(err.to_string().contains("gateway_url"), "{err}");
}

/// W3C propagation and spans with OpenTelemetry contexts on this thread,
/// while what it gives lives.
fn traced() -> (
    tracing::subscriber::DefaultGuard,
    opentelemetry_sdk::trace::SdkTracerProvider,
) {
    use opentelemetry::trace::TracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    (tracing::subscriber::set_default(subscriber), provider)
}

#[tokio::test]
async fn the_callers_trace_travels_in_the_grpc_metadata() {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    // The test runtime has one thread: the sending task sees this subscriber.
    let _traced = traced();

    let mut gateway = IngestStandIn::start().await;
    let publisher = Publisher::start(Some(&gateway.url), None, &fast(), &Metrics::new()).unwrap();
    let request = tracing::info_span!("request");
    let trace_id = request
        .context()
        .span()
        .span_context()
        .trace_id()
        .to_string();
    request.in_scope(|| publisher.publish(event("traced")));

    let published = gateway.next().await;
    assert_eq!(published.event.id, "traced");
    let traceparent = published
        .traceparent
        .expect("a traceparent in the metadata");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[1], trace_id, "the publish joins the caller's trace");
    let request_span_id = request
        .context()
        .span()
        .span_context()
        .span_id()
        .to_string();
    assert_ne!(
        parts[2], request_span_id,
        "the parent is the gateway.publish client span, not the request span"
    );
}

#[tokio::test]
async fn events_that_piled_up_go_in_one_batch_each_in_its_own_trace() {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    let _traced = traced();

    let mut gateway = IngestStandIn::start().await;
    let publisher = Publisher::start(Some(&gateway.url), None, &fast(), &Metrics::new()).unwrap();
    // The test runtime has one thread: the sending task runs only once
    // this one waits, and then finds all five queued.
    let mut traces = Vec::new();
    for i in 0..5 {
        let request = tracing::info_span!("request");
        traces.push(
            request
                .context()
                .span()
                .span_context()
                .trace_id()
                .to_string(),
        );
        request.in_scope(|| publisher.publish(event(&format!("piled-{i}"))));
    }
    for (i, trace) in traces.iter().enumerate() {
        let published = gateway.next().await;
        assert_eq!(published.event.id, format!("piled-{i}"), "in publish order");
        let traceparent = published.traceparent.expect("a traceparent in each entry");
        assert_eq!(
            traceparent.split('-').nth(1),
            Some(trace.as_str()),
            "{traceparent}"
        );
    }
    assert_eq!(
        gateway.batches(),
        1,
        "the five went in one PublishBatch call"
    );
}

#[tokio::test]
async fn drain_returns_once_the_gateway_has_taken_everything() {
    let address = unused_address();
    let metrics = Metrics::new();
    let publisher =
        Publisher::start(Some(&format!("http://{address}")), None, &fast(), &metrics).unwrap();
    publisher.publish(event("held"));
    // The gateway comes up only now: drain waits for it to take the event.
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let mut gateway = IngestStandIn::serve(listener);
    tokio::time::timeout(WAIT, publisher.drain())
        .await
        .expect("drain ends once the event is taken");
    assert_eq!(
        counter(&metrics, "inlet_publisher_events_published_total"),
        1
    );
    assert_eq!(gateway.next().await.event.id, "held");
}

#[tokio::test]
async fn drain_gives_up_at_its_deadline() {
    let settings = PublishSettings {
        drain_timeout_ms: 50,
        ..fast()
    };
    let metrics = Metrics::new();
    let address = unused_address();
    let publisher = Publisher::start(
        Some(&format!("http://{address}")),
        None,
        &settings,
        &metrics,
    )
    .unwrap();
    publisher.publish(event("never taken"));
    let started = tokio::time::Instant::now();
    tokio::time::timeout(WAIT, publisher.drain())
        .await
        .expect("drain ends at its deadline");
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert_eq!(counter(&metrics, "inlet_publisher_buffered_events"), 1);
    // Disabled: nothing to wait for.
    tokio::time::timeout(WAIT, Publisher::disabled().drain())
        .await
        .unwrap();
}
