//! Erasing deleted submissions from the disk: a compaction rewrites each
//! segment that holds one, with a short erased line in the record's place.
//!
//! The erased line keeps the record's id and its place, so sequence numbers
//! (the cursors of `/submissions`) and every other record stay exactly as
//! they were, byte for byte. The rewrite goes to a copy beside the segment,
//! synced, then renamed over it: the old index is removed first, so a crash
//! at any point leaves the old segment or the new one, each with its own
//! index or none (start-up rebuilds a missing index from the data). Readers
//! that were already reading the old segment finish from its open handles;
//! its bytes leave the disk once they are done.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use uuid::Uuid;

use super::crash_point::{CrashPoint, CrashPoints};
use super::segment::{self, Segment, Span};
use super::shared::Shared;
use super::tombstones::{Deleted, Tombstones};
use super::StoreError;

/// What one compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compacted {
    /// Segments rewritten.
    pub segments: usize,
    /// Records erased.
    pub records: usize,
    /// Bytes the rewrites gave back.
    pub bytes: u64,
}

/// The line an erased record leaves in its place.
pub(super) fn erased_line(id: Uuid) -> Vec<u8> {
    format!("{{\"id\":\"{}\",\"erased\":true}}\n", id.hyphenated()).into_bytes()
}

/// A record to erase: its place in the segment, where it is, and the
/// erased line that takes its place.
#[derive(Debug, Clone)]
struct Erase {
    local: u64,
    span: Span,
    line: Vec<u8>,
}

/// Rewrites every segment holding a deleted record whose deletion is at
/// least as old as `due_ms` (unix ms), erasing all of that segment's
/// deleted records at once. The segment being appended to is sealed first
/// when it holds one (`seal` asks the writer).
pub(super) fn compact(
    dir: &Path,
    shared: &Shared,
    tombstones: &Tombstones,
    crash: &CrashPoints,
    due_ms: u64,
    seal: impl FnOnce() -> Result<(), StoreError>,
) -> Result<Compacted, StoreError> {
    let deleted = tombstones.snapshot();
    let is_due = |from: u64, to: u64| {
        deleted
            .range(from..to)
            .any(|(_, stone)| stone.deleted_at_ms <= due_ms)
    };
    let mut segments = shared.segments.read().expect("segments lock").clone();
    if let Some(active) = segments.last() {
        if is_due(active.first_seq, u64::MAX) && !to_erase(active, &deleted)?.is_empty() {
            seal()?;
            segments = shared.segments.read().expect("segments lock").clone();
        }
    }
    let mut done = Compacted::default();
    let sealed = segments.len().saturating_sub(1);
    for segment in &segments[..sealed] {
        if !is_due(segment.first_seq, segment.end_seq()) {
            continue;
        }
        let erase = to_erase(segment, &deleted)?;
        if erase.is_empty() {
            continue;
        }
        let (rewritten, freed) =
            rewrite(dir, segment, &erase, crash).map_err(|e| StoreError::Write(Arc::new(e)))?;
        replace(shared, rewritten);
        done.segments += 1;
        done.records += erase.len();
        done.bytes += freed;
        tracing::debug!(
            serial = segment.serial,
            erased = erase.len(),
            "compacted a journal segment"
        );
    }
    Ok(done)
}

/// The deleted records of `segment` whose bytes are still there.
fn to_erase(segment: &Segment, deleted: &Deleted) -> Result<Vec<Erase>, StoreError> {
    let mut erase = Vec::new();
    for (seq, stone) in deleted.range(segment.first_seq..segment.end_seq()) {
        let local = seq - segment.first_seq;
        let Some(span) = segment.spans(local, local + 1)?.pop() else {
            continue;
        };
        let line = erased_line(stone.id);
        if span.len as usize == line.len() && segment.read_raw(span)? == line {
            continue;
        }
        erase.push(Erase { local, span, line });
    }
    Ok(erase)
}

/// Writes `segment` without the records of `erase` beside it, then puts the
/// copy in its place; returns readers' view of the new segment and the
/// bytes given back.
fn rewrite(
    dir: &Path,
    segment: &Segment,
    erase: &[Erase],
    crash: &CrashPoints,
) -> std::io::Result<(Arc<Segment>, u64)> {
    let data_path = dir.join(segment::data_name(segment.serial));
    let index_path = segment::index_path(&data_path);
    let (data_copy, index_copy) = (
        segment::copy_path(&data_path),
        segment::copy_path(&index_path),
    );
    let count = segment.count();
    let spans = segment
        .spans(0, count)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let source = segment.data_handle()?;
    let source_len = source.metadata()?.len();

    // The data: every byte as it was, but each erased record's line.
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&data_copy)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0;
    let mut freed = 0u64;
    for item in erase {
        copy_range(&source, at, item.span.offset, &mut buf, &mut out)?;
        out.write_all(&item.line)?;
        freed += u64::from(item.span.len).saturating_sub(item.line.len() as u64);
        at = item.span.end();
    }
    copy_range(&source, at, source_len, &mut buf, &mut out)?;
    let data = out.into_inner().map_err(|e| e.into_error())?;
    data.sync_all()?;

    // The index: the same records, moved up by what was erased before them.
    let mut entries = Vec::with_capacity((count * segment::ENTRY_BYTES) as usize);
    let mut shift = 0u64;
    let mut next = erase.iter().peekable();
    for (local, span) in spans.iter().enumerate() {
        let offset = span.offset - shift;
        let len = match next.next_if(|item| item.local == local as u64) {
            Some(item) => {
                let len = item.line.len() as u32;
                shift += u64::from(span.len - len);
                len
            }
            None => span.len,
        };
        Span { offset, len }.encode(&mut entries);
    }
    let mut index = File::create(&index_copy)?;
    index.write_all(&entries)?;
    index.sync_all()?;
    crash.pass(CrashPoint::CopyWritten)?;

    // Into place: old index out first, so no index ever describes the wrong data.
    match std::fs::remove_file(&index_path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    crash.pass(CrashPoint::OldIndexRemoved)?;
    std::fs::rename(&data_copy, &data_path)?;
    crash.pass(CrashPoint::DataReplaced)?;
    std::fs::rename(&index_copy, &index_path)?;
    File::open(dir)?.sync_all()?;

    let reopened = Segment::new(
        segment.serial,
        segment.first_seq,
        OpenOptions::new().read(true).open(&data_path)?,
        OpenOptions::new().read(true).open(&index_path)?,
        count,
    );
    Ok((Arc::new(reopened), freed))
}

/// Copies bytes `from..to` of `source` to `out` through `buf`.
fn copy_range(
    source: &File,
    from: u64,
    to: u64,
    buf: &mut [u8],
    out: &mut impl Write,
) -> std::io::Result<()> {
    let mut at = from;
    while at < to {
        let n = ((to - at) as usize).min(buf.len());
        source.read_exact_at(&mut buf[..n], at)?;
        out.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

/// Puts `rewritten` in the place of the segment with its serial.
fn replace(shared: &Shared, rewritten: Arc<Segment>) {
    let mut segments = shared.segments.write().expect("segments lock");
    if let Some(slot) = segments.iter_mut().find(|s| s.serial == rewritten.serial) {
        *slot = rewritten;
    }
}
