//! Group commit on PostgreSQL: concurrent posts are inserted together, in
//! one statement (so one transaction and one WAL flush), and each is
//! answered with its sequence number once that commit is done.
//!
//! `store.postgres.writers` tasks take turns at the queue: while one
//! commits, the next gathers what arrived meanwhile (up to
//! `store.max_batch`), so a busy service commits back to back.

use std::collections::HashMap;
use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::health::Health;
use super::{classify, StoreError};

/// One submission waiting for its commit.
pub(super) struct Pending {
    pub id: Uuid,
    /// RFC 3339, as in the record; PostgreSQL parses it.
    pub received_at: String,
    pub record: Vec<u8>,
    /// The request's span, linked from the commit's.
    pub span: tracing::Span,
    pub done: oneshot::Sender<Result<u64, StoreError>>,
}

/// The writer tasks; they end once every sender is gone and the queue is empty.
pub(super) fn start(
    pool: Pool,
    table: &str,
    queue: mpsc::Receiver<Pending>,
    writers: usize,
    max_batch: usize,
    health: Arc<Health>,
) -> Vec<JoinHandle<()>> {
    let insert: Arc<str> = format!(
        "INSERT INTO {table} (id, received_at, record_bytes, record) \
         SELECT * FROM unnest($1::uuid[], $2::text[]::timestamptz[], $3::int4[], $4::bytea[]) \
         RETURNING id, seq"
    )
    .into();
    let queue = Arc::new(Mutex::new(queue));
    (0..writers)
        .map(|_| {
            let (pool, insert, queue, health) = (
                pool.clone(),
                Arc::clone(&insert),
                Arc::clone(&queue),
                Arc::clone(&health),
            );
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(max_batch);
                loop {
                    if queue.lock().await.recv_many(&mut batch, max_batch).await == 0 {
                        return;
                    }
                    commit(&pool, &insert, &mut batch, &health).await;
                }
            })
        })
        .collect()
}

/// Inserts `batch` in one statement and answers each of it.
async fn commit(pool: &Pool, insert: &str, batch: &mut Vec<Pending>, health: &Health) {
    let span = tracing::info_span!(
        "forms.store.commit",
        db.system = "postgresql",
        db.operation = "INSERT",
        forms.store.records = batch.len() as i64,
    );
    for pending in batch.iter() {
        span.follows_from(&pending.span);
    }
    let outcome = tracing::Instrument::instrument(insert_all(pool, insert, batch), span).await;
    health.record(&outcome);
    match outcome {
        Ok(sequences) => {
            for pending in batch.drain(..) {
                let answer = sequences.get(&pending.id).copied().ok_or_else(|| {
                    StoreError::Database("a row came back without its sequence".into())
                });
                let _ = pending.done.send(answer);
            }
        }
        Err(err) => {
            tracing::warn!(error = %err, records = batch.len(), "committing submissions to PostgreSQL failed");
            for pending in batch.drain(..) {
                let _ = pending.done.send(Err(err.clone()));
            }
        }
    }
}

async fn insert_all(
    pool: &Pool,
    insert: &str,
    batch: &[Pending],
) -> Result<HashMap<Uuid, u64>, StoreError> {
    let client = pool.get().await.map_err(super::pool_error)?;
    let statement = client.prepare_cached(insert).await.map_err(classify)?;
    let ids: Vec<Uuid> = batch.iter().map(|p| p.id).collect();
    let times: Vec<&str> = batch.iter().map(|p| p.received_at.as_str()).collect();
    let sizes: Vec<i32> = batch
        .iter()
        .map(|p| i32::try_from(p.record.len()).unwrap_or(i32::MAX))
        .collect();
    let records: Vec<&[u8]> = batch.iter().map(|p| p.record.as_slice()).collect();
    let rows = client
        .query(&statement, &[&ids, &times, &sizes, &records])
        .await
        .map_err(classify)?;
    Ok(rows
        .iter()
        .map(|row| (row.get::<_, Uuid>(0), row.get::<_, i64>(1) as u64))
        .collect())
}
