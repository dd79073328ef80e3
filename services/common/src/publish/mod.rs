//! Publishing arrivals to the event feed. The caller never waits and never
//! fails: an event goes into a bounded buffer, one task sends the buffer in
//! order, retrying with exponential backoff while the feed is unreachable,
//! and an event that finds the buffer full is dropped and counted.
//!
//! The buffer and its retries are here; how events reach the feed is a
//! [`Transport`], chosen by `events.backend`: [`grpc::GrpcTransport`]
//! (`memory`: `EventIngest.Publish` to the gateway, or `PublishBatch` for
//! what has piled up, a `gateway.publish` client span per event with its
//! W3C trace context) or
//! [`nats::NatsTransport`] (`nats`: straight to the JetStream stream, in
//! batches, an `events.publish` span per event).

mod grpc;
mod nats;

use std::sync::Arc;
use std::time::Duration;

pub use inlet_proto::events::v1::{
    event, Event, FileDeleted, FileStored, FormSubmitted, MailDeleted, MailReceived,
    SubmissionDeleted, SubmissionsExpired,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Notify};

use crate::access::PublishToken;
use crate::config::{check, check_nonzero, ConfigProblem};
use crate::event_size::{fit, MIN_EVENT_BYTES};
use crate::jetstream::{FeedBackend, FeedSettings};
use crate::metrics::Metrics;
pub use grpc::GrpcTransport;
pub use nats::NatsTransport;

/// Most events sent in one batch (NATS: published back to back, then
/// their acknowledgements awaited together).
const BATCH: usize = 256;

/// The `[publish]` config table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PublishSettings {
    /// Events waiting to be sent; one more is dropped and counted.
    pub buffer: usize,
    /// First wait before retrying a failed publish; doubles up to `retry_max_ms`.
    pub retry_min_ms: u64,
    /// Longest wait between retries.
    pub retry_max_ms: u64,
    /// Time one publish call (connecting included) may take.
    pub timeout_ms: u64,
    /// On shutdown, how long the service waits for buffered events to be
    /// sent before it exits without them.
    pub drain_timeout_ms: u64,
    /// Largest event, encoded; a larger one is summarised (client-chosen
    /// names cut, lists shortened) and marked `truncated`. Keep it under the
    /// gateway's `events.max_event_bytes`.
    pub max_event_bytes: usize,
}

impl Default for PublishSettings {
    fn default() -> Self {
        Self {
            buffer: 4096,
            retry_min_ms: 100,
            retry_max_ms: 5_000,
            timeout_ms: 2_000,
            drain_timeout_ms: 5_000,
            max_event_bytes: 64 * 1024,
        }
    }
}

impl PublishSettings {
    /// Adds a problem for each bad key.
    pub fn validate(&self, problems: &mut Vec<ConfigProblem>) {
        check_nonzero(
            problems,
            &[
                ("publish.buffer", self.buffer as u64),
                ("publish.retry_min_ms", self.retry_min_ms),
                ("publish.timeout_ms", self.timeout_ms),
            ],
        );
        check(
            problems,
            self.max_event_bytes >= MIN_EVENT_BYTES,
            "publish.max_event_bytes",
            "must be at least 4096",
        );
        check(
            problems,
            self.retry_max_ms >= self.retry_min_ms,
            "publish.retry_max_ms",
            "must be at least publish.retry_min_ms",
        );
    }
}

/// Why publishing could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// `INLET_GATEWAY_URL` is not a URL a gRPC client can use.
    #[error("gateway_url {url:?} is not a usable URL: {source}")]
    BadUrl {
        /// The configured value.
        url: String,
        /// What is wrong with it.
        #[source]
        source: tonic::transport::Error,
    },
}

/// How events reach the feed.
pub trait Transport: Send + 'static {
    /// Sends `event`, published under `context`; done when the feed has
    /// taken it.
    fn send(
        &mut self,
        event: &Event,
        context: &opentelemetry::Context,
    ) -> impl std::future::Future<Output = Result<(), SendError>> + Send;

    /// Sends `batch` in order, one answer per event. By default one
    /// [`Transport::send`] after another; a transport that can have several
    /// in flight does better.
    fn send_batch(
        &mut self,
        batch: &[Outgoing],
    ) -> impl std::future::Future<Output = Vec<Result<(), SendError>>> + Send {
        async move {
            let mut answers = Vec::with_capacity(batch.len());
            for outgoing in batch {
                answers.push(self.send(&outgoing.event, &outgoing.context).await);
            }
            answers
        }
    }
}

/// Why one send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The feed says the event itself is wrong (too large, malformed):
    /// sending it again would get the same answer, so it is dropped.
    #[error("refused for good: {0}")]
    Refused(String),
    /// The feed could not be reached or was busy; sent again after a wait.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What the publisher counts, in the service's registry.
#[derive(Debug, Clone, Default)]
struct PublishMetrics {
    buffered: Gauge,
    published: Counter,
    dropped: Counter,
    retries: Counter,
    truncated: Counter,
    refused: Counter,
}

