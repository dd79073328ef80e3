//! The append-only journal and its group-commit writer thread.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::{recovery, Entry, StoreError, JOURNAL_FILE};
use crate::metrics::JournalMetrics;

/// One line waiting for the writer, and where to say it is durable.
struct Pending {
    line: Vec<u8>,
    done: oneshot::Sender<Result<u64, StoreError>>,
}

/// What the writer thread is asked to do.
enum Command {
    Append(Pending),
    /// Write what is queued, then stop.
    Close,
}

/// State shared between request handlers and the writer thread.
struct Shared {
    /// Line offsets in append order; a record's position is its sequence number.
    index: RwLock<Vec<Entry>>,
    /// A read handle for serving pages (positioned reads, no shared cursor).
    reader: File,
}

/// Handle to the journal used by request handlers.
pub struct Journal {
    queue: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

/// Owns the writer thread; [`JournalWriter::join`] waits until every queued line is written.
pub struct JournalWriter {
    thread: JoinHandle<()>,
}

impl JournalWriter {
    /// Waits for the writer to finish; it does once every [`Journal`] handle is dropped.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("journal writer thread panicked");
        }
    }
}

impl Journal {
    /// Opens the journal in `dir` (creating it) and starts its writer thread.
    pub fn open(
        dir: &Path,
        max_batch: usize,
        queue_depth: usize,
        metrics: JournalMetrics,
    ) -> Result<(Arc<Journal>, JournalWriter), StoreError> {
        let path = dir.join(JOURNAL_FILE);
        let open_error = |source: std::io::Error| StoreError::Open {
            path: path.display().to_string(),
            source: Arc::new(source),
        };
        let recovered = recovery::open(dir, &path).map_err(open_error)?;
        let reader = recovered.file.try_clone().map_err(open_error)?;
        let shared = Arc::new(Shared {
            index: RwLock::new(recovered.index),
            reader,
        });
        let (queue, rx) = mpsc::channel(queue_depth);
        let writer_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("forms-journal".into())
            .spawn(move || {
                write_loop(
                    recovered.file,
                    recovered.len,
                    rx,
                    &writer_shared,
                    max_batch,
                    &metrics,
                )
            })
            .map_err(open_error)?;
        Ok((
            Arc::new(Journal { queue, shared }),
            JournalWriter { thread },
        ))
    }

    /// Appends one record (a single line of JSON, no newline) and waits until it
    /// is fsync'd. Returns its sequence number.
    pub async fn append(&self, mut line: Vec<u8>) -> Result<u64, StoreError> {
        debug_assert!(!line.contains(&b'\n'));
        line.push(b'\n');
        let (done, durable) = oneshot::channel();
        self.queue
            .send(Command::Append(Pending { line, done }))
            .await
            .map_err(|_| StoreError::Closed)?;
        durable.await.map_err(|_| StoreError::Closed)?
    }

    /// Whether the writer thread still takes appends (false once it stopped,
    /// whether closed or dead).
    pub fn writer_alive(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Asks the writer to write everything queued so far and stop; later appends fail.
    pub async fn close(&self) {
        let _ = self.queue.send(Command::Close).await;
    }

    /// Which records a page holds: up to `limit` with sequence numbers below
    /// `before` (all, when `None`), newest first, stopping early when the next
    /// record would take the page past `max_bytes` (a page always holds at
    /// least one record, so paging always moves on). Reads only the index.
    pub fn plan_page(&self, before: Option<u64>, limit: usize, max_bytes: u64) -> PagePlan {
        let index = self.shared.index.read().expect("index lock");
        let end = before.map_or(index.len(), |b| (b as usize).min(index.len()));
        let mut records = Vec::new();
        let mut bytes = 0u64;
        let mut oldest = end;
        for position in (0..end).rev().take(limit) {
            let entry = index[position];
            // The newline becomes the comma between records: same count.
            let size = u64::from(entry.len);
            if !records.is_empty() && bytes + size > max_bytes {
                break;
            }
            bytes += size;
            records.push(entry);
            oldest = position;
        }
        PagePlan {
            records,
            next: (oldest > 0).then_some(oldest as u64),
        }
    }

    /// One record's JSON text, as stored. Blocking: reads the file.
    pub fn read(&self, record: Entry) -> Result<Vec<u8>, StoreError> {
        let mut buf = vec![0u8; record.len as usize];
        self.shared
            .reader
            .read_exact_at(&mut buf, record.offset)
            .map_err(|e| StoreError::Read(Arc::new(e)))?;
        buf.pop(); // the newline
        std::str::from_utf8(&buf).map_err(invalid_record)?;
        Ok(buf)
    }
}

/// The records of one page and the cursor of the next.
#[derive(Debug)]
pub struct PagePlan {
    /// Newest first.
    pub records: Vec<Entry>,
    /// The `before` of the next (older) page; `None` on the last page.
    pub next: Option<u64>,
}

/// A stored line that no longer reads back as UTF-8 JSON.
fn invalid_record(err: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Read(Arc::new(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        err,
    )))
}

/// Takes whatever lines are queued (up to `max_batch`), writes them with one
/// write and one fsync, then acknowledges each. A failed batch is cut back off
/// the file so no partial record stays behind.
fn write_loop(
    mut file: File,
    mut len: u64,
    mut rx: mpsc::Receiver<Command>,
    shared: &Shared,
    max_batch: usize,
    metrics: &JournalMetrics,
) {
    let mut batch: Vec<Pending> = Vec::with_capacity(max_batch);
    let mut buf = Vec::new();
    let mut entries = Vec::with_capacity(max_batch);
    let mut closing = false;
    while !closing {
        match rx.blocking_recv() {
            Some(Command::Append(first)) => batch.push(first),
            Some(Command::Close) | None => break,
        }
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(Command::Append(next)) => batch.push(next),
                Ok(Command::Close) => {
                    closing = true;
                    break;
                }
                Err(_) => break,
            }
        }
        buf.clear();
        entries.clear();
        let mut offset = len;
        for pending in &batch {
            entries.push(Entry {
                offset,
                len: pending.line.len() as u32,
            });
            offset += pending.line.len() as u64;
            buf.extend_from_slice(&pending.line);
        }
        metrics.queue_depth.set(rx.len() as i64);
        metrics.batch_size.observe(batch.len() as f64);
        let started = std::time::Instant::now();
        let written = file.write_all(&buf).and_then(|()| file.sync_data());
        metrics
            .fsync_seconds
            .observe(started.elapsed().as_secs_f64());
        match written {
            Ok(()) => {
                len = offset;
                let first_seq = {
                    let mut index = shared.index.write().expect("index lock");
                    let first = index.len() as u64;
                    index.extend_from_slice(&entries);
                    first
                };
                tracing::debug!(
                    records = batch.len(),
                    bytes = buf.len(),
                    "journal batch committed"
                );
                for (i, pending) in batch.drain(..).enumerate() {
                    let _ = pending.done.send(Ok(first_seq + i as u64));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, records = batch.len(), "journal batch failed; rolling back");
                if let Err(cut) = file.set_len(len).and_then(|()| file.sync_data()) {
                    tracing::error!(error = %cut, "cannot cut a failed batch off the journal");
                }
                let err = Arc::new(err);
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(StoreError::Write(Arc::clone(&err))));
                }
            }
        }
    }
}
