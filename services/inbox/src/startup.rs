//! Building the inbox (index open, listeners bound) and running it: the
//! first sync, the feed, the periodic rebuild, and the pages.

use std::future::Future;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::web;
use inlet_common::metrics::Metrics;
use inlet_common::readiness::Readiness;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::InboxConfig;
use crate::index::{Index, IndexError};
use crate::metrics::InboxMetrics;
use crate::routes;
use crate::sources::api::ServiceApi;
use crate::sources::feed;
use crate::sources::sync::Syncer;
use crate::state::AppState;

/// How often the item and size gauges are brought up to date.
const GAUGE_INTERVAL: Duration = Duration::from_secs(10);

/// Why the inbox could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The index could not be opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Binding or serving failed.
    #[error("server I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A built inbox: listening, not yet serving.
pub struct Application {
    port: u16,
    admin_port: Option<u16>,
    server: Server,
    readiness: Arc<Readiness>,
    tasks: Vec<JoinHandle<()>>,
    stopping: CancellationToken,
}

impl Application {
    /// Opens the index and binds the listeners from `config`; the first
    /// sync (a rebuild for a new index, else a catch-up) and the feed start
    /// in the background, and `/readyz` says `index-synced` once the
    /// first sync is done. Must run inside a tokio runtime.
    pub async fn build(config: InboxConfig) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::new());
        let inbox_metrics = InboxMetrics::register(&metrics);
        let index_path = config.index_path();
        let index_dir = index_path
            .parent()
            .map(ToOwned::to_owned)
            .unwrap_or_default();
        let index = {
            let (dir, path) = (index_dir.clone(), index_path.clone());
            tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&dir)?;
                Index::open(&path).map_err(StartupError::from)
            })
            .await
            .map_err(std::io::Error::other)??
        };
        let fresh = index.is_fresh();
        let api = ServiceApi::new(&config.inbox, config.access.admin_token.clone());
        let syncer = Arc::new(Syncer::new(
            Arc::new(index),
            api.clone(),
            inbox_metrics.clone(),
            config.inbox.list_batch,
        )?);
        let readiness = Readiness::new(vec![index_dir]);
        let synced = Arc::new(AtomicBool::new(false));
        {
            let synced = Arc::clone(&synced);
            readiness.register("index-synced", move || synced.load(Ordering::SeqCst));
        }
        let listener = TcpListener::bind(config.listen)?;
        let port = listener.local_addr()?.port();
        let admin_listener = config.admin_listen.map(TcpListener::bind).transpose()?;
        let admin_port = match &admin_listener {
            Some(admin) => Some(admin.local_addr()?.port()),
            None => None,
        };
        let stopping = CancellationToken::new();
        let state = web::Data::new(AppState {
            syncer: Arc::clone(&syncer),
            settings: config.inbox.clone(),
            metrics: inbox_metrics.clone(),
            live_pages: Arc::new(Semaphore::new(config.inbox.max_live_pages)),
            stopping: stopping.clone(),
        });
        let service = inlet_http::Service {
            name: "inlet-inbox",
            settings: &config.http,
            access: &config.access,
            admin: admin_listener,
            operations_need_credential: true,
            readiness: Arc::clone(&readiness),
            metrics,
            max_declared_body: inlet_http::expect::DeclaredCaps::same(routes_body_cap()),
            refusals: None,
        };
        let server = inlet_http::serve(
            service,
            listener,
            inlet_http::with_state(state, routes::configure),
        )?;
        let mut tasks = Vec::new();
        for kind in api.kinds() {
            tasks.push(tokio::spawn(Arc::clone(&syncer).follow_pokes(kind)));
        }
        tasks.push(tokio::spawn(Arc::clone(&syncer).follow_arrivals()));
        tasks.push(tokio::spawn(first_sync_then_follow(
            Arc::clone(&syncer),
            fresh,
            synced,
            config.clone(),
            inbox_metrics,
        )));
        tasks.push(tokio::spawn(rebuild_every(
            Arc::clone(&syncer),
            config.inbox.reconcile_interval,
        )));
        tasks.push(tokio::spawn(refresh_gauges(Arc::clone(&syncer))));
        Ok(Self {
            port,
            admin_port,
            server,
            readiness,
            tasks,
            stopping,
        })
    }

    /// The bound port (useful when `listen` asked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The admin listener's bound port, when `admin_listen` is set.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin_port
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets
    /// in-flight requests finish (live streams end at once), and stops
    /// following the feed.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StartupError> {
        let stopping = self.stopping.clone();
        let shutdown = async move {
            shutdown.await;
            stopping.cancel();
        };
        let result = inlet_http::run_until_stopped(self.server, &self.readiness, shutdown).await;
        for task in &self.tasks {
            task.abort();
        }
        tracing::info!("stopped");
        result.map_err(StartupError::Io)
    }
}

/// The largest body any inbox route reads (the delete form).
fn routes_body_cap() -> u64 {
    128 * 1024
}

/// A new index is filled from every list; a kept one catches up with
/// what arrived while the inbox was down (the feed's replay brings the
/// deletions). Then the feed is followed.
async fn first_sync_then_follow(
    syncer: Arc<Syncer>,
    fresh: bool,
    synced: Arc<AtomicBool>,
    config: InboxConfig,
    metrics: InboxMetrics,
) {
    let mut wait = Duration::from_millis(100);
    loop {
        let result = if fresh {
            syncer.rebuild().await.map(drop)
        } else {
            let mut result = Ok(());
            for kind in syncer.api().kinds() {
                if let Err(err) = syncer.catch_up(kind).await {
                    result = Err(err);
                }
            }
            result
        };
        match result {
            Ok(()) => break,
            Err(err) => {
                tracing::warn!(error = %err, retry_in_ms = wait.as_millis() as u64, "first sync failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(config.inbox.feed_retry_max);
            }
        }
    }
    synced.store(true, Ordering::SeqCst);
    syncer.refresh_gauges().await;
    if let Some(gateway) = config.inbox.gateway_url.clone() {
        feed::follow(
            syncer,
            gateway,
            config.access.admin_token.clone(),
            config.inbox.feed_retry_max,
            metrics,
        )
        .await;
    }
}

async fn rebuild_every(syncer: Arc<Syncer>, interval: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = syncer.rebuild().await {
            tracing::warn!(error = %err, "periodic rebuild failed");
        }
    }
}

async fn refresh_gauges(syncer: Arc<Syncer>) {
    let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
    loop {
        ticks.tick().await;
        syncer.refresh_gauges().await;
    }
}