impl PublishMetrics {
    fn register(metrics: &Metrics) -> Self {
        let this = Self::default();
        metrics.register(
            "inlet_publisher_buffered_events",
            "Events waiting to be published to the event feed",
            this.buffered.clone(),
        );
        metrics.register(
            "inlet_publisher_events_published",
            "Events the event feed accepted (the gateway, or JetStream)",
            this.published.clone(),
        );
        metrics.register(
            "inlet_publisher_events_dropped",
            "Events dropped because the publish buffer was full",
            this.dropped.clone(),
        );
        metrics.register(
            "inlet_publisher_retries",
            "Publish calls that failed and were retried",
            this.retries.clone(),
        );
        metrics.register(
            "inlet_publisher_events_truncated",
            "Events summarised to fit publish.max_event_bytes",
            this.truncated.clone(),
        );
        metrics.register(
            "inlet_publisher_events_refused",
            "Events the event feed refused for good (dropped, not retried)",
            this.refused.clone(),
        );
        this
    }
}

/// An event with the trace context it was published under.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// The event.
    pub event: Event,
    /// The trace it was published under.
    pub context: opentelemetry::Context,
}

/// Hands events to the gateway; cheap to clone, and a no-op when disabled.
#[derive(Clone)]
pub struct Publisher {
    queue: Option<mpsc::Sender<Outgoing>>,
    metrics: PublishMetrics,
    /// Rung each time the gateway takes an event (the count waiting is
    /// `metrics.buffered`).
    taken: Arc<Notify>,
    drain_timeout: Duration,
    max_event_bytes: usize,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("enabled", &self.is_enabled())
            .field("buffered", &self.metrics.buffered.get())
            .finish()
    }
}

impl Publisher {
    /// A publisher that publishes nothing (no gateway configured).
    pub fn disabled() -> Self {
        Self {
            queue: None,
            metrics: PublishMetrics::default(),
            taken: Arc::default(),
            drain_timeout: Duration::ZERO,
            max_event_bytes: usize::MAX,
        }
    }

    /// Starts publishing where `feed` says: with the `memory` backend to
    /// the gateway's ingest at `gateway_url` (e.g. `http://gateway:50051`;
    /// `None`: nothing is published), presenting `token`; with `nats`,
    /// straight to the stream in `feed.nats` as `name`. Must run inside a
    /// tokio runtime; the sending task lives as long as a clone of the
    /// publisher does.
    pub fn start_for(
        feed: &FeedSettings,
        gateway_url: Option<&str>,
        token: Option<PublishToken>,
        settings: &PublishSettings,
        metrics: &Metrics,
        name: &str,
    ) -> Result<Self, PublishError> {
        if feed.backend == FeedBackend::Nats {
            let nats = feed.nats.clone();
            let name = name.to_owned();
            tracing::info!(nats.url = %nats.url, nats.stream = %nats.stream, "publishing events to NATS JetStream");
            return Ok(Self::spawn(
                async move { NatsTransport::connect(&nats, &name).await },
                settings,
                metrics,
            ));
        }
        Self::start(gateway_url, token, settings, metrics)
    }

    /// Starts publishing to the gateway's ingest at `gateway_url` (e.g.
    /// `http://gateway:50051`), or nothing when it is `None` (the `memory`
    /// backend of [`Publisher::start_for`]).
    pub fn start(
        gateway_url: Option<&str>,
        token: Option<PublishToken>,
        settings: &PublishSettings,
        metrics: &Metrics,
    ) -> Result<Self, PublishError> {
        let Some(url) = gateway_url else {
            return Ok(Self::disabled());
        };
        if token.is_none() {
            tracing::warn!(
                "no publish secret is configured (INLET_PUBLISH_TOKEN or INLET_PUBLISH_TOKEN_FILE): the gateway will refuse these events"
            );
        }
        let transport = GrpcTransport::new(
            url,
            Duration::from_millis(settings.timeout_ms),
            token,
            settings.max_event_bytes,
        )?;
        tracing::info!(gateway.url = url, "publishing events to the gateway");
        Ok(Self::with_transport(transport, settings, metrics))
    }

    /// Starts publishing through `transport`. Must run inside a tokio
    /// runtime; the sending task lives as long as a clone of the publisher does.
    pub fn with_transport(
        transport: impl Transport,
        settings: &PublishSettings,
        metrics: &Metrics,
    ) -> Self {
        Self::spawn(
            async move { Ok::<_, std::convert::Infallible>(transport) },
            settings,
            metrics,
        )
    }

