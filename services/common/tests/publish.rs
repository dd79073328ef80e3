//! The publisher against a real gRPC `EventIngest` server on a free port
//! (a stand-in until the gateway exists; it serves the same generated service).

use std::net::SocketAddr;
use std::time::Duration;

use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishSettings, Publisher};
use inlet_proto::events::v1::event_ingest_server::{EventIngest, EventIngestServer};
use inlet_proto::events::v1::{Event, PublishRequest, PublishResponse};
use tokio::sync::mpsc;

/// How long anything here may take.
const WAIT: Duration = Duration::from_secs(20);

/// What the stand-in received: each event and its `traceparent`.
type Received = mpsc::UnboundedReceiver<(Event, Option<String>)>;

struct Recorder(mpsc::UnboundedSender<(Event, Option<String>)>);

#[tonic::async_trait]
impl EventIngest for Recorder {
    async fn publish(
        &self,
        request: tonic::Request<PublishRequest>,
    ) -> Result<tonic::Response<PublishResponse>, tonic::Status> {
        let traceparent = request
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let event = request.into_inner().event.unwrap_or_default();
        let _ = self.0.send((event, traceparent));
        Ok(tonic::Response::new(PublishResponse { sequence: 1 }))
    }
}

/// Serves the stand-in on `listener` for the rest of the test.
fn serve(listener: tokio::net::TcpListener) -> Received {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(EventIngestServer::new(Recorder(tx)))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    rx
}

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

async fn next(received: &mut Received) -> (Event, Option<String>) {
    tokio::time::timeout(WAIT, received.recv())
        .await
        .expect("an event arrives in time")
        .expect("the stand-in is running")
}

fn counter(metrics: &Metrics, name: &str) -> u64 {
    let text = metrics.encode();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map_or(0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn events_arrive_in_publish_order() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut received = serve(listener);
    let metrics = Metrics::new();
    let publisher = Publisher::start(Some(&url), &fast(), &metrics).unwrap();
    for id in ["a", "b", "c"] {
        publisher.publish(event(id));
    }
    for id in ["a", "b", "c"] {
        assert_eq!(next(&mut received).await.0.id, id);
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
    let publisher = Publisher::start(Some(&format!("http://{addr}")), &fast(), &metrics).unwrap();
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
    let mut received = serve(tokio::net::TcpListener::bind(addr).await.unwrap());
    assert_eq!(next(&mut received).await.0.id, "early");
}

#[tokio::test]
async fn a_full_buffer_drops_and_counts_without_waiting() {
    let addr = unused_address();
    let metrics = Metrics::new();
    let settings = PublishSettings {
        buffer: 2,
        ..fast()
    };
    let publisher = Publisher::start(Some(&format!("http://{addr}")), &settings, &metrics).unwrap();
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
    let err = Publisher::start(Some("not a url"), &fast(), &Metrics::new())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("gateway_url"), "{err}");
}

#[tokio::test]
async fn the_callers_trace_travels_in_the_grpc_metadata() {
    use opentelemetry::trace::{TraceContextExt, TracerProvider};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    use tracing_subscriber::layer::SubscriberExt;

    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // The test runtime has one thread: the sending task sees this subscriber.
    let _default = tracing::subscriber::set_default(subscriber);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut received = serve(listener);
    let publisher = Publisher::start(Some(&url), &fast(), &Metrics::new()).unwrap();
    let request = tracing::info_span!("request");
    let trace_id = request
        .context()
        .span()
        .span_context()
        .trace_id()
        .to_string();
    request.in_scope(|| publisher.publish(event("traced")));

    let (got, traceparent) = next(&mut received).await;
    assert_eq!(got.id, "traced");
    let traceparent = traceparent.expect("a traceparent in the metadata");
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
