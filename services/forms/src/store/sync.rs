//! How durable an acknowledged submission is (`store.sync`), and the
//! background fdatasync of the `interval` policy.
//!
//! - `always` (the default): every batch is written and fdatasync'd before
//!   its posts are answered. Nothing acknowledged is lost, even to a power cut.
//! - `interval`: a batch is written (to the page cache) and answered at once;
//!   a syncer thread fdatasyncs the file at least every
//!   `store.sync_interval_ms` while there is unsynced data, and once more on
//!   a clean stop. A crash of the process loses nothing written; a crash of
//!   the machine loses at most the last interval's acknowledged submissions.
//!   Like Redis's `appendfsync everysec` or PostgreSQL's
//!   `synchronous_commit = off`.

use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_client::metrics::histogram::Histogram;

/// When an acknowledged submission is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Before its 200.
    Always,
    /// Within this long of its 200.
    Interval(Duration),
}

/// The `interval` policy's background fdatasync.
pub(super) struct Syncer {
    /// The segment being written; the writer swaps it when it rolls.
    file: Arc<Mutex<File>>,
    dirty: Arc<AtomicBool>,
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Syncer {
    /// Starts syncing `file` (a handle on the journal) every `interval` while
    /// it is dirty; `failed` is told when an fdatasync fails, after which the
    /// syncer stops.
    pub(super) fn start(
        file: File,
        interval: Duration,
        fsync_seconds: Histogram,
        failed: impl FnOnce(std::io::Error) + Send + 'static,
    ) -> std::io::Result<Self> {
        let file = Arc::new(Mutex::new(file));
        let thread_file = Arc::clone(&file);
        let dirty = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = mpsc::channel();
        let thread_dirty = Arc::clone(&dirty);
        let thread = std::thread::Builder::new()
            .name("forms-journal-sync".into())
            .spawn(move || {
                let mut failed = Some(failed);
                loop {
                    let last = match stopped.recv_timeout(interval) {
                        Err(RecvTimeoutError::Timeout) => false,
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
                    };
                    if thread_dirty.swap(false, Ordering::SeqCst) {
                        let started = Instant::now();
                        let synced = thread_file.lock().expect("syncer file").sync_data();
                        fsync_seconds.observe(started.elapsed().as_secs_f64());
                        if let Err(err) = synced {
                            if let Some(failed) = failed.take() {
                                failed(err);
                            }
                            return;
                        }
                    }
                    if last {
                        return;
                    }
                }
            })?;
        Ok(Self {
            file,
            dirty,
            stop,
            thread,
        })
    }

    /// Says there is written data to sync.
    pub(super) fn mark_dirty(&self) {
        self.dirty.store(true, Ordering::SeqCst);
    }

    /// Syncs `file` from now on (a new segment; the writer synced the old one).
    pub(super) fn switch_to(&self, file: File) {
        *self.file.lock().expect("syncer file") = file;
    }

    /// Syncs what is left and stops.
    pub(super) fn finish(self) {
        let _ = self.stop.send(());
        if self.thread.join().is_err() {
            tracing::error!("journal syncer thread panicked");
        }
    }
}