    /// Starts the sending task, which first makes its transport; one that
    /// cannot be made leaves every event buffered, then dropped and counted.
    fn spawn<T: Transport, E: std::fmt::Display + Send + 'static>(
        transport: impl std::future::Future<Output = Result<T, E>> + Send + 'static,
        settings: &PublishSettings,
        metrics: &Metrics,
    ) -> Self {
        let metrics = PublishMetrics::register(metrics);
        let (queue, incoming) = mpsc::channel(settings.buffer);
        let taken = Arc::<Notify>::default();
        let sending = (settings.clone(), metrics.clone(), Arc::clone(&taken));
        tokio::spawn(async move {
            match transport.await {
                Ok(transport) => {
                    send_in_order(incoming, transport, sending.0, sending.1, sending.2).await
                }
                Err(err) => tracing::error!(%err, "cannot publish events: nothing will be sent"),
            }
        });
        Self {
            queue: Some(queue),
            metrics,
            taken,
            drain_timeout: Duration::from_millis(settings.drain_timeout_ms),
            max_event_bytes: settings.max_event_bytes,
        }
    }

    /// Whether events go anywhere (a gateway is configured).
    pub fn is_enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues `event` for the gateway, under the current span's trace.
    /// Never waits: with the buffer full, the event is dropped and counted.
    /// An event over `publish.max_event_bytes` is summarised first.
    pub fn publish(&self, mut event: Event) {
        let Some(queue) = &self.queue else {
            return;
        };
        if fit(&mut event, self.max_event_bytes) {
            self.metrics.truncated.inc();
            tracing::debug!(inlet.event.id = %event.id, "event summarised to fit publish.max_event_bytes");
        }
        let context = crate::trace_id::current_context();
        if event.trace_id.is_empty() {
            event.trace_id = crate::trace_id::of(&context).unwrap_or_default();
        }
        // Counted before it is queued, so the sending task can never take
        // it off the count first (and `drain` never sees a count below 0).
        self.metrics.buffered.inc();
        match queue.try_send(Outgoing { event, context }) {
            Ok(()) => {}
            Err(_) => {
                self.metrics.buffered.dec();
                self.metrics.dropped.inc();
                tracing::warn!("publish buffer full: event dropped");
            }
        }
    }
}

impl Publisher {
    /// For a service on its way out: waits until every buffered event has
    /// been accepted, or `publish.drain_timeout_ms` has passed (then says
    /// how many are left behind). Returns at once when publishing is off.
    pub async fn drain(&self) {
        if self.queue.is_none() {
            return;
        }
        let deadline = tokio::time::Instant::now() + self.drain_timeout;
        loop {
            let changed = self.taken.notified();
            let left = self.metrics.buffered.get();
            if left == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                let left = self.metrics.buffered.get();
                tracing::warn!(left, "stopping with events the gateway has not taken");
                return;
            }
        }
    }
}

/// An event about the item `id` that happens now (a deletion, an expiry).
pub fn event_now(id: uuid::Uuid, source: &str, kind: event::Kind) -> Event {
    new_event(id, time::OffsetDateTime::now_utc(), source, kind)
}

/// An event about an arrival with `id` at `at`, from `source`.
pub fn new_event(
    id: uuid::Uuid,
    at: time::OffsetDateTime,
    source: &str,
    kind: event::Kind,
) -> Event {
    Event {
        id: id.to_string(),
        time: Some(prost_types::Timestamp {
            seconds: at.unix_timestamp(),
            nanos: at.nanosecond() as i32,
        }),
        source: source.to_owned(),
        truncated: false,
        // Filled by `Publisher::publish` from the current trace.
        trace_id: String::new(),
        kind: Some(kind),
    }
}

/// Sends every queued event in order, up to [`BATCH`] at a time, until
/// each is taken or refused for good; what could not be sent is sent again
/// after a wait that doubles from `retry_min_ms` to `retry_max_ms`.
async fn send_in_order(
    mut incoming: mpsc::Receiver<Outgoing>,
    mut transport: impl Transport,
    settings: PublishSettings,
    metrics: PublishMetrics,
    taken: Arc<Notify>,
) {
    let min = Duration::from_millis(settings.retry_min_ms);
    let max = Duration::from_millis(settings.retry_max_ms);
    let mut batch = Vec::with_capacity(BATCH);
    while incoming.recv_many(&mut batch, BATCH).await > 0 {
        let mut wait = min;
        while !batch.is_empty() {
            let answers = transport.send_batch(&batch).await;
            let mut again = Vec::new();
            let mut failure = None;
            for (outgoing, answer) in batch.drain(..).zip(answers) {
                match answer {
                    Ok(()) => {
                        metrics.published.inc();
                    }
                    Err(SendError::Refused(reason)) => {
                        // Every event after it would wait behind it.
                        metrics.refused.inc();
                        tracing::warn!(
                            inlet.event.id = %outgoing.event.id,
                            reason,
                            "the feed refused an event; dropped"
                        );
                    }
                    Err(SendError::Unavailable(message)) => {
                        failure = Some(message);
                        again.push(outgoing);
                        continue;
                    }
                }
                metrics.buffered.dec();
            }
            taken.notify_waiters();
            if let Some(message) = failure {
                metrics.retries.inc_by(again.len() as u64);
                tracing::debug!(message, events = again.len(), "publish failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(max);
            }
            batch = again;
        }
    }
}
