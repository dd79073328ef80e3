//! Stored files, newest first, a page at a time. Temporary files, hidden
//! files and anything that is not a regular file are never listed.

use std::io;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::meta;
use super::names::{plain_name, MAX_FIELD_BYTES};

/// A stored file as `GET /files` and `GET /files/{name}/meta` show it: the
/// fields every stored item has (`id`, `received_at`, `trace_id`, `size`),
/// then a file's own.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Its id: its stored name.
    pub id: String,
    /// When it was stored, RFC 3339 UTC (as `stored_at`).
    pub received_at: String,
    /// The W3C trace id of the request that stored it; `null` when unknown.
    pub trace_id: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Its stored name (the part after `/files/`).
    pub name: String,
    /// SHA-256, hex; `null` for a file stored without metadata.
    pub sha256: Option<String>,
    /// When it was stored, RFC 3339 UTC.
    pub stored_at: String,
    /// The form field it came in; `null` without metadata.
    pub field: Option<String>,
    /// The name the client sent; `null` without metadata.
    pub original_name: Option<String>,
    /// The address of the client that sent it; `null` when unknown.
    pub client: Option<String>,
}

/// Where a page ends: the next page lists files strictly older than this
/// (modification time in nanoseconds, then name). As text it is
/// `<nanos>.<hex of the name>`, safe in a query string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub(super) nanos: u128,
    pub(super) name: String,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.", self.nanos)?;
        self.name.bytes().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl std::str::FromStr for Cursor {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (nanos, hex) = text.split_once('.').ok_or(())?;
        if hex.len() % 2 != 0 {
            return Err(());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(hex.get(at..at + 2).ok_or(())?, 16).map_err(|_| ()))
            .collect::<Result<Vec<u8>, ()>>()?;
        Ok(Cursor {
            nanos: nanos.parse().map_err(|_| ())?,
            name: String::from_utf8(bytes).map_err(|_| ())?,
        })
    }
}

/// Whether `name` could be a stored file's name: a plain name that is not
/// hidden or temporary. Anything else — a path, `..`, an encoded escape once
/// decoded — names no stored file.
pub fn is_stored_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && plain_name(name, usize::MAX, "") == name
        && name.len() <= MAX_FIELD_BYTES + 40 + super::names::MAX_NAME_BYTES
}

/// Up to `limit` files older than `after` (all when `None`), newest first,
/// and the cursor for the next page when there may be more. Blocking: call
/// it off the async workers.
pub fn list(
    dir: &Path,
    after: Option<&Cursor>,
    limit: usize,
) -> io::Result<(Vec<Listed>, Option<Cursor>)> {
    let (found, next) = page(scan(dir)?, after, limit);
    let listed = found
        .into_iter()
        .map(|(cursor, size)| describe(dir, cursor, size))
        .collect();
    Ok((listed, next))
}

/// Up to `limit` of `found` (each with its size) older than `after`,
/// newest first, and the cursor of the next page when there may be more.
pub(super) fn page(
    mut found: Vec<(Cursor, u64)>,
    after: Option<&Cursor>,
    limit: usize,
) -> (Vec<(Cursor, u64)>, Option<Cursor>) {
    found.retain(|(cursor, _)| after.is_none_or(|after| cursor < after));
    found.sort_unstable_by(|a, b| b.0.cmp(&a.0));
    let more = found.len() > limit;
    found.truncate(limit);
    let next = more.then(|| found.last().map(|(c, _)| c.clone())).flatten();
    (found, next)
}

/// Every stored file in `dir`, in no order: where it sorts (modification
/// time, name) and its size. Blocking.
pub(super) fn scan(dir: &Path) -> io::Result<Vec<(Cursor, u64)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !is_stored_name(&name) {
            continue;
        }
        let Ok(info) = entry.metadata() else {
            continue; // Removed meanwhile.
        };
        if !info.is_file() {
            continue;
        }
        let nanos = info
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        found.push((Cursor { nanos, name }, info.len()));
    }
    Ok(found)
}

