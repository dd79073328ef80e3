//! The append-only journal and its group-commit writer thread.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::sync::{SyncPolicy, Syncer};
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
    /// Why the writer stopped taking writes, once it has.
    stopped: OnceLock<Arc<str>>,
}

/// What the writer needs of its file: the journal file itself, or in tests
/// one that fails on cue.
pub(super) trait JournalFile: Send + 'static {
    /// Appends `buf` (to the page cache).
    fn append(&mut self, buf: &[u8]) -> std::io::Result<()>;
    /// Makes what was appended durable (fdatasync).
    fn sync(&mut self) -> std::io::Result<()>;
    /// Cuts the file back to `len` and makes that durable.
    fn cut_back(&mut self, len: u64) -> std::io::Result<()>;
    /// Another handle on the file, for the syncer thread.
    fn handle(&self) -> std::io::Result<File>;
}

impl JournalFile for File {
    fn append(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.write_all(buf)
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.sync_data()
    }

    fn cut_back(&mut self, len: u64) -> std::io::Result<()> {
        self.set_len(len).and_then(|()| self.sync_data())
    }

    fn handle(&self) -> std::io::Result<File> {
        self.try_clone()
    }
}

/// Handle to the journal used by request handlers.
pub struct Journal {
    queue: mpsc::Sender<Command>,
    shared: Arc<Shared>,
}

