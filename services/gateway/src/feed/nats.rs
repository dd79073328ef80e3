//! The feed on NATS JetStream (`events.backend = "nats"`). Publishers put
//! events on the stream themselves; each gateway replica follows it with
//! one ordered consumer into its ring (the last `events.history` events,
//! refilled from the stream when it starts), so every replica gives the
//! same event the same sequence: the stream's. The epoch names the stream
//! and when it was made; when it is made anew, every subscriber is closed
//! with 1012 to start over.
//!
//! A `since` the ring still covers is replayed from the ring. An older one
//! the stream still holds is read back from the stream (an ordered consumer
//! of its own, up to `events.history` events or `events.history_bytes` per
//! connection); a subscriber still short of the ring then is closed with
//! 1013 and reads on by reconnecting with `since` where its replay stopped. Older than the stream
//! holds is `recovered: false`, as with the memory feed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::{self, stream};
use bytestring::ByteString;
use futures_util::StreamExt;
use inlet_common::jetstream as shared;
use inlet_common::jetstream::NatsSettings;
use inlet_proto::events::v1::Event;
use prost::Message as _;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::ring::{Ring, Start};
use super::topic::{Topic, TopicSet};
use super::{frame, Delivery, FeedError, Live, Since, Subscription};
use crate::config::EventSettings;
use crate::metrics::GatewayMetrics;

/// How long one pull of the follower waits; its idle heartbeat is half.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

/// Why the NATS feed could not start.
#[derive(Debug, thiserror::Error)]
pub enum NatsFeedError {
    /// The client could not be made (a bad URL).
    #[error("cannot connect to NATS at {url:?}: {source}")]
    Connect {
        /// `events.nats.url`.
        url: String,
        /// What the client said.
        #[source]
        source: async_nats::ConnectError,
    },
}

/// The feed on a JetStream stream; one per gateway replica.
pub struct NatsFeed {
    /// Its epoch is `<stream>-<created>`; empty until the stream has been found.
    ring: Ring,
    context: jetstream::Context,
    nats: NatsSettings,
    /// `events.history` and `events.history_bytes`: the most one
    /// connection's catch-up reads back from the stream.
    catch_up_events: usize,
    catch_up_bytes: usize,
    /// The last stream sequence the follower knows exists.
    stream_last: AtomicU64,
    /// Whether the follower is attached to the stream.
    attached: AtomicBool,
}

impl NatsFeed {
    /// Connects (in the background) and starts following the stream until
    /// `closing` is cancelled.
    pub async fn start(
        settings: &EventSettings,
        metrics: GatewayMetrics,
        closing: CancellationToken,
    ) -> Result<Arc<Self>, NatsFeedError> {
        let nats = settings.nats.clone();
        let connected = Arc::new(Notify::new());
        let client = nats
            .connect("inlet-gateway", Some(Arc::clone(&connected)))
            .await
            .map_err(|source| NatsFeedError::Connect {
                url: nats.url.clone(),
                source,
            })?;
        let feed = Arc::new(Self {
            ring: Ring::new(settings, metrics, String::new()),
            context: nats.jetstream(client),
            catch_up_events: settings.history,
            catch_up_bytes: settings.history_bytes,
            nats,
            stream_last: AtomicU64::new(0),
            attached: AtomicBool::new(false),
        });
        tokio::spawn(Arc::clone(&feed).follow(connected, closing));
        Ok(feed)
    }

    /// The stream's epoch (empty before the stream is first found).
    pub fn epoch(&self) -> String {
        self.ring.epoch()
    }

    /// Whether the gateway follows the stream now (`/readyz`).
    pub fn is_attached(&self) -> bool {
        self.attached.load(Ordering::Relaxed)
    }

    /// Subscribes to `topics` from `since` (see the module's notes).
    pub async fn subscribe(
        &self,
        topics: TopicSet,
        since: Option<&Since>,
    ) -> Result<Subscription, FeedError> {
        let epoch = self.epoch();
        if epoch.is_empty() {
            return Err(FeedError::Unavailable(
                "the gateway has not reached the NATS stream yet".into(),
            ));
        }
        let Some(since) = since else {
            return Ok(self.join_ring(topics, Start::Latest, true, None));
        };
        if since.epoch.as_deref().is_some_and(|e| e != epoch) || !self.holds(since.sequence).await?
        {
            // Another stream's sequence: everything the ring holds is new to it.
            return Ok(self.join_ring(topics, Start::Everything, false, None));
        }
        let subscription = self.join_ring(topics, Start::After(since.sequence), true, None);
        if subscription.recovered {
            return Ok(subscription);
        }
        // Older than the ring: read back from the stream.
        drop(subscription);
        self.catch_up(topics, since.sequence).await
    }

