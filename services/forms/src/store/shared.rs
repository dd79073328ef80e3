//! What request handlers and the writer thread share: the segments and
//! whether the journal still takes writes. Its own module so that the
//! journal (which hands it out) and the writer (which changes it) both
//! depend on it, and not on each other.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use super::crash_point::CrashPoints;
use super::segment::Segment;
use super::tombstones::Tombstones;

/// State shared between request handlers and the writer thread.
pub(super) struct Shared {
    /// The segment folder.
    pub dir: PathBuf,
    /// Every segment, oldest first; the writer pushes a new one when it
    /// rolls, a compaction replaces one, retention drops the oldest.
    pub segments: RwLock<Vec<Arc<Segment>>>,
    /// Deleted records still in a segment.
    pub tombstones: Tombstones,
    /// Held while segments are rewritten or dropped: one at a time.
    pub maintenance: Mutex<()>,
    /// Where tests stop a compaction or a drop as a crash would.
    pub crash: CrashPoints,
    /// Why the writer stopped taking writes, once it has.
    stopped: OnceLock<Arc<str>>,
}

impl Shared {
    /// Shares `segments` (oldest first) of `dir`, taking writes.
    pub fn new(dir: PathBuf, segments: Vec<Arc<Segment>>, tombstones: Tombstones) -> Self {
        Self {
            dir,
            segments: RwLock::new(segments),
            tombstones,
            maintenance: Mutex::new(()),
            crash: CrashPoints::default(),
            stopped: OnceLock::new(),
        }
    }

    /// Records why the journal stopped taking writes (the first reason wins).
    pub fn stop(&self, why: String) {
        let _ = self.stopped.set(why.into());
    }

    /// Why the journal stopped taking writes, if it has.
    pub fn stopped(&self) -> Option<&Arc<str>> {
        self.stopped.get()
    }
}