/// What is known about the stored file `name` (a regular file directly in
/// `dir`, never a link), or `None` when there is none. Blocking.
pub fn describe_one(dir: &Path, name: &str) -> io::Result<Option<Listed>> {
    if !is_stored_name(name) {
        return Ok(None);
    }
    let info = match std::fs::symlink_metadata(dir.join(name)) {
        Ok(info) if info.is_file() => info,
        Ok(_) => return Ok(None),
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let nanos = info
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let cursor = Cursor {
        nanos,
        name: name.to_owned(),
    };
    Ok(Some(describe(dir, cursor, info.len())))
}

fn describe(dir: &Path, cursor: Cursor, size: u64) -> Listed {
    let meta = meta::read(&dir.join(&cursor.name));
    listed(cursor, size, meta)
}

/// How a stored file is shown, from its cursor (name and time), size and
/// metadata, if it has any.
pub(super) fn listed(cursor: Cursor, size: u64, meta: Option<meta::FileMeta>) -> Listed {
    let modified = UNIX_EPOCH + std::time::Duration::from_nanos(cursor.nanos as u64);
    let stored_at = meta
        .as_ref()
        .map(|m| m.stored_at.clone())
        .unwrap_or_else(|| rfc3339(modified));
    Listed {
        id: cursor.name.clone(),
        received_at: stored_at.clone(),
        trace_id: meta.as_ref().and_then(|m| m.trace_id.clone()),
        size,
        name: cursor.name,
        sha256: meta.as_ref().map(|m| m.sha256.clone()),
        stored_at,
        field: meta.as_ref().map(|m| m.field.clone()),
        client: meta.as_ref().and_then(|m| m.client.clone()),
        original_name: meta.map(|m| m.original_name),
    }
}

fn rfc3339(at: SystemTime) -> String {
    inlet_common::record::rfc3339(time::OffsetDateTime::from(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_through_text() {
        for name in ["a.txt", "ملف 😀.bin", "x-1-y"] {
            let cursor = Cursor {
                nanos: 1_700_000_000_123_456_789,
                name: name.into(),
            };
            let text = cursor.to_string();
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'));
            assert_eq!(text.parse::<Cursor>(), Ok(cursor));
        }
        for bad in ["", "12", "x.61", "1.6", "1.zz", "1.ff"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_plain_visible_names_are_stored_names() {
        for good in ["a.txt", "userfile1-1700000000000-photo.jpg", "ملف"] {
            assert!(is_stored_name(good), "{good}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "..%2F..%2Fetc%2Fpasswd",
            "a/b",
            "a\\b",
            ".incoming-0190",
            ".hidden",
            "nul\0",
            "line\nbreak",
        ] {
            assert!(!is_stored_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn pages_are_newest_first_and_skip_what_is_not_a_stored_file() {
        let dir = tempfile::tempdir().unwrap();
        for (i, name) in ["old", "mid", "new"].iter().enumerate() {
            let path = dir.path().join(name);
            std::fs::write(&path, vec![b'x'; i + 1]).unwrap();
            let at = UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000 + i as u64);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(at)
                .unwrap();
        }
        std::fs::write(dir.path().join(".incoming-1"), b"half").unwrap();
        std::fs::create_dir(dir.path().join("folder")).unwrap();

        let (first, next) = list(dir.path(), None, 2).unwrap();
        let names: Vec<&str> = first.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["new", "mid"]);
        assert_eq!(first[0].size, 3);
        assert_eq!(first[0].sha256, None, "stored without metadata");
        assert!(first[0].stored_at.starts_with("2023-11-14T22:13:2"));
        let next = next.expect("one more file");
        let (second, last) = list(dir.path(), Some(&next), 2).unwrap();
        let names: Vec<&str> = second.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["old"]);
        assert_eq!(last, None);
    }
}
