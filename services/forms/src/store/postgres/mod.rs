//! Submissions in PostgreSQL (`store.backend = "postgres"`): one table that
//! every forms replica shares, with the journal's promises.
//!
//! A post is answered only after the commit that holds it (concurrent
//! posts share one commit, see [`writer`]); `seq` is the paging cursor;
//! a deletion removes the row at once and the next sweep vacuums the
//! table; retention deletes by age and by the records' total size.
//!
//! Reached through `tokio-postgres` with a `deadpool-postgres` pool: no
//! database is needed to build, statements are prepared once per
//! connection, and a lost server is a 503 until it is back.

mod health;
mod retention;
mod schema;
pub mod settings;
mod writer;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;
use uuid::Uuid;

use self::health::Health;
use self::settings::PostgresSettings;
use self::writer::Pending;
use super::{Compacted, Expired, Page, Removed, RetentionPolicy, StoreError, SubmissionStore};

/// The PostgreSQL store.
pub struct Postgres {
    pool: Pool,
    table: String,
    /// The statements' text, made once for the table.
    sql: Box<Statements>,
    /// `None` once closed.
    queue: RwLock<Option<mpsc::Sender<Pending>>>,
    writers: tokio::sync::Mutex<Vec<JoinHandle<()>>>,
    health: Arc<Health>,
    pinger: JoinHandle<()>,
    /// Deletions made here since the last vacuum.
    deleted: AtomicU64,
}

impl Postgres {
    /// Connects (waiting up to `start_timeout_ms` for the server), makes
    /// the table if missing and starts the writers.
    pub async fn open(
        settings: &PostgresSettings,
        max_batch: usize,
        queue_depth: usize,
    ) -> Result<Self, StoreError> {
        let connection = settings
            .connection()
            .map_err(|e| StoreError::Database(e.to_string().into()))?;
        let target = describe(&connection);
        let manager = Manager::from_config(
            connection,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.connect_timeout()))
            .create_timeout(Some(settings.connect_timeout()))
            .build()
            .map_err(|e| StoreError::Database(e.to_string().into()))?;
        prepare(&pool, &settings.table, &target, settings.start_timeout_ms).await?;
        let health = Health::new();
        let (sender, receiver) = mpsc::channel(queue_depth);
        let writers = writer::start(
            pool.clone(),
            &settings.table,
            receiver,
            settings.writers,
            max_batch,
            Arc::clone(&health),
        );
        let pinger = health.watch(pool.clone(), settings.connect_timeout());
        tracing::info!(server = %target, table = %settings.table, "storing submissions in PostgreSQL");
        Ok(Self {
            pool,
            table: settings.table.clone(),
            sql: Box::new(Statements::for_table(&settings.table)),
            queue: RwLock::new(Some(sender)),
            writers: tokio::sync::Mutex::new(writers),
            health,
            pinger,
            deleted: AtomicU64::new(0),
        })
    }

    /// Appends a record (as `Record::to_line` makes it) once committed.
    pub async fn append(&self, record: Vec<u8>) -> Result<u64, StoreError> {
        let head: Head = serde_json::from_slice(&record)
            .map_err(|e| StoreError::Database(format!("not a stored record: {e}").into()))?;
        let queue = self
            .queue
            .read()
            .expect("queue lock")
            .clone()
            .ok_or(StoreError::Closed)?;
        let (done, committed) = oneshot::channel();
        let pending = Pending {
            id: head.id,
            received_at: head.received_at,
            record,
            span: tracing::Span::current(),
            done,
        };
        queue.send(pending).await.map_err(|_| StoreError::Closed)?;
        drop(queue);
        committed.await.map_err(|_| StoreError::Closed)?
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        let outcome = self.pool.get().await.map_err(pool_error);
        if outcome.is_err() {
            self.health.record(&outcome);
        }
        outcome
    }

    /// Runs one read or delete, learning from it whether the server is there.
    async fn with_client<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(deadpool_postgres::Object) -> Fut,
        Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let client = self.client().await?;
        let outcome = work(client).await.map_err(classify);
        self.health.record(&outcome);
        outcome
    }
}

/// The text of the store's statements for one table.
struct Statements {
    sizes: String,
    records: String,
    find: String,
    delete: String,
    vacuum: String,
}

impl Statements {
    fn for_table(table: &str) -> Self {
        Self {
            sizes: format!(
                "SELECT seq, record_bytes FROM {table} WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
            ),
            records: format!("SELECT record FROM {table} WHERE seq = ANY($1) ORDER BY seq DESC"),
            find: format!("SELECT record FROM {table} WHERE id = $1"),
            delete: format!("DELETE FROM {table} WHERE id = $1 RETURNING seq, record_bytes"),
            vacuum: format!("VACUUM {table}"),
        }
    }
}

/// What the store reads from a record: the rest stays as it is.
#[derive(serde::Deserialize)]
struct Head {
    id: Uuid,
    received_at: String,
}

impl SubmissionStore for Postgres {
    /// A record's text, read with its page.
    type Entry = Vec<u8>;

    fn append(&self, line: Vec<u8>) -> impl std::future::Future<Output = Result<u64, StoreError>> {
        Postgres::append(self, line)
    }

