//! Opening each backend fresh for one case.

use std::future::Future;
use std::sync::Arc;

use inlet_common::metrics::Metrics;
use inlet_forms::metrics::FormsMetrics;
use inlet_forms::store::postgres::settings::PostgresSettings;
use inlet_forms::store::postgres::Postgres;
use inlet_forms::store::{
    Journal, JournalSettings, JournalWriter, Store, SubmissionStore, SyncPolicy,
};
use inlet_testkit::postgres::PostgresServer;
use tempfile::TempDir;

/// Smallest journal segments, so retention has several to drop.
const SEGMENT_BYTES: u64 = 4096;

/// Where a case's records go.
pub enum Backend {
    Journal(TempDir),
    Postgres(Box<PostgresServer>),
}

/// A store opened on a backend.
pub struct Opened {
    pub store: Arc<Store>,
    writer: Option<JournalWriter>,
}

impl Backend {
    pub async fn journal() -> Self {
        Backend::Journal(tempfile::tempdir().unwrap())
    }

    pub async fn postgres() -> Self {
        Backend::Postgres(Box::new(PostgresServer::start().await))
    }

    /// Opens the store (again, after a close: same folder or table).
    pub async fn open(&self) -> Opened {
        match self {
            Backend::Journal(dir) => {
                let (_, metrics) = FormsMetrics::register(&Metrics::new());
                let settings = JournalSettings {
                    max_batch: 64,
                    queue_depth: 256,
                    sync: SyncPolicy::Always,
                    segment_bytes: SEGMENT_BYTES,
                };
                let (journal, writer) = Journal::open(dir.path(), settings, metrics).unwrap();
                Opened {
                    store: Arc::new(Store::Journal(journal)),
                    writer: Some(writer),
                }
            }
            Backend::Postgres(server) => {
                let settings = PostgresSettings {
                    url: server.url(),
                    ..PostgresSettings::default()
                };
                let postgres = Postgres::open(&settings, 64, 256).await.unwrap();
                Opened {
                    store: Arc::new(Store::Postgres(postgres)),
                    writer: None,
                }
            }
        }
    }

    /// How far over a size budget retention may leave the store: the
    /// journal drops whole segments and never the one being written.
    pub fn size_slack(&self) -> u64 {
        match self {
            Backend::Journal(_) => SEGMENT_BYTES,
            Backend::Postgres(_) => 0,
        }
    }
}

impl Opened {
    /// Writes what is pending and stops the store.
    pub async fn close(self) {
        self.store.close().await;
        drop(self.store);
        if let Some(writer) = self.writer {
            tokio::task::spawn_blocking(move || writer.join())
                .await
                .unwrap();
        }
    }
}

/// Runs `case` on a local task set (the journal answers appends through
/// the thread's inbox, as on an actix worker), bounded in time.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Backend) -> Fut,
    Fut: Future<Output = ()>,
{
    let local = tokio::task::LocalSet::new();
    tokio::time::timeout(inlet_testkit::WAIT * 3, local.run_until(case(backend)))
        .await
        .expect("the case finishes in time");
}
