//! Points inside a compaction or a retention drop where a test can stop the
//! work dead, as `kill -9` would: the files are left exactly as they are
//! at that point, and the test reopens the journal from them.

use std::sync::Mutex;

/// A step of rewriting or dropping segments, named after what is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// A compaction's copy of a segment is written and synced, not yet in place.
    CopyWritten,
    /// The old index is removed; the old data is still in place.
    OldIndexRemoved,
    /// The copy's data replaced the old data; its index is not in place yet.
    DataReplaced,
    /// Retention recorded the new first segment; nothing is removed yet.
    FirstKeptWritten,
    /// Retention removed one of the segments it drops.
    SegmentRemoved,
}

/// The crash point a test armed, if any (never in a running service).
#[derive(Debug, Default)]
pub(super) struct CrashPoints {
    armed: Mutex<Option<CrashPoint>>,
}

impl CrashPoints {
    /// Makes the next pass through `point` fail.
    pub fn arm(&self, point: CrashPoint) {
        *self.armed.lock().expect("crash point lock") = Some(point);
    }

    /// Fails (once) if `point` is armed, so the work stops right there.
    pub fn pass(&self, point: CrashPoint) -> std::io::Result<()> {
        let mut armed = self.armed.lock().expect("crash point lock");
        if *armed == Some(point) {
            *armed = None;
            return Err(std::io::Error::other(format!("stopped at {point:?}")));
        }
        Ok(())
    }
}
