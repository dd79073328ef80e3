//! Durable storage of submissions: one JSON line each in `<data_dir>/forms/submissions.jsonl`.
//!
//! A single writer thread appends lines and fsyncs them in groups (group commit),
//! so concurrent posts never interleave and each is on disk before its reply.
//! An index of line offsets, rebuilt at start-up, serves newest-first pages.

mod journal;
mod record;
mod recovery;
mod sync;

use std::sync::Arc;

pub use journal::{Journal, JournalSettings, JournalWriter, PagePlan};
pub use record::Record;
pub use sync::SyncPolicy;

/// File name of the journal inside the forms folder.
pub const JOURNAL_FILE: &str = "submissions.jsonl";

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
}

/// Where one record sits in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    offset: u64,
    /// Length including the trailing newline.
    len: u32,
}
