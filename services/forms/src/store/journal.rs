//! The journal's handle for request handlers: append, plan a page, read a record.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use super::compaction::{self, Compacted};
use super::crash_point::CrashPoint;
use super::handoff::{Inbox, Outcome, Reply};
use super::lookup;
use super::recovery;
use super::retention::{self, Expired, RetentionPolicy};
use super::segment::{Segment, Span};
use super::shared::Shared;
use super::submission_store::{Page, Removed, SubmissionStore};
use super::sync::SyncPolicy;
use super::tombstones::{Tombstone, Tombstones};
use super::writer::{self, Command, JournalFile, Pending, WriterSettings};
use super::StoreError;
use crate::metrics::JournalMetrics;

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
    /// Size at which the journal starts a new segment file.
    pub segment_bytes: u64,
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

/// A record a page will hold: its segment and where it sits there.
#[derive(Debug, Clone)]
pub struct Entry {
    segment: Arc<Segment>,
    span: Span,
}

/// The records of one journal page and the cursor of the next.
pub type PagePlan = Page<Entry>;

impl Journal {
    /// Opens the journal in `forms_dir` (creating it) and starts its writer thread.
    pub fn open(
        forms_dir: &Path,
        settings: JournalSettings,
        metrics: JournalMetrics,
    ) -> Result<(Arc<Journal>, JournalWriter), StoreError> {
        Self::open_with(forms_dir, |file| file, settings, metrics)
    }

    /// [`Journal::open`], with each segment's data file passed through `wrap`
    /// before the writer uses it (tests wrap it in one that fails on cue).
    pub(super) fn open_with<F: JournalFile>(
        forms_dir: &Path,
        wrap: impl Fn(File) -> F + Send + 'static,
        settings: JournalSettings,
        metrics: JournalMetrics,
    ) -> Result<(Arc<Journal>, JournalWriter), StoreError> {
        let dir = forms_dir.join(super::JOURNAL_DIR);
        let open_error = |source: std::io::Error| StoreError::Open {
            path: dir.display().to_string(),
            source: Arc::new(source),
        };
        let started = std::time::Instant::now();
        let recovered = recovery::open(forms_dir).map_err(open_error)?;
        tracing::info!(
            path = %dir.display(),
            segments = recovered.segments.len(),
            records = recovered.segments.last().map_or(0, |s| s.end_seq()),
            scanned_bytes = recovered.scanned,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "journal opened"
        );
        metrics.segments.set(recovered.segments.len() as i64);
        let tombstones = Tombstones::open(&dir).map_err(open_error)?;
        let shared = Arc::new(Shared::new(dir.clone(), recovered.segments, tombstones));
        let (queue, rx) = mpsc::channel(settings.queue_depth);
        let writer_shared = Arc::clone(&shared);
        let writer_settings = WriterSettings {
            max_batch: settings.max_batch,
            segment_bytes: settings.segment_bytes,
            sync: settings.sync,
            wrap,
        };
        let active = recovered.active;
        let thread = std::thread::Builder::new()
            .name("forms-journal".into())
            .spawn(move || writer::run(active, rx, &writer_shared, writer_settings, &metrics))
            .map_err(open_error)?;
        Ok((
            Arc::new(Journal { queue, shared }),
            JournalWriter { thread },
        ))
    }

    /// Appends one record (a single line of JSON, no newline) and waits until it
    /// is durable (per `store.sync`). Returns its sequence number.
    pub async fn append_anywhere(&self, line: Vec<u8>) -> Outcome {
        self.append_with(line, None).await
    }

    /// [`Journal::append_anywhere`] from an actix worker thread: the writer hands the
    /// outcome back through the thread's inbox, so a batch costs each thread
    /// one wake-up rather than one per record.
    pub async fn append_from_worker(&self, line: Vec<u8>) -> Outcome {
        self.append_with(line, Some(Inbox::for_this_worker())).await
    }

    async fn append_with(&self, mut line: Vec<u8>, inbox: Option<Arc<Inbox>>) -> Outcome {
        debug_assert!(!line.contains(&b'\n'));
        line.push(b'\n');
        let (done, durable) = oneshot::channel();
        let reply = Reply::new(done, inbox);
        self.queue
            .send(Command::Append(Pending { line, reply }))
            .await
            .map_err(|_| self.why_closed())?;
        durable.await.map_err(|_| self.why_closed())?
    }

