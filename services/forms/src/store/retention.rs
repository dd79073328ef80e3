//! Dropping whole sealed segments by age or by the journal's size.
//!
//! A segment goes when its newest record is older than `max_age`, or while
//! the journal is over `max_bytes` (oldest first). The segment being
//! appended to is never dropped. Dropping records the first segment kept
//! (`first_kept`) before removing anything, so sequence numbers of the
//! records that remain, and so every cursor, keep their meaning.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use inlet_common::retention::cutoff;
use uuid::Uuid;

use super::crash_point::{CrashPoint, CrashPoints};
use super::first_kept::{self, FirstKept};
use super::lookup;
use super::recovery;
use super::segment::{self, Segment};
use super::shared::Shared;
use super::tombstones::Tombstones;
use super::StoreError;

/// How long and how much the journal keeps; `None` keeps everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Segments whose newest record is older than this go.
    pub max_age: Option<Duration>,
    /// The oldest segments go while the journal's files are over this.
    pub max_bytes: Option<u64>,
}

/// What one pass of retention dropped, by why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expired {
    /// Records dropped because they were too old, and their bytes.
    pub by_age: (u64, u64),
    /// Records dropped to bring the journal under its size, and their bytes.
    pub by_size: (u64, u64),
    /// Segments dropped.
    pub segments: usize,
    /// The id of the newest record dropped (every older one is gone too).
    pub last_id: Option<Uuid>,
}

impl Expired {
    /// Records dropped in all.
    pub fn records(&self) -> u64 {
        self.by_age.0 + self.by_size.0
    }
}

/// Drops the sealed segments `policy` says are past keeping, as of `now`.
pub(super) fn expire(
    dir: &Path,
    shared: &Shared,
    tombstones: &Tombstones,
    crash: &CrashPoints,
    policy: RetentionPolicy,
    now: SystemTime,
) -> Result<Expired, StoreError> {
    let read_error = |e: std::io::Error| StoreError::Read(Arc::new(e));
    let write_error = |e: std::io::Error| StoreError::Write(Arc::new(e));
    let mut expired = Expired::default();
    if policy.max_age.is_none() && policy.max_bytes.is_none() {
        return Ok(expired);
    }
    let segments = shared.segments.read().expect("segments lock").clone();
    let sizes = segments
        .iter()
        .map(|segment| segment.bytes())
        .collect::<std::io::Result<Vec<u64>>>()
        .map_err(read_error)?;
    let mut total: u64 = sizes.iter().sum();
    let cutoff_ms = cutoff(now, policy.max_age).map(|since| since.as_millis() as u64);
    let mut drop = 0;
    let sealed = segments.len().saturating_sub(1);
    for (segment, &bytes) in segments[..sealed].iter().zip(&sizes) {
        let newest = newest_record(segment)?;
        let too_old = cutoff_ms.is_some_and(|cutoff| newest.map_or(0, |(_, ms)| ms) < cutoff);
        let too_big = policy.max_bytes.is_some_and(|max| total > max);
        if !too_old && !too_big {
            break;
        }
        let records = segment.count();
        let tally = if too_old {
            &mut expired.by_age
        } else {
            &mut expired.by_size
        };
        tally.0 += records;
        tally.1 += bytes;
        total -= bytes;
        drop += 1;
        if let Some((id, _)) = newest {
            expired.last_id = Some(id);
        }
    }
    if drop == 0 {
        return Ok(expired);
    }
    let first = &segments[drop];
    first_kept::write(
        dir,
        FirstKept {
            serial: first.serial,
            first_seq: first.first_seq,
        },
    )
    .map_err(write_error)?;
    crash
        .pass(CrashPoint::FirstKeptWritten)
        .map_err(write_error)?;
    shared
        .segments
        .write()
        .expect("segments lock")
        .retain(|s| s.serial >= first.serial);
    // The removals need no fsync of their own: should a crash undo one,
    // start-up removes the segment again, as `first` says.
    for segment in &segments[..drop] {
        recovery::remove_segment_files(&dir.join(segment::data_name(segment.serial)))
            .map_err(write_error)?;
        crash
            .pass(CrashPoint::SegmentRemoved)
            .map_err(write_error)?;
    }
    tombstones
        .forget_before(first.first_seq)
        .map_err(write_error)?;
    expired.segments = drop;
    Ok(expired)
}

/// The id and time (unix ms) of a segment's newest record; `None` when it
/// is empty or its newest line carries no id of ours.
fn newest_record(segment: &Segment) -> Result<Option<(Uuid, u64)>, StoreError> {
    let count = segment.count();
    if count == 0 {
        return Ok(None);
    }
    let Some(span) = segment.spans(count - 1, count)?.pop() else {
        return Ok(None);
    };
    Ok(lookup::id_at(segment, span)?.and_then(|id| lookup::millis_of(id).map(|ms| (id, ms))))
}

/// Milliseconds since the Unix epoch (0 before it).
pub(super) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
