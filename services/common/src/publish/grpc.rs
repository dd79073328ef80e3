//! The gRPC transport: `EventIngest.Publish` to the gateway's ingest.

use std::time::Duration;

use inlet_proto::events::v1::event_ingest_client::EventIngestClient;
use inlet_proto::events::v1::{Event, PublishRequest};
use tonic::transport::{Channel, Endpoint};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{PublishError, SendError, Transport};
use crate::access::PublishToken;

/// Publishes to the gateway at one URL, connecting lazily (and again after
/// a failure), each call bounded by `publish.timeout_ms`, presenting the
/// publish secret as `authorization: Bearer …` metadata.
#[derive(Debug, Clone)]
pub struct GrpcTransport {
    client: EventIngestClient<Channel>,
    token: Option<PublishToken>,
}

impl GrpcTransport {
    /// A transport to `url` (e.g. `http://gateway:50051`).
    /// `token` is read at each call, so a secret file the gateway creates
    /// later is picked up.
    pub fn new(
        url: &str,
        timeout: Duration,
        token: Option<PublishToken>,
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
        })
    }
}

impl Transport for GrpcTransport {
    async fn send(
        &mut self,
        event: &Event,
        context: &opentelemetry::Context,
    ) -> Result<(), SendError> {
        let span = tracing::info_span!(
            "gateway.publish",
            otel.kind = "client",
            rpc.system = "grpc",
            rpc.service = "inlet.events.v1.EventIngest",
            rpc.method = "Publish",
            inlet.event.id = %event.id,
        );
        let _ = span.set_parent(context.clone());
        let mut request = tonic::Request::new(PublishRequest {
            event: Some(event.clone()),
        });
        crate::grpc_trace::inject(&span.context(), request.metadata_mut());
        if let Some(secret) = self.token.as_ref().and_then(PublishToken::current) {
            if let Ok(value) = format!("Bearer {}", secret.expose()).parse() {
                request.metadata_mut().insert("authorization", value);
            }
        }
        match self.client.publish(request).instrument(span).await {
            Ok(_) => Ok(()),
            Err(status) => {
                let message: String = status.message().chars().take(200).collect();
                let message = format!("{:?}: {message}", status.code());
                if refused_for_good(status.code()) {
                    Err(SendError::Refused(message))
                } else {
                    Err(SendError::Unavailable(message))
                }
            }
        }
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
