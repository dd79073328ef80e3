//! The journal's writer thread: group commit into the last segment, and a
//! new segment once the last reaches `store.segment_bytes`.

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::handoff::{Handback, Outcome, Reply};
use super::recovery::{self, ActiveFiles};
use super::segment::{Segment, Span};
use super::shared::Shared;
use super::sync::{SyncPolicy, Syncer};
use super::StoreError;
use crate::metrics::JournalMetrics;

/// One line waiting for the writer, and where to say it is durable.
pub(super) struct Pending {
    pub line: Vec<u8>,
    pub reply: Reply,
}

/// What the writer thread is asked to do.
pub(super) enum Command {
    Append(Pending),
    /// Seal the segment being appended to (if it holds anything) so a
    /// compaction may rewrite it; answered once a new one is started.
    Seal(oneshot::Sender<std::io::Result<()>>),
    /// Write what is queued, then stop.
    Close,
}

/// What the writer needs of a segment's data file: the file itself, or in
/// tests one that fails on cue.
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

/// How the writer writes.
pub(super) struct WriterSettings<W> {
    pub max_batch: usize,
    pub segment_bytes: u64,
    pub sync: SyncPolicy,
    /// Turns each segment's data file into what the writer writes to.
    pub wrap: W,
}

/// The segment being appended to.
struct Active<F> {
    data: F,
    index: File,
    /// Bytes of whole records in `data`.
    len: u64,
    /// Readers' view of it; its count is raised after each batch.
    segment: Arc<Segment>,
}

/// The writer thread's body. Takes whatever lines are queued (up to
/// `max_batch`), writes them with one write and (with `store.sync =
/// "always"`) one fsync, adds their index entries, then acknowledges each;
/// with `"interval"` the syncer fsyncs behind it. A failed batch is cut back
/// off the files so no partial record stays behind; if that fails too (or the
/// syncer's fsync fails), the writer stops for good rather than append after
/// what it cannot vouch for.
pub(super) fn run<F, W>(
    files: ActiveFiles,
    rx: mpsc::Receiver<Command>,
    shared: &Arc<Shared>,
    settings: WriterSettings<W>,
    metrics: &JournalMetrics,
) where
    F: JournalFile,
    W: Fn(File) -> F,
{
    let ActiveFiles {
        dir,
        segment,
        data,
        index,
        len,
    } = files;
    let active = Active {
        data: (settings.wrap)(data),
        index,
        len,
        segment,
    };
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
                stopped.stop(format!("an fdatasync of the journal failed ({err})"));
            };
            match active
                .data
                .handle()
                .and_then(|h| Syncer::start(h, every, metrics.fsync_seconds.clone(), failed))
            {
                Ok(syncer) => Some(syncer),
                Err(err) => {
                    tracing::error!(error = %err, "journal stopped taking writes: cannot start its syncer");
                    shared.stop(format!("the journal's syncer could not start ({err})"));
                    return;
                }
            }
        }
    };
    let mut writer = Writer {
        active,
        dir,
        shared,
        syncer: syncer.as_ref(),
        metrics,
        wrap: &settings.wrap,
        segment_bytes: settings.segment_bytes,
    };
    writer.write_batches(rx, settings.max_batch);
    if let Some(syncer) = syncer {
        syncer.finish();
    }
}

/// Whether the writer goes on after a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// Buffers reused from batch to batch.
#[derive(Default)]
struct Scratch {
    /// The batch's records, as written.
    buf: Vec<u8>,
    /// Their index entries.
    entries: Vec<u8>,
    handback: Handback,
}

impl Scratch {
    /// Fills the buffers with `batch`'s records starting at `offset` in the
    /// segment; returns the offset after the last.
    fn fill(&mut self, mut offset: u64, batch: &[Pending]) -> u64 {
        self.buf.clear();
        self.entries.clear();
        for pending in batch {
            let span = Span {
                offset,
                len: pending.line.len() as u32,
            };
            span.encode(&mut self.entries);
            offset = span.end();
            self.buf.extend_from_slice(&pending.line);
        }
        offset
    }
}

/// The writer's state between batches.
struct Writer<'a, F, W> {
    active: Active<F>,
    dir: std::path::PathBuf,
    shared: &'a Shared,
    /// Set for the `interval` policy.
    syncer: Option<&'a Syncer>,
    metrics: &'a JournalMetrics,
    wrap: &'a W,
    segment_bytes: u64,
}

