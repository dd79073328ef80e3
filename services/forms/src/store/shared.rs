//! What request handlers and the writer thread share: the segments and
//! whether the journal still takes writes. Its own module so that the
//! journal (which hands it out) and the writer (which changes it) both
//! depend on it, and not on each other.

use std::sync::{Arc, OnceLock, RwLock};

use super::segment::Segment;

/// State shared between request handlers and the writer thread.
pub(super) struct Shared {
    /// Every segment, oldest first; the writer pushes a new one when it rolls.
    pub segments: RwLock<Vec<Arc<Segment>>>,
    /// Why the writer stopped taking writes, once it has.
    stopped: OnceLock<Arc<str>>,
}

impl Shared {
    /// Shares `segments` (oldest first), taking writes.
    pub fn new(segments: Vec<Arc<Segment>>) -> Self {
        Self {
            segments: RwLock::new(segments),
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
