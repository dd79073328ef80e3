//! Durable storage of submissions: one JSON line each, in segment files
//! under `<data_dir>/forms/journal/`.
//!
//! A single writer thread appends lines and fsyncs them in groups (group commit),
//! so concurrent posts never interleave and each is on disk before its reply.
//! Once a segment reaches `store.segment_bytes` the next batch starts a new
//! one. Each segment has an index of where its records sit, so pages are read
//! without scanning and start-up does not read the records at all.
//!
//! [`SubmissionStore`] is the seam the handlers use; [`Journal`] is the
//! default implementation of it and [`postgres::Postgres`] the one several
//! replicas can share; [`Store`] is whichever `store.backend` names.

mod backend;
mod compaction;
mod crash_point;
mod first_kept;
mod handoff;
mod journal;
mod lookup;
#[cfg(test)]
mod maintenance_tests;
pub mod postgres;
mod record;
mod recovery;
mod retention;
mod segment;
mod shared;
mod submission_store;
mod sync;
mod tombstones;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use backend::{Store, StoreEntry};
pub use compaction::Compacted;
pub use crash_point::CrashPoint;
pub use journal::{Entry, Journal, JournalSettings, JournalWriter, PagePlan};
pub use record::Record;
pub use retention::{Expired, RetentionPolicy};
pub use submission_store::{Page, Removed, SubmissionStore};
pub use sync::SyncPolicy;

/// Folder of the segments, inside the forms folder.
pub const JOURNAL_DIR: &str = "journal";

/// The single journal file of earlier versions; found at start-up, it is
/// moved into the segment folder as its first segment.
pub const LEGACY_JOURNAL_FILE: &str = "submissions.jsonl";

/// The data files of the journal in `forms_dir`, oldest first: read in this
/// order, their lines are every record in the order it was stored.
pub fn segment_files(forms_dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let segments = segment::list(&forms_dir.join(JOURNAL_DIR))?;
    Ok(segments.into_iter().map(|(_, path)| path).collect())
}

/// Why a submission could not be stored or read back.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Opening or recovering the journal failed.
    #[error("cannot open the journal {path}: {source}")]
    Open {
        /// The journal's path.
        path: String,
        /// The I/O failure.
        source: Arc<std::io::Error>,
    },
    /// Writing or fsyncing a batch failed; the batch was rolled back.
    #[error("writing the journal failed: {0}")]
    Write(Arc<std::io::Error>),
    /// Reading records back failed.
    #[error("reading the journal failed: {0}")]
    Read(Arc<std::io::Error>),
    /// The writer thread is gone (the service is shutting down).
    #[error("the journal writer has stopped")]
    Closed,
    /// The journal stopped taking writes: a failed batch could not be rolled
    /// back, and appending after what it left would corrupt the journal.
    #[error("the journal stopped taking writes: {0}")]
    Stopped(Arc<str>),
    /// The database could not be reached (or is shutting down, or out of
    /// room); the same request may succeed shortly.
    #[error("the database is not reachable: {0}")]
    Unavailable(Arc<str>),
    /// The database refused the statement.
    #[error("the database refused: {0}")]
    Database(Arc<str>),
}
