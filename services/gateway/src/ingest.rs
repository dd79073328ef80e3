//! `EventIngest.Publish` and `PublishBatch`, the gRPC side: publishing
//! services hand events in, the feed sequences and fans them out. Each event
//! is a `gateway.publish` server span joined to the publisher's trace (W3C
//! `traceparent` in the call's metadata, or in the batch entry), with a
//! `gateway.deliver` child for the fan-out.

use std::sync::Arc;

use inlet_proto::events::v1::event_ingest_server::EventIngest;
use inlet_proto::events::v1::{
    BatchedResult, Event, PublishBatchRequest, PublishBatchResponse, PublishRequest,
    PublishResponse,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::feed::MemoryFeed;

/// The ingest service over the feed.
pub struct Ingest {
    feed: Arc<MemoryFeed>,
}

impl Ingest {
    /// Ingest into `feed`.
    pub fn new(feed: Arc<MemoryFeed>) -> Self {
        Self { feed }
    }
}

#[tonic::async_trait]
impl EventIngest for Ingest {
    async fn publish(
        &self,
        request: tonic::Request<PublishRequest>,
    ) -> Result<tonic::Response<PublishResponse>, tonic::Status> {
        let parent = inlet_common::grpc_trace::extract(request.metadata());
        let event = request
            .into_inner()
            .event
            .ok_or_else(|| tonic::Status::invalid_argument("the request carries no event"))?;
        let sequence = self
            .take(&event, parent)
            .map_err(|err| tonic::Status::invalid_argument(err.to_string()))?;
        Ok(tonic::Response::new(PublishResponse { sequence }))
    }

    async fn publish_batch(
        &self,
        request: tonic::Request<PublishBatchRequest>,
    ) -> Result<tonic::Response<PublishBatchResponse>, tonic::Status> {
        let results = request
            .into_inner()
            .events
            .into_iter()
            .map(|entry| {
                let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
                    propagator.extract(&entry.trace_context)
                });
                let taken = match entry.event {
                    Some(event) => self.take(&event, parent).map_err(|e| e.to_string()),
                    None => Err("the entry carries no event".to_owned()),
                };
                match taken {
                    Ok(sequence) => BatchedResult {
                        sequence,
                        refused: String::new(),
                    },
                    Err(refused) => BatchedResult {
                        sequence: 0,
                        refused,
                    },
                }
            })
            .collect();
        Ok(tonic::Response::new(PublishBatchResponse { results }))
    }
}

impl Ingest {
    /// Sequences one event under a `gateway.publish` server span in the
    /// publisher's trace (`parent`); its sequence.
    fn take(
        &self,
        event: &Event,
        parent: opentelemetry::Context,
    ) -> Result<u64, crate::feed::FeedError> {
        let span = tracing::info_span!(
            "gateway.publish",
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = "inlet.events.v1.EventIngest",
            rpc.method = "Publish",
            inlet.event.id = %event.id,
            inlet.event.sequence = tracing::field::Empty,
        );
        let _ = span.set_parent(parent);
        let _entered = span.enter();
        let deliver = tracing::info_span!(
            "gateway.deliver",
            inlet.event.sequence = tracing::field::Empty,
            inlet.event.topic = tracing::field::Empty,
            subscribers = tracing::field::Empty,
        );
        let published = deliver.in_scope(|| self.feed.publish(event))?;
        let (sequence, subscribers) = (published.sequence, published.subscribers);
        deliver.record("inlet.event.sequence", sequence as i64);
        deliver.record("subscribers", subscribers as i64);
        deliver.record("inlet.event.topic", published.topic.name());
        span.record("inlet.event.sequence", sequence as i64);
        tracing::debug!(sequence, subscribers, source = %event.source, "event published");
        Ok(sequence)
    }
}
