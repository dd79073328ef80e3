//! The gRPC transport: `EventIngest.Publish` to the gateway's ingest, and
//! `PublishBatch` for what has piled up (several events in one call, each
//! with its own client span and trace context), in batches no larger than
//! `publish.max_event_bytes` (which the gateway's decoding limit is kept above).

use std::time::Duration;

use std::collections::HashMap;

use inlet_proto::events::v1::event_ingest_client::EventIngestClient;
use inlet_proto::events::v1::{BatchedEvent, Event, PublishBatchRequest, PublishRequest};
use prost::Message as _;
use tonic::transport::{Channel, Endpoint};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{Outgoing, PublishError, SendError, Transport};
use crate::access::PublishToken;

/// Publishes to the gateway at one URL, connecting lazily (and again after
/// a failure), each call bounded by `publish.timeout_ms`, presenting the
/// publish secret as `authorization: Bearer …` metadata.
#[derive(Debug, Clone)]
pub struct GrpcTransport {
    client: EventIngestClient<Channel>,
    token: Option<PublishToken>,
    /// Largest batch, encoded (`publish.max_event_bytes`).
    batch_bytes: usize,
    /// Whether the gateway has `PublishBatch` (an older one answers
    /// `Unimplemented`; then events go one by one).
    batches: bool,
}

impl GrpcTransport {
    /// A transport to `url` (e.g. `http://gateway:50051`).
    /// `token` is read at each call, so a secret file the gateway creates
    /// later is picked up.
    pub fn new(
        url: &str,
        timeout: Duration,
        token: Option<PublishToken>,
        batch_bytes: usize,
    ) -> Result<Self, PublishError> {
        let endpoint = Endpoint::from_shared(url.to_owned())
            .map_err(|source| PublishError::BadUrl {
                url: url.to_owned(),
                source,
            })?
            .connect_timeout(timeout)
            .timeout(timeout);
        Ok(Self {
            client: EventIngestClient::new(endpoint.connect_lazy()),
            token,
            batch_bytes,
            batches: true,
        })
    }

    fn authorize<T>(&self, request: &mut tonic::Request<T>) {
        if let Some(secret) = self.token.as_ref().and_then(PublishToken::current) {
            if let Ok(value) = format!("Bearer {}", secret.expose()).parse() {
                request.metadata_mut().insert("authorization", value);
            }
        }
    }

    /// One `PublishBatch` call for `batch` (at least two events).
    async fn send_chunk(
        &mut self,
        batch: &[Outgoing],
    ) -> Result<Vec<Result<(), SendError>>, tonic::Status> {
        let spans: Vec<tracing::Span> = batch
            .iter()
            .map(|o| publish_span(&o.event, &o.context, "PublishBatch"))
            .collect();
        let events = batch
            .iter()
            .zip(&spans)
            .map(|(outgoing, span)| {
                let mut trace_context = HashMap::new();
                opentelemetry::global::get_text_map_propagator(|propagator| {
                    propagator.inject_context(&span.context(), &mut trace_context)
                });
                BatchedEvent {
                    event: Some(outgoing.event.clone()),
                    trace_context,
                }
            })
            .collect();
        let mut request = tonic::Request::new(PublishBatchRequest { events });
        self.authorize(&mut request);
        let answer = self.client.publish_batch(request).await?.into_inner();
        drop(spans);
        let mut results: Vec<Result<(), SendError>> = answer
            .results
            .into_iter()
            .map(|result| match result.refused.is_empty() {
                true => Ok(()),
                false => Err(SendError::Refused(
                    result.refused.chars().take(200).collect(),
                )),
            })
            .collect();
        // A gateway that answered for fewer: the rest are sent again.
        results.resize_with(batch.len(), || {
            Err(SendError::Unavailable(
                "the gateway did not answer for every event".into(),
            ))
        });
        Ok(results)
    }
}

/// The `gateway.publish` client span of one event sent by `method`, in
/// its request's trace (`context`).
fn publish_span(event: &Event, context: &opentelemetry::Context, method: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "gateway.publish",
        otel.kind = "client",
        rpc.system = "grpc",
        rpc.service = "inlet.events.v1.EventIngest",
        rpc.method = method,
        inlet.event.id = %event.id,
    );
    let _ = span.set_parent(context.clone());
    span
}

impl Transport for GrpcTransport {
    async fn send(
        &mut self,
        event: &Event,
        context: &opentelemetry::Context,
    ) -> Result<(), SendError> {
        let span = publish_span(event, context, "Publish");
        let mut request = tonic::Request::new(PublishRequest {
            event: Some(event.clone()),
        });
        crate::grpc_trace::inject(&span.context(), request.metadata_mut());
        self.authorize(&mut request);
        match self.client.publish(request).instrument(span).await {
            Ok(_) => Ok(()),
            Err(status) => Err(classify(&status)),
        }
    }

    async fn send_batch(&mut self, batch: &[Outgoing]) -> Vec<Result<(), SendError>> {
        let mut answers = Vec::with_capacity(batch.len());
        let mut rest = batch;
        while !rest.is_empty() {
            // As many as fit in publish.max_event_bytes (at least one).
            let mut size = 0;
            let take = rest
                .iter()
                .take_while(|o| {
                    size += o.event.encoded_len() + 64;
                    size <= self.batch_bytes
                })
                .count()
                .max(1);
            let (chunk, after) = rest.split_at(take);
            rest = after;
            if chunk.len() > 1 && self.batches {
                match self.send_chunk(chunk).await {
                    Ok(results) => {
                        answers.extend(results);
                        continue;
                    }
                    Err(status) if status.code() == tonic::Code::Unimplemented => {
                        tracing::info!(
                            "the gateway has no PublishBatch: publishing one event per call"
                        );
                        self.batches = false;
                    }
                    Err(status) if refused_for_good(status.code()) => {
                        // Which one is wrong is for one-by-one to find.
                    }
                    Err(status) => {
                        let failure = classify(&status);
                        answers.extend(chunk.iter().map(|_| Err(failure.clone())));
                        continue;
                    }
                }
            }
            for outgoing in chunk {
                answers.push(self.send(&outgoing.event, &outgoing.context).await);
            }
        }
        answers
    }
}

/// A failed call: the event is wrong in itself, or the gateway is away or busy.
fn classify(status: &tonic::Status) -> SendError {
    let message: String = status.message().chars().take(200).collect();
    let message = format!("{:?}: {message}", status.code());
    if refused_for_good(status.code()) {
        SendError::Refused(message)
    } else {
        SendError::Unavailable(message)
    }
}

/// Whether the gateway's answer says the event itself is wrong (too large,
/// malformed), not that the gateway is unreachable or busy.
fn refused_for_good(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::InvalidArgument
            | tonic::Code::OutOfRange
            | tonic::Code::FailedPrecondition
            | tonic::Code::Unimplemented
    )
}