    /// A subscription on the ring from `start`, after `caught_up` (read
    /// back from the stream); when the ring no longer holds what follows,
    /// the subscriber is told to reconnect for the rest.
    fn join_ring(
        &self,
        topics: TopicSet,
        start: Start,
        recovered: bool,
        caught_up: Option<Vec<Arc<Delivery>>>,
    ) -> Subscription {
        let read_back = caught_up.is_some();
        let mut replay = caught_up.unwrap_or_default();
        let joined = self.ring.subscribe(topics, start);
        let latest = joined.latest.max(match start {
            Start::After(sequence) => sequence,
            _ => 0,
        });
        let live = match (start, joined.complete) {
            (Start::After(position), false) => Live::Behind {
                resume_from: position,
            },
            _ => {
                replay.extend(joined.replay);
                Live::Ring(joined.live)
            }
        };
        Subscription {
            epoch: joined.epoch,
            replay,
            latest,
            // A read-back replay is whole up to where it stopped; what
            // follows comes on the next connection.
            recovered: recovered && (joined.complete || read_back),
            live,
        }
    }

    /// Whether the stream has reached `sequence`, asking it when the
    /// follower has not seen that far.
    async fn holds(&self, sequence: u64) -> Result<bool, FeedError> {
        if sequence <= self.stream_last.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let last = self.stream().await?.cached_info().state.last_sequence;
        self.stream_last.fetch_max(last, Ordering::Relaxed);
        Ok(sequence <= last)
    }

    /// The stream, with its state as of this one request.
    async fn stream(&self) -> Result<stream::Stream, FeedError> {
        self.context
            .get_stream(&self.nats.stream)
            .await
            .map_err(|e| FeedError::Unavailable(e.to_string()))
    }

