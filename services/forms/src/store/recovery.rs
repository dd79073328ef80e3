//! Opening the journal at start-up: index every complete line, cut a torn tail.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::Entry;

/// The open journal file, its index and its length after recovery.
pub(super) struct Recovered {
    pub file: File,
    pub index: Vec<Entry>,
    pub len: u64,
}

/// Opens (or creates) the journal and indexes it.
///
/// A last line without its newline is what a crash mid-write leaves; it was
/// never acknowledged, so it is cut off. A complete line that is not JSON
/// (damage, or an edit by hand) is not a crash artifact: it stays in the file
/// for a person to inspect, is left out of the index, and is reported.
pub(super) fn open(dir: &Path, path: &Path) -> std::io::Result<Recovered> {
    let created = !path.exists();
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    if created {
        // Make the new file's name itself durable.
        File::open(dir)?.sync_all()?;
    }
    let mut reader = BufReader::new(file.try_clone()?);
    let mut index = Vec::new();
    let mut offset = 0u64;
    let mut line = Vec::new();
    let mut skipped = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        let valid = serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok();
        if !complete {
            break;
        }
        if valid {
            index.push(Entry {
                offset,
                len: n as u32,
            });
        } else {
            skipped += 1;
        }
        offset += n as u64;
    }
    let file_len = file.metadata()?.len();
    if offset < file_len {
        tracing::warn!(
            path = %path.display(),
            kept_bytes = offset,
            cut_bytes = file_len - offset,
            "journal ended in an incomplete record; cutting it off"
        );
        file.set_len(offset)?;
        file.sync_all()?;
    }
    if skipped > 0 {
        tracing::warn!(path = %path.display(), skipped, "journal has lines that are not JSON; skipping them");
    }
    tracing::info!(path = %path.display(), records = index.len(), "journal opened");
    Ok(Recovered {
        file,
        index,
        len: offset,
    })
}
