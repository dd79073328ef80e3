//! Deleted submissions: a durable list of tombstones beside the segments.
//!
//! Deleting a submission appends `<sequence> <id> <unix ms>` to
//! `journal/deleted` and fdatasyncs it before the delete is answered; from
//! then on every read skips the record. Its bytes stay in the segment until
//! a compaction rewrites the segment with an erased line in its place (same
//! sequence number, so every other cursor holds). A tombstone is kept while
//! its segment is; when retention drops the segment, the tombstone goes too.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use uuid::Uuid;

/// The tombstone file's name in the journal folder.
pub(super) const FILE: &str = "deleted";

/// One deleted record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tombstone {
    /// The record's id.
    pub id: Uuid,
    /// When it was deleted (unix milliseconds).
    pub deleted_at_ms: u64,
}

/// Sequence number → tombstone, for every deleted record still in a segment.
pub(super) type Deleted = BTreeMap<u64, Tombstone>;

/// The tombstones: a snapshot for readers, and the file for the one writer.
pub(super) struct Tombstones {
    path: PathBuf,
    /// Replaced whole on each change, so a reader holds a consistent view
    /// for as long as it needs without blocking deletes.
    snapshot: RwLock<Arc<Deleted>>,
    file: Mutex<File>,
}

impl Tombstones {
    /// Loads `dir/deleted` (creating it). A last line without its newline
    /// is a delete that was never answered; it is cut off.
    pub fn open(dir: &Path) -> std::io::Result<Self> {
        let path = dir.join(FILE);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        let mut deleted = Deleted::new();
        let mut whole = 0u64;
        let mut reader = BufReader::new(file.try_clone()?);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            whole += n as u64;
            match parse(line.trim_end()) {
                Some((seq, tombstone)) => {
                    deleted.insert(seq, tombstone);
                }
                None => {
                    tracing::warn!(path = %path.display(), line = %line.trim_end(), "skipping a tombstone line that does not parse")
                }
            }
        }
        if file.metadata()?.len() > whole {
            file.set_len(whole)?;
            file.sync_data()?;
        }
        Ok(Self {
            path,
            snapshot: RwLock::new(Arc::new(deleted)),
            file: Mutex::new(file),
        })
    }

    /// Every tombstone now.
    pub fn snapshot(&self) -> Arc<Deleted> {
        Arc::clone(&self.snapshot.read().expect("tombstones lock"))
    }

    /// Whether the record at `seq` is deleted.
    pub fn contains(&self, seq: u64) -> bool {
        self.snapshot
            .read()
            .expect("tombstones lock")
            .contains_key(&seq)
    }

    /// Makes the deletion of the record at `seq` durable, then hides it
    /// from reads. False when it was already deleted.
    pub fn add(&self, seq: u64, tombstone: Tombstone) -> std::io::Result<bool> {
        let mut file = self.file.lock().expect("tombstone file lock");
        if self.contains(seq) {
            return Ok(false);
        }
        file.write_all(format_line(seq, tombstone).as_bytes())?;
        file.sync_data()?;
        let mut snapshot = self.snapshot.write().expect("tombstones lock");
        let mut next = Deleted::clone(&snapshot);
        next.insert(seq, tombstone);
        *snapshot = Arc::new(next);
        Ok(true)
    }

    /// Forgets every tombstone below `first_seq` (their segments are gone):
    /// the file is rewritten beside itself and renamed over, so a crash
    /// leaves the old list or the new one.
    pub fn forget_before(&self, first_seq: u64) -> std::io::Result<()> {
        let mut file = self.file.lock().expect("tombstone file lock");
        let current = self.snapshot();
        if current.range(..first_seq).next().is_none() {
            return Ok(());
        }
        let kept: Deleted = current.range(first_seq..).map(|(k, v)| (*k, *v)).collect();
        let text: String = kept.iter().map(|(seq, t)| format_line(*seq, *t)).collect();
        let temporary = self.path.with_extension("rewrite");
        {
            let mut out = File::create(&temporary)?;
            out.write_all(text.as_bytes())?;
            out.sync_all()?;
        }
        std::fs::rename(&temporary, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        *file = OpenOptions::new().append(true).open(&self.path)?;
        *self.snapshot.write().expect("tombstones lock") = Arc::new(kept);
        Ok(())
    }
}

fn format_line(seq: u64, tombstone: Tombstone) -> String {
    format!(
        "{seq} {} {}\n",
        tombstone.id.hyphenated(),
        tombstone.deleted_at_ms
    )
}

fn parse(line: &str) -> Option<(u64, Tombstone)> {
    let mut parts = line.split(' ');
    let seq = parts.next()?.parse().ok()?;
    let id = Uuid::try_parse(parts.next()?).ok()?;
    let deleted_at_ms = parts.next()?.parse().ok()?;
    parts
        .next()
        .is_none()
        .then_some((seq, Tombstone { id, deleted_at_ms }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tombstone(n: u128) -> Tombstone {
        Tombstone {
            id: Uuid::from_u128(n),
            deleted_at_ms: 1_000 + n as u64,
        }
    }

    #[test]
    fn tombstones_survive_a_reopen_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let stones = Tombstones::open(dir.path()).unwrap();
        assert!(stones.add(3, tombstone(3)).unwrap());
        assert!(!stones.add(3, tombstone(3)).unwrap(), "already deleted");
        assert!(stones.add(9, tombstone(9)).unwrap());
        drop(stones);
        // A crash mid-append leaves a line without its newline.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE))
            .unwrap();
        file.write_all(b"12 0000").unwrap();
        let stones = Tombstones::open(dir.path()).unwrap();
        let snapshot = stones.snapshot();
        assert_eq!(
            snapshot.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(),
            [(3, tombstone(3)), (9, tombstone(9))]
        );
        assert!(stones.add(12, tombstone(12)).unwrap());
        drop(stones);
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    #[test]
    fn forgetting_keeps_the_later_tombstones_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let stones = Tombstones::open(dir.path()).unwrap();
        for seq in [1, 5, 8] {
            stones.add(seq, tombstone(u128::from(seq))).unwrap();
        }
        stones.forget_before(6).unwrap();
        stones.add(10, tombstone(10)).unwrap();
        assert!(!stones.contains(5));
        drop(stones);
        let stones = Tombstones::open(dir.path()).unwrap();
        assert_eq!(
            stones.snapshot().keys().copied().collect::<Vec<_>>(),
            [8, 10]
        );
    }
}
