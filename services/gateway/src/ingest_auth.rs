//! Who may publish: every `Publish` must carry the publish secret
//! (`authorization: Bearer <secret>` metadata), checked before the request
//! is decoded, in constant time.
//!
//! A shared secret rather than mutual TLS: the ingest is reached over the
//! loopback or the compose network, where a secret generated on first start
//! (`INLET_PUBLISH_TOKEN_FILE`) needs no certificates to issue, mount or
//! renew; TLS would add a PKI to protect a hop that never leaves the host.

use inlet_common::access::credentials::same_secret;
use inlet_common::access::Secret;
use inlet_common::metrics::Metrics;
use prometheus_client::metrics::counter::Counter;

/// The interceptor in front of `EventIngest`.
#[derive(Clone)]
pub struct IngestGuard {
    secret: Option<Secret>,
    refused: Counter,
}

impl IngestGuard {
    /// Lets in publishers that present `secret`; with none, refuses everyone.
    pub fn new(secret: Option<Secret>, metrics: &Metrics) -> Self {
        let refused = Counter::default();
        metrics.register(
            "inlet_gateway_ingest_unauthenticated",
            "Publish calls refused for a missing or wrong publish secret",
            refused.clone(),
        );
        if secret.is_none() {
            tracing::warn!(
                "no publish secret is configured (INLET_PUBLISH_TOKEN or INLET_PUBLISH_TOKEN_FILE): the event ingest refuses every publisher"
            );
        }
        Self { secret, refused }
    }
}

impl tonic::service::Interceptor for IngestGuard {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let presented = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "));
        let accepted = match (&self.secret, presented) {
            (Some(secret), Some(presented)) => same_secret(secret, presented),
            _ => false,
        };
        if accepted {
            return Ok(request);
        }
        self.refused.inc();
        let peer = request
            .remote_addr()
            .map(|addr| addr.ip().to_string())
            .unwrap_or_default();
        tracing::warn!(
            client.address = %peer,
            presented = presented.is_some(),
            "publish refused: missing or wrong publish secret"
        );
        Err(tonic::Status::unauthenticated(
            "publishing needs the publish secret: set INLET_PUBLISH_TOKEN (or INLET_PUBLISH_TOKEN_FILE) on the publisher and the gateway",
        ))
    }
}
