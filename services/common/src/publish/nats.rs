//! The NATS transport (`events.backend = "nats"`): each event is published
//! to the JetStream stream and counts as sent only when JetStream
//! acknowledges it. A batch goes out back to back on the one connection
//! (so the stream keeps their order) before any acknowledgement is awaited.

use std::future::IntoFuture;

use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::Context;
use prost::Message as _;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{Outgoing, SendError, Transport};
use crate::jetstream::{self, NatsSettings};

/// Publishes to the stream `events.nats` names, creating it (with the
/// configured limits) if no gateway has yet.
pub struct NatsTransport {
    context: Context,
    settings: NatsSettings,
    /// Whether the stream is known to exist (checked again after a
    /// publish finds no stream).
    stream_ready: bool,
}

impl NatsTransport {
    /// Connects (in the background: a server that is down is retried for
    /// ever, and publishing waits in the buffer meanwhile).
    pub async fn connect(
        settings: &NatsSettings,
        name: &str,
    ) -> Result<Self, async_nats::ConnectError> {
        let client = settings.connect(name, None).await?;
        Ok(Self {
            context: settings.jetstream(client),
            settings: settings.clone(),
            stream_ready: false,
        })
    }

    async fn ensure_stream(&mut self) -> Result<(), SendError> {
        if self.stream_ready {
            return Ok(());
        }
        self.context
            .get_or_create_stream(self.settings.stream_config())
            .await
            .map_err(|e| SendError::Unavailable(format!("the stream: {e}")))?;
        self.stream_ready = true;
        Ok(())
    }
}

impl Transport for NatsTransport {
    async fn send(
        &mut self,
        event: &inlet_proto::events::v1::Event,
        context: &opentelemetry::Context,
    ) -> Result<(), SendError> {
        let one = [Outgoing {
            event: event.clone(),
            context: context.clone(),
        }];
        self.send_batch(&one).await.remove(0)
    }

    async fn send_batch(&mut self, batch: &[Outgoing]) -> Vec<Result<(), SendError>> {
        if let Err(err) = self.ensure_stream().await {
            return vec![Err(err); batch.len()];
        }
        let mut pending = Vec::with_capacity(batch.len());
        for outgoing in batch {
            let span = publish_span(&self.settings, outgoing);
            pending.push(
                self.start_publish(outgoing, &span)
                    .await
                    .map(|ack| (ack, span)),
            );
        }
        let mut answers = Vec::with_capacity(batch.len());
        for started in pending {
            let answer = match started {
                Ok((ack, span)) => match ack.into_future().instrument(span.clone()).await {
                    Ok(ack) => {
                        span.record("messaging.nats.sequence", ack.sequence);
                        span.record("messaging.nats.duplicate", ack.duplicate);
                        Ok(())
                    }
                    Err(err) => Err(self.classify(err.kind(), err.to_string())),
                },
                Err(err) => Err(err),
            };
            answers.push(answer);
        }
        answers
    }
}

impl NatsTransport {
    /// Sends one message; its acknowledgement is awaited later.
    async fn start_publish(
        &mut self,
        outgoing: &Outgoing,
        span: &tracing::Span,
    ) -> Result<async_nats::jetstream::context::PublishAckFuture, SendError> {
        let event = &outgoing.event;
        let Some(kind) = event.kind.as_ref() else {
            return Err(SendError::Refused("the event has no kind".into()));
        };
        let mut headers = async_nats::HeaderMap::new();
        jetstream::inject(&span.context(), &mut headers);
        let message = PublishMessage::build()
            .payload(event.encode_to_vec().into())
            .headers(headers)
            .message_id(jetstream::message_id(event));
        self.context
            .send_publish(self.settings.subject_of(kind), message)
            .await
            .map_err(|err| self.classify(err.kind(), err.to_string()))
    }

    /// A failed publish: the event itself is wrong (dropped), or the
    /// server is away or busy (sent again).
    fn classify(&mut self, kind: PublishErrorKind, message: String) -> SendError {
        match kind {
            PublishErrorKind::MaxPayloadExceeded => SendError::Refused(message),
            PublishErrorKind::StreamNotFound => {
                self.stream_ready = false;
                SendError::Unavailable(message)
            }
            _ => SendError::Unavailable(message),
        }
    }
}

/// `events.publish`: one event's publish, joined to the request that stored it.
fn publish_span(settings: &NatsSettings, outgoing: &Outgoing) -> tracing::Span {
    let span = tracing::info_span!(
        "events.publish",
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.destination.name = %settings.stream,
        inlet.event.id = %outgoing.event.id,
        messaging.nats.sequence = tracing::field::Empty,
        messaging.nats.duplicate = tracing::field::Empty,
    );
    let _ = span.set_parent(outgoing.context.clone());
    span
}