    /// Reads back from the stream what followed `since`, up to the
    /// catch-up bounds or the ring, then joins the ring.
    async fn catch_up(&self, topics: TopicSet, since: u64) -> Result<Subscription, FeedError> {
        let stream = self.stream().await?;
        let first = stream.cached_info().state.first_sequence.max(1);
        let recovered = since + 1 >= first;
        let start = (since + 1).max(first);
        let filter = match topics.iter().collect::<Vec<_>>().as_slice() {
            [one] if topics != TopicSet::all() => self.nats.topic_filter(*one),
            _ => String::new(),
        };
        let unavailable = |e: &dyn std::fmt::Display| FeedError::Unavailable(e.to_string());
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence {
                    start_sequence: start,
                },
                filter_subject: filter,
                ..OrderedConfig::default()
            })
            .await
            .map_err(|e| unavailable(&e))?;
        let mut pending = consumer.cached_info().num_pending;
        let mut messages = consumer.messages().await.map_err(|e| unavailable(&e))?;
        let (mut replay, mut bytes, mut position) = (Vec::new(), 0, start - 1);
        while pending > 0
            && replay.len() < self.catch_up_events
            && bytes < self.catch_up_bytes
            && position + 1 < self.ring.first_kept()
        {
            let message = tokio::time::timeout(self.nats.request_timeout(), messages.next())
                .await
                .map_err(|_| FeedError::Unavailable("the stream stopped answering".into()))?
                .ok_or_else(|| FeedError::Unavailable("the stream ended".into()))?
                .map_err(|e| unavailable(&e))?;
            pending -= 1;
            let Some((sequence, delivery)) = delivery_of(&message) else {
                continue;
            };
            position = sequence;
            if let Some((topic, frame)) = delivery.filter(|(topic, _)| topics.contains(*topic)) {
                bytes += frame.len();
                replay.push(Arc::new(Delivery {
                    sequence,
                    topic,
                    frame,
                    through_bytes: 0,
                }));
            }
        }
        tracing::info!(
            since,
            replayed = replay.len(),
            through = position,
            "read back from the stream for a subscriber"
        );
        Ok(self.join_ring(topics, Start::After(position), recovered, Some(replay)))
    }

    /// Follows the stream into the ring until `closing`: attaches (the
    /// stream created or its limits updated), reads, and attaches again
    /// after a failure, a reconnection, or when the stream was made anew.
    async fn follow(self: Arc<Self>, connected: Arc<Notify>, closing: CancellationToken) {
        let mut wait = Duration::from_millis(100);
        loop {
            let attempt = async {
                // Waiting from before the consumer is made, so a
                // reconnection while it is being made counts too.
                let reconnected = connected.notified();
                tokio::pin!(reconnected);
                reconnected.as_mut().enable();
                let messages = self.attach().await?;
                wait = Duration::from_millis(100);
                tokio::select! {
                    outcome = self.read(messages) => outcome,
                    // A server that restarted has forgotten the consumer:
                    // make it again now rather than after missed heartbeats.
                    () = reconnected => Err("reconnected to NATS".to_owned()),
                }
            };
            let outcome = tokio::select! {
                outcome = attempt => outcome,
                () = closing.cancelled() => return,
            };
            self.attached.store(false, Ordering::Relaxed);
            if let Err(reason) = outcome {
                tracing::warn!(%reason, retry_in_ms = wait.as_millis() as u64, "not following the NATS stream");
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = closing.cancelled() => return,
            }
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    /// Creates or updates the stream, learns its epoch, and opens an
    /// ordered consumer from just after what the ring holds (or, new, from
    /// the last `events.history` events).
    async fn attach(&self) -> Result<jetstream::consumer::pull::Ordered, String> {
        let info = self
            .context
            .create_or_update_stream(self.nats.stream_config())
            .await
            .map_err(|e| format!("the stream {:?}: {e}", self.nats.stream))?;
        let epoch = shared::epoch_of(&info);
        let state = &info.state;
        let known = self.epoch();
        let start = if known == epoch {
            self.ring.latest() + 1
        } else {
            if !known.is_empty() {
                tracing::warn!(old = %known, new = %epoch, "the stream was made anew: a new epoch");
            }
            // The last `events.history` events, to replay from the ring.
            let keep = self.catch_up_events as u64;
            let start = state
                .first_sequence
                .max(state.last_sequence.saturating_sub(keep) + 1);
            self.ring.restart(start, epoch.clone());
            start
        };
        self.stream_last
            .fetch_max(state.last_sequence, Ordering::Relaxed);
        let consumer = self
            .context
            .create_consumer_on_stream(
                OrderedConfig {
                    deliver_policy: DeliverPolicy::ByStartSequence {
                        start_sequence: start.max(1),
                    },
                    // Pulls of 5 s with heartbeats every 2.5 s: a server that
                    // went away is noticed (and the consumer made again where
                    // it stopped) within seconds, not the client's 30.
                    max_expires: PULL_EXPIRES,
                    ..OrderedConfig::default()
                },
                &self.nats.stream,
            )
            .await
            .map_err(|e| e.to_string())?;
        let messages = consumer.messages().await.map_err(|e| e.to_string())?;
        self.attached.store(true, Ordering::Relaxed);
        tracing::info!(
            nats.stream = %self.nats.stream,
            epoch = %epoch,
            from = start,
            last = state.last_sequence,
            "following the NATS stream"
        );
        Ok(messages)
    }

    /// Appends each message to the ring, under a `gateway.deliver` span
    /// joined to the publisher's trace, until the consumer fails for good.
    async fn read(&self, mut messages: jetstream::consumer::pull::Ordered) -> Result<(), String> {
        while let Some(message) = messages.next().await {
            let message = message.map_err(|e| e.to_string())?;
            let Some((sequence, delivery)) = delivery_of(&message) else {
                continue;
            };
            if let Ok(info) = message.info() {
                self.stream_last
                    .fetch_max(info.stream_sequence + info.pending, Ordering::Relaxed);
            }
            if sequence <= self.ring.latest() {
                continue;
            }
            let Some((topic, frame)) = delivery else {
                tracing::warn!(sequence, subject = %message.subject, "a message on the stream is not an event; skipped");
                continue;
            };
            let span = tracing::info_span!(
                "gateway.deliver",
                otel.kind = "consumer",
                messaging.system = "nats",
                inlet.event.sequence = sequence as i64,
                inlet.event.topic = topic.name(),
                subscribers = tracing::field::Empty,
            );
            let _ = span.set_parent(shared::extract(message.headers.as_ref()));
            let published = span.in_scope(|| self.ring.append_frame(sequence, topic, frame));
            span.record("subscribers", published.subscribers as i64);
        }
        Err("the consumer ended".into())
    }
}

/// A stream message's sequence, and its topic and `event` frame (`None`
/// when it is not an event).
fn delivery_of(message: &jetstream::Message) -> Option<(u64, Option<(Topic, ByteString)>)> {
    let sequence = message.info().ok()?.stream_sequence;
    let event = Event::decode(message.payload.as_ref()).ok();
    let rendered = event.and_then(|event| {
        let topic = Topic::of(event.kind.as_ref()?);
        let frame = frame::event(sequence, &frame::event_tail(topic, &event));
        Some((topic, ByteString::from(frame)))
    });
    Some((sequence, rendered))
}
