//! One record by its id, without an index of ids.
//!
//! A submission's id is a UUIDv7: its first 48 bits are the millisecond it
//! was stamped, just before it was appended. So records are in id-time
//! order within the few milliseconds a batch takes, and a binary search on
//! the time of the records' ids finds where the id must be; a short scan
//! around it, within [`SKEW_MS`], finds the record itself. Only the head of
//! each record probed is read (its id comes first in the line).

use std::sync::Arc;

use uuid::Uuid;

use super::segment::{Segment, Span};
use super::StoreError;

/// How far apart (ms) the stamp of a record and its place in the journal
/// may be: far more than the time between stamping and appending.
const SKEW_MS: u64 = 2_000;

/// `{"id":"` then the 36-character id.
const ID_START: usize = 7;
const ID_END: usize = ID_START + 36;

/// Where a record found by its id is.
#[derive(Debug, Clone)]
pub(super) struct Found {
    /// Its sequence number.
    pub seq: u64,
    pub segment: Arc<Segment>,
    pub span: Span,
}

/// Where the record with `id` is in `segments` (oldest first).
pub(super) fn find(segments: &[Arc<Segment>], id: Uuid) -> Result<Option<Found>, StoreError> {
    let Some(target) = millis_of(id) else {
        return Ok(None);
    };
    let oldest = segments.first().map_or(0, |s| s.first_seq);
    let total = segments.last().map_or(0, |s| s.end_seq());
    let at = |seq: u64| -> Result<Option<(Arc<Segment>, Span)>, StoreError> {
        let Some(segment) = segments
            .iter()
            .find(|s| s.first_seq <= seq && seq < s.end_seq())
        else {
            return Ok(None);
        };
        let local = seq - segment.first_seq;
        Ok(segment
            .spans(local, local + 1)?
            .into_iter()
            .next()
            .map(|span| (Arc::clone(segment), span)))
    };
    let head_of = |seq: u64| -> Result<Option<(Uuid, Arc<Segment>, Span)>, StoreError> {
        let Some((segment, span)) = at(seq)? else {
            return Ok(None);
        };
        Ok(id_at(&segment, span)?.map(|found| (found, segment, span)))
    };
    let from = target.saturating_sub(SKEW_MS);
    // The first record stamped at `from` or later (a record whose head does
    // not read as an id counts as older).
    let (mut low, mut high) = (oldest, total);
    while low < high {
        let middle = low + (high - low) / 2;
        let millis = head_of(middle)?
            .and_then(|(found, ..)| millis_of(found))
            .unwrap_or(0);
        if millis < from {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    let mut seq = low;
    while seq < total {
        if let Some((found, segment, span)) = head_of(seq)? {
            if found == id {
                return Ok(Some(Found { seq, segment, span }));
            }
            if millis_of(found).is_some_and(|millis| millis > target + SKEW_MS) {
                break;
            }
        }
        seq += 1;
    }
    Ok(None)
}

/// The id at the head of the record at `span`; `None` when it does not
/// start with one.
pub(super) fn id_at(segment: &Segment, span: Span) -> Result<Option<Uuid>, StoreError> {
    let head = segment.read_head(span, ID_END)?;
    Ok(head
        .get(ID_START..ID_END)
        .and_then(|text| std::str::from_utf8(text).ok())
        .and_then(|text| Uuid::parse_str(text).ok()))
}

/// The millisecond a UUIDv7 was made; `None` for another version.
pub(super) fn millis_of(id: Uuid) -> Option<u64> {
    if id.get_version_num() != 7 {
        return None;
    }
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    Some(seconds * 1000 + u64::from(nanos) / 1_000_000)
}