impl<F: JournalFile, W: Fn(File) -> F> Writer<'_, F, W> {
    fn write_batches(&mut self, mut rx: mpsc::Receiver<Command>, max_batch: usize) {
        let mut batch: Vec<Pending> = Vec::with_capacity(max_batch);
        let mut scratch = Scratch::default();
        let mut seals = Vec::new();
        let mut closing = false;
        while !closing {
            match rx.blocking_recv() {
                Some(Command::Append(first)) => batch.push(first),
                Some(Command::Seal(done)) => {
                    self.seal(done);
                    continue;
                }
                Some(Command::Close) | None => break,
            }
            closing = gather(&mut rx, &mut batch, &mut seals, max_batch);
            if !closing && batch.len() < max_batch {
                std::thread::yield_now();
                closing = gather(&mut rx, &mut batch, &mut seals, max_batch);
            }
            self.metrics.queue_depth.set(rx.len() as i64);
            self.metrics.batch_size.observe(batch.len() as f64);
            if self.write_batch(&mut batch, &mut scratch) == Flow::Stop {
                // Dropping the queue fails every waiting append with the reason.
                return;
            }
            for done in seals.drain(..) {
                self.seal(done);
            }
        }
    }

    /// Starts a new segment if the active one holds anything, and says so.
    fn seal(&mut self, done: oneshot::Sender<std::io::Result<()>>) {
        let sealed = if self.active.len > 0 && self.shared.stopped().is_none() {
            self.roll()
        } else {
            Ok(())
        };
        let _ = done.send(sealed);
    }

    /// Writes one batch as one group commit and answers every append in it.
    fn write_batch(&mut self, batch: &mut Vec<Pending>, scratch: &mut Scratch) -> Flow {
        let handback = &mut scratch.handback;
        if let Some(why) = self.shared.stopped() {
            // The syncer failed: nothing more goes in after what it could not vouch for.
            let refused = StoreError::Stopped(Arc::clone(why));
            answer_all(handback, batch, |_| Err(refused.clone()));
            return Flow::Stop;
        }
        let bytes: u64 = batch.iter().map(|p| p.line.len() as u64).sum();
        if self.active.len > 0 && self.active.len + bytes > self.segment_bytes {
            if let Err(err) = self.roll() {
                tracing::error!(error = %err, "cannot start a new journal segment; refusing this batch");
                let refused = StoreError::Write(Arc::new(err));
                answer_all(handback, batch, |_| Err(refused.clone()));
                return Flow::Go;
            }
        }
        let end = scratch.fill(self.active.len, batch);
        match self.commit(&scratch.buf, &scratch.entries) {
            Ok(()) => {
                let first_seq = self.active.segment.end_seq();
                self.active.len = end;
                self.active.segment.grow(batch.len() as u64);
                tracing::debug!(
                    records = batch.len(),
                    bytes = scratch.buf.len(),
                    "journal batch committed"
                );
                answer_all(&mut scratch.handback, batch, |i| Ok(first_seq + i));
                Flow::Go
            }
            Err(err) => self.roll_back(err, batch, &mut scratch.handback),
        }
    }

    /// A batch failed: cuts it back off the segment and refuses its appends.
    /// If the cut fails too, the journal stops taking writes.
    fn roll_back(
        &mut self,
        err: io::Error,
        batch: &mut Vec<Pending>,
        handback: &mut Handback,
    ) -> Flow {
        tracing::error!(error = %err, records = batch.len(), "journal batch failed; rolling back");
        let cut = self.cut_back();
        let refused = StoreError::Write(Arc::new(err));
        answer_all(handback, batch, |_| Err(refused.clone()));
        let Err(cut) = cut else {
            return Flow::Go;
        };
        tracing::error!(
            error = %cut,
            length = self.active.len,
            "journal stopped taking writes: rolling back a failed batch failed, \
             and appending after what it left would corrupt the journal"
        );
        self.shared.stop(format!(
            "a failed batch could not be cut back off the journal ({cut}); \
             a restart recovers it"
        ));
        Flow::Stop
    }

    /// Writes a batch's records (and, for `always`, fdatasyncs them), then
    /// their index entries.
    fn commit(&mut self, buf: &[u8], entries: &[u8]) -> std::io::Result<()> {
        let data = &mut self.active.data;
        match self.syncer {
            None => {
                let started = std::time::Instant::now();
                let written = data.append(buf).and_then(|()| data.sync());
                self.metrics
                    .fsync_seconds
                    .observe(started.elapsed().as_secs_f64());
                written?;
            }
            Some(syncer) => {
                data.append(buf)?;
                syncer.mark_dirty();
            }
        }
        self.active.index.write_all(entries)
    }

    /// Takes a failed batch back off the data and index files.
    fn cut_back(&mut self) -> std::io::Result<()> {
        self.active.data.cut_back(self.active.len)?;
        let indexed = self.active.segment.count() * super::segment::ENTRY_BYTES;
        self.active.index.set_len(indexed)
    }

    /// Seals the last segment (its data and index on disk) and starts the next.
    fn roll(&mut self) -> std::io::Result<()> {
        self.active.data.sync()?;
        self.active.index.sync_data()?;
        let old = &self.active.segment;
        let serial = old.serial + 1;
        let (data, index) = recovery::create_segment(&self.dir, serial)?;
        let segment = Arc::new(Segment::new(
            serial,
            old.end_seq(),
            data.try_clone()?,
            index.try_clone()?,
            0,
        ));
        let data = (self.wrap)(data);
        if let Some(syncer) = self.syncer {
            syncer.switch_to(data.handle()?);
        }
        tracing::info!(
            serial,
            first_sequence = segment.first_seq,
            sealed_bytes = self.active.len,
            "journal started a new segment"
        );
        let count = {
            let mut segments = self.shared.segments.write().expect("segments lock");
            segments.push(Arc::clone(&segment));
            segments.len()
        };
        self.metrics.segments.set(count as i64);
        self.active = Active {
            data,
            index,
            len: 0,
            segment,
        };
        Ok(())
    }
}

/// Answers every append of `batch` (the `i`th with `outcome(i)`) and wakes
/// the threads waiting on them.
fn answer_all(handback: &mut Handback, batch: &mut Vec<Pending>, outcome: impl Fn(u64) -> Outcome) {
    for (i, pending) in batch.drain(..).enumerate() {
        handback.answer(pending.reply, outcome(i as u64));
    }
    handback.flush();
}

/// Moves queued appends into `batch` (up to `max_batch`) and seal requests
/// into `seals` without waiting; true when a close was asked for.
fn gather(
    rx: &mut mpsc::Receiver<Command>,
    batch: &mut Vec<Pending>,
    seals: &mut Vec<oneshot::Sender<std::io::Result<()>>>,
    max_batch: usize,
) -> bool {
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(Command::Append(next)) => batch.push(next),
            Ok(Command::Seal(done)) => seals.push(done),
            Ok(Command::Close) => return true,
            Err(_) => return false,
        }
    }
    false
}