/// How the journal writes.
#[derive(Debug, Clone, Copy)]
pub struct JournalSettings {
    /// Most records written (and fsync'd) together in one group commit.
    pub max_batch: usize,
    /// Records that may wait for the writer before appends wait.
    pub queue_depth: usize,
    /// When an acknowledged record is on disk.
    pub sync: SyncPolicy,
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
        settings: JournalSettings,
        metrics: JournalMetrics,
    ) -> Result<(Arc<Journal>, JournalWriter), StoreError> {
        Self::open_with(dir, |file| file, settings, metrics)
    }

    /// [`Journal::open`], with the writer's file passed through `wrap` first
    /// (tests wrap it in one that fails on cue).
    pub(super) fn open_with<F: JournalFile>(
        dir: &Path,
        wrap: impl FnOnce(File) -> F,
        settings: JournalSettings,
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
            stopped: OnceLock::new(),
        });
        let file = wrap(recovered.file);
        let (queue, rx) = mpsc::channel(settings.queue_depth);
        let writer_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("forms-journal".into())
            .spawn(move || write_loop(file, recovered.len, rx, &writer_shared, &settings, &metrics))
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
            .map_err(|_| self.why_closed())?;
        durable.await.map_err(|_| self.why_closed())?
    }

    /// Why appends no longer go through: stopped after a failure, or closed.
    fn why_closed(&self) -> StoreError {
        match self.shared.stopped.get() {
            Some(why) => StoreError::Stopped(Arc::clone(why)),
            None => StoreError::Closed,
        }
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
/// write and (with `store.sync = "always"`) one fsync, then acknowledges
/// each; with `"interval"` the syncer fsyncs behind it. A failed batch is cut
/// back off the file so no partial record stays behind; if that fails too
/// (or the syncer's fsync fails), the writer stops for good rather than
/// append after what it cannot vouch for.
fn write_loop<F: JournalFile>(
    file: F,
    len: u64,
    rx: mpsc::Receiver<Command>,
    shared: &Arc<Shared>,
    settings: &JournalSettings,
    metrics: &JournalMetrics,
) {
    let syncer = match settings.sync {
        SyncPolicy::Always => None,
        SyncPolicy::Interval(every) => {
            let stopped = Arc::clone(shared);
            let failed = move |err: std::io::Error| {
                tracing::error!(
                    error = %err,
                    "journal stopped taking writes: an interval fdatasync failed, so \
                     acknowledged records may not be on disk"
                );
                let _ = stopped
                    .stopped
                    .set(format!("an fdatasync of the journal failed ({err})").into());
            };
            match file
                .handle()
                .and_then(|h| Syncer::start(h, every, metrics.fsync_seconds.clone(), failed))
            {
                Ok(syncer) => Some(syncer),
                Err(err) => {
                    tracing::error!(error = %err, "journal stopped taking writes: cannot start its syncer");
                    let _ = shared
                        .stopped
                        .set(format!("the journal's syncer could not start ({err})").into());
                    return;
                }
            }
        }
    };
    write_batches(
        file,
        len,
        rx,
        shared,
        settings.max_batch,
        syncer.as_ref(),
        metrics,
    );
    if let Some(syncer) = syncer {
        syncer.finish();
    }
}

/// The writer's loop proper; `syncer` is set for the `interval` policy.
fn write_batches<F: JournalFile>(
    mut file: F,
    mut len: u64,
    mut rx: mpsc::Receiver<Command>,
    shared: &Shared,
    max_batch: usize,
    syncer: Option<&Syncer>,
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
        if let Some(why) = shared.stopped.get() {
            // The syncer failed: nothing more goes in after what it could not vouch for.
            for pending in batch.drain(..) {
                let _ = pending.done.send(Err(StoreError::Stopped(Arc::clone(why))));
            }
            return;
        }
        let written = match syncer {
            None => {
                let started = std::time::Instant::now();
                let written = file.append(&buf).and_then(|()| file.sync());
                metrics
                    .fsync_seconds
                    .observe(started.elapsed().as_secs_f64());
                written
            }
            Some(syncer) => file.append(&buf).map(|()| syncer.mark_dirty()),
        };
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
                let cut = file.cut_back(len);
                let err = Arc::new(err);
                for pending in batch.drain(..) {
                    let _ = pending.done.send(Err(StoreError::Write(Arc::clone(&err))));
                }
                if let Err(cut) = cut {
                    let why: Arc<str> = format!(
                        "a failed batch could not be cut back off the journal ({cut}); \
                         a restart recovers it"
                    )
                    .into();
                    tracing::error!(
                        error = %cut,
                        length = len,
                        "journal stopped taking writes: rolling back a failed batch failed, \
                         and appending after what it left would corrupt the journal"
                    );
                    let _ = shared.stopped.set(why);
                    // Dropping the queue fails every waiting append with the reason.
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use inlet_common::metrics::Metrics;

    use super::*;
    use crate::metrics::FormsMetrics;

    /// The journal file, with its next append and its next cut failing on cue.
    struct Faulty {
        file: File,
        fail_append: Arc<AtomicBool>,
        fail_cut: Arc<AtomicBool>,
    }

    impl JournalFile for Faulty {
        fn append(&mut self, buf: &[u8]) -> std::io::Result<()> {
            if self.fail_append.swap(false, Ordering::SeqCst) {
                // Half the batch reaches the file before the failure.
                self.file.write_all(&buf[..buf.len() / 2])?;
                return Err(std::io::Error::other("injected write failure"));
            }
            self.file.append(buf)
        }

        fn sync(&mut self) -> std::io::Result<()> {
            self.file.sync()
        }

        fn handle(&self) -> std::io::Result<File> {
            self.file.handle()
        }

        fn cut_back(&mut self, len: u64) -> std::io::Result<()> {
            if self.fail_cut.load(Ordering::SeqCst) {
                return Err(std::io::Error::other("injected truncate failure"));
            }
            self.file.cut_back(len)
        }
    }

    struct Faults {
        fail_append: Arc<AtomicBool>,
        fail_cut: Arc<AtomicBool>,
    }

    fn open_faulty(dir: &Path) -> (Arc<Journal>, JournalWriter, Faults) {
        let faults = Faults {
            fail_append: Arc::default(),
            fail_cut: Arc::default(),
        };
        let (fail_append, fail_cut) = (faults.fail_append.clone(), faults.fail_cut.clone());
        let (_, metrics) = FormsMetrics::register(&Metrics::new());
        let wrap = move |file| Faulty {
            file,
            fail_append,
            fail_cut,
        };
        let settings = JournalSettings {
            max_batch: 16,
            queue_depth: 64,
            sync: SyncPolicy::Always,
        };
        let (journal, writer) = Journal::open_with(dir, wrap, settings, metrics).unwrap();
        (journal, writer, faults)
    }

    fn journal_text(dir: &Path) -> String {
        std::fs::read_to_string(dir.join(JOURNAL_FILE)).unwrap()
    }

    #[tokio::test]
    async fn a_failed_batch_is_cut_back_and_the_journal_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _writer, faults) = open_faulty(dir.path());
        assert_eq!(journal.append(b"{\"n\":0}".to_vec()).await.unwrap(), 0);
        faults.fail_append.store(true, Ordering::SeqCst);
        let failed = journal.append(b"{\"n\":1}".to_vec()).await;
        assert!(matches!(failed, Err(StoreError::Write(_))), "{failed:?}");
        assert_eq!(journal.append(b"{\"n\":2}".to_vec()).await.unwrap(), 1);
        assert_eq!(journal_text(dir.path()), "{\"n\":0}\n{\"n\":2}\n");
        assert!(journal.writer_alive());
    }

    #[tokio::test]
    async fn when_the_rollback_fails_too_the_journal_stops_taking_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer, faults) = open_faulty(dir.path());
        assert_eq!(journal.append(b"{\"n\":0}".to_vec()).await.unwrap(), 0);
        faults.fail_append.store(true, Ordering::SeqCst);
        faults.fail_cut.store(true, Ordering::SeqCst);
        let failed = journal.append(b"{\"n\":1}".to_vec()).await;
        assert!(matches!(failed, Err(StoreError::Write(_))), "{failed:?}");
        // Every later append is refused with the reason, and nothing more is written.
        let left = journal_text(dir.path());
        let later = journal.append(b"{\"n\":2}".to_vec()).await;
        match later {
            Err(StoreError::Stopped(why)) => {
                assert!(why.contains("could not be cut back"), "{why}");
            }
            other => panic!("expected Stopped, got {other:?}"),
        }
        assert!(!journal.writer_alive(), "readiness sees the writer gone");
        assert_eq!(
            journal_text(dir.path()),
            left,
            "nothing appended after the garbage"
        );
        writer.join();
        // A restart recovers: the partial line is dropped and the journal takes writes again.
        drop(journal);
        let (journal, _writer, _) = open_faulty(dir.path());
        assert_eq!(journal.append(b"{\"n\":3}".to_vec()).await.unwrap(), 1);
        assert_eq!(journal_text(dir.path()), "{\"n\":0}\n{\"n\":3}\n");
    }
}
