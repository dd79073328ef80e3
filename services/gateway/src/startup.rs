//! Building the gateway (both listeners bound, so their ports are known) and
//! running it until it is stopped.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use inlet_common::access::PublishToken;
use inlet_common::jetstream::FeedBackend;
use inlet_common::metrics::Metrics;
use inlet_common::readiness::Readiness;
use inlet_proto::events::v1::event_ingest_server::EventIngestServer;
use tokio_util::sync::CancellationToken;
use tonic::service::interceptor::InterceptedService;

use crate::config::GatewayConfig;
use crate::feed::{Feed, MemoryFeed, NatsFeed, NatsFeedError};
use crate::ingest::Ingest;
use crate::ingest_auth::IngestGuard;
use crate::metrics::GatewayMetrics;
use crate::routes;
use crate::state::AppState;
use crate::ws::admit::Slots;

/// Why the gateway could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// Binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC ingest server failed.
    #[error("the event ingest (gRPC) failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
    /// The feed on NATS could not be set up.
    #[error(transparent)]
    Nats(#[from] NatsFeedError),
}

/// A built gateway: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    /// The gRPC ingest, with the memory feed (none with NATS: publishers
    /// publish to the stream).
    ingest: Option<IngestListener>,
    readiness: Arc<Readiness>,
    closing: CancellationToken,
}

/// The gRPC ingest, bound, and what it feeds.
struct IngestListener {
    port: u16,
    listener: tokio::net::TcpListener,
    feed: Arc<MemoryFeed>,
    /// `events.max_event_bytes`, the ingest's decoding limit.
    max_event_bytes: usize,
    /// Lets only publishers with the publish secret in.
    guard: IngestGuard,
}

impl Application {
    /// Binds the HTTP/WebSocket and gRPC listeners from `config`. Must run
    /// inside a tokio runtime.
    pub async fn build(mut config: GatewayConfig) -> Result<Self, StartupError> {
        if config.take_deprecated_proxies() {
            tracing::warn!(
                key = "websocket.trusted_proxies",
                "deprecated config key: use http.trusted_proxies, which every service reads"
            );
        }
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let readiness = Readiness::new(Vec::new());
        let metrics = Arc::new(Metrics::new());
        let gateway_metrics = GatewayMetrics::register(&metrics);
        let closing = CancellationToken::new();
        let (feed, ingest) = match config.events.backend {
            FeedBackend::Memory => {
                let feed = Arc::new(MemoryFeed::new(&config.events, gateway_metrics.clone()));
                let ingest = IngestListener::bind(&config, Arc::clone(&feed), &metrics).await?;
                (Feed::Memory(feed), Some(ingest))
            }
            FeedBackend::Nats => {
                let feed =
                    NatsFeed::start(&config.events, gateway_metrics.clone(), closing.clone())
                        .await?;
                let attached = Arc::clone(&feed);
                readiness.register("nats-stream", move || attached.is_attached());
                (Feed::Nats(feed), None)
            }
        };
        let feed = Arc::new(feed);
        let state = web::Data::new(AppState {
            feed: Arc::clone(&feed),
            websocket: config.websocket.clone(),
            slots: Arc::new(Slots::default()),
            closing: closing.clone(),
            metrics: gateway_metrics,
        });
        let service = inlet_http::Service {
            name: "inlet-gateway",
            settings: &config.http,
            access: &config.access,
            admin: config.admin_listen.map(TcpListener::bind).transpose()?,
            operations_need_credential: true,
            readiness: Arc::clone(&readiness),
            metrics,
            // No route takes a request body.
            max_declared_body: inlet_http::expect::DeclaredCaps::same(0),
            refusals: Some(crate::metrics::REFUSED),
        };
        let server = inlet_http::serve(
            service,
            listener,
            inlet_http::with_state(state, routes::configure),
        )?;
        if let Some(ingest) = &ingest {
            // After the HTTP listener's line, which tests read first.
            tracing::info!(addr = %config.grpc_listen, port = ingest.port, "event ingest (gRPC) listening");
        }
        Ok(Self {
            port,
            server,
            ingest,
            readiness,
            closing,
        })
    }

    /// The bound HTTP/WebSocket port (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The bound gRPC ingest port (0 with the NATS feed, which has none).
    pub fn grpc_port(&self) -> u16 {
        self.ingest.as_ref().map_or(0, |ingest| ingest.port)
    }

    /// Serves until `shutdown` resolves. Then the ingest stops taking
    /// events, every socket is closed with 1001 (going away), and the
    /// gateway waits for them to finish, up to `http.shutdown_timeout_ms`.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let ingest_stop = CancellationToken::new();
        let ingest = self
            .ingest
            .map(|ingest| tokio::spawn(ingest.serve(ingest_stop.clone())));
        let closing = self.closing.clone();
        let stopping = ingest_stop.clone();
        inlet_http::run_until_stopped(self.server, &self.readiness, async move {
            shutdown.await;
            tracing::info!("stopping: no new events, closing every socket with 1001");
            stopping.cancel();
            closing.cancel();
        })
        .await?;
        ingest_stop.cancel();
        if let Some(ingest) = ingest {
            ingest.await.map_err(std::io::Error::other)??;
        }
        tracing::info!("stopped");
        Ok(())
    }
}

impl IngestListener {
    /// Binds `grpc_listen`, with the publish secret made if missing.
    async fn bind(
        config: &GatewayConfig,
        feed: Arc<MemoryFeed>,
        metrics: &Metrics,
    ) -> Result<Self, StartupError> {
        let listener = tokio::net::TcpListener::bind(config.grpc_listen).await?;
        let port = listener.local_addr()?.port();
        let publish_secret = PublishToken::from_settings(&config.access)
            .map(|token| token.ensure())
            .transpose()?;
        Ok(Self {
            port,
            listener,
            feed,
            max_event_bytes: config.events.max_event_bytes,
            guard: IngestGuard::new(publish_secret, metrics),
        })
    }

    /// Serves `EventIngest` until `stop`.
    async fn serve(self, stop: CancellationToken) -> Result<(), tonic::transport::Error> {
        tonic::transport::Server::builder()
            .add_service(InterceptedService::new(
                EventIngestServer::new(Ingest::new(self.feed))
                    .max_decoding_message_size(self.max_event_bytes),
                self.guard,
            ))
            .serve_with_incoming_shutdown(
                // No Nagle: a reply's last frame waited for the publisher's
                // delayed ACK (40 ms), which held a batch of 256 to ~6k
                // events/s.
                tonic::transport::server::TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                stop.cancelled_owned(),
            )
            .await
    }
}
