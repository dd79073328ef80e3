//! Building the server (listeners bound, so the port is known) and running it.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::web;
use inlet_common::access::PublishToken;
use inlet_common::disk_space::{DiskGuard, DiskSettings};
use inlet_common::metrics::Metrics;
use inlet_common::publish::{PublishError, Publisher};
use inlet_common::readiness::Readiness;
use inlet_common::retention::{start_sweeper, RemovalMetrics, Sweeper};

use crate::config::{FormsConfig, StoreBackend};
use crate::inflight::InflightBudget;
use crate::metrics::FormsMetrics;
use crate::routes;
use crate::state::AppState;
use crate::store::postgres::Postgres;
use crate::store::{Journal, JournalWriter, Store, StoreError, SubmissionStore};
use crate::sweep::Sweep;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The journal could not be opened, or PostgreSQL reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `gateway_url` is not usable.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built forms service: listening, not yet serving.
pub struct Application {
    port: u16,
    admin_port: Option<u16>,
    server: Server,
    readiness: Arc<Readiness>,
    store: Arc<Store>,
    /// The journal's writer thread, joined at the end (`None` on PostgreSQL).
    writer: Option<JournalWriter>,
    publisher: Publisher,
    sweeper: Sweeper,
}

impl Application {
    /// Opens the store (the journal, recovered off the async threads, or
    /// PostgreSQL, waiting for it up to `store.postgres.start_timeout_ms`) and binds
    /// the listener from `config`. Must run inside a tokio runtime.
    pub async fn build(config: FormsConfig) -> Result<Self, StartupError> {
        let forms_dir = config.forms_dir();
        let metrics = Arc::new(Metrics::new());
        let (forms_metrics, journal_metrics) = FormsMetrics::register(&metrics);
        let publisher = Publisher::start_for(
            &config.events,
            config.gateway_url.as_deref(),
            PublishToken::from_settings(&config.access),
            &config.publish,
            &metrics,
            "inlet-forms",
        )?;
        let (store, writer) = match config.store.backend {
            StoreBackend::Journal => {
                let (dir, settings) = (forms_dir.clone(), config.store.journal());
                let (journal, writer) = tokio::task::spawn_blocking(move || {
                    Journal::open(&dir, settings, journal_metrics)
                })
                .await
                .map_err(std::io::Error::other)??;
                (Store::Journal(journal), Some(writer))
            }
            StoreBackend::Postgres => {
                let settings = &config.store;
                let postgres =
                    Postgres::open(&settings.postgres, settings.max_batch, settings.queue_depth)
                        .await?;
                (Store::Postgres(postgres), None)
            }
        };
        let store = Arc::new(store);
        let on_volume = config.store.backend == StoreBackend::Journal;
        // On PostgreSQL nothing is written to the data volume: no folder to
        // probe, no floor to keep.
        let readiness = Readiness::new(if on_volume {
            vec![forms_dir.clone()]
        } else {
            vec![]
        });
        let writer_check = Arc::clone(&store);
        readiness.register(store.readiness_check(), move || {
            writer_check.is_taking_writes()
        });
        let disk = if on_volume {
            DiskGuard::watched(forms_dir, &config.disk, &readiness)
        } else {
            Arc::new(DiskGuard::new(
                forms_dir,
                &DiskSettings { min_free_bytes: 0 },
            ))
        };
        let removals = RemovalMetrics::register(&metrics, "inlet_forms_submissions", "Submissions");
        let sweep = Sweep {
            store: Arc::clone(&store),
            policy: config.store.retention(),
            compact_after: config.store.compact_after,
            removals: removals.clone(),
            publisher: publisher.clone(),
        };
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let admin_listener = config.admin_listen.map(TcpListener::bind).transpose()?;
        let admin_port = match &admin_listener {
            Some(admin) => Some(admin.local_addr()?.port()),
            None => None,
        };
        let state = web::Data::new(AppState {
            store: Arc::clone(&store),
            limits: config.limits.clone(),
            inflight: InflightBudget::new(
                config.limits.max_inflight_body_bytes,
                forms_metrics.inflight_bytes.clone(),
            ),
            metrics: forms_metrics,
            publisher: publisher.clone(),
            disk,
            removals,
        });
        let service = inlet_http::Service {
            name: "inlet-forms",
            settings: &config.http,
            access: &config.access,
            admin: admin_listener,
            operations_need_credential: true,
            readiness: Arc::clone(&readiness),
            metrics,
            max_declared_body: inlet_http::expect::DeclaredCaps::same(config.limits.max_body_bytes),
            refusals: Some(crate::metrics::REFUSED),
        };
        let server = inlet_http::serve(
            service,
            listener,
            inlet_http::with_state(state, routes::configure),
        )?;
        let sweep = Arc::new(sweep);
        let sweeper = start_sweeper("inlet-forms", config.store.sweep_interval, move |now| {
            let sweep = Arc::clone(&sweep);
            async move { sweep.run(now).await }
        });
        Ok(Self {
            port,
            admin_port,
            server,
            readiness,
            store,
            writer,
            publisher,
            sweeper,
        })
    }

    /// The store, for tests that need to stop the journal's writer from outside.
    pub fn store(&self) -> Arc<Store> {
        Arc::clone(&self.store)
    }

    /// The bound port (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin listener's bound port, when `admin_listen` is set.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin_port
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish (up to `http.shutdown_timeout_ms`), flushes the journal
    /// and sends what the publisher still holds (up to `publish.drain_timeout_ms`).
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let Application {
            server,
            readiness,
            store,
            writer,
            publisher,
            sweeper,
            ..
        } = self;
        let result = inlet_http::run_until_stopped(server, &readiness, shutdown).await;
        drop(sweeper);
        // What was stored is announced before the process goes.
        publisher.drain().await;
        store.close().await;
        drop(store);
        if let Some(writer) = writer {
            tokio::task::spawn_blocking(move || writer.join())
                .await
                .map_err(std::io::Error::other)?;
        }
        tracing::info!("stopped");
        result.map_err(StartupError::Io)
    }
}
