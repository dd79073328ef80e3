//! Building the server (listeners bound, so the port is known) and running it.

use std::future::Future;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use inlet_common::health::{self, Readiness};
use inlet_common::http::access_log::log_requests;
use inlet_common::http::errors::render_errors;
use inlet_common::http::{not_found, RequestTracing};

use crate::config::{FormsConfig, Limits};
use crate::routes;
use crate::store::{Journal, JournalWriter, StoreError};

/// What every request handler can reach.
pub struct AppState {
    /// Where submissions are stored.
    pub journal: Arc<Journal>,
    /// Size and count limits.
    pub limits: Limits,
    /// Time allowed for a whole request body.
    pub body_timeout: Duration,
}

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The journal could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built forms service: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    readiness: Arc<Readiness>,
    journal: Arc<Journal>,
    writer: JournalWriter,
}

impl Application {
    /// Opens the journal and binds the listener from `config`.
    pub fn build(config: FormsConfig) -> Result<Self, StartupError> {
        let forms_dir = config.forms_dir();
        let (journal, writer) =
            Journal::open(&forms_dir, config.store.max_batch, config.store.queue_depth)?;
        let readiness = Readiness::new(vec![forms_dir]);
        let listener = TcpListener::bind(config.listen)?;
        let local_addr = listener.local_addr()?;
        let port = local_addr.port();
        let state = web::Data::new(AppState {
            journal: Arc::clone(&journal),
            limits: config.limits.clone(),
            body_timeout: config.http.body_timeout(),
        });
        let health_readiness = Arc::clone(&readiness);
        let http = &config.http;
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(render_errors))
                .wrap(from_fn(log_requests))
                .wrap(RequestTracing::new())
                .app_data(state.clone())
                .configure(health::configure(Arc::clone(&health_readiness)))
                .configure(routes::configure)
                .default_service(web::to(not_found))
        })
        .workers(http.worker_count())
        .max_connections(http.max_connections_per_worker)
        .client_request_timeout(http.request_head_timeout())
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(KeepAlive::Timeout(Duration::from_secs(
            http.keep_alive_secs,
        )))
        .shutdown_timeout(http.shutdown_timeout_secs)
        .disable_signals()
        .listen(listener)?
        .run();
        tracing::info!(addr = %local_addr, port, data_dir = %config.data_dir.display(), "inlet-forms listening");
        Ok(Self {
            port,
            server,
            readiness,
            journal,
            writer,
        })
    }

    /// The bound port (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets in-flight
    /// requests finish (up to `http.shutdown_timeout_secs`) and flushes the journal.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let Application {
            server,
            readiness,
            journal,
            writer,
            ..
        } = self;
        let handle = server.handle();
        readiness.mark_listening();
        let served = tokio::spawn(server);
        shutdown.await;
        tracing::info!("stopping: no new connections, finishing in-flight requests");
        handle.stop(true).await;
        let result = served.await.map_err(std::io::Error::other)?;
        journal.close().await;
        drop(journal);
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(std::io::Error::other)?;
        tracing::info!("stopped");
        result.map_err(StartupError::Io)
    }
}