    async fn plan_page(
        &self,
        before: Option<u64>,
        limit: usize,
        max_bytes: u64,
    ) -> Result<Page<Vec<u8>>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let (sizes, records) = (&self.sql.sizes, &self.sql.records);
        let wanted = limit as i64 + 1;
        self.with_client(|client| async move {
            let sizes = client.prepare_cached(sizes).await?;
            let rows = client.query(&sizes, &[&before, &wanted]).await?;
            let (mut chosen, mut total) = (Vec::new(), 0u64);
            for row in &rows {
                let bytes = row.get::<_, i32>(1) as u64;
                if chosen.len() == limit || (!chosen.is_empty() && total + bytes > max_bytes) {
                    break;
                }
                total += bytes;
                chosen.push(row.get::<_, i64>(0));
            }
            let next =
                (chosen.len() < rows.len()).then(|| *chosen.last().expect("at least one") as u64);
            let records = client.prepare_cached(records).await?;
            let records = client
                .query(&records, &[&chosen])
                .await?
                .into_iter()
                .map(|row| row.get::<_, Vec<u8>>(0))
                .collect();
            Ok(Page { records, next })
        })
        .await
    }

    async fn find(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        let find = &self.sql.find;
        self.with_client(|client| async move {
            let find = client.prepare_cached(find).await?;
            let row = client.query_opt(&find, &[&id]).await?;
            Ok(row.map(|row| row.get(0)))
        })
        .await
    }

    async fn delete(&self, id: Uuid, _now: SystemTime) -> Result<Option<Removed>, StoreError> {
        let delete = &self.sql.delete;
        let removed = self
            .with_client(|client| async move {
                let delete = client.prepare_cached(delete).await?;
                let row = client.query_opt(&delete, &[&id]).await?;
                Ok(row.map(|row| Removed {
                    sequence: row.get::<_, i64>(0) as u64,
                    bytes: row.get::<_, i32>(1) as u64,
                }))
            })
            .await?;
        if removed.is_some() {
            self.deleted.fetch_add(1, Ordering::Relaxed);
        }
        Ok(removed)
    }

    /// Vacuums the table when rows were deleted here since the last time,
    /// so their space is taken back (autovacuum covers other replicas').
    async fn compact(&self, _deleted_before: SystemTime) -> Result<Compacted, StoreError> {
        let deleted = self.deleted.swap(0, Ordering::Relaxed);
        if deleted == 0 {
            return Ok(Compacted::default());
        }
        let vacuum = &self.sql.vacuum;
        let outcome = self
            .with_client(|client| async move { client.batch_execute(vacuum).await })
            .await;
        if outcome.is_err() {
            self.deleted.fetch_add(deleted, Ordering::Relaxed);
        }
        outcome?;
        Ok(Compacted {
            segments: 0,
            records: deleted as usize,
            bytes: 0,
        })
    }

    async fn expire(
        &self,
        policy: RetentionPolicy,
        now: SystemTime,
    ) -> Result<Expired, StoreError> {
        if policy == RetentionPolicy::default() {
            return Ok(Expired::default());
        }
        let client = self.client().await?;
        let outcome = retention::expire(&client, &self.table, policy, now).await;
        self.health.record(&outcome);
        outcome
    }

    async fn read(&self, entry: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        Ok(entry)
    }

    fn is_taking_writes(&self) -> bool {
        self.health.is_reachable() && self.queue.read().expect("queue lock").is_some()
    }

    /// Stops taking appends and waits for the writers to commit what they hold.
    async fn close(&self) {
        self.queue.write().expect("queue lock").take();
        for writer in self.writers.lock().await.drain(..) {
            let _ = writer.await;
        }
        self.pinger.abort();
        self.pool.close();
    }
}

/// Waits for the server (up to `start_timeout_ms`), then makes the table.
async fn prepare(
    pool: &Pool,
    table: &str,
    target: &str,
    start_timeout_ms: u64,
) -> Result<(), StoreError> {
    let deadline = Instant::now() + Duration::from_millis(start_timeout_ms);
    let mut said = false;
    loop {
        let attempt = async {
            let mut client = pool.get().await.map_err(pool_error)?;
            schema::ensure(&mut client, table).await.map_err(classify)
        };
        match attempt.await {
            Ok(()) => return Ok(()),
            Err(StoreError::Unavailable(why)) if Instant::now() < deadline => {
                if !said {
                    tracing::warn!(server = %target, error = %why, "PostgreSQL is not reachable yet; waiting for it");
                    said = true;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// Host, port and database, for log lines: never the password.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config.get_dbname().unwrap_or("(default)");
    format!("{host}:{port}/{database}")
}

/// A pool that cannot hand out a connection: the server is away or busy.
fn pool_error(err: PoolError) -> StoreError {
    match err {
        PoolError::Backend(err) => classify(err),
        other => StoreError::Unavailable(other.to_string().into()),
    }
}

/// A lost connection, a server shutting down or out of room is
/// "unavailable" (503, try again); anything else is the database refusing.
fn classify(err: tokio_postgres::Error) -> StoreError {
    let unavailable = match err.code() {
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            matches!(class, "08" | "53" | "57") || *code == SqlState::T_R_SERIALIZATION_FAILURE
        }
    };
    let why: Arc<str> = match err.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()).into(),
        None => err.to_string().into(),
    };
    if unavailable {
        StoreError::Unavailable(why)
    } else {
        StoreError::Database(why)
    }
}
