//! Which stored files retention removes: the oldest first, for being older
//! than `store.retention_max_age`, then while more than
//! `store.retention_max_files` are stored, then while they take more than
//! `store.retention_max_bytes`. A file's age is its modification time: the
//! moment it was stored.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use inlet_common::retention::{cutoff, Reason};

use super::listing::{scan, Cursor};

/// How long and how much the store keeps; `None` keeps everything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Files older than this go.
    pub max_age: Option<Duration>,
    /// The oldest go while all files together are over this.
    pub max_bytes: Option<u64>,
    /// The oldest go while there are more than this many.
    pub max_files: Option<u64>,
}

impl RetentionPolicy {
    /// Whether it keeps everything.
    pub fn keeps_all(&self) -> bool {
        self.max_age.is_none() && self.max_bytes.is_none() && self.max_files.is_none()
    }
}

/// A file retention removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    /// Its stored name.
    pub name: String,
    /// Its size.
    pub bytes: u64,
    /// Which rule removes it.
    pub reason: Reason,
}

/// The files in `dir` that `policy` no longer keeps as of `now`, oldest
/// first. Blocking.
pub fn choose(dir: &Path, policy: RetentionPolicy, now: SystemTime) -> io::Result<Vec<Expired>> {
    if policy.keeps_all() {
        return Ok(Vec::new());
    }
    Ok(choose_from(scan(dir)?, policy, now))
}

/// What `policy` removes as of `now` from `files` (each with its size),
/// whatever keeps them.
pub(super) fn choose_from(
    mut files: Vec<(Cursor, u64)>,
    policy: RetentionPolicy,
    now: SystemTime,
) -> Vec<Expired> {
    if policy.keeps_all() {
        return Vec::new();
    }
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let cutoff = cutoff(now, policy.max_age).map(|since| since.as_nanos());
    let mut count = files.len() as u64;
    let mut total: u64 = files.iter().map(|(_, size)| size).sum();
    let mut expired = Vec::new();
    for (cursor, bytes) in files {
        let reason = if cutoff.is_some_and(|cutoff| cursor.nanos < cutoff) {
            Reason::MaxAge
        } else if policy.max_files.is_some_and(|max| count > max) {
            Reason::MaxFiles
        } else if policy.max_bytes.is_some_and(|max| total > max) {
            Reason::MaxBytes
        } else {
            break;
        };
        count -= 1;
        total -= bytes;
        expired.push(Expired {
            name: cursor.name,
            bytes,
            reason,
        });
    }
    expired
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use super::*;

    /// Stores `name` with `len` bytes, last modified `age` before `now`.
    fn file(dir: &Path, name: &str, len: usize, now: SystemTime, age: Duration) {
        std::fs::write(dir.join(name), vec![b'x'; len]).unwrap();
        File::options()
            .write(true)
            .open(dir.join(name))
            .unwrap()
            .set_modified(now - age)
            .unwrap();
    }

    fn names(expired: &[Expired]) -> Vec<(&str, Reason)> {
        expired
            .iter()
            .map(|e| (e.name.as_str(), e.reason))
            .collect()
    }

    #[test]
    fn each_rule_removes_the_oldest_first_and_no_more_than_it_must() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        file(dir.path(), "a.txt", 100, now, 50 * hour);
        file(dir.path(), "b.txt", 100, now, 30 * hour);
        file(dir.path(), "c.txt", 100, now, 3 * hour);
        file(dir.path(), "d.txt", 100, now, 2 * hour);
        file(dir.path(), "e.txt", 100, now, hour);
        // Temporary and hidden files are never stored files.
        file(dir.path(), ".inlet-incoming-x", 100, now, 90 * hour);
        let keep_all = RetentionPolicy::default();
        assert!(choose(dir.path(), keep_all, now).unwrap().is_empty());

        let day = RetentionPolicy {
            max_age: Some(24 * hour),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            names(&choose(dir.path(), day, now).unwrap()),
            [("a.txt", Reason::MaxAge), ("b.txt", Reason::MaxAge)]
        );
        // A clock moved on a day takes c, d and e too.
        let later = now + 24 * hour;
        assert_eq!(choose(dir.path(), day, later).unwrap().len(), 5);

        let four = RetentionPolicy {
            max_files: Some(4),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            names(&choose(dir.path(), four, now).unwrap()),
            [("a.txt", Reason::MaxFiles)]
        );

        let small = RetentionPolicy {
            max_bytes: Some(250),
            ..RetentionPolicy::default()
        };
        assert_eq!(
            names(&choose(dir.path(), small, now).unwrap()),
            [
                ("a.txt", Reason::MaxBytes),
                ("b.txt", Reason::MaxBytes),
                ("c.txt", Reason::MaxBytes)
            ]
        );
        let all = RetentionPolicy {
            max_age: Some(40 * hour),
            max_files: Some(3),
            max_bytes: Some(150),
        };
        assert_eq!(
            names(&choose(dir.path(), all, now).unwrap()),
            [
                ("a.txt", Reason::MaxAge),
                ("b.txt", Reason::MaxFiles),
                ("c.txt", Reason::MaxBytes),
                ("d.txt", Reason::MaxBytes)
            ]
        );
    }
}
