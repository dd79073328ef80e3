//! Building the server (listeners bound, so the port is known) and running it.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use inlet_common::access::PublishToken;
use inlet_common::disk_space::{DiskGuard, DiskSettings};
use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishError, Publisher};
use inlet_common::readiness::Readiness;
use inlet_common::retention::{start_sweeper, RemovalMetrics, Sweeper};

use crate::config::UploadsConfig;
use crate::config::{StoreBackend, SyncMode};
use crate::metrics::UploadsMetrics;
use crate::routes;
use crate::state::AppState;
use crate::state::Store;
use crate::store::{FsStore, S3Store, SyncSettings};
use crate::sweep::Sweep;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// `gateway_url` is not usable.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The uploads folder could not be made ready, or binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built uploads service: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    readiness: Arc<Readiness>,
    publisher: Publisher,
    store: Arc<Store>,
    sweeper: Sweeper,
}

impl Application {
    /// Prepares the uploads folder (removing what a crash left half-written)
    /// and binds the listener from `config`.
    pub async fn build(config: UploadsConfig) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::new());
        let uploads_metrics = UploadsMetrics::register(&metrics);
        let sync = match config.store.sync {
            SyncMode::Always => SyncSettings::Always,
            SyncMode::Interval => SyncSettings::Interval(
                Duration::from_millis(config.store.sync_interval_ms),
                uploads_metrics.interval_flushes.clone(),
            ),
        };
        let in_flight = uploads_metrics.in_flight.clone();
        let (store, leftovers) = match config.store.backend {
            StoreBackend::Volume => {
                let (store, leftovers) =
                    FsStore::open(config.uploads_dir(), in_flight, sync).await?;
                (Store::Volume(store), leftovers)
            }
            StoreBackend::S3 => {
                // Its leftovers are the start-up sweep's (they may be another
                // replica's uploads under way until they are old enough).
                (
                    Store::S3(S3Store::open(&config.store.s3, in_flight).await?),
                    0,
                )
            }
        };
        let store = Arc::new(store);
        if leftovers > 0 {
            tracing::warn!(leftovers, "removed what crashed uploads left half-written");
        }
        let (readiness, disk) = match store.as_ref() {
            Store::Volume(volume) => {
                let readiness = Readiness::new(vec![volume.dir().to_owned()]);
                let disk = DiskGuard::watched(volume.dir().to_owned(), &config.disk, &readiness);
                (readiness, disk)
            }
            // In a bucket nothing is written to the data volume: no folder
            // to probe, no floor to keep; S3 itself must answer.
            Store::S3(bucket) => {
                let readiness = Readiness::new(vec![]);
                readiness.register(S3Store::READINESS_CHECK, bucket.reachability());
                let disk = Arc::new(DiskGuard::new(
                    config.uploads_dir(),
                    &DiskSettings { min_free_bytes: 0 },
                ));
                (readiness, disk)
            }
        };
        let removals = RemovalMetrics::register(&metrics, "inlet_uploads_files", "Files");
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let publisher = Publisher::start_for(
            &config.events,
            config.gateway_url.as_deref(),
            PublishToken::from_settings(&config.access),
            &config.publish,
            &metrics,
            "inlet-uploads",
        )?;
        let state = web::Data::new(AppState {
            store: Arc::clone(&store),
            limits: config.limits.clone(),
            metrics: uploads_metrics,
            publisher: publisher.clone(),
            disk,
            removals: removals.clone(),
        });
        let sweep = Arc::new(Sweep {
            store: Arc::clone(&store),
            policy: config.store.retention(),
            removals,
            publisher: publisher.clone(),
        });
        let sweeper = start_sweeper("inlet-uploads", config.store.sweep_interval, move |now| {
            let sweep = Arc::clone(&sweep);
            async move { sweep.run(now).await }
        });
        let service = inlet_http::Service {
            name: "inlet-uploads",
            settings: &config.http,
            access: &config.access,
            admin: config.admin_listen.map(TcpListener::bind).transpose()?,
            operations_need_credential: true,
            readiness: Arc::clone(&readiness),
            metrics,
            // A PUT is one file; a POST is a whole multipart body.
            max_declared_body: inlet_http::expect::DeclaredCaps {
                put: config.limits.max_file_bytes,
                other: config.limits.max_request_bytes,
            },
            refusals: Some(crate::metrics::REFUSED),
        };
        let server = inlet_http::serve(
            service,
            listener,
            inlet_http::with_state(state, routes::configure),
        )?;
        Ok(Self {
            port,
            server,
            readiness,
            publisher,
            store,
            sweeper,
        })
    }

    /// The bound port (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, then lets in-flight uploads finish
    /// (up to `http.shutdown_timeout_ms`) and sends what the publisher still
    /// holds (up to `publish.drain_timeout_ms`).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let served = inlet_http::run_until_stopped(self.server, &self.readiness, shutdown).await;
        drop(self.sweeper);
        // What the interval flush still owes is flushed before anything is announced as gone.
        self.store.close().await;
        self.publisher.drain().await;
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}