    /// Why appends no longer go through: stopped after a failure, or closed.
    fn why_closed(&self) -> StoreError {
        match self.shared.stopped() {
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

    /// Stops the next compaction or retention drop at `point`, leaving its
    /// files as a crash there would (for crash tests).
    pub fn crash_at(&self, point: CrashPoint) {
        self.shared.crash.arm(point);
    }

    /// Runs `work` on a low-priority thread of its own with the
    /// maintenance lock held, so it takes only the CPU appends leave.
    async fn maintain<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Shared, &mpsc::Sender<Command>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        let queue = self.queue.clone();
        inlet_common::retention::at_low_priority(move || {
            let _one_at_a_time = shared.maintenance.lock().expect("maintenance lock");
            work(&shared, &queue)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

/// Asks the writer to seal the segment it appends to, and waits.
fn seal(queue: &mpsc::Sender<Command>) -> Result<(), StoreError> {
    let (done, sealed) = oneshot::channel();
    queue
        .blocking_send(Command::Seal(done))
        .map_err(|_| StoreError::Closed)?;
    sealed
        .blocking_recv()
        .map_err(|_| StoreError::Closed)?
        .map_err(|e| StoreError::Write(Arc::new(e)))
}

/// Which records a page holds: up to `limit` with sequence numbers below
/// `before` (all, when `None`), newest first, across segments, stopping
/// early when the next record would take the page past `max_bytes` (a
/// page always holds at least one record, so paging always moves on).
/// Blocking: reads one stretch of index per segment it touches.
fn plan_page(
    shared: &Shared,
    before: Option<u64>,
    limit: usize,
    max_bytes: u64,
) -> Result<PagePlan, StoreError> {
    let segments = shared.segments.read().expect("segments lock").clone();
    let deleted = shared.tombstones.snapshot();
    let oldest = segments.first().map_or(0, |s| s.first_seq);
    let total = segments.last().map_or(0, |s| s.end_seq());
    let mut position = before.map_or(total, |b| b.min(total));
    let mut records = Vec::new();
    let mut bytes = 0u64;
    'segments: for segment in segments.iter().rev() {
        if records.len() >= limit {
            break;
        }
        if segment.first_seq >= position {
            continue;
        }
        let to = position.min(segment.end_seq()) - segment.first_seq;
        // Deleted records are passed over, so read far enough to make up for them.
        let skipped = deleted
            .range(segment.first_seq..segment.first_seq + to)
            .count();
        let from = to.saturating_sub((limit - records.len() + skipped) as u64);
        for (k, span) in segment.spans(from, to)?.into_iter().enumerate().rev() {
            if records.len() >= limit {
                break 'segments;
            }
            let seq = segment.first_seq + from + k as u64;
            if deleted.contains_key(&seq) {
                position = seq;
                continue;
            }
            // The newline becomes the comma between records: same count.
            let size = u64::from(span.len);
            if !records.is_empty() && bytes + size > max_bytes {
                break 'segments;
            }
            bytes += size;
            records.push(Entry {
                segment: Arc::clone(segment),
                span,
            });
            position = seq;
        }
    }
    Ok(PagePlan {
        records,
        next: (position > oldest).then_some(position),
    })
}

/// Hides the record with `id` from every read, durably; `None` when there
/// is no such record (or it is deleted already).
fn delete(shared: &Shared, id: uuid::Uuid, now_ms: u64) -> Result<Option<Removed>, StoreError> {
    let segments = shared.segments.read().expect("segments lock").clone();
    let Some(found) = lookup::find(&segments, id)? else {
        return Ok(None);
    };
    let tombstone = Tombstone {
        id,
        deleted_at_ms: now_ms,
    };
    let added = shared
        .tombstones
        .add(found.seq, tombstone)
        .map_err(|e| StoreError::Write(Arc::new(e)))?;
    Ok(added.then_some(Removed {
        sequence: found.seq,
        bytes: u64::from(found.span.len),
    }))
}

impl SubmissionStore for Journal {
    type Entry = Entry;

    /// Must be called on an actix worker (a thread running a tokio
    /// `LocalSet`): the outcome comes back through the worker's inbox. Off
    /// a worker, use [`Journal::append_anywhere`].
    fn append(&self, line: Vec<u8>) -> impl std::future::Future<Output = Outcome> {
        self.append_from_worker(line)
    }

    async fn plan_page(
        &self,
        before: Option<u64>,
        limit: usize,
        max_bytes: u64,
    ) -> Result<PagePlan, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || plan_page(&shared, before, limit, max_bytes))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    async fn find(&self, id: uuid::Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || {
            let segments = shared.segments.read().expect("segments lock").clone();
            match lookup::find(&segments, id)? {
                Some(found) if !shared.tombstones.contains(found.seq) => {
                    found.segment.read(found.span).map(Some)
                }
                _ => Ok(None),
            }
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    async fn delete(
        &self,
        id: uuid::Uuid,
        now: std::time::SystemTime,
    ) -> Result<Option<Removed>, StoreError> {
        let shared = Arc::clone(&self.shared);
        let now_ms = retention::unix_ms(now);
        tokio::task::spawn_blocking(move || delete(&shared, id, now_ms))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    async fn compact(
        &self,
        deleted_before: std::time::SystemTime,
    ) -> Result<Compacted, StoreError> {
        let due_ms = retention::unix_ms(deleted_before);
        self.maintain(move |shared, queue| {
            compaction::compact(
                &shared.dir,
                shared,
                &shared.tombstones,
                &shared.crash,
                due_ms,
                || seal(queue),
            )
        })
        .await
    }

    async fn expire(
        &self,
        policy: RetentionPolicy,
        now: std::time::SystemTime,
    ) -> Result<Expired, StoreError> {
        self.maintain(move |shared, _| {
            retention::expire(
                &shared.dir,
                shared,
                &shared.tombstones,
                &shared.crash,
                policy,
                now,
            )
        })
        .await
    }

    async fn read(&self, entry: Entry) -> Result<Vec<u8>, StoreError> {
        tokio::task::spawn_blocking(move || entry.segment.read(entry.span))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    fn is_taking_writes(&self) -> bool {
        self.writer_alive()
    }

    async fn close(&self) {
        // The inherent method, not this one.
        Journal::close(self).await;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    use inlet_common::metrics::Metrics;

    use super::*;
    use crate::metrics::FormsMetrics;
    use crate::store::segment::ENTRY_BYTES;

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
            fail_append: Arc::clone(&fail_append),
            fail_cut: Arc::clone(&fail_cut),
        };
        let settings = JournalSettings {
            max_batch: 16,
            queue_depth: 64,
            sync: SyncPolicy::Always,
            segment_bytes: 1 << 20,
        };
        let (journal, writer) = Journal::open_with(dir, wrap, settings, metrics).unwrap();
        (journal, writer, faults)
    }

    fn journal_text(dir: &Path) -> String {
        let files = crate::store::segment_files(dir).unwrap();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn a_failed_batch_is_cut_back_and_the_journal_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, _writer, faults) = open_faulty(dir.path());
        assert_eq!(
            journal
                .append_anywhere(b"{\"n\":0}".to_vec())
                .await
                .unwrap(),
            0
        );
        faults.fail_append.store(true, Ordering::SeqCst);
        let failed = journal.append_anywhere(b"{\"n\":1}".to_vec()).await;
        assert!(matches!(failed, Err(StoreError::Write(_))), "{failed:?}");
        assert_eq!(
            journal
                .append_anywhere(b"{\"n\":2}".to_vec())
                .await
                .unwrap(),
            1
        );
        assert_eq!(journal_text(dir.path()), "{\"n\":0}\n{\"n\":2}\n");
        assert!(journal.writer_alive());
    }

    #[tokio::test]
    async fn when_the_rollback_fails_too_the_journal_stops_taking_writes() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer, faults) = open_faulty(dir.path());
        assert_eq!(
            journal
                .append_anywhere(b"{\"n\":0}".to_vec())
                .await
                .unwrap(),
            0
        );
        faults.fail_append.store(true, Ordering::SeqCst);
        faults.fail_cut.store(true, Ordering::SeqCst);
        let failed = journal.append_anywhere(b"{\"n\":1}".to_vec()).await;
        assert!(matches!(failed, Err(StoreError::Write(_))), "{failed:?}");
        // Every later append is refused with the reason, and nothing more is written.
        let left = journal_text(dir.path());
        let later = journal.append_anywhere(b"{\"n\":2}".to_vec()).await;
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
        assert_eq!(
            journal
                .append_anywhere(b"{\"n\":3}".to_vec())
                .await
                .unwrap(),
            1
        );
        assert_eq!(journal_text(dir.path()), "{\"n\":0}\n{\"n\":3}\n");
    }

    fn open_plain(
        dir: &Path,
        segment_bytes: u64,
        sync: SyncPolicy,
    ) -> (Arc<Journal>, JournalWriter) {
        let (_, metrics) = FormsMetrics::register(&Metrics::new());
        let settings = JournalSettings {
            max_batch: 4,
            queue_depth: 64,
            sync,
            segment_bytes,
        };
        Journal::open(dir, settings, metrics).unwrap()
    }

    /// Appends `{"n":0}` … one at a time (so batches stay small).
    async fn append_numbers(journal: &Journal, numbers: std::ops::Range<u64>) {
        for n in numbers {
            let line = format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(20));
            journal.append_anywhere(line.into_bytes()).await.unwrap();
        }
    }

    /// Every record's `n`, newest first, following cursors page by page.
    async fn read_all(journal: &Journal, limit: usize, max_bytes: u64) -> (Vec<u64>, usize) {
        let mut seen = Vec::new();
        let mut before = None;
        let mut pages = 0;
        loop {
            let plan = journal.plan_page(before, limit, max_bytes).await.unwrap();
            pages += 1;
            for record in plan.records {
                let text = journal.read(record).await.unwrap();
                let value: serde_json::Value = serde_json::from_slice(&text).unwrap();
                seen.push(value["n"].as_u64().unwrap());
            }
            match plan.next {
                Some(next) => before = Some(next),
                None => return (seen, pages),
            }
        }
    }

    /// Cuts `file` to `len` bytes, as a crash or a lost write might.
    fn cut_to(file: &Path, len: u64) {
        std::fs::OpenOptions::new()
            .write(true)
            .open(file)
            .unwrap()
            .set_len(len)
            .unwrap();
    }

    async fn stop(journal: Arc<Journal>, writer: JournalWriter) {
        journal.close().await;
        drop(journal);
        writer.join();
    }

    #[tokio::test]
    async fn the_journal_rolls_into_segments_and_pages_run_across_them() {
        let dir = tempfile::tempdir().unwrap();
        // Each line is 36 bytes: six fit in a 256-byte segment.
        let (journal, writer) = open_plain(dir.path(), 256, SyncPolicy::Always);
        append_numbers(&journal, 0..40).await;
        let files = crate::store::segment_files(dir.path()).unwrap();
        assert!(files.len() >= 6, "{files:?}");
        for file in &files {
            let len = std::fs::metadata(file).unwrap().len();
            assert!(len <= 256, "{} is {len} bytes", file.display());
        }
        let newest_first: Vec<u64> = (0..40).rev().collect();
        // Pages of 7 straddle segment boundaries; so do pages cut by bytes.
        assert_eq!(
            read_all(&journal, 7, u64::MAX).await,
            (newest_first.clone(), 6)
        );
        assert_eq!(read_all(&journal, 1000, 100).await.0, newest_first);
        // A cursor in the middle of a segment starts the page right there.
        let plan = journal.plan_page(Some(20), 3, u64::MAX).await.unwrap();
        assert_eq!(plan.records.len(), 3);
        assert_eq!(plan.next, Some(17));
        stop(journal, writer).await;

        // After a restart the sequence numbers, and so the cursors, hold.
        let (journal, writer) = open_plain(dir.path(), 256, SyncPolicy::Always);
        append_numbers(&journal, 40..45).await;
        assert_eq!(
            read_all(&journal, 7, u64::MAX).await.0,
            (0..45).rev().collect::<Vec<_>>()
        );
        assert_eq!(journal_text(dir.path()).lines().count(), 45);
        stop(journal, writer).await;
    }

    #[tokio::test]
    async fn a_record_is_found_by_its_id_across_segments_and_restarts() {
        use crate::store::Record;
        use inlet_common::record::Stamp;
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open_plain(dir.path(), 512, SyncPolicy::Always);
        let mut stamps = Vec::new();
        for n in 0..60 {
            let stamp = Stamp::now();
            let fields = format!(r#"{{"n":{n}}}"#);
            let line = Record {
                stamp: &stamp,
                trace_id: None,
                size: fields.len() as u64,
                content_type: "application/json",
                client: None,
                fields: &fields,
            }
            .to_line();
            journal.append_anywhere(line).await.unwrap();
            stamps.push(stamp);
        }
        assert!(crate::store::segment_files(dir.path()).unwrap().len() > 3);
        stop(journal, writer).await;
        let (journal, writer) = open_plain(dir.path(), 512, SyncPolicy::Always);
        for (n, stamp) in stamps.iter().enumerate() {
            let found = journal.find(stamp.id).await.unwrap().expect("found");
            let value: serde_json::Value = serde_json::from_slice(&found).unwrap();
            assert_eq!(value["fields"]["n"], n, "{}", stamp.id);
        }
        assert_eq!(
            journal.find(Stamp::now().id).await.unwrap(),
            None,
            "a later id"
        );
        assert_eq!(
            journal.find(uuid::Uuid::nil()).await.unwrap(),
            None,
            "not a v7 id"
        );
        stop(journal, writer).await;
    }

    #[tokio::test]
    async fn interval_sync_rolls_too() {
        let dir = tempfile::tempdir().unwrap();
        let policy = SyncPolicy::Interval(std::time::Duration::from_millis(5));
        let (journal, writer) = open_plain(dir.path(), 256, policy);
        append_numbers(&journal, 0..20).await;
        assert!(crate::store::segment_files(dir.path()).unwrap().len() >= 3);
        assert_eq!(
            read_all(&journal, 50, u64::MAX).await.0,
            (0..20).rev().collect::<Vec<_>>()
        );
        stop(journal, writer).await;
    }

    #[tokio::test]
    async fn a_clean_restart_reads_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open_plain(dir.path(), 256, SyncPolicy::Always);
        append_numbers(&journal, 0..30).await;
        stop(journal, writer).await;
        let recovered = recovery::open(dir.path()).unwrap();
        assert_eq!(recovered.scanned, 0, "start-up used the indexes alone");
        let records: u64 = recovered.segments.iter().map(|s| s.count()).sum();
        assert_eq!(records, 30);
    }

    #[tokio::test]
    async fn a_lost_or_wrong_index_is_rebuilt_from_its_segment() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open_plain(dir.path(), 256, SyncPolicy::Always);
        append_numbers(&journal, 0..30).await;
        stop(journal, writer).await;
        let files = crate::store::segment_files(dir.path()).unwrap();
        // One index gone, one cut short mid-entry, one pointing at the wrong bytes.
        std::fs::remove_file(files[0].with_extension("idx")).unwrap();
        let cut = files[1].with_extension("idx");
        cut_to(&cut, std::fs::metadata(&cut).unwrap().len() - 5);
        let mut wrong = std::fs::read(files[2].with_extension("idx")).unwrap();
        let last = wrong.len() - ENTRY_BYTES as usize;
        wrong[last] += 1;
        std::fs::write(files[2].with_extension("idx"), wrong).unwrap();

        let (journal, writer) = open_plain(dir.path(), 256, SyncPolicy::Always);
        assert_eq!(
            read_all(&journal, 1000, u64::MAX).await.0,
            (0..30).rev().collect::<Vec<_>>()
        );
        stop(journal, writer).await;
    }

    #[tokio::test]
    async fn an_index_ahead_of_its_data_is_cut_to_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, writer) = open_plain(dir.path(), 1 << 20, SyncPolicy::Always);
        append_numbers(&journal, 0..5).await;
        stop(journal, writer).await;
        // What a machine crash with `interval` can leave: the index reached
        // the disk, the last records did not.
        let file = crate::store::segment_files(dir.path())
            .unwrap()
            .pop()
            .unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let keep = text.lines().take(3).map(|l| l.len() + 1).sum::<usize>() + 4;
        cut_to(&file, keep as u64);

        let (journal, writer) = open_plain(dir.path(), 1 << 20, SyncPolicy::Always);
        assert_eq!(read_all(&journal, 100, u64::MAX).await.0, [2, 1, 0]);
        append_numbers(&journal, 5..6).await;
        assert_eq!(read_all(&journal, 100, u64::MAX).await.0, [5, 2, 1, 0]);
        assert_eq!(
            journal_text(dir.path()).lines().count(),
            4,
            "the torn tail was cut"
        );
        stop(journal, writer).await;
    }

    #[tokio::test]
    async fn the_single_file_of_an_earlier_version_becomes_the_first_segment() {
        let dir = tempfile::tempdir().unwrap();
        let legacy: String = (0..3).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        std::fs::write(dir.path().join(crate::store::LEGACY_JOURNAL_FILE), &legacy).unwrap();
        let (journal, writer) = open_plain(dir.path(), 1 << 20, SyncPolicy::Always);
        assert!(!dir.path().join(crate::store::LEGACY_JOURNAL_FILE).exists());
        append_numbers(&journal, 3..4).await;
        assert_eq!(read_all(&journal, 100, u64::MAX).await.0, [3, 2, 1, 0]);
        stop(journal, writer).await;
    }
}
