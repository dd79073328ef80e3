//! The `interval` policy of `store.sync`: a stored file is answered once it
//! is written and named, and a background task flushes the uploads
//! filesystem (`syncfs`: every file's data and every name at once) at least
//! every `store.sync_interval_ms` while something is unflushed, and once
//! more at a clean stop. A crash of the process loses nothing answered; a
//! crash of the machine loses at most the last interval's uploads. As
//! forms' `store.sync = "interval"`, Redis's `appendfsync everysec`.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use tokio_util::sync::CancellationToken;

/// The background flush of one folder's filesystem.
#[derive(Debug)]
pub struct IntervalSync {
    shared: Arc<Shared>,
    stop: CancellationToken,
}

#[derive(Debug)]
struct Shared {
    dir: File,
    /// Something was named or removed since the last flush.
    dirty: AtomicBool,
    flushes: Counter,
}

impl IntervalSync {
    /// Starts flushing the filesystem of `dir` every `interval` while dirty;
    /// each flush is counted in `flushes`. Must run inside a tokio runtime.
    pub fn start(dir: &Path, interval: Duration, flushes: Counter) -> io::Result<Self> {
        let shared = Arc::new(Shared {
            dir: File::open(dir)?,
            dirty: AtomicBool::new(false),
            flushes,
        });
        let stop = CancellationToken::new();
        tokio::spawn(flush_every(Arc::clone(&shared), interval, stop.clone()));
        Ok(Self { shared, stop })
    }

    /// Notes that what was just named or removed waits for the next flush.
    pub fn mark(&self) {
        self.shared.dirty.store(true, Ordering::Release);
    }

    /// Stops the task and flushes what is left.
    pub async fn close(&self) {
        self.stop.cancel();
        if let Err(err) = flush(&self.shared).await {
            tracing::error!(error = %err, "the last flush of the uploads folder failed");
        }
    }
}

async fn flush_every(shared: Arc<Shared>, interval: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = stop.cancelled() => return,
        }
        if let Err(err) = flush(&shared).await {
            // The next round tries again; until then the data is in the page cache.
            tracing::error!(error = %err, "flushing the uploads folder failed");
            shared.dirty.store(true, Ordering::Release);
        }
    }
}

/// `syncfs` of the folder's filesystem, if anything is unflushed.
async fn flush(shared: &Arc<Shared>) -> io::Result<()> {
    if !shared.dirty.swap(false, Ordering::AcqRel) {
        return Ok(());
    }
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        rustix::fs::syncfs(&shared.dir)?;
        shared.flushes.inc();
        Ok(())
    })
    .await
    .map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_flushes_only_when_something_waits_and_once_more_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let flushes = Counter::default();
        let sync =
            IntervalSync::start(dir.path(), Duration::from_millis(10), flushes.clone()).unwrap();
        sync.mark();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while flushes.get() == 0 {
            assert!(tokio::time::Instant::now() < deadline, "no flush");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let after_first = flushes.get();
        sync.mark();
        sync.close().await;
        assert_eq!(flushes.get(), after_first + 1, "the last flush at close");
        sync.close().await;
        assert_eq!(
            flushes.get(),
            after_first + 1,
            "nothing left, nothing flushed"
        );
    }
}
